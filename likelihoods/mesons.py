"""Leptonic meson decays: R_pi (PIENU), R_K (NA62) and K+ -> mu+ nu nu nubar (E949).

A light Z' coupled to neutrinos adds ``M -> l nu Z'`` (Z' invisible), longitudinally
enhanced by ``(m_M / m_Z')^2`` and not helicity suppressed (Bakhti & Farzan,
PRD 95 (2017) 095008); heavy neutral leptons mixed with ``nu_l`` remove the fraction
``|U_lN|^2`` of ``M -> l nu`` (or add ``M -> l N`` below threshold). The prediction

    R_M = R_M^SM * N_e / N_mu,
    N_l = 1 - sum_N |U_lN|^2 + sum_{N light} a_l(m_N^2) Gamma(M -> l N) / Gamma_0(M -> l nu)
          + Gamma(M -> l nu Z', in the acceptance) / Gamma_0(M -> l nu),

uses tree-level widths for the new pieces (radiative corrections assumed common), and the
acceptance windows of ``data/mesons/lepton_universality.yaml``. E949's limit on
``BR(K+ -> mu+ nu nu nubar) < 2.4e-6`` (90% CL) is applied to
``BR(K -> mu nu Z') = BR(K_mu2) Gamma(K -> mu nu Z') / Gamma_0(K -> mu nu)``. Where the Z'
also couples to the charged lepton (U(1) lepton-number models) its emission from the lepton
line is included; for equal charges the current is conserved and the longitudinal
enhancement cancels. Formulas in `globalfit.physics.meson_decays`; derivation in ``docs/likelihoods/mesons.md``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from globalfit.couplings import Couplings
from globalfit.datafile import read_yaml
from globalfit.likelihood import Likelihood, Point
from globalfit.paths import data_path
from globalfit.physics import meson_decays as md
from globalfit.physics.clfv import limit_z_score, upper_limit_chi2
from globalfit.physics.constants import (
    CHARGED_KAON_MASS_GEV,
    CHARGED_PION_MASS_GEV,
    ELECTRON_MASS_GEV,
    MUON_MASS_GEV,
)

MESON_MASSES_GEV = {"pi": CHARGED_PION_MASS_GEV, "K": CHARGED_KAON_MASS_GEV}
LEPTONS = {"e": (0, ELECTRON_MASS_GEV), "mu": (1, MUON_MASS_GEV)}
OBSERVABLES = ("r_pi", "r_k", "k_mu_nu_nu_nubar")
ACCEPTANCES = ("windows", "full")


class MesonDecayLikelihood(Likelihood):
    """R_pi, R_K and K -> mu nu nu nubar with a light Z' and heavy neutral leptons.

    Options
    -------
    include : list, subset of ``[r_pi, r_k, k_mu_nu_nu_nubar]`` (default all).
    acceptance : ``"windows"`` (default; each experiment's energy / missing-mass window)
        or ``"full"`` (every three-body decay counted as signal, the most aggressive).
    """

    name = "mesons"
    title = "Meson decays"
    description = "R_pi (PIENU), R_K (NA62), K -> mu nu nu nubar (E949) with Z' and HNLs"
    options_allowed = ("include", "acceptance")

    def __init__(self, **options):
        super().__init__(**options)
        include = options.get("include", list(OBSERVABLES))
        if isinstance(include, str):
            include = [include]
        bad = [name for name in include if name not in OBSERVABLES]
        if bad or not include:
            raise ValueError(
                f"likelihoods.mesons.include: {include!r} not allowed; choose a non-empty "
                f"subset of {list(OBSERVABLES)}"
            )
        self.include = tuple(name for name in OBSERVABLES if name in include)
        self.acceptance = options.get("acceptance", "windows")
        if self.acceptance not in ACCEPTANCES:
            raise ValueError(
                f"likelihoods.mesons.acceptance: {self.acceptance!r} not allowed; choose "
                f"from {list(ACCEPTANCES)}"
            )
        self._files = [data_path("mesons", "lepton_universality.yaml"),
                       data_path("mesons", "kaon_rare.yaml")]
        universality = read_yaml(self._files[0])
        rare = read_yaml(self._files[1])
        self.ratios = {key: universality[key] for key in ("r_pi", "r_k")}
        self.e949 = rare["k_mu_nu_nu_nubar"]
        self.k_mu2_branching_ratio = float(rare["k_mu2_branching_ratio"]["value"])

    # --- acceptance windows: the largest invisible mass^2 counted as signal ------------------
    def s_max_gev2(self, ratio_key: str, lepton: str) -> float | None:
        """Upper limit on ``s = (p_M - p_l)^2`` counted in the ``M -> l + missing`` signal
        of ``ratio_key`` (None: everything counted)."""
        if self.acceptance == "full":
            return None
        window = self.ratios[ratio_key]["acceptance"]
        meson_mass = MESON_MASSES_GEV[self.ratios[ratio_key]["meson"]]
        if "missing_mass2_max_gev2" in window:
            return float(window["missing_mass2_max_gev2"])
        if lepton == "e" and "electron_energy_min_gev" in window:
            return md.lepton_energy_to_s(
                meson_mass, ELECTRON_MASS_GEV, float(window["electron_energy_min_gev"]))
        return None

    # --- predictions ----------------------------------------------------------------------------
    @staticmethod
    def _coupling2(couplings: Couplings, flavour_index: int) -> float:
        """``g^2 = sum_b |(g_nu)_{b l}|^2 = (g_nu g_nu^dag)_{ll}``."""
        return float(np.sum(np.abs(couplings.g_nu[:, flavour_index]) ** 2))

    def channel_factor(self, couplings: Couplings, meson: str, lepton: str,
                       s_max_gev2: float | None) -> float:
        """``N_l``: the ``M -> l + invisible`` rate counted as signal, in units of the
        tree-level SM ``Gamma_0(M -> l nu)``."""
        meson_mass = MESON_MASSES_GEV[meson]
        index, lepton_mass = LEPTONS[lepton]
        factor = 1.0
        if couplings.hnl_mixing is not None:
            mixing2 = np.abs(np.asarray(couplings.hnl_mixing)[index]) ** 2
            for hnl_mass, u2 in zip(couplings.hnl_masses_gev, mixing2):
                factor -= u2
                counted = s_max_gev2 is None or hnl_mass**2 <= s_max_gev2
                if counted and u2 > 0:
                    factor += md.heavy_lepton_width(
                        meson_mass, lepton_mass, hnl_mass, u2
                    ) / md.two_body_width(meson_mass, lepton_mass)
        factor += self.three_body_fraction(couplings, meson, lepton, s_max_gev2)
        return factor

    def three_body_fraction(self, couplings: Couplings, meson: str, lepton: str,
                            s_max_gev2: float | None) -> float:
        """``Gamma(M -> l nu Z', s < s_max) / Gamma_0(M -> l nu)``. Where the Z' also couples
        to the charged lepton (``g_fermion[lepton]``), the lepton-line emission interferes
        with the neutrino-line one (general amplitude by Dirac traces)."""
        if couplings.mzp_gev is None:
            return 0.0
        meson_mass = MESON_MASSES_GEV[meson]
        index, lepton_mass = LEPTONS[lepton]
        g2 = self._coupling2(couplings, index)
        g_lepton = float(couplings.g_fermion.get(lepton, 0.0))
        if g_lepton == 0.0:
            if g2 == 0.0:
                return 0.0
            return md.three_body_over_two_body(
                meson_mass, lepton_mass, couplings.mzp_gev, g2, s_max_gev2=s_max_gev2)
        g_same = complex(couplings.g_nu[index, index])
        width = md.general_three_body_width(
            meson_mass, lepton_mass, couplings.mzp_gev, g_same, g_lepton,
            other_neutrino_coupling2=max(g2 - abs(g_same) ** 2, 0.0), s_max_gev2=s_max_gev2)
        return width / md.two_body_width(meson_mass, lepton_mass)

    def predicted_ratio(self, couplings: Couplings, ratio_key: str) -> float:
        """Predicted ``R_pi`` or ``R_K``."""
        entry = self.ratios[ratio_key]
        meson = entry["meson"]
        electron = self.channel_factor(couplings, meson, "e", self.s_max_gev2(ratio_key, "e"))
        muon = self.channel_factor(couplings, meson, "mu", self.s_max_gev2(ratio_key, "mu"))
        return float(entry["sm_prediction"]) * electron / muon

    def k_mu_zprime_branching_ratio(self, couplings: Couplings) -> float:
        """``BR(K+ -> mu+ nu Z')`` (full phase space), normalised to the measured
        ``BR(K_mu2)``."""
        return self.k_mu2_branching_ratio * self.three_body_fraction(couplings, "K", "mu", None)

    def _rows(self, point: Point) -> list[dict[str, Any]]:
        couplings = point.couplings
        rows = []
        for key in ("r_pi", "r_k"):
            if key not in self.include:
                continue
            entry = self.ratios[key]
            predicted = self.predicted_ratio(couplings, key)
            sigma = float(np.hypot(entry["uncertainty"], entry["sm_uncertainty"]))
            rows.append({
                "observable": {"r_pi": "R_pi", "r_k": "R_K"}[key], "predicted": predicted,
                "measured": float(entry["measured"]), "uncertainty": sigma,
                "delta_chi2": ((predicted - float(entry["measured"])) / sigma) ** 2,
                "status": entry["status"],
            })
        if "k_mu_nu_nu_nubar" in self.include:
            predicted = self.k_mu_zprime_branching_ratio(couplings)
            limit, cl = float(self.e949["limit"]), float(self.e949["confidence_level"])
            rows.append({
                "observable": "BR(K -> mu nu Z'(inv))", "predicted": predicted,
                "measured": 0.0, "uncertainty": limit / limit_z_score(cl),
                "delta_chi2": float(upper_limit_chi2(predicted, limit, cl)),
                "status": self.e949["status"],
            })
        return rows

    # --- the contract ---------------------------------------------------------------------------
    def loglike(self, point: Point) -> float:
        return -0.5 * float(sum(row["delta_chi2"] for row in self._rows(point)))

    def observables(self, point: Point) -> pd.DataFrame:
        """Predictions beside measurements (``uncertainty`` combines experiment and SM
        theory for R_M; the half-Gaussian sigma for the E949 limit)."""
        return pd.DataFrame(self._rows(point))

    def data_files(self) -> list[Path]:
        return list(self._files)

    def approximations(self) -> list[str]:
        return [
            "M -> l nu Z': Z' emitted from the neutrino and charged-lepton lines (not from "
            "the meson: structure-dependent terms neglected); Z' invisible.",
            "New-physics widths at tree level; radiative corrections assumed common to SM.",
            f"Acceptance '{self.acceptance}': PIENU E_e > 52 MeV, NA62 M_miss^2 < 0.013 GeV^2 "
            "(both unverified: data/mesons/lepton_universality.yaml); E949 limit applied with the Z' muon "
            "spectrum acceptance equal to the SM one.",
            "Heavy neutral leptons: M -> l nu reduced by 1 - |U_lN|^2; lighter N added as "
            "M -> l N inside the window.",
        ]
