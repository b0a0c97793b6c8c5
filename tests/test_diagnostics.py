"""Diagnostics on synthetic chains with known autocorrelation and known R-hat."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from globalfit.diagnostics import (
    acceptance_summary,
    autocorrelation_time,
    chain_diagnostics,
    diagnostics_report,
    effective_sample_size,
    split_rhat,
    stranded_walkers,
)


def ar1_chains(phi: float, n_steps: int, n_chains: int, seed: int = 0) -> np.ndarray:
    """Stationary AR(1): x_t = phi x_{t-1} + sqrt(1 - phi^2) e_t, unit variance.

    Its integrated autocorrelation time is (1 + phi) / (1 - phi).
    """
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((n_steps, n_chains)) * math.sqrt(1 - phi**2)
    x = np.empty((n_steps, n_chains))
    x[0] = rng.standard_normal(n_chains)
    for t in range(1, n_steps):
        x[t] = phi * x[t - 1] + noise[t]
    return x


@pytest.mark.parametrize("phi", [0.5, 0.9])
def test_autocorrelation_time_of_ar1_chains(phi):
    chains = ar1_chains(phi, 4000, 32, seed=1)
    tau_true = (1 + phi) / (1 - phi)  # 3 and 19
    (tau,) = autocorrelation_time(chains)
    assert tau == pytest.approx(tau_true, rel=0.08)
    (ess,) = effective_sample_size(chains)
    assert ess == pytest.approx(4000 * 32 / tau_true, rel=0.08)


def test_independent_chains_have_rhat_near_one():
    rng = np.random.default_rng(2)
    chains = rng.standard_normal((2000, 16, 2))
    assert np.all(np.abs(split_rhat(chains) - 1) < 0.005)
    assert np.all(np.abs(split_rhat(chains, rank_normalize=False) - 1) < 0.005)


def test_shifted_chains_give_the_analytic_rhat():
    """Half the chains shifted by delta: W = 1, B/n = variance of the 2m split-chain means."""
    rng = np.random.default_rng(3)
    n, m, delta = 20000, 8, 1.0
    chains = rng.standard_normal((n, m))
    chains[:, m // 2:] += delta
    # split chains: 2m means, half at 0 and half at delta -> sample variance delta^2/4 * 2m/(2m-1)
    expected = math.sqrt(1 + delta**2 / 4 * (2 * m) / (2 * m - 1))
    assert split_rhat(chains, rank_normalize=False)[0] == pytest.approx(expected, rel=0.01)
    assert split_rhat(chains)[0] > 1.1


def test_split_rhat_sees_a_drift_that_whole_chains_hide():
    rng = np.random.default_rng(4)
    n, m = 4000, 8
    drift = np.linspace(-1.5, 1.5, n)[:, None]  # every chain drifts the same way
    chains = drift + 0.5 * rng.standard_normal((n, m))
    assert split_rhat(chains, rank_normalize=False)[0] > 1.3


def test_heavy_tailed_chain_with_wrong_scale_is_caught_by_the_tail_rhat():
    """Same centre, different spread: bulk R-hat ~ 1, the folded (tail) R-hat is not."""
    rng = np.random.default_rng(5)
    chains = rng.standard_normal((4000, 8))
    chains[:, :4] *= 3.0
    assert split_rhat(chains)[0] > 1.05


def test_acceptance_summary_counts_stuck_walkers():
    summary = acceptance_summary([0.3, 0.35, 0.01, 0.4])
    assert summary == {"mean": pytest.approx(0.265), "min": 0.01, "max": 0.4, "stuck": 1,
                       "walkers": 4}
    with pytest.raises(ValueError, match="acceptance_fraction"):
        acceptance_summary([])


def test_table_and_json_report():
    chains = np.stack([ar1_chains(0.5, 3000, 16, seed=6), ar1_chains(0.99, 3000, 16, seed=7)],
                      axis=-1)
    table = chain_diagnostics(chains, ["fast", "slow"])
    assert table["converged"].tolist() == [True, False]  # the slow one has tau ~ 200 > 3000/50
    report = diagnostics_report(chains, ["fast", "slow"], acceptance_fraction=np.full(16, 0.3))
    assert json.loads(json.dumps(report))["converged"] is False
    with pytest.raises(ValueError, match="names"):
        chain_diagnostics(chains, ["one"])


def test_stranded_walkers_are_those_far_below_the_others():
    rng = np.random.default_rng(3)
    log_prob = -0.5 * rng.chisquare(4, size=(500, 12))      # 4-D Gaussian target: ln p spread ~1.4
    log_prob[:, 5] -= 60.0                                  # one walker stuck 60 below
    log_prob[:, 8] -= 10.0                                  # low but within the threshold
    log_prob[100:, 9] = -np.inf                             # walker outside the prior most of the time
    assert stranded_walkers(log_prob).tolist() == [5, 9]
    assert stranded_walkers(log_prob, threshold=5.0).tolist() == [5, 8, 9]
    with pytest.raises(ValueError, match="log_prob"):
        stranded_walkers(np.zeros(10))
