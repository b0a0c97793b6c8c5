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


@pytest.fixture(scope="module")
def baseline_table(shared_data):
    """Up-quark table from solar + KamLAND (2011 release) data, about 3 minutes on one core."""
    from benchmarks.solar_table import run

    return run("u", str(shared_data), step=0.025)


@pytest.mark.slow
def test_up_quark_table_reproduces_esteban_eps_d_rows(baseline_table):
    """Issue #8 reproduction: the eps_D^u 90 % ranges of Esteban et al. 2018 (LMA and LMA-Dark)
    are reproduced to within 0.1 at every endpoint, LMA-Dark appears as its own, nearly
    degenerate mode, and eps_N^u's 90 % range agrees to within 0.05. (The 3 sigma ranges are
    wider than theirs without atmospheric data: docs/reproductions/solar.md.)"""
    from benchmarks.solar_table import ESTEBAN_U

    result = baseline_table
    assert abs(result["delta_chi2_lma_dark"]) < 2.0
    for key in ("90% LMA", "90% LMA+LMA-D"):
        ours = sorted(result["rows"]["eps_D"][key])
        theirs = sorted(ESTEBAN_U["eps_D"][key])
        assert len(ours) == len(theirs)
        for (a, b), (c, d) in zip(ours, theirs):
            assert abs(a - c) < 0.1 and abs(b - d) < 0.1
    ((low, high),) = result["rows"]["eps_N"]["90% LMA"]
    assert abs(low - (-0.14)) < 0.05 and abs(high - 0.13) < 0.05


@pytest.mark.slow
def test_sk_spectrum_and_sno_table_narrow_the_outer_3sigma_ends(shared_data, baseline_table):
    """With the SK-IV recoil spectrum and SNO's Table XXVI weights (closer to Esteban et al.'s
    solar data set) the outer 3 sigma ends of eps_D^u move towards theirs (measured: LMA lower
    end -0.52 -> -0.44, theirs -0.34; LMA-Dark upper end 0.91 -> 0.80, theirs 0.67), while the
    90 % endpoints stay within 0.12 of theirs (measured: 0.10) and LMA-Dark stays degenerate."""
    from benchmarks.solar_table import ESTEBAN_U, run

    full = run("u", str(shared_data), step=0.025, superk_spectrum=True, sno_table=True)
    assert abs(full["delta_chi2_lma_dark"]) < 2.0
    lma_low = lambda result: min(a for a, _ in result["rows"]["eps_D"]["3sigma LMA"])  # noqa: E731
    dark_high = lambda result: max(b for _, b in result["rows"]["eps_D"]["3sigma LMA+LMA-D"])  # noqa: E731
    assert lma_low(full) > lma_low(baseline_table) + 0.05
    assert dark_high(full) < dark_high(baseline_table) - 0.05
    for key in ("90% LMA", "90% LMA+LMA-D"):
        for (a, b), (c, d) in zip(sorted(full["rows"]["eps_D"][key]), sorted(ESTEBAN_U["eps_D"][key])):
            assert abs(a - c) < 0.12 and abs(b - d) < 0.12
