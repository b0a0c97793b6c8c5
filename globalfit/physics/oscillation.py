"""Three-flavour oscillation probabilities in matter with NSI.

Public entry points::

    P = probabilities(energy_gev, baseline_km, density_gcc, params, eps=None,
                      antineutrino=False, electron_fraction=0.5)
    # P[..., a, b] = P(nu_a -> nu_b), flavour order (e, mu, tau)
    S = evolution_operator(energy_gev, layers, params, eps=None, antineutrino=False)
    # S[..., b, a] = amplitude(nu_a -> nu_b)
    P = probabilities_layers(energy_gev, layers, params, eps=None, antineutrino=False)

Hamiltonian (physics.md section 1, eV)::

    H_nu    = U diag(0, dm21, dm31) U^dag / (2E) + V_CC (diag(1, 0, 0) + eps)
    H_nubar = conj(U diag(0, dm21, dm31) U^dag / (2E) - V_CC (diag(1, 0, 0) + eps))

with ``V_CC = sqrt(2) G_F N_e`` (``MATTER_POTENTIAL_EV_PER_GCC * Y_e * rho``).

Algorithm (docs/oscillation.md): the traceless part ``T`` of ``H L`` (dimensionless) has
eigenvalues from the trigonometric (Viete-Cardano) solution of ``l^3 - a l - b = 0`` with
``a = tr(T^2)/2``, ``b = det T``; the evolution operator follows from the Lagrange
(Sylvester) formula ``exp(-i T) = A0 + A1 T + A2 T^2`` without eigenvectors. Because
``T = w K + M`` is linear in ``w = L/(2E)`` (``K``: vacuum mass matrix, ``M``: matter
term), ``a``, ``b`` and the entries of ``T`` and ``T^2`` are polynomials in ``w`` whose
coefficients depend on the parameter point only; they are formed once per point. Where
two eigenvalues nearly coincide (the formula divides by their difference) the points
are recomputed with ``numpy.linalg.eigh``, which is also the test oracle
(`probabilities_eigh`).

``probabilities`` computes four moduli ``|S_ee|^2, |S_mue|^2, |S_emu|^2, |S_mumu|^2`` and
completes the matrix by unitarity (rows and columns of ``|S|^2`` sum to one for a unitary
``S``), as NuFast does; `evolution_operator` returns the full complex ``S``.
"""
from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from globalfit.physics.constants import EV, KM_IN_PER_GEV, MATTER_POTENTIAL_EV_PER_GCC

PARAMETER_NAMES = ("th12", "th13", "th23", "dcp", "dm21", "dm31")

LENGTH_EV_INV_PER_KM = KM_IN_PER_GEV * EV
"""eV^-1 in one km (about 5.068e9)."""

BLOCK_SIZE = 16384
"""Elements per block of the closed-form kernel: large enough that numpy's per-call overhead
(about 1 us) is small, small enough that the ~40 scratch arrays stay near the cache."""

DEGENERACY_COS_TOL = 3.0e-7
"""Points with ``|cos(3 theta)| > 1 - DEGENERACY_COS_TOL`` (relative gap of the two
closest eigenvalues below about 1e-3 of ``sqrt(tr T^2 / 6)``) go to ``eigh``."""

_SQRT3 = float(np.sqrt(3.0))


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
    if np.any(y_e > 1.0):
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


# --------------------------------------------------------------------------------------
# closed form: eigenvalues (Viete) and Lagrange coefficients
# --------------------------------------------------------------------------------------
class _Workspace:
    """Named scratch arrays reused across blocks.

    Allocating fresh temporaries for every numpy operation makes the allocator return
    memory to the system and fault it back in (2 MiB transparent huge pages here), which
    cost several times the arithmetic; one set of buffers per call avoids that.
    """

    def __init__(self, shape: tuple):
        self.shape = shape
        self._arrays: dict[str, np.ndarray] = {}

    def __call__(self, name: str, lead: tuple = (), dtype=float) -> np.ndarray:
        array = self._arrays.get(name)
        if array is None:
            array = self._arrays[name] = np.empty(lead + self.shape, dtype=dtype)
        return array

    def raw(self, name: str, shape: tuple) -> np.ndarray:
        """A scratch array of an explicit shape."""
        array = self._arrays.get(name)
        if array is None:
            array = self._arrays[name] = np.empty(shape)
        return array


_LOCAL = threading.local()
WORKSPACE_CACHE_SIZE = 8
"""Block shapes whose scratch arrays are kept between calls (per thread)."""


def _workspace(shape: tuple) -> _Workspace:
    """The thread's `_Workspace` for ``shape``, reused across calls: fresh scratch memory
    for every call costs page faults (about 40 arrays per block) and ~100 us per call."""
    cache = getattr(_LOCAL, "workspaces", None)
    if cache is None:
        cache = _LOCAL.workspaces = OrderedDict()
    ws = cache.get(shape)
    if ws is None:
        ws = cache[shape] = _Workspace(shape)
        if len(cache) > WORKSPACE_CACHE_SIZE:
            cache.popitem(last=False)
    else:
        cache.move_to_end(shape)
    return ws


