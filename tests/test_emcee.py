"""emcee sampler: analytic target, seeds, resume after interruption, process pool."""
from __future__ import annotations

import json
import math
import warnings

import emcee
import numpy as np
import pytest

from globalfit.config import load_config
from globalfit.posterior import build_posterior
from globalfit.samplers.emcee_sampler import ChainNotConvergedWarning, run_emcee

MEAN, SIGMA, RHO = np.array([0.3, -0.2]), np.array([0.1, 0.2]), 0.5


def make_config(likelihoods=None, walkers=12, steps=40, seed=5, **parameters):
    params = {"eps_ee": {"prior": "uniform", "min": -3, "max": 3},
              "eps_mumu": {"prior": "uniform", "min": -3, "max": 3}}
    params.update(parameters)
    return load_config({
        "name": "emcee_test", "model": "plugins:DiagonalNSIModel", "parameters": params,
        "likelihoods": likelihoods or {"plugins:GaussianLikelihood": {}},
        "sampler": {"walkers": walkers, "steps": steps, "burn_in": 0, "seed": seed},
    })


def run(config, folder, **options):
    options.setdefault("progress", False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ChainNotConvergedWarning)
        return run_emcee(build_posterior(config), config, folder, **options)


def stored(folder):
    backend = emcee.backends.HDFBackend(str(folder / "chain.h5"), read_only=True)
    return backend.get_chain(), backend.get_log_prob(), backend.get_blobs(), backend.accepted


def assert_same_run(a, b):
    for x, y in zip(stored(a), stored(b)):
        np.testing.assert_array_equal(x, y)


