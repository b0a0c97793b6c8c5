"""Reactor antineutrino physics: Huber-Mueller spectra, IBD cross section, kinematics."""
import numpy as np
import pytest

from globalfit.physics import reactor


def test_ibd_threshold_from_masses():
    # (m_n + m_e)^2 - m_p^2 over 2 m_p = 1.806 MeV (standard value)
    assert pytest.approx(1.806, abs=1e-3) == reactor.IBD_THRESHOLD_MEV
    assert reactor.ibd_cross_section_cm2(1.80) == 0.0
    assert reactor.ibd_cross_section_cm2(1.81) > 0.0


def test_ibd_cross_section_strumia_vissani_values():
    # Strumia & Vissani (astro-ph/0302055) Table 1 / Vogel-Beacom: sigma(E=5 MeV) ~ 1.9e-42 cm^2
    # within 5 %, sigma(E=3 MeV) ~ 0.5e-42 within 10 %; at high energy recoil and weak
    # magnetism make sigma grow more slowly than the zeroth-order p_e E_e.
    assert reactor.ibd_cross_section_cm2(5.0) == pytest.approx(1.9e-42, rel=0.05)
    assert reactor.ibd_cross_section_cm2(3.0) == pytest.approx(0.51e-42, rel=0.1)
    ratio = reactor.ibd_cross_section_cm2(20.0) / reactor.ibd_cross_section_cm2(10.0)
    zeroth_order = (18.707 * np.sqrt(18.707**2 - 0.511**2)) / (8.707 * np.sqrt(8.707**2 - 0.511**2))
    assert 0.85 * zeroth_order < ratio < zeroth_order


def test_fission_spectra_known_numbers():
    # 235U yields about 1.9 nubar per fission above the IBD threshold (Huber 2011 integral);
    # 238U is the hardest spectrum, 239Pu the softest of the main three above 4 MeV.
    energy = np.linspace(reactor.IBD_THRESHOLD_MEV, 8.0, 2000)
    counts = {i: np.trapezoid(reactor.antineutrino_spectrum_per_fission(energy, i), energy)
              for i in reactor.ISOTOPES}
    assert counts["U235"] == pytest.approx(1.9, rel=0.1)
    high = np.linspace(4.0, 8.0, 500)
    hard = {i: np.trapezoid(reactor.antineutrino_spectrum_per_fission(high, i), high) / counts[i]
            for i in reactor.ISOTOPES}
    assert hard["U238"] > hard["U235"] > hard["Pu239"]


def test_ibd_weighted_spectrum_peaks_near_4_mev():
    energy = np.linspace(1.9, 9.0, 3000)
    rate = reactor.reactor_spectrum(energy) * reactor.ibd_cross_section_cm2(energy)
    assert 3.5 < energy[np.argmax(rate)] < 4.3


def test_reactor_spectrum_normalisation_and_rate():
    fractions = reactor.typical_fission_fractions()
    assert sum(fractions.values()) == pytest.approx(1.0, abs=1e-3)
    e_fission = reactor.mean_energy_per_fission_mev(fractions)
    assert 202.0 < e_fission < 207.0
    # 1 GW(th) gives about 3.1e19 fissions per second
    assert reactor.fission_rate_per_s(1000.0) == pytest.approx(3.05e19, rel=0.03)
    energy = np.array([3.0, 5.0])
    expected = sum(f * reactor.antineutrino_spectrum_per_fission(energy, i) for i, f in fractions.items())
    np.testing.assert_allclose(reactor.reactor_spectrum(energy, fractions) * e_fission, expected, rtol=1e-3)


def test_prompt_energy_mapping():
    assert reactor.prompt_energy_mev(4.0) == pytest.approx(4.0 - 0.782, abs=1e-3)
    prompt = reactor.prompt_energy_mev([2.0, 7.5])
    np.testing.assert_allclose(reactor.neutrino_energy_from_prompt_mev(prompt), [2.0, 7.5])


def test_bad_input_raises():
    with pytest.raises(ValueError, match="isotope"):
        reactor.antineutrino_spectrum_per_fission(3.0, "U233")
    with pytest.raises(ValueError, match="fission_fractions"):
        reactor.reactor_spectrum(3.0, {"U235": -1.0})
