"""Heavy neutral leptons (HNL) of GeV mass: production in pseudoscalar-meson decays, decay
widths, lifetime, and the lepton-number-violating (LNV) fraction of a pair of Majorana states.

Conventions
-----------
* A Majorana HNL ``N`` of mass ``m_N`` mixes with ``nu_alpha`` by ``U_alpha``; ``usq`` is the
  3-vector ``|U_alpha|^2`` (alpha = e, mu, tau).
* Channel widths are those of Bondarenko, Boyarsky, Gorbunov, Ruchayskiy, JHEP 11 (2018) 032,
  arXiv:1805.08567 (section 3 and appendix; the same forms as Atre, Han, Pascoli, Zhang,
  JHEP 05 (2009) 030, arXiv:0901.3589): each formula is ONE charge mode, e.g.
  ``Gamma(N -> l^- P^+)``. A Majorana HNL decays equally into the charge-conjugate mode, so
  its total width is twice the sum (`total_width`, ``majorana=True``).
* Hadronic channels: exclusive single-meson modes below ``HADRONIC_SWITCH_GEV``; above it the
  quark-level widths ``N -> l u dbar``, ``N -> nu q qbar`` with the QCD factor
  ``1 + Delta_QCD`` (1805.08567 section 4: exclusive modes are a good description up to about
  1 GeV, the inclusive quark-level one above). Approximation: the width is discontinuous at
  the switch by tens of per cent; results near it carry that uncertainty.

Lepton-number violation of a pseudo-Dirac pair
----------------------------------------------
Two Majorana states of masses ``m +- Delta M / 2`` with equal widths ``Gamma`` and mixings of
equal size and opposite CP parity (``U_2 = i U_1``: a Dirac fermion when ``Delta M = 0``)
produced coherently at ``t = 0`` decay with the time distributions (proper time ``t``)

    LNV:  Gamma e^{-Gamma t} (1 - cos(Delta M t)) / 2,
    LNC:  Gamma e^{-Gamma t} (1 + cos(Delta M t)) / 2,

(the two Majorana propagators interfere with a relative sign in the LNV amplitude). Integrated
to ``t = infinity`` the LNV fraction is ``Delta M^2 / (2 (Gamma^2 + Delta M^2))``: 0 for a
Dirac pair, 1/2 for well separated states (each a Majorana HNL: half of its decays violate
lepton number), and ``R_ll = LNV / LNC = Delta M^2 / (2 Gamma^2 + Delta M^2)`` (Anamiati,
Hirsch, Nardi, JHEP 10 (2016) 010, arXiv:1607.05641: ``R_ll`` is set by ``Delta M / Gamma``).
`lnv_fraction` integrates the LNV distribution over a proper-time window.
"""
from __future__ import annotations

import math
from functools import cache

import numpy as np
from scipy import integrate

from globalfit.datafile import data_value, recording_active
from globalfit.paths import data_path
from globalfit.physics.constants import (
    CHARGED_KAON_MASS_GEV,
    CHARGED_PION_MASS_GEV,
    ELECTRON_MASS_GEV,
    FERMI_CONSTANT_GEV2,
    MUON_MASS_GEV,
    SIN2_THETA_W_LOW_ENERGY,
    TAU_MASS_GEV,
    Z_MASS_GEV,
)

HBAR_GEV_PS = 6.582119569e-13
"""hbar in GeV ps (CODATA 2018): lifetime [ps] = HBAR_GEV_PS / width [GeV]."""
LEPTON_MASSES_GEV = (ELECTRON_MASS_GEV, MUON_MASS_GEV, TAU_MASS_GEV)
HADRONIC_SWITCH_GEV = 1.0
"""Exclusive meson channels below, quark-level widths above (1805.08567 section 4)."""
HNL_INPUT_FILE = data_path("mesons", "hnl_inputs.yaml")
"""Meson masses, decay constants, vector couplings, |V_qq'|, quark masses and alpha_s(M_Z)
(PDG 2024, FLAG, 1805.08567 tables 2-3), with the status of each."""
QUARK_CHARGES = {"u": 2 / 3, "d": -1 / 3, "s": -1 / 3, "c": 2 / 3, "b": -1 / 3}
_CHARGED_MESON_MASSES_GEV = {"pi": CHARGED_PION_MASS_GEV, "K": CHARGED_KAON_MASS_GEV}
_NEUTRAL_VECTOR_KAPPA = {  # neutral-current factor kappa_V (1805.08567 table 3)
    "rho0": lambda sw2: 1.0 - 2.0 * sw2, "omega": lambda sw2: 4.0 * sw2 / 3.0,
    "phi": lambda sw2: 4.0 * sw2 / 3.0 - 1.0}


