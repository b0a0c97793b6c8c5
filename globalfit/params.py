"""Parameters, priors and units.

A `Parameter` is a name, a LaTeX label, a display unit and a `Prior`. Priors live in
*internal* units (radians, eV^2, GeV, or dimensionless); a run card writes them in its
display unit and `parameter_from_spec` converts. Every unit conversion is a pure scale
factor, so converting a prior is converting its numbers.

Priors (``Uniform``, ``LogUniform``, ``Gaussian`` with optional truncation, ``Fixed``)
share one small interface: ``log_prob(x)`` (normalised density, vectorised), ``sample(rng,
n)``, ``from_unit_cube(u)`` (the inverse CDF, used by nested samplers) and ``bounds``.
"""
from __future__ import annotations

import abc
import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

# --- units ---------------------------------------------------------------------------------
UNITS: dict[str, tuple[str, float]] = {
    "rad": ("angle", 1.0),
    "deg": ("angle", math.pi / 180.0),
    "eV2": ("mass2", 1.0),
    "GeV": ("energy", 1.0),
    "MeV": ("energy", 1.0e-3),
    "keV": ("energy", 1.0e-6),
    "eV": ("energy", 1.0e-9),
    "none": ("dimensionless", 1.0),
}
"""Unit name -> (dimension, factor to the internal unit of that dimension)."""

INTERNAL_UNIT = {"angle": "rad", "mass2": "eV2", "energy": "GeV", "dimensionless": "none"}
"""Internal unit of each dimension."""


def canonical_unit(unit: str | None) -> str:
    """``None``, ``""`` and ``"none"`` all mean dimensionless; other names are unchanged
    (a non-string is kept as its ``repr`` so that it is reported as an unknown unit)."""
    if unit is None or (isinstance(unit, str) and unit in ("", "none", "1")):
        return "none"
    return unit if isinstance(unit, str) else repr(unit)


def unit_factor(unit: str | None, key: str = "unit") -> float:
    """Factor that turns a value in ``unit`` into internal units.

    Raises
    ------
    ValueError
        Naming ``key``, the unit and the allowed units (with the closest one).
    """
    unit = canonical_unit(unit)
    if unit not in UNITS:
        raise ValueError(unknown_name_message(key, unit, "unit", UNITS))
    return UNITS[unit][1]


def check_unit_compatible(unit: str | None, internal_unit: str | None, key: str) -> None:
    """Raise ``ValueError`` unless ``unit`` measures the same dimension as ``internal_unit``.

    An ``internal_unit`` outside the table (a model may declare e.g. ``"GeV^-2"``) only
    accepts itself or no unit at all.
    """
    unit, internal_unit = canonical_unit(unit), canonical_unit(internal_unit)
    if internal_unit not in UNITS:
        if unit not in (internal_unit, "none"):
            raise ValueError(
                f"{key}: unit {unit!r} cannot be used here; this parameter is in "
                f"{internal_unit!r} (give it in {internal_unit!r} or omit 'unit')"
            )
        return
    unit_factor(unit, key)
    dimension = UNITS[internal_unit][0]
    if UNITS[unit][0] != dimension:
        allowed = [name for name, (dim, _) in UNITS.items() if dim == dimension]
        raise ValueError(
            f"{key}: unit {unit!r} is not a unit of {dimension} "
            f"(allowed: {', '.join(allowed)})"
        )


def closest_hint(value: Any, allowed) -> str:
    """``"; did you mean 'y'?"`` for the closest of ``allowed``, or ``""``."""
    close = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1, cutoff=0.5)
    return f"; did you mean {close[0]!r}?" if close else ""


def unknown_name_message(key: str, value: Any, what: str, allowed) -> str:
    """``"<key>: unknown <what> 'x'; did you mean 'y'? (allowed: ...)"``."""
    allowed = [str(a) for a in allowed]
    hint = closest_hint(value, allowed)
    return f"{key}: unknown {what} {value!r}{hint} (allowed: {', '.join(allowed)})"