def _lagrange_coefficients(a_third, b_half, ws: _Workspace):
    """``exp(-i T) = A0 + A1 T + A2 T^2`` for traceless Hermitian ``T``.

    Parameters
    ----------
    a_third : ndarray
        ``tr(T^2) / 6`` (= a/3 in ``l^3 - a l - b = 0``).
    b_half : ndarray
        ``det(T) / 2``.
    ws : _Workspace
        Scratch arrays of the broadcast shape.

    Returns
    -------
    (E, A1, A2, regular)
        ``E = sum_k exp(-i l_k) / 3``, ``A1``, ``A2``, each of shape ``(2,) + shape``
        holding (real, imaginary) parts; ``A0 = E - (2 a / 3) A2``. ``regular`` is False
        where the two closest eigenvalues nearly coincide (or ``T = 0``): the coefficients
        are invalid there.

    Notes
    -----
    Eigenvalues ``l_k = 2 r cos(theta - 2 pi k / 3)``, ``r = sqrt(a/3)``,
    ``cos(3 theta) = b / (2 r^3)``; ``cos`` and ``sin`` of ``theta`` and of the phases
    come from ``tan`` of half angles (numpy's vectorised ``tan`` is several times faster
    than ``sin``/``cos`` here); ``exp(-i l_2) = conj(exp(-i l_0) exp(-i l_1))`` since
    ``sum l_k = 0``. ``A2 = sum c_k``, ``A1 = sum c_k l_k``,
    ``A0 = sum_k exp(-i l_k) / 3 - (2 a / 3) A2`` with ``c_k = exp(-i l_k) / (3 l_k^2 - a)``.
    Quantities indexed by ``k`` or by (real, imaginary) are stacked on leading axes and
    outputs are passed positionally: on a block of ten thousand numbers numpy's per-call
    overhead is comparable to the arithmetic, so the number of calls matters.
    """
    mul, add, sub, div = np.multiply, np.add, np.subtract, np.divide
    tmp = ws("tmp")
    r = np.sqrt(a_third, ws("r"))
    cos_3theta = mul(r, a_third, ws("cos3"))
    div(b_half, cos_3theta, cos_3theta)
    regular = np.less(np.abs(cos_3theta, tmp), 1.0 - DEGENERACY_COS_TOL, ws("regular", dtype=bool))
    t = np.arccos(cos_3theta, ws("t"))
    mul(t, 1.0 / 6.0, t)
    np.tan(t, t)                                       # tan(theta / 2)
    cos_theta = mul(t, t, ws("cos_theta"))
    add(cos_theta, 1.0, cos_theta)
    div(2.0, cos_theta, cos_theta)
    sin_theta = mul(cos_theta, t, t)
    sub(cos_theta, 1.0, cos_theta)
    rc = mul(r, cos_theta, ws("rc"))                   # l0 / 2
    rs = mul(r, sin_theta, ws("rs"))
    mul(rs, _SQRT3, rs)
    lam = ws("lambda", (3,))
    add(rc, rc, lam[0])
    sub(rs, rc, lam[1])
    add(lam[0], lam[1], lam[2])
    np.negative(lam[2], lam[2])
    # exp(-i l_k) / 3 = (re_k + i im_k) / 3 from tau = tan(-l_k / 2), k = 0, 1:
    # re/3 = (2/3) / (1 + tau^2) - 1/3, im/3 = (2/3) tau / (1 + tau^2)
    half = ws("half", (2,))
    np.negative(rc, half[0])
    mul(lam[1], -0.5, half[1])
    np.tan(half, half)
    scratch = ws("scratch", (12,))                     # phases and weighted; reused by the caller
    phases = scratch[:6].reshape((2, 3) + scratch.shape[1:])   # [re, im][k], all divided by 3
    re, im = phases[0], phases[1]
    mul(half, half, re[:2])
    add(re[:2], 1.0, re[:2])
    div(2.0 / 3.0, re[:2], re[:2])
    mul(re[:2], half, im[:2])
    sub(re[:2], 1.0 / 3.0, re[:2])
    # k = 2: exp(-i l_2) = conj(exp(-i l_0) exp(-i l_1)); the factor 3 restores the 1/3 scale
    mul(re[0], re[1], re[2])
    sub(re[2], mul(im[0], im[1], tmp), re[2])
    mul(re[2], 3.0, re[2])
    mul(re[0], im[1], im[2])
    add(im[2], mul(im[0], re[1], tmp), im[2])
    mul(im[2], -3.0, im[2])
    e_mean = add(phases[:, 0], phases[:, 1], ws("e_mean", (2,)))
    add(e_mean, phases[:, 2], e_mean)
    # c_k = exp(-i l_k) / (3 l_k^2 - a) = (exp(-i l_k) / 3) / (l_k^2 - a/3), overwriting the phases
    inverse = mul(lam, lam, ws("inverse", (3,)))
    sub(inverse, a_third, inverse)
    div(1.0, inverse, inverse)
    mul(phases, inverse, phases)
    a2 = add(phases[:, 0], phases[:, 1], ws("a2", (2,)))
    add(a2, phases[:, 2], a2)
    weighted = mul(phases, lam, scratch[6:].reshape((2, 3) + scratch.shape[1:]))
    a1 = add(weighted[:, 0], weighted[:, 1], ws("a1", (2,)))
    add(a1, weighted[:, 2], a1)
    return e_mean, a1, a2, regular


