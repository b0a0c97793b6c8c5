"""``globalfit check CARD``: the viability card of a benchmark point, or a scan.

Every likelihood of the card is evaluated at the card's fixed point and at the SM point;
the card (Markdown) or the table (CSV) goes to standard output or ``--output``.

With ``--scan PARAM --from A --to B [--points N] [--unit U] [--hold COUPLING:POWER ...]``
the point is moved along ``N`` log-spaced values of ``PARAM`` (each ``--hold`` coupling
rescaled by ``(value / value_card)^POWER``, e.g. ``--hold g_prime:1`` keeps
``eps(0) ~ g'^2 / m_Z'^2`` fixed); the output is the table of Delta chi^2 per likelihood and
value with a verdict per row and the viable windows (Markdown), or the long form
``<param>_<unit>, likelihood, delta_chi2`` (CSV); ``--plot FILE`` draws Delta chi^2 versus
the value.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = ("Viability card of a fixed benchmark point (each likelihood's chi^2, pull and verdict), "
        "or with --scan the same along a log-spaced line in one parameter (e.g. m_Z').")
FORMATS = ("md", "csv")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("card", help="run card whose model parameters are all fixed (value:)")
    parser.add_argument("--format", choices=FORMATS, default="md",
                        help="md: Markdown card / scan table (default); csv: the table "
                             "(scan: long form <param>_<unit>, likelihood, delta_chi2)")
    parser.add_argument("--dof", type=int, default=1,
                        help="degrees of freedom of the Delta chi^2 verdicts (default 1)")
    parser.add_argument("--output", "-o", default=None, help="write to this file instead of stdout")
    parser.add_argument("--nuisances", choices=("profile", "median"), default="profile",
                        help="profile: minimise each chi^2 over its nuisance parameters (default); "
                             "median: fix them at their prior medians")
    scan = parser.add_argument_group("scan over one parameter")
    scan.add_argument("--scan", metavar="PARAM", default=None,
                      help="model parameter to scan with log-spaced values (e.g. mzp)")
    scan.add_argument("--from", dest="start", type=float, default=None, help="first value (in --unit)")
    scan.add_argument("--to", dest="stop", type=float, default=None, help="last value (in --unit)")
    scan.add_argument("--points", type=int, default=25, help="number of values (default 25)")
    scan.add_argument("--unit", default=None,
                      help="unit of --from/--to (e.g. MeV; default the parameter's internal unit)")
    scan.add_argument("--hold", action="append", default=[], metavar="COUPLING:POWER",
                      help="rescale COUPLING by (value/value_card)^POWER; repeatable "
                           "(U(1): g_prime:1 keeps eps(0) fixed)")
    scan.add_argument("--plot", metavar="FILE", default=None,
                      help="draw Delta chi^2 per likelihood versus the scanned value")


def _write(text: str, output: str | None, message: str) -> None:
    if output:
        Path(output).write_text(text)
        print(f"wrote {output}: {message}")
    else:
        sys.stdout.write(text)


def _main_scan(args: argparse.Namespace) -> int:
    from globalfit.plots import save_figure, viability_scan_figure
    from globalfit.viability_scan import format_viability_scan, parse_hold, scan_viability

    if args.start is None or args.stop is None:
        raise ValueError("--scan needs --from and --to (the ends of the log-spaced scan)")
    result = scan_viability(args.card, args.scan, args.start, args.stop, points=args.points,
                            unit=args.unit, hold=parse_hold(args.hold), dof=args.dof,
                            nuisances=args.nuisances, progress=f"check --scan {args.scan}")
    text = format_viability_scan(result) if args.format == "md" else result.long.to_csv(index=False)
    _write(text, args.output, result.summary())
    if args.plot:
        path = save_figure(viability_scan_figure(result), Path(args.plot))
        print(f"wrote {path} and {path.with_suffix('.pdf')}", file=sys.stderr)
    return 0


def main(args: argparse.Namespace) -> int:
    from globalfit.config import ConfigError
    from globalfit.viability import check_card, format_card

    scan_only = [flag for flag, value in (("--from", args.start), ("--to", args.stop),
                                          ("--hold", args.hold), ("--plot", args.plot)) if value]
    try:
        if args.scan is not None:
            return _main_scan(args)
        if scan_only:
            raise ValueError(f"{', '.join(scan_only)}: only with --scan PARAM")
        result = check_card(args.card, dof=args.dof, nuisances=args.nuisances)
    except (ConfigError, ValueError) as error:
        print(f"{error}", file=sys.stderr)
        return 2
    text = format_card(result) if args.format == "md" else result.table.to_csv(index=False)
    _write(text, args.output, result.verdict
           + (f" (excluded by {', '.join(result.excluded_by)})" if result.excluded_by else ""))
    return 0
