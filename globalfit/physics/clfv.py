"""Charged-lepton flavour violation induced by a light Z' with off-diagonal neutrino couplings.

In the LFV-NSI model (physics.md section 8) the Z' couples off-diagonally to neutrinos,
``(g_nu)_ab``, through heavy neutral leptons of mass ``m_psi``. A W loop with the heavy
leptons induces an off-diagonal Z' coupling to charged leptons (the "GIM-like" mass
insertion ``m_psi^2 / m_W^2``; the talk's estimate):

    (g_l)_ab = (g_nu)_ab (g_SU2^2 / 16 pi^2) (m_psi^2 / m_W^2) * C
             = (g_nu)_ab sqrt2 G_F m_psi^2 / (4 pi^2) * C,        C = O(1) (set to 1),

as a left-handed vector coupling ``(g_l)_ab Z'_mu lbar_b gamma^mu P_L l_a``. From it:

* ``l_a -> l_b Z'`` (two-body, ``m_b`` neglected):
  ``Gamma = |g_l|^2 m_a^3 / (32 pi m_Z'^2) (1 - x)^2 (1 + 2x)``, ``x = m_Z'^2 / m_a^2``;
* ``mu -> e`` conversion on a nucleus through Z' exchange with the quarks
  (Kitano, Koike, Okada, PRD 66 (2002) 096002): the four-fermion coefficient
  ``(G_F/sqrt2) g_LV(q) = (g_l)_emu g_q / (m_Z'^2 + m_mu^2)`` (momentum transfer
  ``|q^2| ~ m_mu^2``), ``omega = 2 G_F^2 m_mu^5 |(2 g_LV(u) + g_LV(d)) V_p +
  (g_LV(u) + 2 g_LV(d)) V_n|^2`` with ``V_p, V_n`` in units of ``m_mu^(5/2)``, and
  ``R = omega / omega_capture``;
* the talk's parametric estimate (kept for comparison, option ``conversion: talk``):
  ``R ~ ((g_nu)_emu g_q / 16 pi^2)^2 (m_psi^2 / (m_mu^2 + m_Z'^2))^2``.

The two conversion formulas differ by a factor ~1.4e4 at the talk's benchmark; see
``docs/likelihoods/clfv.md``. Masses in GeV, rates in GeV or dimensionless.

Also here: `upper_limit_chi2`, the Delta chi^2 of a one-sided upper limit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.stats import norm

from globalfit.physics.constants import FERMI_CONSTANT_GEV2, HBAR_GEV_S, MUON_MASS_GEV

"""hbar in GeV s (CODATA 2018), to turn a capture rate in s^-1 into GeV."""


@dataclass(frozen=True)
class Nucleus:
    """Overlap integrals (units of ``m_mu^(5/2)``) and muon capture rate of a target."""

    name: str
    vector_proton: float
    vector_neutron: float
    capture_rate_per_s: float

    @property
    def capture_rate_gev(self) -> float:
        return self.capture_rate_per_s * HBAR_GEV_S


# --- the loop-induced vertex -----------------------------------------------------------------
def loop_vertex(g_nu_ab, m_psi_gev, loop_factor: float = 1.0):
    """Induced Z' coupling to charged leptons ``(g_l)_ab = (g_nu)_ab sqrt2 G_F m_psi^2
    / (4 pi^2) * loop_factor`` (= ``g_nu g^2 m_psi^2 / (16 pi^2 m_W^2)``)."""
    return (
        np.asarray(g_nu_ab) * math.sqrt(2.0) * FERMI_CONSTANT_GEV2
        * np.asarray(m_psi_gev) ** 2 / (4.0 * math.pi**2) * loop_factor
    )


def effective_heavy_mass_gev(hnl_masses_gev) -> float | None:
    """``m_psi`` of the loop: the geometric mean of the heavy-lepton masses
    (``sqrt(m_N1 m_N2)`` for two); None if the model has none."""
    masses = np.asarray(hnl_masses_gev, dtype=float)
    if masses.size == 0:
        return None
    return float(np.exp(np.mean(np.log(masses))))


# --- l_a -> l_b Z' -------------------------------------------------------------------------------
def lepton_to_zprime_width(parent_mass_gev: float, vertex, mzp_gev: float):
    """``Gamma(l_a -> l_b Z')`` in GeV for a left-handed coupling ``vertex`` (daughter
    lepton mass neglected); zero for ``m_Z' >= m_a``."""
    if not mzp_gev > 0:
        raise ValueError(f"mzp_gev: must be positive, got {mzp_gev}")
    if mzp_gev >= parent_mass_gev:
        return np.zeros_like(np.asarray(vertex, dtype=float))
    x = (mzp_gev / parent_mass_gev) ** 2
    return (
        np.abs(vertex) ** 2 * parent_mass_gev**3 / (32.0 * math.pi * mzp_gev**2)
        * (1.0 - x) ** 2 * (1.0 + 2.0 * x)
    )


