"""Profile-likelihood curves and chi^2 traces (`profile_figure`, `profile_plot`,
`trace_plot`)."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from globalfit.display import axis_format  # noqa: E402
from globalfit.plots.common import REGION_COLOURS, _label, _result, save_figure  # noqa: E402
from globalfit.results import RunResult  # noqa: E402
from globalfit.samplers.profile import Profile  # noqa: E402
from globalfit.statistics import CL90_1DOF, THREE_SIGMA_1DOF  # noqa: E402


def profile_figure(profiles: Mapping[str, Profile], parameter: Any,
                   levels: Mapping[str, float] | None = None):
    """``Delta chi^2`` against a parameter, one curve per region, as a Figure.

    Parameters
    ----------
    profiles : mapping label -> Profile
        From `globalfit.samplers.region_profiles.profile_regions` (internal units); pass them
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


