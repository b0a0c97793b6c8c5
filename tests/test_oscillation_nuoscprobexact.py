"""Cross-check against NuOscProbExact (Bustamante, arXiv:1904.12391) on random points.

NuOscProbExact builds its own Hamiltonian (its PMNS matrix, ``H_vac / E + V_CC (D + eps)``,
eps given as ``[ee, emu, etau, mumu, mutau, tautau]`` with the upper entries) and solves
it with its SU(3) expansion; only the unit conversions are shared. Antineutrinos in its
convention: ``dcp -> -dcp``, ``V_CC -> -V_CC`` and ``eps -> conj(eps)`` (the conjugate of
``H_vac - V_CC (D + eps)``), see docs/oscillation.md.
"""
from __future__ import annotations

import numpy as np
import pytest

from globalfit.physics import oscillation as osc
from globalfit.physics.constants import EV, MATTER_POTENTIAL_EV_PER_GCC

hamiltonians3nu = pytest.importorskip("hamiltonians3nu")
oscprob3nu = pytest.importorskip("oscprob3nu")

N_POINTS = 240


def random_points(seed=20240611):
    rng = np.random.default_rng(seed)
    points = []
    for i in range(N_POINTS):
        params = {
            "th12": rng.uniform(0.1, 1.4), "th13": rng.uniform(0.0, 0.4), "th23": rng.uniform(0.3, 1.3),
            "dcp": rng.uniform(0, 2 * np.pi), "dm21": rng.uniform(2e-5, 2e-4),
            "dm31": rng.choice([-1, 1]) * rng.uniform(1.5e-3, 3.5e-3),
        }
        diagonal = rng.uniform(-1, 1, 3)
        off = rng.uniform(0, 1, 3) * np.exp(1j * rng.uniform(0, 2 * np.pi, 3))
        eps = np.diag(diagonal).astype(complex)
        for (a, b), value in zip(((0, 1), (0, 2), (1, 2)), off):
            eps[a, b], eps[b, a] = value, np.conj(value)
        scale = rng.uniform(0, 1) / max(1.0, np.abs(eps).max())      # |eps_ab| <= 1
        eps *= scale
        points.append(dict(
            params=params, eps=eps, energy=10 ** rng.uniform(-1, 1), baseline=10 ** rng.uniform(0, np.log10(13000)),
            density=rng.uniform(0, 13), y_e=rng.uniform(0.45, 0.5), antineutrino=bool(i % 2)))
    return points


def nuoscprobexact_probabilities(point):
    p, eps = point["params"], point["eps"]
    sign = -1.0 if point["antineutrino"] else 1.0
    if point["antineutrino"]:
        eps = np.conj(eps)
    h_vac = hamiltonians3nu.hamiltonian_3nu_vacuum_energy_independent(
        np.sin(p["th12"]), np.sin(p["th23"]), np.sin(p["th13"]), sign * p["dcp"], p["dm21"], p["dm31"])
    v_cc = sign * MATTER_POTENTIAL_EV_PER_GCC * point["y_e"] * point["density"]
    nsi = [eps[0, 0].real, eps[0, 1], eps[0, 2], eps[1, 1].real, eps[1, 2], eps[2, 2].real]
    h = hamiltonians3nu.hamiltonian_3nu_nsi(h_vac, point["energy"] / EV, v_cc, nsi)
    flat = oscprob3nu.probabilities_3nu(h, point["baseline"] * osc.LENGTH_EV_INV_PER_KM)
    return np.array(flat).reshape(3, 3)        # (Pee, Pem, Pet, Pme, ...): P[a, b] = P(a -> b)


def test_random_points_agree_with_nuoscprobexact():
    points = random_points()
    worst = 0.0
    for point in points:
        ours = osc.probabilities(point["energy"], point["baseline"], point["density"], point["params"],
                                 point["eps"], point["antineutrino"], point["y_e"])
        theirs = nuoscprobexact_probabilities(point)
        worst = max(worst, np.abs(ours - theirs).max())
    assert worst < 1e-6
    assert len(points) >= 200 and sum(p["antineutrino"] for p in points) >= 100
    assert sum(p["params"]["dm31"] < 0 for p in points) >= 80


def test_batched_call_agrees_with_nuoscprobexact():
    """The same points evaluated in one batched call (parameter axis) agree too."""
    points = [p for p in random_points(7)[:60] if not p["antineutrino"]]
    params = {k: np.array([p["params"][k] for p in points]) for k in osc.PARAMETER_NAMES}
    eps = np.array([p["eps"] for p in points])
    energy = np.array([p["energy"] for p in points])
    baseline = np.array([p["baseline"] for p in points])
    density = np.array([p["density"] for p in points])
    y_e = np.array([p["y_e"] for p in points])
    ours = osc.probabilities(energy, baseline, density, params, eps, False, y_e)
    theirs = np.array([nuoscprobexact_probabilities(p) for p in points])
    assert np.abs(ours - theirs).max() < 1e-6


slabs = pytest.importorskip("slabs")


@pytest.mark.parametrize("antineutrino", [False, True])
def test_layered_path_agrees_with_nuoscprobexact_slabs(antineutrino):
    """Earth chord (PREM, NSI with phases) against NuOscProbExact's slab product."""
    from globalfit.physics.matter import earth_layers

    point = random_points(11)[3]
    params, eps = point["params"], point["eps"]
    layers = earth_layers(0.35, 300.0)
    sign = -1.0 if antineutrino else 1.0
    eps_theirs = np.conj(eps) if antineutrino else eps
    h_vac = hamiltonians3nu.hamiltonian_3nu_vacuum_energy_independent(
        np.sin(params["th12"]), np.sin(params["th23"]), np.sin(params["th13"]), sign * params["dcp"],
        params["dm21"], params["dm31"])
    nsi = [eps_theirs[0, 0].real, eps_theirs[0, 1], eps_theirs[0, 2], eps_theirs[1, 1].real,
           eps_theirs[1, 2], eps_theirs[2, 2].real]
    for energy in (0.005, 0.3, 4.0):
        stack = np.array([hamiltonians3nu.hamiltonian_3nu_nsi(
            h_vac, energy / EV, sign * MATTER_POTENTIAL_EV_PER_GCC * y_e * rho, nsi) for _, rho, y_e in layers])
        widths = np.array([length for length, _, _ in layers]) * osc.LENGTH_EV_INV_PER_KM
        theirs = np.array(slabs.probabilities_3nu_slabs(stack, widths)).reshape(3, 3)
        ours = osc.probabilities_layers(energy, layers, params, eps, antineutrino)
        assert np.abs(ours - theirs).max() < 1e-9
