"""Non-unitarity of the lepton mixing matrix from heavy neutral fermions.

Active neutrinos that mix with heavy SM-singlet fermions (``hnl_mixing`` of the `Couplings`:
``psi`` of the psi-mixing model, ``N1, N2`` of the LFV model) make the 3x3 mixing matrix
non-unitary, ``sum_i |U_ai|^2 = 1 - |kappa_a|^2`` with ``|kappa_a|^2 = sum_j |Theta_aj|^2``.
The limits ``|kappa_e|^2 < 2.5e-3``, ``|kappa_mu|^2 < 4.4e-4``, ``|kappa_tau|^2 < 5.6e-3``
(2 sigma; ``data/unitarity/kappa_bounds.yaml``) are read as independent half-normal
likelihoods centred on zero: ``chi^2 = sum_a (|kappa_a|^2 / sigma_a)^2`` with
``sigma_a = bound_a / 2``, so a point exactly at one bound has ``chi^2 = 4``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from globalfit.couplings import FLAVOURS, Couplings
from globalfit.datafile import read_yaml
from globalfit.likelihood import Likelihood, Point
from globalfit.paths import data_path


def kappa_squared(couplings: Couplings) -> np.ndarray:
    """``|kappa_a|^2 = sum_j |Theta_aj|^2`` for ``a = e, mu, tau`` (zeros without HNLs)."""
    if couplings.hnl_mixing is None:
        return np.zeros(3)
    mixing = np.asarray(couplings.hnl_mixing)
    if mixing.ndim != 2 or mixing.shape[0] != 3:
        raise ValueError(f"hnl_mixing: expected shape (3, n), got {mixing.shape}")
    return np.sum(np.abs(mixing) ** 2, axis=1)


class UnitarityLikelihood(Likelihood):
    """2-sigma non-unitarity limits on |kappa_a|^2, as half-normal likelihoods."""

    name = "unitarity"
    title = "Unitarity"
    description = "Non-unitarity limits on active-heavy neutrino mixing |kappa_a|^2"
    options_allowed = ("data_file",)

    def __init__(self, **options):
        super().__init__(**options)
        self.path = Path(options.get("data_file") or data_path("unitarity", "kappa_bounds.yaml"))
        content = read_yaml(self.path)
        self.bounds = np.array([float(content["kappa2_upper"][f]) for f in FLAVOURS])
        self.sigma = self.bounds / float(content["confidence_sigma"])

    def loglike(self, point: Point) -> float:
        k2 = kappa_squared(point.couplings)
        return -0.5 * float(np.sum((k2 / self.sigma) ** 2))

    def observables(self, point: Point) -> pd.DataFrame:
        return pd.DataFrame({
            "observable": [f"|kappa_{f}|^2" for f in FLAVOURS],
            "predicted": kappa_squared(point.couplings),
            "measured": np.zeros(3),
            "uncertainty": self.sigma,
            "upper_limit_2sigma": self.bounds,
        })

    def data_files(self) -> list[Path]:
        return [self.path]

    def approximations(self) -> list[str]:
        return ["2-sigma limits (unverified, as quoted in the talk; data/unitarity/kappa_bounds.yaml) read as "
                "half-normal, flavours uncorrelated"]
