"""Statistics used across globalfit, in one place.

* **chi^2 forms**: `poisson_chi2` (Baker-Cousins Poisson deviance).
* **Delta chi^2 levels**: `delta_chi2_level` (the chi^2 quantile of a confidence level for
  ``dof`` degrees of freedom), the one-dof constants `CL90_1DOF` (2.706), `CL95_1DOF`
  (3.841), `THREE_SIGMA_1DOF` (9), `LEVELS` (the levels of the frequentist tables),
  `signed_sqrt` (a pull).
* **p-values**: `p_value` (chi^2 survival function), `sigma_of_p_value`.
* **Frequentist intervals** from a profile on a grid: `allowed_intervals` (the set where
  ``Delta chi2 < level``, several disjoint pieces allowed), `merge_intervals`,
  `format_intervals`, `level_crossings` (every crossing of a level along a scan) and
  `first_upward_crossing` (where a scan first leaves the allowed set).
* **Bayesian intervals** from samples: `hpd_interval`, `equal_tailed_interval`, and
  `windows` (contiguous runs of a boolean mask on a grid).

docs/statistics.md states the conventions (which level, which reference minimum).
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

# --- Delta chi^2 levels and p-values ----------------------------------------------------


def delta_chi2_level(confidence: float, dof: int = 1) -> float:
    """``Delta chi^2`` threshold of a confidence level: the ``confidence`` quantile of the
    chi^2 distribution with ``dof`` degrees of freedom (2.706 for 90 % and 1 dof)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence: need a probability in (0, 1), got {confidence!r}")
    if int(dof) != dof or dof < 1:
        raise ValueError(f"dof: need a positive integer, got {dof!r}")
    return float(stats.chi2.ppf(confidence, int(dof)))


def sigma_confidence(n_sigma: float) -> float:
    """Two-sided Gaussian probability of ``n_sigma`` (0.9973 for 3 sigma)."""
    return float(stats.chi2.cdf(n_sigma**2, 1))


def p_value(chi2: float, dof: int) -> float:
    """Probability of a chi^2 at least this large for ``dof`` degrees of freedom."""
    if int(dof) != dof or dof < 1:
        raise ValueError(f"dof: need a positive integer, got {dof!r}")
    return float(stats.chi2.sf(chi2, int(dof)))


def sigma_of_p_value(p: float) -> float:
    """The two-sided Gaussian significance of a p-value (3.0 for p = 0.0027)."""
    return float(stats.norm.isf(0.5 * p))


def signed_sqrt(delta_chi2: float) -> float:
    """A pull: ``sign(Delta chi^2) sqrt(|Delta chi^2|)`` (``nan`` stays ``nan``)."""
    if math.isnan(delta_chi2):
        return math.nan
    return math.copysign(math.sqrt(abs(delta_chi2)), delta_chi2)


CL90_1DOF = delta_chi2_level(0.90, 1)
"""Delta chi^2 = 2.7055 for 90% CL, one degree of freedom."""
CL95_1DOF = delta_chi2_level(0.95, 1)
"""Delta chi^2 = 3.8415 for 95% CL, one degree of freedom."""
CL90_2DOF = delta_chi2_level(0.90, 2)
"""Delta chi^2 = 4.6052 for 90% CL, two degrees of freedom."""
THREE_SIGMA_1DOF = 9.0
"""Delta chi^2 = 9 for 3 sigma, one degree of freedom."""
LEVELS = {"90%": CL90_1DOF, "3sigma": THREE_SIGMA_1DOF}
"""Level name -> Delta chi^2 threshold of the frequentist tables (one dof)."""


# --- chi^2 forms ------------------------------------------------------------------------
POISSON_FLOOR = 1e-12
"""Expected counts are floored here so that an empty prediction gives a large finite chi^2."""


