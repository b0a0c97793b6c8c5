"""Profiles restricted to regions (e.g. LMA ``th12 < 45 deg`` and LMA-Dark): each region's
own best fit, its profile and the union's, from one search for minima shared by all the
parameters of a table (`search_minima`).

See ``docs/statistics.md`` (section "Regions").
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from globalfit.samplers.minimize import (
    DEFAULT_METHOD,
    BestFit,
    Chi2Function,
    _distinct,
    best_fit,
)
from globalfit.samplers.profile import Profile, profile_1d
from globalfit.samplers.starts import ImageMap, UnitCubeMap, image_map, start_unit_cube_map


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


def posterior_minima(
    posterior: Any,
    chi2: Chi2Function,
    regions: Sequence[Any] = (),
    starts: np.ndarray | None = None,
    n_starts: int = 8,
    method: str = DEFAULT_METHOD,
    seed: int | None = 0,
) -> tuple[BestFit, dict[str, list[BestFit]]]:
    """`search_minima` on a posterior as the tables and figures run it: random starts placed
    by the card's start hints and the priors (`start_unit_cube_map`), region fits seeded by
    the model's symmetry (`image_map`). ``chi2`` is `posterior_chi2` of the posterior (with
    whatever pull terms the caller chose)."""
    return search_minima(chi2, posterior.names, posterior.bounds, list(regions), starts,
                         n_starts, method, seed, start_unit_cube_map(posterior.parameters),
                         image_map(posterior))


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
