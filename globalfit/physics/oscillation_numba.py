"""Compiled (numba) kernel of the constant-density closed form (``kernel="numba"``).

The same formulas as the numpy kernel (`globalfit.physics.oscillation_closed_form`, the
reference): ``T = w K + M`` with polynomial coefficients in ``w`` per parameter point
(`point_table` builds the table of `oscillation_closed_form.coefficient_table` from the six
parameters and ``eps`` with scalar arithmetic), eigenvalues ``l_k = 2 r cos(theta - 2 pi k / 3)``
from the trigonometric solution of the cubic, ``exp(-i T) = E + A1 T + A2 (T^2 - 2a/3)``
(Lagrange), four moduli and the rest of ``P`` by unitarity.

Two loops over the elements (energies x points):

* `probabilities_scalar`: one pass with scalar ``math`` (``acos``, ``cos``, ``sin``,
  about 80 ns per element here: libm is not vectorised in numba without Intel SVML);
  no numpy call at all, so the cost of a call is a few microseconds.
* blocks of `HYBRID_BLOCK_SIZE` elements in three compiled passes around numpy's
  vectorised ``arccos`` and ``tan`` (about 1 ns per element each, AVX-512 here):
  `invariants_pass` (``a/3``, ``r``, ``cos 3 theta``), ``tan(theta / 2)``,
  `eigenvalues_pass` (``-l_k / 2``), ``tan(-l_k / 2)``, `amplitudes_pass` (phases from the
  half-angle tangents, ``P``). Used from `HYBRID_MIN_SIZE` elements on.

Points whose two closest eigenvalues nearly coincide (``|cos 3 theta| >= 1 -
DEGENERACY_COS_TOL``, or ``T = 0``) are flagged in ``regular`` and left to the caller, which
recomputes them with ``eigh`` as the numpy kernel does.

Functions are compiled on first use and cached on disk (``cache=True``); arguments are
float64 / int64 / bool / complex128 arrays so that one specialisation serves all calls.
"""
from __future__ import annotations

import math

import numba
import numpy as np

from globalfit.physics.oscillation_closed_form import (
    DEGENERACY_COS_TOL,  # the same points go to eigh
)

HYBRID_MIN_SIZE = 64
"""Elements from which the blocked passes around numpy's vectorised ``arccos``/``tan`` beat
the scalar loop (per block four numpy calls and three compiled passes, a few microseconds,
against ~60 ns more per element for scalar libm)."""

HYBRID_BLOCK_SIZE = 4096
"""Elements per block of the hybrid passes (their ~10 scratch rows stay in L2)."""

_SQRT3 = math.sqrt(3.0)
_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}


@numba.njit(**_JIT)
def hermitian_deviation(eps):
    """``(max |eps - eps^dag|, max |eps|)`` of a 3 x 3 matrix; NaN if an entry is not finite."""
    deviation = 0.0
    scale = 0.0
    for a in range(3):
        for b in range(3):
            value = eps[a, b]
            if not (math.isfinite(value.real) and math.isfinite(value.imag)):
                return math.nan, math.nan
            deviation = max(deviation, abs(value - eps[b, a].conjugate()))
            scale = max(scale, abs(value))
    return deviation, scale


