"""Frequentist results of a run card or a run folder: the profile table and profile curves.

`profile_card` is the card-level entry point: card -> posterior -> regions -> the profile
table of `globalfit.profile_tables.profile_table` (best fit, 90 % CL and 3 sigma ranges per region
and for their union), with no sampling needed. ``globalfit table CARD --profile`` prints it
and ``globalfit.profile(card, ...)`` returns it. `profile_curves` gives the profiles behind
``globalfit plot RUN --profile P``. Both use the one profile engine,
`globalfit.samplers.profile`; Delta chi^2 levels come from `globalfit.statistics`.

A run folder is accepted wherever a card is: its resolved ``config.yaml`` is the card and the
best points of its chain (if it samples the same parameters) join the starting points.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def load_card(card: Any):
    """``(config, run_dir)``: a validated `RunConfig` from a card (path, mapping or
    `RunConfig`) or a run folder (its ``config.yaml``; ``run_dir`` is then the folder)."""
    from globalfit.config import RunConfig, load_config

    if isinstance(card, RunConfig):
        return card, None
    if isinstance(card, (str, Path)) and Path(card).is_dir():
        path = Path(card) / "config.yaml"
        if not path.exists():
            raise FileNotFoundError(f"{path} not found: is {card} a globalfit run folder or a card?")
        return load_config(path), Path(card)
    return load_config(card), None


def load_posterior(card: Any):
    """``(posterior, config, run_dir)`` of a card or run folder (`load_card`)."""
    from globalfit.posterior import build_posterior

    config, run_dir = load_card(card)
    return build_posterior(config), config, run_dir


def profile_regions_for(posterior, card_regions, split: str | None = None) -> list:
    """The regions of a profile table: ``split`` (a condition, e.g. ``"th12 < 45 deg"``,
    and its complement) or else the card's ``regions:``."""
    from globalfit.regions import parse_regions, split_regions

    derived = list(getattr(posterior, "blob_names", ()))
    if split:
        return list(split_regions(split, card_regions, posterior.parameters, derived))
    return parse_regions(card_regions, posterior.parameters, derived)


def chain_for_starts(run_dir: Path | None, posterior):
    """The run's chain if it samples exactly ``posterior.names`` (its best points seed the
    minimisations), else None with a note: the code may have changed since the run."""
    from globalfit.results import load_run

    if run_dir is None or not (Path(run_dir) / "chain.h5").exists():
        return None
    try:
        chain = load_run(run_dir)
    except ValueError as error:
        print(f"note: chain not used for starting points ({error})", file=sys.stderr)
        return None
    if chain.names != list(posterior.names):
        print(f"note: the chain samples {chain.names}, the rebuilt posterior "
              f"{list(posterior.names)}; chain not used for starting points", file=sys.stderr)
        return None
    return chain


def _check_names(names: Sequence[str] | None, known: Sequence[str]) -> None:
    unknown = [n for n in names or () if n not in known]
    if unknown:
        raise ValueError(f"parameters: unknown {unknown} (available: {', '.join(known)})")


def profile_card(card: Any, split: str | None = None, parameters: Sequence[str] | None = None,
                 cores: int = 1, n_grid: int = 41, n_starts: int = 8,
                 method: str | None = None, seed: int = 0,
                 progress: bool = False, sweep: str = "both-ways",
                 refine: bool | str = True,
                 grid_range: tuple[float, float] | None = None) -> pd.DataFrame:
    """Frequentist profile table of a run card, computed from the likelihoods alone.

    Parameters
    ----------
    card : path, mapping, RunConfig or run folder
        The run card (or a run folder: its ``config.yaml`` and its chain's best points).
    split : str, optional
        A condition such as ``"th12 < 45 deg"``: rows for it, its complement and their
        union; default the card's ``regions:`` (one region ``all`` without any).
    parameters : sequence of str, optional
        Parameters to profile (default all free ones); the model's derived quantities
        (e.g. ``eps_ee_minus_mumu``) are allowed.
    cores : int
        Parameters profiled in parallel on this many processes.
    n_grid, n_starts, method, seed
        Profile grid points, random starts of the best-fit searches, local minimiser
        (`globalfit.samplers.minimize.METHODS`), seed of the starts.
    progress : bool
        Progress bars on a terminal (`globalfit.progress`).
    sweep : str
        How each profile walks its grid: ``both-ways`` (every seed at every point) or
        ``outward`` (warm-started walks from each seed; `globalfit.samplers.profile.SWEEPS`).
    refine : True, False or ``"points"``
        Interval endpoints by root finding, from the grid, or from two new profile points in
        each grid interval that crosses a level (`globalfit.profile_tables.profile_table`).
    grid_range : (low, high), optional
        Profile ``n_grid`` points between these values (the parameter's display unit)
        instead of over its whole range: a closer look at part of a profile. One parameter
        only; the minima's own values join the grid as always, so a row can reach beyond
        the range (only its part inside the range has the finer grid).

    Returns
    -------
    pandas.DataFrame
        Columns ``parameter, region, level, best_fit, low, high`` (display units; level
        ``90%`` or ``3sigma``; a range of two pieces is two rows); ``attrs["chi2_min"]``
        per region and ``attrs["chi2_min_global"]``.
    """
    from globalfit.profile_tables import profile_table

    posterior, config, run_dir = load_posterior(card)
    names = list(parameters) if parameters else None
    _check_names(names, list(posterior.names) + list(getattr(posterior, "derived_names", ())))
    regions = profile_regions_for(posterior, config.regions, split)
    options: dict[str, Any] = {"n_grid": n_grid, "n_starts": n_starts, "seed": seed,
                               "sweep": sweep, "refine": refine}
    if grid_range is not None:
        options["grid"] = _zoom_grid(posterior, names, grid_range, n_grid)
    if method:
        options["method"] = method
    return profile_table(posterior, names, regions, chain=chain_for_starts(run_dir, posterior),
                         cores=cores, progress=progress, **options)


