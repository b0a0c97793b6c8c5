"""The one reader of the project's own YAML data files, and a recorder of what is read.

Every likelihood and physics module reads ``data/**/*.yaml`` through `read_yaml`. Normally
it is `globalfit.safe_yaml.load_yaml_file` (``yaml.safe_load`` that refuses duplicate keys,
alias bombs and oversized files, naming the file and line). Inside ``with recording() as reads:`` the mappings
it returns remember which keys the caller takes, so that ``globalfit inputs`` can list, from
the code itself rather than from a hand-written list, every number a likelihood reads on its
default path (`globalfit.inputs`).

A *quantity* is a leaf of the YAML tree that holds a number or a list of numbers; it is
named by its dotted key path (``samples.nue_fhc.predicted``; list items that are mappings
add their index, ``sources.0.rate``). A quantity counts as read when the caller takes it out
of its mapping (``[]``, ``get``, ``items``, ``values``, ``dict(...)``); a list of numbers is
read as a whole, which errs on the side of listing too much.

Physics modules that need one published number (a cross-section slope, a nuclear mass) take
it with `data_value`, which reads the file once (cached) and raises `MissingQuantityError`
naming the file and the key when it is absent: there is no default in the code.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from globalfit.safe_yaml import load_yaml_file

_RECORDERS: list[set[tuple[str, str]]] = []
"""Stack of active recorders: sets of (file, dotted key) pairs."""


def read_yaml(path: str | Path) -> Any:
    """Read one of the project's YAML data files (`globalfit.safe_yaml.load_yaml_file`).

    Parameters
    ----------
    path : str or Path
        The data file.

    Returns
    -------
    The parsed content; inside `recording`, mappings are `RecordingDict` (a ``dict``).
    """
    path = Path(path)
    content = load_yaml_file(path, what="data file")
    if not _RECORDERS or not isinstance(content, dict):
        return content
    return RecordingDict(content, str(path.resolve()), "")


@contextlib.contextmanager
def recording() -> Iterator[set[tuple[str, str]]]:
    """Record the quantities read through `read_yaml` while the block runs.

    Yields
    ------
    set of (str, str)
        Filled with ``(absolute file path, dotted key)`` of every quantity read.
    """
    reads: set[tuple[str, str]] = set()
    _RECORDERS.append(reads)
    try:
        yield reads
    finally:
        del _RECORDERS[next(i for i, r in enumerate(_RECORDERS) if r is reads)]


def recording_active() -> bool:
    """True inside `recording` (a cached value would then hide a read from the inventory)."""
    return bool(_RECORDERS)


def _note(file: str, key: str) -> None:
    for reads in _RECORDERS:
        reads.add((file, key))


def is_number(value: Any) -> bool:
    """True for an int or float (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_quantity(value: Any) -> bool:
    """True for a number or a (nested) list of numbers: a leaf the inventory lists."""
    if isinstance(value, list):
        return bool(value) and all(is_quantity(item) for item in value)
    return is_number(value)


def _wrap(value: Any, file: str, key: str) -> Any:
    if isinstance(value, dict):
        return RecordingDict(value, file, key)
    if is_quantity(value):
        _note(file, key)
        return value
    if isinstance(value, list):
        return [_wrap(item, file, f"{key}.{index}") for index, item in enumerate(value)]
    return value


class RecordingDict(dict):
    """A ``dict`` that notes each quantity taken out of it (see the module docstring)."""

    def __init__(self, content: dict, file: str, prefix: str):
        super().__init__(content)
        self._file = file
        self._prefix = prefix

    def _child(self, key: Any, value: Any) -> Any:
        name = f"{self._prefix}.{key}" if self._prefix else str(key)
        return _wrap(value, self._file, name)

    def __getitem__(self, key):
        return self._child(key, super().__getitem__(key))

    def get(self, key, default=None):
        return self[key] if key in self else default  # noqa: SIM401 (records the read)

    def __iter__(self):
        return iter(list(super().keys()))

    def items(self):
        return [(key, self[key]) for key in super().keys()]  # noqa: SIM118 (dict's own keys)

    def values(self):
        return [self[key] for key in super().keys()]  # noqa: SIM118 (dict's own keys)

    def pop(self, key, *default):
        value = self[key] if key in self else (default[0] if default else self[key])
        super().pop(key, None)
        return value

    def copy(self):
        return RecordingDict(dict(super().items()), self._file, self._prefix)


class MissingQuantityError(KeyError):
    """A physics quantity a module needs is missing from its data file (the message names both)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@cache
def _cached_content(path: str) -> Any:
    """Plain content of a data file, read once per process."""
    return load_yaml_file(Path(path), what="data file")


def data_value(path: str | Path, key: str) -> Any:
    """The quantity at dotted ``key`` of data file ``path`` (list items by index).

    The file is read once per process (the loader of `read_yaml`, cached); inside `recording`
    every call records ``key`` (as `read_yaml` would), so the inventory lists it for each
    likelihood that takes it, whenever the file was first read.

    Raises
    ------
    MissingQuantityError
        If ``key`` (or a part of it) is not in the file: there is no default in the code.
    """
    if not _RECORDERS:
        return _plain_value(str(path), key)
    # wrapped at each call, so that a value cached before `recording` began is still recorded
    return _lookup(RecordingDict(_cached_content(str(path)), str(Path(path).resolve()), ""), key, path)


@cache
def _plain_value(path: str, key: str) -> Any:
    """`data_value` outside `recording`: cached per (file, key), a few hundred ns a call."""
    return _lookup(_cached_content(path), key, path)


def _lookup(node: Any, key: str, path: str | Path) -> Any:
    done = []
    for part in key.split("."):
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise MissingQuantityError(
                f"{path}: physics quantity {key!r} is missing (no {'.'.join(done + [part])!r}); add it to the "
                f"file with its provenance (provenance.quantities), there is no default in the code") from None
        done.append(part)
    return node
