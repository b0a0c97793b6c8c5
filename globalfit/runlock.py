"""One writer per run folder: an exclusive lock held for the whole life of ``run`` / ``resume``.

`RunLock` takes ``RUN_DIR/.globalfit.lock`` with ``flock(LOCK_EX | LOCK_NB)`` and writes its
owner into it (pid, host, command, start time, UTC). A second writer gets `RunLockError`
naming the owner, at once (it never waits and never touches the run's files). The kernel
releases a ``flock`` when its process dies however it dies (``kill -9``, a crashed node),
so a lock file left behind by a dead process is *stale*: the next writer detects it, names
the dead owner, and takes the lock over (nothing to delete by hand). Where ``flock`` is not
available (some network file systems refuse it), the lock is refused with the fix rather
than silently skipped.

`FreshRunFolder` is the other half of "nothing is lost": a new run's folder is either left
holding a chain with at least one saved step, or removed again (with what the failed start
wrote into it), so that a failed start never leaves a stub run that ``run`` then refuses
and ``table`` reports as "0 steps".

`check_output_writable` checks, before any data are loaded, that the output folder can be
created and written and has room for the first checkpoint.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timezone
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

LOCK_FILE = ".globalfit.lock"
"""Lock file inside a run folder (never part of the run's results)."""
MIN_FREE_BYTES = 4_000_000
"""Free space a new run needs before it starts: its first checkpoint (chain.h5 with HDF5's
chunk allocation, config.yaml, provenance.json, diagnostics.json) with a margin."""


class RunLockError(RuntimeError):
    """The run folder is being written by another process (or cannot be locked)."""


def describe_owner(owner: dict) -> str:
    """The owner of a lock, as messages name it: command, process, host, start (UTC)."""
    pid, host = owner.get("pid", "?"), owner.get("host", "?")
    command = owner.get("command") or "globalfit"
    since = owner.get("started", "?")
    return f"`{command}` (process {pid} on host {host}, since {since})"


def read_owner(run_dir: str | Path) -> dict | None:
    """The owner recorded in ``run_dir``'s lock file (None if there is none or it is
    unreadable). The lock may be stale: see `RunLock`."""
    path = Path(run_dir) / LOCK_FILE
    try:
        owner = json.loads(path.read_text()[:4096])
    except (OSError, ValueError):
        return None
    return owner if isinstance(owner, dict) else None


def is_locked(run_dir: str | Path) -> dict | None:
    """The owner of a lock on ``run_dir`` held by *another* process (a run writing it now),
    else None."""
    path = Path(run_dir) / LOCK_FILE
    if fcntl is None or not path.is_file():
        return None
    owner = read_owner(run_dir) or {}
    if owner.get("pid") == os.getpid() and owner.get("host") == socket.gethostname():
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return owner
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


class RunLock:
    """Exclusive lock of a run folder for one writer (``with RunLock(run_dir, "run"):``).

    Entering creates ``run_dir`` if needed (``created`` tells whether it did), takes the
    lock and records the owner; leaving removes the lock file and releases it.

    Attributes
    ----------
    stale_owner : dict or None
        The recorded owner of a lock file left behind by a process that is gone (taken
        over); None if there was none.

    Raises
    ------
    RunLockError
        If another process holds the lock (its pid, host, command and start are named),
        or the file system cannot lock files.
    """

    def __init__(self, run_dir: str | Path, command: str = "globalfit"):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_FILE
        self.command = command
        self.created = False
        self.stale_owner: dict | None = None
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> bool:
        self.release()
        return False

    def acquire(self) -> None:
        if fcntl is None:  # pragma: no cover - Windows
            raise RunLockError(f"{self.path}: this platform has no flock(); globalfit cannot "
                               f"guarantee a single writer of {self.run_dir}")
        self.created = not self.run_dir.exists()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                os.close(fd)
                if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    owner = read_owner(self.run_dir) or {}
                    raise RunLockError(
                        f"{self.run_dir}: is being written by {describe_owner(owner)}; two writers "
                        f"would mix their steps in one chain. Wait for it to finish (or stop "
                        f"it), or choose another --output") from None
                raise RunLockError(f"{self.path}: cannot lock ({error.strerror}); the file "
                                   f"system may not support locks: put the run folder on a "
                                   f"local disk (--output)") from None
            # the holder before us may have removed the file between our open and flock
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        previous = os.read(fd, 4096)
        if previous.strip():
            try:
                self.stale_owner = json.loads(previous)
            except ValueError:
                self.stale_owner = {}
        owner = {"pid": os.getpid(), "host": socket.gethostname(), "command": self.command,
                 "started": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(owner) + "\n").encode(), 0)
        self._fd = fd
        if self.stale_owner is not None:
            print(f"note: {self.path} was left by {describe_owner(self.stale_owner)}, which ended "
                  f"without releasing it (killed?); taking it over", file=sys.stderr)

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        finally:
            os.close(self._fd)  # closing releases the flock
            self._fd = None


