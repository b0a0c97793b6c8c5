"""Official data releases by name: the manifest, the data folder, download and verification.

The manifest ``globalfit/releases.yaml`` lists every public release a likelihood can read
(COHERENT, KamLAND and the reactor tables, Super-K, SNO, solar models, IceCube DeepCore,
DUNE fluxes): where it comes from, its licence, and each file with its download URL, size
and SHA-256. Releases live in the data folder (`globalfit.paths.releases_dir`: the user data
folder, or ``$GLOBALFIT_DATA``), one sub-folder per release named as in the manifest.

* `fetch` downloads a release with `pooch` (retries; each file goes to a temporary file in
  the release folder and is moved into place only when its SHA-256 matches, so a partial or
  corrupted download never stays); ``mirror=URL`` (or ``$GLOBALFIT_DATA_MIRROR``) fetches the
  same files from ``URL/<release>/<file>``.
* `verify` compares the files on disk with the manifest.
* `release_option` is what likelihoods call for ``release: NAME`` in a run card (beside an
  explicit ``release_path:``); a release that is not there is an error that prints the
  ``globalfit data fetch NAME`` command.
* `releases_read` tells a run's provenance which release each file it read belongs to.
"""
from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from globalfit.likelihood import file_sha256
from globalfit.paths import RELEASES_ENV, releases_dir

MIRROR_ENV = "GLOBALFIT_DATA_MIRROR"
"""Environment variable naming a mirror (used when ``--mirror`` is not given)."""
DOWNLOAD_RETRIES = 2
"""Extra download attempts after a failed one (network error or checksum mismatch)."""


class ReleaseError(ValueError):
    """A release is unknown, missing, incomplete or cannot be downloaded."""


class ChecksumMismatch(ReleaseError):
    """A file's SHA-256 differs from the manifest."""

    def __init__(self, release: str, file: str, expected: str, received: str, detail: str = ""):
        self.release, self.file, self.expected, self.received = release, file, expected, received
        super().__init__(f"release {release!r}: checksum mismatch for {file}: expected sha256 "
                         f"{expected}, received {received}{detail}")


@dataclass(frozen=True)
class ReleaseFile:
    """One file of a release, as listed in the manifest."""

    name: str
    bytes: int
    sha256: str
    url: str | None
    url_checked: bool
    note: str = ""


@dataclass(frozen=True)
class Release:
    """One official data release (an entry of ``releases.yaml``)."""

    name: str
    title: str
    reference: str
    source: str
    licence: str
    files: tuple[ReleaseFile, ...]

    @property
    def total_bytes(self) -> int:
        return sum(f.bytes for f in self.files)

    def folder(self, root: Path | None = None) -> Path:
        """Where this release lives in the data folder ``root`` (default `releases_dir`)."""
        return (releases_dir() if root is None else Path(root)) / self.name


@dataclass(frozen=True)
class FileCheck:
    """Result of checking one file on disk against the manifest."""

    release: str
    file: str
    path: Path
    status: str
    """``ok``, ``missing``, ``size`` (wrong size), ``checksum`` (wrong SHA-256) or
    ``mirror-only`` (absent, but the file has no official URL: optional)."""
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.status in ("ok", "mirror-only")


@lru_cache(maxsize=1)
def manifest() -> dict[str, Release]:
    """All releases of the manifest, by name."""
    text = resources.files("globalfit").joinpath("releases.yaml").read_text()
    entries = yaml.safe_load(text)["releases"]
    return {name: Release(name=name, title=entry["title"], reference=entry["reference"],
                          source=entry["source"], licence=entry["licence"],
                          files=tuple(ReleaseFile(name=file, bytes=int(spec["bytes"]),
                                                  sha256=spec["sha256"], url=spec.get("url"),
                                                  url_checked=bool(spec.get("url_checked")),
                                                  note=spec.get("note", ""))
                                      for file, spec in entry["files"].items()))
            for name, entry in entries.items()}


