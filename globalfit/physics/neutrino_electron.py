"""Neutrino-electron elastic scattering (Borexino, Super-Kamiokande, SNO ES).

Differential cross section in the recoil kinetic energy ``T`` (electron at rest)::

    dsigma/dT = (2 G_F^2 m_e / pi) [ g_L^2 + g_R^2 (1 - T/E)^2 - g_L g_R m_e T / E^2 ]

with ``g_L = rho (-1/2 + kappa s_W^2) + 1`` (``nu_e``, the +1 is the charged current),
``g_L = rho (-1/2 + kappa s_W^2)`` (``nu_mu``, ``nu_tau``) and ``g_R = rho kappa s_W^2``.

Radiative corrections: we use the low-energy (Q -> 0) MS-bar ``s_W^2 = 0.23857`` (PDG running,
which contains the large logarithms) with ``rho = 1.0126`` and ``kappa = 1.0`` in the NC part
(Bahcall, Kamionkowski & Sirlin, PRD 51 (1995) 6146, their eq. for rho_NC; the number and its
provenance are in ``data/cross_sections/neutrino_electron.yaml``).
The remaining T-dependent QED corrections (below 2 % for 8B) are not included; in the
solar likelihood they are absorbed by the flux normalisations. Electron NSI are not modelled
here (the solar fits of this project use quark NSI only, which do not enter nu-e scattering).

``T_max = 2 E^2 / (m_e + 2 E)``. Energies in MeV, cross sections in cm^2.
"""
from __future__ import annotations

import numpy as np

from globalfit.datafile import data_value
from globalfit.paths import data_path
from globalfit.physics.constants import (
    ELECTRON_MASS_GEV,
    FERMI_CONSTANT_GEV2,
    GEV2_TO_CM2,
    SIN2_THETA_W_LOW_ENERGY,
)

ELECTRON_MASS_MEV = ELECTRON_MASS_GEV * 1.0e3
CROSS_SECTION_FILE = data_path("cross_sections", "neutrino_electron.yaml")
"""Holds ``rho_nc``, the low-energy NC normalisation (Bahcall-Kamionkowski-Sirlin 1995)."""
SIGMA0_CM2_PER_MEV = 2.0 * FERMI_CONSTANT_GEV2**2 * ELECTRON_MASS_GEV / np.pi * GEV2_TO_CM2 * 1.0e-3
"""``2 G_F^2 m_e / pi`` in cm^2 per MeV (1.72e-44)."""


def chiral_couplings(flavour: str) -> tuple[float, float]:
    """``(g_L, g_R)`` for ``flavour`` in ``("e", "mu", "tau")`` (see module docstring)."""
    if flavour not in ("e", "mu", "tau"):
        raise ValueError(f"flavour: {flavour!r} not allowed; choose from ('e', 'mu', 'tau')")
    s2 = SIN2_THETA_W_LOW_ENERGY
    rho_nc = float(data_value(CROSS_SECTION_FILE, "rho_nc"))
    g_l = rho_nc * (-0.5 + s2) + (1.0 if flavour == "e" else 0.0)
    return g_l, rho_nc * s2


def max_recoil_mev(energy_mev) -> np.ndarray:
    """Maximum electron kinetic energy ``2 E^2 / (m_e + 2 E)``."""
    energy = np.asarray(energy_mev, float)
    return 2.0 * energy**2 / (ELECTRON_MASS_MEV + 2.0 * energy)


def differential_cross_section_cm2_per_mev(energy_mev, recoil_mev, flavour: str) -> np.ndarray:
    """``dsigma/dT`` in cm^2/MeV; zero above ``T_max``. Broadcasts energy against recoil."""
    g_l, g_r = chiral_couplings(flavour)
    energy = np.asarray(energy_mev, float)
    recoil = np.asarray(recoil_mev, float)
    y = recoil / energy
    value = g_l**2 + g_r**2 * (1.0 - y) ** 2 - g_l * g_r * ELECTRON_MASS_MEV * recoil / energy**2
    return np.where((recoil >= 0) & (recoil <= max_recoil_mev(energy)), SIGMA0_CM2_PER_MEV * value, 0.0)


def integrated_cross_section_cm2(energy_mev, flavour: str, threshold_mev: float = 0.0,
                                 upper_mev: float = np.inf) -> np.ndarray:
    """Cross section for recoils ``threshold <= T <= min(T_max, upper)`` (analytic integral)."""
    g_l, g_r = chiral_couplings(flavour)
    energy = np.asarray(energy_mev, float)
    t_high = np.minimum(max_recoil_mev(energy), upper_mev)
    t_low = np.minimum(threshold_mev, t_high)

    def primitive(t):
        return (g_l**2 * t - g_r**2 * energy / 3.0 * ((1 - t / energy) ** 3 - 1.0)
                - g_l * g_r * ELECTRON_MASS_MEV * t**2 / (2.0 * energy**2))

    return SIGMA0_CM2_PER_MEV * (primitive(t_high) - primitive(t_low))