def existing_ancestor(path: Path) -> Path:
    """The nearest folder among ``path`` and its parents that exists."""
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_output_writable(run_dir: str | Path, min_free_bytes: int = MIN_FREE_BYTES) -> None:
    """Check, without leaving anything behind, that ``run_dir`` can be created and written
    and that its file system (and the process's file-size limit) leaves ``min_free_bytes``
    for the first checkpoint.

    Raises
    ------
    OSError
        With a message naming the folder and the fix: a path through a file, no permission
        or a read-only file system, too little free space, a too small ``ulimit -f``.
    """
    run_dir = Path(run_dir)
    base = existing_ancestor(run_dir)
    if not base.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, f"output {run_dir}: {base} is a file, not a "
                                 f"folder; choose another --output")
    try:
        with tempfile.TemporaryFile(dir=base, prefix=".globalfit-probe-"):
            pass
    except OSError as error:
        raise type(error)(error.errno, f"output {run_dir}: cannot write in {base} "
                          f"({error.strerror}); choose a writable --output or change the "
                          f"folder's permissions") from None
    check_room(base, min_free_bytes, f"output {run_dir}", "the first checkpoint needs",
               "choose another --output")


def free_bytes(folder: str | Path) -> int:
    """Free bytes on the file system of ``folder`` (for this user)."""
    return shutil.disk_usage(folder).free


def file_size_limit() -> int | None:
    """The process's largest writable file (``ulimit -f``, bytes), or None if unlimited."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    return None if soft == resource.RLIM_INFINITY else int(soft)


def check_room(folder: str | Path, need_bytes: int, what: str, needs: str,
               fix: str, growing: str | Path | None = None) -> None:
    """Raise ``OSError`` (ENOSPC or EFBIG, message with ``what`` and ``fix``) unless the
    file system of ``folder`` has ``need_bytes`` free and the file-size limit lets the file
    ``growing`` (if given; else any new file) grow by ``need_bytes``."""
    free = free_bytes(folder)
    if free < need_bytes:
        raise OSError(errno.ENOSPC, f"{what}: only {free} bytes free on the file system of "
                      f"{folder}; {needs} about {need_bytes}. Free some space, or {fix}")
    limit = file_size_limit()
    size = Path(growing).stat().st_size if growing and Path(growing).exists() else 0
    if limit is not None and size + need_bytes > limit:
        raise OSError(errno.EFBIG, f"{what}: the file size limit (ulimit -f) is {limit} bytes; "
                      f"{needs} about {size + need_bytes}. Raise it (ulimit -f unlimited), "
                      f"or {fix}")


STEP_MARGIN_BYTES = 2_000_000
"""Free space a running chain keeps before each step (HDF5 allocates whole chunks): a disk
that fills up stops the run cleanly instead of leaving HDF5 with a failed write."""


def check_room_for_step(chain_path: str | Path, step: int) -> None:
    """Before writing step ``step`` (1-based) to ``chain_path``: stop with a clear error
    (chain intact, ``step - 1`` steps saved, resume hint) if the disk is nearly full."""
    chain_path = Path(chain_path)
    check_room(chain_path.parent, STEP_MARGIN_BYTES, f"{chain_path}", f"stopped before step "
               f"{step} ({step - 1} steps are saved and intact): the next steps need",
               f"move the run folder; then `globalfit resume {chain_path.parent}`",
               growing=chain_path)


RUN_FILES = ("config.yaml", "provenance.json", "chain.h5", "chain.h5.pending.npz",
             "diagnostics.json")
"""What a start writes into a new run folder before its first step is saved."""


class FreshRunFolder:
    """Undo a failed start: ``with FreshRunFolder(run_dir, created) as fresh: ...``.

    If the block raises (or is interrupted) before ``chain.h5`` holds a saved step and the
    folder holds nothing but `RUN_FILES` (a nested or region-ensemble run writes other
    checkpoints: those folders are left alone), the files a start writes are removed, and
    the folder too if ``created`` (this start made it) and it is then empty. A folder with
    a saved step is never touched.
    ``fresh.cleaned`` tells whether it cleaned up.
    """

    def __init__(self, run_dir: str | Path, created: bool):
        self.run_dir = Path(run_dir)
        self.created = created
        self.cleaned = False

    def __enter__(self) -> FreshRunFolder:
        return self

    def __exit__(self, kind, error, traceback) -> bool:
        if kind is None or not self.run_dir.is_dir():
            return False
        others = [p.name for p in self.run_dir.iterdir()
                  if p.name not in RUN_FILES + (LOCK_FILE,)]
        if not others and not _has_saved_step(self.run_dir):
            for name in RUN_FILES:
                (self.run_dir / name).unlink(missing_ok=True)
            self.cleaned = True
        return False

    def remove_if_empty(self) -> None:
        """Remove the folder if this start created it and nothing but the lock is left
        (call after the lock is released)."""
        if self.created and self.cleaned:
            with suppress(OSError):  # not empty: something else was put there
                self.run_dir.rmdir()


def _has_saved_step(run_dir: Path) -> bool:
    from globalfit.chainfile import ChainFileError, saved_steps

    try:
        return saved_steps(run_dir) > 0
    except ChainFileError:
        return True  # a damaged chain is the user's to inspect, never deleted here


@contextmanager
def writing_run(run_dir: str | Path, command: str, new: bool) -> Iterator[RunLock]:
    """The context of one writer of ``run_dir``: `RunLock` for its whole life and, for a
    ``new`` run, `FreshRunFolder` (a start that fails before its first saved step leaves
    nothing behind, not even the folder if it made it)."""
    fresh = None
    try:
        with RunLock(run_dir, command) as lock:
            if not new:
                yield lock
                return
            fresh = FreshRunFolder(run_dir, lock.created)
            with fresh:
                yield lock
    finally:
        if fresh is not None:
            fresh.remove_if_empty()
