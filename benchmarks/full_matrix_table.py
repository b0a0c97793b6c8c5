"""The up-quark NSI table of configs/full_matrix_u.yaml beside the published one (issue #16).

The rows come from the product's command, one row per invocation so that an interrupted run
keeps the rows already done (docs/reproductions/atmospheric.md gives the timings)::

    GLOBALFIT_DATA=../shared/data OMP_NUM_THREADS=1 globalfit table configs/full_matrix_u.yaml \\
        --profile --parameters ROW --grid 9 --starts 6 --sweep outward --refine points \\
        --format csv --output out/full_matrix/ROW.csv

This script only reads those CSV files (the long format ``parameter, region, level, best_fit,
low, high``) and prints each row beside Esteban et al., JHEP 08 (2018) 180, arXiv:1805.04530
(``data/nsi/esteban2018_up_quarks.yaml``, with its provenance)::

    python benchmarks/full_matrix_table.py out/full_matrix/*.csv

``--cost`` times what one row is made of, on the card's posterior (CPU, one process): one
evaluation, a cold minimisation from the card's reference point (the product's
``minimize_chi2``) and a warm one from its result with ``eps_mutau_re`` moved by 0.01 (a
neighbouring grid point)::

    GLOBALFIT_DATA=../shared/data OMP_NUM_THREADS=1 python benchmarks/full_matrix_table.py --cost

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


def comparison(tables: list[pd.DataFrame]) -> str:
    theirs = published()
    lines = ["| row | | best fit | 90 % LMA | 90 % LMA+LMA-D | 3 sigma LMA | 3 sigma LMA+LMA-D |",
             "|---|---|---|---|---|---|---|"]
    for name, table in pd.concat(tables).groupby("parameter", sort=False):
        row = NAMES.get(name, name)
        labels = list(dict.fromkeys(table.region))
        regions = [label for label in labels if "+" not in label]
        union = next(label for label in labels if "+" in label)
        best = " / ".join(f"{table[table.region == r].best_fit.iloc[0]:+.3f} ({r})" for r in regions)
        lines.append(f"| {row} | ours | {best} | "
                     + " | ".join(ours(table, region, level) for level in ("90%", "3sigma")
                                  for region in (regions[0], union)) + " |")
        if row in theirs:
            t = theirs[row]
            lines.append(f"| | Esteban 2018 | {t['best']:+.3f} | "
                         + " | ".join(pieces(t[level][region]) for level in ("cl90", "sigma3")
                                      for region in ("LMA", "LMA+LMA-D")) + " |")
    return "\n".join(lines)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", nargs="*", help="`globalfit table --profile --format csv` outputs")
    parser.add_argument("--cost", action="store_true", help="time one evaluation and one cold "
                        "and one warm minimisation of configs/full_matrix_u.yaml")
    parser.add_argument("--starts-check", action="store_true", help="best fits of "
                        "configs/full_matrix_u.yaml from starts placed by the priors and by the "
                        "card's start hints")
    args = parser.parse_args()
    if args.cost:
        cost()
    if args.starts_check:
        starts_check()
    if args.csv:
        print(comparison([pd.read_csv(path) for path in args.csv]))


if __name__ == "__main__":
    main()
