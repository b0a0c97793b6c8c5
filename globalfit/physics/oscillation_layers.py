"""Evolution operator through layered matter (`evolution_operator`, `probabilities_layers`).

Each layer's full operator ``exp(-i T) = A0 + A1 T + A2 T^2`` comes from the closed form of
`globalfit.physics.oscillation_closed_form` (all nine entries, no unitarity completion),
for all layers of a block of energies at once; the ordered product is taken pairwise
(small batches) or layer after layer on cache-sized blocks (large batches).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from globalfit.physics.constants import EV, MATTER_POTENTIAL_EV_PER_GCC
from globalfit.physics.oscillation_closed_form import (
    _blocks,
    _eigh_operator,
    _index_operand,
    _lagrange_coefficients,
    _poly,
    _Workspace,
    _workspace,
)
from globalfit.physics.oscillation_hamiltonian import (
    LENGTH_EV_INV_PER_KM,
    _as_float_array,
    _broadcast_shape,
    _matter_matrix,
    _nsi_matrix,
    _parameters,
    _phase_matrices,
    vacuum_mass_matrix_ev2,
)


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

