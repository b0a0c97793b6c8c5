"""Charged-lepton flavour violation from a light Z' with off-diagonal neutrino couplings.

Observables (physics.md section 8; numbers in ``data/clfv/``):

* ``mu -> e`` conversion in gold, SINDRUM II ``R < 7e-13`` (90% CL); option ``future``
  replaces it by the Mu2e projection on aluminium;
* ``mu -> e Z'`` (TWIST, PIENU), ``tau -> e Z'``, ``tau -> mu Z'`` (Bryman-Ito-Shrock 2021
  from BABAR data, or ARGUS 1995) with the Z' invisible.

Every limit enters through `globalfit.physics.clfv.upper_limit_chi2` (half-Gaussian:
``Delta chi^2 = 2.71 (R / R_90)^2`` for a 90% CL limit). The physics (loop-induced
charged-lepton vertex, conversion rate) is in `globalfit.physics.clfv`; the couplings come
from `Couplings`: ``g_nu`` (off-diagonal entries), ``g_fermion['u'|'d']``, ``mzp_gev`` and
``hnl_masses_gev`` (the heavy fermions in the loop). Models without heavy neutral leptons or
without a light Z' predict no signal here.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from globalfit.couplings import Couplings
from globalfit.likelihood import Likelihood, Point
from globalfit.paths import data_path
from globalfit.physics import clfv as physics
from globalfit.physics.constants import (
    MUON_LIFETIME_S,
    MUON_MASS_GEV,
    TAU_LIFETIME_S,
    TAU_MASS_GEV,
)

FUTURE_CHOICES = {False: None, True: "mu2e_full", "mu2e_full": "mu2e_full", "mu2e_run1": "mu2e_run1"}
CONVERSION_CHOICES = ("nuclear", "talk")
TAU_LIMIT_CHOICES = ("bryman2021", "argus1995")
DECAY_CHANNELS = {
    # name: (parent mass, parent lifetime, flavour indices (a, b) of (g_nu)_ab)
    "mu_e": (MUON_MASS_GEV, MUON_LIFETIME_S, (0, 1)),
    "tau_e": (TAU_MASS_GEV, TAU_LIFETIME_S, (0, 2)),
    "tau_mu": (TAU_MASS_GEV, TAU_LIFETIME_S, (1, 2)),
}


def _option(options: dict, key: str, allowed, default):
    value = options.get(key, default)
    if value not in allowed:
        raise ValueError(
            f"likelihoods.clfv.{key}: {value!r} not allowed; choose from {list(allowed)}"
        )
    return value


class CLFVLikelihood(Likelihood):
    """mu -> e conversion and l_a -> l_b Z' limits for light-Z' models with heavy leptons.

    Options
    -------
    future : false (default), true / ``"mu2e_full"`` or ``"mu2e_run1"``: use a Mu2e
        projection (aluminium) instead of SINDRUM II.
    conversion : ``"nuclear"`` (default; Kitano-Koike-Okada vector operators) or
        ``"talk"`` (the parametric estimate of physics.md section 8).
    tau_limits : ``"bryman2021"`` (default) or ``"argus1995"``.
    loop_factor : float, default 1. O(1) coefficient ``C`` of the loop-induced vertex.
    """

    name = "clfv"
    title = "cLFV"
    description = "mu -> e conversion (SINDRUM II / Mu2e) and l -> l' Z' limits"
    options_allowed = ("future", "conversion", "tau_limits", "loop_factor")

    def __init__(self, **options):
        super().__init__(**options)
        self.future = FUTURE_CHOICES.get(options.get("future", False), "invalid")
        if self.future == "invalid":
            raise ValueError(
                f"likelihoods.clfv.future: {options['future']!r} not allowed; choose from "
                "false, true, 'mu2e_full', 'mu2e_run1'"
            )
        self.conversion = _option(options, "conversion", CONVERSION_CHOICES, "nuclear")
        self.tau_limits = _option(options, "tau_limits", TAU_LIMIT_CHOICES, "bryman2021")
        self.loop_factor = float(options.get("loop_factor", 1.0))
        if not self.loop_factor > 0:
            raise ValueError(f"likelihoods.clfv.loop_factor: must be > 0, got {self.loop_factor}")
        self._files = [data_path("clfv", "mu_e_conversion.yaml"),
                       data_path("clfv", "lepton_zprime.yaml")]
        conversion_data = yaml.safe_load(self._files[0].read_text())
        decay_data = yaml.safe_load(self._files[1].read_text())
        self.conversion_limit = (
            conversion_data["limits"]["sindrum2_au"] if self.future is None
            else conversion_data["projections"][self.future]
        )
        nucleus = self.conversion_limit["nucleus"]
        self.nucleus = physics.Nucleus(
            name=nucleus,
            vector_proton=conversion_data["nuclei"][nucleus]["vector_proton"],
            vector_neutron=conversion_data["nuclei"][nucleus]["vector_neutron"],
            capture_rate_per_s=conversion_data["nuclei"][nucleus]["capture_rate_per_s"],
        )
        self.decay_limits = {
            "mu_e": list(decay_data["mu_e"]),
            "tau_e": [decay_data["tau_e"][self.tau_limits]],
            "tau_mu": [decay_data["tau_mu"][self.tau_limits]],
        }

    # --- predictions -------------------------------------------------------------------------
    def _loop_inputs(self, couplings: Couplings) -> tuple[float, float] | None:
        """``(m_psi, m_Z')`` or None where the model has no loop (no HNL or no light Z')."""
        m_psi = physics.effective_heavy_mass_gev(couplings.hnl_masses_gev)
        if m_psi is None or couplings.mzp_gev is None:
            return None
        return m_psi, couplings.mzp_gev

    def conversion_rate(self, couplings: Couplings) -> float:
        """Predicted ``mu -> e`` conversion rate on this likelihood's nucleus."""
        inputs = self._loop_inputs(couplings)
        if inputs is None:
            return 0.0
        m_psi, mzp = inputs
        g_nu_emu = couplings.g_nu[0, 1]
        g_u, g_d = couplings.g_fermion.get("u", 0.0), couplings.g_fermion.get("d", 0.0)
        if self.conversion == "talk":
            return float(self.loop_factor**2 * physics.mu_e_conversion_rate_talk(
                g_nu_emu, 0.5 * (g_u + g_d), m_psi, mzp))
        vertex = physics.loop_vertex(g_nu_emu, m_psi, self.loop_factor)
        return float(physics.mu_e_conversion_rate(vertex, g_u, g_d, mzp, self.nucleus))

    def branching_ratio(self, couplings: Couplings, channel: str) -> float:
        """Predicted ``BR(l_a -> l_b Z')`` for ``channel`` in ``mu_e, tau_e, tau_mu``."""
        inputs = self._loop_inputs(couplings)
        if inputs is None:
            return 0.0
        m_psi, mzp = inputs
        parent_mass, lifetime_s, (a, b) = DECAY_CHANNELS[channel]
        vertex = physics.loop_vertex(couplings.g_nu[a, b], m_psi, self.loop_factor)
        width = physics.lepton_to_zprime_width(parent_mass, vertex, mzp)
        return float(width * lifetime_s / physics.HBAR_GEV_S)

    def _decay_terms(self, couplings: Couplings) -> list[dict[str, Any]]:
        """One row per applicable (channel, limit) pair; the strongest limit per channel."""
        rows = []
        mzp = couplings.mzp_gev
        for channel, limits in self.decay_limits.items():
            applicable = [
                entry for entry in limits
                if mzp is not None and entry["mzp_min_gev"] <= mzp < entry["mzp_max_gev"]
            ]
            if not applicable:
                continue
            predicted = self.branching_ratio(couplings, channel)
            strongest = max(
                applicable,
                key=lambda e: physics.upper_limit_chi2(1.0, e["limit"], e["confidence_level"]),
            )
            rows.append(self._row(f"BR({channel.replace('_', ' -> ')} Z')", predicted, strongest))
        return rows

    @staticmethod
    def _row(observable: str, predicted: float, entry: dict[str, Any]) -> dict[str, Any]:
        chi2 = float(physics.upper_limit_chi2(predicted, entry["limit"], entry["confidence_level"]))
        z = physics.limit_z_score(entry["confidence_level"])
        return {
            "observable": observable, "predicted": predicted, "measured": 0.0,
            "uncertainty": entry["limit"] / z, "limit": entry["limit"],
            "confidence_level": entry["confidence_level"], "delta_chi2": chi2,
            "status": entry.get("status", ""),
        }

    def _rows(self, point: Point) -> list[dict[str, Any]]:
        couplings = point.couplings
        rows = [self._row(f"R(mu -> e, {self.nucleus.name})", self.conversion_rate(couplings),
                          self.conversion_limit)]
        rows.extend(self._decay_terms(couplings))
        return rows

    # --- the contract --------------------------------------------------------------------------
    def loglike(self, point: Point) -> float:
        return -0.5 * float(sum(row["delta_chi2"] for row in self._rows(point)))

    def observables(self, point: Point) -> pd.DataFrame:
        """Predicted rates beside the limits (``measured`` = 0, ``uncertainty`` = the
        half-Gaussian sigma), with each term's ``delta_chi2``."""
        return pd.DataFrame(self._rows(point))

    def data_files(self) -> list[Path]:
        return list(self._files)

    def approximations(self) -> list[str]:
        notes = [
            "Loop-induced Z' coupling to charged leptons estimated as g_nu g^2 m_psi^2 / "
            f"(16 pi^2 m_W^2) x {self.loop_factor} (parametric, O(1) coefficient unknown); "
            "m_psi = geometric mean of the heavy-lepton masses.",
            "Upper limits as half-Gaussians: Delta chi^2 = z^2 (R / limit)^2, z = 1.645 at 90% CL.",
            "l -> l' Z': daughter-lepton mass neglected; Z' assumed invisible; searches for "
            "spin-0 or massless X applied to a vector Z'.",
        ]
        if self.conversion == "talk":
            notes.append("mu -> e conversion from the talk's parametric formula (no nuclear "
                         "matrix elements); ~1.4e4 below the Kitano-Koike-Okada rate.")
        else:
            notes.append("mu -> e conversion: Kitano-Koike-Okada vector overlap integrals "
                         f"({self.nucleus.name}), |q^2| = m_mu^2 in the Z' propagator.")
        return notes
