"""``globalfit run [CARD]``: sample the posterior of a run card into ``chains/<name>/``
(`globalfit.run`)."""
from __future__ import annotations

import argparse
from pathlib import Path

import globalfit
from globalfit.paths import CONFIG_DIR
from globalfit.reporting import PrintReporter

HELP = "Run a fit from a run card (default: configs/default.yaml) and write chains/<name>/."
DEFAULT_CARD = CONFIG_DIR / "default.yaml"
EXIT_INTERRUPTED = 130


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("card", nargs="?", default=None,
                        help=f"run card (YAML); default: {DEFAULT_CARD}")
    add_sampling_options(parser)
    parser.add_argument("--steps", type=int, default=None,
                        help="number of emcee steps (overrides sampler.steps)")
    parser.add_argument("--seed", type=int, default=None, help="overrides sampler.seed")
    parser.add_argument("--output", default=None,
                        help="run folder (overrides output:, default chains/<name>)")
    parser.add_argument("--force", action="store_true",
                        help="delete an existing run in the output folder and start afresh")


def add_sampling_options(parser: argparse.ArgumentParser) -> None:
    """``--cores``, ``--no-progress`` and ``--pool`` (shared with ``resume``)."""
    parser.add_argument("--cores", type=positive_int, default=1,
                        help="worker processes evaluating the posterior (default 1)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--pool", choices=("process", "mpi"), default="process",
                        help="'process' (default): --cores local processes; 'mpi': every MPI "
                             "rank evaluates points (mpiexec -n N globalfit run CARD --pool mpi)")


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value}")
    return value


def sampling_options(args: argparse.Namespace) -> dict:
    """The `globalfit.api.run` / `resume` keywords of `add_sampling_options`."""
    return {"cores": args.cores, "progress": not args.no_progress,
            "pool": "mpi" if args.pool == "mpi" else None, "reporter": PrintReporter()}


def exit_code(run) -> int:
    """0, or `EXIT_INTERRUPTED` for a run stopped before its target (None: an MPI worker)."""
    return 0 if run is None or run.complete else EXIT_INTERRUPTED


def main(args: argparse.Namespace) -> int:
    sampler = {}
    if args.steps is not None:
        if args.steps < 1:
            raise ValueError(f"--steps: expected a positive number of steps, got {args.steps}")
        sampler["steps"] = args.steps
    if args.seed is not None:
        sampler["seed"] = args.seed
    overrides = {"sampler": sampler} if sampler else {}
    run = globalfit.run(Path(args.card) if args.card else DEFAULT_CARD, output=args.output,
                  force=args.force, **sampling_options(args), **overrides)
    return exit_code(run)
