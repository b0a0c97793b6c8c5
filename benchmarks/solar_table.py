"""LMA vs LMA-Dark profile table from solar + KamLAND data (issue #8; Esteban et al., JHEP 08 (2018) 180).

Profiles chi^2 = chi^2_solar + chi^2_KamLAND over th12, dm21, eps_D, eps_N of one fermion
(model ``solar_nsi``; th13, th23, dcp, dm31 fixed at NuFIT 5.2), separately in the LMA
(th12 < 45 deg) and LMA-Dark (th12 > 45 deg) regions: for each grid value of the parameter
of interest the other three are minimised (L-BFGS-B, warm starts from the neighbour and
from each region's best fit). Prints the rows of the published table (best fit, 90 % CL and
3 sigma ranges, LMA and LMA + LMA-D, Delta chi^2 = 2.71 and 9 relative to the global minimum)
for eps_D, eps_N and eps_ee - eps_mumu = -2 eps_D / c13^2 (exact for this model's mapping),
and the LMA-Dark minimum's Delta chi^2.

    python benchmarks/solar_table.py --fermion u [--release /path/to/shared/data] [--json out.json]
                                     [--superk-spectrum] [--sno-table]

With ``--release`` KamLAND uses the 2011 binned spectrum release (``kamland/``) with the
PRIS operating history (``reactors/``); otherwise its built-in 2008 summary.
``--superk-spectrum`` adds the SK-IV recoil spectrum shape (``superk/``, likelihood
``superk_iv_spectrum``) to the solar part; ``--sno-table`` fits SNO's polynomial with the CC
weights of SNO's Table XXVI (``sno/sno_sensitivity.csv``).
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
from scipy import optimize

from globalfit.likelihood import Point
from globalfit.models.solar_nsi import SolarNSI
from globalfit.samplers.profile import allowed_intervals as intervals_below
from likelihoods.kamland import KamLANDLikelihood
from likelihoods.solar import SolarLikelihood

FIXED = {"th13": np.radians(8.58), "th23": np.radians(42.2), "dcp": np.radians(232.0), "dm31": 2.507e-3}
REGIONS = {"LMA": (np.radians(20.0), np.radians(45.0)), "LMA-D": (np.radians(45.0), np.radians(75.0))}
BOUNDS = {"dm21": (3.0e-5, 12.0e-5), "eps_D": (-1.0, 1.2), "eps_N": (-0.8, 0.8)}
GRIDS = {"eps_D": np.round(np.arange(-0.80, 1.001, 0.02), 4), "eps_N": np.round(np.arange(-0.75, 0.451, 0.02), 4)}
LEVELS = {"90%": 2.7055, "3sigma": 9.0}
ESTEBAN_U = {
    "eps_ee_minus_mumu": {"best": 0.298, "90% LMA": [(0.00, 0.51)], "90% LMA+LMA-D": [(0.00, 0.51), (-1.19, -0.81)],
                          "3sigma LMA": [(-0.09, 0.71)], "3sigma LMA+LMA-D": [(-0.09, 0.71), (-1.40, -0.68)]},
    "eps_D": {"best": -0.140, "90% LMA": [(-0.24, -0.01)], "90% LMA+LMA-D": [(-0.24, -0.01), (0.40, 0.58)],
              "3sigma LMA": [(-0.34, 0.04)], "3sigma LMA+LMA-D": [(-0.34, 0.04), (0.34, 0.67)]},
    "eps_N": {"best": -0.030, "90% LMA": [(-0.14, 0.13)], "90% LMA+LMA-D": [(-0.15, 0.13)],
              "3sigma LMA": [(-0.29, 0.21)], "3sigma LMA+LMA-D": [(-0.29, 0.21)]},
}
"""Published up-quark rows (Esteban et al. 2018, as quoted in issue #8)."""


class SolarKamLANDChi2:
    """chi^2(th12, dm21, eps_D, eps_N) of solar + KamLAND for one fermion."""

    def __init__(self, fermion: str, release: str | None, superk_spectrum: bool = False, sno_table: bool = False):
        self.model = SolarNSI(fermion=fermion)
        if (superk_spectrum or sno_table) and not release:
            raise ValueError("--superk-spectrum and --sno-table need --release (the folder of the public releases)")
        self.solar = SolarLikelihood(**({"sno_table": f"{release}/sno/sno_sensitivity.csv"} if sno_table else {}))
        self.superk = None
        if superk_spectrum:
            from likelihoods.superk_spectrum import SuperKSpectrumLikelihood

            self.superk = SuperKSpectrumLikelihood(release_path=f"{release}/superk")
        if release:
            self.kamland = KamLANDLikelihood(release_path=f"{release}/kamland", reactors_path=f"{release}/reactors")
        else:
            self.kamland = KamLANDLikelihood()
        self.calls = 0

    def point(self, th12, dm21, eps_d, eps_n) -> Point:
        params = dict(FIXED, th12=th12, dm21=dm21, eps_D=eps_d, eps_N=eps_n)
        return Point(params, self.model.couplings(params))

    def parts(self, th12, dm21, eps_d, eps_n) -> tuple[float, float]:
        self.calls += 1
        p = self.point(th12, dm21, eps_d, eps_n)
        solar = self.solar.chi2(p) + (self.superk.chi2(p) if self.superk is not None else 0.0)
        return solar, self.kamland.chi2(p)

    def __call__(self, th12, dm21, eps_d, eps_n) -> float:
        return float(sum(self.parts(th12, dm21, eps_d, eps_n)))


ORDER = ("th12", "dm21", "eps_D", "eps_N")
SCALE = {"th12": 1.0, "dm21": 1e-5, "eps_D": 1.0, "eps_N": 1.0}


def minimise(chi2, fixed: dict, start: dict, region) -> tuple[float, dict]:
    """Minimise over the parameters not in ``fixed`` from ``start`` inside ``region``."""
    free = [n for n in ORDER if n not in fixed]
    bounds = {"th12": region, **BOUNDS}

    def objective(x):
        values = dict(fixed, **{n: v * SCALE[n] for n, v in zip(free, x)})
        return chi2(*(values[n] for n in ORDER))

    x0 = [np.clip(start[n], *bounds[n]) / SCALE[n] for n in free]
    b = [(bounds[n][0] / SCALE[n], bounds[n][1] / SCALE[n]) for n in free]
    result = optimize.minimize(objective, x0, method="L-BFGS-B", bounds=b,
                               options={"eps": 1e-6, "maxiter": 200, "ftol": 1e-9})
    best = dict(fixed, **{n: v * SCALE[n] for n, v in zip(free, result.x)})
    return float(result.fun), best


def region_best_fit(chi2, region, starts) -> tuple[float, dict]:
    fits = [minimise(chi2, {}, s, region) for s in starts]
    return min(fits, key=lambda f: f[0])


SEED_EPS_N = (-0.6, -0.3, 0.3)
"""Extra starting values of eps_N at every grid point: solar + KamLAND alone leave a valley at
large negative eps_N (correlated with eps_D) that warm starts from the neighbour miss."""


def profile(chi2, name: str, grid, region, best: dict) -> np.ndarray:
    """Profile chi^2 on ``grid``: at each point minimise from the neighbour's solution (sweeps
    up and down), from the region's best fit and from `SEED_EPS_N` starts; keep the lowest."""
    values = np.full(len(grid), np.inf)
    fits: list = [None] * len(grid)
    seeds = [dict(best, eps_N=e) for e in SEED_EPS_N] if name != "eps_N" else \
        [dict(best, eps_D=d) for d in (-0.4, 0.0, 0.5)]
    for i in range(len(grid)):
        for start in [best] + seeds:
            value, fit = minimise(chi2, {name: grid[i]}, start, region)
            if value < values[i]:
                values[i], fits[i] = value, fit
    for order in (range(1, len(grid)), range(len(grid) - 2, -1, -1)):
        for i in order:
            neighbour = fits[i - 1] if order.step == 1 else fits[i + 1]
            value, fit = minimise(chi2, {name: grid[i]}, neighbour, region)
            if value < values[i]:
                values[i], fits[i] = value, fit
    return values


def allowed_intervals(grid, delta, level) -> list[tuple[float, float]]:
    """Intervals where ``delta < level`` (endpoints interpolated linearly in Delta chi^2)."""
    return intervals_below(grid, delta, level, interpolation="linear")


def fmt(intervals, scale=1.0) -> str:
    if not intervals:
        return "none"
    parts = sorted((min(a * scale, b * scale), max(a * scale, b * scale)) for a, b in intervals)
    return " + ".join(f"[{a:+.2f}, {b:+.2f}]" for a, b in parts)


def run(fermion: str, release: str | None, step: float = 0.02, **extra) -> dict:
    chi2 = SolarKamLANDChi2(fermion, release, **extra)
    grids = {name: np.round(np.arange(grid[0], grid[-1] + 1e-9, step), 4) for name, grid in GRIDS.items()}
    t0 = time.perf_counter()
    lma_starts = [dict(th12=np.radians(33.5), dm21=7.4e-5, eps_D=d, eps_N=0.0) for d in (-0.3, -0.1, 0.1)]
    dark_starts = [dict(th12=np.radians(56.5), dm21=7.4e-5, eps_D=d, eps_N=0.0) for d in (0.3, 0.45, 0.6)]
    bests = {"LMA": region_best_fit(chi2, REGIONS["LMA"], lma_starts),
             "LMA-D": region_best_fit(chi2, REGIONS["LMA-D"], dark_starts)}
    global_min = min(v[0] for v in bests.values())
    c13sq = np.cos(FIXED["th13"]) ** 2
    out = {"fermion": fermion, "kamland": "2011 release spectrum" if release else "2008 summary",
           "solar": "solar" + (" + SNO Table XXVI weights" if extra.get("sno_table") else "")
           + (" + SK-IV spectrum" if extra.get("superk_spectrum") else ""),
           "chi2_min": {k: v[0] for k, v in bests.items()},
           "best_fit": {k: {n: float(v[1][n]) for n in ORDER} for k, v in bests.items()},
           "delta_chi2_lma_dark": bests["LMA-D"][0] - bests["LMA"][0], "rows": {}}
    profiles = {}
    for name, grid in grids.items():
        profiles[name] = {r: profile(chi2, name, grid, REGIONS[r], bests[r][1]) for r in REGIONS}
    for name, grid in grids.items():
        lma = profiles[name]["LMA"] - global_min
        both = np.minimum(profiles[name]["LMA"], profiles[name]["LMA-D"]) - global_min
        rows = {"best": bests["LMA" if bests["LMA"][0] <= bests["LMA-D"][0] else "LMA-D"][1][name]}
        for level, value in LEVELS.items():
            rows[f"{level} LMA"] = allowed_intervals(grid, lma, value)
            rows[f"{level} LMA+LMA-D"] = allowed_intervals(grid, both, value)
        out["rows"][name] = rows
        out.setdefault("profiles", {})[name] = {"grid": grid.tolist(), "LMA": profiles[name]["LMA"].tolist(),
                                                "LMA-D": profiles[name]["LMA-D"].tolist()}
    scale = -2.0 / c13sq
    d = out["rows"]["eps_D"]
    out["rows"]["eps_ee_minus_mumu"] = {k: (v * scale if k == "best" else [(a * scale, b * scale) for a, b in v])
                                        for k, v in d.items()}
    out["seconds"] = time.perf_counter() - t0
    out["chi2_calls"] = chi2.calls
    return out


def markdown(result: dict) -> str:
    lines = [f"Fermion {result['fermion']}; {result['solar']}; KamLAND: {result['kamland']}; chi2_min LMA "
             f"{result['chi2_min']['LMA']:.2f}, LMA-D {result['chi2_min']['LMA-D']:.2f} "
             f"(Delta chi2 LMA-D - LMA = {result['delta_chi2_lma_dark']:+.2f}); "
             f"{result['chi2_calls']} chi2 calls in {result['seconds']:.0f} s.", "",
             "| param | best fit | 90% LMA | 90% LMA+LMA-D | 3 sigma LMA | 3 sigma LMA+LMA-D |",
             "|---|---|---|---|---|---|"]
    for name in ("eps_ee_minus_mumu", "eps_D", "eps_N"):
        r = result["rows"][name]
        lines.append(f"| {name} (ours) | {r['best']:+.3f} | {fmt(r['90% LMA'])} | {fmt(r['90% LMA+LMA-D'])} | "
                     f"{fmt(r['3sigma LMA'])} | {fmt(r['3sigma LMA+LMA-D'])} |")
        if result["fermion"] == "u":
            e = ESTEBAN_U[name]
            lines.append(f"| {name} (Esteban 2018) | {e['best']:+.3f} | {fmt(e['90% LMA'])} | "
                         f"{fmt(e['90% LMA+LMA-D'])} | {fmt(e['3sigma LMA'])} | {fmt(e['3sigma LMA+LMA-D'])} |")
    for region, fit in result["best_fit"].items():
        lines.append("")
        lines.append(f"Best fit {region}: th12 = {np.degrees(fit['th12']):.2f} deg, dm21 = {fit['dm21']:.3e} eV^2, "
                     f"eps_D = {fit['eps_D']:+.3f}, eps_N = {fit['eps_N']:+.3f}")
    return "\n".join(lines)


def tension(release: str | None, figure: str | None, **extra) -> str:
    """Dm21 preferred by solar data alone (no NSI; eps_D^u = -0.15, i.e. eps_ee - eps_mumu
    = +0.30, eps_N = 0) and by KamLAND alone: profiles over th12 (LMA), 1-sigma ranges."""
    chi2 = SolarKamLANDChi2("u", release, **extra)
    grid = np.linspace(3.0e-5, 11.0e-5, 161)
    lma = REGIONS["LMA"]

    def profile_dm21(part: int, eps_d: float) -> np.ndarray:
        def one(dm21):
            f = lambda x: chi2.parts(x[0], dm21, eps_d, 0.0)[part]  # noqa: E731
            r = optimize.minimize_scalar(lambda t: f([t]), bounds=lma, method="bounded", options={"xatol": 1e-4})
            return r.fun
        return np.array([one(dm) for dm in grid])

    curves = {"solar, no NSI": profile_dm21(0, 0.0),
              "solar, eps^u_ee - eps^u_mumu = +0.30": profile_dm21(0, -0.15 * np.cos(FIXED["th13"]) ** 2),
              "KamLAND": profile_dm21(1, 0.0)}
    kamland_best = grid[np.argmin(curves["KamLAND"])]
    lines = ["| data | Dm21 best fit [1e-5 eV^2] | 1 sigma range | Delta chi^2 at KamLAND's best fit |",
             "|---|---|---|---|"]
    for label, curve in curves.items():
        delta = curve - curve.min()
        fine = np.linspace(grid[0], grid[-1], 2001)
        fine_delta = np.interp(fine, grid, delta)
        inside = fine[fine_delta < 1.0]
        at_kamland = float(np.interp(kamland_best, grid, delta))
        lines.append(f"| {label} | {grid[np.argmin(curve)] * 1e5:.2f} | [{inside.min() * 1e5:.2f}, "
                     f"{inside.max() * 1e5:.2f}] | {at_kamland:.2f} |")
    if figure:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        for label, curve in curves.items():
            label = label.replace("eps^u_ee - eps^u_mumu", r"$\varepsilon^u_{ee} - \varepsilon^u_{\mu\mu}$")
            ax.plot(grid * 1e5, curve - curve.min(), label=label)
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
    parser.add_argument("--fermion", choices=("u", "d"), default="u")
    parser.add_argument("--release", default=None, help="folder holding kamland/ and reactors/ releases")
    parser.add_argument("--json", default=None, help="write the full result (with profiles) here")
    parser.add_argument("--step", type=float, default=0.02, help="grid step of eps_D and eps_N (default 0.02)")
    parser.add_argument("--tension", default=None, metavar="PNG",
                        help="instead of the table: solar vs KamLAND Dm21 profiles, figure to PNG")
    parser.add_argument("--superk-spectrum", action="store_true",
                        help="add the SK-IV recoil spectrum shape (superk_iv_spectrum; needs --release)")
    parser.add_argument("--sno-table", action="store_true",
                        help="SNO polynomial fit weights from SNO's Table XXVI release (needs --release)")
    args = parser.parse_args()
    extra = {"superk_spectrum": args.superk_spectrum, "sno_table": args.sno_table}
    if args.tension:
        print(tension(args.release, args.tension, **extra))
        return
    result = run(args.fermion, args.release, args.step, **extra)
    print(markdown(result))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=1)


if __name__ == "__main__":
    main()
