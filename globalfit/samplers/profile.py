"""1-D profile likelihoods: a parameter (or a derived quantity) held on a grid, all others
minimised (`globalfit.samplers.minimize`).

* `profile_1d`: sweeping the grid left to right and right to left with warm starts from the
  neighbour and from every local minimum found, so that a separated mode is not lost
  (``sweep="both-ways"``); or, for expensive likelihoods, ``sweep="outward"``: every local
  minimum is minimised once at its own grid point and the grid is walked outward from there,
  each point warm-started from the walk's previous one (one warm minimisation per point and
  seed instead of one cold one per point and seed plus two warm ones).
* `Profile.intervals`: the set where ``Delta chi2 < level``
  (`globalfit.statistics.allowed_intervals`), endpoints optionally refined by root finding
  on the profile itself; `refine_profile` adds profile points where the curve bends.
* Profiles restricted to regions (LMA, LMA-Dark) are in `globalfit.samplers.region_profiles`.

See ``docs/statistics.md``.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from globalfit.progress import progress_bar
from globalfit.samplers.minimize import DEFAULT_METHOD, Chi2Function, minimize_chi2
from globalfit.statistics import CL90_1DOF, THREE_SIGMA_1DOF, allowed_intervals


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
