"""NuTeV: effective neutral-current couplings g_L^2, g_R^2 of nu_mu with quark NSI.

Data: ``data/nutev/nutev_couplings.yaml`` (NuTeV, PRL 88 (2002) 091802, hep-ex/0110059; the
numbers are not verified in the paper, see the file). Forward model: `globalfit.physics.dis`; the measured
pair is compared with a two-dimensional Gaussian (measured errors and correlation).

Light mediator: every NSI amplitude is weighted by ``m^2 / (m^2 + Q^2)`` averaged over a
parton-model distribution of ``Q^2`` scaled to NuTeV's ``<Q^2> = 20 GeV^2`` (option
``q2_mode: distribution``, default) or evaluated at ``<Q^2>`` itself (``q2_mode: mean``).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from globalfit.datafile import read_yaml
from globalfit.likelihood import Likelihood, Point
from globalfit.paths import data_path
from globalfit.physics.dis import (
    Q2Distribution,
    effective_couplings_squared,
    normalised_quark_couplings,
)

CENTRES = ("measured", "standard_model")


class NuTeVLikelihood(Likelihood):
    """NuTeV g_L^2, g_R^2 (nu_mu NC/CC on iron) with NSI eps^{qP}_{a mu}."""

    name = "nutev"
    title = "NuTeV"
    description = "NuTeV effective couplings g_L^2, g_R^2 (nu_mu DIS) with quark NSI"
    reads = ()
    options_allowed = ("q2_mode", "mean_q2_gev2", "centre", "data_file")

    def __init__(self, **options):
        super().__init__(**options)
        self.path = Path(options.get("data_file") or data_path("nutev", "nutev_couplings.yaml"))
        content = read_yaml(self.path)
        measured, sm = content["measured"], content["standard_model"]
        self.centre = options.get("centre", "measured")
        if self.centre not in CENTRES:
            raise ValueError(f"likelihoods.nutev.centre: {self.centre!r} not allowed; choose from {CENTRES}")
        self.sm = np.array([sm["gl2"], sm["gr2"]], dtype=float)
        self.measured = np.array([measured["gl2"], measured["gr2"]], dtype=float)
        sigma = np.array([measured["gl2_sigma"], measured["gr2_sigma"]], dtype=float)
        rho = float(measured["correlation"])
        self.covariance = np.outer(sigma, sigma) * np.array([[1.0, rho], [rho, 1.0]])
        self.inverse_covariance = np.linalg.inv(self.covariance)
        self.sigma = sigma
        self.quark_couplings = normalised_quark_couplings(
            sm["sin2_theta_w_on_shell"], sm["gl2"], sm["gr2"]
        )
        self.q2_mode = options.get("q2_mode", "distribution")
        self.q2_distribution = Q2Distribution.from_kinematics(
            content["kinematics"], self.q2_mode, options.get("mean_q2_gev2"), "NuTeV"
        )

    # --- forward model ----------------------------------------------------------------
    def target(self) -> np.ndarray:
        """What the prediction is compared with: the measurement, or (``centre:
        standard_model``) the SM prediction with the measured errors (a sensitivity test)."""
        return self.measured if self.centre == "measured" else self.sm

    def predict(self, point: Point) -> np.ndarray:
        """``(g_L^2, g_R^2)`` of nu_mu at ``point``."""
        g2 = effective_couplings_squared(point.couplings, "mu", self.quark_couplings, self.q2_distribution)
        return np.array([g2["L"], g2["R"]])

    def loglike(self, point: Point) -> float:
        residual = self.predict(point) - self.target()
        return -0.5 * float(residual @ self.inverse_covariance @ residual)

    def observables(self, point: Point) -> pd.DataFrame:
        predicted = self.predict(point)
        return pd.DataFrame(
            {
                "observable": ["g_L^2 (nu_mu)", "g_R^2 (nu_mu)"],
                "predicted": predicted,
                "measured": self.target(),
                "uncertainty": self.sigma,
                "standard_model": self.sm,
            }
        )

    def data_files(self) -> list[Path]:
        return [self.path]

    def approximations(self) -> list[str]:
        return [
            "NuTeV g_L^2, g_R^2, correlation and SM values are not verified in the paper "
            "(data/nutev/nutev_couplings.yaml)",
            "quark couplings: tree level at sin^2 theta_W = 0.2227 rescaled per chirality to the SM g_P^2",
            f"light mediator: {self.q2_distribution.label}",
            "only first-generation quarks (u, d) of an isoscalar target; sea quarks and nuclear effects ignored",
        ]