def reject_unknown_options(options, allowed, key: str, owner: str | None = None) -> None:
    """Raise ``ValueError`` naming ``<key>.<option>`` for the first option not in ``allowed``
    (with the closest allowed name); ``owner`` (e.g. ``"model 'lfv_nsi'"``) is added to
    the message."""
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        bad = unknown[0]
        whose = f" for {owner}" if owner else ""
        raise ValueError(f"{key}.{bad}: unknown option{whose}{closest_hint(bad, allowed)} "
                         f"(allowed: {', '.join(allowed) or 'none'})")


# --- priors --------------------------------------------------------------------------------
class Prior(abc.ABC):
    """A normalised one-dimensional prior density in internal units."""

    kind: str = ""

    @abc.abstractmethod
    def log_prob(self, x):
        """ln of the normalised density at ``x`` (``-inf`` outside the support)."""

    @abc.abstractmethod
    def from_unit_cube(self, u):
        """Inverse CDF: maps ``u`` uniform in [0, 1] to a draw from this prior."""

    @property
    @abc.abstractmethod
    def bounds(self) -> tuple[float, float]:
        """Support ``(low, high)``; infinite where the prior is unbounded."""

    def sample(self, rng: np.random.Generator, n: int | None = None):
        """``n`` independent draws (a float if ``n`` is ``None``)."""
        return self.from_unit_cube(rng.uniform(size=n))

    @property
    def is_fixed(self) -> bool:
        return False

    def to_spec(self, factor: float = 1.0) -> dict[str, Any]:
        """The run-card spec of this prior, its numbers divided by ``factor``."""
        return {"prior": self.kind}


class _Interval:
    """``bounds`` and card spec of a prior on ``[low, high]`` (uniform, log-uniform)."""

    @property
    def bounds(self):
        return (self.low, self.high)

    def to_spec(self, factor=1.0):
        return {"prior": self.kind, "min": self.low / factor, "max": self.high / factor}


@dataclass(frozen=True)
class Uniform(_Interval, Prior):
    """Flat on ``[low, high]``."""

    low: float
    high: float
    kind = "uniform"

    def __post_init__(self):
        if not (np.isfinite(self.low) and np.isfinite(self.high) and self.low < self.high):
            raise ValueError(f"Uniform prior needs finite min < max, got [{self.low}, {self.high}]")

    def log_prob(self, x):
        x = np.asarray(x, dtype=float)
        inside = (x >= self.low) & (x <= self.high)
        out = np.where(inside, -math.log(self.high - self.low), -np.inf)
        return out[()] if out.ndim == 0 else out

    def from_unit_cube(self, u):
        return self.low + (self.high - self.low) * np.asarray(u, dtype=float)



@dataclass(frozen=True)
class LogUniform(_Interval, Prior):
    """Flat in ``ln x`` on ``[low, high]``, ``0 < low < high``: density ``1 / (x ln(high/low))``."""

    low: float
    high: float
    kind = "log-uniform"

    def __post_init__(self):
        if not (0 < self.low < self.high < np.inf):
            raise ValueError(f"LogUniform prior needs 0 < min < max, got [{self.low}, {self.high}]")

    def log_prob(self, x):
        x = np.asarray(x, dtype=float)
        inside = (x >= self.low) & (x <= self.high)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = -np.log(x) - math.log(math.log(self.high / self.low))
        out = np.where(inside, value, -np.inf)
        return out[()] if out.ndim == 0 else out

    def from_unit_cube(self, u):
        return self.low * (self.high / self.low) ** np.asarray(u, dtype=float)



