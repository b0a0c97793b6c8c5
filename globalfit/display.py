"""How parameter values are shown to a reader: units in LaTeX, a power-of-ten scale, and
values with asymmetric errors rounded to what the errors allow.

Used by the figures (corner plots, profile curves, scans). Nothing here computes a
statistic: it only formats numbers that others computed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

UNIT_LATEX = {
    "eV2": r"\mathrm{eV}^2",
    "deg": r"\mathrm{deg}",
    "rad": r"\mathrm{rad}",
    "GeV": r"\mathrm{GeV}",
    "MeV": r"\mathrm{MeV}",
    "keV": r"\mathrm{keV}",
    "eV": r"\mathrm{eV}",
    "none": "",
}
"""Card unit name -> LaTeX (mathtext) of the unit."""

SCALE_THRESHOLD_DECADES = 3
"""Values whose typical size is below 1e-3 or above 1e3 are shown in units of a power of
ten (``[10^{-5} eV^2]``) so that tick labels need no offset text."""


def unit_latex(unit: str) -> str:
    """LaTeX (mathtext, without ``$``) of a card unit, e.g. ``eV2`` -> ``\\mathrm{eV}^2``."""
    try:
        return UNIT_LATEX[unit]
    except KeyError:
        return rf"\mathrm{{{unit}}}"


def scale_exponent(values) -> int:
    """Power of ten to divide ``values`` by so their typical size is of order one.

    Zero when the median absolute value is between 1e-3 and 1e3 (or all values are zero).
    """
    values = np.asarray(values, dtype=float)
    finite = np.abs(values[np.isfinite(values)])
    typical = float(np.median(finite)) if finite.size else 0.0
    if typical == 0.0:
        return 0
    exponent = math.floor(math.log10(typical))
    return exponent if abs(exponent) >= SCALE_THRESHOLD_DECADES else 0


@dataclass(frozen=True)
class AxisFormat:
    """How one parameter is drawn: divide by ``10**exponent``; ``log`` for a log axis."""

    symbol: str
    """LaTeX symbol without ``$`` (``\\Delta m^2_{21}``)."""
    unit: str = "none"
    exponent: int = 0
    log: bool = False

    @property
    def factor(self) -> float:
        return 10.0 ** self.exponent

    def unit_text(self) -> str:
        """``10^{-5}\\,\\mathrm{eV}^2`` (mathtext), or '' for a dimensionless unscaled value."""
        parts = []
        if self.exponent:
            parts.append(f"10^{{{self.exponent}}}")
        if unit_latex(self.unit):
            parts.append(unit_latex(self.unit))
        return r"\,".join(parts)

    def label(self) -> str:
        """Axis label, e.g. ``$\\Delta m^2_{21}\\ [10^{-5}\\,\\mathrm{eV}^2]$``."""
        unit = self.unit_text()
        return f"${self.symbol}\\ [{unit}]$" if unit else f"${self.symbol}$"


def axis_format(symbol: str, unit: str, values, log: bool = False) -> AxisFormat:
    """The `AxisFormat` of a parameter shown in ``unit`` with these values.

    A log axis needs no scale (its tick labels are powers of ten already).
    """
    return AxisFormat(symbol=symbol or "x", unit=unit, log=log,
                      exponent=0 if log else scale_exponent(values))


def decimals_for(error: float, significant: int = 2) -> int:
    """Number of decimals that shows ``error`` with ``significant`` significant digits."""
    if not np.isfinite(error) or error <= 0:
        return 2
    return max(0, significant - 1 - math.floor(math.log10(error)))


def value_with_errors(centre: float, low: float, high: float) -> str:
    """``centre^{+(high-centre)}_{-(centre-low)}`` in mathtext, rounded to the errors
    (two significant digits of the smaller one), e.g. ``7.56^{+0.19}_{-0.20}``."""
    plus, minus = high - centre, centre - low
    digits = decimals_for(min(plus, minus) if min(plus, minus) > 0 else max(plus, minus))
    return f"{centre:.{digits}f}^{{+{plus:.{digits}f}}}_{{-{minus:.{digits}f}}}"
