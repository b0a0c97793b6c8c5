"""Exclusion planes of two model parameters (`exclusion_figure`)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from globalfit.display import AxisFormat  # noqa: E402

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


