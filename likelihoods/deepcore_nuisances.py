"""Nuisance model of the IceCube DeepCore 3-year sample and its profiling.

Expected events in analysis bin ``b`` (docs/likelihoods/deepcore.md)::

    mu_b = A sum_c f_cb(d) n_c (T0_cb + sum_k phi_k T_kcb) + m M_b

* ``c``: the four detector-systematics categories (nu_e CC, nu_mu CC, nu_tau CC, all NC),
  ``n_c`` = 1 for CC and the NC normalisation for NC;
* ``T0``: the oscillated, flux-weighted Monte Carlo sum; ``T_k``: its derivatives with
  respect to the flux nuisances ``phi = (R - 1, u, s, delta)`` (nu_e/nu_mu ratio, Barr
  up/horizontal, Barr nu/nubar, spectral index), i.e. first order in the flux nuisances;
* ``f_cb(d)``: IceCube's hyperplanes, linear in the five detector parameters
  ``d = (absorption, scattering, overall, lateral, head-on)``;
* ``A``: effective-area scale (free), ``m``: atmospheric-muon scale (free), ``M``: the
  data-driven muon template.

The Poisson ``chi^2 = 2 sum_b (mu_b - n_b + n_b ln(n_b / mu_b))`` plus the Gaussian
prior pulls is minimised over the twelve nuisances by Gauss-Newton steps with a
backtracking line search inside the parameter ranges of IceCube's fit.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NUISANCES = ("aeff_scale", "nc_norm", "nue_numu_ratio", "barr_uphor", "barr_nu_nubar",
             "delta_index", "ice_absorption", "ice_scattering", "opt_eff_overall",
             "opt_eff_lateral", "opt_eff_headon", "muon_scale")
"""Names of the nuisances, in the order of the parameter vector."""

NOMINAL = np.array([1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0])
PRIOR_SIGMA = np.array([np.inf, 0.2, 0.05, 1.0, 1.0, 0.1, 0.1, 0.1, 0.1, 1.0, np.inf, np.inf])
"""Gaussian prior widths (inf: flat), from the data release's description of IceCube's fit."""
LOWER = np.array([0.0, 0.5, 0.5, -3.0, -3.0, -0.5, 0.85, 0.85, 0.8, -2.0, -5.0, 0.0])
UPPER = np.array([3.0, 1.5, 1.5, 3.0, 3.0, 0.5, 1.15, 1.15, 1.2, 2.0, 2.0, 5.0])
"""Allowed ranges (IceCube's: detector parameters from the release notes, the others from
the example pipeline of IceCube's PISA)."""

HYPERPLANE_SLOPES = ("ice_absorption", "ice_scattering", "opt_eff_overall", "opt_eff_lateral",
                     "opt_eff_headon")
"""Hyperplane columns, in the order of the detector nuisances."""
_DETECTOR = slice(6, 11)
_FLUX = slice(2, 6)


def hyperplane_arguments(detector: np.ndarray) -> np.ndarray:
    """The hyperplane's variables from the detector nuisances: ``100 (x - 1)`` for the
    two ice parameters, ``x`` for the overall efficiency, ``10 x + 25`` for the lateral
    (hole-ice) and ``x`` for the head-on parameter."""
    a, s, e, lat, head = detector
    return np.array([100.0 * (a - 1.0), 100.0 * (s - 1.0), e, 10.0 * lat + 25.0, head])


_HYPERPLANE_DERIVATIVE = np.array([100.0, 100.0, 1.0, 10.0, 1.0])


@dataclass
class NuisanceModel:
    """Bin-level pieces that do not depend on the oscillation parameters.

    Parameters
    ----------
    observed : (n_bins,) observed counts
    muons : (n_bins,) muon template
    offsets : (4, n_bins) hyperplane offsets per category
    slopes : (5, 4, n_bins) hyperplane slopes (order `HYPERPLANE_SLOPES`)
    """

    observed: np.ndarray
    muons: np.ndarray
    offsets: np.ndarray
    slopes: np.ndarray

    def __post_init__(self):
        n = self.observed
        positive = n > 0
        self._n_log_n = float(np.sum(n[positive] * np.log(n[positive])))
        self._n_total = float(n.sum())
        self._inverse_variance = np.where(np.isfinite(PRIOR_SIGMA), 1.0 / PRIOR_SIGMA**2, 0.0)

    # --- forward model ---------------------------------------------------------------------
    def hyperplane(self, theta: np.ndarray) -> np.ndarray:
        """``f_cb``, shape (4, n_bins)."""
        return self.offsets + np.tensordot(hyperplane_arguments(theta[_DETECTOR]), self.slopes, axes=1)

    def expected(self, templates: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """``mu_b`` from templates ``(5, 4, n_bins)`` (``T0`` then the four ``T_k``)."""
        flux = templates[0] + np.tensordot(self._flux_shift(theta), templates[1:], axes=1)
        norm = np.array([1.0, 1.0, 1.0, theta[1]])[:, None]
        return theta[0] * np.sum(self.hyperplane(theta) * norm * flux, axis=0) + theta[11] * self.muons

    @staticmethod
    def _flux_shift(theta):
        phi = theta[_FLUX].copy()
        phi[0] -= 1.0                                   # nu_e/nu_mu ratio about 1
        return phi

    def chi2(self, templates: np.ndarray, theta: np.ndarray) -> float:
        """Poisson chi^2 plus prior pulls."""
        return self._poisson(self.expected(templates, theta)) + self._pulls(theta)

    def _poisson(self, mu) -> float:
        mu = np.maximum(mu, 1e-300)
        return 2.0 * (float(mu.sum()) - self._n_total + self._n_log_n - float(self.observed @ np.log(mu)))

    def _pulls(self, theta) -> float:
        return float(np.sum((theta - NOMINAL) ** 2 * self._inverse_variance))

    def jacobian(self, templates: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """``d mu_b / d theta_j``, shape (12, n_bins)."""
        flux = templates[0] + np.tensordot(self._flux_shift(theta), templates[1:], axes=1)
        norm = np.array([1.0, 1.0, 1.0, theta[1]])[:, None]
        f = self.hyperplane(theta)
        a = theta[0]
        jac = np.empty((len(NUISANCES), self.observed.size))
        jac[0] = np.sum(f * norm * flux, axis=0)
        jac[1] = a * f[3] * flux[3]
        jac[_FLUX] = a * np.sum((f * norm)[None] * templates[1:], axis=1)
        jac[_DETECTOR] = a * np.sum(self.slopes * (norm * flux)[None], axis=1) * _HYPERPLANE_DERIVATIVE[:, None]
        jac[11] = self.muons
        return jac

    # --- profiling -------------------------------------------------------------------------
    def profile(self, templates: np.ndarray, start: np.ndarray | None = None, fixed: dict | None = None,
                iterations: int = 60, tolerance: float = 1e-7) -> tuple[float, np.ndarray]:
        """Minimum over the nuisances of `chi2`; returns ``(chi2_min, theta)``.

        Parameters
        ----------
        templates : (5, 4, n_bins)
        start : initial nuisances (default `NOMINAL`)
        fixed : {index: value} nuisances held fixed
        iterations, tolerance : stop after ``iterations`` Gauss-Newton steps or once a step
            lowers chi^2 by less than ``tolerance``.
        """
        theta = np.clip(NOMINAL.copy() if start is None else np.array(start, float), LOWER, UPPER)
        free = np.ones(len(NUISANCES), bool)
        for index, value in (fixed or {}).items():
            theta[index] = value
            free[index] = False
        n = self.observed
        current = self.chi2(templates, theta)
        for _ in range(iterations):
            mu = np.maximum(self.expected(templates, theta), 1e-300)
            jac = self.jacobian(templates, theta)[free]
            gradient = jac @ (1.0 - n / mu) + (theta - NOMINAL)[free] * self._inverse_variance[free]
            hessian = (jac * (n / mu**2)) @ jac.T + np.diag(self._inverse_variance[free])
            hessian += 1e-12 * np.diag(np.diag(hessian)) + 1e-300 * np.eye(len(gradient))
            try:
                step = -np.linalg.solve(hessian, gradient)
            except np.linalg.LinAlgError:
                step = -gradient / np.maximum(np.diag(hessian), 1e-300)
            scale, improved = 1.0, False
            for _ in range(30):
                trial = theta.copy()
                trial[free] = np.clip(theta[free] + scale * step, LOWER[free], UPPER[free])
                value = self.chi2(templates, trial)
                if value <= current:
                    improved = True
                    break
                scale *= 0.5
            if not improved:
                break
            gain = current - value
            theta, current = trial, value
            if gain < tolerance:
                break
        return current, theta
