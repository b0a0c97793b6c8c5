"""Run-card features of `globalfit run`: options-dependent parameters, nested sampling,
convergence stop, region ensembles and MPI (the analytic test doubles of tests/plugins.py)."""
from __future__ import annotations

import numpy as np
import pytest
from plugins import GaussianLikelihood

from globalfit.config import ConfigError, load_config
from globalfit.likelihood import Point
from globalfit.posterior import build_posterior


class OptionalShiftLikelihood(GaussianLikelihood):
    """`GaussianLikelihood` whose nuisance offset ``shift`` exists only with the option
    ``shift: free`` (as COHERENT's ``release_path:`` mode or the long-baseline
    ``nuisances: profiled`` switch change their nuisances)."""

    name = "oshift"
    description = "Gaussian measurement with an optional nuisance offset (test double)"
    options_allowed = GaussianLikelihood.options_allowed + ("shift",)

    def __init__(self, shift="none", **options):
        super().__init__(**options)
        if shift not in ("none", "free"):
            raise ValueError(f"likelihoods.oshift.shift: {shift!r} not allowed; 'none' or 'free'")
        self.nuisance_parameters = (
            {"shift": {"prior": "gaussian", "mean": 0.0, "sigma": 1.0}} if shift == "free" else {})

    def measured(self, point: Point) -> np.ndarray:
        if "shift" not in self.nuisance_parameters:
            return self.mean
        return self.mean + np.array([self.nuisance(point, "shift"), 0.0])


def effective_card(options: dict, parameters: dict) -> dict:
    return {"name": "eff", "model": {"name": "effective_nsi", "options": options},
            "parameters": parameters, "likelihoods": {}, "sampler": {"walkers": 8, "seed": 1}}


# --- task 1: parameters that depend on options ---------------------------------------------
def test_chiral_effective_nsi_parameters_validate_and_build():
    card = effective_card({"chiral": True, "fermions": ["u"]},
                          {"eps_uL_mumu": {"prior": "uniform", "min": -0.5, "max": 0.5}})
    posterior = build_posterior(load_config(card))
    assert posterior.names == ["eps_uL_mumu"]
    # the vector NSI is the sum L + R (R fixed at 0): eps^u_mumu = eps_uL_mumu
    couplings = posterior.point(np.array([0.2])).couplings
    assert couplings.eps("u")[1, 1].real == pytest.approx(0.2)
    assert "eps_uR_ee" in posterior.fixed and "eps_u_mumu" not in posterior.fixed


def test_fermion_option_removes_parameters_with_suggestion():
    card = effective_card({"fermions": ["u"]},
                          {"eps_d_ee": {"prior": "uniform", "min": -1, "max": 1}})
    with pytest.raises(ConfigError) as error:
        load_config(card)
    message = str(error.value)
    assert "parameters.eps_d_ee: no parameter 'eps_d_ee'" in message
    assert "did you mean 'eps_u_ee'" in message


def test_bad_model_option_is_one_clear_error():
    with pytest.raises(ConfigError) as error:
        load_config(effective_card({"fermions": ["s"]}, {}))
    assert "model.options.fermions: ['s'] not allowed" in str(error.value)


def tiny_card(likelihood_options: dict, parameters: dict) -> dict:
    return {"name": "oshift", "model": "plugins:DiagonalNSIModel",
            "parameters": {"eps_ee": {"prior": "uniform", "min": -2, "max": 2}, **parameters},
            "likelihoods": {"test_run_samplers:OptionalShiftLikelihood": likelihood_options},
            "sampler": {"walkers": 8, "steps": 20, "burn_in": 5, "seed": 3}}


def test_likelihood_nuisance_from_instance_options():
    card = tiny_card({"shift": "free"},
                     {"oshift.shift": {"prior": "gaussian", "mean": 0.0, "sigma": 0.5}})
    config = load_config(card)  # validated from the class; the nuisance is deferred
    posterior = build_posterior(config)
    assert posterior.names == ["eps_ee", "oshift.shift"]
    assert config.resolved["oshift.shift"]["sigma"] == 0.5
    # the shift moves the measured value: ln L is maximal where eps_ee - shift = 0.3
    # (eps_mumu fixed at 0, correlated bivariate normal -> conditional mean)
    best = posterior.log_likelihood(np.array([0.8, 0.5]))[0]
    assert best == pytest.approx(posterior.log_likelihood(np.array([0.3, 0.0]))[0])


def test_likelihood_nuisance_absent_for_its_options_is_reported():
    card = tiny_card({"shift": "none"}, {"oshift.shift": {"value": 0.1}})
    config = load_config(card)
    with pytest.raises(ConfigError, match=r"parameters\.oshift\.shift: no parameter"):
        build_posterior(config)


