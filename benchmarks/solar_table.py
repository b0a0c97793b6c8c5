"""LMA vs LMA-Dark profile table from solar + KamLAND data beside the published one
(issue #8; Esteban et al., JHEP 08 (2018) 180, arXiv:1805.04530).

A thin caller of the product: the table is `globalfit.frequentist.profile_card` on the run
card (the same as ``globalfit table CARD --profile --split "th12 < 45 deg"``); this script
only adds the published up-quark rows and the timing.

    python benchmarks/solar_table.py [--card configs/lma_vs_lmad_u.yaml] [--cores N]
                                     [--baseline] [--json out.json]
    python benchmarks/solar_table.py --tension docs/figures/solar_tension.png

``--baseline`` drops the SK-IV spectrum and SNO's Table XXVI weights from the card (solar +
KamLAND release only). ``--tension`` draws the Dm21 profiles of solar data alone (no NSI, and
eps_ee - eps_mumu = +0.30) and of KamLAND alone (th12 profiled in the LMA region).
"""
from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import numpy as np
import yaml

from globalfit.frequentist import profile_card, profile_curves
from globalfit.statistics import allowed_intervals

ROOT = Path(__file__).resolve().parent.parent
SPLIT = "th12 < 45 deg"
PARAMETERS = ("eps_ee_minus_mumu", "eps_D", "eps_N")
ESTEBAN_U = {
    "eps_ee_minus_mumu": {"best": 0.298, "90% LMA": [(0.00, 0.51)], "90% LMA+LMA-D": [(0.00, 0.51), (-1.19, -0.81)],
                          "3sigma LMA": [(-0.09, 0.71)], "3sigma LMA+LMA-D": [(-0.09, 0.71), (-1.40, -0.68)]},
    "eps_D": {"best": -0.140, "90% LMA": [(-0.24, -0.01)], "90% LMA+LMA-D": [(-0.24, -0.01), (0.40, 0.58)],
              "3sigma LMA": [(-0.34, 0.04)], "3sigma LMA+LMA-D": [(-0.34, 0.04), (0.34, 0.67)]},
    "eps_N": {"best": -0.030, "90% LMA": [(-0.14, 0.13)], "90% LMA+LMA-D": [(-0.15, 0.13)],
              "3sigma LMA": [(-0.29, 0.21)], "3sigma LMA+LMA-D": [(-0.29, 0.21)]},
}
"""Published up-quark rows (Esteban et al. 2018, as quoted in issue #8)."""


def read_card(path: str | Path, baseline: bool = False) -> dict:
    """The run card; ``baseline``: without the SK-IV spectrum and SNO's Table XXVI weights.
    The card's releases are read from the data folder (``globalfit data path``)."""
    card = yaml.safe_load(Path(path).read_text())
    if baseline:
        card = copy.deepcopy(card)
        card["likelihoods"].pop("superk_iv_spectrum", None)
        card["likelihoods"]["solar"] = {}
    return card


def fmt(intervals) -> str:
    parts = sorted((a, b) for a, b in intervals if np.isfinite(a))
    return " + ".join(f"[{a:+.2f}, {b:+.2f}]" for a, b in parts) or "none"


def rows_of(table) -> dict:
    """``{parameter: {"best": ..., "<level> <region>": [(low, high), ...]}}`` from the long table."""
    out: dict = {}
    for (name, region, level), group in table.groupby(["parameter", "region", "level"], sort=False):
        label = {"LMA": "LMA", "LMA-D": "LMA-D", "LMA+LMA-D": "LMA+LMA-D"}.get(region, region)
        out.setdefault(name, {})[f"{level} {label}"] = list(zip(group["low"], group["high"]))
        out[name][f"best {label}"] = float(group["best_fit"].iloc[0])
    return out


def markdown(table, seconds: float) -> str:
    rows = rows_of(table)
    minima = table.attrs["chi2_min"]
    lines = [f"chi2_min LMA {minima['LMA']:.3f}, LMA-D {minima['LMA-D']:.3f} (Delta chi2 LMA-D - LMA"
             f" = {minima['LMA-D'] - minima['LMA']:+.2f}); {seconds:.0f} s.", "",
             "| param | | best fit (LMA / LMA-D) | 90% LMA | 90% LMA+LMA-D | 3 sigma LMA | 3 sigma LMA+LMA-D |",
             "|---|---|---|---|---|---|---|"]
    for name in PARAMETERS:
        r = rows[name]
        lines.append(f"| {name} | ours | {r['best LMA']:+.3f} / {r['best LMA-D']:+.3f} | {fmt(r['90% LMA'])} | "
                     f"{fmt(r['90% LMA+LMA-D'])} | {fmt(r['3sigma LMA'])} | {fmt(r['3sigma LMA+LMA-D'])} |")
        e = ESTEBAN_U[name]
        lines.append(f"| | Esteban 2018 (u) | {e['best']:+.3f} | {fmt(e['90% LMA'])} | {fmt(e['90% LMA+LMA-D'])} | "
                     f"{fmt(e['3sigma LMA'])} | {fmt(e['3sigma LMA+LMA-D'])} |")
    return "\n".join(lines)


