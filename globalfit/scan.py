"""Viability scans: the profile chi^2 of a run card along one parameter (``scan:`` block).

For each value of the scanned parameter on the card's grid (``from``, ``to``, ``points``,
``spacing``), the parameter is held fixed and chi^2 is minimised over every other free
parameter of the card with `globalfit.samplers.profile.profile_1d` (seeded by a multi-start
`best_fit`, with warm starts from the neighbouring grid points in both directions). The
nuisance parameters of the likelihoods (names with a ``.``) enter with their card priors as
pull terms ``-2 ln prior``, as in `globalfit.comparison.summarise_run`; the physics
parameters enter through the likelihoods only.

``Delta chi2`` is counted from the minimum over the scan grid. A scanned parameter that the
card keeps fixed (a model parameter such as ``mzp``) is freed for the scan with a
(log-)uniform prior over the scan range; that prior only bounds the minimiser's starts.

The result is written to ``scan.csv`` in the run folder: the parameter in the scan's unit,
``chi2_min``, ``delta_chi2``, ``chi2.<likelihood>`` at each point's best fit and the
best-fit values of the other free parameters (in their display units).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from globalfit.params import unit_factor
from globalfit.samplers.profile import DEFAULT_METHOD
from globalfit.statistics import CL90_1DOF, CL95_1DOF, level_crossings

SCAN_FILE = "scan.csv"
SCAN_LEVELS = {"90% CL": CL90_1DOF, "95% CL": CL95_1DOF}
"""Delta chi^2 thresholds (one degree of freedom) whose crossings are reported."""


def scan_grid(scan: dict[str, Any]) -> np.ndarray:
    """The scan values in the scan's unit: ``points`` values from ``from`` to ``to``
    (both included), evenly spaced in the logarithm (``spacing: log``) or linearly."""
    low, high, points = float(scan["from"]), float(scan["to"]), int(scan["points"])
    spaced = np.geomspace if scan.get("spacing", "log") == "log" else np.linspace
    grid = spaced(low, high, points)
    grid[0], grid[-1] = low, high
    return grid


def scan_config(config):
    """A copy of ``config`` in which the scanned parameter is free.

    A parameter the card fixes (a model parameter) gets a uniform (``linear``) or
    log-uniform (``log``) prior spanning the scan range, in the scan's unit.
    """
    scan = config.scan
    out = copy.deepcopy(config)
    spec = out.parameters.get(scan["parameter"])
    if isinstance(spec, dict) and "prior" in spec:
        return out
    kind = "log-uniform" if scan["spacing"] == "log" else "uniform"
    low, high = sorted((float(scan["from"]), float(scan["to"])))
    latex = spec.get("latex") if isinstance(spec, dict) else None
    out.parameters[scan["parameter"]] = {"prior": kind, "min": low, "max": high,
                                         "unit": scan["unit"], **({"latex": latex} if latex else {})}
    out.validate()
    return out


@dataclass
class ScanResult:
    """A viability scan: ``table`` (pandas DataFrame, one row per grid value) and the
    crossings of each level in `SCAN_LEVELS` (``{label: [x, ...]}``, scan unit)."""

    parameter: str
    unit: str
    spacing: str
    table: Any
    crossings: dict[str, list[float]]
    calls: int


def run_scan(config, n_starts: int = 8, method: str = DEFAULT_METHOD, seed: int = 0,
             posterior=None) -> ScanResult:
    """Profile chi^2 of ``config`` (a validated `RunConfig` with a ``scan`` block).

    Parameters
    ----------
    config : RunConfig
        The card; ``config.scan`` gives the parameter and grid.
    n_starts : int
        Latin-hypercube starts of the seeding `best_fit` (drawn through the priors).
    method : str
        Local minimiser (`globalfit.samplers.profile.METHODS`).
    seed : int
        Seed of the starts.
    posterior : Posterior, optional
        ``build_posterior(scan_config(config))`` where the caller has built it already.
    """
    from globalfit.posterior import build_posterior
    from globalfit.samplers.profile import best_fit, posterior_chi2, prior_unit_cube_map, profile_1d

    scan = config.scan
    if not scan:
        raise ValueError("scan: the run card has no 'scan:' block")
    if posterior is None:
        posterior = build_posterior(scan_config(config))
    names = list(posterior.names)
    index = names.index(scan["parameter"])
    bounds = np.asarray(posterior.bounds, dtype=float)
    grid_display = scan_grid(scan)
    grid = np.clip(grid_display * unit_factor(scan["unit"], "scan.unit"),
                   bounds[index, 0], bounds[index, 1])
    chi2 = posterior_chi2(posterior, pull_terms=[n for n in names if "." in n])
    best = best_fit(chi2, bounds, n_starts=n_starts, method=method, seed=seed, names=names,
                    from_unit_cube=prior_unit_cube_map(posterior.parameters))
    profile = profile_1d(chi2, index, grid, bounds, [m.theta for m in best.minima], method,
                         parameter=scan["parameter"])
    table = _table(posterior, scan, grid_display, profile)
    crossings = {label: level_crossings(grid_display, table["delta_chi2"].to_numpy(), level,
                                        log=scan["spacing"] == "log")
                 for label, level in SCAN_LEVELS.items()}
    return ScanResult(scan["parameter"], scan["unit"], scan["spacing"], table, crossings,
                      best.calls + profile.calls)


def _table(posterior, scan, grid_display, profile):
    import pandas as pd

    names = list(posterior.names)
    columns = {column_name(scan): grid_display, "chi2_min": profile.chi2,
               "delta_chi2": profile.delta_chi2}
    parts = [posterior.log_likelihood(theta)[1] for theta in profile.theta]
    for likelihood in posterior.likelihoods:
        columns[f"chi2.{likelihood}"] = [p[likelihood] for p in parts]
    for k, parameter in enumerate(posterior.parameters):
        if names[k] != scan["parameter"]:
            columns[names[k]] = profile.theta[:, k] / parameter.factor
    return pd.DataFrame(columns)


def column_name(scan: dict[str, Any]) -> str:
    """The scanned parameter's column: ``mzp [MeV]`` (or the bare name without a unit)."""
    unit = scan.get("unit", "none")
    return scan["parameter"] if unit == "none" else f"{scan['parameter']} [{unit}]"


