"""Leptonic decays of charged pseudoscalar mesons with a light Z' and heavy neutral leptons.

Formulas (derivations in ``docs/likelihoods/mesons.md``):

* two-body ``M+ -> l+ nu`` (tree level, no radiative corrections)
  ``Gamma = G_F^2 f_M^2 |V|^2 m_l^2 m_M (1 - m_l^2/m_M^2)^2 / (8 pi)``;
* ``M+ -> l+ N`` for a heavy neutral lepton with active-sterile mixing ``U``
  (Shrock 1981): ``Gamma = G_F^2 f_M^2 |V|^2 |U|^2 m_M^3 / (8 pi)
  lambda^(1/2)(1, x_l, x_N) [x_l + x_N - (x_l - x_N)^2]``, ``x = m^2 / m_M^2``;
* ``M+ -> l+ nu Z'`` with the Z' emitted from the neutrino line, coupling
  ``(g_nu)_ba Z'_mu nubar_b gamma^mu P_L nu_a``. Spin-summed squared amplitude (our
  derivation)

      sum |M|^2 = 4 G_F^2 f_M^2 |V|^2 g^2 [ p_nu.r + 2 (k.p_nu)(k.r) / m_Z'^2 ],
      r = (1 - m_l^2/s) p_l + m_l^2 (m_M^2 + s - m_l^2) / s^2 q,

  with ``q = p_nu + k``, ``s = q^2`` (the invisible mass squared), ``g^2 = sum_b
  |(g_nu)_ba|^2``. The second term is the longitudinal Z': it is not helicity suppressed
  and grows like ``m_M^2 / m_Z'^2`` (Bakhti & Farzan, PRD 95 (2017) 095008). The width is
  ``dGamma = sum|M|^2 ds dt / ((2 pi)^3 32 m_M^3)``; the ``t = (p_l + p_nu)^2`` integral
  is done analytically (the integrand is linear in ``t``), the ``s`` integral numerically
  (Gauss-Legendre in ``ln s``).

Masses in GeV, widths in GeV.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from globalfit.physics.constants import FERMI_CONSTANT_GEV2

GAUSS_NODES = 256
"""Gauss-Legendre nodes of the ``ln s`` integral (converged to < 1e-8 relative; tested)."""


@lru_cache(maxsize=8)
def _gauss_legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.polynomial.legendre.leggauss(n)


def _check_masses(meson_mass_gev: float, lepton_mass_gev: float) -> None:
    if not (meson_mass_gev > 0 and 0 <= lepton_mass_gev < meson_mass_gev):
        raise ValueError(
            f"masses: need 0 <= lepton_mass_gev ({lepton_mass_gev}) < meson_mass_gev "
            f"({meson_mass_gev})"
        )


# --- two-body ------------------------------------------------------------------------------
def two_body_width(
    meson_mass_gev: float, lepton_mass_gev: float, decay_constant_gev: float = 1.0,
    ckm: float = 1.0,
) -> float:
    """Tree-level ``Gamma(M+ -> l+ nu)`` in GeV (massless neutrino; ``f_pi ~ 130 MeV``
    normalisation)."""
    _check_masses(meson_mass_gev, lepton_mass_gev)
    x_l = (lepton_mass_gev / meson_mass_gev) ** 2
    return (
        FERMI_CONSTANT_GEV2**2 * decay_constant_gev**2 * ckm**2 * lepton_mass_gev**2
        * meson_mass_gev * (1.0 - x_l) ** 2 / (8.0 * math.pi)
    )


def tree_level_ratio(meson_mass_gev: float, electron_mass_gev: float, muon_mass_gev: float) -> float:
    """``R_M^(0) = Gamma(M -> e nu) / Gamma(M -> mu nu)`` at tree level."""
    return two_body_width(meson_mass_gev, electron_mass_gev) / two_body_width(
        meson_mass_gev, muon_mass_gev
    )


def heavy_lepton_width(
    meson_mass_gev: float, lepton_mass_gev: float, hnl_mass_gev: float, mixing2: float,
    decay_constant_gev: float = 1.0, ckm: float = 1.0,
) -> float:
    """``Gamma(M+ -> l+ N)`` in GeV for a neutral lepton of mass ``hnl_mass_gev`` with
    ``|U_lN|^2 = mixing2``; zero above threshold."""
    _check_masses(meson_mass_gev, lepton_mass_gev)
    if hnl_mass_gev + lepton_mass_gev >= meson_mass_gev:
        return 0.0
    x_l = (lepton_mass_gev / meson_mass_gev) ** 2
    x_n = (hnl_mass_gev / meson_mass_gev) ** 2
    kallen = (1.0 - x_l - x_n) ** 2 - 4.0 * x_l * x_n
    return (
        FERMI_CONSTANT_GEV2**2 * decay_constant_gev**2 * ckm**2 * mixing2 * meson_mass_gev**3
        / (8.0 * math.pi) * math.sqrt(kallen) * (x_l + x_n - (x_l - x_n) ** 2)
    )


# --- three-body M -> l nu Z' ------------------------------------------------------------------
def reduced_squared_amplitude(s, t, meson_mass_gev: float, lepton_mass_gev: float,
                              mzp_gev: float):
    """``sum|M|^2 / (G_F^2 f_M^2 |V|^2 g^2)`` for ``M+ -> l+ nu Z'`` at Dalitz variables
    ``s = (p_nu + k)^2``, ``t = (p_l + p_nu)^2`` (GeV^2; broadcast). Dimension GeV^2."""
    s = np.asarray(s, dtype=float)
    t = np.asarray(t, dtype=float)
    m2, mu2, big2 = lepton_mass_gev**2, mzp_gev**2, meson_mass_gev**2
    u = big2 + m2 + mu2 - s - t
    alpha = 1.0 - m2 / s
    beta = m2 * (big2 + s - m2) / s**2
    pnu_r = 0.5 * alpha * (t - m2) + 0.5 * beta * (s - mu2)
    k_r = 0.5 * alpha * (u - m2 - mu2) + 0.5 * beta * (s + mu2)
    k_pnu = 0.5 * (s - mu2)
    return 4.0 * (pnu_r + 2.0 * k_pnu * k_r / mu2)


def dalitz_t_limits(s, meson_mass_gev: float, lepton_mass_gev: float, mzp_gev: float):
    """``(t_min, t_max)`` of ``t = (p_l + p_nu)^2`` at fixed ``s`` (PDG kinematics)."""
    s = np.asarray(s, dtype=float)
    root_s = np.sqrt(s)
    e_nu = (s - mzp_gev**2) / (2.0 * root_s)
    e_l = (meson_mass_gev**2 - s - lepton_mass_gev**2) / (2.0 * root_s)
    p_l = np.sqrt(np.clip(e_l**2 - lepton_mass_gev**2, 0.0, None))
    total = (e_nu + e_l) ** 2
    return total - (e_nu + p_l) ** 2, total - (e_nu - p_l) ** 2


def differential_width_ds(s, meson_mass_gev: float, lepton_mass_gev: float, mzp_gev: float):
    """``dGamma/ds / (G_F^2 f_M^2 |V|^2 g^2)`` (GeV^-1 * GeV^2 ...: multiply by the couplings
    and integrate over ``s`` in GeV^2 to get GeV). Zero outside ``m_Z'^2 < s < (m_M - m_l)^2``."""
    s = np.asarray(s, dtype=float)
    inside = (s > mzp_gev**2) & (s < (meson_mass_gev - lepton_mass_gev) ** 2)
    s_safe = np.where(inside, s, 0.5 * (mzp_gev**2 + (meson_mass_gev - lepton_mass_gev) ** 2))
    t_min, t_max = dalitz_t_limits(s_safe, meson_mass_gev, lepton_mass_gev, mzp_gev)
    amplitude = reduced_squared_amplitude(
        s_safe, 0.5 * (t_min + t_max), meson_mass_gev, lepton_mass_gev, mzp_gev
    )
    value = amplitude * (t_max - t_min) / ((2.0 * math.pi) ** 3 * 32.0 * meson_mass_gev**3)
    return np.where(inside, value, 0.0)


