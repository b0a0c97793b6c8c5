"""Inputs of the oscillation engine: validation and the Hamiltonian's pieces.

Validation of energies, baselines, densities, parameters and the NSI matrix (each error
names the argument, the value and what is allowed), the PMNS matrix, the vacuum mass
matrix, the flavour-basis Hamiltonian (`hamiltonian_ev`, physics in
`globalfit.physics.oscillation`'s docstring) and the traceless phase matrices ``K`` and
``M`` of ``T = w K + M`` that the kernels expand in ``w = L / (2E)``.
"""
from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike

from globalfit.physics.constants import EV, KM_IN_PER_GEV, MATTER_POTENTIAL_EV_PER_GCC

PARAMETER_NAMES = ("th12", "th13", "th23", "dcp", "dm21", "dm31")

LENGTH_EV_INV_PER_KM = KM_IN_PER_GEV * EV
"""eV^-1 in one km (about 5.068e9)."""


# --------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------
def _as_float_array(value, name: str, minimum=None, strictly_positive=False) -> np.ndarray:
    if type(value) in _SCALAR_TYPES:                 # one number: the same checks with math
        number = float(value)
        if math.isfinite(number) and (number > 0 if strictly_positive else
                                      minimum is None or number >= minimum):
            return np.asarray(number)
    array = np.asarray(value, dtype=float)
    if array.size:                                   # the common case in two reductions (NaN propagates)
        low, high = float(array.min()), float(array.max())
        if math.isfinite(low) and math.isfinite(high) and (low > 0 if strictly_positive else
                                                           minimum is None or low >= minimum):
            return array
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: must be finite (no NaN or inf), got {value!r}"[:300])
    if strictly_positive and not np.all(array > 0):
        raise ValueError(f"{name}: must be > 0, got minimum {array.min()!r}")
    if minimum is not None and not np.all(array >= minimum):
        raise ValueError(f"{name}: must be >= {minimum}, got minimum {array.min()!r}")
    return array


def _parameters(params: Mapping) -> dict:
    if not isinstance(params, Mapping):
        raise ValueError(f"params: expected a mapping with keys {PARAMETER_NAMES}, got {type(params).__name__}")
    missing = [k for k in PARAMETER_NAMES if k not in params]
    if missing:
        raise ValueError(f"params: missing keys {missing}; required: {PARAMETER_NAMES}")
    return {k: _as_float_array(params[k], f"params[{k!r}]") for k in PARAMETER_NAMES}


def _nsi_matrix(eps) -> np.ndarray | None:
    if eps is None:
        return None
    matrix = np.asarray(eps, dtype=complex)
    if matrix.ndim < 2 or matrix.shape[-2:] != (3, 3):
        raise ValueError(f"eps: expected shape (..., 3, 3), got {matrix.shape}")
    deviation = np.abs(matrix - np.conj(np.swapaxes(matrix, -1, -2))).max()
    if not deviation <= 1e-12 * (1.0 + np.abs(matrix).max()):      # also False for NaN / inf entries
        if not np.all(np.isfinite(matrix)):
            raise ValueError("eps: must be finite (no NaN or inf)")
        raise ValueError("eps: must be Hermitian, eps[..., b, a] == conj(eps[..., a, b]) "
                         f"(largest deviation {deviation:.3g})")
    return matrix


def _single_point(params: Mapping, eps: np.ndarray | None) -> tuple | None:
    """The six parameters as floats when ``params`` holds one finite scalar point and ``eps``
    is one matrix (the fast path of `ConstantDensityPath`); None otherwise."""
    if eps is not None and eps.ndim != 2:
        return None
    values = []
    for key in PARAMETER_NAMES:
        value = params[key]
        if type(value) not in _SCALAR_TYPES:
            return None
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"params[{key!r}]: must be finite (no NaN or inf), got {value!r}")
        values.append(value)
    return tuple(values)


_SCALAR_TYPES = (float, int, np.float64, np.float32, np.int64)


