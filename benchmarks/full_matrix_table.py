"""The up-quark NSI table of configs/full_matrix_u.yaml beside the published one (issue #16).

The rows come from the product's command, a few rows per invocation (the rows of one
invocation share its search for minima; two invocations use two cores;
docs/reproductions/atmospheric.md gives what was run and the timings)::

    GLOBALFIT_DATA=../shared/data OMP_NUM_THREADS=1 globalfit table configs/full_matrix_u.yaml \\
        --profile --parameters ROWS --grid 17 --starts 6 --sweep outward --refine points \\
        --format csv --output out/full_matrix/PART.csv

This script only reads those CSV files (the long format ``parameter, region, level, best_fit,
low, high``) and prints each row beside Esteban et al., JHEP 08 (2018) 180, arXiv:1805.04530
(``data/nsi/esteban2018_up_quarks.yaml``, with its provenance)::

    python benchmarks/full_matrix_table.py out/full_matrix/*.csv [--also out/full_matrix_lbl/*.csv]

``--cost`` times what one row is made of, on the card's posterior (CPU, one process): one
evaluation, a cold minimisation from the card's reference point (the product's
``minimize_chi2``) and a warm one from its result with ``eps_mutau_re`` moved by 0.01 (a
neighbouring grid point)::

    GLOBALFIT_DATA=../shared/data OMP_NUM_THREADS=1 python benchmarks/full_matrix_table.py --cost

``--minima CARD ...`` prints each card's lowest minimum per region (chi^2 per likelihood).
``--starts-check`` runs the product's ``best_fit`` from 12 starts placed by the priors alone
and by the card's ``start`` hints (docs/statistics.md, "Why hints matter").
"""
from __future__ import annotations

import argparse
import math
import time

import pandas as pd
import yaml

from globalfit.paths import data_path

NAMES = {"eps_emu_re": "eps_emu", "eps_etau_re": "eps_etau", "eps_mutau_re": "eps_mutau",
         "eps_N_re": "eps_N"}
"""Parameter names of the card -> row names of the published table."""


def published() -> dict:
    return yaml.safe_load(data_path("nsi", "esteban2018_up_quarks.yaml").read_text())["rows"]


def pieces(intervals) -> str:
    parts = sorted((a, b) for a, b in intervals if not math.isnan(a))
    return " + ".join(f"[{a:+.3f}, {b:+.3f}]" for a, b in parts) or "none"


def ours(table: pd.DataFrame, region: str, level: str) -> str:
    rows = table[(table.region == region) & (table.level == level)]
    return pieces(zip(rows.low, rows.high))


def _our_line(table: pd.DataFrame, row: str, label: str) -> str:
    labels = list(dict.fromkeys(table.region))
    regions = [r for r in labels if "+" not in r]
    union = next(r for r in labels if "+" in r)
    best = " / ".join(f"{table[table.region == r].best_fit.iloc[0]:+.3f} ({r})" for r in regions)
    return (f"| {row} | {label} | {best} | "
            + " | ".join(ours(table, region, level) for level in ("90%", "3sigma")
                         for region in (regions[0], union)) + " |")


def comparison(tables: list[pd.DataFrame], also: list[pd.DataFrame] = (),
               labels: tuple[str, str] = ("ours", "ours + T2K, NOvA")) -> str:
    """Markdown rows: each parameter of ``tables`` (and of ``also``, a second card's
    outputs, on the line below) beside the published row."""
    theirs = published()
    extra = pd.concat(also) if len(also) else None
    lines = ["| row | | best fit | 90 % LMA | 90 % LMA+LMA-D | 3 sigma LMA | 3 sigma LMA+LMA-D |",
             "|---|---|---|---|---|---|---|"]
    for name, table in pd.concat(tables).groupby("parameter", sort=False):
        row = NAMES.get(name, name)
        lines.append(_our_line(table, row, labels[0]))
        if extra is not None and name in set(extra.parameter):
            lines.append(_our_line(extra[extra.parameter == name], "", labels[1]))
        if row in theirs:
            t = theirs[row]
            lines.append(f"| | Esteban 2018 | {t['best']:+.3f} | "
                         + " | ".join(pieces(t[level][region]) for level in ("cl90", "sigma3")
                                      for region in ("LMA", "LMA+LMA-D")) + " |")
    return "\n".join(lines)


