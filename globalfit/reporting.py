"""Where the library's progress messages and advice go (`Reporter`).

Library calls are silent except for advice, which becomes a Python warning; the command line
passes a `PrintReporter`.
"""
from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from typing import Any


class Reporter:
    """Where progress messages and advice go. The base class says nothing and turns advice
    into Python warnings; the command line prints both (`globalfit.cli`)."""

    def info(self, text: str) -> None:
        """A progress line (what is being run, which files were written)."""

    def warning(self, text: str) -> None:
        """Advice the user must see (a chain too short, a results file that failed)."""
        warnings.warn(text, stacklevel=3)


class PrintReporter(Reporter):
    """Progress to stdout, advice to stderr prefixed ``warning:``."""

    def __init__(self, out: Callable[[str], Any] = print, err: Callable[[str], Any] | None = None):
        self._out = out
        self._err = err or (lambda text: print(text, file=sys.stderr))

    def info(self, text: str) -> None:
        self._out(text)

    def warning(self, text: str) -> None:
        self._err(f"warning: {text}")
