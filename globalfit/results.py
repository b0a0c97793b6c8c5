"""Run results: read a run folder, Bayesian summary tables, frequentist profile tables.

A run folder ``chains/<run>/`` holds ``config.yaml`` (resolved card), ``provenance.json``,
``chain.h5`` (emcee ``HDFBackend``, group ``mcmc``; samples in internal units in the order
of ``posterior.names``; structured blobs ``chi2.<likelihood>``, ``chi2.total``,
``derived.<name>``) and ``diagnostics.json``. `load_run` turns it into a `RunResult`.

Two kinds of tables (``docs/statistics.md``):

* `summary_table` (Bayesian): per parameter and derived quantity the maximum-posterior
  sample, the posterior median and 68/90/95% credible intervals, both highest-posterior-
  density (HPD: the shortest interval holding the mass) and equal-tailed (ET: the
  quantiles ``(1 -+ p) / 2``), per region with the region's posterior mass.
* `profile_table` (frequentist, physics.md sec. 10): best fit and the 1-dof ranges where
  the profiled ``Delta chi2 < 2.71`` (90% CL) and ``< 9`` (3 sigma), for each region and
  for their union, in the long format ``parameter, region, level, best_fit, low, high``
  (a range of two intervals is two rows).
"""
from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from globalfit.chainfile import ChainReader, check_chain, open_chain_file
from globalfit.diagnostics import (
    CONVERGENCE_CRITERION,
    acceptance_summary,
    chain_diagnostics,
    convergence_summary,
    stranded_walkers,
)
from globalfit.display import unit_latex
from globalfit.params import canonical_prior_kind
from globalfit.regions import UNIT_SCALES, WHOLE_SPACE, Region, parse_regions, split_regions
from globalfit.safe_yaml import load_yaml_file
from globalfit.samplers.minimize import DEFAULT_METHOD, posterior_chi2
from globalfit.samplers.profile import refine_profile
from globalfit.samplers.region_profiles import profile_regions, search_minima
from globalfit.samplers.starts import (
    chain_starts,
    image_map,
    latin_hypercube_starts,
    start_unit_cube_map,
)
from globalfit.statistics import (
    LEVELS,
    PriorEdges,
    equal_tailed_interval,
    hpd_interval,
    merge_intervals,
    one_sided_limit,
)

CHAIN_FILE = "chain.h5"
CHAIN_GROUP = "mcmc"
CREDIBLE_LEVELS = (0.68, 0.90, 0.95)
LONG_COLUMNS = ["parameter", "region", "level", "best_fit", "low", "high"]
"""Columns of the long (CSV) profile table."""


# --- parameters as a result needs them -----------------------------------------------------
@dataclass(frozen=True)
class DisplayParameter:
    """Name, LaTeX label and display unit of a sampled quantity (pure scale conversion).

    Built from the resolved run card when no `globalfit.params.Parameter` is at hand;
    has the same ``name``, ``latex``, ``unit``, ``to_internal`` and ``from_internal``.
    """

    name: str
    latex: str = ""
    unit: str = "none"
    factor: float = 1.0
    prior_kind: str = ""
    """The card's prior (``uniform``, ``log-uniform``, ...), for axis scales and limits."""
    prior_low: float = -math.inf
    prior_high: float = math.inf
    """Prior bounds in the display unit (infinite where the prior has none)."""

    def to_internal(self, x):
        return np.asarray(x, dtype=float) * self.factor

    def from_internal(self, x):
        return np.asarray(x, dtype=float) / self.factor

    @property
    def label(self) -> str:
        text = self.latex or self.name.replace("_", r"\_")
        return text if self.unit in ("none", "", None) else f"{text}\\ [{unit_latex(self.unit)}]"


def parameters_from_card(card: dict) -> list[DisplayParameter]:
    """The sampled (non-fixed) parameters of a resolved card, in card order."""
    out = []
    for name, spec in (card.get("parameters") or {}).items():
        if not isinstance(spec, dict) or "value" in spec:
            continue
        unit = spec.get("unit") or "none"
        factor = UNIT_SCALES[unit][1] if unit in UNIT_SCALES else 1.0
        kind = canonical_prior_kind(spec.get("prior", "uniform"))
        bounded = kind in ("uniform", "log-uniform")
        out.append(DisplayParameter(
            name, str(spec.get("latex", "") or ""), unit, factor, kind,
            float(spec.get("min", -math.inf)) if bounded else -math.inf,
            float(spec.get("max", math.inf)) if bounded else math.inf))
    return out


