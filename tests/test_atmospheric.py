"""Atmospheric-neutrino physics: paths through the Earth, oscillograms against an independent
layer-by-layer matrix exponential, the generalised mass-ordering degeneracy, flux tables."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from globalfit.physics.atmospheric import (
    HondaFluxTable,
    LayeredEarth,
    Oscillogram,
    _log_log,
    barr_up_horizontal_slope,
    path_layers,
)
from globalfit.physics.constants import MATTER_POTENTIAL_EV_PER_GCC
from globalfit.physics.nsi import mass_ordering_degeneracy
from globalfit.physics.oscillation import LENGTH_EV_INV_PER_KM, evolution_operator

PARAMS = dict(th12=0.5903, th13=0.1490, th23=0.8552, dcp=4.1, dm21=7.42e-5, dm31=2.51e-3)
EPS = np.array([[0.12, 0.05 - 0.03j, -0.08 + 0.11j],
                [0.05 + 0.03j, -0.04, 0.02 + 0.04j],
                [-0.08 - 0.11j, 0.02 - 0.04j, 0.09]])


@pytest.fixture(scope="module")
def release(shared_data):
    folder = shared_data / "deepcore_3y"
    if not folder.is_dir():
        pytest.skip(f"IceCube's DeepCore 3-year release not in {shared_data}")
    return folder


@pytest.fixture(scope="module")
def earth(release):
    return LayeredEarth.from_file(release / "PREM_12layer.dat")


def _pmns(th12, th13, th23, dcp):
    """Independent PMNS: product of rotations, R23 U13 R12 written out as matrices."""
    c, s = np.cos, np.sin
    r23 = np.array([[1, 0, 0], [0, c(th23), s(th23)], [0, -s(th23), c(th23)]], dtype=complex)
    u13 = np.array([[c(th13), 0, s(th13) * np.exp(-1j * dcp)], [0, 1, 0],
                    [-s(th13) * np.exp(1j * dcp), 0, c(th13)]])
    r12 = np.array([[c(th12), s(th12), 0], [-s(th12), c(th12), 0], [0, 0, 1]], dtype=complex)
    return r23 @ u13 @ r12


def _expm_probability(energy_gev, pieces, params, eps, antineutrino):
    """P[a, b] from the product of scipy.linalg.expm over the pieces."""
    u = _pmns(params["th12"], params["th13"], params["th23"], params["dcp"])
    h_vac = u @ np.diag([0.0, params["dm21"], params["dm31"]]) @ u.conj().T / (2 * energy_gev * 1e9)
    total = np.eye(3, dtype=complex)
    for length, density, y_e in pieces:
        v = MATTER_POTENTIAL_EV_PER_GCC * density * y_e * (np.diag([1.0, 0, 0]) + eps)
        h = np.conj(h_vac - v) if antineutrino else h_vac + v
        total = scipy.linalg.expm(-1j * h * length * LENGTH_EV_INV_PER_KM) @ total
    return np.abs(total.T) ** 2


def test_path_lengths_follow_the_geometry(earth):
    radius, depth, height = earth.radius_km, 2.0, 20.0
    r_det = radius - depth
    for cz in (-1.0, -0.93, -0.6, -0.2, -0.01, 0.0, 0.3, 1.0):
        pieces = path_layers(cz, earth, depth, height)
        expected = -r_det * cz + np.sqrt(r_det**2 * cz**2 - r_det**2 + (radius + height) ** 2)
        assert sum(p[0] for p in pieces) == pytest.approx(expected, rel=1e-12)
        in_matter = sum(p[0] for p in pieces if p[1] > 0)
        exit_point = -r_det * cz + np.sqrt(r_det**2 * cz**2 - r_det**2 + radius**2)
        assert in_matter == pytest.approx(exit_point, rel=1e-12)
    straight_up = path_layers(-1.0, earth, depth, height)
    assert len(straight_up) == 24                  # vacuum + 11 shells in, the inner core, 11 out
    assert max(p[1] for p in straight_up) == 13.0
    inner = [p[1] for p in straight_up[1:]]        # densities symmetric below the surface
    assert inner == inner[::-1]


@pytest.mark.parametrize("antineutrino", [False, True])
def test_oscillogram_agrees_with_layer_by_layer_expm(earth, antineutrino):
    energies = np.array([3.0, 7.5, 22.0, 80.0])
    directions = np.array([-1.0, -0.9, -0.62, -0.3, -0.04, 0.2, 1.0])
    oscillogram = Oscillogram(energies, directions, earth, 2.0, 20.0)
    probabilities = oscillogram.probabilities(PARAMS, EPS)[int(antineutrino)]
    worst = 0.0
    for j, cz in enumerate(directions):
        pieces = path_layers(float(cz), earth, 2.0, 20.0)
        for i, energy in enumerate(energies):
            reference = _expm_probability(energy, pieces, PARAMS, EPS, antineutrino)
            worst = max(worst, float(np.abs(probabilities[:, :, i, j] - reference).max()))
    assert worst < 1e-6


@pytest.mark.parametrize(("params", "eps"), [(PARAMS, None), (PARAMS, EPS), ({**PARAMS, "dm21": 0.0}, None)])
def test_oscillogram_agrees_with_the_layered_engine_on_a_fine_grid(earth, params, eps):
    # the oscillogram shares eigensystems among directions; the engine's evolution_operator
    # exponentiates every piece of every path by itself (closed form): 1 GeV to 1 TeV, all
    # directions of a 41-node grid, neutrinos and antineutrinos. dm21 = 0: two vacuum
    # eigenvalues coincide (the eigh branch of both)
    energies = np.geomspace(1.0, 1000.0, 25)
    directions = np.linspace(-1.0, 1.0, 41)
    probabilities = Oscillogram(energies, directions, earth, 2.0, 20.0).probabilities(params, eps)
    worst = 0.0
    for j, cz in enumerate(directions):
        pieces = path_layers(float(cz), earth, 2.0, 20.0)
        for t, antineutrino in enumerate((False, True)):
            s = evolution_operator(energies, pieces, params, eps, antineutrino=antineutrino)   # (nE, b, a)
            reference = np.moveaxis(np.abs(s) ** 2, 0, -1).swapaxes(0, 1)                     # (a, b, nE)
            worst = max(worst, float(np.abs(probabilities[t, :, :, :, j] - reference).max()))
    assert worst < 1e-10


def test_oscillogram_is_invariant_under_the_generalised_mass_ordering_degeneracy(earth):
    energies = np.array([4.0, 12.0, 40.0])
    directions = np.array([-0.95, -0.5, -0.1])
    oscillogram = Oscillogram(energies, directions, earth, 2.0, 20.0)
    mapped_params, mapped_eps = mass_ordering_degeneracy(PARAMS, EPS)
    mapped = {k: float(v) for k, v in mapped_params.items()}
    # exact here: the NSI potential is eps times the electron potential in every layer
    difference = oscillogram.probabilities(PARAMS, EPS) - oscillogram.probabilities(mapped, mapped_eps)
    assert np.abs(difference).max() < 1e-9


def test_down_going_vertical_is_short_and_close_to_unity(earth):
    oscillogram = Oscillogram(np.array([10.0]), np.array([1.0]), earth, 2.0, 20.0)
    probabilities = oscillogram.probabilities(PARAMS)
    assert probabilities[0, 1, 1, 0, 0] > 1 - 1e-4          # 22 km at 10 GeV
    assert np.allclose(probabilities.sum(axis=2), 1.0, atol=1e-12)


def test_log_log_line_passes_through_its_two_points():
    energies = 10.0 ** np.array([0.5, 3.0])
    assert _log_log(energies, 3.0, 43.0, 0.5, 3.0) == pytest.approx([0.03, 0.43], rel=1e-3)
    assert np.all(barr_up_horizontal_slope("mu", energies, 0.0) == 0.0)


def test_honda_table_reproduced_at_its_nodes(release):
    table = HondaFluxTable(release / "honda-2015-spl-solmin-aa.d")
    assert table.table.shape[1] == 20
    energy = table.energy_gev[10:60:7]
    for j, column in enumerate(("numu", "numubar", "nue", "nuebar")):
        for k in (0, 7, 19):
            values = table.flux(column, energy, np.full(energy.size, table.cos_zenith_centres[k]))
            assert values == pytest.approx(table.table[10:60:7, k, j], rel=1e-10)
    with pytest.raises(ValueError, match="outside the table"):
        table.flux("numu", 1e6, 0.0)
