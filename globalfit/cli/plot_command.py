"""``globalfit plot RUN``: corner plot, profile-likelihood plots and chi^2 traces of a run."""
from __future__ import annotations

import argparse
from pathlib import Path

HELP = ("Draw a run's corner plot (default), profile likelihoods (--profile P), chi^2 traces "
        "or its viability scan (--scan).")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run folder (chains/<name>)")
    parser.add_argument("--corner", action="store_true", help="corner plot -> corner.png")
    parser.add_argument("--profile", action="append", default=[], metavar="PARAM",
                        help="profile likelihood of PARAM -> profile_PARAM.png and "
                             "profile_PARAM.csv (repeatable)")
    parser.add_argument("--traces", action="store_true",
                        help="chi^2 of each likelihood against step -> traces.png")
    parser.add_argument("--split", default=None, metavar="COND",
                        help="colour/profile the region COND and its complement separately "
                             "(default: the run card's regions)")
    parser.add_argument("--parameters", default=None, metavar="A,B",
                        help="corner plot: comma-separated subset of parameters")
    parser.add_argument("--scan", action="store_true",
                        help="Delta chi^2 of the run's viability scan (scan.csv) -> scan.png")
    parser.add_argument("--no-likelihoods", action="store_true",
                        help="--scan: draw only the total, not each likelihood's chi^2")
    parser.add_argument("--grid", type=int, default=41, help="profile grid points (default 41)")
    parser.add_argument("--output-dir", default=None,
                        help="folder for the PNG files (default: the run folder)")


def main(args: argparse.Namespace) -> int:
    from globalfit import plots

    run_dir = Path(args.run)
    out_dir = Path(args.output_dir) if args.output_dir else run_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    do_corner = args.corner or not (args.profile or args.traces or args.scan)
    written = []
    if args.scan:
        written.append(plots.scan_plot(run_dir, out_dir / "scan.png",
                                       per_likelihood=not args.no_likelihoods))
    if do_corner:
        names = [n.strip() for n in args.parameters.split(",")] if args.parameters else None
        written.append(plots.corner_plot(run_dir, out_dir / "corner.png",
                                         split=args.split or "card", parameters=names))
    if args.traces:
        written.append(plots.trace_plot(run_dir, out_dir / "traces.png"))
    if args.profile:
        written += _profile_plots(args, run_dir, out_dir)
    for path in written:
        print(f"wrote {path}")
    return 0


def _profile_plots(args, run_dir: Path, out_dir: Path) -> list[Path]:
    from globalfit import plots
    from globalfit.frequentist import profile_curves
    from globalfit.profile_tables import profile_frame

    curves = profile_curves(run_dir, args.profile, split=args.split, n_grid=args.grid,
                            progress=True)
    paths = []
    for name, (parameter, profiles) in curves.items():
        paths.append(plots.profile_plot(profiles, parameter, out_dir / f"profile_{name}.png"))
        table_path = out_dir / f"profile_{name}.csv"
        profile_frame(profiles, parameter).to_csv(table_path, index=False, float_format="%.10g")
        paths.append(table_path)
    return paths
