"""``globalfit table RUN|CARD``: Bayesian summary of a run, or the frequentist profile table
of a run or directly of a card (``--profile``; `globalfit.frequentist.profile_card`)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = ("Print a run's summary table (posterior) or, with --profile, the profile-likelihood "
        "table of a run or of a run card (no sampling needed).")
FORMATS = ("md", "csv", "latex")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", help="run folder (chains/<name>) or, with --profile, a run card")
    parser.add_argument("--profile", action="store_true",
                        help="frequentist table: best fit, 90%% CL and 3 sigma ranges from "
                             "profiled Delta chi^2 (evaluates the likelihoods; works on a card)")
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
    parser.add_argument("--sweep", choices=("both-ways", "outward"), default="both-ways",
                        help="--profile: how each profile walks its grid: both-ways (every "
                             "local minimum restarted at every point; default) or outward "
                             "(each local minimum followed across the grid by warm starts, "
                             "one minimisation per point and minimum: for expensive "
                             "likelihoods)")
    parser.add_argument("--refine", choices=("root", "points", "none"), default="root",
                        help="--profile: interval ends by root finding on the profile "
                             "(default), by two new profile points in each grid interval "
                             "that crosses a level (a fixed cost), or from the grid alone")
    parser.add_argument("--range", type=float, nargs=2, default=None, metavar=("LOW", "HIGH"),
                        help="--profile: the --grid points between LOW and HIGH (display units) "
                             "instead of the whole range: a closer look at one parameter")
    parser.add_argument("--cores", type=int, default=1,
                        help="--profile: profile the parameters on N processes (default 1)")


def _parameters(text: str | None) -> list[str] | None:
    if not text:
        return None
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise ValueError(f"--parameters: expected comma-separated names, got {text!r}")
    return names


def posterior_table(args: argparse.Namespace) -> str:
    from globalfit.regions import WHOLE_SPACE
    from globalfit.results import load_run
    from globalfit.summaries import region_ensemble_table, summary_table
    from globalfit.table_format import SUMMARY_HEADER, summary_rows, to_latex, to_markdown

    run_dir = Path(args.run)
    if run_dir.is_file():
        raise ValueError(f"{run_dir} is a card: a posterior table needs a run (`globalfit run "
                         f"{run_dir}`), or ask for the frequentist table with --profile")
    if not (run_dir / "chain.h5").exists() and any(run_dir.glob("*/ensemble_*/chain.h5")):
        table = region_ensemble_table(run_dir)     # ensembles_per_region: one block per region
        result = None
    else:
        result = load_run(run_dir)
        split = args.split if args.split else [WHOLE_SPACE, *result.regions]
        table = summary_table(result, split=split)
    names = _parameters(args.parameters)
    unknown = [n for n in names or () if n not in set(table["parameter"])]
    if unknown:
        raise ValueError(f"--parameters: unknown {unknown} "
                         f"(available: {', '.join(table['parameter'].unique())})")
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


def frequentist_table(args: argparse.Namespace) -> str:
    from globalfit.frequentist import profile_card
    from globalfit.table_format import PROFILE_HEADER, profile_rows, to_latex, to_markdown

    table = profile_card(args.run, split=args.split, parameters=_parameters(args.parameters),
                         cores=args.cores, n_grid=args.grid, n_starts=args.starts,
                         method=args.method, progress=True, sweep=args.sweep,
                         refine={"root": True, "points": "points", "none": False}[args.refine],
                         grid_range=args.range)
    if args.format == "csv":
        return table.to_csv(index=False, float_format="%.8g")
    rows = profile_rows(table)
    minima = ", ".join(f"{k}: {v:.3f}" for k, v in table.attrs["chi2_min"].items())
    header = (f"{PROFILE_HEADER} chi^2_min global {table.attrs['chi2_min_global']:.3f}; "
              f"per region {minima}.")
    if args.format == "latex":
        return to_latex(rows, caption=header, labels=table.attrs.get("latex", {}))
    return to_markdown(rows, header)


def main(args: argparse.Namespace) -> int:
    if args.range is not None and not args.profile:
        raise ValueError("--range: a profile grid option; add --profile (a posterior table "
                         "reads the chain, it has no grid)")
    text = frequentist_table(args) if args.profile else posterior_table(args)
    if args.output:
        Path(args.output).write_text(text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