# --------------------------------------------------------------------------------------
# Hamiltonian pieces
# --------------------------------------------------------------------------------------
def pmns_matrix(th12: ArrayLike, th13: ArrayLike, th23: ArrayLike, dcp: ArrayLike) -> np.ndarray:
    """PDG mixing matrix ``U = R23(th23) U13(th13, dcp) R12(th12)``.

    Parameters
    ----------
    th12, th13, th23, dcp : array_like
        Mixing angles and Dirac phase in radians; broadcast against each other.

    Returns
    -------
    ndarray, complex, shape ``broadcast + (3, 3)``
        ``U[..., a, i]``: flavour ``a`` in ``(e, mu, tau)``, mass state ``i``;
        ``U_e3 = s13 exp(-i dcp)``.
    """
    if all(type(x) in _SCALAR_TYPES for x in (th12, th13, th23, dcp)):
        return _pmns_scalar(float(th12), float(th13), float(th23), float(dcp))
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


def _pmns_scalar(th12: float, th13: float, th23: float, dcp: float) -> np.ndarray:
    """`pmns_matrix` for one point, with scalar ``math`` (same formulas, about 3 us)."""
    s12, c12 = math.sin(th12), math.cos(th12)
    s13, c13 = math.sin(th13), math.cos(th13)
    s23, c23 = math.sin(th23), math.cos(th23)
    phase = complex(math.cos(dcp), math.sin(dcp))
    return np.array([[c12 * c13, s12 * c13, s13 / phase],
                     [-s12 * c23 - c12 * s23 * s13 * phase, c12 * c23 - s12 * s23 * s13 * phase, s23 * c13],
                     [s12 * s23 - c12 * c23 * s13 * phase, -c12 * s23 - s12 * c23 * s13 * phase, c23 * c13]])


def vacuum_mass_matrix_ev2(params: Mapping) -> np.ndarray:
    """``U diag(0, dm21, dm31) U^dag`` in eV^2, shape ``params broadcast + (3, 3)``."""
    p = params if all(isinstance(params[k], np.ndarray) for k in PARAMETER_NAMES) else _parameters(params)
    u = pmns_matrix(p["th12"], p["th13"], p["th23"], p["dcp"])
    dm21, dm31 = np.broadcast_arrays(p["dm21"], p["dm31"])
    masses = np.stack([np.zeros_like(dm21), dm21, dm31], axis=-1)
    u, masses = np.broadcast_arrays(u, masses[..., None, :])
    return (u * masses) @ np.conj(np.swapaxes(u, -1, -2))


def _matter_matrix(eps: np.ndarray | None) -> np.ndarray:
    """``diag(1, 0, 0) + eps`` (complex, ``eps.shape``)."""
    matter = np.zeros((3, 3), dtype=complex)
    matter[0, 0] = 1.0
    return matter if eps is None else matter + eps


def hamiltonian_ev(energy_gev: ArrayLike, density_gcc: ArrayLike, params: Mapping, eps: ArrayLike | None = None,
                   antineutrino: bool = False, electron_fraction: ArrayLike = 0.5) -> np.ndarray:
    """Flavour-basis Hamiltonian in eV (module docstring), shape ``broadcast + (3, 3)``.

    Parameters
    ----------
    energy_gev : array_like
        Neutrino energy in GeV (> 0).
    density_gcc : array_like
        Matter density in g/cm^3 (>= 0).
    params : mapping
        ``th12, th13, th23, dcp`` (rad), ``dm21, dm31`` (eV^2); arrays broadcast.
    eps : (..., 3, 3) complex Hermitian or None
        NSI matrix in units of the electron-density potential (``Couplings.eps_matter``).
    antineutrino : bool
        Antineutrino Hamiltonian ``conj(H_vac - H_mat)``.
    electron_fraction : array_like
        Electrons per nucleon ``Y_e``.
    """
    energy = _as_float_array(energy_gev, "energy_gev", strictly_positive=True)
    density = _as_float_array(density_gcc, "density_gcc", minimum=0.0)
    y_e = _as_float_array(electron_fraction, "electron_fraction", minimum=0.0)
    if np.any(y_e > 1.0):
        raise ValueError(f"electron_fraction: must lie in [0, 1], got maximum {y_e.max()!r}")
    p = _parameters(params)
    eps = _nsi_matrix(eps)
    h_vac = vacuum_mass_matrix_ev2(p) / (2.0 * energy / EV)[..., None, None]
    v_cc = MATTER_POTENTIAL_EV_PER_GCC * y_e * density
    h_mat = v_cc[..., None, None] * _matter_matrix(eps)
    if antineutrino:
        return np.conj(h_vac - h_mat)
    return h_vac + h_mat