def poisson_chi2(observed, expected, axis: int = -1):
    """Poisson deviance ``2 sum (mu - n + n ln(n / mu))`` (Baker and Cousins, NIM 221 (1984) 437).

    Parameters
    ----------
    observed : array
        Observed counts ``n`` (``n ln n -> 0`` at ``n = 0``).
    expected : array
        Expected counts ``mu``, floored at `POISSON_FLOOR`; broadcast against ``observed``.
    axis : int or None
        Axis summed over (default the last: a batch of spectra gives one chi^2 each);
        None sums everything.

    Returns
    -------
    float or ndarray
        A float when the sum runs over every axis.
    """
    n = np.asarray(observed, dtype=float)
    mu = np.maximum(np.asarray(expected, dtype=float), POISSON_FLOOR)
    if n.shape != mu.shape:
        n, mu = np.broadcast_arrays(n, mu)
    positive = n > 0
    log_term = np.where(positive, n * np.log(np.where(positive, n, 1.0) / mu), 0.0)
    total = 2.0 * np.sum(mu - n + log_term, axis=axis)
    return float(total) if np.ndim(total) == 0 else total


def asymmetric_gaussian_chi2(predicted, measured: float, sigma_plus: float, sigma_minus: float):
    """``((predicted - measured) / sigma)^2`` with ``sigma = sigma_plus`` above the measurement
    and ``sigma_minus`` below it (the usual reading of ``measured +sigma_plus -sigma_minus``;
    continuous at the measurement, exact for a two-piece Gaussian). Broadcasts over ``predicted``."""
    if sigma_plus <= 0 or sigma_minus <= 0:
        raise ValueError(f"asymmetric_gaussian_chi2: errors must be positive, got +{sigma_plus} -{sigma_minus}")
    residual = np.asarray(predicted, dtype=float) - measured
    sigma = np.where(residual > 0, sigma_plus, sigma_minus)
    chi2 = (residual / sigma) ** 2
    return float(chi2) if np.ndim(chi2) == 0 else chi2


# --- frequentist intervals from a profile -----------------------------------------------
INTERPOLATIONS = ("sqrt", "linear")


def _crossing(x0: float, d0: float, x1: float, d1: float, level: float,
              interpolation: str = "sqrt") -> float:
    """Where ``delta_chi2`` crosses ``level`` on the segment: linear in ``sqrt(delta_chi2)``
    (``"sqrt"``, exact for a parabola) or in ``delta_chi2`` itself (``"linear"``)."""
    if interpolation == "linear":
        return x0 + (level - d0) * (x1 - x0) / (d1 - d0) if d1 != d0 else 0.5 * (x0 + x1)
    s0, s1, target = math.sqrt(max(d0, 0.0)), math.sqrt(max(d1, 0.0)), math.sqrt(level)
    if s1 == s0:
        return 0.5 * (x0 + x1)
    return x0 + (target - s0) * (x1 - x0) / (s1 - s0)


def allowed_intervals(
    grid: np.ndarray,
    delta_chi2: np.ndarray,
    level: float,
    profile: Callable[[float], float] | None = None,
    xtol: float = 1e-10,
    interpolation: str = "sqrt",
) -> list[tuple[float, float]]:
    """The set ``{x : delta_chi2(x) < level}`` as a list of disjoint closed intervals.

    Parameters
    ----------
    grid, delta_chi2 : arrays
        The profile on a grid (sorted or not); ``inf`` marks points outside the region.
    level : float
        Threshold, e.g. `CL90_1DOF` (2.71) or `THREE_SIGMA_1DOF` (9).
    profile : callable, optional
        ``delta_chi2(x)`` evaluated anew (a profile minimisation); if given, each endpoint
        between two grid points is refined by Brent's method on ``profile(x) - level``.
    xtol : float
        Absolute tolerance of the refinement.
    interpolation : {"sqrt", "linear"}
        How an unrefined endpoint is placed between two grid points: linear in
        ``sqrt(delta_chi2)`` (default; exact for a parabolic profile) or in ``delta_chi2``.

    Returns
    -------
    list of (low, high)
        An endpoint lying where the grid (or the region) ends is that grid value: the
        interval is cut by the parameter range there, not by the data.
    """
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"interpolation: {interpolation!r} not allowed; choose from {INTERPOLATIONS}")
    order = np.argsort(grid)
    x = np.asarray(grid, dtype=float)[order]
    d = np.asarray(delta_chi2, dtype=float)[order]
    below = d < level
    intervals = []
    k = 0
    while k < x.size:
        if not below[k]:
            k += 1
            continue
        start = k
        while k + 1 < x.size and below[k + 1]:
            k += 1
        low = x[start] if start == 0 or not np.isfinite(d[start - 1]) else _endpoint(
            x[start - 1], d[start - 1], x[start], d[start], level, profile, xtol, interpolation)
        high = x[k] if k == x.size - 1 or not np.isfinite(d[k + 1]) else _endpoint(
            x[k], d[k], x[k + 1], d[k + 1], level, profile, xtol, interpolation)
        intervals.append((float(low), float(high)))
        k += 1
    return intervals


