"""Plots of a run: corner plot, profile likelihoods, chi^2 traces.

``*_figure`` functions return a matplotlib Figure; ``*_plot`` functions write it as PNG and
PDF (`save_figure`) and return the PNG's path. Labels are the parameters' LaTeX labels with
their display unit, scaled by a power of ten where needed (`globalfit.display`; mathtext, no
TeX installation needed).
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator, ScalarFormatter  # noqa: E402

from globalfit.display import AxisFormat, axis_format, value_with_errors  # noqa: E402
from globalfit.regions import WHOLE_SPACE  # noqa: E402
from globalfit.results import RunResult, load_run, resolve_split  # noqa: E402
from globalfit.samplers.profile import Profile  # noqa: E402
from globalfit.statistics import CL90_1DOF, THREE_SIGMA_1DOF, hpd_interval  # noqa: E402

REGION_COLOURS = ("#1f4e9c", "#c0392b", "#2e8b57", "#8e44ad", "#d35400", "#555555")
MIN_REGION_SAMPLES = 50
"""A region with fewer samples is left out of the corner plot (its contours mean nothing)."""
CREDIBLE_CONTOURS = (0.68, 0.95)
CONTOUR_STYLES = ("--", "-")
"""Line styles of the contours, outermost (95 %) first, as matplotlib orders them."""
LOG_AXIS_MIN_RATIO = 10.0
FIGURE_FORMATS = ("png", "pdf")
FIGURE_DPI = 130


def _label(parameter: Any) -> str:
    label = getattr(parameter, "label", None) or parameter.name
    return f"${label}$" if "\\" in label or "_" in label or "^" in label else label


def _result(run: str | Path | RunResult, **load_options) -> RunResult:
    return run if isinstance(run, RunResult) else load_run(run, **load_options)


def save_figure(figure, output: str | Path, formats: Sequence[str] = FIGURE_FORMATS) -> Path:
    """Write ``figure`` as ``output`` with each suffix in ``formats`` (PNG and PDF by default)
    and close it; returns the path with the first format's suffix."""
    output = Path(output)
    paths = [output.with_suffix(f".{fmt}") for fmt in formats]
    for path in paths:
        figure.savefig(path, dpi=FIGURE_DPI)
    plt.close(figure)
    return paths[0]


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
               for level, style in zip(CREDIBLE_CONTOURS, reversed(CONTOUR_STYLES))]
    handles.append(plt.Line2D([], [], color="k", marker="s", ms=4, label="maximum posterior"))
    if len(drawn) > 1 or drawn[0][0] is not WHOLE_SPACE:
        handles += [plt.Line2D([], [], color=c, lw=2,
                               label=f"{r.label} ({100 * m:.0f}% of samples)")
                    for r, c, m in drawn]
    figure.legend(handles=handles, loc="upper right", frameon=False,
                  fontsize=9 if n > 1 else 8)


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


def profile_figure(profiles: Mapping[str, Profile], parameter: Any,
                   levels: Mapping[str, float] | None = None):
    """``Delta chi^2`` against a parameter, one curve per region, as a Figure.

    Parameters
    ----------
    profiles : mapping label -> Profile
        From `globalfit.samplers.profile.profile_regions` (internal units); pass them
        through `globalfit.samplers.profile.refine_profile` first for smooth curves.
    parameter : Parameter
        The profiled parameter (``from_internal``, ``latex`` and ``unit`` for the axis).
    levels : mapping name -> Delta chi^2, optional
        Labelled horizontal lines (default 90 % CL and 3 sigma, 1 dof). The region allowed
        at the first level is shaded under each curve.
    """
    levels = levels or {"90% CL": CL90_1DOF, r"3$\sigma$": THREE_SIGMA_1DOF}
    figure, axis = plt.subplots(figsize=(5.5, 4.0))
    fmt = None
    first_level = next(iter(levels.values()))
    for colour, (label, profile) in zip(REGION_COLOURS, profiles.items()):
        finite = np.isfinite(profile.chi2)
        values = parameter.from_internal(profile.grid[finite])
        fmt = fmt or axis_format(getattr(parameter, "latex", "") or parameter.name,
                                 getattr(parameter, "unit", "none"), values)
        x = values / fmt.factor
        style = "--" if "+" in label else "-"
        axis.plot(x, profile.delta_chi2[finite], style, color=colour, label=label)
        for low, high in profile.intervals(first_level):
            axis.axvspan(parameter.from_internal(low) / fmt.factor,
                         parameter.from_internal(high) / fmt.factor,
                         ymax=first_level / (1.5 * max(levels.values())),
                         color=colour, alpha=0.12, lw=0)
    for name, value in levels.items():
        axis.axhline(value, color="0.5", lw=0.8, ls=":")
        axis.annotate(name, (1.0, value), xycoords=("axes fraction", "data"), ha="right",
                      va="bottom", fontsize=8, color="0.3")
    axis.set_xlabel(fmt.label() if fmt else _label(parameter))
    axis.set_ylabel(r"$\Delta\chi^2$")
    axis.set_ylim(0, 1.5 * max(levels.values()))
    axis.xaxis.set_major_locator(MaxNLocator(nbins=6))
    axis.legend(frameon=False, loc="upper left")
    figure.tight_layout()
    return figure