# --- the result object ---------------------------------------------------------------------
@dataclass
class RunResult:
    """Samples and metadata of one run (after burn-in and thinning).

    Attributes
    ----------
    run_dir : Path
    config : dict
        The resolved run card (``config.yaml``).
    provenance : dict
        ``provenance.json`` (empty if absent).
    parameters : list
        Sampled parameters (``name``, ``latex``, ``unit``, ``from_internal``), chain order.
    chain : array (n_steps, n_walkers, n_parameters)
        Internal units.
    log_prob : array (n_steps, n_walkers)
        ln posterior of each sample.
    blobs : pandas.DataFrame
        Flattened blobs (``chi2.*``, ``derived.*``), one row per flat sample.
    acceptance_fraction : array (n_walkers,)
    burn_in, thin : int
    excluded_walkers : dict
        Walkers left out of ``chain``, ``log_prob``, ``blobs`` and ``acceptance_fraction``
        because they were stranded (`globalfit.diagnostics.stranded_walkers`): walker index
        in the stored chain (``"ensemble_<k>:<index>"`` after `merge_ensembles`) -> its
        median ln posterior below the others' median.
    """

    run_dir: Path
    config: dict
    provenance: dict
    parameters: list
    chain: np.ndarray
    log_prob: np.ndarray
    blobs: pd.DataFrame
    acceptance_fraction: np.ndarray
    burn_in: int = 0
    thin: int = 1
    diagnostics: dict = field(default_factory=dict)
    excluded_walkers: dict = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.parameters]

    @property
    def flat_chain(self) -> np.ndarray:
        return self.chain.reshape(-1, self.chain.shape[-1])

    @property
    def flat_log_prob(self) -> np.ndarray:
        return self.log_prob.reshape(-1)

    @property
    def samples_internal(self) -> pd.DataFrame:
        """Flat samples, internal units, one column per parameter."""
        return pd.DataFrame(self.flat_chain, columns=self.names)

    @property
    def samples(self) -> pd.DataFrame:
        """Flat samples in display units, with the derived quantities and chi^2 blobs."""
        table = pd.DataFrame({p.name: p.from_internal(self.flat_chain[:, i])
                              for i, p in enumerate(self.parameters)})
        return pd.concat([table, self.blobs.reset_index(drop=True)], axis=1)

    @property
    def regions(self) -> list[Region]:
        """The run card's regions, parsed."""
        return parse_regions(self.config.get("regions"), self.parameters, self.blobs.columns)

    def region_mask(self, region: Region) -> np.ndarray:
        """Which flat samples lie in ``region`` (parameters in internal units, blobs as is)."""
        blobs = self.blobs.reset_index(drop=True)
        bare = {c[len("derived."):]: blobs[c] for c in blobs.columns if c.startswith("derived.")}
        columns = pd.concat([self.samples_internal, blobs, pd.DataFrame(bare)], axis=1)
        return region.mask(columns)


def _read_yaml(path: Path) -> dict:

    if not path.exists():
        raise FileNotFoundError(f"{path} not found: is {path.parent} a globalfit run folder?")
    card = load_yaml_file(path, what="run folder's resolved card") or {}
    if not isinstance(card, dict):
        raise ValueError(f"{path}: is not a resolved run card (a mapping); the file is damaged: "
                         f"rewrite it from the run's card (provenance.json names it)")
    return card


def _read_json(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        record = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not valid JSON ({error}); the file is damaged: delete it "
                         f"(the chain is not affected) or restore it") from None
    if not isinstance(record, dict):
        raise ValueError(f"{path}: expected a JSON object; the file is damaged: delete it "
                         f"(the chain is not affected) or restore it")
    return record


def _names_in_chain(path: Path) -> list[str] | None:

    check_chain(path)
    with open_chain_file(path) as handle:
        group = handle.get(CHAIN_GROUP)
        names = group.attrs.get("parameter_names") if group is not None else None
    if names is None:
        return None
    return [n.decode() if isinstance(n, bytes) else str(n) for n in names]


