"""The `globalfit scan` commands and their library (`globalfit.scan`, `globalfit.cevns_bounds`)."""
from __future__ import annotations

import numpy as np
import pytest

from globalfit.cli import main as cli_main
from globalfit.statistics import CL95_1DOF as DELTA_CHI2_95
from globalfit.statistics import first_upward_crossing


def survival_threshold(mzp, delta_chi2):
    return first_upward_crossing(mzp, delta_chi2, DELTA_CHI2_95)


def test_lma_dark_model_gives_minus_two_in_matter():
    from globalfit.models.lma_dark import LMADarkX

    c = LMADarkX(solution="dark").couplings({"x": 0.7, "mzp": 0.01, "g_q": 1e-4})
    matter = c.eps_matter(1.0 / 3.0)  # the reference neutron fraction of the model
    assert matter[0, 0].real - matter[1, 1].real == pytest.approx(-2.0)
    assert matter[1, 1].real == pytest.approx(0.7)
    np.testing.assert_allclose(c.eps("u", 1e-3), c.eps("d", 1e-3), atol=1e-15)


def test_survival_threshold_interpolates_in_log_mass():
    m = np.array([1.0, 10.0, 100.0])
    d = np.array([0.0, 0.0, 2 * DELTA_CHI2_95])
    assert survival_threshold(m, d) == pytest.approx(np.sqrt(10.0 * 100.0))
    assert np.isnan(survival_threshold(m, d + 10))
    assert np.isinf(survival_threshold(m, 0 * d))


def test_cli_csv_and_physics(capsys):
    """Heavy mediators exclude LMA-Dark (Delta chi2 > 3.84 at 1 GeV), light ones allow it."""
    assert cli_main(["scan", "lma-dark", "--datasets", "coherent_lar_2020", "--points", "4",
                     "--mzp-min", "1", "--mzp-max", "1000", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    blocks = out.strip().split("\n\n")
    rows = [line.split(",") for line in blocks[0].splitlines()[1:]]
    lar = [(float(m), float(d)) for name, m, d in rows if name == "coherent_lar_2020"]
    assert lar[0][1] < DELTA_CHI2_95 < lar[-1][1]
    assert blocks[1].splitlines()[0] == "dataset,threshold_mzp_mev"


def test_cli_rejects_unknown_dataset(capsys):
    assert cli_main(["scan", "lma-dark", "--datasets", "kamland", "--points", "2"]) == 2
    assert "CEvNS" in capsys.readouterr().err


def test_one_dimensional_intervals_of_a_double_well():
    from globalfit.statistics import allowed_intervals

    x = np.linspace(-2, 2, 4001)
    chi2 = 10 * (x**2 - 1) ** 2
    spans = allowed_intervals(x, chi2, 2.0, interpolation="linear")
    half = np.sqrt(2.0 / 10.0)  # |x^2 - 1| < half
    assert spans[0] == pytest.approx((-np.sqrt(1 + half), -np.sqrt(1 - half)), abs=1e-3)
    assert spans[1] == pytest.approx((np.sqrt(1 - half), np.sqrt(1 + half)), abs=1e-3)


def test_weak_mixing_angle_from_csi_2021_near_published():
    """COHERENT CsI 2021: sin^2 theta_W = 0.220 +0.028 -0.026 (FROM MEMORY, inputs.md 3d)."""
    from globalfit.cevns_bounds import fit_weak_angle
    from globalfit.physics.constants import SIN2_THETA_W_LOW_ENERGY, SIN2_THETA_W_MSBAR_MZ
    from likelihoods.coherent import CoherentCsI2021

    s2, minus, plus = fit_weak_angle(CoherentCsI2021())
    low_energy = s2 * SIN2_THETA_W_LOW_ENERGY / SIN2_THETA_W_MSBAR_MZ
    assert low_energy == pytest.approx(0.220, abs=0.027)
    assert 0.5 * (minus + plus) == pytest.approx(0.027 / 1.03, rel=0.3)


@pytest.mark.slow
def test_lma_dark_thresholds_counting_mode():
    """Heavy mediators exclude LMA-Dark from COHERENT, a Z' of a few tens of MeV or lighter
    allows it (Denton-Farzan-Shoemaker, arXiv:1804.03660)."""
    from globalfit.scan import lma_dark_curves

    mzp, curves = lma_dark_curves(["coherent_csi_2017", "coherent_csi_2021", "coherent_lar_2020"],
                                  1.0, 1000.0, 13)
    assert curves["combined"][-1] > 25.0
    assert curves["coherent_csi_2017"][-1] > DELTA_CHI2_95  # ~3 sigma as Coloma et al. 2017
    threshold = survival_threshold(mzp, curves["combined"])
    assert 10.0 < threshold < 100.0


def test_release_root_builds_release_likelihoods(shared_data):
    from globalfit.cevns_bounds import build_cevns_likelihoods

    built = build_cevns_likelihoods(["coherent_lar_2020", "conus"], release_root=str(shared_data))
    assert built["coherent_lar_2020"].release_path == str(shared_data / "coherent_lar_2020")
    assert not hasattr(built["conus"], "release_path")  # CONUS has no public release
    with pytest.raises(ValueError, match="release-root"):
        build_cevns_likelihoods(["coherent_lar_2020"], release_root=str(shared_data / "nowhere"))
