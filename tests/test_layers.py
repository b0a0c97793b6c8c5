"""The layers do not know the layers above them (docs/architecture.md).

Every ``import`` statement of the package is read with `ast` (module level and inside
functions alike): physics knows no experiment, sampler, command line or API; likelihoods
know no sampler, command line or API.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "globalfit/physics": ("likelihoods", "globalfit.samplers", "globalfit.cli", "globalfit.api"),
    "likelihoods": ("globalfit.samplers", "globalfit.cli", "globalfit.api"),
}
"""Folder -> modules (and their submodules) its files must not import."""


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``; relative imports are
    resolved against the file's package, ``from pkg import name`` also counts as
    ``pkg.name`` (it may be a submodule)."""
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package[: len(package) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return sorted(found)


def violations(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    out = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for line, module in imported_modules(path):
            if any(module == f or module.startswith(f + ".") for f in forbidden):
                out.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return out


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_layer_imports_only_downwards(folder):
    assert (ROOT / folder).is_dir()
    assert violations(folder, FORBIDDEN[folder]) == []


def test_the_checker_sees_function_level_and_relative_imports(tmp_path, monkeypatch):
    """A checker that cannot fail proves nothing: plant each kind of violation."""
    physics = tmp_path / "globalfit" / "physics"
    physics.mkdir(parents=True)
    (physics / "bad.py").write_text(
        "import numpy as np\n"
        "def f():\n"
        "    from likelihoods.solar import SolarLikelihood\n"
        "    return SolarLikelihood\n"
        "from ..samplers import emcee_sampler\n"
        "from globalfit import api\n"
    )
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    found = violations("globalfit/physics", FORBIDDEN["globalfit/physics"])
    assert found == ["globalfit/physics/bad.py:3 imports likelihoods.solar",
                     "globalfit/physics/bad.py:3 imports likelihoods.solar.SolarLikelihood",
                     "globalfit/physics/bad.py:5 imports globalfit.samplers",
                     "globalfit/physics/bad.py:5 imports globalfit.samplers.emcee_sampler",
                     "globalfit/physics/bad.py:6 imports globalfit.api"]
