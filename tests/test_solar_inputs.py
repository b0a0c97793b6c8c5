"""Neutrino-electron cross sections and solar neutrino spectra: limits and published shapes."""
import numpy as np
import pytest

from globalfit.physics import neutrino_electron as nue
from globalfit.physics import solar_spectra as spectra
from globalfit.physics.constants import ELECTRON_MASS_GEV, FERMI_CONSTANT_GEV2, GEV2_TO_CM2


def test_max_recoil_kinematics():
    # T_max = 2E^2 / (m_e + 2E): Compton-like edge; for E >> m_e, T_max -> E - m_e / 2
    m_e = ELECTRON_MASS_GEV * 1e3
    assert nue.max_recoil_mev(0.8618) == pytest.approx(0.665, abs=1e-3)  # 7Be edge
    assert nue.max_recoil_mev(1000.0) == pytest.approx(1000.0 - m_e / 2, rel=1e-6)


@pytest.mark.parametrize("flavour", ["e", "mu"])
def test_high_energy_limit_of_the_total_cross_section(flavour):
    """sigma -> (2 G_F^2 m_e E / pi)(g_L^2 + g_R^2 / 3) for E >> m_e."""
    g_l, g_r = nue.chiral_couplings(flavour)
    energy = 500.0
    analytic = (2 * FERMI_CONSTANT_GEV2**2 * ELECTRON_MASS_GEV * energy * 1e-3 / np.pi
                * GEV2_TO_CM2 * (g_l**2 + g_r**2 / 3))
    assert nue.integrated_cross_section_cm2(energy, flavour) == pytest.approx(analytic, rel=2e-3)


def test_textbook_cross_sections_and_ratio():
    # ~9.5e-45 (nu_e) and ~1.6e-45 (nu_mu) cm^2 x E/MeV (e.g. PDG review of nu cross sections)
    assert nue.integrated_cross_section_cm2(10.0, "e") / 10.0 == pytest.approx(9.5e-45, rel=0.05)
    assert nue.integrated_cross_section_cm2(10.0, "mu") / 10.0 == pytest.approx(1.6e-45, rel=0.07)
    assert nue.integrated_cross_section_cm2(5.0, "tau") == nue.integrated_cross_section_cm2(5.0, "mu")


def test_analytic_integral_equals_quadrature_with_threshold():
    energy, threshold = 8.0, 3.5
    t = np.linspace(threshold, nue.max_recoil_mev(energy), 20001)
    numeric = np.trapezoid(nue.differential_cross_section_cm2_per_mev(energy, t, "e"), t)
    assert nue.integrated_cross_section_cm2(energy, "e", threshold) == pytest.approx(numeric, rel=1e-6)
    assert nue.differential_cross_section_cm2_per_mev(energy, 10.0, "e") == 0.0
    with pytest.raises(ValueError, match="flavour"):
        nue.chiral_couplings("sterile")


@pytest.mark.parametrize("source, q_mev", [("pp", 0.420), ("13N", 1.199), ("15O", 1.732),
                                           ("17F", 1.740), ("hep", 18.773)])
def test_beta_plus_endpoints_and_normalisation(source, q_mev):
    assert spectra.endpoint_mev(source) == pytest.approx(q_mev, abs=2e-3)
    grid = np.linspace(0.0, spectra.endpoint_mev(source), 8001)
    assert np.trapezoid(spectra.spectrum(source, grid), grid) == pytest.approx(1.0, rel=1e-6)
    assert spectra.spectrum(source, q_mev + 0.01) == 0.0


def test_lines():
    (e1, b1), (e2, b2) = spectra.lines("7Be")
    assert (e1, e2) == (0.8618, 0.3843) and b1 + b2 == pytest.approx(1.0)
    assert spectra.lines("pep") == [(1.442, 1.0)]
    with pytest.raises(ValueError, match="not a line"):
        spectra.lines("8B")


def _moments(energy, shape):
    shape = shape / np.trapezoid(shape, energy)
    mean = np.trapezoid(energy * shape, energy)
    return mean, np.sqrt(np.trapezoid((energy - mean) ** 2 * shape, energy))


@pytest.mark.parametrize("source, table", [("8B", "8B_shape_Winter_et_al.csv"),
                                           ("pp", "pp_shape.csv")])
def test_compact_spectra_match_the_published_tables(shared_data, source, table):
    """The built-in shapes against the published tables (read from ../shared/data)."""
    energy, published = spectra.load_spectrum_table(shared_data / "solar" / table)
    ours = spectra.spectrum(source, energy)
    mean_p, width_p = _moments(energy, published)
    mean_o, width_o = _moments(energy, ours)
    assert mean_o == pytest.approx(mean_p, rel=0.01)
    assert width_o == pytest.approx(width_p, rel=0.02)
