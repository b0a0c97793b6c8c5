"""``globalfit check CARD``: the viability card of a benchmark point.

Every likelihood of the card is evaluated at the card's fixed point and at the SM point;
the card (Markdown) or the table (CSV) goes to standard output or ``--output``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "Viability card of a fixed benchmark point: each likelihood's chi^2, pull and verdict."
FORMATS = ("md", "csv")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("card", help="run card whose model parameters are all fixed (value:)")
    parser.add_argument("--format", choices=FORMATS, default="md",
                        help="md: one-page Markdown card (default); csv: the table")
    parser.add_argument("--dof", type=int, default=1,
                        help="degrees of freedom of the Delta chi^2 verdicts (default 1)")
    parser.add_argument("--output", "-o", default=None, help="write to this file instead of stdout")


def main(args: argparse.Namespace) -> int:
    from globalfit.config import ConfigError
    from globalfit.viability import check_card, format_card

    try:
        result = check_card(args.card, dof=args.dof)
    except ConfigError as error:
        print(f"{error}", file=sys.stderr)
        return 2
    text = format_card(result) if args.format == "md" else result.table.to_csv(index=False)
    if args.output:
        Path(args.output).write_text(text)
        print(f"wrote {args.output}: {result.verdict}"
              + (f" (excluded by {', '.join(result.excluded_by)})" if result.excluded_by else ""))
    else:
        sys.stdout.write(text)
    return 0