def _cached_unless_recording(build):
    """``build()`` cached, except inside `globalfit.datafile.recording` (the inventory must see
    every read)."""
    cached = cache(build)

    def table():
        return build() if recording_active() else cached()

    table.__doc__ = build.__doc__
    return table


def _value(key: str) -> float:
    return float(data_value(HNL_INPUT_FILE, key))


def _rows(name: str):
    return [(row, f"{name}.{row}") for row in data_value(HNL_INPUT_FILE, name)]


@_cached_unless_recording
def alpha_s_mz() -> float:
    """``alpha_s(M_Z)`` (``HNL_INPUT_FILE``)."""
    return _value("alpha_s_mz")


@_cached_unless_recording
def quark_masses_gev() -> dict[str, float]:
    """MS-bar quark masses in GeV (u, d, s at 2 GeV; c at m_c; b at m_b)."""
    return {q: _value(f"quark_masses_gev.{q}") for q in QUARK_CHARGES}


@_cached_unless_recording
def ckm() -> dict[tuple[str, str], float]:
    """``|V_qq'|`` keyed by ``(up, down)``."""
    return {(name[0], name[1]): _value(key) for name, key in _rows("ckm")}


@_cached_unless_recording
def charged_pseudoscalars() -> dict[str, tuple]:
    """``{meson: (mass GeV, f_P GeV, (up, down))}`` (f_pi = 130 MeV normalisation)."""
    return {name: (_CHARGED_MESON_MASSES_GEV[name] if name in _CHARGED_MESON_MASSES_GEV else _value(f"{key}.mass_gev"),
                   _value(f"{key}.decay_constant_gev"), tuple(data_value(HNL_INPUT_FILE, f"{key}.quarks")))
            for name, key in _rows("charged_pseudoscalars")}


@_cached_unless_recording
def neutral_pseudoscalars() -> dict[str, tuple]:
    """``{meson: (mass GeV, f_P GeV)}``."""
    return {name: (_value(f"{key}.mass_gev"), _value(f"{key}.decay_constant_gev"))
            for name, key in _rows("neutral_pseudoscalars")}


@_cached_unless_recording
def charged_vectors() -> dict[str, tuple]:
    """``{meson: (mass GeV, g_V GeV^2, (up, down))}``, ``g_V = f_V m_V``."""
    return {name: (_value(f"{key}.mass_gev"), _value(f"{key}.g_v_gev2"),
                   tuple(data_value(HNL_INPUT_FILE, f"{key}.quarks")))
            for name, key in _rows("charged_vectors")}


@_cached_unless_recording
def neutral_vectors() -> dict[str, tuple]:
    """``{meson: (mass GeV, g_V GeV^2, kappa_V)}`` with ``kappa_V`` at the low-energy s_W^2."""
    return {name: (_value(f"{key}.mass_gev"), _value(f"{key}.g_v_gev2"),
                   _NEUTRAL_VECTOR_KAPPA[name](SIN2_THETA_W_LOW_ENERGY))
            for name, key in _rows("neutral_vectors")}


def kallen(a, b, c):
    """Kallen function ``a^2 + b^2 + c^2 - 2ab - 2bc - 2ca``."""
    return a * a + b * b + c * c - 2.0 * (a * b + b * c + c * a)


def _sqrt_kallen(a, b, c) -> float:
    return math.sqrt(max(kallen(a, b, c), 0.0))


