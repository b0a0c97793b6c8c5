"""The interval logic of benchmarks/solar_table.py (1-dof Delta chi^2 ranges, disjoint sets)."""
import numpy as np
import pytest

from benchmarks.solar_table import allowed_intervals, fmt


def test_parabola_gives_analytic_interval():
    grid = np.linspace(-1, 1, 201)
    delta = (grid - 0.1) ** 2 / 0.2**2  # sigma = 0.2
    ((low, high),) = allowed_intervals(grid, delta, 9.0)
    assert low == pytest.approx(0.1 - 0.6, abs=2e-3)
    assert high == pytest.approx(0.1 + 0.6, abs=2e-3)


def test_two_minima_give_two_intervals():
    grid = np.linspace(-2, 2, 401)
    delta = np.minimum((grid + 1) ** 2 / 0.1**2, (grid - 1) ** 2 / 0.1**2 + 1.0)
    intervals = allowed_intervals(grid, delta, 2.7055)
    assert len(intervals) == 2
    assert fmt(intervals).count("[") == 2
    assert intervals[1][0] == pytest.approx(1 - 0.1 * np.sqrt(1.7055), abs=2e-3)


def test_interval_touching_the_grid_edge_is_reported_as_edge():
    grid = np.linspace(0, 1, 11)
    intervals = allowed_intervals(grid, grid * 0.0, 1.0)
    assert intervals == [(0.0, 1.0)]