def published_long() -> pd.DataFrame:
    """The published rows in the long format of `globalfit.profile_tables.profile_table`, under the
    card's parameter names."""
    names = {v: k for k, v in NAMES.items()}
    region_of = {"LMA": "LMA", "LMA+LMA-D": "LMA+LMA-D"}
    rows = []
    for row, entry in published().items():
        for level, key in (("90%", "cl90"), ("3sigma", "sigma3")):
            for region in region_of:
                for low, high in entry[key][region]:
                    rows.append([names.get(row, row), region, level, entry["best"], low, high])
    return pd.DataFrame(rows, columns=["parameter", "region", "level", "best_fit", "low", "high"])


def figure(tables: list[pd.DataFrame], also: list[pd.DataFrame], output: str) -> None:
    from globalfit.plots import intervals_figure, save_figure

    sources = {"globalfit": pd.concat(tables)}
    if also:
        sources["globalfit + T2K, NOvA"] = pd.concat(also)
    sources["Esteban et al. 2018"] = published_long()
    order = ["eps_ee_minus_mumu", "eps_tautau_minus_mumu", "eps_emu_re", "eps_etau_re",
             "eps_mutau_re", "eps_D", "eps_N_re"]
    labels = {"eps_ee_minus_mumu": r"$\varepsilon^u_{ee} - \varepsilon^u_{\mu\mu}$",
              "eps_tautau_minus_mumu": r"$\varepsilon^u_{\tau\tau} - \varepsilon^u_{\mu\mu}$",
              "eps_emu_re": r"$\varepsilon^u_{e\mu}$", "eps_etau_re": r"$\varepsilon^u_{e\tau}$",
              "eps_mutau_re": r"$\varepsilon^u_{\mu\tau}$", "eps_D": r"$\varepsilon^u_D$",
              "eps_N_re": r"$\varepsilon^u_N$"}
    present = [p for p in order if p in set(sources["globalfit"].parameter)]
    drawn = intervals_figure(sources, present, ["LMA", "LMA+LMA-D"], labels,
                             title="Up-quark NSI: 90 % CL (thick) and 3 sigma (thin); | best fit")
    print(f"wrote {save_figure(drawn, output)}")


def cost(card: str = "configs/full_matrix_u.yaml") -> None:
    from globalfit.frequentist import load_posterior
    from globalfit.samplers.minimize import minimize_chi2, posterior_chi2

    posterior, _, _ = load_posterior(card)
    chi2 = posterior_chi2(posterior)
    names = list(posterior.names)
    theta = posterior.reference_theta().copy()
    theta[names.index("dm31")] = 2.5e-3      # the reference has dm31 = 0 (the prior's centre)
    theta[names.index("eps_ee_minus_mumu")] = 0.0
    times = []
    for shift in (1e-3, 2e-3, 3e-3, 4e-3, 5e-3):  # a new point each time (no cache)
        point = theta.copy()
        point[names.index("eps_mutau_re")] += shift
        start = time.process_time()
        chi2(point)
        times.append(time.process_time() - start)
    print(f"one evaluation: min {1e3 * min(times):.1f} ms, median {1e3 * sorted(times)[2]:.1f} ms CPU")
    start = time.process_time()
    cold = minimize_chi2(chi2, theta, posterior.bounds)
    print(f"cold minimisation: {cold.calls} evaluations, {time.process_time() - start:.1f} s CPU, "
          f"chi2 {cold.chi2:.3f}")
    index = names.index("eps_mutau_re")
    start = time.process_time()
    warm = minimize_chi2(chi2, cold.theta, posterior.bounds, fixed={index: cold.theta[index] + 0.01})
    print(f"warm minimisation: {warm.calls} evaluations, {time.process_time() - start:.1f} s CPU, "
          f"chi2 {warm.chi2:.3f}")