@numba.njit(**_JIT)
def point_table(th12, th13, th23, dcp, dm21, dm31, eps, antineutrino, v, table):
    """Fill ``table`` (10, 4) with the coefficients in ``w`` of one point (layout of
    `oscillation_closed_form.coefficient_table`): traceless ``K = U diag(0, dm21, dm31) U^dag``
    (eV^2), ``M = v (diag(1, 0, 0) + eps)`` traceless, antineutrinos ``K -> conj K``,
    ``M -> -conj M``."""
    s12, c12 = math.sin(th12), math.cos(th12)
    s13, c13 = math.sin(th13), math.cos(th13)
    s23, c23 = math.sin(th23), math.cos(th23)
    phase = complex(math.cos(dcp), math.sin(dcp))
    u = np.empty((3, 3), np.complex128)
    u[0, 0] = c12 * c13
    u[0, 1] = s12 * c13
    u[0, 2] = s13 / phase
    u[1, 0] = -s12 * c23 - c12 * s23 * s13 * phase
    u[1, 1] = c12 * c23 - s12 * s23 * s13 * phase
    u[1, 2] = s23 * c13
    u[2, 0] = s12 * s23 - c12 * c23 * s13 * phase
    u[2, 1] = -c12 * s23 - s12 * c23 * s13 * phase
    u[2, 2] = c23 * c13
    k = np.empty((3, 3), np.complex128)
    m = np.empty((3, 3), np.complex128)
    for a in range(3):
        for b in range(3):
            k[a, b] = (u[a, 1] * dm21) * u[b, 1].conjugate() + (u[a, 2] * dm31) * u[b, 2].conjugate()
            m[a, b] = eps[a, b]
    m[0, 0] += 1.0
    trace_k = (k[0, 0] + k[1, 1] + k[2, 2]) / 3.0
    trace_m = (m[0, 0] + m[1, 1] + m[2, 2]) / 3.0
    for a in range(3):
        k[a, a] -= trace_k
        m[a, a] -= trace_m
    for a in range(3):
        for b in range(3):
            if antineutrino:
                k[a, b] = k[a, b].conjugate()
                m[a, b] = -m[a, b].conjugate()
            m[a, b] *= v
    kk = k @ k
    mm = m @ m
    mixed = k @ m + m @ k
    table[:, :] = 0.0
    for row, (a, b) in enumerate(((0, 0), (1, 1))):
        table[row, 2] = k[a, b].real
        table[row, 3] = m[a, b].real
    table[2, 2], table[2, 3] = k[1, 0].real, m[1, 0].real
    table[3, 2], table[3, 3] = k[1, 0].imag, m[1, 0].imag
    for column, x in enumerate((kk, mixed, mm)):
        a_third = (x[0, 0].real + x[1, 1].real + x[2, 2].real) / 6.0
        table[4, column + 1] = a_third
        table[5, column + 1] = x[0, 0].real - 2.0 * a_third
        table[6, column + 1] = x[1, 1].real - 2.0 * a_third
        table[7, column + 1] = x[1, 0].real
        table[8, column + 1] = x[1, 0].imag
    cubic = np.zeros(4)
    for a in range(3):
        for b in range(3):
            cubic[0] += (kk[a, b] * k[b, a]).real
            cubic[1] += (kk[a, b] * m[b, a]).real
            cubic[2] += (k[a, b] * mm[b, a]).real
            cubic[3] += (mm[a, b] * m[b, a]).real
    table[9, 0] = cubic[0] / 6.0
    table[9, 1] = cubic[1] / 2.0
    table[9, 2] = cubic[2] / 2.0
    table[9, 3] = cubic[3] / 6.0


@numba.njit(inline="always", **_JIT)
def _invariants(c, x):
    """``a/3`` and ``b/2`` of row set ``c`` (10, 4) at ``w = x``."""
    a_third = (c[4, 1] * x + c[4, 2]) * x + c[4, 3]
    b_half = ((c[9, 0] * x + c[9, 1]) * x + c[9, 2]) * x + c[9, 3]
    return a_third, b_half


