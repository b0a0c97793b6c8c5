"""Frequentist minimisation: the chi^2 objective, one local minimisation, and the best fit
by minimisations from many starts.

The objective is ``chi2(theta) = -2 ln L(theta)``: the likelihood only. Priors do not
enter a frequentist fit; only the hard bounds of the parameters (``posterior.bounds``,
a region's boxes) restrict the minimisation. A likelihood's nuisance parameters therefore
enter only through what that likelihood's ``loglike`` itself contains; a run card's
Gaussian prior on a nuisance parameter is a Bayesian statement and is *not* added as a pull
term unless asked for with ``pull_terms`` (see `posterior_chi2`).

* `minimize_chi2`: one local minimisation, MINUIT2/MIGRAD (``"migrad"``, needs the optional
  ``iminuit``) or scipy (``"l-bfgs-b"``, ``"nelder-mead"``, ``"powell"``); a parameter or a
  derived quantity can be held fixed.
* `best_fit`: local minimisations from the starts of `globalfit.samplers.starts` (Latin
  hypercube through the card's start hints and priors, best chain points); distinct local
  minima are kept (they seed the profiles of `globalfit.samplers.profile`).

See ``docs/statistics.md``.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize

from globalfit.samplers.starts import UnitCubeMap, latin_hypercube_starts

BAD_CHI2 = 1.0e12
"""Returned for points where the likelihood is NaN or -inf (the optimiser steps back)."""

METHODS = ("migrad", "l-bfgs-b", "nelder-mead", "powell")
DEFAULT_METHOD = "l-bfgs-b"
"""Default local minimiser (benchmarks/profile.py; docs/statistics.md gives the numbers)."""

FINITE_DIFFERENCE_STEP = 1.0e-8
"""Forward-difference step of the L-BFGS-B gradient in the unit-scaled coordinates of
`_unit_scaling` (scipy's default ``eps`` for L-BFGS-B; `_forward_difference_steps`)."""

Chi2Function = Callable[[np.ndarray], float]


# --- objective ----------------------------------------------------------------------------
def posterior_chi2(posterior: Any, pull_terms: Sequence[str] = ()) -> Chi2Function:
    """``chi2(theta) = -2 ln L(theta)`` of a `globalfit.posterior.Posterior`.

    Parameters
    ----------
    posterior : Posterior
        Needs ``log_likelihood(theta) -> (lnL, parts)`` with ``theta`` in internal units in
        the order of ``posterior.names``.
    pull_terms : sequence of str
        Names of parameters whose prior enters as a pull term ``-2 ln prior(x)`` (for
        nuisance parameters whose Gaussian prior stands for an external measurement).
        Each prior must provide ``log_prob`` (``globalfit.params.Prior``, internal units).
    """
    names = list(posterior.names)
    pulls = []
    for name in pull_terms:
        if name not in names:
            raise ValueError(f"pull_terms: {name!r} is not sampled (sampled: {', '.join(names)})")
        prior = posterior.parameters[names.index(name)].prior
        log_pdf = getattr(prior, "log_prob", None)
        if log_pdf is None:
            raise ValueError(f"pull_terms: the prior of {name!r} has no log_prob to use")
        pulls.append((names.index(name), log_pdf))

    def chi2(theta: np.ndarray) -> float:
        lnl = posterior.log_likelihood(np.asarray(theta, dtype=float))[0]
        value = -2.0 * float(lnl)
        for index, log_pdf in pulls:
            value -= 2.0 * float(log_pdf(theta[index]))
        return value

    def chi2_batch(thetas: np.ndarray) -> np.ndarray:
        """`chi2` of each row of ``thetas`` (n, ndim), the likelihoods evaluated on all rows at
        once (`Posterior.log_likelihood_batch`)."""
        thetas = np.asarray(thetas, dtype=float)
        values = -2.0 * posterior.log_likelihood_batch(thetas)[0]
        for index, log_pdf in pulls:
            values -= 2.0 * np.array([float(log_pdf(x)) for x in thetas[:, index]])
        return values

    if hasattr(posterior, "log_likelihood_batch"):
        chi2.batch = chi2_batch
    return chi2


class _Counted:
    """Wraps a chi2 function: counts calls, maps NaN/inf to `BAD_CHI2`, embeds fixed values."""

    def __init__(self, chi2: Chi2Function, n: int, fixed: dict[int, float] | None = None):
        self.chi2 = chi2
        self.calls = 0
        self.fixed = dict(fixed or {})
        self.free = np.array([i for i in range(n) if i not in self.fixed], dtype=int)
        self.full = np.zeros(n)
        for i, value in self.fixed.items():
            self.full[i] = value

    def embed(self, x_free: np.ndarray) -> np.ndarray:
        theta = self.full.copy()
        theta[self.free] = x_free
        return theta

    def __call__(self, x_free: np.ndarray) -> float:
        self.calls += 1
        value = float(self.chi2(self.embed(np.asarray(x_free, dtype=float))))
        return value if math.isfinite(value) else BAD_CHI2

    def batch(self, rows) -> list[float]:
        """``[self(x) for x in rows]``, in one call of the chi2 function's ``batch`` (see
        `posterior_chi2`) where it has one."""
        thetas = np.array([self.embed(np.asarray(x, dtype=float)) for x in rows])
        self.calls += len(thetas)
        batch = getattr(self.chi2, "batch", None)
        values = batch(thetas) if batch is not None and len(thetas) > 1 else [self.chi2(t) for t in thetas]
        return [value if math.isfinite(value) else BAD_CHI2 for value in map(float, values)]


# --- one local minimisation ---------------------------------------------------------------
@dataclass
class Minimum:
    """A local minimum: ``theta`` (all parameters, internal units), ``chi2``, ``calls``."""

    theta: np.ndarray
    chi2: float
    calls: int
    method: str
    success: bool


def _initial_steps(x0: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    width = bounds[:, 1] - bounds[:, 0]
    finite = np.isfinite(width)
    steps = np.where(finite, 0.05 * width, 0.1 * np.abs(x0) + 0.1)
    return np.where(steps > 0, steps, 1e-3)


def _minimize_free(
    objective: _Counted, x0: np.ndarray, bounds: np.ndarray, method: str, tol: float
) -> tuple[np.ndarray, float, bool]:
    if objective.free.size == 0:
        return x0, objective(x0), True
    x0 = np.clip(x0, bounds[:, 0], bounds[:, 1])
    if method == "migrad":
        try:
            from iminuit import Minuit
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ValueError(
                "method: 'migrad' needs iminuit (pip install 'globalfit[minuit]'); "
                f"use one of {', '.join(METHODS[1:])}"
            ) from error
        minuit = Minuit(objective, x0)
        minuit.errordef = Minuit.LEAST_SQUARES
        minuit.limits = [tuple(b) for b in bounds]
        minuit.errors = _initial_steps(x0, bounds)
        minuit.tol = max(tol, 1e-6) * 1e3  # MIGRAD's EDM goal is 2e-3 * tol * errordef
        minuit.print_level = 0
        minuit.migrad()
        return np.array(minuit.values), float(minuit.fval), bool(minuit.valid)
    scipy_method = {"l-bfgs-b": "L-BFGS-B", "nelder-mead": "Nelder-Mead", "powell": "Powell"}
    if method not in scipy_method:
        raise ValueError(f"method: {method!r} is not known (allowed: {', '.join(METHODS)})")
    options = {"maxiter": 20000}
    if method == "nelder-mead":
        options.update(xatol=1e-6, fatol=tol, adaptive=objective.free.size > 3)
    offset, scale = _unit_scaling(x0, bounds)
    unit_bounds = (bounds - offset[:, None]) / scale[:, None]
    function, jac = (lambda z: objective(offset + scale * z)), None
    if method == "l-bfgs-b":
        # chi^2 and its forward-difference gradient (scipy's steps) in one batch call
        function, jac = _value_and_gradient(objective, offset, scale, unit_bounds), True
    result = optimize.minimize(
        function,
        (x0 - offset) / scale,
        method=scipy_method[method],
        jac=jac,
        bounds=[tuple(b) for b in unit_bounds],
        tol=tol,
        options=options,
    )
    x = offset + scale * np.asarray(result.x, dtype=float)
    return np.clip(x, bounds[:, 0], bounds[:, 1]), float(result.fun), bool(result.success)


def _forward_difference_steps(z: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                              step: float = FINITE_DIFFERENCE_STEP) -> np.ndarray:
    """The steps of scipy's own L-BFGS-B gradient at ``z`` (``approx_derivative``, '2-point',
    absolute ``step``): a step that would leave the bounds is turned back, or shortened to the
    larger distance to a bound where neither direction fits."""
    sign = np.where(z >= 0, 1.0, -1.0)
    h = np.where((z + step) - z == 0, np.finfo(float).eps ** 0.5 * sign * np.maximum(1.0, np.abs(z)), step)
    if np.all((lower == -np.inf) & (upper == np.inf)):
        return h
    lower_distance, upper_distance = z - lower, upper - z
    violated = ((z + h) < lower) | ((z + h) > upper)
    fitting = np.abs(h) <= np.maximum(lower_distance, upper_distance)
    h = np.where(violated & fitting, -h, h)
    h = np.where(~fitting & (upper_distance >= lower_distance), upper_distance, h)
    return np.where(~fitting & (upper_distance < lower_distance), -lower_distance, h)


def _value_and_gradient(objective: _Counted, offset: np.ndarray, scale: np.ndarray, unit_bounds: np.ndarray):
    """``z -> (chi2, gradient)`` in the unit-scaled coordinates, the point and its forward
    differences (`_forward_difference_steps`, the same points as scipy's own gradient) in one
    `_Counted.batch` call: L-BFGS-B asks for both at every point it tries."""
    lower, upper = unit_bounds[:, 0], unit_bounds[:, 1]

    def value_and_gradient(z: np.ndarray):
        z = np.asarray(z, dtype=float)
        h = _forward_difference_steps(z, lower, upper)
        shifted = np.repeat(z[None], z.size, axis=0)
        shifted[np.arange(z.size), np.arange(z.size)] = z + h
        values = objective.batch([offset + scale * point for point in (z, *shifted)])
        return values[0], (np.array(values[1:]) - values[0]) / ((z + h) - z)

    return value_and_gradient


def _unit_scaling(x0: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x = offset + scale * z`` with ``z`` in [0, 1] across finite bounds.

    scipy's minimisers take steps of fixed absolute size (L-BFGS-B's finite-difference step
    is 1e-8): on raw internal units (``dm21 ~ 7e-5 eV^2`` beside ``eps ~ 1``) they stop far
    from the minimum. Unbounded directions use the initial step size as their scale.
    """
    width = bounds[:, 1] - bounds[:, 0]
    finite = np.isfinite(width) & (width > 0)
    offset = np.where(finite, np.where(finite, bounds[:, 0], 0.0), x0)
    scale = np.where(finite, np.where(finite, width, 1.0), _initial_steps(x0, bounds))
    return offset, scale


def minimize_chi2(
    chi2: Chi2Function,
    theta0: np.ndarray,
    bounds: np.ndarray,
    method: str = DEFAULT_METHOD,
    fixed: dict[int, float] | None = None,
    tol: float = 1e-8,
    constraint: tuple[Callable[[np.ndarray], float], float] | None = None,
) -> Minimum:
    """Minimise ``chi2`` from ``theta0`` inside ``bounds``, optionally with parameters fixed.

    Parameters
    ----------
    chi2 : callable
        ``chi2(theta) -> float`` with ``theta`` the full parameter vector (internal units).
    theta0 : array (n,)
        Start (full vector; fixed entries are overwritten by ``fixed``).
    bounds : array (n, 2)
        Hard bounds (internal units); may be infinite.
    method : str
        One of `METHODS`.
    fixed : dict index -> value, optional
        Parameters held fixed (the profiled one).
    tol : float
        Convergence tolerance passed to the minimiser (absolute on chi2 for scipy).
    constraint : (function, value), optional
        Minimise on the surface ``function(theta) = value`` (a derived quantity held fixed).
        Uses SLSQP whatever ``method`` says; a result off the surface (infeasible value)
        has ``chi2 = inf``.
    """
    theta0 = np.asarray(theta0, dtype=float)
    bounds = np.asarray(bounds, dtype=float)
    objective = _Counted(chi2, theta0.size, fixed)
    if constraint is not None:
        x, value, success = _minimize_on_surface(
            objective, theta0[objective.free], bounds[objective.free], constraint, tol)
        return Minimum(objective.embed(x), value, objective.calls, "slsqp", success)
    x, value, success = _minimize_free(
        objective, theta0[objective.free], bounds[objective.free], method, tol
    )
    return Minimum(objective.embed(x), value, objective.calls, method, success)


SURFACE_TOLERANCE = 1e-7
"""Largest relative miss ``|g(theta) - value| / (1 + |value|)`` accepted on a constraint
surface (`minimize_chi2` with ``constraint``)."""


def _minimize_on_surface(objective: _Counted, x0: np.ndarray, bounds: np.ndarray, constraint,
                         tol: float) -> tuple[np.ndarray, float, bool]:
    """SLSQP with the equality ``g(theta) = value``, in the unit-scaled coordinates of
    `_unit_scaling`; returns ``chi2 = inf`` when the result misses the surface."""
    function, value = constraint
    x0 = np.clip(x0, bounds[:, 0], bounds[:, 1])
    offset, scale = _unit_scaling(x0, bounds)
    to_x = lambda z: offset + scale * np.asarray(z, dtype=float)  # noqa: E731
    miss = lambda z: float(function(objective.embed(to_x(z)))) - value  # noqa: E731
    result = optimize.minimize(
        lambda z: objective(to_x(z)), (x0 - offset) / scale, method="SLSQP",
        bounds=[tuple(b) for b in (bounds - offset[:, None]) / scale[:, None]],
        constraints=[{"type": "eq", "fun": miss}],
        options={"maxiter": 500, "ftol": tol},
    )
    x = np.clip(to_x(result.x), bounds[:, 0], bounds[:, 1])
    on_surface = abs(float(function(objective.embed(x))) - value) <= SURFACE_TOLERANCE * (1 + abs(value))
    if not on_surface:
        return x, math.inf, False
    return x, objective(x), bool(result.success)


# --- multi-start best fit -----------------------------------------------------------------
@dataclass
class BestFit:
    """Result of `best_fit`: the global minimum and every distinct local minimum found."""

    theta: np.ndarray
    chi2_min: float
    minima: list[Minimum]
    calls: int
    names: list[str] | None = None

    def as_dict(self) -> dict[str, float]:
        names = self.names or [f"x{i}" for i in range(self.theta.size)]
        return dict(zip(names, map(float, self.theta)))


def _distinct(minima: list[Minimum], bounds: np.ndarray, rel_distance: float) -> list[Minimum]:
    """Drop minima closer than ``rel_distance`` (in units of the bounds' widths) to a better one."""
    width = bounds[:, 1] - bounds[:, 0]
    scale = np.where(np.isfinite(width) & (width > 0), width, 1.0)
    kept: list[Minimum] = []
    for minimum in sorted(minima, key=lambda m: m.chi2):
        if all(np.max(np.abs(minimum.theta - k.theta) / scale) > rel_distance for k in kept):
            kept.append(minimum)
    return kept


def best_fit(
    chi2: Chi2Function,
    bounds: np.ndarray,
    n_starts: int = 8,
    starts: np.ndarray | None = None,
    method: str = DEFAULT_METHOD,
    seed: int | None = 0,
    names: Sequence[str] | None = None,
    rel_distance: float = 1e-2,
    from_unit_cube: UnitCubeMap | None = None,
) -> BestFit:
    """Global minimum of ``chi2`` by local minimisations from many starts.

    Parameters
    ----------
    chi2 : callable
        ``chi2(theta)`` (internal units).
    bounds : array (n, 2)
        Hard bounds; random starts need them finite.
    n_starts : int
        Latin-hypercube starts inside ``bounds`` (see `latin_hypercube_starts`).
    starts : array (m, n), optional
        Further starts, e.g. the best chain samples (see `chain_starts`).
    method : str
        Local minimiser, one of `METHODS`.
    seed : int, optional
        Seed of the Latin hypercube.
    names : sequence of str, optional
        Parameter names, for `BestFit.as_dict`.
    rel_distance : float
        Minima closer than this fraction of the bounds' widths count as one.
    from_unit_cube : callable, optional
        Maps the Latin hypercube to parameter space (`start_unit_cube_map`).
    """
    bounds = np.asarray(bounds, dtype=float)
    pool = [latin_hypercube_starts(bounds, n_starts, seed, from_unit_cube)] if n_starts > 0 else []
    if starts is not None and len(starts):
        pool.append(np.atleast_2d(np.asarray(starts, dtype=float)))
    if not pool:
        raise ValueError("n_starts/starts: no starting point (give n_starts > 0 or starts)")
    points = np.vstack(pool)
    inside = np.all((points >= bounds[:, 0]) & (points <= bounds[:, 1]), axis=1)
    points = points[inside]
    if points.size == 0:
        raise ValueError("starts: no starting point lies inside the bounds")
    minima = [minimize_chi2(chi2, point, bounds, method) for point in points]
    calls = sum(m.calls for m in minima)
    distinct = _distinct(minima, bounds, rel_distance)
    best = distinct[0]
    return BestFit(best.theta, best.chi2, distinct, calls, list(names) if names else None)