def _order_parameters(parameters, run_dir: Path, provenance: dict, n: int) -> list:
    """Parameters in chain order: ``parameter_names`` in chain.h5, provenance, or card order."""
    names = _names_in_chain(run_dir / CHAIN_FILE) or provenance.get("parameter_names")
    if names:
        table = {p.name: p for p in parameters}
        missing = [name for name in names if name not in table]
        if missing:
            raise ValueError(f"{run_dir}: chain parameters {missing} are not in config.yaml")
        parameters = [table[name] for name in names]
    if len(parameters) != n:
        raise ValueError(f"{run_dir}: chain.h5 has {n} parameters, config.yaml samples "
                         f"{len(parameters)} ({', '.join(p.name for p in parameters)})")
    return parameters


def load_run(run_dir: str | Path, burn_in: int | None = None, thin: int | None = None,
             parameters: Sequence[Any] | None = None, keep_stranded: bool = False) -> RunResult:
    """Read a run folder.

    Walkers stranded far below the posterior's bulk (`globalfit.diagnostics.stranded_walkers`:
    median ln posterior more than 20 below the others') are left out, with a warning, and
    listed in ``RunResult.excluded_walkers``; ``keep_stranded=True`` keeps them.

    Parameters
    ----------
    run_dir : path
        ``chains/<run>/``.
    burn_in, thin : int, optional
        Override the card's ``sampler.burn_in`` / ``sampler.thin`` (steps).
    parameters : sequence of Parameter, optional
        ``posterior.parameters``; by default built from the resolved card (display unit,
        LaTeX label).

    Raises
    ------
    FileNotFoundError
        If ``config.yaml`` or ``chain.h5`` is missing.
    ValueError
        If burn-in leaves no sample, or the chain and card disagree.
    """

    run_dir = Path(run_dir)
    config = _read_yaml(run_dir / "config.yaml")
    provenance = _read_json(run_dir / "provenance.json")
    chain_path = run_dir / CHAIN_FILE
    if not chain_path.exists():
        raise FileNotFoundError(f"{chain_path} not found (has the run started?)")
    sampler = config.get("sampler") or {}
    burn_in = int(sampler.get("burn_in", 0) if burn_in is None else burn_in)
    thin = int(sampler.get("thin", 1) if thin is None else thin)
    backend = ChainReader(chain_path, name=CHAIN_GROUP)
    steps = backend.iteration
    if steps <= burn_in:
        raise ValueError(f"burn_in: the chain has {steps} steps, burn-in is {burn_in}; "
                         f"run longer or pass a smaller burn_in")
    chain = backend.get_chain(discard=burn_in, thin=thin)
    log_prob = backend.get_log_prob(discard=burn_in, thin=thin)
    blobs = _blob_table(backend.get_blobs(discard=burn_in, thin=thin, flat=True))
    params = list(parameters) if parameters is not None else parameters_from_card(config)
    params = _order_parameters(params, run_dir, provenance, chain.shape[-1])
    acceptance = np.asarray(backend.accepted / steps)
    excluded = {} if keep_stranded else _stranded(log_prob)
    if excluded:
        keep = np.setdiff1d(np.arange(chain.shape[1]), list(excluded))
        warnings.warn(f"{run_dir}: walkers {sorted(excluded)} are stranded (median ln posterior "
                      f"{', '.join(f'{v:.0f}' for v in excluded.values())} below the others') and are left "
                      "out; load_run(..., keep_stranded=True) keeps them", stacklevel=2)
        if len(blobs):
            blobs = blobs.iloc[np.flatnonzero(np.tile(np.isin(np.arange(chain.shape[1]), keep),
                                                      chain.shape[0]))].reset_index(drop=True)
        chain, log_prob, acceptance = chain[:, keep], log_prob[:, keep], acceptance[keep]
    return RunResult(run_dir, config, provenance, params, chain, log_prob, blobs,
                     acceptance, burn_in, thin, _read_json(run_dir / "diagnostics.json"), excluded)


