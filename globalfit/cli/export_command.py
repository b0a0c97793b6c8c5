"""``globalfit export RUN``: a run's chain for other tools (GetDist, ArviZ)."""
from __future__ import annotations

import argparse

from globalfit.export import export_run

HELP = "Export a run's chain as GetDist text chains and/or ArviZ InferenceData (NetCDF)."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run folder (chains/<name>)")
    parser.add_argument("--format", default="getdist", metavar="F[,F]",
                        help="comma-separated: getdist (default), arviz")
    parser.add_argument("--output", default=None, metavar="DIR",
                        help="output folder (default: RUN/export)")


def main(args: argparse.Namespace) -> int:

    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    for path in export_run(args.run, formats=formats, output=args.output):
        print(f"wrote {path}")
    return 0