def _endpoint(x0, d0, x1, d1, level, profile, xtol, interpolation="sqrt") -> float:
    guess = _crossing(x0, d0, x1, d1, level, interpolation)
    if profile is None:
        return guess
    try:
        return optimize.brentq(lambda x: profile(x) - level, x0, x1, xtol=xtol)
    except ValueError:  # the re-minimised profile does not change sign on the segment
        warnings.warn(f"profile refinement failed on [{x0}, {x1}]; using interpolation",
                      stacklevel=2)
        return guess


def merge_intervals(intervals: Sequence[tuple[float, float]],
                    tolerance: float = 0.0) -> list[tuple[float, float]]:
    """Union of closed intervals: overlapping or touching ones (gap <= ``tolerance``) merge.

    The allowed set of a union of regions is the union of the regions' allowed sets
    (``Delta chi2`` counted from the same global minimum), so the union row of a table is
    the merge of the region rows: ``[a, c] + [c, b] -> [a, b]``.
    """
    merged: list[list[float]] = []
    for low, high in sorted(intervals):
        if merged and low <= merged[-1][1] + tolerance:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return [(float(low), float(high)) for low, high in merged]


def format_intervals(intervals: Sequence[tuple[float, float]], digits: int = 3) -> str:
    """``"[a, b] + [c, d]"`` as in the published tables (``"none"`` if empty)."""
    if not intervals:
        return "none"
    return " + ".join(f"[{low:.{digits}g}, {high:.{digits}g}]" for low, high in intervals)


def level_crossings(grid: np.ndarray, delta_chi2: np.ndarray, level: float,
                    log: bool = True) -> list[float]:
    """Every point where ``delta_chi2`` crosses ``level`` between grid points.

    Linear interpolation of ``delta_chi2`` in ``log(x)`` (``log``) or in ``x``; the
    resolution is that of the grid.
    """
    x = np.log(grid) if log else np.asarray(grid, dtype=float)
    d = np.asarray(delta_chi2, dtype=float)
    out = []
    for k in range(len(d) - 1):
        d0, d1 = d[k] - level, d[k + 1] - level
        if not (math.isfinite(d0) and math.isfinite(d1)) or d0 * d1 > 0 or d0 == d1:
            continue
        if d1 == 0 and k + 2 < len(d):  # exactly on a grid point: count it once
            continue
        t = d0 / (d0 - d1)
        value = x[k] + t * (x[k + 1] - x[k])
        out.append(float(np.exp(value) if log else value))
    return out


