"""Regions of parameter space written as conditions: ``"th12 < 45 deg"``.

A run card's ``regions:`` block names parts of parameter space that are reported (and may
be sampled) separately, e.g. the solar LMA and LMA-Dark solutions::

    regions:
      LMA: "th12 < 45 deg"
      LMA_D: "th12 >= 45 deg"

Grammar (no ``eval``; a small tokenizer and parser)::

    condition  := conjunction ("or" conjunction)*
    conjunction:= term ("and" term)*
    term       := ["not"] comparison
    comparison := NAME OP NUMBER [UNIT]  |  NUMBER [UNIT] OP NAME
    OP         := "<" | "<=" | ">" | ">="
    UNIT       := rad | deg | eV2 | GeV | MeV | keV | eV

A number carries a unit whenever the parameter has one (``th12 < 45`` is refused: degrees
or radians?). The value is converted to the parameter's display unit and then to internal
units with the parameter's own ``to_internal`` (which may include a log transform), so a
`Region` tests samples stored in internal units.

Every comparison is a bound on one parameter, so a condition is a box; the complement of
a box is a union of boxes. A `Region` is therefore a union of boxes (disjunctive normal
form), which the profile likelihood uses directly as optimiser bounds. Parentheses and
functions (``abs``) are not part of the grammar.
"""
from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from globalfit.params import UNITS

UNIT_SCALES: Mapping[str, tuple[str, float]] = {
    name: entry for name, entry in UNITS.items() if name != "none"
}
"""Unit name -> (dimension, size in the dimension's internal unit: rad, eV^2, GeV);
the table of `globalfit.params`, without ``none`` (a number without unit)."""

_NO_UNIT = ("", "none", "1", None)
OPERATORS = ("<", "<=", ">", ">=")
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}
_NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}

_TOKEN = re.compile(
    r"\s*(?:(?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"|(?P<op><=|>=|<|>)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_.^]*))"
)


def _dimension(unit: str | None) -> tuple[str, float]:
    if unit in _NO_UNIT:
        return ("dimensionless", 1.0)
    if unit not in UNIT_SCALES:
        raise ValueError(
            f"unit {unit!r} is not known (allowed: {', '.join(UNIT_SCALES)} or none)"
        )
    return UNIT_SCALES[unit]


@dataclass(frozen=True)
class Comparison:
    """``parameter OP value`` with ``value`` in the parameter's internal units."""

    parameter: str
    operator: str
    value_internal: float

    def mask(self, values: np.ndarray) -> np.ndarray:
        """Boolean array: which ``values`` (internal units) satisfy the comparison."""
        values = np.asarray(values, dtype=float)
        if self.operator == "<":
            return values < self.value_internal
        if self.operator == "<=":
            return values <= self.value_internal
        if self.operator == ">":
            return values > self.value_internal
        return values >= self.value_internal

    def negated(self) -> Comparison:
        return Comparison(self.parameter, _NEGATE[self.operator], self.value_internal)

    def interval(self) -> tuple[float, float]:
        """The closed interval of internal values allowed (the closure of the set)."""
        if self.operator in ("<", "<="):
            return (-math.inf, self.value_internal)
        return (self.value_internal, math.inf)


@dataclass(frozen=True)
class Region:
    """A named union of boxes; each box is a conjunction of `Comparison`.

    Attributes
    ----------
    name : str
        Name as in the run card (``LMA_D``); `label` is the printed form (``LMA-D``).
    condition : str
        The text it came from (``"th12 >= 45 deg"``, or ``"not (...)"``).
    boxes : tuple of tuple of Comparison
        Disjunctive normal form: a point is inside if it satisfies every comparison of at
        least one box. ``((),)`` is the whole space.
    """

    name: str
    condition: str
    boxes: tuple[tuple[Comparison, ...], ...]

    @property
    def label(self) -> str:
        """Printed name: underscores become hyphens (``LMA_D`` -> ``LMA-D``)."""
        return self.name.replace("_", "-")

    @property
    def parameters(self) -> set[str]:
        return {c.parameter for box in self.boxes for c in box}

    def mask(self, samples: Any, names: Sequence[str] | None = None) -> np.ndarray:
        """Which samples lie in the region.

        Parameters
        ----------
        samples : array (n_samples, n_parameters) or mapping name -> array
            Samples in internal units. A 2-D array needs ``names`` (its column order,
            i.e. ``posterior.names``); a mapping (dict, ``pandas.DataFrame``) is read by name.
        names : sequence of str, optional
            Column names of an array ``samples``.
        """
        columns = _columns(samples, names, self.parameters)
        length = _length(samples, columns)
        inside = np.zeros(length, dtype=bool)
        for box in self.boxes:
            in_box = np.ones(length, dtype=bool)
            for comparison in box:
                in_box &= comparison.mask(columns[comparison.parameter])
            inside |= in_box
        return inside

    def complement(self, name: str | None = None) -> Region:
        """The region's complement (De Morgan, expanded back to a union of boxes)."""
        negated_boxes = [[c.negated() for c in box] for box in self.boxes]
        if any(len(box) == 0 for box in self.boxes):
            boxes: tuple = ()  # complement of the whole space is empty
        else:
            boxes = tuple(tuple(choice) for choice in itertools.product(*negated_boxes))
        return Region(name or f"not {self.name}", f"not ({self.condition})", boxes)

    def box_bounds(self, names: Sequence[str], bounds: np.ndarray) -> list[np.ndarray]:
        """Each box intersected with ``bounds`` (array (n, 2), internal units).

        Returns the non-empty boxes as arrays of shape (n, 2) in the order of ``names``.
        """
        index = {name: i for i, name in enumerate(names)}
        missing = self.parameters - set(index)
        if missing:
            raise ValueError(
                f"region {self.name!r} constrains {sorted(missing)}, which are not sampled "
                f"(sampled: {', '.join(names)})"
            )
        result = []
        for box in self.boxes:
            box_array = np.array(bounds, dtype=float, copy=True)
            for comparison in box:
                low, high = comparison.interval()
                i = index[comparison.parameter]
                box_array[i, 0] = max(box_array[i, 0], low)
                box_array[i, 1] = min(box_array[i, 1], high)
            if np.all(box_array[:, 0] <= box_array[:, 1]):
                result.append(box_array)
        return result

    def same_set(self, other: Region) -> bool:
        """True if both regions are written with the same boxes (order ignored)."""
        return _canonical(self) == _canonical(other)


