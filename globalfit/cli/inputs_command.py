"""``globalfit inputs``: every published number each likelihood reads on its default path.

Lists, per quantity, the data file, key, value, provenance status and where it was seen
(`globalfit.inputs`). ``--status`` and ``--likelihood`` filter; ``--update-docs FILE``
rewrites the generated block of ``docs/data_verification.md``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "Inventory of the published numbers each likelihood reads on its default path, with status and source."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--status", action="append", default=None, metavar="STATUS",
                        help="show only this status (repeatable; e.g. FROM_MEMORY, VERIFIED; '_' for space)")
    parser.add_argument("--likelihood", action="append", default=None, metavar="NAME",
                        help="only this likelihood (repeatable; default: every built-in one)")
    parser.add_argument("--update-docs", metavar="FILE", default=None,
                        help="rewrite the generated inventory block of FILE (docs/data_verification.md)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a FROM MEMORY quantity outside the allow-list (or an untagged one) is read")


def main(args: argparse.Namespace) -> int:
    from globalfit import inputs

    skipped = {} if args.likelihood else inputs.unmeasurable()
    for name, reason in skipped.items():
        print(f"globalfit inputs: {name} not measured: {reason}", file=sys.stderr)
    entries = inputs.inventory(args.likelihood)
    if args.update_docs:
        if skipped:
            raise ValueError(f"--update-docs needs every built-in likelihood; missing: {', '.join(skipped)} "
                             f"(set GLOBALFIT_DATA to the folder of the public releases)")
        path = Path(args.update_docs)
        path.write_text(inputs.updated_document(path.read_text(), entries))
        print(f"wrote {path}: {len(inputs.by_quantity(entries))} quantities")
        return 0
    if args.status:
        wanted = {s.replace("_", " ").upper() for s in args.status}
        unknown = wanted - set(inputs.STATUSES) - {inputs.UNTAGGED, inputs.RELEASE}
        if unknown:
            raise ValueError(f"--status: unknown {', '.join(sorted(unknown))}; choose from "
                             f"{', '.join(s.replace(' ', '_') for s in inputs.STATUSES)}")
        entries = [e for e in entries if e.status in wanted]
    sys.stdout.write(inputs.markdown_table(entries))
    if args.check:
        bad = inputs.violations(entries)
        for entry in bad:
            print(f"not allowed: {entry.likelihood}: {entry.file}:{entry.key} ({entry.status})", file=sys.stderr)
        return 1 if bad else 0
    return 0