def profile_plot(profiles: Mapping[str, Profile], parameter: Any, output: str | Path,
                 levels: Mapping[str, float] | None = None) -> Path:
    """`profile_figure` written as PNG and PDF; returns the PNG's path."""
    return save_figure(profile_figure(profiles, parameter, levels), output)


def trace_plot(run: str | Path | RunResult, output: str | Path | None = None) -> Path:
    """chi^2 of every likelihood (and the total) against step, all walkers, burn-in marked.

    Reads the whole chain (no burn-in); writes ``<run_dir>/traces.png`` by default.
    """
    result = _result(run, burn_in=0) if not isinstance(run, RunResult) else run
    columns = [c for c in result.blobs.columns if c.startswith("chi2.")]
    if not columns:
        raise ValueError(f"{result.run_dir}: chain.h5 has no chi2.* blobs to plot")
    n_steps, n_walkers = result.chain.shape[:2]
    figure, axes = plt.subplots(len(columns), 1, figsize=(7.0, 1.8 * len(columns) + 0.6),
                                sharex=True, squeeze=False)
    burn_in = int((result.config.get("sampler") or {}).get("burn_in", 0))
    for axis, column in zip(axes[:, 0], columns):
        values = result.blobs[column].to_numpy().reshape(n_steps, n_walkers)
        axis.plot(np.arange(n_steps) * result.thin, values, lw=0.4, alpha=0.5)
        axis.set_ylabel(rf"$\chi^2$ {column[len('chi2.'):]}", fontsize=8)
        if 0 < burn_in < n_steps * result.thin:
            axis.axvline(burn_in, color="k", ls="--", lw=0.8)
    axes[-1, 0].set_xlabel("step")
    figure.tight_layout()
    path = Path(output) if output else Path(result.run_dir) / "traces.png"
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _model_latex(config, name: str) -> str:
    """LaTeX symbol of a parameter of a `RunConfig`: the card's ``latex``, else the one its
    model declares (``m_{Z'}``), else the name."""
    spec = (config.resolved or config.parameters).get(name)
    if isinstance(spec, Mapping) and spec.get("latex"):
        return str(spec["latex"])
    return model_symbol(config.model.name, config.model.options, name)


def model_symbol(model_name: str, options: Mapping[str, Any], name: str) -> str:
    """LaTeX symbol a model declares for its parameter ``name`` (``m_{Z'}``), else ``name``."""
    from globalfit.registry import model_class

    declared = model_class(model_name)(**dict(options)).parameters
    return str((declared.get(name) or {}).get("latex") or name.replace("_", r"\_"))