def _traceless(matrix: np.ndarray) -> np.ndarray:
    trace = np.trace(matrix, axis1=-2, axis2=-1)
    return matrix - (trace / 3.0)[..., None, None] * np.eye(3)


def _kinematics(energy_gev, baseline_km, density_gcc, electron_fraction):
    """Validated ``w = L / (2E)`` (eV^-2; ``w * dm2`` is a phase) and ``v = V_CC L`` (a phase)."""
    energy = _as_float_array(energy_gev, "energy_gev", strictly_positive=True)
    length = _as_float_array(baseline_km, "baseline_km", minimum=0.0)
    density = _as_float_array(density_gcc, "density_gcc", minimum=0.0)
    y_e = _as_float_array(electron_fraction, "electron_fraction", minimum=0.0)
    if y_e.size and y_e.max() > 1.0:
        raise ValueError(f"electron_fraction: must lie in [0, 1], got maximum {y_e.max()!r}")
    length_ev_inv = length * LENGTH_EV_INV_PER_KM
    w = length_ev_inv * (0.5 * EV) / energy        # L / (2 E), eV^-2 * eV^2 -> multiply dm2
    v = (MATTER_POTENTIAL_EV_PER_GCC * y_e * density) * length_ev_inv
    return w, v


def _phase_matrices(params: Mapping, eps, antineutrino: bool, v: np.ndarray):
    """Traceless ``K`` (eV^2, multiplies ``w``) and ``M = v * matter`` (dimensionless)."""
    try:
        np.broadcast_shapes(*(np.shape(params[k]) for k in PARAMETER_NAMES),
                            () if eps is None else eps.shape[:-2])
    except ValueError:
        shapes = {k: np.shape(params[k]) for k in PARAMETER_NAMES}
        raise ValueError(f"params: shapes {shapes} and eps batch shape "
                         f"{None if eps is None else eps.shape[:-2]} do not broadcast") from None
    k = _traceless(vacuum_mass_matrix_ev2(params))
    matter = _traceless(_matter_matrix(eps))
    if antineutrino:
        k = np.conj(k)
        matter = -np.conj(matter)
    m = v[..., None, None] * matter
    return k, m


def _point_matrices(point: tuple, eps: np.ndarray | None, antineutrino: bool, v: float) -> tuple:
    """Traceless ``K`` (eV^2) and ``M`` (dimensionless) for one point (`_phase_matrices`)."""
    th12, th13, th23, dcp, dm21, dm31 = point
    u = _pmns_scalar(th12, th13, th23, dcp)
    k = (u * np.array([0.0, dm21, dm31])) @ np.conj(u.T)
    k -= (np.trace(k) / 3.0) * _IDENTITY
    matter = _MATTER_E if eps is None else _MATTER_E + eps
    matter = matter - (np.trace(matter) / 3.0) * _IDENTITY
    if antineutrino:
        k = np.conj(k)
        matter = -np.conj(matter)
    return k, v * matter


_IDENTITY = np.eye(3)
_MATTER_E = np.diag([1.0 + 0j, 0.0, 0.0])


def _broadcast_shape(point_shape: tuple, kinematic_shape: tuple) -> tuple:
    try:
        return np.broadcast_shapes(point_shape, kinematic_shape)
    except ValueError:
        raise ValueError(f"params/eps batch shape {point_shape} does not broadcast against the shape "
                         f"{kinematic_shape} of energy_gev, baseline_km, density_gcc, electron_fraction; "
                         "give parameter points their own leading axes, e.g. (n_points, 1)") from None

