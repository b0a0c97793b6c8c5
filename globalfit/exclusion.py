"""Exclusion planes: where in two model parameters each likelihood excludes the model.

`exclusion_plane` takes a check card (every model parameter fixed: the *benchmark*),
moves two of its parameters over a log-spaced grid, and at every grid point evaluates each
likelihood of the card against the Standard-Model point with the same parameters, exactly
as `globalfit check` does at one point (`globalfit.viability.evaluate_likelihood`: nuisance
parameters profiled at the point and at the SM). A grid point is excluded by a likelihood
at confidence level ``cl`` where its ``Delta chi^2`` exceeds the ``chi^2`` quantile of
``dof`` degrees of freedom (3.84 for 95 % CL and the default ``dof = 1``: at each value of
the first parameter the coupling is one parameter tested against the SM, the usual reading
of mass-coupling exclusion plots; ``dof = 2`` treats the plane jointly, 5.99).

`ExclusionResult.boundary` gives, for each likelihood and each value of the first
parameter, the values of the second where the exclusion starts or ends (log-interpolated
crossings of the threshold); `globalfit.plots.exclusion_figure` draws the plane.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from globalfit.couplings import STANDARD_MODEL
from globalfit.likelihood import Point
from globalfit.params import unit_factor
from globalfit.statistics import delta_chi2_level
from globalfit.viability import evaluate_likelihood, read_card, resolve_card, split_available


@dataclass(frozen=True)
class PlaneAxis:
    """One axis of the plane: a model parameter, its range in ``unit`` (log-spaced)."""

    name: str
    low: float
    high: float
    unit: str = "none"
    points: int = 25

    def values(self) -> np.ndarray:
        """Grid values in ``unit``."""
        return np.geomspace(self.low, self.high, self.points)


@dataclass
class ExclusionResult:
    """Delta chi^2 of each likelihood on the grid, ``delta[name]`` of shape (ny, nx)."""

    name: str
    x: PlaneAxis
    y: PlaneAxis
    delta: dict[str, np.ndarray]
    benchmark: tuple[float, float]
    """The card's values of the two parameters, in the axes' units."""
    cl: float = 0.95
    dof: int = 1
    statuses: dict[str, str] = field(default_factory=dict)
    symbols: dict[str, str] = field(default_factory=dict)
    """LaTeX symbols of the two parameters, as the model declares them."""

    @property
    def threshold(self) -> float:
        return delta_chi2_level(self.cl, self.dof)

    def excluded(self, name: str) -> np.ndarray:
        """Boolean mask (ny, nx) of the grid points ``name`` excludes."""
        return np.nan_to_num(self.delta[name], nan=-np.inf) > self.threshold

    def boundary(self) -> pd.DataFrame:
        """Where each likelihood's excluded region starts or ends, along each axis.

        Columns ``likelihood``, ``along`` (the parameter that varies), ``<x> [unit]``,
        ``<y> [unit]``, ``edge`` (``enters``: the excluded region begins as that parameter
        grows, ``leaves``: it ends). For ``along = y`` the x value is a grid value and the
        y value a crossing, and vice versa; a region cut only by a vertical edge (a mass
        bound at every coupling) shows up in the ``along = x`` rows. Crossings are
        interpolated in log of the varying parameter, as a power law in Delta chi^2 where
        both neighbours are positive (exact for Delta chi^2 ~ y^n), else linearly.
        """
        x_name, y_name = self._column(self.x), self._column(self.y)
        logs = (np.log(self.x.values()), np.log(self.y.values()))
        rows = []
        for name, delta in self.delta.items():
            field = np.nan_to_num(delta, nan=-np.inf, posinf=1e300)
            for along, grid in ((self.y.name, field), (self.x.name, field.T)):
                varying, fixed = (logs[1], logs[0]) if along == self.y.name else logs
                for i, fixed_value in enumerate(fixed):
                    column = grid[:, i]
                    excess = column - self.threshold
                    for j in np.flatnonzero(np.sign(excess[:-1]) != np.sign(excess[1:])):
                        crossing = _crossing(varying[j], varying[j + 1], column[j],
                                             column[j + 1], self.threshold)
                        x_value, y_value = ((fixed_value, crossing) if along == self.y.name
                                            else (crossing, fixed_value))
                        rows.append({"likelihood": name, "along": along,
                                     x_name: float(np.exp(x_value)),
                                     y_name: float(np.exp(y_value)),
                                     "edge": "enters" if excess[j + 1] > excess[j] else "leaves"})
        return pd.DataFrame(rows, columns=["likelihood", "along", x_name, y_name, "edge"])

    @staticmethod
    def _column(axis: PlaneAxis) -> str:
        return axis.name if axis.unit in ("none", "") else f"{axis.name} [{axis.unit}]"


def _crossing(log_y0: float, log_y1: float, d0: float, d1: float, level: float) -> float:
    """``log y`` where Delta chi^2 reaches ``level`` between two neighbouring grid points."""
    if not (np.isfinite(d0) and np.isfinite(d1)) or max(d0, d1) >= 1e300:
        return log_y0 if np.isfinite(d0) and d0 < 1e300 else log_y1
    power_law = d0 > 0 and d1 > 0
    t = (np.log(level / d0) / np.log(d1 / d0)) if power_law else (level - d0) / (d1 - d0)
    return float(log_y0 + t * (log_y1 - log_y0))


def parse_axis(spec: str, card: Mapping[str, Any], points: int, option: str) -> PlaneAxis:
    """``NAME:LOW:HIGH`` (in the card's unit of NAME) or ``NAME`` with the range of the
    card's log-uniform / uniform prior on NAME."""
    name, *bounds = spec.split(":")
    parameters = card.get("parameters") or {}
    card_spec = parameters.get(name)
    if not isinstance(card_spec, Mapping):
        raise ValueError(f"{option}: {name!r} is not a parameter of the card (give its value "
                         f"as the benchmark under parameters:, e.g. {name}: {{value: ...}})")
    unit = str(card_spec.get("unit", "none"))
    if bounds:
        if len(bounds) != 2:
            raise ValueError(f"{option}: expected NAME:LOW:HIGH, got {spec!r}")
        try:
            low, high = float(bounds[0]), float(bounds[1])
        except ValueError:
            raise ValueError(f"{option}: LOW and HIGH must be numbers, got {spec!r}") from None
    elif "min" in card_spec and "max" in card_spec:
        low, high = float(card_spec["min"]), float(card_spec["max"])
    else:
        raise ValueError(f"{option}: no range for {name!r}: give it as {option} "
                         f"{name}:LOW:HIGH (in {unit})")
    if not (0 < low < high):
        raise ValueError(f"{option}: the log-spaced range needs 0 < LOW < HIGH, got {spec!r}")
    if points < 2:
        raise ValueError(f"--points: at least 2 per axis, got {points}")
    return PlaneAxis(name, low, high, unit, points)


def _benchmark_card(card: Mapping[str, Any], axes: tuple[PlaneAxis, PlaneAxis]) -> dict:
    """The card with each axis parameter fixed (its benchmark value, else the range's
    geometric centre) so that `resolve_card` sees a check card."""
    card = dict(card)
    parameters = dict(card.get("parameters") or {})
    for axis in axes:
        spec = dict(parameters[axis.name])
        if "value" not in spec:
            spec = {"value": math.sqrt(axis.low * axis.high), "unit": axis.unit}
        parameters[axis.name] = spec
    card["parameters"] = parameters
    return card


def exclusion_plane(card: str | Path | Mapping[str, Any], x: str, y: str,
                    points: tuple[int, int] = (25, 25), cl: float = 0.95, dof: int = 1,
                    progress: Callable[[int, int], None] | None = None) -> ExclusionResult:
    """Evaluate every likelihood of ``card`` on a log grid in two model parameters.

    Parameters
    ----------
    card : path or mapping
        A check card (`globalfit.viability.check_card`); its values of the two parameters
        are the benchmark marked on the plane.
    x, y : str
        ``NAME:LOW:HIGH`` (in the card's unit of NAME), or ``NAME`` where the card gives it
        a prior with ``min`` and ``max``.
    points : (int, int)
        Grid points along x and y.
    cl, dof : float, int
        Confidence level and degrees of freedom of the exclusion (module docstring).
    progress : callable, optional
        Called as ``progress(done, total)`` after each grid point.
    """
    raw = read_card(card) if not isinstance(card, Mapping) else dict(card)
    x_axis = parse_axis(x, raw, points[0], "--x")
    y_axis = parse_axis(y, raw, points[1], "--y")
    if x_axis.name == y_axis.name:
        raise ValueError(f"--x and --y name the same parameter {x_axis.name!r}")
    available, _missing = split_available(_benchmark_card(raw, (x_axis, y_axis)))
    model, likelihoods, point, _notes = resolve_card(available)
    for axis in (x_axis, y_axis):
        if axis.name not in model.parameters:
            raise ValueError(f"{axis.name!r} is not a parameter of model {type(model).__name__}; "
                             f"allowed: {', '.join(sorted(model.parameters))}")
    factors = (unit_factor(x_axis.unit), unit_factor(y_axis.unit))
    benchmark = (point.params[x_axis.name] / factors[0], point.params[y_axis.name] / factors[1])
    delta = {name: np.full((y_axis.points, x_axis.points), np.nan) for name in likelihoods}
    statuses: dict[str, str] = {}
    total = x_axis.points * y_axis.points
    for j, y_value in enumerate(y_axis.values()):
        for i, x_value in enumerate(x_axis.values()):
            params = dict(point.params)
            params[x_axis.name] = x_value * factors[0]
            params[y_axis.name] = y_value * factors[1]
            moved = Point(params, model.couplings(params))
            reference = Point(params, STANDARD_MODEL)
            for name, likelihood in likelihoods.items():
                row = evaluate_likelihood(likelihood, moved, reference, dof)
                delta[name][j, i] = row["delta_chi2"]
                if row["status"] != "ok":
                    statuses.setdefault(name, row["status"])
            if progress is not None:
                progress(j * x_axis.points + i + 1, total)
    symbols = {axis.name: str(model.parameters[axis.name].get("latex") or axis.name)
               for axis in (x_axis, y_axis)}
    return ExclusionResult(str(raw.get("name", "exclusion")), x_axis, y_axis, delta,
                           benchmark, cl, dof, statuses, symbols)