def first_upward_crossing(grid: np.ndarray, delta_chi2: np.ndarray, level: float,
                          log: bool = True) -> float:
    """Where ``delta_chi2`` first rises through ``level`` along ``grid`` (e.g. the ``m_Z'``
    below which a model survives): ``nan`` if the first grid point is already excluded,
    ``inf`` if every point is allowed. Interpolated as in `level_crossings`."""
    d = np.asarray(delta_chi2, dtype=float)
    allowed = d < level
    if not allowed[0]:
        return math.nan
    if np.all(allowed):
        return math.inf
    k = int(np.argmin(allowed))  # first excluded point
    (value,) = level_crossings(np.asarray(grid)[k - 1:k + 1], d[k - 1:k + 1], level, log) or [
        float(np.asarray(grid)[k])]
    return value


# --- Bayesian intervals and windows ------------------------------------------------------
def hpd_interval(samples: np.ndarray, mass: float) -> tuple[float, float]:
    """Shortest interval holding the fraction ``mass`` of the samples.

    For a unimodal density this is the highest-posterior-density interval; a multimodal
    marginal is split into regions first (`globalfit.summaries.summary_table` with ``split``).
    """
    values = np.sort(np.asarray(samples, dtype=float))
    values = values[np.isfinite(values)]
    if values.size < 2:
        return (math.nan, math.nan)
    count = max(int(math.ceil(mass * values.size)), 1)
    widths = values[count - 1:] - values[: values.size - count + 1]
    start = int(np.argmin(widths))
    return float(values[start]), float(values[start + count - 1])


def equal_tailed_interval(samples: np.ndarray, mass: float) -> tuple[float, float]:
    """Quantiles ``(1 - mass) / 2`` and ``(1 + mass) / 2``."""
    values = np.asarray(samples, dtype=float)
    values = values[np.isfinite(values)]
    if values.size < 2:
        return (math.nan, math.nan)
    low, high = np.quantile(values, [(1 - mass) / 2, (1 + mass) / 2])
    return float(low), float(high)


def windows(values: np.ndarray, mask: np.ndarray) -> list[tuple[float, float]]:
    """Contiguous runs of ``mask`` as ``(values[first], values[last])`` pairs."""
    mask = np.asarray(mask, dtype=bool)
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.astype(int), [0]))))
    return [(float(values[a]), float(values[b - 1])) for a, b in zip(edges[::2], edges[1::2])]


EDGE_FRACTION = 0.01
"""An HPD interval whose end lies within this fraction of the prior's width (in log10 for a
log-uniform prior) of a prior bound runs into that bound: the posterior is cut by the
prior there, and the honest statement is a one-sided limit."""


@dataclass(frozen=True)
class PriorEdges:
    """Bounds of a parameter's prior in the display unit; ``log`` for a log-uniform one."""

    low: float
    high: float
    log: bool = False

    def coordinate(self, x):
        """The coordinate in which the prior is flat (log10 for a log-uniform prior)."""
        return np.log10(x) if self.log else np.asarray(x, dtype=float)


def one_sided_limit(values: np.ndarray, mass: float, hpd: tuple[float, float],
                    edges: PriorEdges | None) -> tuple[str, float]:
    """``("upper", x)`` when the posterior runs into the prior's lower bound (``value < x``
    with probability ``mass``), ``("lower", x)`` at the upper bound, else
    ``("two-sided", nan)``.

    The posterior runs into a bound when its HPD interval ends within `EDGE_FRACTION` of
    the prior's width of that bound (measured in the coordinate in which the prior is
    flat). The limit is the one-sided credible bound: the ``mass`` quantile (upper limit)
    or the ``1 - mass`` quantile (lower limit).
    """
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if edges is None or finite.size < 2 or not all(map(math.isfinite, hpd)):
        return "two-sided", math.nan
    low, high = edges.coordinate([edges.low, edges.high])
    hpd_low, hpd_high = edges.coordinate(np.asarray(hpd))
    tolerance = EDGE_FRACTION * (high - low)
    at_low, at_high = hpd_low - low < tolerance, high - hpd_high < tolerance
    if at_low and not at_high:
        return "upper", float(np.quantile(finite, mass))
    if at_high and not at_low:
        return "lower", float(np.quantile(finite, 1.0 - mass))
    return "two-sided", math.nan
