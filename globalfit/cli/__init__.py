"""The ``globalfit`` command line.

Each sub-command lives in its own module of this package, exposing ``HELP`` (one line),
``configure(parser)`` (adds its arguments) and ``main(args) -> int``. Adding a command is
adding a module name to ``COMMANDS``.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from globalfit import __version__

COMMANDS = ("run", "resume", "validate", "list", "table", "plot", "compare", "scan", "check",
            "export", "data", "init")


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
        command_parser = sub.add_parser(command, help=module.HELP, description=module.HELP)
        module.configure(command_parser)
        command_parser.set_defaults(_handler=module.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args._handler(args) or 0)
    except (ValueError, FileNotFoundError) as error:
        print(f"globalfit {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
