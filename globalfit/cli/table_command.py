"""``globalfit table RUN``: Bayesian summary or frequentist profile table of a run."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "Print a run's summary table (posterior) or, with --profile, its profile-likelihood table."
FORMATS = ("md", "csv", "latex")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run folder (chains/<name>)")
    parser.add_argument("--profile", action="store_true",
                        help="frequentist table: best fit, 90%% CL and 3 sigma ranges from "
                             "profiled Delta chi^2 (re-evaluates the likelihoods)")
    parser.add_argument("--split", default=None, metavar="COND",
                        help="report the region COND (e.g. \"th12 < 45 deg\") and its "
                             "complement; default: the run card's regions")
    parser.add_argument("--parameters", default=None, metavar="A,B",
                        help="comma-separated parameters (default: all sampled ones); with "
                             "--profile also the model's derived quantities")
    parser.add_argument("--format", choices=FORMATS, default="md", help="output format")
    parser.add_argument("--output", default=None, metavar="FILE",
                        help="write to FILE instead of standard output")
    parser.add_argument("--intervals", choices=("hpd", "et"), default="hpd",
                        help="posterior table: highest-density (hpd) or equal-tailed (et)")
    parser.add_argument("--grid", type=int, default=41, help="profile grid points (default 41)")
    parser.add_argument("--starts", type=int, default=8,
                        help="random starts of the best-fit search (default 8)")
    parser.add_argument("--method", default=None,
                        help="local minimiser: l-bfgs-b (default), migrad, nelder-mead, powell")


def _parameters(text: str | None) -> list[str] | None:
    if not text:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise ValueError(f"--parameters: expected comma-separated names, got {text!r}")
    return names


def _check_names(names, known, option="--parameters") -> None:
    unknown = [n for n in names or () if n not in known]
    if unknown:
        raise ValueError(f"{option}: unknown {unknown} (available: {', '.join(known)})")


def posterior_table(args: argparse.Namespace) -> str:
    from globalfit.regions import WHOLE_SPACE
    from globalfit.results import (
        SUMMARY_HEADER,
        load_run,
        region_ensemble_table,
        summary_rows,
        summary_table,
        to_latex,
        to_markdown,
    )

    run_dir = Path(args.run)
    if not (run_dir / "chain.h5").exists() and any(run_dir.glob("*/ensemble_*/chain.h5")):
        table = region_ensemble_table(run_dir)     # ensembles_per_region: one block per region
        result = None
    else:
        result = load_run(run_dir)
        split = args.split if args.split else [WHOLE_SPACE, *result.regions]
        table = summary_table(result, split=split)
    names = _parameters(args.parameters)
    _check_names(names, list(table["parameter"].unique()))
    if names:
        table = table[table["parameter"].isin(names)]
    if args.format == "csv":
        return table.to_csv(index=False, float_format="%.8g")
    rows = summary_rows(table, kind=args.intervals)
    if args.format == "latex":
        labels = {p.name: p.latex for p in result.parameters if p.latex} if result else {}
        return to_latex(rows, caption=SUMMARY_HEADER, labels=labels)
    if result is None:
        return to_markdown(rows, f"Run {run_dir.name}: {SUMMARY_HEADER} Region ensembles merged per "
                                 "region; masses need evidences (`sampler.name: nested`).")
    return to_markdown(rows, f"Run {result.config.get('name', run_dir.name)}: {SUMMARY_HEADER}")


def profile_regions_for(args, posterior, card_regions) -> list:
    from globalfit.regions import parse_regions, split_regions

    derived = list(getattr(posterior, "blob_names", ()))
    if args.split:
        return list(split_regions(args.split, card_regions, posterior.parameters, derived))
    return parse_regions(card_regions, posterior.parameters, derived)


def load_posterior(run_dir: Path):
    """The run's posterior, rebuilt from its resolved ``config.yaml``."""
    from globalfit.config import load_config
    from globalfit.posterior import build_posterior

    card = Path(run_dir) / "config.yaml"
    if not card.exists():
        raise FileNotFoundError(f"{card} not found: is {run_dir} a globalfit run folder?")
    config = load_config(card)
    return build_posterior(config), config


def chain_for_starts(run_dir: Path, posterior):
    """The run's chain if it samples exactly ``posterior.names`` (its best points seed the
    minimisations), else None with a note: the code may have changed since the run."""
    from globalfit.results import load_run

    if not (run_dir / "chain.h5").exists():
        return None
    try:
        chain = load_run(run_dir)
    except ValueError as error:
        print(f"note: chain not used for starting points ({error})", file=sys.stderr)
        return None
    if chain.names != list(posterior.names):
        print(f"note: the chain samples {chain.names}, the rebuilt posterior "
              f"{list(posterior.names)}; chain not used for starting points", file=sys.stderr)
        return None
    return chain


def frequentist_table(args: argparse.Namespace) -> str:
    from globalfit.results import PROFILE_HEADER, profile_rows, profile_table, to_latex, to_markdown

    posterior, config = load_posterior(Path(args.run))
    names = _parameters(args.parameters)
    _check_names(names, list(posterior.names) + list(getattr(posterior, "derived_names", ())))
    regions = profile_regions_for(args, posterior, config.regions)
    chain = chain_for_starts(Path(args.run), posterior)
    options = {"n_grid": args.grid, "n_starts": args.starts}
    if args.method:
        options["method"] = args.method
    table = profile_table(posterior, names, regions, chain=chain, **options)
    if args.format == "csv":
        return table.to_csv(index=False, float_format="%.8g")
    rows = profile_rows(table)
    minima = ", ".join(f"{k}: {v:.3f}" for k, v in table.attrs["chi2_min"].items())
    header = (f"{PROFILE_HEADER} chi^2_min global {table.attrs['chi2_min_global']:.3f}; "
              f"per region {minima}.")
    if args.format == "latex":
        labels = {p.name: p.latex for p in posterior.parameters if p.latex}
        return to_latex(rows, caption=header, labels=labels)
    return to_markdown(rows, header)


def main(args: argparse.Namespace) -> int:
    text = frequentist_table(args) if args.profile else posterior_table(args)
    if args.output:
        Path(args.output).write_text(text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
