"""NSI matrices for propagation and the generalized mass-ordering degeneracy.

Conventions of physics.md section 0: ``eps^f`` (f = e, u, d) in units of
``2 sqrt(2) G_F``, Hermitian, flavour order ``(e, mu, tau)``; propagation sees
``eps = eps^e + (2 + Y_n) eps^u + (1 + 2 Y_n) eps^d`` with ``Y_n = N_n / N_e``.
Only diagonal differences matter for oscillations; `nsi_matrix` fixes ``eps_mumu = 0``.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike

from globalfit.physics.oscillation import PARAMETER_NAMES


def _hermitian_or_zero(matrix, name: str) -> np.ndarray:
    if matrix is None:
        return np.zeros((3, 3), complex)
    array = np.asarray(matrix, dtype=complex)
    if array.ndim < 2 or array.shape[-2:] != (3, 3):
        raise ValueError(f"{name}: expected shape (..., 3, 3), got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: must be finite (no NaN or inf)")
    if not np.allclose(array, np.conj(np.swapaxes(array, -1, -2)), atol=1e-12, rtol=1e-10):
        raise ValueError(f"{name}: must be Hermitian (eps_ba = conj(eps_ab))")
    return array


def matter_eps(eps_e: ArrayLike | None = None, eps_u: ArrayLike | None = None, eps_d: ArrayLike | None = None,
               neutron_fraction: ArrayLike = 1.05) -> np.ndarray:
    """Propagation NSI ``eps^e + (2 + Y_n) eps^u + (1 + 2 Y_n) eps^d``.

    Parameters
    ----------
    eps_e, eps_u, eps_d : (..., 3, 3) complex Hermitian or None
        Vector NSI with electrons, up and down quarks (None = zero).
    neutron_fraction : array_like
        ``Y_n = N_n / N_e`` (Earth crust/mantle about 1.05; PREM core about 1.15).

    Returns
    -------
    ndarray, complex, shape ``broadcast + (3, 3)``
        Same as `globalfit.couplings.Couplings.eps_matter`.
    """
    y_n = np.asarray(neutron_fraction, float)
    if not np.all(np.isfinite(y_n)) or np.any(y_n < 0):
        raise ValueError(f"neutron_fraction: must be finite and >= 0, got {neutron_fraction!r}")
    y_n = y_n[..., None, None]
    return (_hermitian_or_zero(eps_e, "eps_e") + (2.0 + y_n) * _hermitian_or_zero(eps_u, "eps_u")
            + (1.0 + 2.0 * y_n) * _hermitian_or_zero(eps_d, "eps_d"))


def nsi_matrix(ee_minus_mumu: ArrayLike = 0.0, tautau_minus_mumu: ArrayLike = 0.0, emu: ArrayLike = 0.0,
               etau: ArrayLike = 0.0, mutau: ArrayLike = 0.0) -> np.ndarray:
    """Hermitian NSI matrix from the oscillation parameters (``eps_mumu = 0``).

    Parameters
    ----------
    ee_minus_mumu, tautau_minus_mumu : array_like, real
        ``eps_ee - eps_mumu`` and ``eps_tautau - eps_mumu``.
    emu, etau, mutau : array_like, complex
        Upper off-diagonal entries ``eps_emu``, ``eps_etau``, ``eps_mutau``
        (e.g. ``modulus * np.exp(1j * phase)``); the lower ones are their conjugates.

    Returns
    -------
    ndarray, complex, shape ``broadcast + (3, 3)``
    """
    diagonal = [np.asarray(x) for x in (ee_minus_mumu, tautau_minus_mumu)]
    for name, value in zip(("ee_minus_mumu", "tautau_minus_mumu"), diagonal):
        if np.iscomplexobj(value) and np.any(np.imag(value) != 0):
            raise ValueError(f"{name}: diagonal NSI must be real, got {value!r}")
    dee, dtt = (np.real(x).astype(float) for x in diagonal)
    emu, etau, mutau = (np.asarray(x, complex) for x in (emu, etau, mutau))
    dee, dtt, emu, etau, mutau = np.broadcast_arrays(dee, dtt, emu, etau, mutau)
    if not all(np.all(np.isfinite(x)) for x in (dee, dtt, emu, etau, mutau)):
        raise ValueError("nsi_matrix: entries must be finite (no NaN or inf)")
    eps = np.zeros(dee.shape + (3, 3), complex)
    eps[..., 0, 0] = dee
    eps[..., 2, 2] = dtt
    eps[..., 0, 1], eps[..., 1, 0] = emu, np.conj(emu)
    eps[..., 0, 2], eps[..., 2, 0] = etau, np.conj(etau)
    eps[..., 1, 2], eps[..., 2, 1] = mutau, np.conj(mutau)
    return eps


def mass_ordering_degeneracy(params: Mapping, eps: ArrayLike | None = None) -> tuple[dict, np.ndarray]:
    """Image of a point under the generalized mass-ordering degeneracy (physics.md s. 1).

    ``th12 -> pi/2 - th12``, ``dcp -> pi - dcp``, ``dm31 -> -dm31 + dm21``,
    ``eps_ee - eps_mumu -> -(eps_ee - eps_mumu) - 2``,
    ``eps_tautau - eps_mumu -> -(eps_tautau - eps_mumu)``,
    ``eps_emu -> conj(eps_emu)``, ``eps_etau -> conj(eps_etau)``,
    ``eps_mutau -> -conj(eps_mutau)``. It maps ``H -> -R conj(H) R`` up to a multiple of the
    identity, with ``R = diag(-1, 1, 1)`` (a flavour rephasing for the PDG matrix with
    ``exp(-i dcp)`` in ``U_e3``), so every ``P(nu_a -> nu_b)`` is unchanged, for neutrinos
    and antineutrinos at any density. Used to seed walkers in the LMA-Dark mode.

    Parameters
    ----------
    params : mapping
        Oscillation parameters (``th12, th13, th23, dcp, dm21, dm31``; other keys are copied).
    eps : (..., 3, 3) complex Hermitian or None
        Propagation NSI matrix (None = zero).

    Returns
    -------
    (dict, ndarray)
        The mapped parameters and NSI matrix (``eps'_mumu = -eps_mumu``, so
        ``eps'_ee = -eps_ee - 2`` and ``eps'_tautau = -eps_tautau``).
    """
    missing = [k for k in PARAMETER_NAMES if k not in params]
    if missing:
        raise ValueError(f"params: missing keys {missing}; required: {PARAMETER_NAMES}")
    eps = _hermitian_or_zero(eps, "eps")
    mapped = dict(params)
    mapped["th12"] = np.pi / 2 - np.asarray(params["th12"], float)
    mapped["dcp"] = np.pi - np.asarray(params["dcp"], float)
    mapped["dm31"] = -np.asarray(params["dm31"], float) + np.asarray(params["dm21"], float)
    rephasing = np.array([-1.0, 1.0, 1.0])
    eps_mapped = -rephasing[:, None] * np.conj(eps) * rephasing[None, :]
    eps_mapped = eps_mapped - 2.0 * np.diag([1.0, 0.0, 0.0])
    return mapped, eps_mapped