# --- mu -> e conversion ---------------------------------------------------------------------------
def mu_e_conversion_rate(vertex_emu, g_u: float, g_d: float, mzp_gev: float,
                         nucleus: Nucleus):
    """Conversion rate ``R = omega_conv / omega_capture`` (Kitano-Koike-Okada vector
    operators) for Z' exchange between the induced vertex and quarks of vector couplings
    ``g_u``, ``g_d``."""
    propagator = 1.0 / (mzp_gev**2 + MUON_MASS_GEV**2)
    g_lv_u = math.sqrt(2.0) / FERMI_CONSTANT_GEV2 * np.abs(vertex_emu) * g_u * propagator
    g_lv_d = math.sqrt(2.0) / FERMI_CONSTANT_GEV2 * np.abs(vertex_emu) * g_d * propagator
    amplitude = (2.0 * g_lv_u + g_lv_d) * nucleus.vector_proton + (
        g_lv_u + 2.0 * g_lv_d) * nucleus.vector_neutron
    omega = 2.0 * FERMI_CONSTANT_GEV2**2 * MUON_MASS_GEV**5 * amplitude**2
    return omega / nucleus.capture_rate_gev


def mu_e_conversion_rate_talk(g_nu_emu, g_q: float, m_psi_gev: float, mzp_gev: float):
    """The talk's parametric estimate
    ``R ~ (g_nu g_q / 16 pi^2)^2 (m_psi^2 / (m_mu^2 + m_Z'^2))^2`` (physics.md section 8)."""
    return (np.abs(g_nu_emu) * g_q / (16.0 * math.pi**2)) ** 2 * (
        m_psi_gev**2 / (MUON_MASS_GEV**2 + mzp_gev**2)
    ) ** 2


# --- statistics of an upper limit ------------------------------------------------------------
def upper_limit_chi2(predicted, limit: float, confidence_level: float = 0.9):
    """``Delta chi^2`` of a prediction against a one-sided upper limit.

    The limit is read as a Gaussian measurement centred at zero, truncated to the physical
    region, with ``sigma = limit / z`` and ``z = Phi^-1((1 + CL) / 2)`` (1.645 for 90% CL):
    the half-Gaussian puts ``CL`` of its mass below the limit, and
    ``Delta chi^2 = (predicted / sigma)^2`` equals ``z^2`` (2.71 at 90% CL) at the limit.
    """
    if not (limit > 0 and 0 < confidence_level < 1):
        raise ValueError(
            f"limit ({limit}) must be > 0 and confidence_level ({confidence_level}) in (0, 1)"
        )
    return (np.asarray(predicted, dtype=float) * limit_z_score(confidence_level) / limit) ** 2


@lru_cache(maxsize=16)
def limit_z_score(confidence_level: float) -> float:
    """``z = Phi^-1((1 + CL) / 2)``: the limit in units of the half-Gaussian sigma."""
    return float(norm.ppf(0.5 + 0.5 * confidence_level))