@numba.njit(inline="always", **_JIT)
def _write(c, x, a_third, l0, l1, e0r, e0i, e1r, e1i, planes, i):
    """``P`` at element ``i`` from eigenvalues ``l0, l1`` and ``exp(-i l_k) = e_k`` (k = 0, 1)."""
    l2 = -l0 - l1
    e2r = e0r * e1r - e0i * e1i                 # exp(-i l_2) = conj(exp(-i l_0) exp(-i l_1))
    e2i = -(e0r * e1i + e0i * e1r)
    d0 = 1.0 / (3.0 * (l0 * l0 - a_third))      # c_k = exp(-i l_k) / (3 l_k^2 - a)
    d1 = 1.0 / (3.0 * (l1 * l1 - a_third))
    d2 = 1.0 / (3.0 * (l2 * l2 - a_third))
    a2r = e0r * d0 + e1r * d1 + e2r * d2
    a2i = e0i * d0 + e1i * d1 + e2i * d2
    a1r = e0r * d0 * l0 + e1r * d1 * l1 + e2r * d2 * l2
    a1i = e0i * d0 * l0 + e1i * d1 * l1 + e2i * d2 * l2
    mean_r = (e0r + e1r + e2r) / 3.0
    mean_i = (e0i + e1i + e2i) / 3.0
    t_ee = c[0, 2] * x + c[0, 3]
    t_mumu = c[1, 2] * x + c[1, 3]
    t_re = c[2, 2] * x + c[2, 3]
    t_im = c[3, 2] * x + c[3, 3]
    q_ee = (c[5, 1] * x + c[5, 2]) * x + c[5, 3]
    q_mumu = (c[6, 1] * x + c[6, 2]) * x + c[6, 3]
    q_re = (c[7, 1] * x + c[7, 2]) * x + c[7, 3]
    q_im = (c[8, 1] * x + c[8, 2]) * x + c[8, 3]
    see_r = mean_r + a1r * t_ee + a2r * q_ee
    see_i = mean_i + a1i * t_ee + a2i * q_ee
    smm_r = mean_r + a1r * t_mumu + a2r * q_mumu
    smm_i = mean_i + a1i * t_mumu + a2i * q_mumu
    u1 = a1r * t_re + a2r * q_re                # S_mue = (u1 - u2) + i (u3 + u4)
    u2 = a1i * t_im + a2i * q_im                # S_emu = (u1 + u2) + i (u3 - u4)
    u3 = a1i * t_re + a2i * q_re
    u4 = a1r * t_im + a2r * q_im
    p_ee = see_r * see_r + see_i * see_i
    p_mumu = smm_r * smm_r + smm_i * smm_i
    p_emu = (u1 - u2) * (u1 - u2) + (u3 + u4) * (u3 + u4)
    p_mue = (u1 + u2) * (u1 + u2) + (u3 - u4) * (u3 - u4)
    p_taue = 1.0 - (p_ee + p_mue)               # rows and columns of |S|^2 sum to one
    p_taumu = 1.0 - (p_emu + p_mumu)
    planes[0, 0, i] = p_ee
    planes[0, 1, i] = p_emu
    planes[1, 0, i] = p_mue
    planes[1, 1, i] = p_mumu
    planes[0, 2, i] = 1.0 - (p_ee + p_emu)
    planes[1, 2, i] = 1.0 - (p_mue + p_mumu)
    planes[2, 0, i] = p_taue
    planes[2, 1, i] = p_taumu
    planes[2, 2, i] = 1.0 - (p_taue + p_taumu)


@numba.njit(**_JIT)
def probabilities_scalar(tables, point_of, w, planes, regular, start, stop):
    """Elements ``start:stop`` with scalar math; ``tables`` (P, 10, 4), ``point_of`` (N,)
    the row of each element (length 0: all use row 0), ``w`` (N,), ``planes`` (3, 3, N),
    ``regular`` (N,). Returns the number of irregular elements."""
    single = point_of.shape[0] == 0
    irregular = 0
    for i in range(start, stop):
        c = tables[0] if single else tables[point_of[i]]
        x = w[i]
        a_third, b_half = _invariants(c, x)
        r = math.sqrt(a_third)
        cos_3theta = b_half / (r * a_third)
        if not abs(cos_3theta) < 1.0 - DEGENERACY_COS_TOL:
            regular[i] = False
            irregular += 1
            continue
        regular[i] = True
        theta = math.acos(cos_3theta) / 3.0
        rc = r * math.cos(theta)
        rs = _SQRT3 * r * math.sin(theta)
        l0 = rc + rc
        l1 = rs - rc
        _write(c, x, a_third, l0, l1, math.cos(l0), -math.sin(l0), math.cos(l1), -math.sin(l1), planes, i)
    return irregular


