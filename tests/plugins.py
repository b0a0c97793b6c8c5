"""Test doubles for framework tests: a small model and analytic likelihoods.

They are real plug-ins (loaded by run cards as ``plugins:ClassName``; ``tests/`` is on
``sys.path`` under pytest) whose posteriors are known in closed form, so the framework's
samplers, guards and bookkeeping can be checked against exact answers.

* `DiagonalNSIModel`: parameters ``eps_ee``, ``eps_mumu`` (electron NSI, dimensionless) and
  ``mzp`` (GeV) -> ``Couplings`` with ``eps^e = diag(eps_ee, eps_mumu, 0)``; derived
  ``eps_ee_minus_mumu``.
* `GaussianLikelihood`: a bivariate normal measurement of ``(eps^e_ee, eps^e_mumu)`` at
  ``Q^2 = 0`` with options ``mean``, ``sigma``, ``correlation``. With flat priors much
  wider than ``sigma`` the posterior is that normal: mean, covariance known exactly.
* `ShiftedGaussianLikelihood`: the same, with a nuisance offset ``shift`` on the measured
  ``eps_ee`` (default prior N(0, 1)); marginal posterior variance of ``eps_ee`` is
  ``sigma_ee^2 + 1``.
* `FlakyLikelihood`: returns NaN above ``nan_above``, +inf below ``inf_below`` and raises
  ``FloatingPointError`` in ``[raise_low, raise_high]`` (for the failure guard).
* `InterruptingGaussianLikelihood`: sends ``interrupt_signal`` (default SIGINT) to its own
  process after ``interrupt_after`` evaluations: Ctrl-C, SIGTERM or a hard kill (SIGKILL)
  in the middle of a step.
* `NeedsGPsiLikelihood`: reads ``g_psi``, a parameter the test model does not have.
"""
from __future__ import annotations

import os
import signal

import numpy as np

from globalfit.couplings import Couplings
from globalfit.likelihood import Likelihood, Point
from globalfit.models.base import Model


class DiagonalNSIModel(Model):
    name = "test_diagonal_nsi"
    description = "Diagonal electron NSI eps^e = diag(eps_ee, eps_mumu, 0) with a mediator mass"
    parameters = {
        "eps_ee": {"default": 0.0, "unit": "none", "latex": r"\varepsilon^e_{ee}",
                   "min": -10.0, "max": 10.0},
        "eps_mumu": {"default": 0.0, "unit": "none", "latex": r"\varepsilon^e_{\mu\mu}",
                     "min": -10.0, "max": 10.0},
        "mzp": {"default": 1.0, "unit": "GeV", "latex": "m_{Z'}", "min": 1e-6, "max": 1e3},
    }

    def couplings(self, params):
        eps_ee, eps_mumu = self.value(params, "eps_ee"), self.value(params, "eps_mumu")
        return Couplings(eps0={"e": np.diag([eps_ee, eps_mumu, 0.0])},
                         mzp_gev=self.value(params, "mzp"))

    def derived(self, params):
        return {"eps_ee_minus_mumu": self.value(params, "eps_ee") - self.value(params, "eps_mumu")}


class GaussianLikelihood(Likelihood):
    name = "gauss"
    description = "Bivariate normal measurement of (eps^e_ee, eps^e_mumu) (test double)"
    options_allowed = ("mean", "sigma", "correlation")

    def __init__(self, mean=(0.3, -0.2), sigma=(0.1, 0.2), correlation=0.5, **options):
        super().__init__(**options)
        self.mean = np.asarray(mean, dtype=float)
        sigma = np.asarray(sigma, dtype=float)
        if np.any(sigma <= 0):
            raise ValueError(f"likelihoods.{self.name}.sigma: must be positive, got {sigma}")
        self.covariance = np.outer(sigma, sigma) * np.array([[1, correlation], [correlation, 1]])
        self.inverse = np.linalg.inv(self.covariance)

    def predicted(self, point: Point) -> np.ndarray:
        eps = point.couplings.eps("e", 0.0)
        return np.array([eps[0, 0].real, eps[1, 1].real])

    def measured(self, point: Point) -> np.ndarray:
        return self.mean

    def loglike(self, point: Point) -> float:
        residual = self.predicted(point) - self.measured(point)
        return -0.5 * float(residual @ self.inverse @ residual)

    def observables(self, point: Point):
        import pandas as pd

        return pd.DataFrame({"observable": ["eps_e_ee", "eps_e_mumu"],
                             "predicted": self.predicted(point),
                             "measured": self.measured(point),
                             "uncertainty": np.sqrt(np.diag(self.covariance))})


