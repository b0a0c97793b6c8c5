"""What every figure shares: colours, labels, loading a run, writing PNG and PDF."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from globalfit.results import RunResult, load_run  # noqa: E402

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


