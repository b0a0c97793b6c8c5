"""One-parameter profiles of up-quark NSI with IceCube DeepCore 3-year data alone.

For each NSI parameter of ``configs/deepcore_nsi_u.yaml`` (model ``nsi_matrix``), the card
is rebuilt with the other NSI parameters fixed at zero, and the product's profile-table
function (`globalfit.profile_tables.profile_table`, what ``globalfit table RUN --profile`` calls)
profiles it over th23 and dm31: best fit, 90 % and 3 sigma ranges. Used in
docs/reproductions/atmospheric.md.

    OMP_NUM_THREADS=1 python benchmarks/atmospheric_nsi_table.py [--parameters eps_mutau_re,...]
        [--grid 11] [--starts 2] [--card configs/deepcore_nsi_u.yaml] [--also-free NAMES]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from globalfit.config import load_config
from globalfit.posterior import build_posterior
from globalfit.profile_tables import profile_table
from globalfit.table_format import profile_rows, to_markdown

NSI_PARAMETERS = ("eps_tautau_minus_mumu", "eps_mutau_re", "eps_emu_re", "eps_etau_re", "eps_ee_minus_mumu")


def one_parameter_card(card: dict, keep: str, also_free: tuple = ()) -> dict:
    """``card`` with every NSI parameter but ``keep`` (and ``also_free``) fixed at zero."""
    out = dict(card, parameters=dict(card["parameters"]))
    for name in out["parameters"]:
        if name.startswith("eps_") and name != keep and name not in also_free:
            out["parameters"][name] = {"value": 0.0}
    out["name"] = f"{card['name']}_{keep}"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--card", default="configs/deepcore_nsi_u.yaml")
    parser.add_argument("--parameters", default=",".join(NSI_PARAMETERS))
    parser.add_argument("--grid", type=int, default=11)
    parser.add_argument("--starts", type=int, default=2)
    parser.add_argument("--also-free", default="", help="NSI parameters profiled as well (comma-separated)")
    args = parser.parse_args()
    card = yaml.safe_load(Path(args.card).read_text())
    rows = []
    for name in args.parameters.split(","):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "config.yaml"
            also_free = tuple(n for n in args.also_free.split(",") if n)
            path.write_text(yaml.safe_dump(one_parameter_card(card, name, also_free)))
            posterior = build_posterior(load_config(path))
            start = time.perf_counter()
            table = profile_table(posterior, [name], n_grid=args.grid, n_starts=args.starts)
            rows.append(profile_rows(table))
            print(f"{name}: profiled in {time.perf_counter() - start:.0f} s; chi2_min "
                  f"{table.attrs['chi2_min_global']:.2f}", flush=True)
    title = (f"DeepCore 3y alone, one up-quark NSI parameter at a time (others 0"
             f"{', except ' + args.also_free + ' profiled' if args.also_free else ''}), "
             f"th23 and dm31 profiled, grid {args.grid}")
    print(to_markdown(pd.concat(rows, ignore_index=True), title))


if __name__ == "__main__":
    main()