def three_body_width(
    meson_mass_gev: float, lepton_mass_gev: float, mzp_gev: float, coupling2: float = 1.0,
    decay_constant_gev: float = 1.0, ckm: float = 1.0, s_max_gev2: float | None = None,
    nodes: int = GAUSS_NODES,
) -> float:
    """``Gamma(M+ -> l+ nu Z')`` in GeV, optionally only the part with invisible mass
    squared ``s < s_max_gev2`` (an experiment's missing-mass or lepton-energy window).

    Parameters
    ----------
    meson_mass_gev, lepton_mass_gev, mzp_gev : masses in GeV (``m_Z' > 0``).
    coupling2 : ``g^2 = sum_b |(g_nu)_{b l}|^2``.
    decay_constant_gev, ckm : ``f_M`` and ``|V|`` (1 gives the width per ``f^2 |V|^2``).
    s_max_gev2 : upper cut on ``s = (p_M - p_l)^2``; None for the full phase space.
    nodes : Gauss-Legendre nodes in ``ln s``.
    """
    _check_masses(meson_mass_gev, lepton_mass_gev)
    if not mzp_gev > 0:
        raise ValueError(f"mzp_gev: must be positive, got {mzp_gev}")
    s_low = mzp_gev**2
    s_high = (meson_mass_gev - lepton_mass_gev) ** 2
    if s_max_gev2 is not None:
        s_high = min(s_high, s_max_gev2)
    if s_high <= s_low:
        return 0.0
    x, w = _gauss_legendre(nodes)
    log_low, log_high = math.log(s_low), math.log(s_high)
    log_s = 0.5 * (log_high - log_low) * x + 0.5 * (log_high + log_low)
    s = np.exp(log_s)
    integrand = differential_width_ds(s, meson_mass_gev, lepton_mass_gev, mzp_gev) * s
    reduced = 0.5 * (log_high - log_low) * float(np.dot(w, integrand))
    return FERMI_CONSTANT_GEV2**2 * decay_constant_gev**2 * ckm**2 * coupling2 * reduced


