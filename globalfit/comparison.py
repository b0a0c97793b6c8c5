"""Compare runs (models, or data sets): which is viable, and by how much.

For each run folder: the minimum ``chi^2`` (multi-start fit started also from the best chain
samples; nuisance priors enter as pull terms), the number of free parameters ``k``, the
information criteria ``AIC = chi2_min + 2k`` and ``BIC = chi2_min + k ln N`` (``N`` = number
of data points the likelihoods declare as ``n_data``; BIC is left empty if one does not),
the log-evidence from nested sampling where the run has one (``nested_*.h5``), Bayes
factors against the best run in words (Jeffreys scale as in Trotta, Contemp. Phys. 49
(2008) 71), and the chi^2 of every likelihood at each best fit.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from globalfit.samplers.nested import NestedResult

JEFFREYS_SCALE = ((1.0, "inconclusive"), (2.5, "weak"), (5.0, "moderate"), (math.inf, "strong"))
"""Upper edges in |ln B| and the wording (Trotta 2008: odds 3:1, 12:1, 150:1)."""


def jeffreys_wording(ln_bayes_factor: float) -> str:
    """Evidence strength of ``|ln B|`` in words; NaN gives ``"-"``."""
    if not np.isfinite(ln_bayes_factor):
        return "-"
    magnitude = abs(ln_bayes_factor)
    for edge, words in JEFFREYS_SCALE:
        if magnitude < edge:
            return words
    return JEFFREYS_SCALE[-1][1]


@dataclass
class RunSummary:
    """What `compare` needs from one run."""

    name: str
    n_free: int
    chi2_min: float
    best_fit: dict[str, float]
    chi2_by_likelihood: dict[str, float]
    n_data: int | None = None
    log_evidence: float = math.nan
    log_evidence_err: float = math.nan
    notes: list[str] = field(default_factory=list)


def run_evidence(run_dir: Path) -> tuple[float, float]:
    """ln Z and its error of a run folder: ``nested_all.h5``, else the sum over its
    region files ``nested_<region>.h5`` (regions partition the prior); NaN if none."""
    run_dir = Path(run_dir)
    whole = run_dir / "nested_all.h5"
    files = [whole] if whole.exists() else sorted(run_dir.glob("nested_*.h5"))
    if not files:
        return math.nan, math.nan
    results = [NestedResult.load(f) for f in files]
    log_z = np.array([r.log_evidence for r in results])
    total = float(np.logaddexp.reduce(log_z))
    weights = np.exp(log_z - total)
    error = float(np.sqrt(np.sum((weights * np.array([r.log_evidence_err for r in results])) ** 2)))
    return total, error


def summarise_runs(run_dirs, n_starts: int = 8, seed: int = 0, cores: int = 1,
                   progress: bool = False) -> list[RunSummary]:
    """`summarise_run` of each run folder (on up to ``cores`` processes; a progress bar on a
    terminal with ``progress``)."""
    from globalfit.parallel import ordered_map

    return ordered_map(lambda run: summarise_run(run, n_starts, seed), list(run_dirs), cores,
                       "compare: best fits" if progress else None)


def summarise_run(run_dir: str | Path, n_starts: int = 8, seed: int = 0) -> RunSummary:
    """Best fit, chi^2 breakdown and evidence of one run folder.

    A folder holding only a resolved card (``config.yaml``) is fitted from random starts
    (noted); a started run (``provenance.json``) with neither ``chain.h5`` nor nested
    evidence is refused (``FileNotFoundError``): its chain is missing.
    """
    from globalfit.config import load_config
    from globalfit.posterior import build_posterior
    from globalfit.samplers.minimize import best_fit, posterior_chi2
    from globalfit.samplers.starts import chain_starts

    run_dir = Path(run_dir)
    card = run_dir / "config.yaml"
    if not card.exists():
        raise FileNotFoundError(f"{card} not found: is {run_dir} a globalfit run folder?")
    started = (run_dir / "provenance.json").exists()  # a run, not just a card to refit
    if started and not (run_dir / "chain.h5").exists() and not any(run_dir.glob("nested_*.h5")):
        raise FileNotFoundError(f"{run_dir / 'chain.h5'} not found: the run has neither a chain "
                                f"nor nested-sampling evidence to compare (did it start?); "
                                f"`globalfit resume {run_dir}` runs it")
    posterior = build_posterior(load_config(card))
    notes = []
    starts = None
    if (run_dir / "chain.h5").exists():
        from globalfit.results import load_run

        result = load_run(run_dir, parameters=posterior.parameters)
        starts = chain_starts(result.flat_chain, result.flat_log_prob, n=5)
    else:
        notes.append("no chain: best fit from random starts only")
    pulls = [n for n in posterior.names if "." in n]
    chi2 = posterior_chi2(posterior, pull_terms=pulls)
    if posterior.ndim:
        fit = best_fit(chi2, posterior.bounds, n_starts=n_starts, starts=starts, seed=seed,
                       names=posterior.names)
        theta, chi2_min = fit.theta, fit.chi2_min
    else:
        theta, chi2_min = np.zeros(0), chi2(np.zeros(0))
    parts = posterior.log_likelihood(theta)[1]
    n_data = [getattr(lk, "n_data", None) for lk in posterior.likelihoods.values()]
    log_z, log_z_err = run_evidence(run_dir)
    return RunSummary(
        name=run_dir.name, n_free=posterior.ndim, chi2_min=float(chi2_min),
        best_fit=dict(zip(posterior.names, map(float, theta))), chi2_by_likelihood=parts,
        n_data=None if any(n is None for n in n_data) else int(sum(n_data)),
        log_evidence=log_z, log_evidence_err=log_z_err, notes=notes,
    )


def comparison_table(summaries: Sequence[RunSummary]) -> pd.DataFrame:
    """One row per run: k, chi2_min, Delta chi2, AIC, BIC, ln Z, ln B vs best, wording."""
    if not summaries:
        raise ValueError("runs: give at least one run to compare")
    rows = []
    for s in summaries:
        bic = s.chi2_min + s.n_free * math.log(s.n_data) if s.n_data else math.nan
        rows.append({"run": s.name, "k": s.n_free, "N": s.n_data or math.nan,
                     "chi2_min": s.chi2_min, "AIC": s.chi2_min + 2 * s.n_free, "BIC": bic,
                     "ln_Z": s.log_evidence, "ln_Z_err": s.log_evidence_err})
    table = pd.DataFrame(rows)
    table["delta_chi2"] = table["chi2_min"] - table["chi2_min"].min()
    table["delta_AIC"] = table["AIC"] - table["AIC"].min()
    table["delta_BIC"] = table["BIC"] - table["BIC"].min()
    best_z = table["ln_Z"].max() if table["ln_Z"].notna().any() else math.nan
    table["ln_B_vs_best"] = table["ln_Z"] - best_z
    table["evidence_against"] = [
        "best" if b == 0 else jeffreys_wording(b) for b in table["ln_B_vs_best"]
    ]
    columns = ["run", "k", "N", "chi2_min", "delta_chi2", "AIC", "delta_AIC", "BIC", "delta_BIC",
               "ln_Z", "ln_Z_err", "ln_B_vs_best", "evidence_against"]
    return table[columns]


def breakdown_table(summaries: Sequence[RunSummary]) -> pd.DataFrame:
    """chi^2 of every likelihood at each run's best fit (rows: likelihoods; columns: runs),
    and the difference of each run to the first, so one sees which data drive a preference."""
    names = []
    for s in summaries:
        names += [n for n in s.chi2_by_likelihood if n not in names]
    table = pd.DataFrame({s.name: [s.chi2_by_likelihood.get(n, math.nan) for n in names]
                          for s in summaries}, index=pd.Index(names, name="likelihood"))
    reference = summaries[0].name
    for s in summaries[1:]:
        table[f"{s.name} - {reference}"] = table[s.name] - table[reference]
    return table


def format_comparison(table: pd.DataFrame, breakdown: pd.DataFrame, digits: int = 2) -> str:
    """Both tables as Markdown."""
    def fmt(value):
        if isinstance(value, (float, np.floating)):
            return "-" if not np.isfinite(value) else f"{value:.{digits}f}"
        return str(value)

    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in table.itertuples(index=False)]
    lines += ["", "chi^2 per likelihood at each best fit:", "",
              "| likelihood | " + " | ".join(breakdown.columns) + " |",
              "|---|" + "---|" * len(breakdown.columns)]
    lines += [f"| {name} | " + " | ".join(fmt(v) for v in row) + " |"
              for name, row in zip(breakdown.index, breakdown.itertuples(index=False))]
    return "\n".join(lines)
