"""Earth model: PREM values, chords, layers along the chord."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad

from globalfit.physics import matter
from globalfit.physics import oscillation as osc

R_EARTH = 6371.0


@pytest.mark.parametrize("radius_km, published_gcc", [
    (0.0, 13.0885),            # centre (Dziewonski & Anderson 1981, Table I constant term)
    (1221.4, 12.763),          # inner-core side of the ICB
    (1221.6, 12.166),          # outer-core side of the ICB
    (3479.9, 9.903),           # core side of the CMB
    (3480.1, 5.566),           # mantle side of the CMB
    (5700.9, 4.380),           # below the 670 km discontinuity
    (5701.1, 3.992),           # above it
    (6350.0, 2.900),           # lower crust
    (6360.0, 2.600),           # upper crust
])
def test_prem_density_at_published_radii(radius_km, published_gcc):
    """Values tabulated in PREM (kg/m^3 / 1000), VERIFIED-3P; tolerance 2e-3 g/cm^3."""
    assert matter.PREM.density_gcc(radius_km) == pytest.approx(published_gcc, abs=2e-3)


def test_prem_ocean_and_electron_fractions():
    assert matter.PREM_OCEAN.density_gcc(6370.0) == pytest.approx(1.02)
    assert matter.PREM.density_gcc(6370.0) == pytest.approx(2.6)
    assert matter.PREM.electron_fraction([0.0, 3000.0, 4000.0, 6370.0]) == pytest.approx([0.466, 0.466, 0.494, 0.494])
    with pytest.raises(ValueError, match="radius_km"):
        matter.PREM.density_gcc(7000.0)


def test_prem_mass_is_earth_mass():
    """Integrated PREM density gives the Earth's mass 5.972e24 kg to 0.1%."""
    mass_g = 0.0
    inner = 0.0
    for shell in matter.PREM_OCEAN.shells:
        integral, _ = quad(lambda r, shell=shell: 4 * np.pi * r**2 * shell.density_gcc(r),
                           inner, shell.outer_km)
        mass_g += integral * 1e15          # km^3 -> cm^3
        inner = shell.outer_km
    assert mass_g / 1e3 == pytest.approx(5.972e24, rel=1e-3)


def test_chord_lengths_and_angles():
    assert matter.chord_length_km(0.0) == pytest.approx(2 * R_EARTH)
    assert matter.chord_length_km(np.pi / 3) == pytest.approx(R_EARTH)
    assert matter.chord_length_km(np.pi / 2) == pytest.approx(0.0, abs=1e-9)
    assert matter.nadir_from_zenith(np.pi) == pytest.approx(0.0)
    assert matter.zenith_from_nadir(matter.nadir_from_zenith(2.0)) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="nadir_angle_rad"):
        matter.chord_length_km(2.0)


@pytest.mark.parametrize("nadir", [0.0, 0.3, 0.6, 1.0, 1.4])
def test_layers_cover_the_chord_with_the_right_column(nadir):
    layers = matter.earth_layers(nadir, max_step_km=150.0)
    length = matter.chord_length_km(nadir)
    assert sum(layer[0] for layer in layers) == pytest.approx(length, rel=1e-12)
    assert max(layer[0] for layer in layers) <= 150.0 + 1e-9
    impact = R_EARTH * np.sin(nadir)

    def column_density(s):
        r = np.sqrt((s - length / 2) ** 2 + impact**2)
        return float(matter.PREM.density_gcc(r) * matter.PREM.electron_fraction(r))

    cuts = [0.0, length]
    for shell in matter.PREM.shells[:-1]:
        if shell.outer_km > impact:
            offset = np.sqrt(shell.outer_km**2 - impact**2)
            cuts += [length / 2 - offset, length / 2 + offset]
    cuts = sorted(cuts)
    expected = sum(quad(column_density, a, b)[0] for a, b in zip(cuts[:-1], cuts[1:]))
    assert matter.total_column(layers) == pytest.approx(expected, rel=1e-7)
    # symmetric chord: the layer list reads the same backwards
    assert np.allclose(np.array(layers), np.array(layers[::-1]), rtol=1e-9)


