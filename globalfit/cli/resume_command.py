"""``globalfit resume RUN_DIR``: continue a stopped run to its target number of steps
(`globalfit.resume`)."""
from __future__ import annotations

import argparse

import globalfit
from globalfit.cli.run_command import add_sampling_options, exit_code, sampling_options

HELP = "Continue a stopped run (chains/<name>/) to its target number of steps."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="run folder, e.g. chains/lfv_model")
    parser.add_argument("--steps", type=int, default=None,
                        help="new target TOTAL number of steps (default: the run's sampler.steps)")
    add_sampling_options(parser)


def main(args: argparse.Namespace) -> int:
    return exit_code(globalfit.resume(args.run_dir, steps=args.steps, **sampling_options(args)))