def test_gaussian_target_moments(tmp_path):
    """Posterior = the bivariate normal likelihood (flat priors 30 sigma wide)."""
    config = make_config(walkers=20, steps=500, seed=2024)
    result = run(config, tmp_path)
    burn = 100
    backend = emcee.backends.HDFBackend(str(tmp_path / "chain.h5"), read_only=True)
    samples = backend.get_chain(discard=burn, flat=True)
    tau = max(result.diagnostics["autocorr_time"].values())
    n_eff = samples.shape[0] / tau
    assert n_eff > 250, n_eff
    # means within 5 standard errors; widths within 5 x their standard error sqrt(1/(2 n_eff))
    np.testing.assert_array_less(np.abs(samples.mean(axis=0) - MEAN), 5 * SIGMA / math.sqrt(n_eff))
    np.testing.assert_allclose(samples.std(axis=0), SIGMA, rtol=5 / math.sqrt(2 * n_eff))
    rho = np.corrcoef(samples.T)[0, 1]
    assert abs(rho - RHO) < 5 * (1 - RHO**2) / math.sqrt(n_eff)
    # blobs: chi2 of each stored sample is the analytic quadratic form
    blobs = backend.get_blobs(discard=burn, flat=True)
    cov = np.outer(SIGMA, SIGMA) * np.array([[1, RHO], [RHO, 1]])
    r = samples - MEAN
    chi2 = np.einsum("ni,ij,nj->n", r, np.linalg.inv(cov), r)
    np.testing.assert_allclose(blobs["chi2.gauss"], chi2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(blobs["derived.eps_ee_minus_mumu"], samples[:, 0] - samples[:, 1])
    # chi2 of a 2-d Gaussian posterior is chi2(2)-distributed: mean 2
    assert abs(chi2.mean() - 2.0) < 5 * 2.0 / math.sqrt(n_eff)
    diagnostics = json.loads((tmp_path / "diagnostics.json").read_text())
    assert 0.5 < diagnostics["acceptance_fraction_mean"] < 0.9  # 2-d Gaussian with stretch move
    assert diagnostics["failure_counts"] == {}
    assert diagnostics["steps_per_autocorr_time"] == pytest.approx(500 / tau)


def test_same_seed_same_chain_other_seed_other_chain(tmp_path):
    run(make_config(seed=99), tmp_path / "a")
    run(make_config(seed=99), tmp_path / "b")
    run(make_config(seed=100), tmp_path / "c")
    assert_same_run(tmp_path / "a", tmp_path / "b")
    assert not np.array_equal(stored(tmp_path / "a")[0], stored(tmp_path / "c")[0])


def test_resume_after_a_stop_is_identical(tmp_path):
    config = make_config(steps=40)
    run(config, tmp_path / "full")
    partial = run(make_config(steps=40), tmp_path / "cut", target_steps=17)
    assert partial.steps == 17
    resumed = run(make_config(steps=40), tmp_path / "cut")
    assert resumed.steps == 40 and resumed.complete
    assert_same_run(tmp_path / "full", tmp_path / "cut")
    # resuming a finished run does not overshoot the target
    again = run(make_config(steps=40), tmp_path / "cut")
    assert again.steps == 40


def test_sigint_mid_run_saves_and_resume_is_identical(tmp_path):
    walkers = 12
    reference = {"plugins:InterruptingGaussianLikelihood": {"interrupt_after": 10**9}}
    run(make_config(reference, walkers=walkers), tmp_path / "full")
    # SIGINT arrives in the middle of a step, after about 8 steps of evaluations
    killer = {"plugins:InterruptingGaussianLikelihood": {"interrupt_after": walkers * 8 + 3}}
    stopped = run(make_config(killer, walkers=walkers), tmp_path / "cut")
    assert stopped.interrupted and 0 < stopped.steps < 40
    diagnostics = json.loads((tmp_path / "cut" / "diagnostics.json").read_text())
    assert diagnostics["interrupted"] and diagnostics["steps"] == stopped.steps
    assert stored(tmp_path / "cut")[0].shape[0] == stopped.steps  # the step in progress was saved
    run(make_config(reference, walkers=walkers), tmp_path / "cut")
    assert_same_run(tmp_path / "full", tmp_path / "cut")


def test_process_pool_gives_the_serial_chain_and_counts_failures(tmp_path):
    likelihoods = {"plugins:GaussianLikelihood": {},
                   "plugins:FlakyLikelihood": {"nan_above": 0.45, "raise_low": -0.1,
                                               "raise_high": -0.05}}
    serial = run(make_config(likelihoods, steps=30), tmp_path / "serial")
    pooled = run(make_config(likelihoods, steps=30), tmp_path / "pool", cores=2)
    assert_same_run(tmp_path / "serial", tmp_path / "pool")
    assert serial.diagnostics["failure_counts"] == pooled.diagnostics["failure_counts"]
    assert serial.diagnostics["failure_counts"]["flaky: NaN"] > 0
    calls = [r.diagnostics["likelihood_timing_this_session"]["flaky"]["calls"]
             for r in (serial, pooled)]
    assert calls[0] == calls[1] > 0  # worker counts reach the parent
    assert any(k.startswith("flaky: FloatingPointError") for k in serial.diagnostics["failure_counts"])


def test_start_hints_and_impossible_starts(tmp_path):
    config = make_config(eps_ee={"prior": "uniform", "min": -3, "max": 3, "start": [0.2, 0.4]},
                         eps_mumu={"prior": "uniform", "min": -3, "max": 3, "start": -0.2})
    posterior = build_posterior(config)
    from globalfit.samplers.emcee_sampler import draw_start

    start = draw_start(posterior, 12, np.random.default_rng(0))
    assert np.all((start[:, 0] >= 0.2) & (start[:, 0] <= 0.4))
    assert np.all(np.abs(start[:, 1] + 0.2) < 0.05) and np.ptp(start[:, 1]) > 0
    near_zero = make_config(mzp={"prior": "log-uniform", "min": 1e-6, "max": 100, "start": 2e-6})
    start = draw_start(build_posterior(near_zero), 12, np.random.default_rng(0))
    assert np.all(start[:, 2] > 1e-6) and np.ptp(start[:, 2]) > 0
    np.testing.assert_allclose(start[:, 2], 2e-6, rtol=0.1)
    hopeless = make_config({"plugins:FlakyLikelihood": {"nan_above": -10.0}})
    with pytest.raises(ValueError, match=r"no starting point.*flaky: NaN"):
        run_emcee(build_posterior(hopeless), hopeless, tmp_path / "x", progress=False)


def test_given_start_positions_are_used(tmp_path):
    config = make_config(walkers=12, steps=2)
    ball = MEAN + 1e-3 * np.random.default_rng(1).standard_normal((12, 2))
    run(config, tmp_path, start_positions=ball)
    first = stored(tmp_path)[0][0]
    # one stretch move moves a walker along the line to another walker: stays in the hull
    assert np.all(np.abs(first - MEAN) < 0.02)
    with pytest.raises(ValueError, match=r"start_positions: expected shape \(12, 2\)"):
        run(config, tmp_path / "bad", start_positions=ball[:5])


def test_resume_refuses_a_different_chain(tmp_path):
    run(make_config(walkers=12), tmp_path / "run")
    with pytest.raises(ValueError, match="holds a chain with 12 walkers"):
        run_emcee(build_posterior(make_config(walkers=14)), make_config(walkers=14),
                  tmp_path / "run", progress=False)


def test_short_chain_warns_and_diagnostics_are_written(tmp_path):
    config = make_config(steps=30)
    with pytest.warns(ChainNotConvergedWarning, match="has not converged .*R-hat"):
        result = run_emcee(build_posterior(config), config, tmp_path, progress=False)
    diagnostics = json.loads((tmp_path / "diagnostics.json").read_text())
    assert diagnostics == json.loads(json.dumps(result.diagnostics))
    assert not diagnostics["convergence"]["converged"]
    assert set(diagnostics["autocorr_time"]) == {"eps_ee", "eps_mumu"}
    accepted = stored(tmp_path)[3]
    np.testing.assert_allclose(diagnostics["acceptance_fraction"], accepted / 30, atol=1e-4)


KILL_SCRIPT = """
import sys
from globalfit.config import load_config
from globalfit.posterior import build_posterior
from globalfit.samplers.emcee_sampler import ChainBackend, run_emcee
import yaml
ChainBackend.checkpoint_steps, ChainBackend.checkpoint_s = int(sys.argv[3]), 1e9   # by steps only
if sys.argv[4:]:     # SIGKILL inside the 2nd checkpoint: before its commit or after it
    import os, signal
    name = {"before-commit": "_write_rows", "after-commit": "_apply"}[sys.argv[4]]
    original, calls = getattr(ChainBackend, name), []
    def killing(*args):
        original(*args)
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGKILL)
    setattr(ChainBackend, name, staticmethod(killing))
config = load_config(yaml.safe_load(open(sys.argv[1])))
run_emcee(build_posterior(config), config, sys.argv[2], progress=False)
"""


@pytest.mark.parametrize(("signal_name", "kill_in_step", "checkpoint_steps"), [
    ("SIGKILL", 6, 1), ("SIGKILL", 6, 4), ("SIGKILL", 3, 4), ("SIGKILL", 13, 4),
    ("SIGKILL before-commit", None, 3), ("SIGKILL after-commit", None, 3),
    pytest.param("SIGTERM", 6, 4, marks=pytest.mark.slow)])
def test_resume_after_the_process_is_killed(tmp_path, signal_name, kill_in_step, checkpoint_steps):
    """A process killed in the middle of a step (SIGKILL: no clean-up at all) keeps every
    checkpointed step unchanged and loses only the buffered ones, which the resumed run
    recomputes identically; SIGTERM stops gracefully and saves every finished step. Killed
    inside a checkpoint before its commit (rows written, step count not yet), the file keeps
    the steps of the previous checkpoint; after the commit, resuming completes it."""
    import os
    import subprocess
    import sys

    import yaml

    walkers = 12
    reference = {"plugins:InterruptingGaussianLikelihood": {"interrupt_after": 10**9}}
    run(make_config(reference, walkers=walkers), tmp_path / "full")
    # at least kill_in_step - 1 steps are finished when the signal comes (proposals outside
    # the prior cost no evaluation, so a step takes at most `walkers` evaluations)
    in_checkpoint = signal_name.split()[1:]
    if in_checkpoint:
        killer, kill_in_step, signal_name = make_config(reference, walkers=walkers), 4, "SIGKILL"
    else:
        killer = make_config({"plugins:InterruptingGaussianLikelihood": {
            "interrupt_after": walkers * kill_in_step + 5, "interrupt_signal": signal_name}}, walkers=walkers)
    card = tmp_path / "card.yaml"
    card.write_text(yaml.safe_dump(killer.to_dict()))
    tests_dir = os.path.dirname(__file__)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([tests_dir, os.environ.get("PYTHONPATH", "")]))
    process = subprocess.run([sys.executable, "-c", KILL_SCRIPT, str(card), str(tmp_path / "cut"),
                              str(checkpoint_steps)] + in_checkpoint,
                             env=env, capture_output=True, text=True, timeout=120)
    expected = -9 if signal_name == "SIGKILL" else 0  # SIGTERM: graceful stop, clean exit
    assert process.returncode == expected, process.stderr
    backend = emcee.backends.HDFBackend(str(tmp_path / "cut" / "chain.h5"), read_only=True)
    saved = int(backend.iteration)
    minimum = (kill_in_step - 1) // checkpoint_steps * checkpoint_steps
    if in_checkpoint:               # one checkpoint, or two once the commit is written
        assert saved == checkpoint_steps * (2 if in_checkpoint == ["after-commit"] else 1)
    elif signal_name == "SIGKILL":  # checkpointed steps only: a multiple of checkpoint_steps
        assert saved % checkpoint_steps == 0 and minimum <= saved < 40
    else:                           # graceful: every finished step and the one in progress
        assert kill_in_step <= saved < 40
    if saved:
        full, cut = stored(tmp_path / "full"), stored(tmp_path / "cut")
        for x, y in zip(full[:3], cut[:3]):                     # the saved steps are unchanged
            np.testing.assert_array_equal(x[:saved], y)
    run(make_config(reference, walkers=walkers), tmp_path / "cut")
    assert_same_run(tmp_path / "full", tmp_path / "cut")


