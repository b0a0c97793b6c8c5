"""Frequentist fits: best fit by multi-start minimisation and 1-D profile likelihoods.

The objective is ``chi2(theta) = -2 ln L(theta)``: the likelihood only. Priors do not
enter a frequentist profile; only the hard bounds of the parameters (``posterior.bounds``,
a region's boxes) restrict the minimisation. A likelihood's nuisance parameters therefore
enter only through what that likelihood's ``loglike`` itself contains; a run card's
Gaussian prior on a nuisance parameter is a Bayesian statement and is *not* added as a pull
term unless asked for with ``pull_terms`` (see `posterior_chi2`).

Algorithms (see ``docs/statistics.md``):

* `minimize_chi2`: one local minimisation, MINUIT2/MIGRAD (``"migrad"``, needs the optional
  ``iminuit``) or scipy (``"l-bfgs-b"``, ``"nelder-mead"``, ``"powell"``).
* `best_fit`: local minimisations from Latin-hypercube starts inside the bounds and from the
  best chain points; distinct local minima are kept (they seed the profiles).
* `profile_1d`: the parameter is fixed on a grid and all others minimised, sweeping the grid
  left to right and right to left with warm starts from the neighbour and from every local
  minimum found, so that a separated mode is not lost (``sweep="both-ways"``); or, for
  expensive likelihoods, ``sweep="outward"``: every local minimum is minimised once at its
  own grid point and the grid is walked outward from there, each point warm-started from
  the walk's previous one (one warm minimisation per point and seed instead of one cold
  one per point and seed plus two warm ones).
* `Profile.intervals`: the set where ``Delta chi2 < level``
  (`globalfit.statistics.allowed_intervals`), endpoints optionally refined by root finding
  on the profile itself.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize

from globalfit.progress import progress_bar
from globalfit.samplers.starts import (
    ImageMap,
    UnitCubeMap,
    chain_starts,
    latin_hypercube_starts,
    start_unit_cube_map,
)
from globalfit.statistics import CL90_1DOF, THREE_SIGMA_1DOF, allowed_intervals

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


# --- 1-D profiles -------------------------------------------------------------------------
@dataclass
class Profile:
    """A 1-D profile ``chi2_p(x) = min over the other parameters of chi2``.

    Attributes
    ----------
    parameter : str
        Profiled parameter (internal units on ``grid``).
    grid : array
        Values of the parameter; points outside the region have ``chi2 = inf``.
    chi2 : array
        Profiled chi^2 on ``grid``.
    theta : array (len(grid), n)
        Where the minimum over the other parameters was found.
    chi2_min : float
        Reference minimum: ``delta_chi2 = chi2 - chi2_min``.
    region : str
        Region label the profile is restricted to (``"all"`` for none).
    calls : int
        chi^2 evaluations spent.
    """

    parameter: str
    grid: np.ndarray
    chi2: np.ndarray
    theta: np.ndarray
    chi2_min: float
    region: str = "all"
    calls: int = 0
    refine: Callable[[float], float] | None = field(default=None, repr=False)

    @property
    def delta_chi2(self) -> np.ndarray:
        return self.chi2 - self.chi2_min

    @property
    def minimum_chi2(self) -> float:
        """Lowest chi^2 along this profile (the region's own minimum)."""
        return float(np.min(self.chi2))

    @property
    def best_value(self) -> float:
        return float(self.grid[int(np.argmin(self.chi2))])

    def intervals(self, level: float, refine: bool = False) -> list[tuple[float, float]]:
        """Intervals where ``delta_chi2 < level`` (see `allowed_intervals`)."""
        function = None
        if refine and self.refine is not None:
            function = lambda x: self.refine(x) - self.chi2_min  # noqa: E731
        return allowed_intervals(self.grid, self.delta_chi2, level, function)

    def with_reference(self, chi2_min: float) -> Profile:
        return Profile(self.parameter, self.grid, self.chi2, self.theta, chi2_min,
                       self.region, self.calls, self.refine)


def _pin(index: int | None, derived: Callable[[np.ndarray], float] | None, value: float) -> dict:
    """Keyword arguments of `minimize_chi2` that hold the profiled quantity at ``value``."""
    if derived is not None:
        return {"constraint": (derived, value)}
    return {"fixed": {index: value}}


def _sweep(chi2, grid, index, bounds, seeds, method, order,
           derived=None, bar=None) -> tuple[np.ndarray, np.ndarray, int]:
    n = bounds.shape[0]
    values = np.full(grid.size, np.inf)
    thetas = np.full((grid.size, n), np.nan)
    calls = 0
    previous = None
    for k in order:
        candidates = list(seeds) + ([previous] if previous is not None else [])
        for start in candidates:
            result = minimize_chi2(chi2, start, bounds, method, **_pin(index, derived, grid[k]))
            calls += result.calls
            if result.chi2 < values[k]:
                values[k], thetas[k] = result.chi2, result.theta
        if np.all(np.isfinite(thetas[k])):
            previous = thetas[k]
        if bar is not None:
            bar.update()
    return values, thetas, calls


SWEEPS = ("both-ways", "outward")
"""How `profile_1d` walks its grid (see the module docstring)."""


def _outward(chi2, grid, index, bounds, seeds, method, order, derived=None,
             bar=None) -> tuple[np.ndarray, np.ndarray, int]:
    """Seeded outward walks (``profile_1d(..., sweep="outward")``).

    1. Each seed is minimised at the grid point nearest its own value of the profiled
       quantity (its anchor).
    2. From each anchor the grid is walked to the right and to the left, every point
       minimised from the walk's previous solution: a walk follows its seed's valley
       across the grid (warm starts), so a separated valley keeps its own chain.
    3. Walking back inward from both ends towards the lowest point, a point is minimised
       again from its outer neighbour's solution where that one is lower (a stalled
       minimisation); improvements propagate inward.

    Cost: one warm minimisation per grid point and seed, instead of one cold minimisation
    per point and seed plus two warm ones (``both-ways``).
    """
    values = np.full(grid.size, np.inf)
    thetas = np.full((grid.size, bounds.shape[0]), np.nan)
    calls = 0

    def attempt(k: int, start: np.ndarray) -> np.ndarray | None:
        """Minimise at grid point ``k`` from ``start``; the result (or None) for the walk."""
        nonlocal calls
        if not np.all(np.isfinite(start)):
            return None
        result = minimize_chi2(chi2, start, bounds, method, **_pin(index, derived, grid[k]))
        calls += result.calls
        if result.chi2 < values[k]:
            values[k], thetas[k] = result.chi2, result.theta
        return result.theta if math.isfinite(result.chi2) else None

    positions = grid[order]
    for seed in seeds:
        value = derived(seed) if derived is not None else seed[index]
        anchor = int(np.argmin(np.abs(positions - value)))
        chain = attempt(int(order[anchor]), seed)
        for walk in (order[anchor + 1:], order[:anchor][::-1]):
            theta = chain
            for k in walk:
                theta = attempt(int(k), theta) if theta is not None else None
                if bar is not None:
                    bar.update()
    best = int(np.argmin(values[order])) if order.size else 0
    for walk in (list(order[best + 1:]), list(order[:best][::-1])):
        for outer, k in zip(walk[::-1], walk[::-1][1:]):
            if values[outer] < values[k]:
                attempt(k, thetas[outer])
    return values, thetas, calls


def profile_1d(
    chi2: Chi2Function,
    index: int,
    grid: np.ndarray,
    bounds: np.ndarray,
    seeds: Sequence[np.ndarray],
    method: str = DEFAULT_METHOD,
    chi2_min: float | None = None,
    parameter: str | None = None,
    region: str = "all",
    derived: Callable[[np.ndarray], float] | None = None,
    progress: str | None = None,
    sweep: str = "both-ways",
) -> Profile:
    """Profile ``chi2`` in parameter ``index`` on ``grid``, minimising the others in ``bounds``.

    Every grid point is minimised from each of ``seeds`` (e.g. the local minima of
    `best_fit`) and from the neighbour's solution, in a left-to-right and a right-to-left
    sweep; the lower result wins. Grid points outside ``bounds[index]`` get ``inf``.

    With ``derived`` (a function of the full parameter vector, ``index`` ignored) the profile
    is that of the derived quantity: each grid value is held by an equality constraint
    (``minimize_chi2(..., constraint=...)``) and all parameters are minimised; values the
    quantity cannot take inside ``bounds`` get ``inf``.

    ``progress`` labels a bar over the two sweeps (`globalfit.progress.progress_bar`).

    ``sweep="outward"`` walks the grid outward from each seed's own grid point instead,
    with warm starts only (`_outward`): for likelihoods where each minimisation is expensive.
    """
    if sweep not in SWEEPS:
        raise ValueError(f"sweep: {sweep!r} is not known (allowed: {', '.join(SWEEPS)})")
    grid = np.asarray(grid, dtype=float)
    bounds = np.asarray(bounds, dtype=float)
    if derived is not None:
        index = None
        inside = np.ones(grid.size, dtype=bool)
    else:
        inside = (grid >= bounds[index, 0]) & (grid <= bounds[index, 1])
    seeds = _distinct_points(
        [np.clip(np.asarray(s, dtype=float), bounds[:, 0], bounds[:, 1]) for s in seeds],
        bounds, index)
    if not seeds:
        raise ValueError("seeds: at least one starting point is needed")
    order = np.flatnonzero(inside)
    with progress_bar(2 * order.size, progress, unit="point") as bar:
        if sweep == "outward":
            values, thetas, calls = _outward(chi2, grid, index, bounds, seeds, method, order,
                                             derived, bar)
        else:
            forward, theta_f, calls_f = _sweep(chi2, grid, index, bounds, seeds, method, order,
                                               derived, bar)
            backward, theta_b, calls_b = _backward(chi2, grid, index, bounds, method, order,
                                                   theta_f, forward, derived, bar)
            better = backward < forward
            values = np.where(better, backward, forward)
            thetas = np.where(better[:, None], theta_b, theta_f)
            calls = calls_f + calls_b

    def refine(x: float) -> float:
        """Profile at ``x``, minimised from the two nearest grid points' solutions."""
        nearest = np.argsort(np.abs(np.where(inside, grid, np.inf) - x))[:2]
        return min((minimize_chi2(chi2, thetas[k], bounds, method, **_pin(index, derived, x)).chi2
                    for k in nearest if np.isfinite(values[k])), default=math.inf)

    reference = float(np.min(values)) if chi2_min is None else float(chi2_min)
    return Profile(parameter or f"x{index}", grid, values, thetas, reference, region,
                   calls, refine)


def _distinct_points(points: list[np.ndarray], bounds: np.ndarray, index: int | None,
                     rel_distance: float = 1e-3) -> list[np.ndarray]:
    """Drop points that coincide (within ``rel_distance`` of the ranges) in the free
    coordinates (all of them for ``index=None``): a seed repeated once per region would
    only repeat the minimisation."""
    width = bounds[:, 1] - bounds[:, 0]
    scale = np.where(np.isfinite(width) & (width > 0), width, 1.0)
    free = np.arange(bounds.shape[0]) != (-1 if index is None else index)
    kept: list[np.ndarray] = []
    for point in points:
        if all(np.max(np.abs(point - k)[free] / scale[free], initial=0.0) > rel_distance
               for k in kept):
            kept.append(point)
    return kept


def _backward(chi2, grid, index, bounds, method, order, theta_forward, forward, derived=None,
              bar=None):
    """Right-to-left sweep, warm-started from the right neighbour's better solution.

    Carries a minimum that the forward sweep only reached late (a mode on the right) back
    to the left; the rightmost point keeps its forward solution.
    """
    values = np.full(grid.size, np.inf)
    thetas = np.full_like(theta_forward, np.nan)
    calls = 0
    previous = None
    for k in order[::-1]:
        if previous is not None and np.all(np.isfinite(previous)):
            result = minimize_chi2(chi2, previous, bounds, method, **_pin(index, derived, grid[k]))
            calls += result.calls
            values[k], thetas[k] = result.chi2, result.theta
        better = values[k] < forward[k]
        previous = thetas[k] if better else theta_forward[k]
        if bar is not None:
            bar.update()
    return values, thetas, calls


# --- profiles restricted to regions -------------------------------------------------------
def _combine(profiles: Sequence[Profile], region: str) -> Profile:
    """Pointwise minimum of profiles on the same grid (a union of boxes or of regions)."""
    stacked = np.vstack([p.chi2 for p in profiles])
    choice = np.argmin(stacked, axis=0)
    columns = np.arange(stacked.shape[1])
    thetas = np.stack([p.theta for p in profiles])[choice, columns]
    refiners = [p.refine for p in profiles if p.refine is not None]

    def refine(x: float) -> float:
        values = [f(x) for f in refiners]
        return float(min(values)) if values else math.inf

    first = profiles[0]
    return Profile(first.parameter, first.grid, stacked[choice, columns], thetas,
                   first.chi2_min, region, sum(p.calls for p in profiles), refine)


def _box_refiner(profile: Profile, low: float, high: float) -> Callable[[float], float]:
    inner = profile.refine
    return lambda x: inner(x) if low <= x <= high and inner is not None else math.inf


def profile_regions(
    chi2: Chi2Function,
    names: Sequence[str],
    bounds: np.ndarray,
    parameter: str,
    regions: Sequence[Any] = (),
    grid: np.ndarray | None = None,
    n_grid: int = 41,
    best: BestFit | None = None,
    starts: np.ndarray | None = None,
    n_starts: int = 8,
    method: str = DEFAULT_METHOD,
    seed: int | None = 0,
    from_unit_cube: UnitCubeMap | None = None,
    seed_window: float = 25.0,
    region_fits: dict[str, list[BestFit]] | None = None,
    derived: Callable[[np.ndarray], float] | None = None,
    sweep: str = "both-ways",
    images: ImageMap | None = None,
) -> dict[str, Profile]:
    """Profiles of ``parameter`` over the whole space, each region and the regions' union.

    Parameters
    ----------
    chi2 : callable
        ``chi2(theta)``, internal units, in the order of ``names``.
    names : sequence of str
        Parameter names.
    bounds : array (n, 2)
        Hard bounds (internal units).
    parameter : str
        The profiled parameter.
    regions : sequence of `globalfit.regions.Region`
        Each profile is restricted to the region's boxes (the other parameters are minimised
        inside them). ``Delta chi2`` of every profile is counted from the *global* minimum,
        so that the allowed set of the union is the union of the regions' allowed sets;
        each profile's own minimum is `Profile.minimum_chi2`.
    grid : array, optional
        Values of ``parameter`` (internal units); default ``n_grid`` points spanning its
        bounds. The best-fit values and the regions' edges are always added.
    best : BestFit, optional
        A global fit already done; otherwise `best_fit` runs with ``starts``/``n_starts``.
    from_unit_cube : callable, optional
        Places the random starts (`start_unit_cube_map`); needed for unbounded parameters.
    seed_window : float
        Local minima more than this above the global minimum do not seed the profiles: no
        point of their valley can have ``Delta chi2`` below the window, so they cannot
        change an interval at 9 (3 sigma) or below.
    region_fits : dict label -> list of BestFit, optional
        The regions' own best fits (`fit_regions`, `search_minima`), to reuse across
        parameters.
    derived : callable, optional
        ``parameter`` is a derived quantity ``derived(theta)`` (not one of ``names``); its
        values are held by equality constraints (see `profile_1d`). Needs ``grid``.
    sweep : str
        How each profile walks its grid (`SWEEPS`; `profile_1d`).
    images : callable, optional
        The model's symmetry (`globalfit.samplers.starts.image_map`): the images of the
        global minima seed the region fits when ``region_fits`` is not given.

    Returns
    -------
    dict label -> Profile
        Without regions, ``"all"`` (no restriction); with regions, one entry per region
        label and one for their union (labels joined by ``+``, e.g. ``LMA+LMA-D``).
    """
    names = list(names)
    if derived is None and parameter not in names:
        raise ValueError(f"parameter: {parameter!r} is not sampled (sampled: {', '.join(names)})")
    if derived is not None and grid is None:
        raise ValueError(f"grid: the derived quantity {parameter!r} needs a grid of values")
    index = names.index(parameter) if derived is None else None
    bounds = np.asarray(bounds, dtype=float)
    if best is None:
        best = best_fit(chi2, bounds, n_starts, starts, method, seed, names,
                        from_unit_cube=from_unit_cube)
    region_boxes = {r.label: r.box_bounds(names, bounds) for r in regions}
    if region_fits is None:
        region_fits = fit_regions(chi2, names, bounds, regions, best, starts, n_starts,
                                  method, seed, from_unit_cube, images)
    if derived is None:
        grid = _profile_grid(bounds[index], grid, n_grid, index, best, region_boxes, region_fits)
    else:
        minima = list(best.minima) + [m for fits in region_fits.values() for f in fits for m in f.minima]
        grid = np.unique(np.concatenate([np.asarray(grid, dtype=float), [derived(m.theta) for m in minima]]))
    useful = best.chi2_min + seed_window
    seeds = [m.theta for m in best.minima if m.chi2 <= useful]
    profiles: dict[str, Profile] = {}
    if not regions:
        profiles["all"] = profile_1d(chi2, index, grid, bounds, seeds, method,
                                     parameter=parameter, region="all", derived=derived,
                                     sweep=sweep)
    for label, boxes in region_boxes.items():
        parts = []
        for box, fit in zip(boxes, region_fits[label]):
            inside = [t for t in seeds if np.all((t >= box[:, 0]) & (t <= box[:, 1]))]
            box_seeds = [m.theta for m in fit.minima if m.chi2 <= useful] or [fit.theta]
            part = profile_1d(chi2, index, grid, box, inside + box_seeds,
                              method, parameter=parameter, region=label, derived=derived,
                              sweep=sweep)
            if derived is None:
                part.refine = _box_refiner(part, box[index, 0], box[index, 1])
            parts.append(part)
        if not parts:
            raise ValueError(f"regions: {label!r} does not overlap the parameter bounds")
        profiles[label] = _combine(parts, label)
    if regions:
        union = "+".join(r.label for r in regions)
        profiles[union] = _combine([profiles[r.label] for r in regions], union)
    chi2_min = min(best.chi2_min, *(float(np.min(p.chi2)) for p in profiles.values()))
    if chi2_min < best.chi2_min - 1e-6:
        warnings.warn(f"the profile of {parameter} found chi2 = {chi2_min:.6g} below the "
                      f"best fit ({best.chi2_min:.6g}); Delta chi2 uses the lower value",
                      stacklevel=2)
    return {label: p.with_reference(chi2_min) for label, p in profiles.items()}


def fit_regions(
    chi2: Chi2Function,
    names: Sequence[str],
    bounds: np.ndarray,
    regions: Sequence[Any],
    best: BestFit,
    starts: np.ndarray | None = None,
    n_starts: int = 8,
    method: str = DEFAULT_METHOD,
    seed: int | None = 0,
    from_unit_cube: UnitCubeMap | None = None,
    images: ImageMap | None = None,
    seed_window: float = 25.0,
) -> dict[str, list[BestFit]]:
    """Each region's own best fit, one `BestFit` per box of the region.

    Starts: ``n_starts`` Latin-hypercube points in the box, the chain ``starts`` inside it,
    the global minima of ``best`` clipped into it and, with ``images``
    (`globalfit.samplers.starts.image_map`), the images of the global minima within
    ``seed_window`` of the best that lie inside it. Compute once and pass to
    `profile_regions` (``region_fits=``) when profiling several parameters.
    """
    bounds = np.asarray(bounds, dtype=float)
    mirrored = []
    if images is not None:
        mirrored = [image for m in best.minima if m.chi2 <= best.chi2_min + seed_window
                    for image in images(m.theta)]
    return {
        region.label: [_box_fit(chi2, box, bounds, best, starts, n_starts, method, seed,
                                from_unit_cube, mirrored)
                       for box in region.box_bounds(names, bounds)]
        for region in regions
    }


def _box_fit(chi2, box, bounds, best, starts, n_starts, method, seed,
             from_unit_cube, mirrored=()) -> BestFit:
    seeds = [np.clip(m.theta, box[:, 0], box[:, 1]) for m in best.minima]
    for extra in (starts, mirrored):
        if extra is not None and len(extra):
            extra = np.atleast_2d(extra)
            inside = np.all((extra >= box[:, 0]) & (extra <= box[:, 1]), axis=1)
            seeds.extend(extra[inside])
    random = n_starts if from_unit_cube is not None or np.all(np.isfinite(box)) else 0
    return best_fit(chi2, box, random, np.array(seeds), method, seed,
                    from_unit_cube=_box_map(from_unit_cube, box, bounds))


def search_minima(
    chi2: Chi2Function,
    names: Sequence[str],
    bounds: np.ndarray,
    regions: Sequence[Any] = (),
    starts: np.ndarray | None = None,
    n_starts: int = 8,
    method: str = DEFAULT_METHOD,
    seed: int | None = 0,
    from_unit_cube: UnitCubeMap | None = None,
    images: ImageMap | None = None,
) -> tuple[BestFit, dict[str, list[BestFit]]]:
    """The global best fit and each region's (`best_fit`, then `fit_regions`), computed
    once for all the parameters a table profiles.

    A region's minimum below the global one (found from an image or from the region's own
    starts) joins the global fit's minima, so that ``best`` is the lowest point found and
    its minima seed every profile.
    """
    best = best_fit(chi2, bounds, n_starts, starts, method, seed, names,
                    from_unit_cube=from_unit_cube)
    region_fits = fit_regions(chi2, names, bounds, list(regions), best, starts, n_starts,
                              method, seed, from_unit_cube, images)
    found = [m for fits in region_fits.values() for fit in fits for m in fit.minima]
    if found:
        merged = _distinct(best.minima + found, np.asarray(bounds, dtype=float), 1e-2)
        best = BestFit(merged[0].theta, merged[0].chi2, merged,
                       best.calls + sum(f.calls for fits in region_fits.values() for f in fits),
                       best.names)
    return best, region_fits


def _box_map(from_unit_cube, box, bounds):
    """Starts inside a box: the prior's map along the directions the box leaves as they
    were (or unbounded), uniform along the directions the region cuts."""
    use_prior = ~np.all(np.isfinite(box), axis=1) | np.all(box == bounds, axis=1)
    if from_unit_cube is None:
        use_prior[:] = False

    def mapped(unit: np.ndarray) -> np.ndarray:
        theta = box[:, 0] + unit * np.where(use_prior, 0.0, box[:, 1] - box[:, 0])
        if use_prior.any():
            theta[:, use_prior] = from_unit_cube(unit)[:, use_prior]
        return theta

    return mapped


def _profile_grid(range_, grid, n_grid, index, best, region_boxes, region_fits) -> np.ndarray:
    if grid is None:
        if not np.all(np.isfinite(range_)):
            raise ValueError("grid: the profiled parameter has infinite bounds; give a grid")
        grid = np.linspace(range_[0], range_[1], n_grid)
    extra = [m.theta[index] for m in best.minima]
    for label, boxes in region_boxes.items():
        extra += [b[index, e] for b in boxes for e in (0, 1) if np.isfinite(b[index, e])]
        extra += [m.theta[index] for fit in region_fits[label] for m in fit.minima]
    values = np.concatenate([np.asarray(grid, dtype=float), extra])
    values = values[(values >= range_[0]) & (values <= range_[1])]
    return np.unique(values)


def profile_posterior(
    posterior: Any,
    parameter: str,
    regions: Sequence[Any] = (),
    chain_samples: np.ndarray | None = None,
    chain_log_prob: np.ndarray | None = None,
    **options: Any,
) -> dict[str, Profile]:
    """`profile_regions` for a `globalfit.posterior.Posterior`.

    The best chain points (``chain_samples`` with ``chain_log_prob``, internal units) join
    the Latin-hypercube starts. ``options`` go to `profile_regions` (``grid``, ``n_grid``,
    ``n_starts``, ``method``, ``seed``, ``best``); ``pull_terms`` to `posterior_chi2`.
    """
    pulls = options.pop("pull_terms", ())
    starts = None
    if chain_samples is not None and chain_log_prob is not None:
        starts = chain_starts(chain_samples, chain_log_prob)
    options.setdefault("from_unit_cube", start_unit_cube_map(posterior.parameters))
    return profile_regions(posterior_chi2(posterior, pulls), posterior.names,
                           posterior.bounds, parameter, regions, starts=starts, **options)


def refine_profile(profile: Profile, levels: Sequence[float] = (CL90_1DOF, THREE_SIGMA_1DOF),
                   points: int = 4, max_step: float = 1.0) -> Profile:
    """A denser copy of ``profile`` where its curve bends: near the minimum, at each
    crossing of ``levels`` and wherever Delta chi^2 changes by more than ``max_step``
    between neighbouring grid points (within the largest level).

    ``points`` new profile minimisations (``profile.refine``) are placed evenly inside each
    such grid interval (on both sides of every local minimum), so a curve drawn through the
    points is smooth where a reader looks at it. The profile must carry its ``refine``
    function (profiles from `profile_1d` and `profile_regions` do). New points have
    ``theta`` NaN; ``calls`` counts the original grid's evaluations only.
    """
    if profile.refine is None:
        raise ValueError(f"profile of {profile.parameter}: no refine function to add points with")
    first = _distinct_grid_points(profile.grid, profile.chi2)
    grid, delta = profile.grid[first], profile.delta_chi2[first]
    finite = np.isfinite(delta)
    padded = np.concatenate([[np.inf], np.where(finite, delta, np.inf), [np.inf]])
    minima = np.flatnonzero((padded[1:-1] <= padded[:-2]) & (padded[1:-1] <= padded[2:])
                            & finite)
    intervals = {k for m in minima for k in (m - 1, m) if 0 <= k < grid.size - 1}
    top = max(levels)
    for k in range(grid.size - 1):
        if not (finite[k] and finite[k + 1]):
            continue
        low, high = sorted((delta[k], delta[k + 1]))
        crosses = any(low < level <= high for level in levels)
        steep = high - low > max_step and low < top
        if crosses or steep:
            intervals.add(k)
    new = np.array(sorted(x for k in intervals
                          for x in np.linspace(grid[k], grid[k + 1], points + 2)[1:-1]))
    if new.size == 0:
        return profile
    chi2_new = np.array([profile.refine(float(x)) for x in new])
    merged = np.concatenate([grid, new])
    chi2 = np.concatenate([profile.chi2[first], chi2_new])
    theta = np.concatenate([profile.theta[first],
                            np.full((new.size, profile.theta.shape[1]), np.nan)])
    keep = np.argsort(merged, kind="stable")
    return Profile(profile.parameter, merged[keep], chi2[keep], theta[keep], profile.chi2_min,
                   profile.region, profile.calls, profile.refine)


def _distinct_grid_points(grid: np.ndarray, chi2: np.ndarray, rtol: float = 1e-6) -> np.ndarray:
    """Indices of ``grid`` in increasing order, keeping one point (the lowest chi^2) of
    each cluster closer than ``rtol`` times the grid's span (e.g. a minimum found next to
    a grid point)."""
    order = np.argsort(grid, kind="stable")
    tolerance = rtol * max(float(np.ptp(grid)), 1e-300)
    keep: list[int] = []
    for index in order:
        if keep and grid[index] - grid[keep[-1]] <= tolerance:
            if chi2[index] < chi2[keep[-1]]:
                keep[-1] = index
            continue
        keep.append(index)
    return np.array(keep, dtype=int)
