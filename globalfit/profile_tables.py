"""Frequentist profile tables (physics.md sec. 10, ``docs/statistics.md``).

`profile_table`: best fit and the 1-dof ranges where the profiled ``Delta chi2 < 2.71``
(90% CL) and ``< 9`` (3 sigma), for each region and for their union, in the long format
``parameter, region, level, best_fit, low, high`` (a range of two intervals is two rows),
from one search for minima shared by the parameters (`globalfit.samplers.region_profiles`).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from globalfit.regions import Region
from globalfit.results import RunResult
from globalfit.samplers.minimize import DEFAULT_METHOD, posterior_chi2
from globalfit.samplers.profile import refine_profile
from globalfit.samplers.region_profiles import posterior_minima, profile_regions
from globalfit.samplers.starts import (
    chain_starts,
    latin_hypercube_starts,
    start_unit_cube_map,
)
from globalfit.statistics import (
    LEVELS,
    merge_intervals,
)

LONG_COLUMNS = ["parameter", "region", "level", "best_fit", "low", "high"]
"""Columns of the long (CSV) profile table."""


# --- frequentist profile table -------------------------------------------------------------
def profile_table(posterior: Any, parameters: Sequence[str] | None = None,
                  regions: Sequence[Region] = (), chain: RunResult | None = None,
                  cores: int = 1, progress: bool = False, **options: Any) -> pd.DataFrame:
    """Frequentist table of physics.md sec. 10 in the long format.

    Parameters
    ----------
    posterior : Posterior
        ``names``, ``parameters``, ``bounds``, ``log_likelihood``.
    parameters : sequence of str, optional
        Parameters to profile (default: all sampled ones). A derived quantity of the model
        (``posterior.derived_names``, e.g. ``eps_ee_minus_mumu``) is profiled with its value
        held by an equality constraint; its grid spans the values it takes inside the bounds.
    regions : sequence of Region
        Rows for each region and for their union (``LMA``, ``LMA-D``, ``LMA+LMA-D``);
        without regions one region ``all``.
    chain : RunResult, optional
        Its best samples join the starting points of the minimisations.
    cores : int
        Parameters are profiled on up to this many processes (`globalfit.parallel.ordered_map`).
    progress : bool
        A progress bar over the parameters on a terminal (`globalfit.progress`).
    options
        Passed to `globalfit.samplers.region_profiles.profile_regions` (``n_grid``, ``n_starts``,
        ``method``, ``seed``, ``sweep``, ``refine``: endpoints by root finding (``True``, the
        default), by new profile points placed inside the grid intervals that cross a level
        and beside the minimum (``"points"``: `refine_profile` with ``refine_points`` each,
        default 2, then interpolation in sqrt(Delta chi^2); a fixed cost for expensive
        likelihoods) or from the grid alone (``False``)).

    Returns
    -------
    pandas.DataFrame
        Columns `LONG_COLUMNS` in display units; level ``90%`` or ``3sigma``; an empty
        allowed set is one row with NaN ``low``/``high``. ``attrs["chi2_min"]`` maps each
        region to its own minimum chi^2 and ``attrs["chi2_min_global"]`` is the global one.
    """

    names = list(posterior.names)
    wanted = list(parameters) if parameters else names
    refine = options.pop("refine", True)
    refine_points = options.pop("refine_points", 2)
    if refine not in (True, False, "points"):
        raise ValueError(f"refine: {refine!r} not allowed (True, False or 'points')")
    pulls = options.pop("pull_terms", ())
    chi2 = posterior_chi2(posterior, pulls)
    starts = None if chain is None else chain_starts(chain.flat_chain, chain.flat_log_prob)
    best, options["region_fits"] = posterior_minima(
        posterior, chi2, regions, starts, options.get("n_starts", 8),
        options.get("method", DEFAULT_METHOD), options.get("seed", 0))

    def parameter_rows(name: str) -> tuple[list, dict[str, float]]:
        profiles = _profiles(chi2, posterior, name, regions, best, starts, options)
        if refine == "points":
            union = "+".join(r.label for r in regions) if len(regions) > 1 else None
            profiles = {label: p if label == union else
                        refine_profile(p, points=refine_points, max_step=math.inf)
                        for label, p in profiles.items()}
        display = posterior.parameters[names.index(name)].from_internal if name in names else float
        rows, minima = [], {}
        for label, profile in profiles.items():
            minima[label] = profile.minimum_chi2
            for level_name, level in LEVELS.items():
                intervals = _allowed(profiles, label, level, refine is True, regions)
                for low, high in intervals or [(math.nan, math.nan)]:
                    rows.append([name, label, level_name, float(display(profile.best_value)),
                                 float(display(low)), float(display(high))])
        return rows, minima

    from globalfit.parallel import ordered_map

    rows, minima = [], {}
    for part_rows, part_minima in ordered_map(parameter_rows, wanted, cores,
                                              "profiles" if progress else None):
        rows += part_rows
        minima.update(part_minima)
    table = pd.DataFrame(rows, columns=LONG_COLUMNS)
    table.attrs["chi2_min"] = minima
    table.attrs["latex"] = {p.name: p.latex for p in posterior.parameters if p.latex}
    table.attrs["chi2_min_global"] = float(min([best.chi2_min, *minima.values()]))
    return table


def _allowed(profiles, label, level, refine, regions) -> list[tuple[float, float]]:
    """Allowed intervals of one row; the union row merges the (refined) region rows."""

    labels = [r.label for r in regions]
    if len(labels) > 1 and label == "+".join(labels):
        parts = [i for r in labels for i in profiles[r].intervals(level, refine=refine)]
        grid = profiles[label].grid
        return merge_intervals(parts, tolerance=1e-9 * float(np.ptp(grid) or 1.0))
    return profiles[label].intervals(level, refine=refine)


def _profiles(chi2, posterior, name, regions, best, starts, options):

    derived_names = list(getattr(posterior, "derived_names", ()))
    if name not in posterior.names and name not in derived_names:
        raise ValueError(f"parameters: {name!r} is neither sampled nor derived "
                         f"(sampled: {', '.join(posterior.names)}; derived: {', '.join(derived_names) or 'none'})")
    options = dict(options)
    if name in derived_names:
        derived = lambda theta: posterior.derived_value(name, theta)  # noqa: E731
        if "grid" not in options:
            options["grid"] = derived_grid(derived, posterior.bounds, options.pop("n_grid", 41),
                                           start_unit_cube_map(posterior.parameters, use_hints=False))
        options.pop("n_grid", None)
        return profile_regions(chi2, posterior.names, posterior.bounds, name, list(regions),
                               best=best, starts=starts, derived=derived, **options)
    if "grid" not in options:  # n_grid only sets the default grid
        options["grid"] = default_grid(posterior.parameters[posterior.names.index(name)],
                                       posterior.bounds[posterior.names.index(name)],
                                       options.pop("n_grid", 41))
    return profile_regions(chi2, posterior.names, posterior.bounds, name, list(regions),
                           best=best, starts=starts, **options)


def derived_grid(derived: Callable[[np.ndarray], float], bounds: np.ndarray, n_grid: int = 41,
                 from_unit_cube: Callable | None = None, n_points: int = 4096) -> np.ndarray:
    """Profile grid of a derived quantity: ``n_grid`` values spanning the range it takes on
    ``n_points`` Latin-hypercube points inside ``bounds`` (or the priors' unit-cube map,
    `globalfit.samplers.starts.start_unit_cube_map` with ``use_hints=False``)."""

    points = latin_hypercube_starts(np.asarray(bounds, dtype=float), n_points, 0, from_unit_cube)
    values = np.array([derived(theta) for theta in points])
    values = values[np.isfinite(values)]
    if values.size < 2 or np.ptp(values) == 0:
        raise ValueError("parameters: the derived quantity is constant or undefined inside the bounds")
    return np.linspace(values.min(), values.max(), n_grid)


def default_grid(parameter: Any, bounds: Sequence[float], n_grid: int = 41) -> np.ndarray:
    """Profile grid over ``bounds``: logarithmic for a log-uniform prior, else linear.

    An unbounded (Gaussian) prior is profiled over its central 5 sigma range.
    """
    low, high = float(bounds[0]), float(bounds[1])
    prior = getattr(parameter, "prior", None)
    if not (np.isfinite(low) and np.isfinite(high)) and hasattr(prior, "from_unit_cube"):
        five_sigma = 2.866515718791939e-07  # one-sided tail beyond 5 sigma
        edges = np.asarray(prior.from_unit_cube(np.array([five_sigma, 1 - five_sigma])))
        low, high = max(low, float(edges[0])), min(high, float(edges[1]))
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError(f"parameters: {parameter.name} has infinite bounds [{low}, {high}]; "
                         "give it min/max to profile it")
    kind = getattr(prior, "kind", "")
    if kind == "log-uniform" and low > 0:
        return np.geomspace(low, high, n_grid)
    return np.linspace(low, high, n_grid)


def profile_frame(profiles: dict, parameter: Any) -> pd.DataFrame:
    """Profiles as a long table: ``region, value`` (display unit), ``chi2, delta_chi2``.

    Grid points outside a region (``chi2 = inf``) are left out.
    """
    frames = []
    for label, profile in profiles.items():
        finite = np.isfinite(profile.chi2)
        frames.append(pd.DataFrame({
            "region": label,
            "value": parameter.from_internal(profile.grid[finite]),
            "chi2": profile.chi2[finite],
            "delta_chi2": profile.delta_chi2[finite],
        }))
    return pd.concat(frames, ignore_index=True)