# --------------------------------------------------------------------------------------
# fast probabilities: polynomial coefficients per point, blocks of energies x points
# --------------------------------------------------------------------------------------
def _coefficient_table(k: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Coefficients in ``w`` of the quantities the kernel needs, ``T = w K + M``.

    Returns
    -------
    ndarray, shape ``(10, 4) + batch``
        Row ``r``, column ``j``: coefficient of ``w^(3 - j)`` of, by row, ``T_ee, T_mumu,
        Re T_mue, Im T_mue`` (rows 0-3), ``a/3 = tr(T^2)/6`` (4), ``(T^2)_ee - 2a/3,
        (T^2)_mumu - 2a/3, Re (T^2)_mue, Im (T^2)_mue`` (5-8) and ``b/2 = det(T)/2`` (9).
        ``det(wK + M) = w^3 det K + w^2 tr(K^2 M) + w tr(K M^2) + det M`` for traceless
        ``K, M`` (Cayley-Hamilton: ``adj X = X^2 - tr(X^2)/2``), ``det X = tr(X^3)/3``.
    """
    k, m = np.broadcast_arrays(k, m)
    mm = m @ m
    x = np.stack((k, m, k @ k, k @ m + m @ k, mm), axis=-3)       # K, M, then T^2 by powers w^2, w, 1
    d = x[..., _ENTRY_ROWS, _ENTRY_COLUMNS]                           # batch + (5, 3): ee, mumu, mue
    table = np.zeros(d.shape[:-2] + (10, 4))
    a_third = (d[..., 2:, 0].real + d[..., 2:, 1].real + x[..., 2:, 2, 2].real) / 6.0
    table[..., 0:2, 2:4] = np.swapaxes(d[..., 0:2, 0:2].real, -1, -2)
    table[..., 2, 2:4] = d[..., 0:2, 2].real
    table[..., 3, 2:4] = d[..., 0:2, 2].imag
    table[..., 4, 1:4] = a_third
    table[..., 5:7, 1:4] = np.swapaxes(d[..., 2:, 0:2].real, -1, -2) - 2.0 * a_third[..., None, :]
    table[..., 7, 1:4] = d[..., 2:, 2].real
    table[..., 8, 1:4] = d[..., 2:, 2].imag
    # tr(K^2 K), tr(K^2 M), tr(K M^2), tr(M^2 M) as sums of elementwise products with the transpose
    products = x[..., _CUBIC_LEFT, :, :] * np.swapaxes(x[..., _CUBIC_RIGHT, :, :], -1, -2)
    table[..., 9, :] = products.real.sum(axis=(-2, -1)) * _CUBIC_WEIGHTS
    return np.moveaxis(table, (-2, -1), (0, 1))


_ENTRY_ROWS, _ENTRY_COLUMNS = np.array([0, 1, 1]), np.array([0, 1, 0])
_CUBIC_LEFT, _CUBIC_RIGHT = np.array([2, 2, 0, 4]), np.array([0, 1, 4, 1])
_CUBIC_WEIGHTS = np.array([1 / 6, 1 / 2, 1 / 2, 1 / 6])


def _kernel_coefficients(table: np.ndarray) -> tuple:
    """``(linear, quadratic, cubic)`` for `_block_probabilities`: shapes ``(2, 4)``,
    ``(3, 5)``, ``(4,)`` (then batch), highest power first."""
    return (np.swapaxes(table[0:4, 2:4], 0, 1), np.swapaxes(table[4:9, 1:4], 0, 1), table[9])


def _poly(c, w, out):
    """Horner: ``c[0] w^(n-1) + ... + c[n-1]`` into ``out`` (``c`` stacked on axis 0)."""
    np.multiply(c[0], w, out)
    for j in range(1, len(c) - 1):
        np.add(out, c[j], out)
        np.multiply(out, w, out)
    np.add(out, c[-1], out)
    return out


def _block_probabilities(w, linear, quadratic, cubic, planes, ws: _Workspace) -> np.ndarray:
    """Fill ``planes[a, b, ...] = P(a -> b)`` for one block; returns the regular-point mask."""
    mul, add, sub = np.multiply, np.add, np.subtract
    lin = _poly(linear, w, ws("linear", (4,)))          # T_ee, T_mumu, x, y (T_mue = x + i y)
    quad = _poly(quadratic, w, ws("quadratic", (5,)))   # a/3, Q_ee, Q_mumu, qr, qi (Q = T^2)
    b_half = _poly(cubic, w, ws("b_half"))
    e_mean, a1, a2, regular = _lagrange_coefficients(quad[0], b_half, ws)
    e_, a1_, a2_ = e_mean[:, None], a1[:, None], a2[:, None]
    # diagonal: S_aa = A0 + A1 T_aa + A2 Q_aa = E + A1 T_aa + A2 (Q_aa - 2a/3), the last
    # polynomial prepared per point; stacked [re, im] x [ee, mumu]
    scratch = ws("scratch", (12,))                     # free after the Lagrange coefficients
    pair = (2, 2) + scratch.shape[1:]
    diag = mul(a1_, lin[:2], scratch[0:4].reshape(pair))
    add(diag, e_, diag)
    second = mul(a2_, quad[1:3], scratch[4:8].reshape(pair))
    add(diag, second, diag)
    mul(diag, diag, diag)
    add(diag[0, 0], diag[1, 0], planes[0, 0, ...])
    add(diag[0, 1], diag[1, 1], planes[1, 1, ...])
    # off-diagonal: u = A1 [x, y] + A2 [qr, qi] = [[u1, u4], [u3, u2]];
    # S_mue = (u1 - u2) + i (u3 + u4), S_emu = S_mue with conj(T), conj(Q) = (u1 + u2) + i (u3 - u4)
    u = mul(a1_, lin[2:], scratch[8:12].reshape(pair))
    add(u, mul(a2_, quad[3:], second), u)
    np.negative(u[1, 1], u[1, 1])
    column, anti = u[:, 0], u[::-1, 1]                 # (u1, u3) and (-u2, u4)
    amplitudes = diag                                  # free again
    add(column, anti, amplitudes[0])
    sub(column, anti, amplitudes[1])
    mul(amplitudes, amplitudes, amplitudes)
    add(amplitudes[0, 0], amplitudes[0, 1], planes[0, 1, ...])
    add(amplitudes[1, 0], amplitudes[1, 1], planes[1, 0, ...])
    # the rest by unitarity of S: rows and columns of |S|^2 sum to one
    sub(1.0, planes[0:2, 0, ...], planes[0:2, 2, ...])
    sub(planes[0:2, 2, ...], planes[0:2, 1, ...], planes[0:2, 2, ...])
    sub(1.0, planes[0, 0:2, ...], planes[2, 0:2, ...])
    sub(planes[2, 0:2, ...], planes[1, 0:2, ...], planes[2, 0:2, ...])
    sub(1.0, planes[2, 0, ...], planes[2, 2, ...])
    sub(planes[2, 2, ...], planes[2, 1, ...], planes[2, 2, ...])
    return regular


def _blocks(shape: tuple, block_size: int):
    """Index tuples covering ``shape`` in blocks of about ``block_size`` elements."""
    if len(shape) == 0:
        yield ()
        return
    trailing = 1
    split = len(shape) - 1
    while split > 0 and trailing * shape[split] <= block_size:
        trailing *= shape[split]
        split -= 1
    if trailing * shape[split] <= block_size:
        yield (slice(None),) * len(shape)
        return
    rows = max(1, block_size // trailing)
    chunks = -(-shape[split] // rows)
    rows = -(-shape[split] // chunks)          # equal chunks: no small remainder block
    for lead in np.ndindex(*shape[:split]):
        for start in range(0, shape[split], rows):
            yield lead + (slice(start, start + rows),)


def _index_operand(operand: np.ndarray, index: tuple, ndim: int, leading: int = 0):
    """Slice a broadcastable operand with a block index of the full shape."""
    shape = operand.shape[leading:]
    pad = ndim - len(shape)
    view = operand.reshape(operand.shape[:leading] + (1,) * pad + shape)
    full = []
    for axis, item in enumerate(index):
        size = view.shape[leading + axis]
        if isinstance(item, slice):
            full.append(item if size != 1 else slice(None))
        else:
            full.append(item if size != 1 else 0)
    return view[(slice(None),) * leading + tuple(full)]


def _eigh_operator(t: np.ndarray) -> np.ndarray:
    """``exp(-i T)`` by ``eigh`` (the oracle); ``t`` dimensionless Hermitian ``(..., 3, 3)``."""
    values, vectors = np.linalg.eigh(t)
    return (vectors * np.exp(-1j * values)[..., None, :]) @ np.conj(np.swapaxes(vectors, -1, -2))


def probabilities(energy_gev: ArrayLike, baseline_km: ArrayLike, density_gcc: ArrayLike, params: Mapping,
                  eps: ArrayLike | None = None, antineutrino: bool = False,
                  electron_fraction: ArrayLike = 0.5, *, out: np.ndarray | None = None) -> np.ndarray:
    """Oscillation probabilities at constant density.

    Parameters
    ----------
    energy_gev : array_like
        Neutrino energy in GeV (> 0), any shape.
    baseline_km : array_like
        Baseline in km (>= 0).
    density_gcc : array_like
        Matter density in g/cm^3 (>= 0).
    params : mapping
        ``th12, th13, th23, dcp`` (rad), ``dm21, dm31`` (eV^2, ``dm31 < 0``: inverted
        ordering). Values may be arrays with leading batch axes (parameter points).
    eps : (..., 3, 3) complex Hermitian or None
        NSI matrix in units of ``V_CC`` (``Couplings.eps_matter(y_n)``); a batch of them
        broadcasts like the parameters.
    antineutrino : bool
        Antineutrinos (``H -> conj(H_vac - H_mat)``).
    electron_fraction : array_like
        ``Y_e`` in [0, 1].
    out : ndarray, optional (keyword only)
        Float array of the result's shape to write into, typically the result of an
        earlier call with the same shapes (reusing it avoids faulting in fresh memory,
        about 8 ns per element for large batches).

    Returns
    -------
    ndarray, shape ``broadcast(params, eps[..., 0, 0], energy, baseline, density, Y_e) + (3, 3)``
        ``P[..., a, b] = P(nu_a -> nu_b)``, flavours ``(e, mu, tau)`` (``out`` if given).

    Notes
    -----
    Closed-form evaluation (module docstring); points with nearly degenerate eigenvalues
    are recomputed with ``eigh``. Agreement with ``eigh``: about 1e-13 typically, 1e-12
    for phases of thousands of radians, below 1e-10 next to the fallback threshold.
    Entries completed by unitarity may be ``-1e-16`` instead of zero.

    The result is a view of ``(3, 3) + shape`` contiguous planes moved to the last two
    axes (so ``P[..., 0, 1]`` is contiguous); use ``np.ascontiguousarray`` if a
    C-ordered array is needed.
    """
    path = ConstantDensityPath(energy_gev, baseline_km, density_gcc, electron_fraction)
    return path.probabilities(params, eps, antineutrino, out=out)


COMPACT_MAX_SIZE = 512
"""Largest number of energies for which one parameter point goes through the compact
kernel (`_compact_probabilities`: ~25 numpy calls) instead of the blocked one (~75 calls,
fewer operations per element)."""


class ConstantDensityPath:
    """Energies, baseline and matter validated once; probabilities per parameter point.

    Parameters
    ----------
    energy_gev, baseline_km, density_gcc, electron_fraction
        As in `probabilities`; they broadcast against each other.

    Notes
    -----
    ``path.probabilities(params, eps, antineutrino)`` equals `probabilities` with the same
    arguments. A single parameter point (six scalars, ``eps`` one matrix or None) on a
    scalar baseline and density takes a fast path: per-point quantities with scalar math,
    the polynomial coefficients in ``w`` evaluated by one matrix product with the powers of
    ``w`` prepared here, and, up to `COMPACT_MAX_SIZE` energies, the compact kernel.
    """

    def __init__(self, energy_gev: ArrayLike, baseline_km: ArrayLike, density_gcc: ArrayLike,
                 electron_fraction: ArrayLike = 0.5):
        self.w, self.v = _kinematics(energy_gev, baseline_km, density_gcc, electron_fraction)
        self._powers = None

    def probabilities(self, params: Mapping, eps: ArrayLike | None = None, antineutrino: bool = False,
                      *, out: np.ndarray | None = None) -> np.ndarray:
        """``P[..., a, b] = P(nu_a -> nu_b)`` for ``params`` (see `probabilities`)."""
        if not isinstance(params, Mapping):
            raise ValueError(f"params: expected a mapping with keys {PARAMETER_NAMES}, got {type(params).__name__}")
        missing = [k for k in PARAMETER_NAMES if k not in params]
        if missing:
            raise ValueError(f"params: missing keys {missing}; required: {PARAMETER_NAMES}")
        eps = _nsi_matrix(eps)
        point = _single_point(params, eps) if self.v.ndim == 0 else None
        if point is None:
            return self._general(_parameters(params), eps, antineutrino, out)
        k, m = _point_matrices(point, eps, antineutrino, float(self.v))
        table = _coefficient_table(k, m)
        w = self.w
        shape = w.shape or (1,)
        planes = _output_planes(out, shape, w.ndim == 0)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):   # degenerate points: NaN, replaced
            if w.size <= COMPACT_MAX_SIZE:
                flat = planes.reshape(3, 3, -1)           # a view unless ``out`` is strided
                _compact_probabilities(self._w_powers(), w.reshape(-1), table, k, m, flat)
                if not np.may_share_memory(flat, planes):
                    planes[...] = flat.reshape(planes.shape)
            else:
                _fill_blocks(shape, w.reshape(shape), _kernel_coefficients(table), k, m, planes)
        if out is not None:
            return out
        return planes[..., 0] if w.ndim == 0 else np.moveaxis(planes, (0, 1), (-2, -1))

    def _w_powers(self) -> np.ndarray:
        """``(w^3, w^2, w, 1)`` stacked, shape ``(4, n_energies)`` (prepared on first use)."""
        if self._powers is None:
            w = self.w.reshape(-1)
            self._powers = np.stack([w**3, w**2, w, np.ones_like(w)])
        return self._powers

    def _general(self, p: dict, eps, antineutrino: bool, out) -> np.ndarray:
        w, v = self.w, self.v
        k, m = _phase_matrices(p, eps, antineutrino, v)
        coefficients = _kernel_coefficients(_coefficient_table(k, m))
        shape = _broadcast_shape(coefficients[2].shape[1:], w.shape)
        k, m = np.broadcast_arrays(k, m)
        scalar = shape == ()
        if scalar:                               # the kernel indexes stacked buffers: work on shape (1,)
            shape, w, k, m = (1,), w.reshape(1), k[None], m[None]
            coefficients = tuple(c[..., None] for c in coefficients)
        planes = _output_planes(out, shape, scalar)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):   # degenerate points: NaN, replaced below
            _fill_blocks(shape, w, coefficients, k, m, planes)
        if out is not None:
            return out
        return planes[..., 0] if scalar else np.moveaxis(planes, (0, 1), (-2, -1))


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
_THIRDS = np.array([0.0, -2.0 * np.pi / 3.0, 2.0 * np.pi / 3.0])[:, None]


def _output_planes(out: np.ndarray | None, shape: tuple, scalar: bool) -> np.ndarray:
    """``(3, 3) + shape`` planes: fresh and contiguous, or a view of ``out``."""
    if out is None:
        return np.empty((3, 3) + shape)   # contiguous planes: no strided writes in the kernel
    expected = (() if scalar else shape) + (3, 3)
    if not isinstance(out, np.ndarray) or out.shape != expected or out.dtype != np.float64:
        raise ValueError(f"out: expected a float64 array of shape {expected}, got "
                         f"{getattr(out, 'shape', type(out).__name__)} {getattr(out, 'dtype', '')}")
    planes = np.moveaxis(out, (-2, -1), (0, 1))
    return planes[..., None] if scalar else planes


def _broadcast_shape(point_shape: tuple, kinematic_shape: tuple) -> tuple:
    try:
        return np.broadcast_shapes(point_shape, kinematic_shape)
    except ValueError:
        raise ValueError(f"params/eps batch shape {point_shape} does not broadcast against the shape "
                         f"{kinematic_shape} of energy_gev, baseline_km, density_gcc, electron_fraction; "
                         "give parameter points their own leading axes, e.g. (n_points, 1)") from None


def _fill_blocks(shape, w, coefficients, k, m, planes) -> None:
    ndim = len(shape)
    for index in _blocks(shape, BLOCK_SIZE):
        planes_block = planes[(slice(None), slice(None)) + index]
        ws = _workspace(planes_block.shape[2:])
        w_block = _index_operand(w, index, ndim)
        linear, quadratic, cubic = (_index_operand(c, index, ndim, leading=lead)
                                    for c, lead in zip(coefficients, (2, 2, 1)))
        regular = _block_probabilities(w_block, linear, quadratic, cubic, planes_block, ws)
        if not regular.all():
            _fallback(~regular, w_block, k, m, index, ndim, planes_block)


def _fallback(mask, w_block, k, m, index, ndim, planes_block) -> None:
    """Recompute the masked points of a block with ``eigh``."""
    block_shape = mask.shape
    w_sel = np.broadcast_to(w_block, block_shape)[mask]
    k_sel = np.broadcast_to(_index_operand(k, index + (slice(None),) * 2, ndim + 2), block_shape + (3, 3))[mask]
    m_sel = np.broadcast_to(_index_operand(m, index + (slice(None),) * 2, ndim + 2), block_shape + (3, 3))[mask]
    s = _eigh_operator(w_sel[:, None, None] * k_sel + m_sel)
    planes_block[:, :, mask] = np.moveaxis(np.abs(s) ** 2, 0, -1).swapaxes(0, 1)


def _compact_probabilities(powers, w, table, k, m, planes) -> None:
    """All nine probabilities of one point at ``n`` energies with few numpy calls.

    ``powers``: ``(w^3, w^2, w, 1)`` shape ``(4, n)``; ``table``: `_coefficient_table` of
    the point ``(10, 4)``; ``planes``: output ``(3, 3, n)``. Same closed form as
    `_block_probabilities` with complex arithmetic on stacked rows: eigenvalues
    ``l_k = 2 r cos(theta - 2 pi k / 3)``, ``c_k = exp(-i l_k) / (3 l_k^2 - a)``,
    ``S = E + A1 T + A2 (T^2 - 2a/3)`` on the diagonal, ``A1 T + A2 T^2`` off it.
    """
    a_third, b_half = table[_INVARIANT_ROWS] @ powers
    entries = (table[_ENTRY_REAL] + table[_ENTRY_IMAGINARY] * _ENTRY_SIGN) @ powers   # T_ee, T_mumu, T_mue, T_emu, Q...
    r = np.sqrt(a_third)
    cos_3theta = b_half / (r * a_third)
    regular = np.abs(cos_3theta) < 1.0 - DEGENERACY_COS_TOL
    eigenvalues = np.cos(np.arccos(cos_3theta) / 3.0 + _THIRDS) * (r + r)      # (3, n)
    phases = np.exp(eigenvalues * -1j)
    weights = phases / (eigenvalues * eigenvalues - a_third) / 3.0             # c_k
    a1 = np.einsum("kn,kn->n", weights, eigenvalues)
    amplitude = weights.sum(axis=0) * entries[4:]                              # S_ee, S_mumu, S_mue, S_emu
    amplitude += a1 * entries[:4]
    amplitude[0:2] += phases.sum(axis=0) / 3.0
    squared = planes.reshape(9, -1)
    squared[_SQUARED_PLANES] = amplitude.real ** 2 + amplitude.imag ** 2
    # the rest by unitarity of S: rows and columns of |S|^2 sum to one
    np.subtract(1.0, planes[0:2, 0] + planes[0:2, 1], planes[0:2, 2])
    np.subtract(1.0, planes[0, 0:2] + planes[1, 0:2], planes[2, 0:2])
    np.subtract(1.0, planes[2, 0] + planes[2, 1], planes[2, 2])
    if not regular.all():
        _fallback(~regular, w, k, m, (slice(None),), 1, planes)


_INVARIANT_ROWS = np.array([4, 9])
_ENTRY_REAL = np.array([0, 1, 2, 2, 5, 6, 7, 7])
_ENTRY_IMAGINARY = np.array([0, 0, 3, 3, 0, 0, 8, 8])
_ENTRY_SIGN = np.array([0, 0, 1j, -1j, 0, 0, 1j, -1j])[:, None]
_SQUARED_PLANES = np.array([0, 4, 1, 3])    # (e, e), (mu, mu), (e, mu), (mu, e) of the 3 x 3 planes


# --------------------------------------------------------------------------------------
# full evolution operator (layers)
# --------------------------------------------------------------------------------------
def _operator_coefficients(k: np.ndarray, m: np.ndarray) -> tuple:
    """Coefficients in ``w`` of all of ``T = w K + M`` and ``T^2`` (Hermitian components).

    Returns
    -------
    (linear, quadratic, cubic)
        ``linear`` (2, 9, ...): ``T_00, T_11, T_22, Re T_01, Im T_01, Re T_02, Im T_02,
        Re T_12, Im T_12``; ``quadratic`` (3, 10, ...): ``a/3`` then the same components of
        ``T^2``; ``cubic`` (4, ...): ``det(T)/2``. Highest power first.
    """
    k, m = np.broadcast_arrays(k, m)
    kk, mm, km = k @ k, m @ m, k @ m
    mixed = km + m @ k

    def tr(x):
        return np.real(np.trace(x, axis1=-2, axis2=-1))

    def components(x):
        out = [x[..., a, a].real for a in range(3)]
        for a, b in ((0, 1), (0, 2), (1, 2)):
            out += [x[..., a, b].real, x[..., a, b].imag]
        return np.stack(out)

    linear = np.stack([components(k), components(m)])
    quadratic = np.stack([np.concatenate([[tr(kk) / 6.0], components(kk)]),
                          np.concatenate([[tr(km) / 3.0], components(mixed)]),
                          np.concatenate([[tr(mm) / 6.0], components(mm)])])
    cubic = np.stack([tr(kk @ k) / 6.0, tr(kk @ m) / 2.0, tr(k @ mm) / 2.0, tr(mm @ m) / 6.0])
    return linear, quadratic, cubic


_UPPER_PAIRS = ((0, 1), (0, 2), (1, 2))


def _layer_block(w, linear, quadratic, cubic, ws: _Workspace):
    """One layer's ``S = exp(-i T)`` on a block as real planes ``(2, 3, 3) + shape``."""
    mul, add, sub = np.multiply, np.add, np.subtract
    lin = _poly(linear, w, ws("op_linear", (9,)))
    quad = _poly(quadratic, w, ws("op_quadratic", (10,)))
    b_half = _poly(cubic, w, ws("b_half"))
    e_mean, a1, a2, regular = _lagrange_coefficients(quad[0], b_half, ws)
    a0 = mul(a2, quad[0], ws("a0", (2,)))              # A0 = E - (2a/3) A2
    mul(a0, -2.0, a0)
    add(a0, e_mean, a0)
    shape = ws.shape
    s = ws("layer", (2, 3, 3))
    diag = ws("op_diag", (2, 3))
    second = ws("op_second", (2, 3))
    mul(a1[:, None], lin[0:3], diag)
    add(diag, a0[:, None], diag)
    add(diag, mul(a2[:, None], quad[1:4], second), diag)
    for a in range(3):
        np.copyto(s[:, a, a], diag[:, a])
    # off-diagonal: u = A1 [x, y] + A2 [q, r] per upper pair (T_ab = x + i y, (T^2)_ab = q + i r)
    pairs = (3, 2) + shape
    u = mul(a1[:, None, None], lin[3:9].reshape(pairs), ws("op_u", (2, 3, 2)))
    add(u, mul(a2[:, None, None], quad[4:10].reshape(pairs), ws("op_u2", (2, 3, 2))), u)
    for p, (a, b) in enumerate(_UPPER_PAIRS):
        u1, u4, u3, u2 = u[0, p, 0], u[0, p, 1], u[1, p, 0], u[1, p, 1]
        sub(u1, u2, s[0, a, b])                        # S_ab = (u1 - u2) + i (u3 + u4)
        add(u3, u4, s[1, a, b])
        add(u1, u2, s[0, b, a])                        # S_ba: conjugated T, T^2
        sub(u3, u4, s[1, b, a])
    return s, regular


def _complex_matmul_into(a, b, out, tmp) -> None:
    """``out = a @ b`` for stacks of complex 3x3 matrices as real planes ``(2, 3, 3) + shape``;
    ``tmp`` has shape ``(3, 3) + shape``."""
    mul, add, sub = np.multiply, np.add, np.subtract
    out_re, out_im = out[0], out[1]
    for j in range(3):
        a_re, a_im = a[0][:, j, None], a[1][:, j, None]
        b_re, b_im = b[0][None, j], b[1][None, j]
        if j == 0:
            mul(a_re, b_re, out_re)
            mul(a_re, b_im, out_im)
        else:
            add(out_re, mul(a_re, b_re, tmp), out_re)
            add(out_im, mul(a_re, b_im, tmp), out_im)
        sub(out_re, mul(a_im, b_im, tmp), out_re)
        add(out_im, mul(a_im, b_re, tmp), out_im)


def _ordered_product(s, ws: _Workspace) -> np.ndarray:
    """``S_n ... S_2 S_1`` over the layer axis (axis 3) of planes ``(2, 3, 3, n) + shape``, by
    pairwise products: ``log2(n)`` batched rounds instead of ``n`` sequential ones."""
    n = s.shape[3]
    half = (n + 1) // 2
    buffers = (ws.raw("tree_a", (2, 3, 3, half) + s.shape[4:]), ws.raw("tree_b", (2, 3, 3, half) + s.shape[4:]))
    tmp = ws.raw("tree_tmp", (3, 3, half) + s.shape[4:])
    current, turn = s, 0
    while current.shape[3] > 1:
        n = current.shape[3]
        pairs = n // 2
        out = buffers[turn][:, :, :, :pairs + n % 2]
        _complex_matmul_into(current[:, :, :, 1:2 * pairs:2], current[:, :, :, 0:2 * pairs:2],   # later @ earlier
                             out[:, :, :, :pairs], tmp[:, :, :pairs])
        if n % 2:
            np.copyto(out[:, :, :, pairs], current[:, :, :, n - 1])
        current, turn = out, 1 - turn
    return current[:, :, :, 0]


LAYERED_BLOCK_SIZE = 32768
"""Layer x element products per block of `evolution_operator` (all layers of a block of
energies/points are evaluated in one pass, then multiplied pairwise)."""


def evolution_operator(energy_gev: ArrayLike, layers: Sequence, params: Mapping, eps: ArrayLike | None = None,
                       antineutrino: bool = False) -> np.ndarray:
    """Amplitudes through layered matter: ``S[..., b, a] = A(nu_a -> nu_b)``.

    Parameters
    ----------
    energy_gev : array_like
        Neutrino energy in GeV (> 0).
    layers : sequence of (length_km, density_gcc, electron_fraction)
        Constant-density layers in the order the neutrino crosses them
        (e.g. `globalfit.physics.matter.earth_layers`); ``S = S_n ... S_1``. Entries may be
        arrays broadcasting against the energies (e.g. one chord per nadir angle,
        `globalfit.physics.matter.earth_layers_batch`).
    params, eps, antineutrino
        As in `probabilities`.

    Returns
    -------
    ndarray, complex, shape ``broadcast + (3, 3)``
        The evolution operator including the overall phase ``exp(-i tr(H) L / 3)`` (a view
        of contiguous ``(3, 3) + shape`` planes, like `probabilities`).

    Notes
    -----
    The closed form of `probabilities` gives each layer's full operator
    ``A0 + A1 T + A2 T^2`` (all nine entries, no unitarity completion) for all layers of
    a block of energies at once; the ordered product is then taken pairwise. Degenerate
    points of a layer (e.g. zero length) are recomputed with ``eigh``.
    """
    p = _parameters(params)
    eps = _nsi_matrix(eps)
    if len(layers) == 0:
        raise ValueError("layers: need at least one (length_km, density_gcc, electron_fraction)")
    vacuum = vacuum_mass_matrix_ev2(p)
    trace_k = np.real(np.trace(vacuum, axis1=-2, axis2=-1))
    trace_matter = np.real(np.trace(_matter_matrix(eps), axis1=-2, axis2=-1))
    sign = -1.0 if antineutrino else 1.0
    k, m_unit = _phase_matrices(p, eps, antineutrino, np.ones(()))     # M = v * m_unit per layer
    energy = _as_float_array(energy_gev, "energy_gev", strictly_positive=True)
    length_all, density_all, y_e_all = _layer_columns(layers)
    shape = np.broadcast_shapes(k.shape[:-2], m_unit.shape[:-2])
    for array in (energy, length_all[0], density_all[0], y_e_all[0]):
        shape = _broadcast_shape(shape, array.shape)
    scalar = shape == ()
    if scalar:
        shape = (1,)
    ndim = len(shape)
    # leading layer axis, all other axes right-aligned to ``shape``
    length_ev_inv = _pad_layers(length_all, ndim) * LENGTH_EV_INV_PER_KM
    w_all = length_ev_inv * (0.5 * EV) / _broadcast_pad(energy, ndim)
    v_all = (MATTER_POTENTIAL_EV_PER_GCC * _pad_layers(y_e_all, ndim) * _pad_layers(density_all, ndim)) * length_ev_inv
    coefficients = _scale_by_matter(_operator_coefficients(k, m_unit), v_all, ndim)
    m_all = v_all[..., None, None] * m_unit
    phase = (w_all.sum(axis=0) * _broadcast_pad(trace_k, ndim)
             + sign * v_all.sum(axis=0) * _broadcast_pad(trace_matter, ndim)) / 3.0
    planes = np.empty((2, 3, 3) + shape)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):   # degenerate points replaced below
        _fill_operator_blocks(shape, len(layers), w_all, coefficients, k, m_all, planes)
    result = np.empty((3, 3) + shape, dtype=complex)
    result[...] = (planes[0] + 1j * planes[1]) * np.exp(-1j * np.broadcast_to(phase, shape))
    result = np.moveaxis(result, (0, 1), (-2, -1))
    return result[0] if scalar else result