def test_unknown_nuisance_of_likelihood_without_options_still_caught_at_validation():
    card = tiny_card({}, {"oshift.shfit": {"value": 0.1}})
    with pytest.raises(ConfigError, match=r"parameters\.oshift\.shfit: no parameter"):
        load_config(card)


# --- task 2: nested sampling from a card ------------------------------------------------------
def bimodal_card(sampler: dict, regions: dict | None = None) -> dict:
    from test_modes import CARD as MODES_CARD

    card = {key: value for key, value in MODES_CARD.items() if key != "regions"}
    card["sampler"] = sampler
    if regions is not None:
        card["regions"] = regions
    return card


def write_card(tmp_path, card: dict):
    import yaml

    path = tmp_path / f"{card['name']}.yaml"
    path.write_text(yaml.safe_dump(card))
    return path


def run_cli(*argv) -> int:
    from globalfit.cli import main

    return main([str(a) for a in argv])


def test_nested_card_validation_errors():
    with pytest.raises(ConfigError) as error:
        load_config(bimodal_card({"name": "nested", "engine": "ultranest", "live_points": 5,
                                  "n_efective": 100}))
    message = str(error.value)
    assert "sampler.engine: unknown nested-sampling engine 'ultranest'" in message
    assert "sampler.live_points: expected an integer >= 10, got 5" in message
    assert "did you mean 'n_effective'?" in message
    with pytest.raises(ConfigError, match="nautilus needs at least 2 free parameters"):
        load_config(bimodal_card({"name": "nested", "engine": "nautilus"}))


def test_nested_run_writes_region_masses(tmp_path, capsys):
    pytest.importorskip("dynesty")
    import pandas as pd
    from test_modes import WEIGHT_PLUS

    card = bimodal_card({"name": "nested", "engine": "dynesty", "live_points": 200, "seed": 2},
                        {"plus": "eps_ee >= 0", "minus": "eps_ee < 0"})
    out = tmp_path / "run"
    assert run_cli("run", write_card(tmp_path, card), "--output", out, "--no-progress") == 0
    table = pd.read_csv(out / "evidence.csv").set_index("region")
    # mixture weights 0.7 / 0.3 are the region masses; Z_total = 1/4 (flat prior on [-2, 2])
    assert table.loc["plus", "mass"] == pytest.approx(WEIGHT_PLUS, abs=0.05)
    assert table.loc["minus", "mass"] == pytest.approx(1 - WEIGHT_PLUS, abs=0.05)
    assert np.logaddexp.reduce(table["log_evidence"]) == pytest.approx(np.log(0.25), abs=0.15)
    assert table.loc["plus", "ln_bayes_factor_vs_best"] == 0.0
    assert table.loc["minus", "ln_bayes_factor_vs_best"] == pytest.approx(
        np.log(0.3 / 0.7), abs=0.25)
    assert table["mass_err"].gt(0).all()
    assert "| plus | eps_ee >= 0 |" in (out / "evidence.md").read_text()
    assert "| minus | eps_ee < 0 |" in capsys.readouterr().out
    # resume: the finished regions are read back from their checkpoints, same evidences
    assert run_cli("resume", out, "--no-progress") == 0
    again = pd.read_csv(out / "evidence.csv").set_index("region")
    assert again["log_evidence"].to_numpy() == pytest.approx(table["log_evidence"].to_numpy(),
                                                              abs=0.05)


def test_nested_run_without_regions_gives_whole_prior_evidence(tmp_path):
    pytest.importorskip("dynesty")
    import pandas as pd

    card = bimodal_card({"name": "nested", "engine": "dynesty", "live_points": 100, "seed": 4})
    out = tmp_path / "run"
    assert run_cli("run", write_card(tmp_path, card), "--output", out, "--no-progress") == 0
    table = pd.read_csv(out / "evidence.csv")
    assert table["region"].tolist() == ["all"] and table["mass"].tolist() == [1.0]
    assert table["log_evidence"][0] == pytest.approx(np.log(0.25), abs=0.2)


# --- task 3: emcee stops on convergence ---------------------------------------------------------
GAUSS_CARD = {
    "name": "gauss",
    "model": "plugins:DiagonalNSIModel",
    "parameters": {"eps_ee": {"prior": "uniform", "min": -2, "max": 2},
                   "eps_mumu": {"prior": "uniform", "min": -2, "max": 2}},
    "likelihoods": {"plugins:GaussianLikelihood": {}},
    "sampler": {"walkers": 16, "steps": 20000, "burn_in": 100, "seed": 5},
}


