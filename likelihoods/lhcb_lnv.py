"""LHCb search for lepton-number violation in ``B- -> pi+ mu- mu-`` through an on-shell heavy
neutral lepton (data/lhcb/b_to_pi_mu_mu.yaml; docs/likelihoods/lhcb_lnv.md).

Prediction (narrow width; physics in `globalfit.physics.heavy_neutral_leptons`)::

    B(B- -> pi+ mu- mu-) = tau_B Gamma(B- -> mu- N; |U_mu|^2) x 2 Gamma(N -> mu pi) / Gamma_N
                           x F_LNV(Delta M, Gamma_N, T)

* The model's N1, N2 are the Weyl components of one Dirac fermion of mass ``m_N`` (``m_N1 =
  m_N2``); its two Majorana states, split by ``Delta M`` (model parameter ``delta_m_n``), each
  carry half of every mixing: ``|U_alpha|^2 / 2`` with ``|U_alpha|^2`` the sum of the pair's
  ``hnl_mixing`` row ``alpha``. Production sums the two states (``|U_mu|^2``).
* ``Gamma_N``: total width of one Majorana state (every open channel, every flavour mixed).
* ``F_LNV``: fraction of decays that violate lepton number and happen within the proper time
  ``T`` = option ``prompt_proper_time_ps`` (`lnv_fraction`): 0 for a Dirac pair, ``(1 -
  exp(-Gamma T)) / 2`` for a single Majorana HNL (``Delta M >> Gamma``).

The limit (option ``limit``): ``lhcb_2011`` is the one verified number, ``B < 5.8e-8`` at 95 %
CL (LHCb, arXiv:1110.0730, abstract), applied at every ``m_N`` with
``Delta chi^2 = z^2 (B / B_95)^2`` (`globalfit.physics.clfv.upper_limit_chi2`). ``lhcb_2014``
(arXiv:1401.5361: limits versus ``m_N`` and ``tau_N``, |V_muN|^2 curve) is refused: its
curves were not reached (data file's search record).
"""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from globalfit.couplings import Couplings
from globalfit.datafile import read_yaml
from globalfit.likelihood import Likelihood, Point
from globalfit.paths import data_path
from globalfit.physics import heavy_neutral_leptons as hnl
from globalfit.physics.clfv import upper_limit_chi2
from globalfit.physics.constants import MUON_MASS_GEV

LIMIT_CHOICES = ("lhcb_2011", "lhcb_2014")
MUON = 1
DEGENERACY_TOLERANCE = 1e-9
"""Relative difference of m_N1 and m_N2 accepted as one Dirac mass."""


def pair_mixing(couplings: Couplings) -> tuple[float, tuple[float, float, float]] | None:
    """``(M_N, (|U_e|^2, |U_mu|^2, |U_tau|^2))`` of the Dirac pair of ``couplings``; None for
    a model without heavy neutral leptons (no on-shell N: no signal).

    Raises
    ------
    ValueError
        If the model has no pair of heavy leptons, their masses differ (name both keys), or
        nu_mu mixes with both Weyl components (the cancellation pattern then differs).
    """
    masses, mixing = couplings.hnl_masses_gev, couplings.hnl_mixing
    if len(masses) == 0:
        return None
    if len(masses) != 2 or mixing is None:
        raise ValueError("likelihoods.lhcb_lnv: needs a model with a pair of heavy neutral "
                         f"leptons (hnl_masses_gev has {len(masses)}); use lfv_nsi")
    m_1, m_2 = (float(m) for m in masses)
    if abs(m_1 - m_2) > DEGENERACY_TOLERANCE * max(m_1, m_2):
        raise ValueError(
            f"likelihoods.lhcb_lnv: m_n1 = {m_1} GeV and m_n2 = {m_2} GeV differ; N1, N2 are "
            "the components of one Dirac fermion: set m_n2 equal to m_n1 (a Majorana "
            "splitting is the parameter delta_m_n)")
    if abs(mixing[MUON, 0]) > 0 and abs(mixing[MUON, 1]) > 0:
        raise ValueError("likelihoods.lhcb_lnv: nu_mu mixes with both N1 and N2; the "
                         "two-state interference here assumes one of them")
    usq = tuple(float(abs(mixing[alpha, 0]) ** 2 + abs(mixing[alpha, 1]) ** 2)
                for alpha in range(3))
    return m_1, usq