def tension(card: dict, figure: str | None, cores: int = 1) -> str:
    """Dm21 preferred by solar data alone and by KamLAND alone (th12 profiled, LMA region)."""
    c13sq = np.cos(np.radians(8.58)) ** 2
    solar = [name for name in ("solar", "superk_iv_spectrum") if name in card["likelihoods"]]
    cases = {"solar, no NSI": (solar, 0.0), "solar, eps^u_ee - eps^u_mumu = +0.30": (solar, -0.15 * c13sq),
             "KamLAND": (["kamland"], 0.0)}
    curves = {}
    for label, (names, eps_d) in cases.items():
        one = copy.deepcopy(card)
        one["likelihoods"] = {name: card["likelihoods"][name] for name in names}
        one["parameters"].update(eps_D={"value": eps_d}, eps_N={"value": 0.0})
        one["parameters"]["dm21"].update(min=3.0e-5, max=11.0e-5)
        ((_, profiles),) = profile_curves(one, ["dm21"], split=SPLIT, n_grid=81, cores=cores).values()
        curves[label] = profiles["LMA"]
    kamland = curves["KamLAND"].best_value
    lines = ["| data | Dm21 best fit [1e-5 eV^2] | 1 sigma range | Delta chi^2 at KamLAND's best fit |",
             "|---|---|---|---|"]
    for label, profile in curves.items():
        delta = profile.chi2 - profile.minimum_chi2
        ((low, high),) = allowed_intervals(profile.grid, delta, 1.0)[:1]
        at_kamland = float(np.interp(kamland, profile.grid, delta))
        lines.append(f"| {label} | {profile.best_value * 1e5:.2f} | [{low * 1e5:.2f}, {high * 1e5:.2f}] | "
                     f"{at_kamland:.2f} |")
    if figure:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        for label, profile in curves.items():
            label = label.replace("eps^u_ee - eps^u_mumu", r"$\varepsilon^u_{ee} - \varepsilon^u_{\mu\mu}$")
            ax.plot(profile.grid * 1e5, profile.chi2 - profile.minimum_chi2, label=label)
        ax.set_xlabel(r"$\Delta m^2_{21}$ [$10^{-5}$ eV$^2$]")
        ax.set_ylabel(r"$\Delta\chi^2$ (profiled over $\theta_{12}$)")
        ax.set_ylim(0, 12)
        ax.axhline(1.0, color="grey", lw=0.5)
        ax.axhline(4.0, color="grey", lw=0.5, ls="--")
        ax.legend(fontsize=8)
        ax.set_title("Solar vs KamLAND $\\Delta m^2_{21}$ (globalfit, issue #8)", fontsize=9)
        fig.tight_layout()
        fig.savefig(figure, dpi=120)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--card", default=str(ROOT / "configs" / "lma_vs_lmad_u.yaml"))
    parser.add_argument("--baseline", action="store_true",
                        help="without the SK-IV spectrum and SNO's Table XXVI weights")
    parser.add_argument("--cores", type=int, default=1, help="parameters profiled in parallel")
    parser.add_argument("--json", default=None, help="write the long table here (JSON records)")
    parser.add_argument("--tension", default=None, metavar="PNG",
                        help="instead of the table: solar vs KamLAND Dm21 profiles, figure to PNG")
    args = parser.parse_args()
    card = read_card(args.card, args.baseline)
    if args.tension:
        print(tension(card, args.tension, args.cores))
        return
    started = time.perf_counter()
    table = profile_card(card, split=SPLIT, parameters=PARAMETERS, cores=args.cores, progress=True)
    print(markdown(table, time.perf_counter() - started))
    if args.json:
        Path(args.json).write_text(json.dumps(table.to_dict("records"), indent=1))


if __name__ == "__main__":
    main()