def test_emcee_stops_on_convergence(tmp_path):
    import json

    from globalfit.samplers.emcee_sampler import run_emcee

    card = dict(GAUSS_CARD, sampler=dict(GAUSS_CARD["sampler"], stop_on_convergence={
        "check_every": 100, "rtol": 0.05}))
    config = load_config(card)
    posterior = build_posterior(config)
    result = run_emcee(posterior, config, tmp_path, progress=False)
    assert result.converged and result.complete and not result.interrupted
    assert result.steps < 20000 and result.steps % 100 == 0
    diagnostics = json.loads((tmp_path / "diagnostics.json").read_text())
    report = diagnostics["stop_on_convergence"]
    burn_in = GAUSS_CARD["sampler"]["burn_in"]
    assert report["stopped"] is True and report["steps_after_burn_in"] == result.steps - burn_in
    # the run stops on the one definition of convergence that summary.md states
    assert diagnostics["convergence"]["converged"] is True
    assert report["steps_over_max_tau"] > 50 and report["max_rhat"] < 1.01
    # the stopped chain is a fair sample: means within 5 Monte-Carlo errors of (0.3, -0.2)
    chain = result_chain(tmp_path, burn_in=result.steps // 4)
    tau = max(report["tau"])
    for k, (mean, sigma) in enumerate(((0.3, 0.1), (-0.2, 0.2))):
        error = sigma * np.sqrt(tau / chain[..., k].size)
        assert chain[..., k].mean() == pytest.approx(mean, abs=5 * error)


def result_chain(run_dir, burn_in: int) -> np.ndarray:
    import emcee

    backend = emcee.backends.HDFBackend(str(run_dir / "chain.h5"), name="mcmc", read_only=True)
    return backend.get_chain(discard=burn_in)


def test_convergence_off_runs_to_the_target(tmp_path):
    from globalfit.samplers.emcee_sampler import run_emcee

    card = dict(GAUSS_CARD, sampler=dict(GAUSS_CARD["sampler"], steps=150,
                                         stop_on_convergence=False))
    config = load_config(card)
    result = run_emcee(build_posterior(config), config, tmp_path, progress=False)
    assert result.steps == 150 and not result.converged
    assert "stop_on_convergence" not in result.diagnostics


# --- task 4: emcee ensembles per region ------------------------------------------------------
def test_ensembles_per_region_need_regions():
    card = dict(GAUSS_CARD, sampler=dict(GAUSS_CARD["sampler"], ensembles_per_region=2))
    with pytest.raises(ConfigError, match="sampler.ensembles_per_region: .* no 'regions:'"):
        load_config(card)


def test_region_ensembles_sample_each_mode_and_report_rhat(tmp_path, monkeypatch):
    import json

    from globalfit import region_ensembles, sampling

    monkeypatch.setattr(sampling, "write_results", lambda run_dir, report=None: None)
    card = bimodal_card({"name": "emcee", "walkers": 8, "steps": 600, "burn_in": 100, "seed": 7,
                         "ensembles_per_region": 2},
                        {"plus": "eps_ee >= 0", "minus": "eps_ee < 0"})
    out = tmp_path / "run"
    assert run_cli("run", write_card(tmp_path, card), "--output", out, "--no-progress") == 0
    summary = json.loads((out / "diagnostics.json").read_text())
    firsts = []
    for region, centre in (("plus", 1.0), ("minus", -1.0)):
        entry = summary["regions"][region]
        assert entry["steps"] == [600, 600]
        # independent ensembles of the same mode agree: split R-hat near 1
        assert 0.99 < entry["rhat"]["eps_ee"] < 1.05
        for k in range(2):
            samples = region_ensembles.ensemble_samples(out / region / f"ensemble_{k}", 100)
            assert np.all(np.sign(samples[:, 0]) == np.sign(centre))  # never leaves its region
            # each mode alone is N(+-1, 0.1): mean within 5 Monte-Carlo errors (tau < 30)
            assert samples[:, 0].mean() == pytest.approx(centre, abs=5 * 0.1 * np.sqrt(30 / len(samples)))
            assert (out / region / f"ensemble_{k}" / "config.yaml").is_file()
            firsts.append(samples[0, 0])
    assert len(set(firsts)) == 4  # different seeds per ensemble
    assert not (out / "chain.h5").exists()
    # `globalfit table RUN`: each region's ensembles merged (walkers side by side)
    from globalfit.results import region_ensemble_runs
    from globalfit.summaries import region_ensemble_table

    runs = region_ensemble_runs(out)
    assert set(runs) == {"plus", "minus"} and runs["plus"].chain.shape[1] == 16
    assert len(runs["plus"].blobs) == runs["plus"].flat_chain.shape[0]
    medians = region_ensemble_table(out).query("parameter == 'eps_ee'").set_index("region")["median"]
    assert medians["plus"] == pytest.approx(1.0, abs=0.05) and medians["minus"] == pytest.approx(-1.0, abs=0.05)
    assert run_cli("table", out, "--parameters", "eps_ee") == 0


def test_ensemble_seeds_are_distinct_and_reproducible():
    from globalfit.region_ensembles import ensemble_seed

    seeds = {ensemble_seed(7, r, k) for r in range(3) for k in range(4)}
    assert len(seeds) == 12 and ensemble_seed(7, 1, 2) == ensemble_seed(7, 1, 2)


# --- task 5: --pool mpi --------------------------------------------------------------------
CLI = "import sys; from globalfit.cli import main; sys.exit(main())"
"""``python -c CLI run ...`` (globalfit.cli has no ``__main__`` module, so ``python -m
globalfit.cli`` does not run it)."""


@pytest.mark.mpi
def test_mpi_pool_chain_identical_to_serial(tmp_path, monkeypatch, mpiexec):
    import os
    import subprocess
    import sys
    from pathlib import Path

    from globalfit import sampling

    monkeypatch.setattr(sampling, "write_results", lambda run_dir, report=None: None)
    card = write_card(tmp_path, dict(GAUSS_CARD, sampler=dict(GAUSS_CARD["sampler"], steps=60,
                                                               burn_in=10, seed=9)))
    tests = str(Path(__file__).parent)
    env = dict(os.environ, OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([tests, os.environ.get("PYTHONPATH", "")]))
    command = mpiexec + ["-n", "2", sys.executable, "-c", CLI, "run", str(card),
                            "--pool", "mpi", "--output", str(tmp_path / "mpi"), "--no-progress"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 MPI ranks" in done.stdout
    assert run_cli("run", card, "--output", tmp_path / "serial", "--no-progress") == 0
    mpi_chain = result_chain(tmp_path / "mpi", 0)
    serial_chain = result_chain(tmp_path / "serial", 0)
    assert mpi_chain.shape == (60, 16, 2)
    np.testing.assert_array_equal(mpi_chain, serial_chain)


@pytest.mark.mpi
def test_mpi_workers_released_when_rank0_fails(tmp_path, mpiexec):
    """Rank 0 failing after the pool started (unwritable output) must not hang the workers."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    card = write_card(tmp_path, dict(GAUSS_CARD, sampler=dict(GAUSS_CARD["sampler"], steps=20,
                                                               burn_in=5, seed=9)))
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    env = dict(os.environ, OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(Path(__file__).parent),
                                           os.environ.get("PYTHONPATH", "")]))
    command = mpiexec + ["-n", "2", sys.executable, "-c", CLI, "run", str(card), "--pool",
                            "mpi", "--output", str(blocker / "sub"), "--no-progress"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode != 0


def test_lfv_options_change_parameters():
    card = {"name": "lfv", "model": {"name": "lfv_nsi",
                                     "options": {"quarks": "separate", "mzp_from_vev": True}},
            "parameters": {"g_u": {"prior": "uniform", "min": 0.0, "max": 1e-3},
                           "v_phi": {"value": 100.0, "unit": "GeV"}},
            "likelihoods": {}, "sampler": {"walkers": 8, "seed": 1}}
    posterior = build_posterior(load_config(card))
    assert posterior.names == ["g_u"] and posterior.fixed["v_phi"] == 100.0
    assert "mzp" not in posterior.fixed and "g_q" not in posterior.fixed
    universal = dict(card, model={"name": "lfv_nsi", "options": {}})
    with pytest.raises(ConfigError, match="parameters.g_u: no parameter 'g_u'.*did you mean 'g_q'"):
        load_config(universal)


@pytest.mark.slow
def test_nautilus_evidence_of_gaussian_card(tmp_path):
    """nautilus (needs >= 2 parameters) on the bivariate normal: Z = 2 pi sqrt(det C) / 16
    (flat prior on [-2, 2]^2, unnormalised Gaussian ln L), halves split at the mean."""
    pytest.importorskip("nautilus")
    import pandas as pd

    card = dict(GAUSS_CARD, sampler={"name": "nested", "engine": "nautilus", "live_points": 300,
                                     "n_effective": 2000, "seed": 3},
                regions={"high": "eps_ee >= 0.3", "low": "eps_ee < 0.3"})
    out = tmp_path / "run"
    assert run_cli("run", write_card(tmp_path, card), "--output", out, "--no-progress") == 0
    table = pd.read_csv(out / "evidence.csv")
    expected = np.log(2 * np.pi * np.sqrt(0.1**2 * 0.2**2 * (1 - 0.5**2)) / 16)
    assert np.logaddexp.reduce(table["log_evidence"]) == pytest.approx(expected, abs=0.08)
    assert table["mass"].tolist() == pytest.approx([0.5, 0.5], abs=0.04)
    assert (out / "nested_high_checkpoint.h5").is_file()
