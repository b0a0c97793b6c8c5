"""Figures: corner plots, profile likelihoods, chi^2 traces, scans, exclusion planes.

``*_figure`` functions return a matplotlib Figure; ``*_plot`` functions write it as PNG and
PDF (`save_figure`) and return the PNG's path. Labels are the parameters' LaTeX labels with
their display unit, scaled by a power of ten where needed (`globalfit.display`; mathtext, no
TeX installation needed).

One module per kind of figure: `corner`, `curves` (profiles, traces), `scans`, `planes`
(exclusion), `intervals` (allowed ranges of several sources side by side); `common` holds
what they share. Everything is importable from here.
"""
from __future__ import annotations

from globalfit.plots.common import FIGURE_FORMATS, REGION_COLOURS, plt, save_figure
from globalfit.plots.corner import corner_figure, corner_plot
from globalfit.plots.curves import profile_figure, profile_plot, trace_plot
from globalfit.plots.intervals import intervals_figure
from globalfit.plots.planes import exclusion_figure
from globalfit.plots.scans import model_symbol, scan_figure, scan_plot, viability_scan_figure

__all__ = [
    "FIGURE_FORMATS",
    "REGION_COLOURS",
    "corner_figure",
    "corner_plot",
    "exclusion_figure",
    "intervals_figure",
    "model_symbol",
    "plt",
    "profile_figure",
    "profile_plot",
    "save_figure",
    "scan_figure",
    "scan_plot",
    "trace_plot",
    "viability_scan_figure",
]