def three_body_over_two_body(
    meson_mass_gev: float, lepton_mass_gev: float, mzp_gev: float, coupling2: float = 1.0,
    s_max_gev2: float | None = None,
) -> float:
    """``Gamma(M -> l nu Z') / Gamma(M -> l nu)`` (``f_M`` and ``V`` cancel)."""
    return three_body_width(
        meson_mass_gev, lepton_mass_gev, mzp_gev, coupling2, s_max_gev2=s_max_gev2
    ) / two_body_width(meson_mass_gev, lepton_mass_gev)


def massless_limit_width(meson_mass_gev: float, mzp_gev: float, coupling2: float = 1.0,
                         decay_constant_gev: float = 1.0, ckm: float = 1.0) -> float:
    """Analytic ``m_l -> 0``, ``m_Z' << m_M`` limit of the longitudinal width:
    ``G_F^2 f^2 |V|^2 g^2 m_M^5 / (3072 pi^3 m_Z'^2)`` (docs/likelihoods/mesons.md)."""
    return (
        FERMI_CONSTANT_GEV2**2 * decay_constant_gev**2 * ckm**2 * coupling2
        * meson_mass_gev**5 / (3072.0 * math.pi**3 * mzp_gev**2)
    )


def lepton_energy_to_s(meson_mass_gev: float, lepton_mass_gev: float, lepton_energy_gev: float) -> float:
    """Invisible mass squared ``s = m_M^2 + m_l^2 - 2 m_M E_l`` for a lepton of energy
    ``E_l`` in the meson rest frame."""
    return meson_mass_gev**2 + lepton_mass_gev**2 - 2.0 * meson_mass_gev * lepton_energy_gev


# --- Z' coupled to the charged lepton as well: general amplitude by Dirac traces ---------------
_METRIC = np.diag([1.0, -1.0, -1.0, -1.0])


@lru_cache(maxsize=1)
def _dirac_matrices() -> tuple[np.ndarray, np.ndarray]:
    """Dirac-representation ``gamma^mu`` (shape (4, 4, 4), upper index first) and ``gamma5``."""
    i2, z2 = np.eye(2), np.zeros((2, 2))
    pauli = [np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]),
             np.array([[1, 0], [0, -1]])]
    gamma = [np.block([[i2, z2], [z2, -i2]])] + [np.block([[z2, p], [-p, z2]]) for p in pauli]
    gamma = np.array(gamma, dtype=complex)
    gamma5 = 1j * gamma[0] @ gamma[1] @ gamma[2] @ gamma[3]
    return gamma, gamma5


