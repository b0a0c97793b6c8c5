"""CHARM: the nu_e-nucleon NC/CC ratio, bounding eps^q_ee and eps^q_{tau e}, eps^q_{mu e}.

Data: ``data/charm/charm_nue.yaml`` (CHARM, PLB 180 (1986) 303; unverified, status in the file).
Following Davidson et al. (JHEP 0303 (2003) 011) the measured ratio is read as
``R_e = (g_L^e)^2 + (g_R^e)^2`` with the effective couplings of an incoming nu_e
(`globalfit.physics.dis.effective_couplings_squared`), compared with a Gaussian.
The Standard-Model quark couplings are those of the NuTeV data file (lepton universality).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from globalfit.datafile import read_yaml
from globalfit.likelihood import Likelihood, Point
from globalfit.paths import data_path
from globalfit.physics.dis import (
    Q2Distribution,
    effective_couplings_squared,
    normalised_quark_couplings,
)


class CharmLikelihood(Likelihood):
    """CHARM R_e = (g_L^e)^2 + (g_R^e)^2 for nu_e with quark NSI."""

    name = "charm"
    title = "CHARM"
    description = "CHARM nu_e NC/CC ratio with quark NSI eps^q_ee, eps^q_{tau e}"
    reads = ()
    options_allowed = ("q2_mode", "mean_q2_gev2", "data_file")

    def __init__(self, **options):
        super().__init__(**options)
        self.path = Path(options.get("data_file") or data_path("charm", "charm_nue.yaml"))
        content = read_yaml(self.path)
        self.nutev_path = data_path("nutev", "nutev_couplings.yaml")
        sm = read_yaml(self.nutev_path)["standard_model"]
        self.quark_couplings = normalised_quark_couplings(sm["sin2_theta_w_on_shell"], sm["gl2"], sm["gr2"])
        self.sm = float(sm["gl2"] + sm["gr2"])
        self.measured = float(content["measured"]["re"])
        self.sigma = float(content["measured"]["re_sigma"])
        self.q2_mode = options.get("q2_mode", "distribution")
        self.q2_distribution = Q2Distribution.from_kinematics(
            content["kinematics"], self.q2_mode, options.get("mean_q2_gev2"), "CHARM"
        )

    def predict(self, point: Point) -> float:
        """``(g_L^e)^2 + (g_R^e)^2`` at ``point``."""
        g2 = effective_couplings_squared(point.couplings, "e", self.quark_couplings, self.q2_distribution)
        return g2["L"] + g2["R"]

    def loglike(self, point: Point) -> float:
        return -0.5 * ((self.predict(point) - self.measured) / self.sigma) ** 2

    def observables(self, point: Point) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "observable": ["R_e = (g_L^e)^2 + (g_R^e)^2"],
                "predicted": [self.predict(point)],
                "measured": [self.measured],
                "uncertainty": [self.sigma],
                "standard_model": [self.sm],
            }
        )

    def data_files(self) -> list[Path]:
        return [self.path, self.nutev_path]

    def approximations(self) -> list[str]:
        return [
            "CHARM R_e = 0.406 +- 0.140 is unverified (data/charm/charm_nue.yaml), read as (g_L^e)^2 + (g_R^e)^2 "
            "as by Davidson et al.",
            f"light mediator: {self.q2_distribution.label}",
        ]
