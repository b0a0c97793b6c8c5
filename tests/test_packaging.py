"""What a wheel ships: every Python package, the built-in data and the example cards.

The full check (build the wheel, install it in a fresh virtual environment, run the default
card from an empty folder) is a step of ``.ci/run``; these tests keep the packaging
configuration in step with the source tree.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from globalfit import paths

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parents[1]


def _setuptools_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def _packages_on_disk() -> set[str]:
    found = set()
    for top in ("globalfit", "likelihoods"):
        for init in (ROOT / top).rglob("__init__.py"):
            if "__pycache__" not in init.parts:
                found.add(".".join(init.parent.relative_to(ROOT).parts))
    for top, package in (("data", "globalfit.data"), ("configs", "globalfit.configs")):
        found.add(package)
        for folder in (ROOT / top).rglob("*"):
            if folder.is_dir() and "__pycache__" not in folder.parts:
                found.add(".".join((package, *folder.relative_to(ROOT / top).parts)))
    return found


def test_every_package_and_data_folder_is_listed_in_pyproject():
    """A new sub-package or data folder missing from ``packages`` would be left out of the
    wheel: the list in pyproject.toml must equal the source tree."""
    listed = set(_setuptools_config()["packages"])
    on_disk = _packages_on_disk()
    assert on_disk - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert listed - on_disk == set(), "these are listed in pyproject.toml but do not exist"


def test_data_and_configs_are_mapped_into_the_package():
    config = _setuptools_config()
    assert config["package-dir"] == {"globalfit.data": "data", "globalfit.configs": "configs"}
    assert "releases.yaml" in config["package-data"]["globalfit"]


def test_builtin_folders_hold_the_data_and_the_default_card():
    assert paths.builtin_data_dir() == ROOT / "data"
    assert (paths.example_cards_dir() / "default.yaml").is_file()
    assert paths.data_path("oscillation", "nufit52.yaml").is_file()


def test_missing_builtin_file_names_the_path():
    try:
        paths.data_path("solar", "no_such_table.yaml")
    except FileNotFoundError as error:
        assert "no_such_table.yaml" in str(error)
    else:
        raise AssertionError("a missing built-in file must raise")


def test_releases_folder_follows_globalfit_data(monkeypatch, tmp_path):
    monkeypatch.setenv(paths.RELEASES_ENV, str(tmp_path))
    assert paths.releases_dir() == tmp_path
    monkeypatch.delenv(paths.RELEASES_ENV)
    import platformdirs

    assert paths.releases_dir() == platformdirs.user_data_path("globalfit")


def test_no_module_builds_a_data_path_by_hand():
    """Paths relative to a module's ``__file__`` break in a wheel (data/ moves into the
    package): every module asks `globalfit.paths`."""
    offenders = []
    for top in ("globalfit", "likelihoods"):
        for module in (ROOT / top).rglob("*.py"):
            if module == ROOT / "globalfit" / "paths.py":
                continue
            for number, line in enumerate(module.read_text().splitlines(), 1):
                if "__file__" in line and ('"data"' in line or '"configs"' in line):
                    offenders.append(f"{module.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == [], "use globalfit.paths.data_path / example_cards_dir"