def _stranded(log_prob: np.ndarray) -> dict[int, float]:
    """Stranded walker index -> how far (ln posterior) its median lies below the others'."""

    medians = np.median(log_prob, axis=0)
    reference = np.median(medians[np.isfinite(medians)]) if np.isfinite(medians).any() else math.nan
    return {int(w): float(reference - medians[w]) for w in stranded_walkers(log_prob)}


def merge_ensembles(results: Sequence[RunResult]) -> RunResult:
    """Independent ensembles of one region as one run: walkers side by side.

    The chains are cut to the shortest post-burn-in length; blobs, acceptance fractions and
    excluded walkers follow (walker indices offset by the ensembles before). ``run_dir``,
    ``config`` and ``provenance`` are the first ensemble's.
    """
    if not results:
        raise ValueError("results: no ensemble to merge")
    steps = min(r.chain.shape[0] for r in results)
    columns = list(results[0].blobs.columns)

    def side_by_side(r: RunResult, column: str) -> np.ndarray:
        return r.blobs[column].to_numpy()[: steps * r.chain.shape[1]].reshape(steps, r.chain.shape[1])

    blobs = pd.DataFrame({c: np.concatenate([side_by_side(r, c) for r in results], axis=1).ravel()
                          for c in columns})
    excluded = {f"{r.run_dir.name}:{w}": v for r in results for w, v in r.excluded_walkers.items()}
    first = results[0]
    return RunResult(first.run_dir, first.config, first.provenance, first.parameters,
                     np.concatenate([r.chain[:steps] for r in results], axis=1),
                     np.concatenate([r.log_prob[:steps] for r in results], axis=1), blobs,
                     np.concatenate([r.acceptance_fraction for r in results]), first.burn_in,
                     first.thin, first.diagnostics, excluded)


def region_ensemble_runs(run_dir: str | Path) -> dict[str, RunResult]:
    """Card region name -> its ensembles merged (`merge_ensembles`), for a run made with
    ``ensembles_per_region`` (``RUN/<region>/ensemble_<k>/``). Empty for other runs."""
    run_dir = Path(run_dir)
    regions = (_read_yaml(run_dir / "config.yaml").get("regions") or {})
    runs = {}
    for name in regions:
        folders = sorted(f for f in (run_dir / name).glob("ensemble_*") if (f / CHAIN_FILE).exists())
        if folders:
            runs[name] = merge_ensembles([load_run(f) for f in folders])
    return runs


def region_ensemble_table(run_dir: str | Path) -> pd.DataFrame:
    """Bayesian summary of an ``ensembles_per_region`` run: one block per card region from its
    merged ensembles. ``mass`` is NaN: walkers never cross between the regions there (the
    masses come from evidences, ``sampler.name: nested``)."""
    run_dir = Path(run_dir)
    runs = region_ensemble_runs(run_dir)
    if not runs:
        raise FileNotFoundError(f"{run_dir}: no {CHAIN_FILE} and no region ensembles "
                                f"(<region>/ensemble_<k>/{CHAIN_FILE}): has the run started?")
    tables = []
    for name, merged in runs.items():
        region = next(r for r in merged.regions if r.name == name)
        table = summary_table(merged, split=[region])
        table["mass"] = math.nan
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def _blob_table(blobs) -> pd.DataFrame:
    if blobs is None:
        return pd.DataFrame()
    blobs = np.asarray(blobs)
    if blobs.dtype.names is None:
        return pd.DataFrame()
    return pd.DataFrame({name: np.asarray(blobs[name], dtype=float) for name in blobs.dtype.names})


def prior_edges(parameter: Any) -> PriorEdges | None:
    """`PriorEdges` of a `Parameter` or `DisplayParameter`, None for an unbounded prior."""
    prior = getattr(parameter, "prior", None)
    if prior is not None:
        low, high = (b / parameter.factor for b in prior.bounds)
        kind = prior.kind
    else:
        low, high = parameter.prior_low, parameter.prior_high
        kind = parameter.prior_kind
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return None
    return PriorEdges(low, high, log=kind == "log-uniform" and low > 0)


# --- Bayesian summary ----------------------------------------------------------------------
def resolve_split(result: RunResult, split: Any) -> list[Region]:
    """Regions for ``split``: None (whole space), ``"card"``, a condition, or Regions."""
    if split is None:
        return [WHOLE_SPACE]
    if isinstance(split, str) and split == "card":
        return result.regions or [WHOLE_SPACE]
    if isinstance(split, str):
        return list(split_regions(split, result.config.get("regions"), result.parameters,
                                  list(result.blobs.columns)))
    return list(split)


