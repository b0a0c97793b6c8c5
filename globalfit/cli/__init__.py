"""The ``globalfit`` command line.

Each sub-command lives in its own module of this package, exposing ``HELP`` (one line),
``configure(parser)`` (adds its arguments) and ``main(args) -> int``. Adding a command is
adding a module name to ``COMMANDS``.
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import os
import sys
import warnings
from pathlib import Path

import yaml

from globalfit import __version__
from globalfit.runlock import RunLockError

COMMANDS = ("run", "resume", "validate", "list", "table", "plot", "compare", "scan", "check",
            "export", "data", "init", "exclusion")


def _load(command: str):
    try:
        return importlib.import_module(f"globalfit.cli.{command}_command")
    except ModuleNotFoundError as error:
        if error.name == f"globalfit.cli.{command}_command":
            return None
        raise


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="globalfit",
        description="Global fits of neutrino non-standard interactions and light-Z' models.",
    )
    parser.add_argument("--version", action="version", version=f"globalfit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        module = _load(command)
        if module is None:
            continue
        command_parser = sub.add_parser(command, help=module.HELP.replace("%", "%%"),
                                        description=module.HELP)  # help is %-formatted
        module.configure(command_parser)
        command_parser.set_defaults(_handler=module.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    with warnings.catch_warnings():
        warnings.simplefilter("default")  # every distinct warning once, none silenced
        warnings.showwarning = show_warning
        return run_guarded(args._handler, args, args.command)


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one line on standard error: ``warning: <message> (<Category>)``; the
    command line shows users what to do, not where in globalfit the warning was raised."""
    stream = file if file is not None else sys.stderr
    with contextlib.suppress(OSError):  # stderr closed, as Python's own showwarning allows
        stream.write(f"warning: {message} ({category.__name__})\n")


EXIT_ERROR = 2
"""Exit status of an expected failure (bad input, damaged file, busy or full folder)."""
EXIT_BUG = 1
"""Exit status of an unexpected exception (a bug: traceback written to a log file)."""
EXPECTED_ERRORS = (ValueError, OSError, KeyError, RunLockError, ImportError, yaml.YAMLError)
"""What the error boundary reports as one message: bad cards (ConfigError), damaged files
(YAML, JSON, HDF5, missing keys), unwritable or full folders, a busy run folder
(`globalfit.runlock.RunLockError`), plug-ins that cannot be imported or built."""
_OS_FIXES = {
    errno.EACCES: "no permission: choose another folder (--output) or change its permissions",
    errno.EPERM: "not permitted: choose another folder (--output) or change its permissions",
    errno.EROFS: "read-only file system: choose a writable folder (--output)",
    errno.ENOSPC: "the disk is full: free some space or choose another folder (--output)",
    errno.EDQUOT: "disk quota exceeded: free some space or choose another folder (--output)",
    errno.EFBIG: "file size limit reached (ulimit -f): raise the limit or write less",
    errno.ENOTDIR: "a part of the path is a file, not a folder: check the path",
    errno.EISDIR: "a folder where a file was expected: check the path",
}


def run_guarded(handler, args, command: str) -> int:
    """The CLI's one error boundary: ``handler(args)``, with every expected failure turned
    into one message on stderr (exit 2) and any other exception into a short message plus
    a log file holding the traceback (exit 1). ``GLOBALFIT_TRACEBACK=1`` re-raises."""
    from globalfit.safe_yaml import shorten

    try:
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        print(f"globalfit {command}: interrupted", file=sys.stderr)
        return 130
    except EXPECTED_ERRORS as error:
        if os.environ.get("GLOBALFIT_TRACEBACK") or _is_bug(error):
            if os.environ.get("GLOBALFIT_TRACEBACK"):
                raise
            return _report_bug(error, command)
        print(f"globalfit {command}: error: {shorten(expected_message(error), 4000)}",
              file=sys.stderr)
        return EXIT_ERROR
    except Exception as error:
        if os.environ.get("GLOBALFIT_TRACEBACK"):
            raise
        return _report_bug(error, command)


def _is_bug(error: BaseException) -> bool:
    """Exceptions of an expected class that still mean a bug in globalfit (not bad input)."""
    return type(error) in (RecursionError, NotImplementedError)


def expected_message(error: BaseException) -> str:
    """The user's message for an expected failure: the exception's own text, with the file
    and a fix added for operating-system errors and the key named for a ``KeyError``."""
    if isinstance(error, KeyError):
        key = error.args[0] if error.args else "?"
        return (f"missing key {key!r} while reading a run folder or data file (damaged or from "
                f"another version?); check the file named above or re-create it")
    if isinstance(error, yaml.YAMLError):
        return f"not valid YAML: {' '.join(str(error).split())}"
    if isinstance(error, OSError) and error.errno is not None:
        where = f"{error.filename}: " if error.filename else ""
        text = error.strerror or str(error)
        fix = _OS_FIXES.get(error.errno)
        return f"{where}{text}" + (f" ({fix})" if fix and fix not in text else "")
    return str(error) or type(error).__name__


def _report_bug(error: BaseException, command: str) -> int:
    import tempfile
    import time
    import traceback

    from globalfit.safe_yaml import shorten

    text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    folder = Path(tempfile.gettempdir()) / "globalfit-logs"
    try:
        folder.mkdir(exist_ok=True)
        log = folder / f"{command}-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.log"
        log.write_text(f"globalfit {__version__} {command}\nargv: {sys.argv}\n\n{text}")
        where = f"the traceback is in {log}"
    except OSError:
        where = f"the traceback follows:\n{text}"
    print(f"globalfit {command}: internal error: {type(error).__name__}: "
          f"{shorten(str(error), 300)}\nThis is a bug in globalfit or in a plug-in; {where} "
          f"(please attach it to a bug report).", file=sys.stderr)
    return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