def get(name: str) -> Release:
    """The release called ``name``; an unknown name is an error listing the known ones."""
    releases = manifest()
    if name in releases:
        return releases[name]
    close = difflib.get_close_matches(str(name), releases, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ReleaseError(f"unknown data release {name!r}{hint} (known: {', '.join(releases)}; "
                       "see `globalfit data list`)")


def fetch_command(name: str) -> str:
    """The command that downloads release ``name``."""
    return f"globalfit data fetch {name}"


# --- on disk -----------------------------------------------------------------------------
def check_files(name: str, root: Path | None = None, *, checksums: bool = True) -> list[FileCheck]:
    """Compare the files of release ``name`` in the data folder with the manifest.

    ``checksums=False`` checks presence and size only (cheap: used when a run loads a release;
    ``globalfit data verify`` checks the SHA-256 as well).
    """
    release = get(name)
    folder = release.folder(root)
    checks = []
    for entry in release.files:
        path = folder / entry.name
        if not path.is_file():
            status = "missing" if entry.url else "mirror-only"
            checks.append(FileCheck(name, entry.name, path, status))
            continue
        size = path.stat().st_size
        if size != entry.bytes:
            checks.append(FileCheck(name, entry.name, path, "size",
                                    f"{size} bytes, expected {entry.bytes}"))
            continue
        if checksums:
            digest = file_sha256(path)
            if digest != entry.sha256:
                checks.append(FileCheck(name, entry.name, path, "checksum",
                                        f"sha256 {digest}, expected {entry.sha256}"))
                continue
        checks.append(FileCheck(name, entry.name, path, "ok"))
    return checks


def verify(names: Iterable[str] | None = None, root: Path | None = None) -> list[FileCheck]:
    """SHA-256 check of the named releases (default: every release with a folder in ``root``)."""
    base = releases_dir() if root is None else Path(root)
    if names is None:
        names = [name for name in manifest() if (base / name).is_dir()]
    return [check for name in names for check in check_files(name, base)]


def release_folder(name: str, option: str = "release") -> Path:
    """Folder of release ``name`` in the data folder, for a run card's ``release: NAME``.

    Raises
    ------
    ReleaseError
        If ``name`` is unknown, or a file of the release is missing or has the wrong size:
        the message names the option, the data folder and the exact fetch command.
    """
    try:
        release = get(name)
    except ReleaseError as error:
        raise ReleaseError(f"{option}: {error}") from None
    checks = check_files(name, checksums=False)
    bad = [c for c in checks if not c.passed]
    if bad:
        if all(c.status in ("missing", "mirror-only") for c in checks):
            listed = "absent"
        else:
            listed = ", ".join(f"{c.file} ({c.status}{': ' + c.detail if c.detail else ''})"
                               for c in bad[:4]) + (f" and {len(bad) - 4} more" if len(bad) > 4 else "")
        raise ReleaseError(
            f"{option}: data release {name!r} is not in the data folder: {release.folder()} "
            f"({listed}); download it with:\n    {fetch_command(name)}\n"
            f"(the data folder is ${RELEASES_ENV} if set, else the user data folder)")
    return release.folder()


def release_option(options: Mapping, owner: str, *, release_key: str = "release",
                   path_key: str = "release_path", file: str | None = None):
    """A likelihood's input given either way in its options: ``path_key`` (an explicit path,
    returned as given) or ``release_key`` (a release name, resolved in the data folder to the
    release folder, or to ``file`` inside it); ``None`` when neither is given.

    Raises
    ------
    ReleaseError
        If both are given, or the named release is unknown or not in the data folder (the
        message prints the ``globalfit data fetch NAME`` command).
    """
    name, path = options.get(release_key), options.get(path_key)
    if name is not None and path is not None:
        raise ReleaseError(f"{owner}: give {release_key}: (a release name) or {path_key}: "
                           f"(a path), not both ({name!r} and {str(path)!r})")
    if name is None:
        return path
    folder = release_folder(str(name), option=f"{owner}.{release_key}")
    if file is None:
        return folder
    if not (folder / file).is_file():  # an optional (mirror-only) file of the release
        raise ReleaseError(f"{owner}.{release_key}: {folder / file} is not there: no official URL "
                           f"serves it; get it from a mirror with:\n    {fetch_command(name)} "
                           f"--mirror URL")
    return folder / file


# --- download ----------------------------------------------------------------------------
def mirror_from_environment(mirror: str | None = None) -> str | None:
    """``mirror`` if given, else ``$GLOBALFIT_DATA_MIRROR`` (``None`` when neither is set)."""
    if mirror:
        return mirror
    return os.environ.get(MIRROR_ENV, "").strip() or None


def file_url(release: Release, entry: ReleaseFile, mirror: str | None) -> str | None:
    """Download URL of one file: ``<mirror>/<release>/<file>`` or the manifest's URL."""
    if mirror:
        return f"{mirror.rstrip('/')}/{release.name}/{entry.name}"
    return entry.url


def fetch(name: str, *, mirror: str | None = None, root: Path | None = None,
          retries: int = DOWNLOAD_RETRIES) -> list[FileCheck]:
    """Download release ``name`` into the data folder; files already correct are kept.

    A local file with the wrong size or checksum is removed before it is downloaded again.
    Each download goes to a temporary file in the release folder and replaces the target
    only if its SHA-256 matches the manifest (`pooch`), so no partial or corrupted file is
    left in place.

    Files without an official URL (``url: null`` in the manifest: e.g. a truncated copy)
    come only from a mirror; without one they are skipped (status ``mirror-only``).

    Raises
    ------
    ChecksumMismatch
        A downloaded file's SHA-256 differs from the manifest (nothing is written).
    ReleaseError
        The download failed.
    """
    import pooch  # deferred: only downloads need it (and requests)

    release = get(name)
    mirror = mirror_from_environment(mirror)
    folder = release.folder(root)
    wanted = [f for f in release.files if file_url(release, f, mirror) is not None]
    for check in check_files(name, root):
        if check.status in ("size", "checksum"):
            check.path.unlink()
    registry = {f.name: f"sha256:{f.sha256}" for f in wanted}
    urls = {f.name: file_url(release, f, mirror) for f in wanted}
    store = pooch.create(path=folder, base_url="", registry=registry, urls=urls,
                         retry_if_failed=retries)
    downloader = pooch.HTTPDownloader(progressbar=False, timeout=60)
    for entry in wanted:
        try:
            store.fetch(entry.name, downloader=downloader)
        except ValueError as error:
            raise _checksum_error(name, entry, error) from None
        except OSError as error:  # requests' errors derive from OSError
            raise ReleaseError(f"release {name!r}: could not download {entry.name} from "
                               f"{urls[entry.name]}: {error}") from None
    return check_files(name, root)


def _checksum_error(name: str, entry: ReleaseFile, error: ValueError) -> ReleaseError:
    """Our error for pooch's hash-mismatch ``ValueError`` (expected and received hash)."""
    found = re.search(r"expected (?:sha256:)?([0-9a-fA-F]{64}) but got ([0-9a-fA-F]{64})", str(error))
    if found is None:
        return ReleaseError(f"release {name!r}: {entry.name}: {error}")
    return ChecksumMismatch(name, entry.name, found.group(1), found.group(2),
                            " (download refused; nothing was written)")


# --- provenance --------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _by_checksum() -> dict[str, tuple[str, str]]:
    return {f.sha256: (r.name, f.name) for r in manifest().values() for f in r.files}


def releases_read(files: Iterable[Path]) -> dict[str, dict]:
    """Which official releases a run read: ``{release: {"files": {file: sha256}, ...}}``.

    A file belongs to a release when it sits in a folder named as the release under a file
    name of the manifest (a modified copy included), or when its SHA-256 is in the manifest;
    ``matches_manifest`` says whether every file read has the manifest's checksum.
    """
    found: dict[str, dict] = {}
    releases = manifest()
    for path in files:
        path = Path(path)
        if not path.is_file():
            continue
        digest = file_sha256(path)
        name, file = path.parent.name, path.name
        release = releases.get(name)
        if release is None or file not in {f.name for f in release.files}:
            if digest not in _by_checksum():
                continue
            name, file = _by_checksum()[digest]
            release = releases[name]
        expected = next(f.sha256 for f in release.files if f.name == file)
        record = found.setdefault(name, {"folder": str(path.parent), "files": {},
                                         "matches_manifest": True})
        record["files"][file] = digest
        record["matches_manifest"] = record["matches_manifest"] and digest == expected
    return found