def _quantities(result: RunResult) -> list[tuple[str, str, np.ndarray, PriorEdges | None]]:
    """(name, unit, flat values in display units, prior edges) of parameters and derived
    quantities (derived ones have no prior edges).

    Derived quantities that are constant over the whole chain (e.g. couplings a model
    leaves at zero) are left out.
    """
    flat = result.flat_chain
    out = [(p.name, p.unit, p.from_internal(flat[:, i]), prior_edges(p))
           for i, p in enumerate(result.parameters)]
    for column in result.blobs.columns:
        values = result.blobs[column].to_numpy()
        finite = values[np.isfinite(values)]
        if column.startswith("derived.") and finite.size and finite.max() > finite.min():
            out.append((column[len("derived."):], "none", values, None))
    return out


def summary_table(result: RunResult, split: Any = None,
                  levels: Sequence[float] = CREDIBLE_LEVELS,
                  profile_best_fit: dict[str, float] | None = None) -> pd.DataFrame:
    """Bayesian summary, one row per region and quantity.

    Parameters
    ----------
    result : RunResult
    split : None, "card", str or sequence of Region
        None: the whole space; ``"card"``: the run card's regions; a condition such as
        ``"th12 < 45 deg"``: that region and its complement (named from the card where a
        card region matches).
    levels : sequence of float
        Credible masses.
    profile_best_fit : dict name -> value (display units), optional
        Frequentist best fit to show beside the maximum-posterior sample.

    Returns
    -------
    pandas.DataFrame
        Columns ``region, mass, parameter, unit, max_posterior, median`` and for each level
        ``hpd68_low, hpd68_high, et68_low, et68_high, ...``, ``chi2_at_max_posterior``
        (the ``chi2.total`` blob of the region's maximum-posterior sample, NaN without
        blobs); ``profile_best_fit`` if given.
        ``mass`` is the fraction of samples in the region: a posterior mass only if the
        walkers moved between the regions (see docs/statistics.md).
    """
    quantities = _quantities(result)
    log_prob = result.flat_log_prob
    rows = []
    for region in resolve_split(result, split):
        mask = result.region_mask(region)
        mass = float(mask.mean()) if mask.size else math.nan
        best = int(np.flatnonzero(mask)[np.argmax(log_prob[mask])]) if mask.any() else None
        chi2_best = math.nan
        if best is not None and "chi2.total" in result.blobs:
            chi2_best = float(result.blobs["chi2.total"].iloc[best])
        for name, unit, values, edges in quantities:
            row = _summary_row(region.label, mass, name, unit, values[mask],
                               values[best] if best is not None else math.nan, levels,
                               profile_best_fit, edges)
            row["chi2_at_max_posterior"] = chi2_best
            rows.append(row)
    return pd.DataFrame(rows)


def _summary_row(region, mass, name, unit, values, max_posterior, levels, profile_best_fit,
                 edges=None):
    row = {"region": region, "mass": mass, "parameter": name, "unit": unit,
           "max_posterior": float(max_posterior),
           "median": float(np.median(values)) if values.size else math.nan}
    if profile_best_fit is not None:
        row["profile_best_fit"] = profile_best_fit.get(name, math.nan)
    for level in levels:
        tag = f"{round(100 * level)}"
        row[f"hpd{tag}_low"], row[f"hpd{tag}_high"] = hpd_interval(values, level)
        row[f"et{tag}_low"], row[f"et{tag}_high"] = equal_tailed_interval(values, level)
        row[f"limit{tag}_kind"], row[f"limit{tag}"] = one_sided_limit(
            values, level, (row[f"hpd{tag}_low"], row[f"hpd{tag}_high"]), edges)
    return row


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
    options.setdefault("from_unit_cube", start_unit_cube_map(posterior.parameters))
    options.setdefault("images", image_map(posterior))
    best, options["region_fits"] = search_minima(
        chi2, names, posterior.bounds, list(regions), starts, options.get("n_starts", 8),
        options.get("method", DEFAULT_METHOD), options.get("seed", 0),
        options["from_unit_cube"], options["images"])

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