def starts_check(card: str = "configs/full_matrix_u.yaml", n_starts: int = 12) -> None:
    """The product's `best_fit` from ``n_starts`` Latin-hypercube starts placed by the priors
    alone and by the card's ``start`` hints (`globalfit.samplers.starts.start_unit_cube_map`),
    same seed: the chi^2 of every distinct local minimum found, and the CPU time."""
    from globalfit.frequentist import load_posterior
    from globalfit.samplers.minimize import best_fit, posterior_chi2
    from globalfit.samplers.starts import start_unit_cube_map

    posterior, _, _ = load_posterior(card)
    chi2 = posterior_chi2(posterior)
    for label, hints in (("priors", False), ("start hints", True)):
        start = time.process_time()
        fit = best_fit(chi2, posterior.bounds, n_starts, seed=3, names=posterior.names,
                       from_unit_cube=start_unit_cube_map(posterior.parameters, use_hints=hints))
        found = ", ".join(f"{m.chi2:.2f}" for m in fit.minima)
        print(f"{n_starts} starts from the {label}: {time.process_time() - start:.0f} s CPU; "
              f"distinct minima at chi2 = {found}")


def minima(card: str, n_starts: int = 6) -> None:
    """The product's search for minima of a card (`posterior_minima`, what `globalfit table
    --profile` runs first), seed 0 as in the table: each region's lowest minimum, its chi^2 per
    likelihood and the NSI at it (display units)."""
    from globalfit.frequentist import load_posterior, profile_regions_for
    from globalfit.samplers.minimize import posterior_chi2
    from globalfit.samplers.region_profiles import posterior_minima

    posterior, config, _ = load_posterior(card)
    regions = profile_regions_for(posterior, config.regions, None)
    start = time.process_time()
    _, fits = posterior_minima(posterior, posterior_chi2(posterior), regions, None, n_starts)
    print(f"{card}: search for minima {time.process_time() - start:.0f} s CPU")
    for label, boxes in fits.items():
        fit = min(boxes, key=lambda f: f.chi2_min)
        _, per_likelihood = posterior.log_likelihood(fit.theta)
        shown = dict(zip(posterior.names, posterior.to_display(fit.theta)))
        print(f"  {label}: chi2 {fit.chi2_min:.3f} ("
              + ", ".join(f"{k} {v:.2f}" for k, v in per_likelihood.items()) + "); "
              + ", ".join(f"{k} {v:.4g}" for k, v in shown.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="*", help="`globalfit table --profile --format csv` outputs")
    parser.add_argument("--also", nargs="+", default=[], metavar="CSV",
                        help="outputs of a second card (configs/full_matrix_u_lbl.yaml), printed "
                             "below each row")
    parser.add_argument("--cost", action="store_true", help="time one evaluation and one cold "
                        "and one warm minimisation of configs/full_matrix_u.yaml")
    parser.add_argument("--starts-check", action="store_true", help="best fits of "
                        "configs/full_matrix_u.yaml from starts placed by the priors and by the "
                        "card's start hints")
    parser.add_argument("--minima", nargs="+", default=[], metavar="CARD",
                        help="each card's lowest minimum per region, chi^2 per likelihood")
    parser.add_argument("--figure", default=None, metavar="PATH",
                        help="also draw the rows beside the published ones (PNG and PDF)")
    args = parser.parse_args()
    if args.cost:
        cost()
    if args.starts_check:
        starts_check()
    for card in args.minima:
        minima(card)
    if args.csv:
        tables = [pd.read_csv(path) for path in args.csv]
        also = [pd.read_csv(path) for path in args.also]
        print(comparison(tables, also))
        if args.figure:
            figure(tables, also, args.figure)


if __name__ == "__main__":
    main()