# --- production: P^- -> l^- N ------------------------------------------------------------
def meson_to_lepton_hnl_width(meson: str, lepton_mass_gev: float, hnl_mass_gev: float,
                              usq: float) -> float:
    """``Gamma(P^- -> l^- N)`` in GeV (0 where closed): ``G_F^2 f_P^2 |V|^2 |U|^2 m_P^3 /
    (8 pi) * lambda^1/2(1, y_N, y_l) [y_N + y_l - (y_N - y_l)^2]``, ``y = m^2 / m_P^2``
    (0901.3589 eq. (C.5); 1805.08567 eq. (2.4)). With ``m_N -> 0`` it is the SM ``P -> l nu``
    times ``|U|^2``."""
    m_p, f_p, quarks = charged_pseudoscalars()[meson]
    return pseudoscalar_to_lepton_hnl_width(m_p, f_p, ckm()[quarks], lepton_mass_gev,
                                            hnl_mass_gev, usq)


def pseudoscalar_to_lepton_hnl_width(meson_mass_gev, decay_constant_gev, ckm, lepton_mass_gev,
                                     hnl_mass_gev, usq) -> float:
    """`meson_to_lepton_hnl_width` with the meson's mass, decay constant and CKM given."""
    m_p = meson_mass_gev
    if hnl_mass_gev + lepton_mass_gev >= m_p:
        return 0.0
    y_n, y_l = (hnl_mass_gev / m_p) ** 2, (lepton_mass_gev / m_p) ** 2
    return (FERMI_CONSTANT_GEV2**2 * decay_constant_gev**2 * ckm**2 * usq * m_p**3
            / (8.0 * math.pi) * _sqrt_kallen(1.0, y_n, y_l) * (y_n + y_l - (y_n - y_l) ** 2))


# --- decays: two-body (one charge mode each) --------------------------------------------
def lepton_pseudoscalar_width(hnl_mass_gev, lepton_mass_gev, meson_mass_gev, decay_constant_gev,
                              ckm, usq) -> float:
    """``Gamma(N -> l^- P^+)`` in GeV: ``G_F^2 f_P^2 |V|^2 |U|^2 m_N^3 / (16 pi)
    [(1 - x_l^2)^2 - x_P^2 (1 + x_l^2)] lambda^1/2(1, x_P^2, x_l^2)``, ``x = m / m_N``
    (1805.08567 eq. (3.6))."""
    if lepton_mass_gev + meson_mass_gev >= hnl_mass_gev:
        return 0.0
    xl2, xp2 = (lepton_mass_gev / hnl_mass_gev) ** 2, (meson_mass_gev / hnl_mass_gev) ** 2
    return (FERMI_CONSTANT_GEV2**2 * decay_constant_gev**2 * ckm**2 * usq * hnl_mass_gev**3
            / (16.0 * math.pi) * ((1 - xl2) ** 2 - xp2 * (1 + xl2)) * _sqrt_kallen(1, xp2, xl2))


def neutrino_pseudoscalar_width(hnl_mass_gev, meson_mass_gev, decay_constant_gev, usq) -> float:
    """``Gamma(N -> nu_alpha P^0)`` in GeV: ``G_F^2 f_P^2 |U|^2 m_N^3 / (32 pi) (1 - x_P^2)^2``
    (1805.08567 eq. (3.7))."""
    if meson_mass_gev >= hnl_mass_gev:
        return 0.0
    return (FERMI_CONSTANT_GEV2**2 * decay_constant_gev**2 * usq * hnl_mass_gev**3
            / (32.0 * math.pi) * (1 - (meson_mass_gev / hnl_mass_gev) ** 2) ** 2)


def lepton_vector_width(hnl_mass_gev, lepton_mass_gev, meson_mass_gev, g_v_gev2, ckm,
                        usq) -> float:
    """``Gamma(N -> l^- V^+)`` in GeV: ``G_F^2 g_V^2 |V|^2 |U|^2 m_N^3 / (16 pi m_V^2)
    [(1 - x_l^2)^2 + x_V^2 (1 + x_l^2) - 2 x_V^4] lambda^1/2(1, x_V^2, x_l^2)``
    (1805.08567 eq. (3.8))."""
    if lepton_mass_gev + meson_mass_gev >= hnl_mass_gev:
        return 0.0
    xl2, xv2 = (lepton_mass_gev / hnl_mass_gev) ** 2, (meson_mass_gev / hnl_mass_gev) ** 2
    return (FERMI_CONSTANT_GEV2**2 * g_v_gev2**2 * ckm**2 * usq * hnl_mass_gev**3
            / (16.0 * math.pi * meson_mass_gev**2)
            * ((1 - xl2) ** 2 + xv2 * (1 + xl2) - 2 * xv2**2) * _sqrt_kallen(1, xv2, xl2))