def format_scan(result: ScanResult, max_rows: int = 40) -> str:
    """A short text table and the level crossings."""
    table = result.table
    shown = [c for c in table.columns if not c.startswith("chi2.")]
    step = max(1, math.ceil(len(table) / max_rows))
    lines = ["  ".join(f"{c:>14}" for c in shown)]
    for row in table[shown].iloc[::step].itertuples(index=False):
        lines.append("  ".join(f"{v:>14.6g}" for v in row))
    unit = "" if result.unit == "none" else f" {result.unit}"
    for label, values in result.crossings.items():
        level = SCAN_LEVELS[label]
        where = ", ".join(f"{v:.4g}{unit}" for v in values) or "none in the scan range"
        lines.append(f"Delta chi2 = {level:.2f} ({label}) crossed at {result.parameter} = {where}")
    return "\n".join(lines)


def write_scan(result: ScanResult, run_dir: str | Path) -> Path:
    """``scan.csv`` in ``run_dir``."""
    path = Path(run_dir) / SCAN_FILE
    result.table.to_csv(path, index=False, float_format="%.10g")
    return path


def read_scan(run_dir: str | Path):
    """``scan.csv`` of a run folder as a DataFrame (FileNotFoundError naming the run)."""
    import pandas as pd

    path = Path(run_dir) / SCAN_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run a card with a 'scan:' block "
                                f"(`globalfit run CARD`) into {run_dir} first")
    return pd.read_csv(path)
