"""One progress-bar helper for every long computation (profiles, scans, comparisons).

A bar is drawn with tqdm on standard error when standard error is a terminal and not
otherwise (a log file, a pipe, CI): long commands show progress to a person and stay quiet
in logs. ``GLOBALFIT_PROGRESS=0`` switches bars off on a terminal too, ``=1`` forces them.
Library functions take ``progress: str | None`` (the bar's label; None: no bar) and wrap
their loop with `progress_bar`.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tqdm import tqdm


def enabled() -> bool:
    """Whether bars are drawn: ``GLOBALFIT_PROGRESS`` if set, else whether stderr is a TTY."""
    setting = os.environ.get("GLOBALFIT_PROGRESS", "").strip().lower()
    if setting in ("0", "false", "no", "off"):
        return False
    if setting in ("1", "true", "yes", "on"):
        return True
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


class _NoBar:
    """Stands in for a bar when none is drawn."""

    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, text: str) -> None:
        pass


@contextmanager
def progress_bar(total: int, label: str | None, unit: str = "step") -> Iterator:
    """A bar of ``total`` steps labelled ``label`` (``bar.update()`` after each step).

    Nothing is drawn when ``label`` is None or bars are off (`enabled`).
    """
    if label is None or not enabled():
        yield _NoBar()
        return
    bar = tqdm(total=total, desc=label, unit=unit, file=sys.stderr, leave=False,
               dynamic_ncols=True)
    try:
        yield bar
    finally:
        bar.close()
