"""Three-flavour oscillation probabilities in matter with NSI.

Public entry points::

    P = probabilities(energy_gev, baseline_km, density_gcc, params, eps=None,
                      antineutrino=False, electron_fraction=0.5, kernel="numba")
    # P[..., a, b] = P(nu_a -> nu_b), flavour order (e, mu, tau)
    path = ConstantDensityPath(energy_gev, baseline_km, density_gcc, electron_fraction)
    P = path.probabilities(params, eps, antineutrino)    # kinematics validated once
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

Two kernels compute the same closed form at constant density, chosen by ``kernel=`` (never
silently): ``"numba"`` (default; `globalfit.physics.oscillation_numba`, compiled) and
``"numpy"`` (`globalfit.physics.oscillation_closed_form`, the reference the compiled one is
tested against). Modules: inputs and Hamiltonian `oscillation_hamiltonian`, layered matter
`oscillation_layers`; this module holds the public functions and re-exports the rest.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike

from globalfit.physics.oscillation_closed_form import (  # noqa: F401  (re-exported)
    BLOCK_SIZE,
    DEGENERACY_COS_TOL,
    _coefficient_table,
    _compact_probabilities,
    _fallback,
    _fill_blocks,
    _kernel_coefficients,
)
from globalfit.physics.oscillation_hamiltonian import (  # noqa: F401  (re-exported)
    LENGTH_EV_INV_PER_KM,
    PARAMETER_NAMES,
    _as_float_array,
    _broadcast_shape,
    _kinematics,
    _nsi_matrix,
    _parameters,
    _phase_matrices,
    _point_matrices,
    _single_point,
    hamiltonian_ev,
    pmns_matrix,
    vacuum_mass_matrix_ev2,
)
from globalfit.physics.oscillation_layers import (  # noqa: F401  (re-exported)
    evolution_operator,
    probabilities_layers,
)

KERNELS = ("numba", "numpy")
"""Kernels of the constant-density closed form (`probabilities`, `ConstantDensityPath`)."""

DEFAULT_KERNEL = "numba"
"""The kernel used when none is named (recorded in every run's provenance.json)."""

COMPACT_MAX_SIZE = 512
"""numpy kernel: largest number of energies for which one parameter point goes through the
compact kernel (`_compact_probabilities`: ~25 numpy calls) instead of the blocked one (~75
calls, fewer operations per element)."""


def compiled_kernels():
    """The module of compiled kernels (`globalfit.physics.oscillation_numba`), imported on
    first use (``import numba`` takes about half a second). Raises ImportError naming the
    fix when numba is missing."""
    try:
        from globalfit.physics import oscillation_numba
    except ImportError as error:
        raise ImportError(f"kernel='numba' needs numba, a dependency of globalfit ({error}); "
                          "install it with: pip install 'numba>=0.59' (or reinstall globalfit), "
                          "or pass kernel='numpy' (the reference kernel, slower per call)") from None
    return oscillation_numba


def _check_kernel(kernel) -> None:
    if kernel not in KERNELS:
        raise ValueError(f"kernel: expected one of {KERNELS}, got {kernel!r}")


def probabilities(energy_gev: ArrayLike, baseline_km: ArrayLike, density_gcc: ArrayLike, params: Mapping,
                  eps: ArrayLike | None = None, antineutrino: bool = False,
                  electron_fraction: ArrayLike = 0.5, *, out: np.ndarray | None = None,
                  kernel: str = DEFAULT_KERNEL) -> np.ndarray:
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
    kernel : {"numba", "numpy"} (keyword only)
        ``"numba"``: compiled kernel (`globalfit.physics.oscillation_numba`); ``"numpy"``:
        the reference kernel in numpy. Both give the same probabilities (tests: 1e-12).

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
    C-ordered array is needed. For many calls with the same energies, build a
    `ConstantDensityPath` once (this function builds one per call).
    """
    path = ConstantDensityPath(energy_gev, baseline_km, density_gcc, electron_fraction, kernel=kernel)
    return path.probabilities(params, eps, antineutrino, out=out)


class ConstantDensityPath:
    """Energies, baseline and matter validated once; probabilities per parameter point.

    Parameters
    ----------
    energy_gev, baseline_km, density_gcc, electron_fraction
        As in `probabilities`; they broadcast against each other.
    kernel : {"numba", "numpy"} (keyword only)
        As in `probabilities`; kept in ``path.kernel``.

    Notes
    -----
    ``path.probabilities(params, eps, antineutrino)`` equals `probabilities` with the same
    arguments. A single parameter point (six scalars, ``eps`` one matrix or None) on a
    scalar baseline and density takes a fast path: with the numba kernel one compiled call
    builds the point's coefficients and loops over the energies (scalar math below
    `oscillation_numba.HYBRID_MIN_SIZE` energies, blocks around numpy's vectorised
    ``arccos``/``tan`` above); with the numpy kernel the per-point quantities come from
    scalar math and, up to `COMPACT_MAX_SIZE` energies, the compact kernel runs.
    """

    def __init__(self, energy_gev: ArrayLike, baseline_km: ArrayLike, density_gcc: ArrayLike,
                 electron_fraction: ArrayLike = 0.5, *, kernel: str = DEFAULT_KERNEL):
        _check_kernel(kernel)
        self.kernel = kernel
        self.w, self.v = _kinematics(energy_gev, baseline_km, density_gcc, electron_fraction)
        self._powers = None
        self._compiled = compiled_kernels() if kernel == "numba" else None
        self._w_flat = np.ascontiguousarray(self.w, dtype=float).reshape(-1)

    def probabilities(self, params: Mapping, eps: ArrayLike | None = None, antineutrino: bool = False,
                      *, out: np.ndarray | None = None) -> np.ndarray:
        """``P[..., a, b] = P(nu_a -> nu_b)`` for ``params`` (see `probabilities`)."""
        if not isinstance(params, Mapping):
            raise ValueError(f"params: expected a mapping with keys {PARAMETER_NAMES}, got {type(params).__name__}")
        missing = [k for k in PARAMETER_NAMES if k not in params]
        if missing:
            raise ValueError(f"params: missing keys {missing}; required: {PARAMETER_NAMES}")
        if self._compiled is not None:
            return self._numba(params, eps, bool(antineutrino), out)
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
        return _result(out, planes, w.ndim == 0)

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
        return _result(out, planes, scalar)

    def _numba(self, params: Mapping, eps, antineutrino: bool, out) -> np.ndarray:
        """The compiled kernel: one call for a single point, else per-point tables."""
        compiled = self._compiled
        matrix = _NO_NSI if eps is None else np.asarray(eps, dtype=complex)
        single = self.v.ndim == 0 and matrix.shape == (3, 3)
        if single:
            deviation, scale = compiled.hermitian_deviation(matrix)
            if not deviation <= 1e-12 * (1.0 + scale):          # also False for NaN / inf entries
                _nsi_matrix(matrix)                              # raises with the full message
            point = _single_point(params, matrix)
        if not single or point is None:
            return self._numba_batch(_parameters(params), _nsi_matrix(eps), antineutrino, out)
        w = self._w_flat
        scalar = self.w.ndim == 0
        planes = _output_planes(out, self.w.shape or (1,), scalar)
        flat = _contiguous_planes(planes)
        regular = np.empty(w.shape[0], dtype=bool)
        table = np.empty((1, 10, 4))
        v = float(self.v)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):   # degenerate points: replaced below
            if w.shape[0] < compiled.HYBRID_MIN_SIZE:
                irregular = compiled.point_probabilities(*point, matrix, antineutrino, v, w, flat, regular, table)
            else:
                compiled.point_table(*point, matrix, antineutrino, v, table[0])
                irregular = compiled.probabilities_blocks(table, _NO_INDEX, w, flat, regular)
        if irregular:
            k, m = _point_matrices(point, None if eps is None else matrix, antineutrino, v)
            _fallback(~regular, w, k, m, (slice(None),), 1, flat)
        if flat is not planes:
            planes[...] = flat.reshape(planes.shape)
        return _result(out, planes, scalar)

    def _numba_batch(self, p: dict, eps, antineutrino: bool, out) -> np.ndarray:
        """Batches of points (or a baseline / density array): the coefficient tables of all
        points by numpy, the loop over elements compiled; ``point_of`` maps each element of
        the broadcast shape to its point."""
        k, m = _phase_matrices(p, eps, antineutrino, self.v)
        table = _coefficient_table(k, m)                       # (10, 4) + point shape
        point_shape = table.shape[2:]
        shape = _broadcast_shape(point_shape, self.w.shape)
        scalar = shape == ()
        n_points = int(np.prod(point_shape))
        tables = np.ascontiguousarray(np.moveaxis(table.reshape(10, 4, n_points), -1, 0))
        if n_points == 1:
            point_of = _NO_INDEX
        else:
            point_of = np.ascontiguousarray(np.broadcast_to(
                np.arange(n_points).reshape(point_shape), shape), dtype=np.int64).reshape(-1)
        w = np.ascontiguousarray(np.broadcast_to(self.w, shape), dtype=float).reshape(-1)
        planes = _output_planes(out, shape or (1,), scalar)
        flat = _contiguous_planes(planes)
        regular = np.empty(w.shape[0], dtype=bool)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):   # degenerate points: replaced below
            irregular = self._compiled.probabilities_blocks(tables, point_of, w, flat, regular)
        if irregular:
            full = shape or (1,)
            k, m = np.broadcast_arrays(k, m)
            if scalar:
                k, m = k[None], m[None]
            _fallback(~regular.reshape(full), w.reshape(full), k, m, (slice(None),) * len(full), len(full),
                      flat.reshape((3, 3) + full))
        if flat is not planes:
            planes[...] = flat.reshape(planes.shape)
        return _result(out, planes, scalar)


_NO_NSI = np.zeros((3, 3), dtype=complex)
_NO_INDEX = np.empty(0, dtype=np.int64)


def _contiguous_planes(planes: np.ndarray) -> np.ndarray:
    """``planes`` as C-contiguous ``(3, 3, n)``: a view when possible (no ``out``, or a
    C-ordered ``out`` seen as planes is not), else a fresh array copied back by the caller."""
    if planes.flags.c_contiguous:
        return planes.reshape(3, 3, -1)
    return np.empty((3, 3, planes[0, 0].size))


def _result(out, planes: np.ndarray, scalar: bool) -> np.ndarray:
    """``out``, or the planes with the flavour axes moved last (a view)."""
    if out is not None:
        return out
    if scalar:
        return planes[..., 0]
    return planes.transpose(2, 0, 1) if planes.ndim == 3 else np.moveaxis(planes, (0, 1), (-2, -1))


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