def _layer_columns(layers: Sequence) -> tuple:
    """Validated ``(length_km, density_gcc, electron_fraction)``, each stacked with a
    leading layer axis (entries broadcast against each other)."""
    columns = ([], [], [])
    for number, layer in enumerate(layers):
        if len(layer) != 3:
            raise ValueError(f"layers[{number}]: expected (length_km, density_gcc, electron_fraction), got {layer!r}")
        for column, value in zip(columns, layer):
            column.append(np.asarray(value, float))
    try:
        length, density, y_e = (np.stack(np.broadcast_arrays(*column)) for column in columns)
    except ValueError:
        raise ValueError("layers: entries of different layers do not broadcast against each other") from None
    length = _as_float_array(length, "layers: length_km", minimum=0.0)
    density = _as_float_array(density, "layers: density_gcc", minimum=0.0)
    y_e = _as_float_array(y_e, "layers: electron_fraction", minimum=0.0)
    if np.any(y_e > 1.0):
        raise ValueError(f"layers: electron_fraction must lie in [0, 1], got maximum {y_e.max()!r}")
    return length, density, y_e


def _pad_layers(array: np.ndarray, ndim: int) -> np.ndarray:
    """``(n_layers,) + S`` -> ``(n_layers,) + (1, ...) + S`` with ``ndim`` trailing axes."""
    return array.reshape(array.shape[:1] + (1,) * (ndim + 1 - array.ndim) + array.shape[1:])