def test_horizontal_path_has_no_layers():
    assert matter.earth_layers(np.pi / 2) == []


@pytest.mark.parametrize("energy", [np.geomspace(0.003, 0.02, 12), np.geomspace(0.1, 20.0, 12)])
def test_core_crossing_probabilities_converge_with_step(nufit_no, energy):
    """Default 50 km steps vs 25 km: < 2e-4 (solar and atmospheric energies)."""
    default = osc.probabilities_layers(energy, matter.earth_layers(0.1), nufit_no)
    fine = osc.probabilities_layers(energy, matter.earth_layers(0.1, 25.0), nufit_no)
    coarse = osc.probabilities_layers(energy, matter.earth_layers(0.1, 400.0), nufit_no)
    assert np.abs(default - fine).max() < 2e-4
    assert np.abs(coarse - fine).max() > 5 * np.abs(default - fine).max()     # it does converge
    assert np.allclose(default.sum(axis=-1), 1.0, atol=1e-12)


def test_batched_chords_match_single_chords(nufit_no):
    nadir = np.array([[0.0, 0.3, 0.55], [0.9, 1.3, np.pi / 2]])
    layers = matter.earth_layers_batch(nadir, 256)
    assert len(layers) == 256 and layers[0][0].shape == nadir.shape
    assert np.allclose(sum(layer[0] for layer in layers), matter.chord_length_km(nadir), rtol=1e-12, atol=1e-9)
    columns = sum(layer[0] * layer[1] * layer[2] for layer in layers)
    for where in np.ndindex(nadir.shape):
        single = matter.earth_layers(nadir[where], 25.0)
        assert columns[where] == pytest.approx(matter.total_column(single), rel=1e-7, abs=1e-9)
    energy = np.geomspace(0.003, 20.0, 16)
    batched = osc.probabilities_layers(energy[:, None, None], layers, nufit_no)
    assert batched.shape == (16, 2, 3, 3, 3)
    for where in np.ndindex(nadir.shape):
        single = matter.earth_layers(nadir[where], 25.0)
        expected = osc.probabilities_layers(energy, single, nufit_no) if single else np.eye(3)
        assert np.abs(batched[(slice(None),) + where] - expected).max() < 2e-4
    with pytest.raises(ValueError, match="n_steps"):
        matter.earth_layers_batch(nadir, 10)


def test_lisi_montanari_file_matches_prem_electron_density(shared_data):
    model = matter.lisi_montanari_model(shared_data / "solar" / "Earth_Density.csv")
    radii = np.array([0.0, 1000.0, 2500.0, 4000.0, 5000.0, 6000.0])
    lisi = model.density_gcc(radii) * model.electron_fraction(radii)
    prem = matter.PREM.density_gcc(radii) * matter.PREM.electron_fraction(radii)
    assert lisi[0] == pytest.approx(6.099)        # alpha of the innermost shell, mol/cm^3
    assert np.allclose(lisi, prem, rtol=0.02)
    layers = matter.earth_layers(0.2, 200.0, model=model)
    assert sum(layer[0] for layer in layers) == pytest.approx(matter.chord_length_km(0.2))


def test_lisi_montanari_bad_file(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("# header\n0.5, 1, 2\nx, y, z, w\n")
    with pytest.raises(ValueError, match="path"):
        matter.lisi_montanari_model(bad)


def test_prem_agrees_with_nuoscprobexact_transcription():
    """NuOscProbExact ships its own PREM (with ocean): an independent transcription."""
    earth = pytest.importorskip("earth")
    if not hasattr(earth, "density_prem"):
        pytest.skip("module 'earth' is not NuOscProbExact's")
    radii = np.concatenate([np.linspace(0.0, 6370.9, 997), [1221.4, 1221.6, 3479.9, 3480.1, 5700.9, 5701.1]])
    assert np.allclose(matter.PREM_OCEAN.density_gcc(radii), earth.density_prem(radii), rtol=1e-12)
