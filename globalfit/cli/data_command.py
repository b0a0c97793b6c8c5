"""``globalfit data list | fetch NAME... | verify [NAME...] | path``: official data releases.

The logic lives in `globalfit.releases`; this module parses and prints.
"""
from __future__ import annotations

import argparse

from globalfit import releases
from globalfit.paths import RELEASES_ENV, releases_dir

HELP = "Official data releases: list, fetch NAME..., verify [NAME...], path."


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = sub.add_parser("list", help="releases of the manifest and whether they are here")
    listing.add_argument("names", nargs="*", metavar="NAME", help="show these releases' files")
    fetch = sub.add_parser("fetch", help="download releases into the data folder (checksummed)")
    fetch.add_argument("names", nargs="+", metavar="NAME")
    fetch.add_argument("--mirror", metavar="URL", default=None,
                       help=f"fetch URL/<release>/<file> instead of the official URLs "
                            f"(default ${releases.MIRROR_ENV} if set)")
    verify = sub.add_parser("verify", help="check size and SHA-256 of the files on disk")
    verify.add_argument("names", nargs="*", metavar="NAME",
                        help="releases to check (default: every release present)")
    sub.add_parser("path", help=f"print the data folder (${RELEASES_ENV} overrides it)")


def main(args: argparse.Namespace) -> int:
    return {"list": _list, "fetch": _fetch, "verify": _verify, "path": _path}[args.action](args)


def _path(args) -> int:
    print(releases_dir())
    return 0


def _list(args) -> int:
    print(f"data folder: {releases_dir()}")
    for name in args.names or releases.manifest():
        release = releases.get(name)
        checks = releases.check_files(name, checksums=False)
        here = sum(c.passed for c in checks)
        state = ("present" if here == len(checks) else "absent" if here == 0
                 else f"incomplete ({here}/{len(checks)} files)")
        print(f"  {name:<18} {release.total_bytes / 1e6:8.2f} MB  {state:<10} {release.title}")
        if args.names:
            print(f"    reference: {release.reference}\n    source:    {release.source}\n"
                  f"    licence:   {release.licence}")
            for entry in release.files:
                where = entry.url or "no official URL (mirror only)"
                print(f"    {entry.name}  {entry.bytes} bytes  sha256 {entry.sha256}\n"
                      f"      {where}{'' if entry.url_checked else '  [URL not checked]'}"
                      f"{'  ' + entry.note if entry.note else ''}")
    return 0


def _fetch(args) -> int:
    for name in args.names:
        releases.get(name)  # an unknown name fails before anything is downloaded
    for name in args.names:
        checks = releases.fetch(name, mirror=args.mirror)
        ok = sum(c.status == "ok" for c in checks)
        print(f"{name}: {ok} files verified in {releases.get(name).folder()}")
        for check in checks:
            if check.status == "mirror-only":
                print(f"  skipped {check.file}: no official URL serves it (optional; use --mirror)")
    return 0


def _verify(args) -> int:
    checks = releases.verify(args.names or None)
    if not checks:
        print(f"no releases in {releases_dir()} (fetch one: globalfit data fetch NAME)")
        return 1
    failed = [c for c in checks if not c.passed]
    for name in dict.fromkeys(c.release for c in checks):
        bad = [c for c in failed if c.release == name]
        ok = sum(c.release == name and c.status == "ok" for c in checks)
        print(f"{name}: {'OK' if not bad else 'FAILED'} ({ok} files ok)")
        for check in bad:
            print(f"  {check.file}: {check.status}{': ' + check.detail if check.detail else ''}")
    if failed:
        print(f"repair with: {releases.fetch_command(' '.join(dict.fromkeys(c.release for c in failed)))}")
    return 1 if failed else 0