@numba.njit(**_JIT)
def point_probabilities(th12, th13, th23, dcp, dm21, dm31, eps, antineutrino, v, w, planes, regular, table):
    """One parameter point at all of ``w`` in one call: `point_table` into ``table``
    (1, 10, 4), then `probabilities_scalar`. Returns the number of irregular elements."""
    point_table(th12, th13, th23, dcp, dm21, dm31, eps, antineutrino, v, table[0])
    return probabilities_scalar(table, np.empty(0, np.int64), w, planes, regular, 0, w.shape[0])


@numba.njit(**_JIT)
def invariants_pass(tables, point_of, w, start, a_third, radius, angle, regular):
    """Block from ``start``: ``a/3``, ``r = sqrt(a/3)``, ``cos 3 theta`` into ``angle`` (0 where
    irregular) and ``regular``. Returns the number of irregular elements."""
    single = point_of.shape[0] == 0
    irregular = 0
    for j in range(angle.shape[0]):
        i = start + j
        c = tables[0] if single else tables[point_of[i]]
        at, b_half = _invariants(c, w[i])
        r = math.sqrt(at)
        cos_3theta = b_half / (r * at)
        ok = abs(cos_3theta) < 1.0 - DEGENERACY_COS_TOL
        regular[i] = ok
        a_third[j] = at
        radius[j] = r
        angle[j] = cos_3theta if ok else 0.0
        irregular += not ok
    return irregular


@numba.njit(**_JIT)
def eigenvalues_pass(radius, tan_half_theta, half):
    """``half[k] = -l_k / 2`` (k = 0, 1) from ``tan(theta / 2)``."""
    for j in range(radius.shape[0]):
        t = tan_half_theta[j]
        cos_theta = 2.0 / (1.0 + t * t)
        sin_theta = cos_theta * t
        cos_theta -= 1.0
        rc = radius[j] * cos_theta
        rs = _SQRT3 * radius[j] * sin_theta
        half[0, j] = -rc
        half[1, j] = 0.5 * (rc - rs)


@numba.njit(**_JIT)
def amplitudes_pass(tables, point_of, w, start, a_third, half, tau, planes):
    """``P`` for the block from ``start``: ``exp(-i l_k)`` from ``tau = tan(-l_k / 2)``."""
    single = point_of.shape[0] == 0
    for j in range(a_third.shape[0]):
        i = start + j
        c = tables[0] if single else tables[point_of[i]]
        t0, t1 = tau[0, j], tau[1, j]
        n0 = 1.0 / (1.0 + t0 * t0)
        n1 = 1.0 / (1.0 + t1 * t1)
        _write(c, w[i], a_third[j], -2.0 * half[0, j], -2.0 * half[1, j],
               2.0 * n0 - 1.0, 2.0 * t0 * n0, 2.0 * n1 - 1.0, 2.0 * t1 * n1, planes, i)


def probabilities_blocks(tables, point_of, w, planes, regular) -> int:
    """All elements: the scalar loop below `HYBRID_MIN_SIZE`, hybrid blocks above. Returns
    the number of irregular elements (their ``planes`` entries are to be replaced)."""
    n = w.shape[0]
    if n < HYBRID_MIN_SIZE:
        return probabilities_scalar(tables, point_of, w, planes, regular, 0, n)
    size = min(n, HYBRID_BLOCK_SIZE)
    scratch = np.empty((7, size))
    irregular = 0
    for start in range(0, n, size):
        if n - start < size:                               # last block: contiguous rows again
            size = n - start
            scratch = np.empty((7, size))
        a_third, radius, angle, half, tau = scratch[0], scratch[1], scratch[2], scratch[3:5], scratch[5:7]
        irregular += invariants_pass(tables, point_of, w, start, a_third, radius, angle, regular)
        np.arccos(angle, angle)
        np.multiply(angle, 1.0 / 6.0, angle)
        np.tan(angle, angle)                               # tan(theta / 2)
        eigenvalues_pass(radius, angle, half)
        np.tan(half, tau)
        amplitudes_pass(tables, point_of, w, start, a_third, half, tau, planes)
    return irregular