class ShiftedGaussianLikelihood(GaussianLikelihood):
    name = "shifted"
    description = "GaussianLikelihood with a nuisance offset on the measured eps_ee (test double)"
    nuisance_parameters = {"shift": {"prior": "gaussian", "mean": 0.0, "sigma": 1.0,
                                     "latex": r"\delta"}}

    def measured(self, point: Point) -> np.ndarray:
        return self.mean + np.array([self.nuisance(point, "shift"), 0.0])


class FlakyLikelihood(Likelihood):
    name = "flaky"
    description = "Fails on purpose in given ranges of eps_ee (test double)"
    options_allowed = ("nan_above", "inf_below", "raise_low", "raise_high")

    def __init__(self, nan_above=np.inf, inf_below=-np.inf, raise_low=np.inf, raise_high=np.inf,
                 **options):
        super().__init__(**options)
        self.nan_above, self.inf_below = nan_above, inf_below
        self.raise_range = (raise_low, raise_high)

    def loglike(self, point: Point) -> float:
        x = point["eps_ee"]
        if x > self.nan_above:
            return float("nan")
        if x < self.inf_below:
            return float("inf")
        if self.raise_range[0] <= x <= self.raise_range[1]:
            raise FloatingPointError("overflow in test double")
        return -0.5 * x * x


class FlakyBatchLikelihood(FlakyLikelihood):
    """`FlakyLikelihood` with a ``loglike_batch``: NaN / +inf per point, and the whole batch
    raises if one of its points is in the raise range (test double of the batch path)."""

    name = "flaky_batch"
    description = "FlakyLikelihood with a vectorised loglike_batch (test double)"

    def __init__(self, **options):
        super().__init__(**options)
        self.batch_calls = 0

    def loglike_batch(self, points) -> np.ndarray:
        self.batch_calls += 1
        x = np.array([p["eps_ee"] for p in points])
        if np.any((self.raise_range[0] <= x) & (x <= self.raise_range[1])):
            raise FloatingPointError("overflow in test double")
        values = -0.5 * x * x
        values[x > self.nan_above] = np.nan
        values[x < self.inf_below] = np.inf
        return values


class InterruptingGaussianLikelihood(GaussianLikelihood):
    name = "interrupting"
    description = "GaussianLikelihood that signals its own process after N calls (test double)"
    options_allowed = GaussianLikelihood.options_allowed + ("interrupt_after", "interrupt_signal")

    def __init__(self, interrupt_after=10, interrupt_signal="SIGINT", **options):
        super().__init__(**options)
        self.interrupt_after = int(interrupt_after)
        self.interrupt_signal = getattr(signal, interrupt_signal)
        self.calls = 0

    def loglike(self, point: Point) -> float:
        self.calls += 1
        if self.calls == self.interrupt_after:
            os.kill(os.getpid(), self.interrupt_signal)
        return super().loglike(point)


class NeedsGPsiLikelihood(Likelihood):
    name = "needs_g_psi"
    description = "Reads g_psi (test double for the 'nobody provides' check)"
    reads = ("g_psi",)

    def loglike(self, point: Point) -> float:
        return 0.0


class NeedsGPsiModel(DiagonalNSIModel):
    """The diagonal model whose couplings would also need ``g_psi`` (test double for the
    model's ``reads`` check)."""

    name = "test_needs_g_psi"
    reads = ("g_psi",)


def gaussian_card(name: str, sampler: dict, th12: bool = False, **blocks) -> dict:
    """A fresh run card of `DiagonalNSIModel` with `GaussianLikelihood`: free ``eps_ee``,
    ``eps_mumu`` (uniform on [-2, 2]), optionally a Gaussian ``th12`` prior (33.41 +- 0.75
    deg), the given ``sampler`` settings and any further top-level ``blocks``."""
    parameters = {"eps_ee": {"prior": "uniform", "min": -2, "max": 2},
                  "eps_mumu": {"prior": "uniform", "min": -2, "max": 2}}
    if th12:
        parameters["th12"] = {"prior": "gaussian", "mean": 33.41, "sigma": 0.75, "unit": "deg"}
    return {"name": name, "model": "plugins:DiagonalNSIModel", "parameters": parameters,
            "likelihoods": {"plugins:GaussianLikelihood": {}}, "sampler": dict(sampler),
            **blocks}
