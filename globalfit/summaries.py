"""Bayesian summary tables of a run (``docs/statistics.md``).

`summary_table`: per parameter and derived quantity the maximum-posterior sample, the
posterior median and 68/90/95% credible intervals, both highest-posterior-density (HPD: the
shortest interval holding the mass) and equal-tailed (ET: the quantiles ``(1 -+ p) / 2``),
per region with the region's posterior mass; a posterior that runs into a bound of its prior
gets a one-sided limit. `write_summary` writes ``summary.csv`` and ``summary.md`` into a run.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from globalfit.diagnostics import (
    CONVERGENCE_CRITERION,
    acceptance_summary,
    chain_diagnostics,
    convergence_summary,
)
from globalfit.regions import WHOLE_SPACE, Region, split_regions
from globalfit.results import CHAIN_FILE, RunResult, load_run, region_ensemble_runs
from globalfit.statistics import (
    PriorEdges,
    equal_tailed_interval,
    hpd_interval,
    one_sided_limit,
)
from globalfit.table_format import SUMMARY_HEADER, summary_rows, to_markdown

CREDIBLE_LEVELS = (0.68, 0.90, 0.95)


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
