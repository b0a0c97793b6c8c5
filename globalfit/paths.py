"""Where globalfit finds its files: the one place every module asks.

Two kinds of data, two roots:

* **Built-in data** (`builtin_data_dir`, `data_path`): the tables the project writes from
  published numbers (``data/`` at the top of the source tree), and the example run cards
  (`example_cards_dir`, ``configs/``). A wheel ships both inside the package
  (``globalfit/data``, ``globalfit/configs``) and they are found with `importlib.resources`;
  a source checkout (editable install) reads the top-level folders. Nothing overrides them.
* **Official releases** (`releases_dir`): public data releases downloaded by
  ``globalfit data fetch NAME`` (see `globalfit.releases`), one folder per release. The
  folder is the user data folder of `platformdirs` (e.g. ``~/.local/share/globalfit`` on
  Linux), or ``$GLOBALFIT_DATA`` when that is set.
"""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import platformdirs

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""Top of the source tree (a checkout) or the ``site-packages`` folder (a wheel)."""
RELEASES_ENV = "GLOBALFIT_DATA"
"""Environment variable naming the folder of the official releases."""
CHAINS_DIR = Path("chains")


def _packaged_or_source(folder: str) -> Path:
    """``globalfit/<folder>`` inside an installed wheel, else ``<checkout>/<folder>``."""
    packaged = resources.files("globalfit").joinpath(folder)
    if packaged.is_dir():
        return Path(str(packaged))
    source = PROJECT_ROOT / folder
    if source.is_dir():
        return source
    raise FileNotFoundError(
        f"globalfit's built-in folder {folder!r} is missing: neither {packaged} (installed "
        f"package) nor {source} (source checkout) exists; reinstall globalfit")


def builtin_data_dir() -> Path:
    """The built-in data folder (``data/`` of the source tree, ``globalfit/data`` of a wheel)."""
    return _packaged_or_source("data")


def example_cards_dir() -> Path:
    """The example run cards (``configs/`` of the source tree, ``globalfit/configs`` of a wheel)."""
    return _packaged_or_source("configs")


DATA_DIR = builtin_data_dir()
CONFIG_DIR = example_cards_dir()


def data_path(*parts: str) -> Path:
    """Path of a built-in data file, e.g. ``data_path("solar", "spectra.yaml")``.

    Raises
    ------
    FileNotFoundError
        If the file is not part of the built-in data.
    """
    path = DATA_DIR.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"built-in data file {path} not found (globalfit's data folder "
                                f"is {DATA_DIR}; reinstall globalfit if a file is missing)")
    return path


def releases_dir() -> Path:
    """Folder holding the official data releases, one sub-folder per release.

    ``$GLOBALFIT_DATA`` if set (and not empty), else the user data folder given by
    ``platformdirs.user_data_path("globalfit")``. The folder need not exist yet.
    """
    override = os.environ.get(RELEASES_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    return platformdirs.user_data_path("globalfit")
