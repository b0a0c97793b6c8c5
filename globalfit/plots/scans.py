"""Scans along one parameter: a card scan (`scan_figure`, `scan_plot`) and a viability scan
of `globalfit check --scan` (`viability_scan_figure`)."""
from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from globalfit.display import AxisFormat  # noqa: E402
from globalfit.plots.common import REGION_COLOURS, save_figure  # noqa: E402


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


def viability_scan_figure(result):
    """Delta chi^2 against the SM of each likelihood along a `globalfit check --scan`
    (`globalfit.viability_scan.ViabilityScan`), as a Figure: likelihoods named as in the docs,
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
