"""``globalfit init [CARD]``: copy an example run card into the current directory."""
from __future__ import annotations

import argparse
from pathlib import Path

from globalfit.paths import example_cards_dir

HELP = "Copy an example run card (default: default.yaml) into the current directory."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("card", nargs="?", default="default",
                        help="example card name (e.g. lma_vs_lmad_u); --list shows them")
    parser.add_argument("--list", action="store_true", help="list the example cards")


def main(args: argparse.Namespace) -> int:
    cards = sorted(example_cards_dir().glob("*.yaml"))
    if args.list:
        for card in cards:
            print(card.stem)
        return 0
    source = example_cards_dir() / (args.card if args.card.endswith(".yaml") else f"{args.card}.yaml")
    if not source.is_file():
        raise ValueError(f"no example card {args.card!r}; choose one of: "
                         f"{', '.join(c.stem for c in cards)}")
    target = Path.cwd() / source.name
    try:
        with open(target, "xb") as handle:  # exclusive create: never overwrites a file
            handle.write(source.read_bytes())
    except FileExistsError:
        raise ValueError(f"{target} already exists: not overwritten (rename or remove it, "
                         "or run `globalfit init` in another directory)") from None
    print(f"wrote {target}: edit it, then `globalfit run {source.name}`")
    return 0