def test_chain_backend_refuses_a_locked_file_at_once(tmp_path, monkeypatch):
    """Readers open chains without HDF5's lock (globalfit.chainfile) and one writer holds
    the run lock (globalfit.runlock): an HDF5 lock error means another program has the file
    open, and the writer refuses at once, naming the file (it used to wait and retry)."""
    import time

    import h5py

    from globalfit.chainfile import ChainFileError
    from globalfit.samplers import emcee_sampler

    real_file, calls = h5py.File, []

    def locked_file(name, mode="r", *args, **kwargs):
        calls.append(mode)
        if mode == "a":
            raise OSError("Unable to synchronously open file (unable to lock file, errno = 11)")
        return real_file(name, mode, *args, **kwargs)

    monkeypatch.setattr(emcee.backends.hdf.h5py, "File", locked_file)
    backend = emcee_sampler.ChainBackend(str(tmp_path / "chain.h5"))
    started = time.monotonic()
    with pytest.raises(ChainFileError, match="chain.h5: another program holds the chain file"):
        backend.reset(4, 2)
    assert calls == ["a"] and time.monotonic() - started < 1.0
    monkeypatch.setattr(emcee.backends.hdf.h5py, "File", lambda *a, **k: (_ for _ in ()).throw(
        OSError("file signature not found")))
    with pytest.raises(OSError, match="signature"):  # other errors pass unchanged
        backend.open("a")


def test_very_short_chains_write_strict_json(tmp_path):
    # (walkers that never moved: tests/test_convergence.py::test_stuck_walkers_are_left_out_of_tau)
    # a 3-step run: diagnostics are written as strict JSON (None where undefined), no crash
    run(make_config(steps=3), tmp_path)
    text = (tmp_path / "diagnostics.json").read_text()
    diagnostics = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))
    assert diagnostics["steps"] == 3 and not diagnostics["convergence"]["converged"]


def test_a_new_chain_drops_the_pending_record_of_an_old_one(tmp_path):
    """A checkpoint's pending record (acceptance, random state) belongs to its chain: a
    fresh chain in the same file removes it, so that a later resume cannot apply it."""
    from globalfit.samplers.emcee_sampler import ChainBackend

    run(make_config(steps=6), tmp_path)
    backend = ChainBackend(str(tmp_path / "chain.h5"), name="mcmc")
    assert backend.pending_path.is_file()
    backend.reset(12, 2)
    assert not backend.pending_path.exists() and backend.iteration == 0
