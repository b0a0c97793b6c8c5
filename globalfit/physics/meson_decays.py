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
