"""Reading YAML that a user (or a damaged run folder) hands us, safely.

`load_yaml_file` is ``yaml.safe_load`` with the limits a hostile or broken file needs:

* a size cap (`MAX_CARD_BYTES`, 1 MB): a run card is a few kB; a larger file is refused
  before it is parsed (a 200 MB description would otherwise be parsed for a minute and
  copied into every run folder);
* UTF-8 only: a file in another encoding is refused with its name and the byte offset;
* duplicate keys in one mapping are refused with both line numbers (YAML itself keeps the
  last one silently: a duplicated ``th12`` without ``unit`` would change the prior);
* aliases (``&a`` / ``*a``) may not expand the document by more than
  `MAX_ALIAS_EXPANSION` nodes, and may not refer to themselves (an "alias bomb" of a few
  hundred bytes otherwise expands to gigabytes as soon as a message prints the value);
* every problem is a `YamlFileError` (a ``ValueError``) whose message names the file, the
  line where known, and the fix.

`short` is the one way messages show a user's value: ``reprlib`` with limits, so that no
message grows with the value it quotes.
"""
from __future__ import annotations

import reprlib
from pathlib import Path
from typing import Any

import yaml

MAX_CARD_BYTES = 1_000_000
"""Largest YAML file read (bytes)."""
MAX_ALIAS_EXPANSION = 10_000
"""Most nodes that aliases may add to a document when it is expanded."""
MAX_MESSAGE_CHARS = 400
"""Longest single message line built from a user's value (`shorten`)."""

_REPR = reprlib.Repr()
_REPR.maxstring = 80
_REPR.maxother = 80
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 8
_REPR.maxlevel = 3
_MERGE_TAG = "tag:yaml.org,2002:merge"


class YamlFileError(ValueError):
    """A YAML file that cannot be read safely; the message names the file and the fix."""


def short(value: Any) -> str:
    """``repr(value)``, shortened (long strings, long or deeply nested containers) so that
    a message quoting a user's value stays one readable line."""
    try:
        return _REPR.repr(value)
    except Exception:  # a repr that fails must not hide the message it belongs to
        return f"<{type(value).__name__}>"


def shorten(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` cut to ``limit`` characters (with a note of how much was left out)."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... [{len(text) - limit} more characters]"


class _CheckedLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (both lines named) and alias bombs."""

    def construct_document(self, node):
        _check_expansion(node, self.name)
        return super().construct_document(node)

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == _MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=True)
                line = key_node.start_mark.line + 1
                try:
                    first = seen.get(key)
                except TypeError:
                    continue  # unhashable key: SafeConstructor reports it
                seen[key] = line
                if first is not None:
                    raise YamlFileError(
                        f"{self.name}: line {line}: duplicate key {short(key)} (first given "
                        f"on line {first}); YAML would silently keep only the last one: "
                        f"remove one of them")
        return super().construct_mapping(node, deep=deep)


def _check_expansion(root, name: str) -> None:
    """Refuse a node graph whose aliases add more than `MAX_ALIAS_EXPANSION` nodes when
    expanded, or that contains itself."""
    expanded: dict[int, int] = {}
    distinct: set[int] = set()
    active: set[int] = set()

    def size(node) -> int:
        key = id(node)
        if key in expanded:
            return expanded[key]
        if key in active:
            raise YamlFileError(f"{name}: line {node.start_mark.line + 1}: an alias refers to "
                                f"the node that contains it (a recursive structure); write "
                                f"the value out instead")
        distinct.add(key)
        if isinstance(node, yaml.ScalarNode):
            expanded[key] = 1
            return 1
        active.add(key)
        children = (node.value if isinstance(node, yaml.SequenceNode)
                    else [n for pair in node.value for n in pair])
        total = 1 + sum(size(child) for child in children)
        active.discard(key)
        expanded[key] = total
        if total - len(distinct) > MAX_ALIAS_EXPANSION:
            raise YamlFileError(
                f"{name}: line {node.start_mark.line + 1}: aliases (*name) expand this "
                f"document by more than {MAX_ALIAS_EXPANSION} nodes (an 'alias bomb'); write "
                f"the values out or use fewer nested aliases")
        return total

    size(root)


def load_yaml_text(text: str, name: str = "<string>") -> Any:
    """Parse ``text`` as one YAML document with the checks of `load_yaml_file`.

    Raises
    ------
    YamlFileError
        Duplicate keys, an alias bomb or recursive alias, or a YAML syntax error (with
        the line); the message starts with ``name``.
    """
    loader = None
    try:
        loader = _CheckedLoader(text)  # the reader checks the characters here
        loader.name = name
        return loader.get_single_data()
    except YamlFileError:
        raise
    except yaml.YAMLError as error:
        raise YamlFileError(f"{name}: not valid YAML: {shorten(_yaml_message(error))}") from None
    except RecursionError:
        raise YamlFileError(f"{name}: nested too deeply to read; flatten the structure") from None
    finally:
        if loader is not None:
            loader.dispose()


def _yaml_message(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.reader.ReaderError):
        return (f"character {error.character!r} at position {error.position} is not allowed "
                f"in YAML")
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None)
    if mark is not None and problem:
        context = getattr(error, "context", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}"
        return f"{where}: {problem}" + (f" ({context})" if context else "")
    return " ".join(str(error).split())


def read_text_file(path: str | Path, what: str = "file",
                   max_bytes: int = MAX_CARD_BYTES) -> str:
    """The text of a small UTF-8 file, refused (`YamlFileError`) if larger than
    ``max_bytes`` or not UTF-8; ``FileNotFoundError`` if it is not a file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} not found" + (
            " (it is a folder)" if path.is_dir() else ""))
    with open(path, "rb") as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise YamlFileError(f"{path}: {what} is larger than {max_bytes // 1000} kB; a {what} "
                            f"holds settings, not data (put data in files it names)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise YamlFileError(f"{path}: {what} is not UTF-8 text (byte {error.start}: "
                            f"{data[error.start:error.start + 4]!r}); save it as UTF-8"
                            ) from None


def load_yaml_file(path: str | Path, what: str = "file",
                   max_bytes: int = MAX_CARD_BYTES) -> Any:
    """Read one YAML document from ``path`` with the limits of this module.

    Parameters
    ----------
    path : path
    what : str
        What the file is, for messages ("run card", "run folder's config.yaml").
    max_bytes : int
        Size cap (default `MAX_CARD_BYTES`).

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a file.
    YamlFileError
        Too large, not UTF-8, not valid YAML, duplicate keys, alias bomb.
    """
    text = read_text_file(path, what, max_bytes)
    return load_yaml_text(text, str(path))
