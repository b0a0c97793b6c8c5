"""Corner plots of a run's posterior (`corner_figure`, `corner_plot`)."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import ScalarFormatter  # noqa: E402

from globalfit.display import AxisFormat, axis_format, value_with_errors  # noqa: E402
from globalfit.plots.common import (  # noqa: E402
    CONTOUR_STYLES,
    CREDIBLE_CONTOURS,
    LOG_AXIS_MIN_RATIO,
    MIN_REGION_SAMPLES,
    REGION_COLOURS,
    _result,
    save_figure,
)
from globalfit.regions import WHOLE_SPACE  # noqa: E402
from globalfit.results import RunResult  # noqa: E402
from globalfit.statistics import hpd_interval  # noqa: E402
from globalfit.summaries import resolve_split  # noqa: E402


def _log_axis(parameter: Any, values: np.ndarray) -> bool:
    """A log axis for a log-uniform prior whose posterior spans more than a decade.

    Over less than a decade a log axis looks like a linear one but loses its tick labels,
    so narrow posteriors stay linear whatever their prior.
    """
    prior = getattr(parameter, "prior", None)
    kind = getattr(prior, "kind", None) or getattr(parameter, "prior_kind", "")
    if kind != "log-uniform":
        return False
    low, high = np.percentile(values, [0.5, 99.5])
    return bool(low > 0 and high / low > LOG_AXIS_MIN_RATIO)


def _formats(parameters, samples: np.ndarray) -> list[AxisFormat]:
    return [axis_format(p.latex or p.name, p.unit, samples[:, k],
                        log=_log_axis(p, samples[:, k]))
            for k, p in enumerate(parameters)]


def _title(fmt: AxisFormat, values: np.ndarray) -> str:
    """Median and 68 % HPD interval (the summary table's), e.g.
    ``$\\Delta m^2_{21} = 7.56^{+0.19}_{-0.20}$``; log10 of the value on a log axis."""
    if fmt.log:
        values = np.log10(values)
        symbol = f"\\log_{{10}} {fmt.symbol}"
    else:
        symbol = fmt.symbol
    low, high = hpd_interval(values, 0.68)
    unit = "" if fmt.log or not fmt.unit_text() else f"\\ [{fmt.unit_text()}]"
    return f"${symbol} = {value_with_errors(float(np.median(values)), low, high)}{unit}$"


def corner_figure(run: str | Path | RunResult, split: Any = "card",
                  parameters: Sequence[str] | None = None):
    """Corner plot of the posterior as a matplotlib Figure.

    Parameters
    ----------
    run : path or RunResult
        Run folder (``chains/<run>``) or a loaded result.
    split : None, "card", str or sequence of Region
        ``"card"`` (default): one colour per region of the run card (none: one colour);
        a condition splits in two; None plots all samples in one colour.
    parameters : sequence of str, optional
        Subset of sampled parameters to show.

    Notes
    -----
    Values are in the card's units, divided by a power of ten where they are far from one
    (``[10^{-5} eV^2]``), so no axis needs offset text. Parameters with a log-uniform prior
    whose posterior spans more than a decade get log axes. Solid contours enclose 68 %,
    dashed ones 95 % of the posterior; the black lines and square mark the
    maximum-posterior sample. Each region's contours are drawn from its own samples
    (normalised within the region): they show where each mode lies, not the relative
    mass, which the summary table gives. Titles (one region only) give the median and
    the 68 % HPD interval.
    """
    import corner

    result = _result(run)
    names = list(parameters) if parameters else result.names
    unknown = [n for n in names if n not in result.names]
    if unknown:
        raise ValueError(f"parameters: {unknown} are not sampled "
                         f"(sampled: {', '.join(result.names)})")
    columns = [result.names.index(n) for n in names]
    params = [result.parameters[i] for i in columns]
    shown = np.column_stack([p.from_internal(result.flat_chain[:, i])
                             for p, i in zip(params, columns)])
    formats = _formats(params, shown)
    shown = shown / np.array([f.factor for f in formats])
    best = shown[int(np.argmax(result.flat_log_prob))]
    ranges = [_range(shown[:, k], f.log) for k, f in enumerate(formats)]
    scales = ["log" if f.log else "linear" for f in formats]
    regions = resolve_split(result, split)
    figure = None
    drawn = []
    for colour, region in zip(REGION_COLOURS, regions):
        mask = result.region_mask(region)
        if mask.sum() < max(MIN_REGION_SAMPLES, shown.shape[1] + 1):
            continue
        figure = corner.corner(
            shown[mask], fig=figure, labels=[f.label() for f in formats], range=ranges,
            axes_scale=scales, color=colour, truth_color="k",
            truths=best if best.size > 1 else None,  # corner 2.2 fails on 1-D
            plot_datapoints=False, fill_contours=False, smooth=1.0,
            levels=CREDIBLE_CONTOURS, contour_kwargs={"linestyles": CONTOUR_STYLES},
            hist_kwargs={"density": True}, labelpad=0.05)
        drawn.append((region, colour, mask.mean()))
    if figure is None:
        raise ValueError(f"{result.run_dir}: too few samples to draw a corner plot")
    if best.size == 1:
        figure.axes[0].axvline(best[0], color="k")
    _finish_corner(figure, formats, shown, drawn)
    return figure


def _finish_corner(figure, formats: list[AxisFormat], shown: np.ndarray, drawn) -> None:
    """Plain tick labels (no offset text), titles for one region, and the legend."""
    n = len(formats)
    axes = np.asarray(figure.axes).reshape(n, n)
    for axis in axes.flat:
        for ticks in (axis.xaxis, axis.yaxis):
            formatter = ticks.get_major_formatter()
            if isinstance(formatter, ScalarFormatter):
                formatter.set_useOffset(False)
                formatter.set_scientific(False)
    if len(drawn) == 1:
        for k, fmt in enumerate(formats):
            axes[k, k].set_title(_title(fmt, shown[:, k]), fontsize=10)
    handles = [plt.Line2D([], [], color="0.3", ls=style, label=f"{100 * level:.0f}% credible region")
               for level, style in zip(CREDIBLE_CONTOURS, reversed(CONTOUR_STYLES))
               if n > 1]  # one parameter: no contours
    handles.append(plt.Line2D([], [], color="k", marker="s" if n > 1 else None, ms=4,
                              label="maximum posterior"))
    if len(drawn) > 1 or drawn[0][0] is not WHOLE_SPACE:
        handles += [plt.Line2D([], [], color=c, lw=2,
                               label=f"{r.label} ({100 * m:.0f}% of samples)")
                    for r, c, m in drawn]
    if n > 1:
        figure.legend(handles=handles, loc="upper right", frameon=False, fontsize=9)
    else:  # inside the panel, above the histogram and clear of the title
        low, high = axes[0, 0].get_ylim()
        axes[0, 0].set_ylim(low, high * (1.25 + 0.1 * len(handles)))
        axes[0, 0].legend(handles=handles, loc="upper left", fontsize=7, framealpha=1.0,
                          edgecolor="none")


def corner_plot(run: str | Path | RunResult, output: str | Path | None = None,
                split: Any = "card", parameters: Sequence[str] | None = None) -> Path:
    """`corner_figure` written to ``output`` (default ``<run_dir>/corner.png``) as PNG and
    PDF; returns the PNG's path."""
    result = _result(run)
    figure = corner_figure(result, split=split, parameters=parameters)
    return save_figure(figure, Path(output) if output else Path(result.run_dir) / "corner.png")


def _range(values: np.ndarray, log: bool = False) -> tuple[float, float]:
    low, high = float(np.min(values)), float(np.max(values))
    if low == high:
        return (low * 0.5, high * 2.0) if log else (low - 0.5, high + 0.5)
    return (low, high)