def scan_figure(run_dir: str | Path, per_likelihood: bool = True):
    """Delta chi^2 of a card scan (``scan.csv``, `globalfit.scan`) against the scanned
    parameter, as a Figure.

    Draws ``delta_chi2`` (profiled, counted from the scan's minimum) and, with
    ``per_likelihood``, each likelihood's chi^2 plus the prior pulls of its own nuisance
    parameters at the profiled point, minus its minimum along the scan (dashed), named as
    in the documentation; labelled horizontal lines at
    2.71 (90 % CL) and 3.84 (95 % CL), in the legend. The x-axis is logarithmic when the card's
    ``scan.spacing`` is ``log``.
    """
    from globalfit.config import load_config
    from globalfit.registry import likelihood_title
    from globalfit.scan import SCAN_LEVELS, column_name, read_scan

    run_dir = Path(run_dir)
    table = read_scan(run_dir)
    config = load_config(run_dir / "config.yaml", validate=False)
    scan = config.scan
    if not scan:
        raise ValueError(f"{run_dir / 'config.yaml'}: the run card has no 'scan:' block")
    x = table[column_name(scan)].to_numpy()
    figure, axis = plt.subplots(figsize=(6.0, 4.2))
    axis.plot(x, table["delta_chi2"], color=REGION_COLOURS[0], lw=2,
              label="all data (profiled)")
    if per_likelihood:
        for k, column in enumerate(c for c in table.columns if c.startswith("chi2.")):
            values = table[column].to_numpy() + _nuisance_pulls(
                table, config.resolved or config.parameters, column[len("chi2."):])
            axis.plot(x, values - np.nanmin(values), ls="--", lw=1.2,
                      color=REGION_COLOURS[(k + 1) % len(REGION_COLOURS)],
                      label=likelihood_title(column[len("chi2."):]))
    for (label, level), style in zip(SCAN_LEVELS.items(), (":", "-.")):
        axis.axhline(level, color="0.3", ls=style, lw=1,
                     label=rf"{label} ($\Delta\chi^2$ = {level:.2f})")
    if scan["spacing"] == "log":
        axis.set_xscale("log")
    symbol = _model_latex(config, scan["parameter"])
    fmt = AxisFormat(symbol=symbol, unit=scan["unit"], log=scan["spacing"] == "log")
    axis.set_xlabel(fmt.label())
    axis.set_ylabel(r"$\Delta\chi^2$")
    top = float(np.nanmax(table["delta_chi2"])) if len(table) else 10.0
    axis.set_ylim(0.0, max(10.0, min(top, 50.0)) * 1.05)
    axis.legend(fontsize=8, frameon=False)
    figure.tight_layout()
    return figure


def _nuisance_pulls(table, resolved: Mapping[str, Any], likelihood: str) -> np.ndarray:
    """-2 ln prior of ``likelihood``'s nuisance parameters (columns ``<likelihood>.<name>``
    of a scan table), up to a constant."""
    from globalfit.params import parameter_from_spec

    pulls = np.zeros(len(table))
    for column in (c for c in table.columns if c.startswith(f"{likelihood}.")):
        parameter = parameter_from_spec(column, resolved[column])
        values = parameter.to_internal(table[column].to_numpy())
        pulls -= 2.0 * np.asarray(parameter.prior.log_prob(values), dtype=float)
    return pulls


def scan_plot(run_dir: str | Path, output: str | Path | None = None,
              per_likelihood: bool = True) -> Path:
    """`scan_figure` written to ``output`` (default ``<run_dir>/scan.png``) as PNG and PDF."""
    figure = scan_figure(run_dir, per_likelihood)
    return save_figure(figure, Path(output) if output else Path(run_dir) / "scan.png")


EXCLUSION_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf",
                     "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22")
"""One colour per likelihood (matplotlib's tab10, distinct in print and on screen)."""


def _finite_field(delta: np.ndarray) -> np.ndarray:
    """Delta chi^2 ready for contouring: NaN (not evaluated) -> -inf side, +inf (a veto)
    -> a large finite value."""
    return np.nan_to_num(np.asarray(delta, dtype=float), nan=-1e3, posinf=1e6, neginf=-1e3)