def _slash(p: np.ndarray) -> np.ndarray:
    """``pslash = gamma^mu p_mu`` for four-vectors ``p`` of shape (n, 4) -> (n, 4, 4)."""
    gamma, _ = _dirac_matrices()
    return np.tensordot(p @ _METRIC, gamma, axes=(1, 0))


def dalitz_momenta(s, t, meson_mass_gev: float, lepton_mass_gev: float, mzp_gev: float):
    """Four-momenta ``(p_l, p_nu, k)`` (each (n, 4)) in the meson rest frame at Dalitz
    points ``s = (p_nu + k)^2``, ``t = (p_l + p_nu)^2`` (lepton along z, nu in the x-z plane)."""
    s = np.atleast_1d(np.asarray(s, dtype=float))
    t = np.atleast_1d(np.asarray(t, dtype=float))
    big, m = meson_mass_gev, lepton_mass_gev
    e_l = (big**2 + m**2 - s) / (2.0 * big)
    u = big**2 + m**2 + mzp_gev**2 - s - t
    e_nu = (big**2 - u) / (2.0 * big)
    p_l3 = np.sqrt(np.clip(e_l**2 - m**2, 0.0, None))
    cos = np.clip((m**2 + 2.0 * e_l * e_nu - t) / (2.0 * p_l3 * e_nu), -1.0, 1.0)
    zeros = np.zeros_like(s)
    p_l = np.stack([e_l, zeros, zeros, p_l3], axis=-1)
    p_nu = np.stack([e_nu, e_nu * np.sqrt(1.0 - cos**2), zeros, e_nu * cos], axis=-1)
    k = np.stack([np.full_like(s, big), zeros, zeros, zeros], axis=-1) - p_l - p_nu
    return p_l, p_nu, k


def emission_current(p_l, p_nu, k, lepton_mass_gev: float, g_neutrino: complex,
                     g_lepton: float) -> np.ndarray:
    """Dirac matrices ``Gamma^rho`` (shape (n, 4, 4, 4), rho upper) of
    ``M^rho / C = ubar(p_nu) Gamma^rho v(p_l)``, ``C = (G_F/sqrt2) V f_M``, for Z' emission
    from the neutrino line (coupling ``g_neutrino``, left-handed) and from the charged
    lepton (vector coupling ``g_lepton``). The relative sign is the one that makes
    ``k_rho M^rho = 0`` for ``g_neutrino = g_lepton`` (conserved lepton-number current)."""
    gamma, gamma5 = _dirac_matrices()
    unit = np.eye(4)
    q = p_nu + k
    meson = p_l + q
    s = np.einsum("ni,ij,nj->n", q, _METRIC, q)
    denominator = np.einsum("ni,ij,nj->n", p_l + k, _METRIC, p_l + k) - lepton_mass_gev**2
    weak = _slash(meson) @ (unit - gamma5)
    neutrino_tail = 0.5 * (unit - gamma5) @ _slash(q) @ weak / s[:, None, None]
    lepton_head = weak @ (lepton_mass_gev * unit - _slash(p_l + k)) / denominator[:, None, None]
    from_neutrino = gamma[None] @ neutrino_tail[:, None]
    from_lepton = lepton_head[:, None] @ gamma[None]
    return g_neutrino * from_neutrino + g_lepton * from_lepton


