"""Experiment plug-ins for globalfit: one module per experiment family.

Each module owns its data (under ``data/<experiment>/``, with provenance) and its forward
model, uses the engines in ``globalfit.physics``, and knows nothing of samplers.

``BUILTIN`` maps the names used in run cards to ``module:Class``. It is found, not written:
every public class of a module in this folder with a class attribute ``name = "<card
name>"`` is a likelihood under that name (`discover`). Adding a likelihood is adding its
module; nothing here changes. The modules are read as text, not imported, so a broken module
breaks only the cards that use it (with an error naming the card key).
"""
from __future__ import annotations

import re
from pathlib import Path

FOLDER = Path(__file__).resolve().parent
_CLASS = re.compile(r"class (\w+)\b")
_NAME = re.compile(r"    name(?: *: *\w+)? *= *([\"'])(\w+)\1 *(?:#.*)?$")
"""A top-level class statement, and a ``name = "..."`` statement in a class body."""


def discover(folder: Path = FOLDER, package: str = __name__) -> dict[str, str]:
    """Card name -> ``package.module:Class`` of the likelihood classes in ``folder``: public
    top-level classes whose body sets ``name = "<card name>"`` (modules starting with ``_``
    are skipped).

    Raises
    ------
    ValueError
        If two classes claim the same name.
    """
    table: dict[str, str] = {}
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        current = None
        for line in path.read_text().splitlines():
            if line[:1] not in ("", " ", "#", ")"):  # a new top-level statement
                match = _CLASS.match(line)
                current = match.group(1) if match and not match.group(1).startswith("_") else None
                continue
            match = _NAME.match(line) if current else None
            if match is None:
                continue
            target = f"{package}.{path.stem}:{current}"
            if match.group(2) in table:
                raise ValueError(f"likelihood name {match.group(2)!r}: claimed by "
                                 f"{table[match.group(2)]} and {target}; rename one (class "
                                 f"attribute `name`)")
            table[match.group(2)] = target
            current = None  # one name per class
    return table


BUILTIN = discover()
