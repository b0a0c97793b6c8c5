"""Cosmology: a light Z' that thermalises with neutrinos and the effective number N_eff.

A Z' coupled to neutrinos with ``(g_nu)_ab`` is brought into equilibrium by decays and
inverse decays if ``Gamma(Z' -> nu nubar) > H`` at ``T = m_Z'``, with

    Gamma(Z' -> nu nubar) = sum_ab |(g_nu)_ab|^2 m_Z' / (24 pi)   (left-handed neutrinos),
    H(T) = 1.66 sqrt(g_*) T^2 / M_Pl,   g_* = 10.75.

A thermalised Z' that becomes non-relativistic after neutrino decoupling (``T_dec ~ 2 MeV``)
hands its entropy to the neutrinos alone and raises N_eff. Two modes:

* ``mode: boundary`` (default): the bound quoted in the talk from Huang, Ohlsson, Zhou
  (PRD 97 (2018) 075009): a thermalised Z' must have ``m_Z' > 5 MeV`` (unverified; status in
  ``data/cosmology/neff.yaml``).
  Below it ``ln L = -inf`` (a prior boundary); leave ``cosmology`` out of a run card to
  switch it off.
* ``mode: neff``: an estimate of N_eff by entropy conservation with instantaneous neutrino
  decoupling at ``T_dec`` (option ``decoupling_mev``, default 2 MeV):

      N_eff = N_eff^SM [ (g_nu + g_Z' h(m_Z' / T_dec)) / g_nu ]^{4/3},
      g_nu = 7/8 * 6 = 5.25,  g_Z' = 3,

  with ``h(x)`` the entropy of a massive boson in units of a massless one, compared with
  Planck 2018 + BAO ``N_eff = 2.99 +- 0.17`` (Gaussian). The estimate is rough: it depends
  strongly on ``T_dec`` (docs/likelihoods/other_constraints.md).

Couplings of the Z' to electrons (which could keep it in contact with the photon bath) are
not modelled; the approximation is reported when ``g_e != 0``.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import integrate

from globalfit.couplings import Couplings
from globalfit.datafile import read_yaml
from globalfit.likelihood import Likelihood, Point
from globalfit.paths import data_path
from globalfit.physics.constants import MEV, PLANCK_MASS_GEV

G_STAR_MEV = 2.0 + 7.0 / 8.0 * (4.0 + 6.0)
"""Relativistic degrees of freedom between muon annihilation and neutrino decoupling:
photons (2) and, with 7/8, e+- (4) and three neutrino flavours (6): 10.75."""
G_NEUTRINOS = 7.0 / 8.0 * 6.0
G_VECTOR = 3.0
MODES = ("boundary", "neff")


def decay_width_to_neutrinos_gev(couplings: Couplings) -> float:
    """``Gamma(Z' -> nu nubar)`` summed over flavours, in GeV (0 for a contact interaction)."""
    if couplings.mzp_gev is None:
        return 0.0
    return float(np.sum(np.abs(couplings.g_nu) ** 2) * couplings.mzp_gev / (24.0 * np.pi))


def hubble_rate_gev(temperature_gev: float) -> float:
    """Radiation-dominated ``H(T) = 1.66 sqrt(g_*) T^2 / M_Pl`` in GeV, ``g_* = 10.75``."""
    return 1.66 * np.sqrt(G_STAR_MEV) * temperature_gev**2 / PLANCK_MASS_GEV


def thermalisation_ratio(couplings: Couplings) -> float:
    """``Gamma(Z' -> nu nubar) / H(T = m_Z')``; above 1 the Z' is in equilibrium with neutrinos."""
    if couplings.mzp_gev is None:
        return 0.0
    return decay_width_to_neutrinos_gev(couplings) / hubble_rate_gev(couplings.mzp_gev)


@lru_cache(maxsize=4096)
def boson_entropy_fraction(mass_over_temperature: float) -> float:
    """Entropy density of a massive boson relative to a massless one, ``h(x)``, ``x = m / T``."""
    x = float(mass_over_temperature)
    if x < 0:
        raise ValueError(f"mass_over_temperature must be >= 0, got {x}")
    if x > 60.0:
        return 0.0

    def integrand(u):
        e = np.sqrt(u * u + x * x)
        return u * u * (e + u * u / (3.0 * e)) / np.expm1(e)

    value, _ = integrate.quad(integrand, 0.0, 80.0 + x, limit=200)
    return value / (4.0 * np.pi**4 / 45.0)


def neff_with_thermal_zprime(mzp_gev: float, decoupling_gev: float, neff_sm: float) -> float:
    """N_eff after a thermalised Z' of mass ``mzp_gev`` has decayed into neutrinos
    (instantaneous decoupling at ``decoupling_gev``; module docstring)."""
    h = boson_entropy_fraction(round(mzp_gev / decoupling_gev, 10))
    return neff_sm * ((G_NEUTRINOS + G_VECTOR * h) / G_NEUTRINOS) ** (4.0 / 3.0)


class CosmologyLikelihood(Likelihood):
    """N_eff / BBN bound on a light Z' in equilibrium with neutrinos."""

    name = "cosmology"
    title = "Cosmology"
    description = "Light Z' thermalised with neutrinos: m_Z' bound or N_eff (Planck 2018)"
    options_allowed = ("mode", "mass_bound_mev", "decoupling_mev", "data_file")

    def __init__(self, **options):
        super().__init__(**options)
        self.path = Path(options.get("data_file") or data_path("cosmology", "neff.yaml"))
        content = read_yaml(self.path)
        self.mode = options.get("mode", "boundary")
        if self.mode not in MODES:
            raise ValueError(f"likelihoods.cosmology.mode: {self.mode!r} not allowed; choose from {MODES}")
        self.mass_bound_gev = float(options.get("mass_bound_mev", content["mass_bound_mev"])) * MEV
        self.decoupling_gev = float(options.get("decoupling_mev", content["neutrino_decoupling_mev"])) * MEV
        for key, value in (("mass_bound_mev", self.mass_bound_gev), ("decoupling_mev", self.decoupling_gev)):
            if not value > 0:
                raise ValueError(f"likelihoods.cosmology.{key} must be > 0, got {value / MEV}")
        self.neff_measured = float(content["neff"]["measured"])
        self.neff_sigma = float(content["neff"]["sigma"])
        self.neff_sm = float(content["neff"]["standard_model"])

    def thermalised(self, couplings: Couplings) -> bool:
        return thermalisation_ratio(couplings) > 1.0

    def neff(self, couplings: Couplings) -> float:
        """Predicted N_eff (the SM value unless the Z' thermalises)."""
        if not self.thermalised(couplings):
            return self.neff_sm
        return neff_with_thermal_zprime(couplings.mzp_gev, self.decoupling_gev, self.neff_sm)

    def loglike(self, point: Point) -> float:
        couplings = point.couplings
        if self.mode == "boundary":
            excluded = self.thermalised(couplings) and couplings.mzp_gev < self.mass_bound_gev
            return -np.inf if excluded else 0.0
        return -0.5 * ((self.neff(couplings) - self.neff_measured) / self.neff_sigma) ** 2

    def observables(self, point: Point) -> pd.DataFrame:
        c = point.couplings
        rows = [
            {"observable": "Gamma(Z'->nu nu)/H(T=m_Z')", "predicted": thermalisation_ratio(c),
             "measured": np.nan, "uncertainty": np.nan},
            {"observable": "N_eff", "predicted": self.neff(c), "measured": self.neff_measured,
             "uncertainty": self.neff_sigma},
        ]
        if self.mode == "boundary":
            rows.append({"observable": "m_Z' [MeV] (bound if thermalised)",
                         "predicted": np.nan if c.mzp_gev is None else c.mzp_gev / MEV,
                         "measured": self.mass_bound_gev / MEV, "uncertainty": np.nan})
        return pd.DataFrame(rows)

    def data_files(self) -> list[Path]:
        return [self.path]

    def approximations(self) -> list[str]:
        if self.mode == "boundary":
            return ["m_Z' > 5 MeV for a thermalised Z' (Huang-Ohlsson-Zhou as quoted in the talk; "
                    "unverified, data/cosmology/neff.yaml)",
                    "thermalisation criterion Gamma(Z'->nu nu) > H(T = m_Z') (decays and inverse decays only)"]
        return ["N_eff from entropy conservation with instantaneous neutrino decoupling at "
                f"{self.decoupling_gev / MEV:g} MeV (strongly T_dec dependent)",
                "Z' couplings to electrons not included in the thermal history"]
