"""Three-flavour oscillation probabilities in matter with NSI.

Public entry point::

    P = probabilities(energy_gev, baseline_km, density_gcc, params, eps=None,
                      antineutrino=False, electron_fraction=0.5)
    # P[..., a, b] = P(nu_a -> nu_b), flavour order (e, mu, tau)

This first version diagonalises the Hamiltonian with batched ``numpy.linalg.eigh`` (the
test oracle); faster closed forms replace it behind the same signature.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

from globalfit.physics.constants import EV, KM_IN_PER_GEV, MATTER_POTENTIAL_EV_PER_GCC

PARAMETER_NAMES = ("th12", "th13", "th23", "dcp", "dm21", "dm31")


def pmns_matrix(th12, th13, th23, dcp) -> np.ndarray:
    """PDG mixing matrix ``U = R23 U13(delta) R12``; broadcasts over parameter arrays."""
    th12, th13, th23, dcp = np.broadcast_arrays(*(np.asarray(x, float) for x in (th12, th13, th23, dcp)))
    s12, c12 = np.sin(th12), np.cos(th12)
    s13, c13 = np.sin(th13), np.cos(th13)
    s23, c23 = np.sin(th23), np.cos(th23)
    phase = np.exp(1j * dcp)
    u = np.empty(th12.shape + (3, 3), dtype=complex)
    u[..., 0, 0] = c12 * c13
    u[..., 0, 1] = s12 * c13
    u[..., 0, 2] = s13 / phase
    u[..., 1, 0] = -s12 * c23 - c12 * s23 * s13 * phase
    u[..., 1, 1] = c12 * c23 - s12 * s23 * s13 * phase
    u[..., 1, 2] = s23 * c13
    u[..., 2, 0] = s12 * s23 - c12 * c23 * s13 * phase
    u[..., 2, 1] = -c12 * s23 - s12 * c23 * s13 * phase
    u[..., 2, 2] = c23 * c13
    return u


def hamiltonian_ev(energy_gev, density_gcc, params: Mapping, eps=None,
                   antineutrino=False, electron_fraction=0.5) -> np.ndarray:
    """Flavour-basis Hamiltonian in eV, shape ``broadcast(...) + (3, 3)``."""
    energy = np.asarray(energy_gev, float)
    u = pmns_matrix(params["th12"], params["th13"], params["th23"], params["dcp"])
    dm21 = np.asarray(params["dm21"], float)
    dm31 = np.asarray(params["dm31"], float)
    masses = np.stack(np.broadcast_arrays(np.zeros_like(dm21 + dm31), dm21 + 0 * dm31, dm31 + 0 * dm21), axis=-1)
    energy_ev = energy / EV
    h_vac = (u * (masses[..., None, :] / (2.0 * energy_ev[..., None, None]))) @ np.conj(np.swapaxes(u, -1, -2))
    v_cc = MATTER_POTENTIAL_EV_PER_GCC * np.asarray(electron_fraction, float) * np.asarray(density_gcc, float)
    matter = np.zeros((3, 3), dtype=complex)
    matter[0, 0] = 1.0
    if eps is not None:
        matter = matter + np.asarray(eps, dtype=complex)
    h_mat = np.asarray(v_cc)[..., None, None] * matter
    if antineutrino:
        return np.conj(h_vac - h_mat)
    return h_vac + h_mat


def _evolution(h_ev, baseline_km):
    values, vectors = np.linalg.eigh(h_ev)
    length_per_ev = np.asarray(baseline_km, float) * KM_IN_PER_GEV * EV
    phases = np.exp(-1j * values * length_per_ev[..., None])
    return (vectors * phases[..., None, :]) @ np.conj(np.swapaxes(vectors, -1, -2))


def evolution_operator(energy_gev, layers, params: Mapping, eps=None, antineutrino=False) -> np.ndarray:
    """Amplitudes through layered matter: ``S[..., b, a] = A(nu_a -> nu_b)``.

    ``layers`` is a sequence of ``(length_km, density_gcc, electron_fraction)`` in the order
    the neutrino crosses them; ``S = S_n ... S_1``.
    """
    total = None
    for length_km, density_gcc, electron_fraction in layers:
        h = hamiltonian_ev(energy_gev, density_gcc, params, eps, antineutrino, electron_fraction)
        s = _evolution(h, length_km)
        total = s if total is None else s @ total
    if total is None:
        raise ValueError("layers: need at least one (length_km, density_gcc, electron_fraction)")
    return total


def probabilities(energy_gev, baseline_km, density_gcc, params: Mapping, eps=None,
                  antineutrino=False, electron_fraction=0.5) -> np.ndarray:
    """``P[..., a, b] = P(nu_a -> nu_b)`` at constant density (see module docstring)."""
    h = hamiltonian_ev(energy_gev, density_gcc, params, eps, antineutrino, electron_fraction)
    s = _evolution(h, baseline_km)
    return np.abs(np.swapaxes(s, -1, -2)) ** 2
