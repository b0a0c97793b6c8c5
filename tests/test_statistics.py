"""globalfit.statistics: chi^2 forms, Delta chi^2 levels, p-values and intervals."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from globalfit import statistics as st


def test_levels_are_chi2_quantiles():
    assert pytest.approx(2.705543, abs=1e-6) == st.CL90_1DOF
    assert pytest.approx(3.841459, abs=1e-6) == st.CL95_1DOF
    assert pytest.approx(4.605170, abs=1e-6) == st.CL90_2DOF
    assert st.delta_chi2_level(st.sigma_confidence(3.0), 1) == pytest.approx(9.0, rel=1e-10)
    assert st.LEVELS == {"90%": st.CL90_1DOF, "3sigma": 9.0}
    with pytest.raises(ValueError, match="dof"):
        st.delta_chi2_level(0.9, 0)
    with pytest.raises(ValueError, match="confidence"):
        st.delta_chi2_level(1.5, 1)


def test_p_value_and_significance_are_inverse():
    assert st.p_value(9.0, 1) == pytest.approx(1 - st.sigma_confidence(3.0), rel=1e-12)
    assert st.sigma_of_p_value(st.p_value(9.0, 1)) == pytest.approx(3.0, rel=1e-10)
    assert st.p_value(10.0, 10) == pytest.approx(stats.chi2.sf(10.0, 10))


def test_signed_sqrt():
    assert st.signed_sqrt(-4.0) == -2.0 and st.signed_sqrt(9.0) == 3.0
    assert math.isnan(st.signed_sqrt(math.nan)) and st.signed_sqrt(math.inf) == math.inf


def test_poisson_chi2_is_the_deviance_and_vanishes_at_the_data():
    n = np.array([0.0, 3.0, 10.0])
    assert st.poisson_chi2(n, n + (n == 0) * 1e-300) == pytest.approx(0.0, abs=1e-9)
    mu = np.array([0.5, 2.0, 12.0])
    expected = 2 * np.sum(mu - n + np.where(n > 0, n * np.log(np.where(n > 0, n, 1) / mu), 0))
    assert st.poisson_chi2(n, mu) == pytest.approx(expected, rel=1e-14)
    # Large counts: the deviance tends to Neyman's/Pearson's chi^2 (mu - n)^2 / n.
    assert st.poisson_chi2([1e6], [1e6 + 1e3]) == pytest.approx(1.0, rel=2e-3)
    batch = st.poisson_chi2(np.stack([n, n]), np.stack([mu, n + 1e-300]))
    assert batch.shape == (2,) and batch[0] == pytest.approx(expected)
    assert st.poisson_chi2(np.stack([n, n]), np.stack([mu, mu]), axis=None) == pytest.approx(2 * expected)


def test_parabola_gives_analytic_interval():
    grid = np.linspace(-1, 1, 201)
    delta = (grid - 0.1) ** 2 / 0.2**2  # sigma = 0.2
    ((low, high),) = st.allowed_intervals(grid, delta, 9.0, interpolation="linear")
    assert low == pytest.approx(0.1 - 0.6, abs=2e-3)
    assert high == pytest.approx(0.1 + 0.6, abs=2e-3)


def test_two_minima_give_two_intervals():
    grid = np.linspace(-2, 2, 401)
    delta = np.minimum((grid + 1) ** 2 / 0.1**2, (grid - 1) ** 2 / 0.1**2 + 1.0)
    intervals = st.allowed_intervals(grid, delta, 2.7055, interpolation="linear")
    assert len(intervals) == 2
    assert st.format_intervals(intervals).count("[") == 2
    assert intervals[1][0] == pytest.approx(1 - 0.1 * np.sqrt(1.7055), abs=2e-3)


def test_interval_touching_the_grid_edge_is_reported_as_edge():
    grid = np.linspace(0, 1, 11)
    assert st.allowed_intervals(grid, grid * 0.0, 1.0) == [(0.0, 1.0)]


def test_first_upward_crossing_interpolates_in_log():
    m = np.array([1.0, 10.0, 100.0])
    d = np.array([0.0, 0.0, 2 * st.CL95_1DOF])
    assert st.first_upward_crossing(m, d, st.CL95_1DOF) == pytest.approx(np.sqrt(10.0 * 100.0))
    assert np.isnan(st.first_upward_crossing(m, d + 10, st.CL95_1DOF))
    assert np.isinf(st.first_upward_crossing(m, 0 * d, st.CL95_1DOF))


def test_windows_and_credible_intervals():
    assert st.windows(np.arange(5.0), [True, False, True, True, False]) == [(0.0, 0.0), (2.0, 3.0)]
    samples = np.random.default_rng(1).normal(size=200_000)
    low, high = st.equal_tailed_interval(samples, 0.90)
    assert (low, high) == pytest.approx((-1.645, 1.645), abs=0.02)
    low, high = st.hpd_interval(samples, 0.90)
    assert (low, high) == pytest.approx((-1.645, 1.645), abs=0.02)
