"""``globalfit compare RUN_A RUN_B ...``: which run (model, data set) is preferred, and why."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = ("Compare runs: chi^2_min, Delta chi^2, AIC/BIC, log-evidence and Bayes factors, and "
        "the chi^2 of each likelihood at each best fit.")
FORMATS = ("md", "csv")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="+", help="run folders (chains/<name>)")
    parser.add_argument("--format", choices=FORMATS, default="md", help="output format")
    parser.add_argument("--output", default=None, metavar="FILE",
                        help="write to FILE instead of standard output")
    parser.add_argument("--starts", type=int, default=8,
                        help="random starts of each best-fit search (default 8)")
    parser.add_argument("--cores", type=int, default=1,
                        help="summarise the runs on N processes (default 1)")


def main(args: argparse.Namespace) -> int:
    from globalfit.comparison import (
        breakdown_table,
        comparison_table,
        format_comparison,
        summarise_runs,
    )

    summaries = summarise_runs([Path(run) for run in args.runs], n_starts=args.starts,
                               cores=args.cores, progress=True)
    table = comparison_table(summaries)
    breakdown = breakdown_table(summaries)
    if args.format == "csv":
        text = table.to_csv(index=False) + "\n" + breakdown.to_csv()
    else:
        text = format_comparison(table, breakdown)
        notes = [f"- {s.name}: {note}" for s in summaries for note in s.notes]
        if notes:
            text += "\n\nNotes:\n" + "\n".join(notes)
    if args.output:
        Path(args.output).write_text(text + "\n")
        print(f"wrote {args.output}")
    else:
        sys.stdout.write(text + "\n")
    return 0