# --- formatting ----------------------------------------------------------------------------
def _number(value: float, digits: int = 3) -> str:
    return "nan" if not np.isfinite(value) else f"{value:.{digits}g}"


def _ranges(group: pd.DataFrame, digits: int) -> str:
    if group["low"].isna().all():
        return "none"
    return " + ".join(f"[{_number(lo, digits)}, {_number(hi, digits)}]"
                      for lo, hi in zip(group["low"], group["high"]))


def profile_rows(table: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """Wide form of the long profile table: one row per parameter and region."""
    rows = []
    for (parameter, region), group in table.groupby(["parameter", "region"], sort=False):
        row = {"parameter": parameter, "region": region,
               "best fit": _number(group["best_fit"].iloc[0], digits)}
        for level, level_group in group.groupby("level", sort=False):
            row[f"{level} range"] = _ranges(level_group, digits)
        rows.append(row)
    return pd.DataFrame(rows)


def summary_rows(table: pd.DataFrame, digits: int = 3, kind: str = "hpd") -> pd.DataFrame:
    """Readable form of `summary_table`: intervals as ``[a, b]``, one kind (hpd or et)."""
    levels = sorted({c[len(kind):-4] for c in table.columns
                     if c.startswith(kind) and c.endswith("_low")}, key=int)
    rows = []
    for _, row in table.iterrows():
        out = {"region": row["region"], "mass": f"{row['mass']:.3f}" if math.isfinite(row["mass"]) else "-",
               "parameter": row["parameter"], "unit": row["unit"],
               "max posterior": _number(row["max_posterior"], digits),
               "median": _number(row["median"], digits)}
        if "profile_best_fit" in row:
            out["profile best fit"] = _number(row["profile_best_fit"], digits)
        for level in levels:
            low, high = row[f"{kind}{level}_low"], row[f"{kind}{level}_high"]
            text = f"[{_number(low, digits)}, {_number(high, digits)}]"
            limit_kind = row.get(f"limit{level}_kind", "two-sided")
            if limit_kind == "upper":
                text = f"< {_number(row[f'limit{level}'], digits)}"
            elif limit_kind == "lower":
                text = f"> {_number(row[f'limit{level}'], digits)}"
            out[f"{level}% {kind.upper()}"] = text
        rows.append(out)
    return pd.DataFrame(rows)


def to_markdown(table: pd.DataFrame, title: str | None = None) -> str:
    """A Markdown pipe table (no optional dependency)."""
    header = "| " + " | ".join(map(str, table.columns)) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    body = ["| " + " | ".join(map(str, row)) + " |" for row in table.itertuples(index=False)]
    lines = ([f"{title}", ""] if title else []) + [header, rule, *body]
    return "\n".join(lines) + "\n"


_LATEX_ESCAPES = {"_": r"\_", "%": r"\%", "&": r"\&", "#": r"\#"}


def _latex_cell(text: Any) -> str:
    text = str(text)
    if text.startswith("$") and text.endswith("$"):
        return text
    return "".join(_LATEX_ESCAPES.get(ch, ch) for ch in text)


def to_latex(table: pd.DataFrame, caption: str | None = None,
             labels: dict[str, str] | None = None) -> str:
    """A ``tabular`` (booktabs) of ``table``; ``labels`` maps parameter names to LaTeX."""
    labels = labels or {}
    lines = [r"\begin{table}", r"\centering"]
    if caption:
        lines.append(rf"\caption{{{_latex_cell(caption)}}}")
    lines += [r"\begin{tabular}{" + "l" * len(table.columns) + "}", r"\toprule",
              " & ".join(_latex_cell(c) for c in table.columns) + r" \\", r"\midrule"]
    for row in table.itertuples(index=False):
        cells = [f"${labels[v]}$" if isinstance(v, str) and v in labels else _latex_cell(v)
                 for v in row]
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


SUMMARY_HEADER = (
    "Bayesian summary: maximum-posterior sample, posterior median and highest-posterior-"
    "density (HPD, shortest) credible intervals; summary.csv also has equal-tailed (ET) "
    "intervals. A parameter whose posterior runs into a bound of its prior gets a one-sided "
    "limit instead (`< x`: x is the upper limit at that credibility). `mass` is the fraction "
    "of samples in the region (a posterior mass only if the sampler moved between regions)."
)
PROFILE_HEADER = (
    "Frequentist profile likelihood: best fit and 1-dof ranges where Delta chi^2 < 2.71 "
    "(90% CL) and < 9 (3 sigma), minimised over all other parameters; Delta chi^2 is "
    "counted from the global minimum."
)


def write_summary(run_dir: str | Path) -> tuple[Path, Path]:
    """Write ``summary.csv`` (every column) and ``summary.md`` into ``run_dir``.

    Uses the run card's regions when it declares some (plus the whole space), else the
    whole space. Returns the two paths.
    """
    run_dir = Path(run_dir)
    result = load_run(run_dir)
    regions = [WHOLE_SPACE, *result.regions]
    table = summary_table(result, split=regions)
    csv_path, md_path = run_dir / "summary.csv", run_dir / "summary.md"
    table.to_csv(csv_path, index=False, float_format="%.8g")
    title = (f"# Run {result.config.get('name', run_dir.name)}\n\n{SUMMARY_HEADER}\n\n"
             f"Burn-in {result.burn_in} steps, thinning {result.thin}, "
             f"{result.flat_chain.shape[0]} samples.")
    md_path.write_text(to_markdown(summary_rows(table), title) + "\n" + convergence_text(result))
    if result.regions:
        _warn_unmixed(result)
    return csv_path, md_path


def convergence_text(result: RunResult) -> str:
    """Markdown section: split R-hat, tau, ESS per parameter and the acceptance fractions."""

    if result.chain.shape[0] < 4:
        return "## Convergence\n\nChain too short for diagnostics.\n"
    table = chain_diagnostics(result.chain, result.names)
    acceptance = acceptance_summary(result.acceptance_fraction)
    rows = pd.DataFrame({
        "parameter": table["parameter"],
        "split R-hat": table["rhat"].map(lambda v: f"{v:.3f}"),
        "tau [steps]": table["tau_steps"].map(lambda v: f"{v:.1f}"),
        "ESS": table["ess"].map(lambda v: f"{v:.0f}"),
        "converged": table["converged"].map({True: "yes", False: "no"}),
    })
    excluded = ""
    if result.excluded_walkers:
        excluded = (f" Left out: {len(result.excluded_walkers)} stranded walker(s) "
                    f"{sorted(result.excluded_walkers)}, median ln posterior "
                    f"{', '.join(f'{v:.0f}' for v in result.excluded_walkers.values())} below the others' "
                    "(not draws from the posterior; docs/statistics.md).")
    note = (f"Post-burn-in chain: {result.chain.shape[0]} steps x {result.chain.shape[1]} "
            f"walkers (thinning {result.thin}).{excluded} Acceptance fraction mean "
            f"{acceptance['mean']:.2f} (min {acceptance['min']:.2f}, max "
            f"{acceptance['max']:.2f}; {acceptance['stuck']} walkers below 0.05).")
    verdict = convergence_summary(result.chain, result.names)
    if verdict["converged"]:
        line = f"**Converged: yes** ({CONVERGENCE_CRITERION}; docs/statistics.md)."
    else:
        needed = verdict["steps_needed_after_burn_in"]
        more = (f" A chain mixing at this rate needs about {needed} steps after burn-in: "
                f"`globalfit resume {result.run_dir} --steps "
                f"{result.burn_in + needed * result.thin}`." if needed else "")
        line = f"**Converged: no** ({CONVERGENCE_CRITERION}; docs/statistics.md).{more}"
    return to_markdown(rows, f"## Convergence\n\n{line}\n\n{note}")


def _warn_unmixed(result: RunResult) -> None:
    """Warn if every walker stayed in one region (region masses then mean nothing)."""
    for region in result.regions:
        mask = result.region_mask(region).reshape(result.chain.shape[:2])
        per_walker = mask.mean(axis=0)
        if np.all((per_walker == 0) | (per_walker == 1)) and 0 < per_walker.mean() < 1:
            warnings.warn(f"region {region.label}: no walker moved in or out of it; its mass "
                          "is the fraction of walkers that started there, not a posterior mass",
                          stacklevel=2)
