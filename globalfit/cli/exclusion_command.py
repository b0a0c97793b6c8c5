"""``globalfit exclusion CARD --x NAME[:LOW:HIGH] --y NAME[:LOW:HIGH]``: excluded regions of
each likelihood in a plane of two model parameters (log grid), with the card's benchmark.

The card is a check card (`globalfit check`): its values of the two parameters are the
benchmark; the ranges are ``LOW:HIGH`` in the card's unit of each parameter, or the card's
prior ``min``/``max`` where it gives a prior instead.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = ("Excluded regions of each likelihood in a plane of two model parameters "
        "(e.g. m_Z' and g'), 95% CL against the SM, with the card's benchmark point.")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("card", help="check card (model parameters fixed at the benchmark)")
    parser.add_argument("--x", required=True, metavar="NAME[:LOW:HIGH]",
                        help="first parameter and its range in the card's unit (e.g. mzp:1:1000)")
    parser.add_argument("--y", required=True, metavar="NAME[:LOW:HIGH]",
                        help="second parameter and its range (e.g. g_prime:1e-6:1e-2)")
    parser.add_argument("--points", default="25,25", metavar="NX,NY",
                        help="log-spaced grid points along x and y (default 25,25)")
    parser.add_argument("--cl", type=float, default=0.95, help="confidence level (default 0.95)")
    parser.add_argument("--dof", type=int, default=1,
                        help="degrees of freedom of the threshold (default 1: raster scan in y "
                             "at each x; 2: the plane jointly)")
    parser.add_argument("--plot", metavar="FILE", default=None,
                        help="write the figure (PNG and PDF beside it)")
    parser.add_argument("--format", choices=("csv",), default=None,
                        help="csv: print the boundary of each likelihood's excluded region")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _points(text: str) -> tuple[int, int]:
    try:
        nx, ny = (int(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"--points: expected NX,NY (two whole numbers), got {text!r}") from None
    return nx, ny


def main(args: argparse.Namespace) -> int:
    from globalfit.exclusion import exclusion_plane
    from globalfit.plots import exclusion_figure, save_figure
    from globalfit.progress import progress_bar

    nx, ny = _points(args.points)
    with progress_bar(nx * ny, None if args.no_progress else "grid points", unit="pt") as bar:
        result = exclusion_plane(args.card, args.x, args.y, points=(nx, ny), cl=args.cl,
                                 dof=args.dof, progress=lambda done, total: bar.update(1))
    for name, status in result.statuses.items():
        print(f"warning: {name}: {status}", file=sys.stderr)
    if args.format == "csv":
        sys.stdout.write(result.boundary().to_csv(index=False, float_format="%.6g"))
    if args.plot:
        path = save_figure(exclusion_figure(result), Path(args.plot))
        print(f"wrote {path} and {path.with_suffix('.pdf')}", file=sys.stderr)
    if args.format is None and not args.plot:
        print("nothing to write: give --plot FILE and/or --format csv", file=sys.stderr)
        return 2
    return 0
