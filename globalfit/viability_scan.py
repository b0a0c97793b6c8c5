"""Viability scans: every likelihood of a check card along one parameter (the mediator mass).

`scan_viability` repeats `globalfit.viability.check_card`'s evaluation along log-spaced values of
one parameter, optionally rescaling couplings as ``(m / m_card)^power`` so that ``eps(0)``
stays fixed (``--hold``); `format_viability_scan` writes its table and
`globalfit.plots.viability_scan_figure` its figure (``globalfit check CARD --scan mzp``).
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from globalfit.couplings import STANDARD_MODEL
from globalfit.likelihood import Point
from globalfit.progress import progress_bar
from globalfit.statistics import windows
from globalfit.viability import (
    evaluate_likelihood,
    format_number,
    markdown_table,
    nuisance_notes,
    read_card,
    resolve_card,
    split_available,
    thresholds,
)

SCAN_COLUMNS = ("mzp_mev", "likelihood", "delta_chi2")
"""Columns of the long-form scan table (``ViabilityScan.long``)."""


@dataclass
class ViabilityScan:
    """What `scan_viability` found along one log-spaced line of parameter space.

    ``values`` are the scanned values in the user's unit (``unit``); ``points`` the `Point`
    of each row (couplings included); ``wide`` has one row per value, one column of
    Delta chi^2 per likelihood, ``total`` and ``verdict``; ``holds`` the rescaled couplings
    ``{name: power}``; ``statuses`` the error of a likelihood that raised anywhere.
    """

    name: str
    model_name: str
    parameter: str
    unit: str
    values: np.ndarray
    holds: dict[str, float]
    points: list[Point]
    wide: pd.DataFrame
    dof: int
    missing: list[str] = field(default_factory=list)
    statuses: dict[str, str] = field(default_factory=dict)
    approximations: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def likelihoods(self) -> list[str]:
        """Names of the evaluated likelihoods, in card order."""
        return [c for c in self.wide.columns if c not in (self.value_column, "total", "verdict")]

    @property
    def value_column(self) -> str:
        """Name of the scanned-value column, e.g. ``mzp_mev``."""
        return f"{self.parameter}_{self.unit.lower()}" if self.unit else self.parameter

    @property
    def long(self) -> pd.DataFrame:
        """Long form: one row per (value, likelihood, and ``total``), columns
        ``(<param>_<unit>, likelihood, delta_chi2)`` (``mzp_mev, ...`` for an m_Z' scan in MeV)."""
        frame = self.wide.drop(columns="verdict").melt(
            id_vars=self.value_column, var_name="likelihood", value_name="delta_chi2")
        return frame.reset_index(drop=True)

    @property
    def allowed(self) -> np.ndarray:
        """Boolean per row: no likelihood excludes the point at 95 % CL."""
        return (self.wide["verdict"] == "viable").to_numpy()

    def viable_windows(self) -> list[tuple[float, float]]:
        """Contiguous ranges ``(low, high)`` of scanned values (user's unit) that are viable.

        The ends are grid points: the true edge lies between a window's end and the next
        (excluded) grid point.
        """
        return windows(self.values, self.allowed)

    def summary(self) -> str:
        """One line: where the model is viable along the scan."""
        found = self.viable_windows()
        unit = f" {self.unit}" if self.unit else ""
        if not found:
            return (f"{self.name}: excluded at 95% CL over the whole scan "
                    f"{format_number(self.values[0])}-{format_number(self.values[-1])}{unit} of {self.parameter}")
        ranges = ", ".join(f"[{format_number(lo)}, {format_number(hi)}]{unit}" for lo, hi in found)
        return f"{self.name}: viable at 95% CL for {self.parameter} in {ranges} (grid points)"


def parse_hold(specs: list[str] | None) -> dict[str, float]:
    """``["g_prime:1", "g_q:1"]`` -> ``{"g_prime": 1.0, "g_q": 1.0}`` (``--hold COUPLING:POWER``)."""
    holds: dict[str, float] = {}
    for spec in specs or []:
        name, sep, power = str(spec).partition(":")
        try:
            value = float(power)
        except ValueError:
            value = math.nan
        if not sep or not name or not math.isfinite(value):
            raise ValueError(f"--hold: expected COUPLING:POWER (e.g. g_prime:1), got {spec!r}")
        if name in holds:
            raise ValueError(f"--hold: coupling {name!r} given twice")
        holds[name] = value
    return holds


def _check_scan_names(model, point: Point, parameter: str, holds: Mapping[str, float]) -> None:
    """Clear errors for a scanned parameter or held coupling that is not a model parameter."""
    names = sorted(model.parameters)
    if parameter not in model.parameters:
        raise ValueError(f"--scan: {parameter!r} is not a parameter of model "
                         f"{type(model).__name__}; allowed: {', '.join(names)}")
    if not point.params[parameter] > 0:
        raise ValueError(f"--scan: {parameter!r} must be positive at the card's point (log-spaced "
                         f"scan), got {point.params[parameter]}")
    for name in holds:
        allowed = [n for n in names if n != parameter]
        if name not in allowed:
            raise ValueError(f"--hold: {name!r} is not a coupling parameter of model "
                             f"{type(model).__name__} other than the scanned {parameter!r}; "
                             f"allowed: {', '.join(allowed)}")
        if point.params[name] == 0:
            raise ValueError(f"--hold: {name!r} is zero at the card's point; rescaling it does nothing")


def scan_values(start: float, stop: float, points: int) -> np.ndarray:
    """``points`` log-spaced values from ``start`` to ``stop`` (both included)."""
    if not (start > 0 and stop > 0 and math.isfinite(start) and math.isfinite(stop)):
        raise ValueError(f"--from/--to: a log-spaced scan needs positive finite ends, got {start}, {stop}")
    if int(points) != points or points < 2:
        raise ValueError(f"--points: need an integer >= 2, got {points!r}")
    values = np.geomspace(start, stop, int(points))
    values[0], values[-1] = start, stop
    return values


def scan_points(model, point: Point, parameter: str, values_internal: np.ndarray,
                holds: Mapping[str, float]) -> list[Point]:
    """The card's point moved along ``parameter``, held couplings rescaled.

    Each held coupling ``c`` becomes ``c_card (value / value_card)^power``; e.g. for the
    U(1) model ``g' -> g' (m / m_card)`` keeps ``eps(0) ~ g'^2 / m^2`` at the card's value.
    """
    reference = point.params[parameter]
    out = []
    for value in values_internal:
        params = dict(point.params)
        params[parameter] = float(value)
        for name, power in holds.items():
            params[name] = point.params[name] * (value / reference) ** power
        out.append(Point(params, model.couplings(params)))
    return out


def _row_verdict(deltas: Mapping[str, float], dof: int) -> str:
    """``viable`` or ``excluded by a, b`` (each likelihood alone at 95 % CL)."""
    limit = thresholds(dof)[0.95]
    excluded = [name for name, delta in deltas.items() if delta > limit]
    return "excluded by " + ", ".join(excluded) if excluded else "viable"


def scan_viability(card: str | Path | Mapping[str, Any], parameter: str, start: float, stop: float,
              points: int = 25, unit: str | None = None, hold: Mapping[str, float] | None = None,
              dof: int = 1, nuisances: str = "profile",
              progress: str | None = None) -> ViabilityScan:
    """Evaluate every likelihood of a check card along a log-spaced line in one parameter.

    Parameters
    ----------
    card : path or mapping
        A check card (every model parameter fixed, see `check_card`).
    parameter : str
        Model parameter to scan (``mzp``: the mediator mass).
    start, stop : float
        Ends of the scan, in ``unit``; both are included.
    points : int
        Number of log-spaced values.
    unit : str, optional
        Unit of ``start``/``stop`` (e.g. ``"MeV"``); default the parameter's internal unit.
    hold : mapping, optional
        ``{coupling: power}``: each coupling is rescaled as ``(value / value_card)^power``.
        ``{"g_prime": 1}`` keeps ``eps(0) ~ g'^2/m_Z'^2`` fixed in the U(1) models; see
        docs/reproductions/viability.md for the other models.
    dof : int
        Degrees of freedom of the verdicts (``check_card``).
    nuisances : {"profile", "median"}
        Nuisance parameters profiled at every value (default) or fixed at their prior medians.
    progress : str, optional
        Label of a progress bar over the values (`globalfit.progress`; shown on a terminal).

    Returns
    -------
    ViabilityScan
        Delta chi^2 of each likelihood (relative to the SM at the same parameters) per value.
    """
    from globalfit.params import unit_factor

    raw = read_card(card) if not isinstance(card, Mapping) else dict(card)
    thresholds(dof)
    holds = dict(hold or {})
    values = scan_values(start, stop, points)
    available, missing = split_available(raw)
    model, likelihoods, point, notes = resolve_card(available)
    notes = nuisance_notes(notes, nuisances)
    _check_scan_names(model, point, parameter, holds)
    factor = unit_factor(unit, "--unit")
    moved = scan_points(model, point, parameter, values * factor, holds)
    table: dict[str, list[float]] = {name: [] for name in likelihoods}
    statuses: dict[str, str] = {}
    with progress_bar(len(moved), progress, unit="point") as bar:
        for moved_point in moved:
            sm_point = Point(moved_point.params, STANDARD_MODEL)
            for name, likelihood in likelihoods.items():
                row = evaluate_likelihood(likelihood, moved_point, sm_point, dof, nuisances)
                table[name].append(row["delta_chi2"])
                if row["status"] != "ok":
                    statuses.setdefault(name, row["status"])
            bar.update()
    unit_label = unit if unit not in (None, "", "none") else str(model.parameters[parameter].get("unit", ""))
    value_column = f"{parameter}_{unit_label.lower()}" if unit_label else parameter
    wide = pd.DataFrame({value_column: values, **table})
    deltas = wide[list(likelihoods)]
    wide["total"] = deltas.sum(axis=1, skipna=True)
    wide["verdict"] = [_row_verdict(row, dof) for row in deltas.to_dict("records")]
    return ViabilityScan(
        name=str(raw.get("name", "check")),
        model_name=str((raw.get("model") or {}).get("name", "standard")),
        parameter=parameter, unit=unit_label, values=values, holds=holds, points=moved,
        wide=wide, dof=dof, missing=missing, statuses=statuses,
        approximations={name: list(lk.approximations()) for name, lk in likelihoods.items()},
        notes=notes,
    )


def format_viability_scan(result: ViabilityScan) -> str:
    """Markdown: the scan table (Delta chi^2 per likelihood and total, verdict), the summary line."""
    unit = f" {result.unit}" if result.unit else ""
    holds = ", ".join(f"{name} x ({result.parameter}/card)^{format_number(power)}"
                      for name, power in result.holds.items()) or "none"
    limit = thresholds(result.dof)[0.95]
    out = [f"# Viability scan: {result.name} over {result.parameter}", "",
           f"**Model:** `{result.model_name}`; scanned `{result.parameter}` "
           f"{format_number(result.values[0])}-{format_number(result.values[-1])}{unit} "
           f"({len(result.values)} log-spaced points); held couplings: {holds}.", "",
           f"Delta chi^2 relative to the SM at the same parameters; a likelihood excludes a row at "
           f"95% CL above {limit:.2f} ({result.dof} dof); `total` is their sum (for orientation).", "",
           markdown_table(result.wide), "", f"**{result.summary()}**"]
    notes = list(result.notes)
    notes += [f"{name}: not available (module not installed yet)" for name in result.missing]
    notes += [f"{name}: {status} (at one or more points)" for name, status in result.statuses.items()]
    for name, items in result.approximations.items():
        notes += [f"{name}: {item}" for item in items]
    if notes:
        out += ["", "## Approximations and notes", ""] + [f"* {n}" for n in notes]
    return "\n".join(out).rstrip() + "\n"
