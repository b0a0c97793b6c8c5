"""Convergence stop rule on chains with known autocorrelation."""
import numpy as np
import pytest
from scipy.signal import lfilter

from globalfit.convergence import ConvergenceMonitor


def ar1_chain(n_steps, n_walkers, rho, seed=0):
    """AR(1) chains: integrated autocorrelation time (1 + rho) / (1 - rho)."""
    noise = np.random.default_rng(seed).standard_normal((n_steps, n_walkers, 1))
    return lfilter([np.sqrt(1 - rho**2)], [1.0, -rho], noise, axis=0)


def test_converges_only_when_long_and_stable():
    chain = ar1_chain(6000, 16, rho=0.8)  # tau = 9: needs > 450 steps
    monitor = ConvergenceMonitor(check_every=100, n_tau=50, rtol=0.05)
    assert not monitor.update(chain[:200])  # first check never stops
    assert not monitor.update(chain[:300])  # shorter than 50 tau
    first_stop = next(n for n in range(400, 6001, 100) if monitor.update(chain[:n]))
    (_, tau_before), (steps, tau_now) = monitor.history[-2:]
    assert steps == first_stop and steps > 50 * tau_now.max()
    assert np.all(np.abs(tau_now - tau_before) / tau_now < 0.05)
    # every earlier check failed one of the two conditions
    for (_, a), (n, b) in zip(monitor.history[:-2], monitor.history[1:-1]):
        assert n <= 50 * b.max() or np.any(np.abs(a - b) / b >= 0.05)
    final = ConvergenceMonitor()
    final.update(chain)
    assert final.report()["tau"][0] == pytest.approx(9.0, rel=0.15)


def test_bad_settings_name_the_key():
    with pytest.raises(ValueError, match="sampler.convergence"):
        ConvergenceMonitor(check_every=0)
