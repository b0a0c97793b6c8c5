"""Where globalfit finds its own data, run cards and default output.

``data/`` and ``configs/`` sit at the top of the source tree (install with ``pip install -e .``).
Set ``GLOBALFIT_DATA`` to use another copy of ``data/``.
"""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("GLOBALFIT_DATA", PROJECT_ROOT / "data"))
CONFIG_DIR = PROJECT_ROOT / "configs"
CHAINS_DIR = Path("chains")


def data_path(*parts: str) -> Path:
    """Path of a file in the project's ``data/`` folder; a clear error if it is missing."""
    path = DATA_DIR.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"data file {path} not found (GLOBALFIT_DATA={DATA_DIR})")
    return path


def shared_data_dir() -> Path | None:
    """``../shared/data`` beside the checkout (public releases used by tests), if present."""
    candidate = PROJECT_ROOT.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None