WHOLE_SPACE = Region("all", "all", ((),))


def _canonical(region: Region) -> frozenset:
    return frozenset(frozenset(box) for box in region.boxes)


def _columns(samples: Any, names: Sequence[str] | None, needed: Iterable[str]) -> dict:
    needed = sorted(needed)
    if isinstance(samples, np.ndarray) or names is not None:
        array = np.atleast_2d(np.asarray(samples, dtype=float))
        if names is None:
            raise ValueError("names: required when samples is an array (its column order)")
        index = {name: i for i, name in enumerate(names)}
        for name in needed:
            if name not in index:
                raise ValueError(
                    f"samples: no column {name!r} (columns: {', '.join(names)})"
                )
        return {name: array[:, index[name]] for name in needed}
    for name in needed:
        if name not in samples:
            raise ValueError(f"samples: no column {name!r} (columns: {', '.join(samples)})")
    return {name: np.asarray(samples[name], dtype=float) for name in needed}


def _length(samples: Any, columns: Mapping[str, np.ndarray]) -> int:
    if columns:
        return len(next(iter(columns.values())))
    if hasattr(samples, "shape"):
        return int(np.shape(samples)[0]) if np.ndim(samples) else 0
    if isinstance(samples, Mapping):
        return len(next(iter(samples.values()))) if samples else 0
    return len(samples)


# --- parsing ----------------------------------------------------------------------------
def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            bad = text[position:].split()[0] if text[position:].split() else text[position:]
            raise ValueError(
                f"region condition {text!r}: cannot read {bad!r} (expected a parameter name, "
                f"an operator {', '.join(OPERATORS)}, a number, a unit, 'and', 'or' or 'not')"
            )
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _parameter_table(parameters: Any) -> dict[str, Any]:
    if isinstance(parameters, Mapping):
        return dict(parameters)
    return {p.name: p for p in parameters}


def _to_internal(parameter: Any, number: float, unit: str | None, text: str) -> float:
    name = parameter.name
    display_unit = getattr(parameter, "unit", None)
    display_dimension, display_scale = _dimension(display_unit)
    if unit is None:
        if display_dimension != "dimensionless":
            raise ValueError(
                f"region condition {text!r}: {name} is in {display_unit}; write the unit "
                f"after the number (allowed: {_units_of(display_dimension)})"
            )
        value_display = number
    else:
        dimension, scale = _dimension(unit)
        if dimension != display_dimension:
            raise ValueError(
                f"region condition {text!r}: unit {unit!r} does not fit {name} "
                f"(in {display_unit or 'no unit'}; allowed: {_units_of(display_dimension)})"
            )
        value_display = number * scale / display_scale
    return float(parameter.to_internal(value_display))


def _units_of(dimension: str) -> str:
    units = [u for u, (d, _) in UNIT_SCALES.items() if d == dimension]
    return ", ".join(units) if units else "no unit"


def _increasing(parameter: Any, value_internal: float) -> bool:
    """Whether the parameter's display -> internal map increases (flip OP otherwise)."""
    probe = float(parameter.from_internal(value_internal))
    step = 1e-6 * max(abs(probe), 1e-12)
    return float(parameter.to_internal(probe + step)) >= value_internal


