"""Physical constants and unit conversions: the one place they are defined.

Internal units are natural units with energies in GeV (``G_F`` in GeV^-2). Every name
carries its unit. Values are CODATA 2018 / PDG 2024 unless stated otherwise.

Conversions go *into* internal units by multiplication, e.g. ``length_km * KM_IN_PER_GEV``
gives the length in GeV^-1, and ``energy_mev * MEV`` gives GeV.
"""
from __future__ import annotations

import math

# --- unit conversions (to GeV-based natural units) --------------------------------------
GEV = 1.0
MEV = 1.0e-3
KEV = 1.0e-6
EV = 1.0e-9

HBARC_GEV_M = 1.973269804e-16
"""hbar c in GeV m (CODATA 2018)."""
HBARC_GEV_CM = HBARC_GEV_M * 1.0e2
HBARC_GEV_FM = HBARC_GEV_M * 1.0e15
HBARC_MEV_FM = HBARC_GEV_FM * 1.0e3

KM_IN_PER_GEV = 1.0e3 / HBARC_GEV_M
"""Number of GeV^-1 in one km: ``L[GeV^-1] = L[km] * KM_IN_PER_GEV``."""
FM_IN_PER_GEV = 1.0 / HBARC_GEV_FM
"""Number of GeV^-1 in one fm."""

GEV2_TO_CM2 = HBARC_GEV_CM**2
"""A cross section in GeV^-2 times this is in cm^2."""

AVOGADRO_PER_MOL = 6.02214076e23
"""Avogadro's number in mol^-1 (exact)."""
MEV_TO_JOULE = 1.602176634e-13
"""One MeV in joule (exact: the SI elementary charge times 1e6)."""
HBAR_GEV_S = 6.582119569e-25
"""hbar in GeV s (CODATA 2018, exact)."""

SECONDS_PER_YEAR = 365.25 * 86400.0
SECONDS_PER_DAY = 86400.0

# --- electroweak ----------------------------------------------------------------------
FERMI_CONSTANT_GEV2 = 1.1663788e-5
"""G_F in GeV^-2 (PDG 2024, muon lifetime)."""
SIN2_THETA_W_MSBAR_MZ = 0.23122
"""sin^2(theta_W) in MS-bar at M_Z (PDG 2024)."""
SIN2_THETA_W_LOW_ENERGY = 0.23857
"""sin^2(theta_W) in MS-bar at Q -> 0 (PDG 2024 running; Erler & Ferro-Hernandez 2018)."""
ALPHA_EM = 1.0 / 137.035999084
"""Fine-structure constant at Q^2 = 0."""
ELECTRON_CHARGE = math.sqrt(4.0 * math.pi * ALPHA_EM)

# --- masses (GeV) -----------------------------------------------------------------------
ELECTRON_MASS_GEV = 0.51099895e-3
MUON_MASS_GEV = 0.1056583755
TAU_MASS_GEV = 1.77686
PROTON_MASS_GEV = 0.93827208816
NEUTRON_MASS_GEV = 0.93956542052
ATOMIC_MASS_UNIT_GEV = 0.93149410242
CHARGED_PION_MASS_GEV = 0.13957039
CHARGED_KAON_MASS_GEV = 0.493677
W_MASS_GEV = 80.3692
Z_MASS_GEV = 91.1876
HIGGS_MASS_GEV = 125.20
HIGGS_VEV_GEV = 246.21965
"""v = (sqrt(2) G_F)^(-1/2)."""
PLANCK_MASS_GEV = 1.22089e19
"""Planck mass sqrt(hbar c / G_N) in GeV (PDG 2024: 1.220890(14)e19)."""

# --- lifetimes (s) -----------------------------------------------------------------------
MUON_LIFETIME_S = 2.1969811e-6
TAU_LIFETIME_S = 290.3e-15
CHARGED_PION_LIFETIME_S = 2.6033e-8
CHARGED_KAON_LIFETIME_S = 1.2380e-8

# --- matter potential ----------------------------------------------------------------------
MATTER_POTENTIAL_EV_PER_GCC = (
    math.sqrt(2.0) * FERMI_CONSTANT_GEV2 * AVOGADRO_PER_MOL * HBARC_GEV_CM**3 * 1.0e9
)
"""V_CC in eV for Y_e = 1 and rho = 1 g/cm^3: ``V_CC[eV] = this * Y_e * rho[g/cm^3]``
(about 7.63e-14 eV). Derived as sqrt(2) G_F N_A (hbar c)^3."""

OSCILLATION_PHASE_KM_GEV = 1.0e-18 * KM_IN_PER_GEV / 4.0
"""``Dm^2 L / (4E)`` for Dm^2 in eV^2, L in km, E in GeV: multiply ``dm2*L/E`` by this
(about 1.267)."""

# --- the Sun -----------------------------------------------------------------------------
SOLAR_RADIUS_KM = 6.957e5
ASTRONOMICAL_UNIT_KM = 1.495978707e8
EARTH_RADIUS_KM = 6371.0