@dataclass(frozen=True)
class Gaussian(Prior):
    """Normal density, optionally truncated to ``[low, high]`` (renormalised)."""

    mean: float
    sigma: float
    low: float = -np.inf
    high: float = np.inf
    kind = "gaussian"

    def __post_init__(self):
        if not (np.isfinite(self.mean) and np.isfinite(self.sigma) and self.sigma > 0):
            raise ValueError(f"Gaussian prior needs finite mean and sigma > 0, got "
                             f"mean={self.mean}, sigma={self.sigma}")
        if not self.low < self.high:
            raise ValueError(f"Gaussian prior truncation needs min < max, "
                             f"got [{self.low}, {self.high}]")
        if self._mass <= 0:
            raise ValueError(f"Gaussian prior N({self.mean}, {self.sigma}) has no mass in "
                             f"[{self.low}, {self.high}]")

    @property
    def _cdf_limits(self) -> tuple[float, float]:
        return (special.ndtr((self.low - self.mean) / self.sigma),
                special.ndtr((self.high - self.mean) / self.sigma))

    @property
    def _mass(self) -> float:
        lo, hi = self._cdf_limits
        return float(hi - lo)

    def log_prob(self, x):
        x = np.asarray(x, dtype=float)
        z = (x - self.mean) / self.sigma
        norm = math.log(self.sigma * math.sqrt(2 * math.pi) * self._mass)
        inside = (x >= self.low) & (x <= self.high)
        out = np.where(inside, -0.5 * z * z - norm, -np.inf)
        return out[()] if out.ndim == 0 else out

    def from_unit_cube(self, u):
        lo, hi = self._cdf_limits
        u = np.asarray(u, dtype=float)
        x = self.mean + self.sigma * special.ndtri(lo + (hi - lo) * u)
        return np.clip(x, self.low, self.high)

    @property
    def bounds(self):
        return (float(self.low), float(self.high))

    def to_spec(self, factor=1.0):
        spec = {"prior": self.kind, "mean": self.mean / factor, "sigma": self.sigma / factor}
        if np.isfinite(self.low):
            spec["min"] = self.low / factor
        if np.isfinite(self.high):
            spec["max"] = self.high / factor
        return spec


@dataclass(frozen=True)
class Fixed(Prior):
    """A parameter held at ``value`` (a delta function; never sampled)."""

    value: float
    kind = "fixed"

    def log_prob(self, x):
        x = np.asarray(x, dtype=float)
        out = np.where(x == self.value, 0.0, -np.inf)
        return out[()] if out.ndim == 0 else out

    def from_unit_cube(self, u):
        return np.full_like(np.asarray(u, dtype=float), self.value)

    @property
    def bounds(self):
        return (self.value, self.value)

    @property
    def is_fixed(self) -> bool:
        return True

    def to_spec(self, factor=1.0):
        return {"value": self.value / factor}


PRIOR_KINDS = ("uniform", "log-uniform", "gaussian")
"""Prior names accepted in a run card (a fixed parameter has ``value`` instead)."""

_PRIOR_ALIASES = {"loguniform": "log-uniform", "log_uniform": "log-uniform",
                  "normal": "gaussian", "flat": "uniform"}



def canonical_prior_kind(name: Any) -> str:
    """A card's prior name in canonical spelling (``loguniform`` -> ``log-uniform``)."""
    kind = str(name).lower()
    return _PRIOR_ALIASES.get(kind, kind)


SPEC_KEYS = ("prior", "value", "min", "max", "mean", "sigma", "unit", "latex", "start")
"""Keys allowed in a parameter's run-card spec."""