def _parse_comparison(tokens: list, text: str, table: Mapping[str, Any]) -> Comparison:
    kinds = [kind for kind, _ in tokens]
    reversed_form = bool(kinds) and kinds[0] == "number"
    if reversed_form:  # NUMBER [UNIT] OP NAME
        number, rest = tokens[0][1], tokens[1:]
        unit = rest[0][1] if rest and rest[0][0] == "word" and len(rest) == 3 else None
        rest = rest[1:] if unit is not None else rest
        if len(rest) != 2 or rest[0][0] != "op" or rest[1][0] != "word":
            raise ValueError(_shape_error(text, tokens))
        operator, name = _FLIP[rest[0][1]], rest[1][1]
    else:  # NAME OP NUMBER [UNIT]
        if len(tokens) not in (3, 4) or kinds[:3] != ["word", "op", "number"]:
            raise ValueError(_shape_error(text, tokens))
        name, operator, number = tokens[0][1], tokens[1][1], tokens[2][1]
        unit = tokens[3][1] if len(tokens) == 4 else None
        if len(tokens) == 4 and kinds[3] != "word":
            raise ValueError(_shape_error(text, tokens))
    if name not in table:
        raise ValueError(
            f"region condition {text!r}: unknown parameter {name!r} "
            f"(sampled parameters: {', '.join(table) or 'none'})"
        )
    parameter = table[name]
    value = _to_internal(parameter, float(number), unit, text)
    if not _increasing(parameter, value):
        operator = _FLIP[operator]
    return Comparison(name, operator, value)


def _shape_error(text: str, tokens: list) -> str:
    found = " ".join(value for _, value in tokens) or "nothing"
    return (
        f"region condition {text!r}: cannot read {found!r}; expected "
        f"'<parameter> <op> <number> [unit]' with op one of {', '.join(OPERATORS)} "
        f"and unit one of {', '.join(UNIT_SCALES)} (e.g. 'th12 < 45 deg'), joined by 'and' / 'or'"
    )


def parse_condition(
    condition: str, parameters: Any, name: str | None = None, derived: Sequence[str] = ()
) -> Region:
    """Parse a condition such as ``"th12 < 45 deg and eps_u_ee > -0.5"``.

    Parameters
    ----------
    condition : str
        Comparisons joined by ``and`` / ``or`` (``and`` binds tighter), each optionally
        preceded by ``not`` (see the module docstring for the grammar).
    parameters : sequence of Parameter or mapping name -> Parameter
        Objects with ``name``, display ``unit``, ``to_internal`` and ``from_internal``
        (``posterior.parameters``).
    name : str, optional
        Region name; defaults to the condition text.
    derived : sequence of str
        Further dimensionless names allowed in comparisons (derived quantities,
        ``chi2.<likelihood>``); a region using them can mask samples but cannot restrict
        a profile.

    Returns
    -------
    Region
        A union of boxes.

    Raises
    ------
    ValueError
        Naming the unreadable token and the allowed parameters, operators or units.
    """
    if not isinstance(condition, str) or not condition.strip():
        raise ValueError(f"region condition: expected a non-empty string, got {condition!r}")
    table = _parameter_table(parameters)
    for extra in derived:
        table.setdefault(extra, _Dimensionless(extra))
    boxes = []
    for alternative in _split_words(_tokens(condition), "or", condition):
        box = []
        for group in _split_words(alternative, "and", condition):
            negate = bool(group) and group[0] == ("word", "not")
            comparison = _parse_comparison(group[1:] if negate else group, condition, table)
            box.append(comparison.negated() if negate else comparison)
        boxes.append(tuple(box))
    text = condition.strip()
    return Region(name or text, text, tuple(boxes))


@dataclass(frozen=True)
class _Dimensionless:
    name: str
    unit: None = None

    def to_internal(self, x):
        return x

    def from_internal(self, x):
        return x


def _split_words(tokens: list, word: str, text: str) -> list[list]:
    groups, current = [], []
    for kind, value in tokens:
        if kind == "word" and value.lower() == word:
            if not current:
                raise ValueError(f"region condition {text!r}: {word!r} needs a comparison "
                                 "on each side")
            groups.append(current)
            current = []
        else:
            current.append((kind, value.lower() if value.lower() in ("and", "or", "not")
                            and kind == "word" else value))
    if not current:
        raise ValueError(f"region condition {text!r}: {word!r} needs a comparison on each side")
    groups.append(current)
    return groups


def parse_regions(
    regions: Mapping[str, str] | None, parameters: Any, derived: Sequence[str] = ()
) -> list[Region]:
    """Parse a run card's ``regions:`` block (name -> condition) into `Region` objects."""
    if not regions:
        return []
    if not isinstance(regions, Mapping):
        raise ValueError(f"regions: expected a mapping name -> condition, got {regions!r}")
    return [parse_condition(text, parameters, name, derived) for name, text in regions.items()]


def split_regions(
    condition: str,
    card_regions: Mapping[str, str] | None,
    parameters: Any,
    derived: Sequence[str] = (),
) -> tuple[Region, Region]:
    """The two regions of ``--split condition``: the condition and its complement.

    Each takes the name of a card region describing the same set if there is one
    (``th12 < 45 deg`` -> ``LMA``; its complement ``th12 >= 45 deg`` -> ``LMA_D``), else
    ``condition`` and ``not condition``.
    """
    inside = parse_condition(condition, parameters, derived=derived)
    outside = inside.complement(f"not {inside.name}")
    named = parse_regions(card_regions, parameters, derived)
    for region in named:
        if region.same_set(inside):
            inside = Region(region.name, region.condition, inside.boxes)
        elif region.same_set(outside):
            outside = Region(region.name, region.condition, outside.boxes)
    return inside, outside