def _scale_by_matter(base: tuple, v_all: np.ndarray, ndim: int) -> tuple:
    """Per-layer coefficients for ``M = v * m_unit`` from those for ``m_unit``.

    In ``T = wK + M`` a term of degree ``j`` in ``M`` scales as ``v^j`` (linear rows: K, M;
    quadratic: K^2, KM + MK, M^2; cubic: K^3, K^2 M, K M^2, M^3). ``v_all`` has shape
    ``(n_layers,) + V`` with ``V`` of ``ndim`` axes; the result has the layer axis right
    after the component axes.
    """
    scaled = []
    for coefficients, n_components in zip(base, (1, 1, 0)):
        component = coefficients.shape[1:1 + n_components]
        batch = coefficients.shape[1 + n_components:]
        rows = [coefficients[j].reshape(component + (1,) * (1 + ndim - len(batch)) + batch)
                * (v_all**j).reshape((1,) * n_components + v_all.shape)
                for j in range(coefficients.shape[0])]
        scaled.append(np.stack(np.broadcast_arrays(*rows)))
    return tuple(scaled)


def _broadcast_pad(array, ndim: int) -> np.ndarray:
    array = np.asarray(array)
    return array.reshape((1,) * (ndim - array.ndim) + array.shape)


SEQUENTIAL_BLOCK_SIZE = 4096
"""Elements per block when layers are multiplied one after the other (large batches)."""