def exclusion_figure(result):
    """The plane of a `globalfit.exclusion.ExclusionResult` as a Figure: for each likelihood
    that excludes part of it, its excluded region (shaded, outlined where its Delta chi^2
    crosses the threshold, interpolated between grid points), the region all likelihoods
    exclude together (sum of their Delta chi^2, dashed black), and
    the card's benchmark point (star); log axes labelled with the model's symbols.
    """
    from globalfit.registry import likelihood_title

    symbols = result.symbols
    x, y = result.x.values(), result.y.values()
    figure, axis = plt.subplots(figsize=(6.4, 4.8))
    handles = []
    level = result.threshold
    fields = {name: _finite_field(delta) for name, delta in result.delta.items()
              if (_finite_field(delta) > level).any()}
    fields["__combined__"] = _finite_field(
        np.nansum(np.stack(list(result.delta.values())), axis=0))
    colours = [*(EXCLUSION_COLOURS * 2)[:len(fields) - 1], "k"]
    for colour, (name, field) in zip(colours, fields.items()):
        if not (field > level).any():
            continue
        combined = name == "__combined__"
        if not combined:
            axis.contourf(x, y, field, levels=[level, np.inf], colors=[colour], alpha=0.12)
        axis.contour(x, y, field, levels=[level], colors=[colour],
                     linewidths=1.2 if combined else 1.5, linestyles="--" if combined else "-")
        label = "all combined" if combined else likelihood_title(name)
        handles.append(plt.Line2D([], [], color=colour, ls="--", label=label) if combined else
                       plt.Rectangle((0, 0), 1, 1, facecolor=colour, alpha=0.3,
                                     edgecolor=colour, label=label))
    axis.plot(*result.benchmark, marker="*", color="gold", markeredgecolor="k", ms=14,
              ls="none")
    handles.append(plt.Line2D([], [], marker="*", color="gold", markeredgecolor="k", ms=12,
                              ls="none", label="benchmark"))
    axis.set_xscale("log")
    axis.set_yscale("log")
    for setter, plane_axis in ((axis.set_xlabel, result.x), (axis.set_ylabel, result.y)):
        setter(AxisFormat(symbol=symbols.get(plane_axis.name, plane_axis.name),
                          unit=plane_axis.unit, log=True).label())
    axis.set_title(f"{result.name}: excluded at {100 * result.cl:.0f}% CL "
                   f"($\\Delta\\chi^2 > {result.threshold:.2f}$ vs SM, {result.dof} dof)",
                   fontsize=9)
    axis.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                frameon=False)
    figure.tight_layout()
    return figure


def viability_scan_figure(result):
    """Delta chi^2 against the SM of each likelihood along a `globalfit check --scan`
    (`globalfit.viability.ScanResult`), as a Figure: likelihoods named as in the docs,
    the total in black, the 95 % CL line labelled, vetoes (infinite Delta chi^2) as
    triangles at the top edge, viable windows shaded; log x axis with the model's symbol
    and unit, symmetric-log y axis.
    """
    from matplotlib.ticker import FuncFormatter, NullLocator

    from globalfit.registry import likelihood_title
    from globalfit.viability import thresholds

    limit = thresholds(result.dof)[0.95]
    figure, axis = plt.subplots(figsize=(8.5, 4.5))
    columns = [*result.likelihoods, "total"]
    finite = [result.wide[c].to_numpy(dtype=float) for c in columns]
    top = 3.0 * max([10.0] + [float(np.nanmax(np.where(np.isfinite(d), d, np.nan)))
                              for d in finite if np.isfinite(d).any()])
    for name, delta in zip(columns, finite):
        if np.all(np.nan_to_num(delta, nan=0.0) == 0.0):
            continue
        style = {"color": "black", "lw": 2.0} if name == "total" else {"lw": 1.3}
        label = "all combined" if name == "total" else likelihood_title(name)
        line, = axis.plot(result.values, np.where(np.isposinf(delta), top, delta),
                          marker=".", label=label, **style)
        vetoed = np.isposinf(delta)
        if vetoed.any():
            axis.plot(result.values[vetoed], np.full(vetoed.sum(), top), "^",
                      color=line.get_color())
    axis.axhline(limit, color="red", ls="--", lw=1.0,
                 label=rf"95% CL ($\Delta\chi^2$ = {limit:.2f})")
    for low, high in result.viable_windows():
        axis.axvspan(low, high, color="green", alpha=0.08)
    axis.set_xscale("log")
    axis.set_yscale("symlog", linthresh=1.0)
    axis.set_ylim(-10.0, top * 1.5)
    decades = int(math.ceil(math.log10(top * 1.5)))
    step = max(1, int(math.ceil(decades / 8)))
    axis.set_yticks([-10.0, -1.0, 0.0] + [10.0**k for k in range(0, decades + 1, step)])
    axis.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.yaxis.set_minor_locator(NullLocator())
    def symbol(name: str) -> str:
        try:
            return model_symbol(result.model_name, {}, name)
        except (TypeError, ValueError):  # a model that needs options: the parameter's name
            return name.replace("_", r"\_")

    x_symbol = symbol(result.parameter)
    axis.set_xlabel(AxisFormat(symbol=x_symbol, unit=result.unit or "none", log=True).label())
    axis.set_ylabel(r"$\Delta\chi^2$ vs SM")
    holds = ", ".join(f"${symbol(k)} \\propto {x_symbol}" + (f"^{{{v:g}}}$" if v != 1 else "$")
                      for k, v in result.holds.items())
    axis.set_title(f"{result.name}" + (f" (held: {holds})" if holds else "")
                   + "; triangles: veto, green: viable", fontsize=9)
    axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    figure.tight_layout()
    return figure