def neutrino_vector_width(hnl_mass_gev, meson_mass_gev, g_v_gev2, kappa, usq) -> float:
    """``Gamma(N -> nu_alpha V^0)`` in GeV: ``G_F^2 kappa_V^2 g_V^2 |U|^2 m_N^3 /
    (32 pi m_V^2) (1 + 2 x_V^2)(1 - x_V^2)^2`` (1805.08567 eq. (3.9))."""
    if meson_mass_gev >= hnl_mass_gev:
        return 0.0
    xv2 = (meson_mass_gev / hnl_mass_gev) ** 2
    return (FERMI_CONSTANT_GEV2**2 * kappa**2 * g_v_gev2**2 * usq * hnl_mass_gev**3
            / (32.0 * math.pi * meson_mass_gev**2) * (1 + 2 * xv2) * (1 - xv2) ** 2)


def hnl_to_lepton_pion_width(hnl_mass_gev: float, lepton_mass_gev: float, usq: float) -> float:
    """``Gamma(N -> l^- pi^+)`` (one charge mode) in GeV."""
    m_pi, f_pi, quarks = charged_pseudoscalars()["pi"]
    return lepton_pseudoscalar_width(hnl_mass_gev, lepton_mass_gev, m_pi, f_pi, ckm()[quarks], usq)


# --- decays: three-body --------------------------------------------------------------------
def charged_current_phase_space(x_u: float, x_d: float, x_l: float) -> float:
    """``I(x_u, x_d, x_l) = 12 int_{(x_d+x_l)^2}^{(1-x_u)^2} dx / x (x - x_l^2 - x_d^2)
    (1 + x_u^2 - x) lambda^1/2(x, x_l^2, x_d^2) lambda^1/2(1, x, x_u^2)`` (1805.08567
    eq. (3.4)); 1 for massless final states, 0 where closed."""
    low, high = (x_d + x_l) ** 2, (1.0 - x_u) ** 2
    if low >= high:
        return 0.0

    def integrand(x):
        return (12.0 / x * (x - x_l**2 - x_d**2) * (1 + x_u**2 - x)
                * _sqrt_kallen(x, x_l**2, x_d**2) * _sqrt_kallen(1.0, x, x_u**2))

    return integrate.quad(integrand, low, high, epsabs=0.0, epsrel=1e-9, limit=200)[0]


def charged_current_width(hnl_mass_gev: float, usq: float, masses_gev: tuple, colours: int = 1,
                          ckm: float = 1.0) -> float:
    """``Gamma(N -> l_alpha^- u dbar)`` (or ``l_alpha^- nu_beta l_beta^+`` with ``u = nu_beta``)
    in GeV: ``N_c |V|^2 G_F^2 m_N^5 |U_alpha|^2 / (192 pi^3) I(x_u, x_d, x_l)``;
    ``masses_gev = (m_u, m_d, m_l)`` (1805.08567 eq. (3.3))."""
    m_u, m_d, m_l = masses_gev
    x = [m / hnl_mass_gev for m in (m_u, m_d, m_l)]
    return (colours * ckm**2 * FERMI_CONSTANT_GEV2**2 * hnl_mass_gev**5 * usq
            / (192.0 * math.pi**3) * charged_current_phase_space(*x))


