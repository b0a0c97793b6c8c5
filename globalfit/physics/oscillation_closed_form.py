"""Closed-form kernel of constant-density probabilities in numpy (``kernel="numpy"``, the
reference of the compiled kernel `globalfit.physics.oscillation_numba`).

The traceless part ``T`` of ``H L`` has eigenvalues from the trigonometric (Viete-Cardano)
solution of ``l^3 - a l - b = 0`` with ``a = tr(T^2)/2``, ``b = det T``; the evolution
operator follows from the Lagrange (Sylvester) formula ``exp(-i T) = A0 + A1 T + A2 T^2``.
``T = w K + M`` is linear in ``w = L/(2E)``, so ``a``, ``b`` and the entries of ``T`` and
``T^2`` are polynomials in ``w`` with per-point coefficients (`_coefficient_table`). Two
loops: blocks of `BLOCK_SIZE` elements over named scratch arrays (`_block_probabilities`,
any broadcast of points and energies) and, for one point at a few hundred energies, a
compact form with few numpy calls (`_compact_probabilities`). Points with nearly
degenerate eigenvalues are recomputed with ``eigh`` (`_fallback`).
"""
from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

BLOCK_SIZE = 16384
"""Elements per block of the closed-form kernel: large enough that numpy's per-call overhead
(about 1 us) is small, small enough that the ~40 scratch arrays stay near the cache."""

DEGENERACY_COS_TOL = 3.0e-7
"""Points with ``|cos(3 theta)| > 1 - DEGENERACY_COS_TOL`` (relative gap of the two
closest eigenvalues below about 1e-3 of ``sqrt(tr T^2 / 6)``) go to ``eigh``."""

_SQRT3 = float(np.sqrt(3.0))



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


_THIRDS = np.array([0.0, -2.0 * np.pi / 3.0, 2.0 * np.pi / 3.0])[:, None]