# --- parameters ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Parameter:
    """One parameter of a run.

    Attributes
    ----------
    name : str
        Name as in the run card (``th12``, ``mzp``, ``kamland.norm``).
    prior : Prior
        In internal units.
    latex : str
        LaTeX label without ``$``.
    unit : str
        Display unit (what the card used, e.g. ``deg``); values are reported in it.
    internal_unit : str
        Unit the model/likelihood works in (``rad``, ``eV2``, ``GeV`` or ``none``).
    start : tuple or None
        Optional walker start hint in internal units: ``(value,)`` (small ball) or
        ``(low, high)`` (uniform range).
    """

    name: str
    prior: Prior
    latex: str = ""
    unit: str = "none"
    internal_unit: str = "none"
    start: tuple[float, ...] | None = None

    @property
    def factor(self) -> float:
        """Display unit -> internal unit factor."""
        return UNITS[self.unit][1] if self.unit in UNITS else 1.0

    def to_internal(self, x):
        """Value(s) in the display unit -> internal units."""
        return np.asarray(x, dtype=float) * self.factor

    def from_internal(self, x):
        """Value(s) in internal units -> the display unit."""
        return np.asarray(x, dtype=float) / self.factor

    @property
    def fixed(self) -> bool:
        return self.prior.is_fixed

    @property
    def label(self) -> str:
        """LaTeX label with the unit, e.g. ``\\theta_{12}\\ [\\mathrm{deg}]``."""
        text = self.latex or self.name
        return text if self.unit == "none" else f"{text}\\ [\\mathrm{{{self.unit}}}]"

    def to_spec(self) -> dict[str, Any]:
        """The resolved run-card spec (display units)."""
        spec = self.prior.to_spec(self.factor)
        spec = {k: (float(v) if isinstance(v, (int, float, np.floating)) else v)
                for k, v in spec.items()}
        if self.unit != "none":
            spec["unit"] = self.unit
        if self.latex:
            spec["latex"] = self.latex
        if self.start is not None:
            values = [float(v / self.factor) for v in self.start]
            spec["start"] = values[0] if len(values) == 1 else values
        return spec