def neutral_current_width(hnl_mass_gev: float, usq: float, fermion_mass_gev: float,
                          c1: float, c2: float, colours: int = 1) -> float:
    """``Gamma(N -> nu_alpha f fbar)`` in GeV: ``N_c G_F^2 m_N^5 |U_alpha|^2 / (192 pi^3)
    [C1 ((1 - 14x^2 - 2x^4 - 12x^6) sqrt(1 - 4x^2) + 12 x^4 (x^4 - 1) L) + 4 C2 (x^2 (2 + 10x^2
    - 12x^4) sqrt(1 - 4x^2) + 6x^4 (1 - 2x^2 + 2x^4) L)]``, ``x = m_f / m_N`` (1805.08567
    eq. (3.5))."""
    x = fermion_mass_gev / hnl_mass_gev
    if 2.0 * x >= 1.0:
        return 0.0
    root = math.sqrt(1.0 - 4.0 * x * x)
    if x > 0.02:
        log = math.log((1 - 3 * x**2 - (1 - x**2) * root) / (x**2 * (1 + root)))
    else:  # the argument is x^4 (1 + O(x^2)); the closed form cancels catastrophically
        log = 4.0 * math.log(x) if x > 0 else 0.0
    shape = (c1 * ((1 - 14 * x**2 - 2 * x**4 - 12 * x**6) * root + 12 * x**4 * (x**4 - 1) * log)
             + 4 * c2 * (x**2 * (2 + 10 * x**2 - 12 * x**4) * root
                         + 6 * x**4 * (1 - 2 * x**2 + 2 * x**4) * log))
    return colours * FERMI_CONSTANT_GEV2**2 * hnl_mass_gev**5 * usq / (192 * math.pi**3) * shape


def neutral_current_coefficients(charge: float, same_flavour_lepton: bool = False,
                                 sin2_theta_w: float = SIN2_THETA_W_LOW_ENERGY):
    """``(C1, C2)`` of `neutral_current_width` for a fermion of electric charge ``charge``;
    ``same_flavour_lepton`` adds the charged-current interference of ``N -> nu_a l_a l_a``
    (1805.08567 table 5)."""
    sw2, q = sin2_theta_w, abs(charge)
    if same_flavour_lepton:
        return 0.25 * (1 + 4 * sw2 + 8 * sw2**2), 0.5 * sw2 * (2 * sw2 + 1)
    return 0.25 * (1 - 4 * sw2 * q + 8 * sw2**2 * q**2), 0.5 * sw2 * q * (2 * sw2 * q - 1)


def alpha_s(scale_gev: float) -> float:
    """One-loop ``alpha_s`` from `alpha_s_mz`, with the number of flavours changing at
    ``m_b`` and ``m_c`` (continuous there)."""
    value, upper, masses = alpha_s_mz(), Z_MASS_GEV, quark_masses_gev()
    for n_f, threshold in ((5, masses["b"]), (4, masses["c"]), (3, 0.0)):
        low = max(scale_gev, threshold)
        b0 = (33.0 - 2.0 * n_f) / (12.0 * math.pi)
        value = value / (1.0 + value * b0 * math.log(low**2 / upper**2))
        if scale_gev >= threshold:
            return value
        upper = threshold
    return value


def qcd_factor(hnl_mass_gev: float) -> float:
    """``1 + Delta_QCD``, ``Delta_QCD = a + 5.2 a^2 + 26.4 a^3``, ``a = alpha_s(m_N) / pi``
    (1805.08567 eq. (4.3))."""
    a = alpha_s(hnl_mass_gev) / math.pi
    return 1.0 + a + 5.2 * a**2 + 26.4 * a**3


# --- total width of one flavour ------------------------------------------------------------
def _hadronic_width_exclusive(hnl_mass_gev: float, alpha: int, usq: float) -> float:
    m_l, elements = LEPTON_MASSES_GEV[alpha], ckm()
    width = sum(lepton_pseudoscalar_width(hnl_mass_gev, m_l, m, f, elements[q], usq)
                for m, f, q in charged_pseudoscalars().values())
    width += sum(lepton_vector_width(hnl_mass_gev, m_l, m, g, elements[q], usq)
                 for m, g, q in charged_vectors().values())
    width += sum(neutrino_pseudoscalar_width(hnl_mass_gev, m, f, usq)
                 for m, f in neutral_pseudoscalars().values())
    return width + sum(neutrino_vector_width(hnl_mass_gev, m, g, k, usq)
                       for m, g, k in neutral_vectors().values())