def general_squared_amplitude(s, t, meson_mass_gev: float, lepton_mass_gev: float,
                              mzp_gev: float, g_neutrino: complex, g_lepton: float) -> np.ndarray:
    """``sum |M|^2 / (G_F^2 f_M^2 |V|^2)`` for one final neutrino flavour, Z' emitted from
    the neutrino (``g_neutrino``) and the charged lepton (``g_lepton``), by numerical Dirac
    traces with the massive-vector polarisation sum."""
    gamma, _ = _dirac_matrices()
    p_l, p_nu, k = dalitz_momenta(s, t, meson_mass_gev, lepton_mass_gev, mzp_gev)
    current = emission_current(p_l, p_nu, k, lepton_mass_gev, g_neutrino, g_lepton)
    nu_slash = _slash(p_nu)
    lepton_projector = _slash(p_l) - lepton_mass_gev * np.eye(4)

    def spin_sum(a, b):
        """``sum_spins (ubar a v)(ubar b v)^* = Tr[p_nuslash a (p_lslash - m) bbar]``."""
        b_bar = gamma[0] @ np.conj(np.swapaxes(b, -1, -2)) @ gamma[0]
        return np.trace(nu_slash @ a @ lepton_projector @ b_bar, axis1=-2, axis2=-1).real

    # -g_{rho sigma} part: only rho = sigma terms, weighted by -eta_rho
    transverse = -sum(_METRIC[r, r] * spin_sum(current[:, r], current[:, r]) for r in range(4))
    k_current = np.sum((k @ _METRIC)[:, :, None, None] * current, axis=1)
    longitudinal = spin_sum(k_current, k_current) / mzp_gev**2
    return 0.5 * (transverse + longitudinal)


def general_three_body_width(
    meson_mass_gev: float, lepton_mass_gev: float, mzp_gev: float, g_neutrino: complex,
    g_lepton: float, other_neutrino_coupling2: float = 0.0, s_max_gev2: float | None = None,
    s_nodes: int = 32, t_nodes: int = 16,
) -> float:
    """``Gamma(M+ -> l+ nu Z')`` in GeV for ``f_M = |V| = 1`` with the Z' coupled to the
    charged lepton (vector ``g_lepton``) and to the neutrinos: ``g_neutrino = (g_nu)_ll``
    interferes with the lepton-line emission, ``other_neutrino_coupling2 =
    sum_{b != l} |(g_nu)_bl|^2`` does not. Two-dimensional Gauss-Legendre in ``ln s`` and
    ``ln(u - m_l^2)`` (32 x 16 nodes: 1e-4 relative; tested against 256 x 128);
    ``s < s_max_gev2`` if given. Only the non-conserved part of the current,
    ``(g_neutrino - g_lepton)``, is longitudinally enhanced."""
    _check_masses(meson_mass_gev, lepton_mass_gev)
    if not mzp_gev > 0:
        raise ValueError(f"mzp_gev: must be positive, got {mzp_gev}")
    s_low, s_high = mzp_gev**2, (meson_mass_gev - lepton_mass_gev) ** 2
    if s_max_gev2 is not None:
        s_high = min(s_high, s_max_gev2)
    if s_high <= s_low:
        return 0.0
    xs, ws = _gauss_legendre(s_nodes)
    xt, wt = _gauss_legendre(t_nodes)
    half_log = 0.5 * (math.log(s_high) - math.log(s_low))
    s = np.exp(half_log * xs + 0.5 * (math.log(s_high) + math.log(s_low)))
    # t integral in ln(u - m_l^2), u = T - t: resolves the lepton-line propagator 1/(u - m_l^2)
    t_min, t_max = dalitz_t_limits(s, meson_mass_gev, lepton_mass_gev, mzp_gev)
    total = meson_mass_gev**2 + lepton_mass_gev**2 + mzp_gev**2 - s
    log_low = np.log(total - t_max - lepton_mass_gev**2)
    log_high = np.log(total - t_min - lepton_mass_gev**2)
    half_v = 0.5 * (log_high - log_low)
    v = np.exp(half_v[:, None] * xt[None, :] + 0.5 * (log_high + log_low)[:, None])
    t_grid = total[:, None] - lepton_mass_gev**2 - v
    s_grid = np.broadcast_to(s[:, None], t_grid.shape)
    amplitude = general_squared_amplitude(
        s_grid.ravel(), t_grid.ravel(), meson_mass_gev, lepton_mass_gev, mzp_gev,
        g_neutrino, g_lepton).reshape(t_grid.shape)
    inner = half_v * ((amplitude * v) @ wt)
    reduced = half_log * float(np.dot(ws, inner * s))
    width = FERMI_CONSTANT_GEV2**2 * reduced / ((2.0 * math.pi) ** 3 * 32.0 * meson_mass_gev**3)
    if other_neutrino_coupling2 > 0:
        width += three_body_width(meson_mass_gev, lepton_mass_gev, mzp_gev,
                                  other_neutrino_coupling2, s_max_gev2=s_max_gev2)
    return width