def _fill_operator_blocks(shape, n_layers, w_all, coefficients, k, m_all, planes) -> None:
    """Small batches: all layers of a block at once, then pairwise products (few numpy
    calls). Large batches: one layer after the other on cache-sized blocks."""
    ndim = len(shape)
    size = int(np.prod(shape))
    all_layers = size * n_layers <= LAYERED_BLOCK_SIZE or size < 1024
    block_size = max(1, LAYERED_BLOCK_SIZE // n_layers) if all_layers else SEQUENTIAL_BLOCK_SIZE
    for index in _blocks(shape, block_size):
        planes_block = planes[(slice(None),) * 3 + index]
        block_shape = planes_block.shape[3:]
        if all_layers:
            block_shape = (n_layers,) + block_shape
        ws = _workspace(block_shape)
        if all_layers:
            layered = (slice(None),) + index
            s = _layer_operators(layered, ndim + 1, w_all, coefficients, k, m_all, ws)
            np.copyto(planes_block, _ordered_product(s, ws))
            continue
        total, spare = ws("total", (2, 3, 3)), ws("spare", (2, 3, 3))
        tmp = ws("product", (3, 3))
        for layer in range(n_layers):
            layered = (layer,) + index
            s = _layer_operators(layered, ndim + 1, w_all, coefficients, k, m_all, ws)
            if layer == 0:
                np.copyto(total, s)
            else:
                _complex_matmul_into(s, total, spare, tmp)
                total, spare = spare, total
        np.copyto(planes_block, total)


def _layer_operators(layered, ndim, w_all, coefficients, k, m_all, ws):
    """Closed-form layer operators at a (layer, block) index, eigh where degenerate."""
    w_block = _index_operand(w_all, layered, ndim)
    linear, quadratic, cubic = (_index_operand(c, layered, ndim, leading=lead)
                                for c, lead in zip(coefficients, (2, 2, 1)))
    s, regular = _layer_block(w_block, linear, quadratic, cubic, ws)
    if not regular.all():
        _operator_fallback(~regular, w_block, k, m_all, layered, ndim, s)
    return s


def _operator_fallback(mask, w_block, k, m, index, ndim, s) -> None:
    """Recompute one layer's operator at the masked points with ``eigh``."""
    block_shape = mask.shape
    w_sel = np.broadcast_to(w_block, block_shape)[mask]
    k_sel = np.broadcast_to(_index_operand(k, index + (slice(None),) * 2, ndim + 2), block_shape + (3, 3))[mask]
    m_sel = np.broadcast_to(_index_operand(m, index + (slice(None),) * 2, ndim + 2), block_shape + (3, 3))[mask]
    exact = np.moveaxis(_eigh_operator(w_sel[:, None, None] * k_sel + m_sel), 0, -1)
    s[0][:, :, mask] = exact.real
    s[1][:, :, mask] = exact.imag


def probabilities_layers(energy_gev: ArrayLike, layers: Sequence, params: Mapping, eps: ArrayLike | None = None,
                         antineutrino: bool = False) -> np.ndarray:
    """``P[..., a, b] = |S[..., b, a]|^2`` through layered matter (see `evolution_operator`)."""
    s = evolution_operator(energy_gev, layers, params, eps, antineutrino)
    return np.abs(np.swapaxes(s, -1, -2)) ** 2


def probabilities_eigh(energy_gev: ArrayLike, baseline_km: ArrayLike, density_gcc: ArrayLike, params: Mapping,
                       eps: ArrayLike | None = None, antineutrino: bool = False,
                       electron_fraction: ArrayLike = 0.5) -> np.ndarray:
    """Reference probabilities by batched ``numpy.linalg.eigh`` (the test oracle)."""
    h = hamiltonian_ev(energy_gev, density_gcc, params, eps, antineutrino, electron_fraction)
    length = _as_float_array(baseline_km, "baseline_km", minimum=0.0) * LENGTH_EV_INV_PER_KM
    values, vectors = np.linalg.eigh(h)
    phases = np.exp(-1j * values * length[..., None])
    s = (vectors * phases[..., None, :]) @ np.conj(np.swapaxes(vectors, -1, -2))
    return np.abs(np.swapaxes(s, -1, -2)) ** 2