def _hadronic_width_inclusive(hnl_mass_gev: float, alpha: int, usq: float) -> float:
    lepton, masses = LEPTON_MASSES_GEV[alpha], quark_masses_gev()
    width = sum(charged_current_width(hnl_mass_gev, usq, (masses[up], masses[down], lepton),
                                      colours=3, ckm=value)
                for (up, down), value in ckm().items())
    width += sum(neutral_current_width(hnl_mass_gev, usq, masses[q],
                                       *neutral_current_coefficients(QUARK_CHARGES[q]), colours=3)
                 for q in masses)
    return width * qcd_factor(hnl_mass_gev)


def _leptonic_width(hnl_mass_gev: float, alpha: int, usq: float) -> float:
    # N -> nu_alpha nu nubar summed over flavours: G_F^2 m^5 |U|^2 / (192 pi^3)
    width = FERMI_CONSTANT_GEV2**2 * hnl_mass_gev**5 * usq / (192.0 * math.pi**3)
    for beta, m_beta in enumerate(LEPTON_MASSES_GEV):
        if beta != alpha:  # N -> l_alpha^- nu_beta l_beta^+
            width += charged_current_width(hnl_mass_gev, usq,
                                           (0.0, m_beta, LEPTON_MASSES_GEV[alpha]))
        width += neutral_current_width(hnl_mass_gev, usq, m_beta,
                                       *neutral_current_coefficients(-1.0, beta == alpha))
    return width


def flavour_width(hnl_mass_gev: float, alpha: int, usq: float) -> float:
    """Sum of the single-charge-mode widths (GeV) through ``U_alpha`` alone."""
    if usq == 0.0:
        return 0.0
    hadronic = (_hadronic_width_exclusive if hnl_mass_gev < HADRONIC_SWITCH_GEV
                else _hadronic_width_inclusive)
    return _leptonic_width(hnl_mass_gev, alpha, usq) + hadronic(hnl_mass_gev, alpha, usq)


def total_width(hnl_mass_gev: float, usq, majorana: bool = True) -> float:
    """Total width (GeV) of an HNL with ``usq = (|U_e|^2, |U_mu|^2, |U_tau|^2)``; a
    Majorana HNL has twice the width of a Dirac one (charge-conjugate modes)."""
    width = sum(flavour_width(hnl_mass_gev, alpha, float(u)) for alpha, u in enumerate(usq))
    return 2.0 * width if majorana else width


def lifetime_ps(width_gev: float) -> float:
    """Proper lifetime in ps of a state of width ``width_gev``."""
    return HBAR_GEV_PS / width_gev


# --- lepton-number violation of a pseudo-Dirac pair ----------------------------------------
def lnv_fraction(splitting_gev, width_gev, proper_time_ps=math.inf):
    """Fraction of all decays that violate lepton number and occur before ``proper_time_ps``:
    ``(Gamma / 2) int_0^T e^{-Gamma t} (1 - cos(Delta M t)) dt`` (module docstring). For
    ``T -> infinity`` it is ``Delta M^2 / (2 (Gamma^2 + Delta M^2))``; a single Majorana HNL
    is ``Delta M >> Gamma`` (``(1 - e^{-Gamma T}) / 2``)."""
    d_m, gamma = np.asarray(splitting_gev, dtype=float), np.asarray(width_gev, dtype=float)
    if np.any(gamma <= 0) or np.any(d_m < 0):
        raise ValueError(f"lnv_fraction: width ({width_gev}) must be > 0 and splitting "
                         f"({splitting_gev}) >= 0")
    t = np.asarray(proper_time_ps, dtype=float) / HBAR_GEV_PS  # in GeV^-1
    finite_t = np.where(np.isfinite(t), t, 0.0)
    survival = np.where(np.isfinite(t), np.exp(-gamma * finite_t), 0.0)
    theta = d_m * finite_t
    norm = gamma**2 + d_m**2
    # closed form, written so that every term vanishes at Delta M = 0 (exact Dirac zero):
    # (1 - e) dM^2 / D - 2 (Gamma^2 / D) e sin^2(theta / 2) - (Gamma dM / D) e sin(theta)
    return 0.5 * ((1.0 - survival) * d_m**2 - 2.0 * gamma**2 * survival * np.sin(theta / 2) ** 2
                  - gamma * d_m * survival * np.sin(theta)) / norm