def _zoom_grid(posterior, names: list[str] | None, grid_range, n_grid: int) -> np.ndarray:
    """``n_grid`` points over ``grid_range`` (display units) of the one profiled parameter,
    in internal units (derived quantities are dimensionless)."""
    if not names or len(names) != 1:
        raise ValueError(f"--range: needs exactly one parameter (--parameters NAME), got "
                         f"{names or 'all'}")
    low, high = (float(v) for v in grid_range)
    if not low < high:
        raise ValueError(f"--range: expected LOW < HIGH, got {low} {high}")
    (name,) = names
    factor = (posterior.parameters[posterior.names.index(name)].factor
              if name in posterior.names else 1.0)
    return np.linspace(low, high, n_grid) * factor


def profile_curves(card: Any, parameters: Sequence[str], split: str | None = None,
                   n_grid: int = 41, n_starts: int = 8, cores: int = 1,
                   progress: bool = False, refine: bool = True) -> dict[str, tuple[Any, dict]]:
    """Profiles of each of ``parameters`` per region: ``{name: (Parameter, {region:
    Profile})}``, for `globalfit.plots.profile_plot` and `globalfit.profile_tables.profile_frame`.
    Arguments as in `profile_card`; with ``refine`` (default) each curve gets extra
    profile points near its minima, level crossings and steep parts
    (`globalfit.samplers.profile.refine_profile`), so that it is drawn smooth."""
    from globalfit.parallel import ordered_map
    from globalfit.profile_tables import default_grid
    from globalfit.samplers.minimize import posterior_chi2
    from globalfit.samplers.profile import refine_profile
    from globalfit.samplers.region_profiles import posterior_minima, profile_regions
    from globalfit.samplers.starts import chain_starts

    posterior, config, run_dir = load_posterior(card)
    unknown = [p for p in parameters if p not in posterior.names]
    if unknown:
        raise ValueError(f"--profile: {unknown} not sampled (sampled: {', '.join(posterior.names)})")
    regions = profile_regions_for(posterior, config.regions, split)
    chain = chain_for_starts(run_dir, posterior)
    starts = None if chain is None else chain_starts(chain.flat_chain, chain.flat_log_prob)
    chi2 = posterior_chi2(posterior)
    best, region_fits = posterior_minima(posterior, chi2, regions, starts, n_starts)

    def one(name: str):
        index = posterior.names.index(name)
        grid = default_grid(posterior.parameters[index], posterior.bounds[index], n_grid)
        profiles = profile_regions(chi2, posterior.names, posterior.bounds, name, regions,
                                   grid=grid, best=best, starts=starts,
                                   region_fits=region_fits)
        if refine:
            profiles = {label: refine_profile(profile) for label, profile in profiles.items()}
        for profile in profiles.values():
            profile.refine = None  # a closure: not sent back from a worker process
        return profiles

    found = ordered_map(one, list(parameters), cores, "profiles" if progress else None)
    return {name: (posterior.parameters[posterior.names.index(name)], profiles)
            for name, profiles in zip(parameters, found)}
