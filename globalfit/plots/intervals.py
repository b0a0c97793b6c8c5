"""Allowed ranges of several parameters side by side: one panel per parameter, one line per
source (e.g. this fit, a variant card, a published table), thin bars at 3 sigma and thick
bars at 90 % CL, a marker at the best fit.

The input is the long format of `globalfit.profile_tables.profile_table` (``parameter, region,
level, best_fit, low, high``; a range of two pieces is two rows), so any profile table, or a
published one written in that format, can be drawn.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from globalfit.plots.common import REGION_COLOURS, plt

LEVEL_WIDTHS = {"3sigma": 2.0, "90%": 6.0}
"""Bar widths in points: 3 sigma thin, 90 % CL thick (drawn in this order)."""


def intervals_figure(tables: Mapping[str, pd.DataFrame], parameters: Sequence[str],
                     regions: Sequence[str], labels: Mapping[str, str] | None = None,
                     title: str = ""):
    """Figure with one row of panels per parameter, one column per region and one line per
    source in ``tables``.

    Parameters
    ----------
    tables : mapping source label -> DataFrame
        Long-format tables; a source without a parameter's row leaves its line empty.
    parameters : sequence of str
        Parameter names, top to bottom (the ``parameter`` column's values).
    regions : sequence of str
        The ``region`` values to draw, one column each (e.g. ``["LMA", "LMA+LMA-D"]``).
    labels : mapping parameter -> str, optional
        Panel titles (LaTeX in ``$...$`` allowed); default the names.
    """
    labels = dict(labels or {})
    sources = list(tables)
    figure, axes = plt.subplots(len(parameters), len(regions), sharex="row", squeeze=False,
                                figsize=(4.2 * len(regions) + 1.2,
                                         0.8 + 0.45 * len(sources) * len(parameters)))
    for i, name in enumerate(parameters):
        for j, region in enumerate(regions):
            axis = axes[i, j]
            for row, source in enumerate(sources):
                _draw_source(axis, tables[source], name, region, -row,
                             REGION_COLOURS[row % len(REGION_COLOURS)])
            axis.set_yticks([-row for row in range(len(sources))],
                            sources if j == 0 else [""] * len(sources), fontsize=8)
            axis.set_ylim(-len(sources) + 0.4, 0.6)
            axis.axvline(0.0, color="0.7", lw=0.8, zorder=0)
            axis.set_title(f"{labels.get(name, name)}   ({region})", fontsize=9, loc="left", pad=2)
            axis.tick_params(axis="x", labelsize=8)
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure


def _draw_source(axis, table: pd.DataFrame, name: str, region: str, y: float, colour: str) -> None:
    rows = table[(table.parameter == name) & (table.region == region)]
    for level, width in LEVEL_WIDTHS.items():
        for low, high in zip(rows[rows.level == level].low, rows[rows.level == level].high):
            if not (math.isnan(low) or math.isnan(high)):
                axis.plot([low, high], [y, y], color=colour, lw=width, solid_capstyle="butt")
    best = rows.best_fit.dropna()
    if len(best):
        axis.plot([best.iloc[0]], [y], "|", color="black", ms=10, mew=1.5)