class LHCbLNV(Likelihood):
    """``B- -> pi+ mu- mu-`` through an on-shell Majorana pair, against an LHCb limit.

    Options
    -------
    limit : ``"lhcb_2011"`` (required; the only verified limit) or ``"lhcb_2014"``
        (refused: curves not reached).
    prompt_proper_time_ps : float (required). Proper time within which an N decay counts as
        seen by the prompt selection (later decays are lost).
    """

    name = "lhcb_lnv"
    title = "LHCb B -> pi mu mu (LNV)"
    description = "LHCb B- -> pi+ mu- mu- limit: on-shell Majorana pair with splitting"
    reads = ("m_n1", "m_n2", "delta_m_n")
    card_reads = ("delta_m_n",)
    options_allowed = ("limit", "prompt_proper_time_ps")

    def __init__(self, **options):
        super().__init__(**options)
        for key in self.options_allowed:
            if key not in options:
                raise ValueError(f"likelihoods.lhcb_lnv.{key}: required (no default); e.g. "
                                 "{limit: lhcb_2011, prompt_proper_time_ps: 1.0}")
        limit = options["limit"]
        if limit not in LIMIT_CHOICES:
            raise ValueError(f"likelihoods.lhcb_lnv.limit: {limit!r} not allowed; choose from "
                             f"{list(LIMIT_CHOICES)}")
        self.path = data_path("lhcb", "b_to_pi_mu_mu.yaml")
        content = read_yaml(self.path)
        entry = content["limits"][limit]
        if limit == "lhcb_2014":
            raise ValueError(
                "likelihoods.lhcb_lnv.limit: 'lhcb_2014' has no limit curve in "
                f"{self.path.name} (branching_fraction_limit_vs_mass is "
                f"{entry['branching_fraction_limit_vs_mass']}: the paper's figures were not "
                "reached); use limit: lhcb_2011, or add the curve with its provenance")
        self.limit_name = limit
        self.limit = float(entry["branching_fraction_limit"])
        self.confidence_level = float(entry["confidence_level"])
        self.b_lifetime_ps = float(content["b_meson"]["lifetime_ps"])
        self.prompt_proper_time_ps = float(options["prompt_proper_time_ps"])
        if not self.prompt_proper_time_ps > 0:
            raise ValueError("likelihoods.lhcb_lnv.prompt_proper_time_ps: must be > 0 ps, got "
                             f"{options['prompt_proper_time_ps']!r}")

    def branching_fraction(self, couplings: Couplings) -> float:
        """Predicted visible ``B(B- -> pi+ mu- mu-)``."""
        pair = pair_mixing(couplings)
        if pair is None:
            return 0.0
        mass, usq = pair
        if usq[MUON] == 0.0:
            return 0.0
        production = hnl.meson_to_lepton_hnl_width("B", MUON_MASS_GEV, mass, usq[MUON])
        if production == 0.0 or hnl.hnl_to_lepton_pion_width(mass, MUON_MASS_GEV, 1.0) == 0.0:
            return 0.0
        splitting = float(couplings.extras["delta_m_n_gev"])
        if splitting == 0.0:  # exact Dirac pair: lnv_fraction is exactly 0
            return 0.0
        state_usq = tuple(u / 2.0 for u in usq)
        width = hnl.total_width(mass, state_usq, majorana=True)
        mu_pi = 2.0 * hnl.hnl_to_lepton_pion_width(mass, MUON_MASS_GEV, state_usq[MUON]) / width
        lnv = float(hnl.lnv_fraction(splitting, width, self.prompt_proper_time_ps))
        return production * self.b_lifetime_ps / hnl.HBAR_GEV_PS * mu_pi * lnv

    def loglike(self, point: Point) -> float:
        predicted = self.branching_fraction(point.couplings)
        return -0.5 * float(upper_limit_chi2(predicted, self.limit, self.confidence_level))

    def observables(self, point: Point) -> pd.DataFrame:
        return pd.DataFrame({
            "observable": ["B(B- -> pi+ mu- mu-)"],
            "predicted": [self.branching_fraction(point.couplings)],
            "measured": [0.0],
            "uncertainty": [self.limit / math.sqrt(
                float(upper_limit_chi2(self.limit, self.limit, self.confidence_level)))],
        })

    def data_files(self) -> list[Path]:
        return [self.path]

    def approximations(self) -> list[str]:
        return [
            f"the {self.limit_name} limit {self.limit:g} (one number from the "
            "abstract) is applied at every m_N; the paper's limit versus m_N was not reached",
            f"an N decay counts only within {self.prompt_proper_time_ps:g} ps proper "
            "time (card option); LHCb's acceptance versus lifetime is not modelled",
            "N widths: exclusive meson channels below 1 GeV, quark level above "
            "(1805.08567); eta, eta' and vector couplings unverified (data/mesons/hnl_inputs.yaml)",
        ]
