"""Invisible Higgs decays into a light neutrino and a heavy neutral lepton, H -> nu N.

A heavy neutral lepton ``N_j`` (mass ``m_j``) that mixes with ``nu_a`` by ``Theta_aj`` through
a Yukawa coupling to the Higgs has the Dirac mass ``m_D,aj = Y_aj <H> = Theta_aj m_j``
(``<H> = v / sqrt2``; seesaw relation, small mixing). The Higgs then couples as
``-(m_D,aj / v) h nubar_a P_R N_j + h.c.`` and

    Gamma(h -> nubar_a N_j + N_j-bar nu_a) = m_D,aj^2 m_h / (8 pi v^2) (1 - m_j^2 / m_h^2)^2,

summed over ``a`` and ``j`` with ``m_j < m_h``. In the LFV model N decays to nu Z' and
Z' -> nu nubar, so the final state is invisible. ``BR_inv = Gamma_inv / (Gamma_SM + Gamma_inv)``
is compared with the upper limit (default 0.2, the talk's) as a half-normal likelihood:
``chi^2 = 3.84 (BR_inv / BR_upper)^2`` (95 % CL one-sided limit).

With ``BR < 0.2`` and ``Gamma_SM = 4.1 MeV`` this gives ``Y <H> = m_D < 3.5 GeV`` for a single
light N; the talk quotes ``Y_R <H> < 2 GeV`` (docs/likelihoods/other_constraints.md).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from globalfit.couplings import Couplings
from globalfit.likelihood import Likelihood, Point
from globalfit.paths import data_path
from globalfit.physics.constants import HIGGS_MASS_GEV, HIGGS_VEV_GEV
from globalfit.statistics import CL95_1DOF

CHI2_AT_95CL_ONE_DOF = CL95_1DOF


def dirac_masses_gev(couplings: Couplings) -> np.ndarray:
    """``m_D,aj = |Theta_aj| m_j`` in GeV, shape ``(3, n)`` (empty without HNLs)."""
    if couplings.hnl_mixing is None or not couplings.hnl_masses_gev:
        return np.zeros((3, 0))
    mixing = np.abs(np.asarray(couplings.hnl_mixing))
    masses = np.asarray(couplings.hnl_masses_gev, dtype=float)
    if mixing.shape != (3, masses.size):
        raise ValueError(f"hnl_mixing shape {mixing.shape} does not match {masses.size} HNL masses")
    return mixing * masses[None, :]


def invisible_width_gev(couplings: Couplings, higgs_mass_gev: float = HIGGS_MASS_GEV) -> float:
    """``Gamma(h -> nu N + c.c.)`` summed over flavours and kinematically open N (GeV)."""
    m_d = dirac_masses_gev(couplings)
    if m_d.size == 0:
        return 0.0
    masses = np.asarray(couplings.hnl_masses_gev, dtype=float)
    r = masses**2 / higgs_mass_gev**2
    phase_space = np.where(r < 1.0, (1.0 - np.minimum(r, 1.0)) ** 2, 0.0)
    return float(np.sum(m_d**2 * phase_space[None, :]) * higgs_mass_gev / (8.0 * np.pi * HIGGS_VEV_GEV**2))


class HiggsInvisibleLikelihood(Likelihood):
    """Upper limit on BR(H -> invisible) applied to H -> nu N."""

    name = "higgs_invisible"
    title = "Higgs invisible"
    description = "BR(H -> invisible) limit on H -> nu N (LFV model's N1, N2)"
    options_allowed = ("data_file", "br_upper")

    def __init__(self, **options):
        super().__init__(**options)
        self.path = Path(options.get("data_file") or data_path("higgs", "higgs_invisible.yaml"))
        content = yaml.safe_load(self.path.read_text())
        self.br_upper = float(options.get("br_upper", content["br_upper"]))
        if not 0 < self.br_upper < 1:
            raise ValueError(f"likelihoods.higgs_invisible.br_upper must be in (0, 1), got {self.br_upper}")
        if float(content["confidence_level"]) != 0.95:
            raise ValueError(f"{self.path}: only 95 % CL limits are supported")
        self.sm_width_gev = float(content["sm_width_gev"])

    def branching_ratio(self, couplings: Couplings) -> float:
        width = invisible_width_gev(couplings)
        return width / (self.sm_width_gev + width)

    def loglike(self, point: Point) -> float:
        return -0.5 * CHI2_AT_95CL_ONE_DOF * (self.branching_ratio(point.couplings) / self.br_upper) ** 2

    def observables(self, point: Point) -> pd.DataFrame:
        return pd.DataFrame({
            "observable": ["BR(H -> nu N)"],
            "predicted": [self.branching_ratio(point.couplings)],
            "measured": [0.0],
            "uncertainty": [self.br_upper / np.sqrt(CHI2_AT_95CL_ONE_DOF)],
            "upper_limit_95": [self.br_upper],
        })

    def data_files(self) -> list[Path]:
        return [self.path]

    def approximations(self) -> list[str]:
        return [
            "Yukawa inferred from mixing and mass (m_D = Theta m_N, small-mixing seesaw relation)",
            "N assumed to decay invisibly (N -> nu Z', Z' -> nu nubar)",
            f"BR limit {self.br_upper} read as a half-normal 95 % CL limit; SM width 4.1 MeV",
        ]