def _number(spec: Mapping, key: str, path: str, errors: list[str]) -> float | None:
    if key not in spec:
        return None
    value = spec[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            value = float(value)  # YAML 1.1 reads 1e-3 (no dot) as a string
        except (TypeError, ValueError):
            errors.append(f"{path}.{key}: expected a number, got {spec[key]!r}")
            return None
    if not np.isfinite(value):
        errors.append(f"{path}.{key}: expected a finite number, got {value!r}")
        return None
    return float(value)


def _prior_from_numbers(kind, nums, factor, path, errors) -> Prior | None:
    """Check the card numbers (display unit, so messages quote them), then build the prior
    in internal units (``factor`` converts)."""
    low, high, mean, sigma = nums["min"], nums["max"], nums["mean"], nums["sigma"]
    if kind in ("uniform", "log-uniform"):
        missing = [k for k in ("min", "max") if nums[k] is None]
        if missing:
            errors.append(f"{path}: prior {kind!r} needs 'min' and 'max' "
                          f"(missing: {', '.join(missing)})")
            return None
        if low >= high:
            errors.append(f"{path}.min: min ({low:g}) must be smaller than max ({high:g})")
            return None
        if kind == "log-uniform" and low <= 0:
            errors.append(f"{path}.min: log-uniform prior needs min > 0, got {low:g}")
            return None
        cls = Uniform if kind == "uniform" else LogUniform
        return cls(low * factor, high * factor)
    missing = [k for k in ("mean", "sigma") if nums[k] is None]
    if missing:
        errors.append(f"{path}: prior 'gaussian' needs 'mean' and 'sigma' "
                      f"(missing: {', '.join(missing)})")
        return None
    if sigma <= 0:
        errors.append(f"{path}.sigma: sigma must be positive, got {sigma:g}")
        return None
    low = -np.inf if low is None else low
    high = np.inf if high is None else high
    if low >= high:
        errors.append(f"{path}.min: min ({low:g}) must be smaller than max ({high:g})")
        return None
    try:
        return Gaussian(mean * factor, sigma * factor, low * factor, high * factor)
    except ValueError as error:
        errors.append(f"{path}: {error}")
        return None


def parameter_from_spec(
    name: str,
    spec: Any,
    *,
    internal_unit: str | None = None,
    default_latex: str = "",
    path: str | None = None,
    errors: list[str] | None = None,
) -> Parameter | None:
    """Build a `Parameter` from its run-card spec.

    Parameters
    ----------
    name : str
        Parameter name.
    spec : mapping or number
        ``{prior: ..., min, max, mean, sigma, unit, latex, start}`` or ``{value, unit}``;
        a bare number is a fixed value in the internal unit.
    internal_unit : str, optional
        Unit the model or likelihood declares; the card's ``unit`` must be of the same
        dimension. Without a card unit, values are taken in this unit.
    path : str, optional
        Key path used in error messages (default ``parameters.<name>``).
    errors : list, optional
        Collects error messages instead of raising; ``None`` is returned on error.

    Raises
    ------
    ValueError
        If ``errors`` is not given and the spec is invalid.
    """
    own_errors = [] if errors is None else None
    errs = errors if errors is not None else own_errors
    path = path or f"parameters.{name}"
    n_before = len(errs)
    parameter = _parameter_from_spec(name, spec, internal_unit, default_latex, path, errs)
    if own_errors:
        raise ValueError("\n".join(own_errors))
    return parameter if len(errs) == n_before else None


def _parameter_from_spec(name, spec, internal_unit, default_latex, path, errors):
    internal_unit = canonical_unit(internal_unit)
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        spec = {"value": spec}
    if not isinstance(spec, Mapping):
        errors.append(f"{path}: expected a mapping such as {{prior: uniform, min: 0, max: 1}} "
                      f"or {{value: 0.5}}, got {spec!r}")
        return None
    for key in spec:
        if key not in SPEC_KEYS:
            errors.append(unknown_name_message(f"{path}.{key}", key, "key", SPEC_KEYS))
    unit = canonical_unit(spec.get("unit", internal_unit))
    try:
        check_unit_compatible(unit, internal_unit, f"{path}.unit")
    except ValueError as error:
        errors.append(str(error))
        return None
    factor = UNITS[unit][1] if unit in UNITS else 1.0
    nums = {k: _number(spec, k, path, errors) for k in ("value", "min", "max", "mean", "sigma")}
    latex = str(spec.get("latex", default_latex) or "")
    if "value" in spec:
        extra = [k for k in ("prior", "min", "max", "mean", "sigma") if k in spec]
        if extra:
            errors.append(f"{path}: a fixed parameter ('value') takes no {', '.join(extra)}; "
                          f"remove 'value' to give it a prior")
            return None
        if nums["value"] is None:
            return None
        return Parameter(name, Fixed(nums["value"] * factor), latex, unit, internal_unit)
    if "prior" not in spec:
        errors.append(f"{path}: give either 'value' (fixed) or 'prior' "
                      f"(one of {', '.join(PRIOR_KINDS)})")
        return None
    kind = canonical_prior_kind(spec["prior"])
    if kind not in PRIOR_KINDS:
        errors.append(unknown_name_message(f"{path}.prior", spec["prior"], "prior", PRIOR_KINDS))
        return None
    if any(nums[k] is None and k in spec for k in nums):
        return None
    prior = _prior_from_numbers(kind, nums, factor, path, errors)
    if prior is None:
        return None
    start = _start_hint(spec, factor, prior, path, errors)
    return Parameter(name, prior, latex, unit, internal_unit, start)


def _start_hint(spec, factor, prior, path, errors):
    if "start" not in spec:
        return None
    raw = spec["start"]
    values = raw if isinstance(raw, (list, tuple)) else [raw]
    try:
        values = tuple(float(v) * factor for v in values)
    except (TypeError, ValueError):
        values = ()
    if len(values) not in (1, 2) or (len(values) == 2 and not values[0] < values[1]):
        errors.append(f"{path}.start: expected a value or [low, high] with low < high, got {raw!r}")
        return None
    low, high = prior.bounds
    if any(not (low <= v <= high) for v in values):
        errors.append(f"{path}.start: {raw!r} lies outside the prior range "
                      f"[{low / factor:g}, {high / factor:g}]")
        return None
    return values
