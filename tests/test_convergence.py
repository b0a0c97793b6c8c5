"""Convergence: one definition (split R-hat < 1.01 and > 50 tau after burn-in), the stop rule
built on it, and ESS against ArviZ's."""
import numpy as np
import pytest
from scipy.signal import lfilter

from globalfit.convergence import ConvergenceMonitor
from globalfit.diagnostics import (
    RHAT_GOOD,
    TAU_MULTIPLE,
    autocorrelation_time,
    convergence_summary,
    effective_sample_size,
)


def ar1_chain(n_steps, n_walkers, rho, seed=0):
    """AR(1) chains: integrated autocorrelation time (1 + rho) / (1 - rho)."""
    noise = np.random.default_rng(seed).standard_normal((n_steps, n_walkers, 1))
    return lfilter([np.sqrt(1 - rho**2)], [1.0, -rho], noise, axis=0)


def test_stops_on_the_convergence_definition_once_tau_is_stable():
    chain = ar1_chain(8000, 16, rho=0.8)  # tau = 9
    monitor = ConvergenceMonitor(check_every=100, rtol=0.05)
    assert not monitor.update(chain[:200])  # first check never stops
    first_stop = next(n for n in range(300, 8001, 100) if monitor.update(chain[:n]))
    (_, tau_before), (steps, tau_now) = monitor.history[-2:]
    verdict = convergence_summary(chain[:first_stop], ["x"])
    assert steps == first_stop and verdict["converged"]
    assert steps > TAU_MULTIPLE * tau_now.max() and verdict["max_rhat"] < RHAT_GOOD
    assert np.all(np.abs(tau_now - tau_before) / tau_now < 0.05)
    # every earlier check failed the definition or the stability of tau
    for (_, a), (n, b) in zip(monitor.history[:-2], monitor.history[1:-1]):
        assert (not convergence_summary(chain[:n], ["x"])["converged"]
                or np.any(np.abs(a - b) / b >= 0.05))
    final = ConvergenceMonitor()
    final.update(chain)
    assert final.report()["tau"][0] == pytest.approx(9.0, rel=0.15)


def test_rhat_needs_about_100_tau_after_burn_in():
    """E[R-hat^2] ~ 1 + (tau - 1) / n_half: a well-mixed AR(1) set with tau = 19 is not
    converged at 60 tau (R-hat ~ 1.015) and is at 200 tau."""
    chain = ar1_chain(4000, 32, rho=0.9)
    short = convergence_summary(chain[:1140], ["x"])
    assert short["steps_over_max_tau"] > TAU_MULTIPLE and not short["converged"]
    assert short["max_rhat"] == pytest.approx(np.sqrt(1 + 18 / 570), abs=0.006)
    assert short["steps_needed_after_burn_in"] == pytest.approx(100 * 19, rel=0.15)
    assert convergence_summary(chain, ["x"])["converged"]


def test_walkers_in_two_places_never_converge():
    chain = ar1_chain(6000, 16, rho=0.5)
    chain[:, :4] += 1.0  # a quarter of the walkers sit in another mode
    verdict = convergence_summary(chain, ["x"])
    assert verdict["steps_over_max_tau"] > TAU_MULTIPLE and not verdict["converged"]
    # between-walker variance 1/4 * 3/4 of a unit shift: R-hat ~ sqrt(1 + 3/16)
    assert verdict["max_rhat"] == pytest.approx(np.sqrt(1 + 3 / 16), abs=0.01)


@pytest.mark.parametrize("method", ["bulk", "mean"])
@pytest.mark.parametrize(("rho", "n_steps", "n_walkers"), [
    (0.5, 5000, 32), (0.9, 5000, 32), (0.99, 1000, 4), (-0.3, 300, 32)])
def test_ess_agrees_with_arviz(rho, n_steps, n_walkers, method):
    """Vehtari et al. (2021) ESS (split chains, Geyer's initial monotone sequence) against
    ArviZ's independent implementation: the issue asks for 5 %; they agree to 1e-9."""
    az = pytest.importorskip("arviz")
    chain = ar1_chain(n_steps, n_walkers, rho=rho, seed=3)
    (ours,) = effective_sample_size(chain, method=method)
    theirs = float(az.ess(np.moveaxis(chain[..., 0], 0, 1), method=method))
    assert ours == pytest.approx(theirs, rel=1e-9)


def test_ess_of_ar1_chains_is_n_over_tau():
    chain = ar1_chain(5000, 32, rho=0.9, seed=3)
    (ess,) = effective_sample_size(chain)
    assert ess == pytest.approx(5000 * 32 / 19, rel=0.08)


def test_ess_agrees_with_arviz_on_an_emcee_chain():
    az = pytest.importorskip("arviz")
    emcee = pytest.importorskip("emcee")
    covariance = np.array([[1.0, 0.8], [0.8, 1.0]])
    precision = np.linalg.inv(covariance)

    def log_prob(x):
        return -0.5 * np.einsum("...i,ij,...j", x, precision, x)

    sampler = emcee.EnsembleSampler(24, 2, log_prob, vectorize=True)
    sampler._random = np.random.mtrand.RandomState(11)
    sampler.run_mcmc(np.random.default_rng(11).normal(size=(24, 2)), 3000)
    chain = sampler.get_chain(discard=500)
    ours = effective_sample_size(chain)
    theirs = np.array([float(az.ess(np.moveaxis(chain[..., k], 0, 1)))
                       for k in range(2)])
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)
    # and close to emcee's tau-based count (a different estimator: within 15 %)
    tau = autocorrelation_time(chain)
    np.testing.assert_allclose(ours, chain.shape[0] * chain.shape[1] / tau, rtol=0.15)


def test_stuck_walkers_are_left_out_of_tau():
    rng = np.random.default_rng(4)
    chain = rng.standard_normal((400, 8, 2))          # independent draws: tau = 1
    chain[:, 0, 0] = 0.7                               # walker 0 never moved in parameter 0
    chain[:, :, 1] = 1.0                               # nobody moved in parameter 1
    taus = autocorrelation_time(chain)
    assert taus[0] == pytest.approx(1.0, abs=0.3) and taus[1] == np.inf


def test_bad_settings_name_the_key():
    with pytest.raises(ValueError, match="sampler.stop_on_convergence"):
        ConvergenceMonitor(check_every=0)
