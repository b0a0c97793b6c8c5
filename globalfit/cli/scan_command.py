"""``globalfit scan``: fixed-purpose frequentist scans.

Each scan is a sub-command registered in `SCANS` (name -> (help, configure, run)); adding
a scan is adding an entry. Available:

``lma-dark``
    The LMA-Dark test of Denton, Farzan and Shoemaker (arXiv:1804.03660) against CEvNS:
    the model ``eps^u = eps^d = diag(x/4 - 1/2, x/4, x/4)`` with a vector mediator of mass
    ``m_Z'`` (physics.md section 9; ``(eps_ee, eps_mumu, eps_tautau) = (x - 2, x, x)`` in
    matter, so LMA-Dark in oscillations for every ``x``). For each ``m_Z'``::

        Delta chi2(m_Z') = min_{x, nuisances} chi2_LMAD(x, m_Z') - min_{nuisances} chi2_SM

    i.e. relative to the Standard Model (no NSI; the standard LMA solution, which fits
    CEvNS). LMA-Dark "survives" at 95 % CL where ``Delta chi2 < 3.84`` (one degree of
    freedom, the usual convention for a fixed mediator mass). The command prints, per
    data set and for their sum, the ``m_Z'`` below which LMA-Dark survives (log-linear
    interpolation of the crossing).
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

import numpy as np

from globalfit.couplings import Couplings
from globalfit.physics.constants import MEV
from globalfit.statistics import (
    CL90_1DOF,
    CL90_2DOF,
    CL95_1DOF,
    allowed_intervals,
    first_upward_crossing,
)

HELP = "frequentist scans (e.g. 'scan lma-dark': LMA-Dark vs CEvNS as a function of m_Z')"

DEFAULT_LMA_DARK_DATASETS = ("coherent_csi_2017", "coherent_csi_2021", "coherent_lar_2020")
CEVNS_DATASETS = DEFAULT_LMA_DARK_DATASETS + ("conus",)
X_RANGE = (-10.0, 10.0)


# --- physics of the scan ------------------------------------------------------------------
def lma_dark_couplings(x: float, mzp_gev: float | None) -> Couplings:
    """``eps^u = eps^d = diag(x/4 - 1/2, x/4, x/4)`` with mediator mass ``mzp_gev``."""
    eps = np.diag([x / 4.0 - 0.5, x / 4.0, x / 4.0])
    return Couplings(eps0={"u": eps, "d": eps}, mzp_gev=mzp_gev)


def build_cevns_likelihoods(names: Sequence[str], release_root: str | None = None) -> dict:
    """Instantiate the named CEvNS likelihoods (release mode when ``release_root`` holds
    a folder of the same name)."""
    from pathlib import Path

    from globalfit.registry import likelihood_class

    result = {}
    for name in names:
        if name not in CEVNS_DATASETS:
            raise ValueError(f"--datasets: {name!r} is not a CEvNS data set; choose from "
                             f"{', '.join(CEVNS_DATASETS)}")
        options = {}
        if release_root is not None and name != "conus":
            folder = Path(release_root) / name
            if not folder.is_dir():
                raise ValueError(f"--release-root: {str(folder)!r} not found")
            options["release_path"] = str(folder)
        result[name] = likelihood_class(name)(**options)
    return result


def profile_over_x(chi2_of_x: Callable[[float], float], x_range=X_RANGE,
                   grid_points: int = 201) -> tuple[float, float]:
    """``(min chi2, argmin x)`` on a grid followed by a bounded Brent refinement."""
    from scipy.optimize import minimize_scalar

    grid = np.linspace(*x_range, grid_points)
    values = np.array([chi2_of_x(x) for x in grid])
    best = int(np.argmin(values))
    lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, grid_points - 1)]
    refined = minimize_scalar(chi2_of_x, bounds=(lo, hi), method="bounded",
                              options={"xatol": 1e-6})
    if refined.fun < values[best]:
        return float(refined.fun), float(refined.x)
    return float(values[best]), float(grid[best])


def lma_dark_delta_chi2(likelihoods: dict, mzp_mev: np.ndarray) -> dict[str, np.ndarray]:
    """``Delta chi2`` of LMA-Dark relative to the SM for each data set and their sum
    (key ``"combined"``), profiled over ``x`` (separately for each entry)."""
    sm = {name: lk.chi2_couplings(Couplings()) for name, lk in likelihoods.items()}
    out = {name: np.empty(len(mzp_mev)) for name in likelihoods}
    out["combined"] = np.empty(len(mzp_mev))
    for i, m in enumerate(mzp_mev):
        mzp_gev = float(m) * MEV
        for name, lk in likelihoods.items():
            chi2, _ = profile_over_x(lambda x, lk=lk, mzp_gev=mzp_gev:
                                     lk.chi2_couplings(lma_dark_couplings(x, mzp_gev)))
            out[name][i] = chi2 - sm[name]
        combined, _ = profile_over_x(lambda x, mzp_gev=mzp_gev: sum(
            lk.chi2_couplings(lma_dark_couplings(x, mzp_gev)) for lk in likelihoods.values()))
        out["combined"][i] = combined - sum(sm.values())
    return out


# --- the lma-dark sub-command ---------------------------------------------------------
def _configure_lma_dark(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--datasets", default=",".join(DEFAULT_LMA_DARK_DATASETS),
                        help="comma-separated CEvNS likelihoods (default: the three COHERENT sets; "
                             "'conus' also allowed)")
    parser.add_argument("--mzp-min", type=float, default=1.0, help="lightest m_Z' in MeV (default 1)")
    parser.add_argument("--mzp-max", type=float, default=1000.0,
                        help="heaviest m_Z' in MeV (default 1000)")
    parser.add_argument("--points", type=int, default=25, help="log-spaced m_Z' points (default 25)")
    parser.add_argument("--format", choices=("table", "csv"), default="table",
                        help="output format (default table)")
    parser.add_argument("--plot", metavar="FILE", help="draw Delta chi2 vs m_Z' into FILE (PNG/PDF)")
    parser.add_argument("--release-root", metavar="DIR",
                        help="folder holding the official COHERENT releases (coherent_csi_2017/, ...): "
                             "use the binned release likelihoods")


def _run_lma_dark(args: argparse.Namespace) -> int:
    if not (0 < args.mzp_min < args.mzp_max):
        raise ValueError(f"--mzp-min/--mzp-max: need 0 < min < max, got {args.mzp_min}, {args.mzp_max}")
    if args.points < 2:
        raise ValueError(f"--points: need at least 2, got {args.points}")
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    if not names:
        raise ValueError("--datasets: empty list")
    likelihoods = build_cevns_likelihoods(names, args.release_root)
    mzp = np.geomspace(args.mzp_min, args.mzp_max, args.points)
    curves = lma_dark_delta_chi2(likelihoods, mzp)
    thresholds = {name: first_upward_crossing(mzp, curve, CL95_1DOF) for name, curve in curves.items()}
    if args.format == "csv":
        _write_csv(mzp, curves, thresholds, sys.stdout)
    else:
        _write_table(mzp, curves, thresholds, sys.stdout)
    if args.plot:
        plot_lma_dark(mzp, curves, args.plot)
    return 0


def _write_csv(mzp, curves, thresholds, stream) -> None:
    stream.write("dataset,mzp_mev,delta_chi2\n")
    for name, curve in curves.items():
        for m, value in zip(mzp, curve):
            stream.write(f"{name},{m:.6g},{value:.6g}\n")
    stream.write("\ndataset,threshold_mzp_mev\n")
    for name, value in thresholds.items():
        stream.write(f"{name},{value:.6g}\n")


def _write_table(mzp, curves, thresholds, stream) -> None:
    names = list(curves)
    width = max(len(n) for n in names) + 2
    stream.write("LMA-Dark (x-2, x, x) vs CEvNS: Delta chi2 = min_x chi2(x, m_Z') - chi2(SM)\n")
    stream.write("m_Z' [MeV]".ljust(12) + "".join(n.rjust(width) for n in names) + "\n")
    for i, m in enumerate(mzp):
        stream.write(f"{m:<12.4g}" + "".join(f"{curves[n][i]:{width}.2f}" for n in names) + "\n")
    stream.write(f"\nLMA-Dark survives at 95% CL (Delta chi2 < {CL95_1DOF:.2f}) for m_Z' below:\n")
    for name, value in thresholds.items():
        text = ("excluded at every mass" if np.isnan(value)
                else "allowed at every mass scanned" if np.isinf(value) else f"{value:.1f} MeV")
        stream.write(f"  {name.ljust(width)} {text}\n")


def plot_lma_dark(mzp, curves, filename: str) -> None:
    """``Delta chi2`` against ``m_Z'`` with the 95 % CL line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.0, 4.2))
    for name, curve in curves.items():
        style = dict(lw=2.5, color="k") if name == "combined" else dict(lw=1.5)
        ax.plot(mzp, curve, label=name, **style)
    ax.axhline(CL95_1DOF, color="grey", ls="--", lw=1, label="95% CL (1 dof)")
    ax.set_xscale("log")
    ax.set_xlabel(r"$m_{Z'}$ [MeV]")
    ax.set_ylabel(r"$\Delta\chi^2$ (LMA-Dark $-$ SM), profiled over $x$")
    ax.set_title(r"LMA-Dark $(x-2, x, x)$ against CEvNS")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(filename, dpi=130)
    plt.close(fig)


# --- flavour-diagonal NSI bounds ----------------------------------------------------------
def _diag_couplings(eps_u: dict, eps_d: dict, mzp_gev=None) -> Couplings:
    """Couplings with diagonal entries ``{flavour index: value}`` of eps^u and eps^d."""
    u, d = np.zeros((3, 3)), np.zeros((3, 3))
    for k, v in eps_u.items():
        u[k, k] = v
    for k, v in eps_d.items():
        d[k, k] = v
    return Couplings(eps0={"u": u, "d": d}, mzp_gev=mzp_gev)


def ee_plane_chi2(likelihoods: dict, eps_u: np.ndarray, eps_d: np.ndarray) -> dict:
    """``chi2`` on the grid ``eps^u_ee x eps^d_ee`` (other NSI zero), per data set and summed."""
    out = {name: np.empty((len(eps_u), len(eps_d))) for name in likelihoods}
    for i, u in enumerate(eps_u):
        for j, d in enumerate(eps_d):
            c = _diag_couplings({0: u}, {0: d})
            for name, lk in likelihoods.items():
                out[name][i, j] = lk.chi2_couplings(c)
    out["combined"] = sum(out[name] for name in likelihoods)
    return out


def _configure_common(parser, default_datasets=DEFAULT_LMA_DARK_DATASETS) -> None:
    parser.add_argument("--datasets", default=",".join(default_datasets),
                        help="comma-separated CEvNS likelihoods (default: the three COHERENT sets)")
    parser.add_argument("--release-root", metavar="DIR",
                        help="folder holding the official COHERENT releases: binned release likelihoods")
    parser.add_argument("--plot", metavar="FILE", help="draw the result into FILE")


def _likelihoods_from(args) -> dict:
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    if not names:
        raise ValueError("--datasets: empty list")
    return build_cevns_likelihoods(names, args.release_root)


def _configure_ee_plane(parser) -> None:
    _configure_common(parser)
    parser.add_argument("--range", type=float, nargs=2, default=(-0.8, 0.8), metavar=("MIN", "MAX"),
                        help="range of eps^u_ee and eps^d_ee (default -0.8 0.8)")
    parser.add_argument("--points", type=int, default=121, help="grid points per axis (default 121)")


def _run_ee_plane(args) -> int:
    likelihoods = _likelihoods_from(args)
    grid = np.linspace(*args.range, args.points)
    chi2 = ee_plane_chi2(likelihoods, grid, grid)
    print("eps^u_ee vs eps^d_ee (other NSI zero, contact): allowed at 90% CL (2 dof, Delta chi2 < 4.61)")
    print("  eps^u_ee       eps^d_ee interval(s) of the combined fit")
    delta = chi2["combined"] - chi2["combined"].min()
    for i in range(0, len(grid), max(len(grid) // 12, 1)):
        spans = allowed_intervals(grid, delta[i], CL90_2DOF, interpolation="linear")
        text = " + ".join(f"[{a:+.3f}, {b:+.3f}]" for a, b in spans) or "none"
        print(f"  {grid[i]:+.3f}   {text}")
    if args.plot:
        _plot_plane(grid, chi2, args.plot)
    return 0


def _plot_plane(grid, chi2, filename) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.6, 5.0))
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]
    for k, (name, values) in enumerate(chi2.items()):
        colour = "k" if name == "combined" else colours[k % len(colours)]
        delta = values - values.min()
        width = 2.5 if name == "combined" else 1.2
        ax.contour(grid, grid, delta.T, levels=[CL90_2DOF], colors=[colour], linewidths=width)
        ax.plot([], [], color=colour, lw=width, label=name)
    ax.plot([0], [0], "k*", ms=8, label="SM")
    ax.set_xlabel(r"$\varepsilon^{u}_{ee}$")
    ax.set_ylabel(r"$\varepsilon^{d}_{ee}$")
    ax.set_title("COHERENT, 90% CL (2 dof), other NSI zero")
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    ax.legend(unique.values(), unique.keys(), fontsize=8, loc="upper right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(filename, dpi=130)
    plt.close(fig)


def _configure_mumu(parser) -> None:
    _configure_common(parser)
    parser.add_argument("--quark", choices=("u", "d"), default="u", help="eps^q_mumu (default u)")
    parser.add_argument("--range", type=float, nargs=2, default=(-0.5, 0.8), metavar=("MIN", "MAX"))
    parser.add_argument("--points", type=int, default=1301)


def _run_mumu(args) -> int:
    likelihoods = _likelihoods_from(args)
    values = np.linspace(*args.range, args.points)
    curves = {name: np.empty(len(values)) for name in likelihoods}
    for k, v in enumerate(values):
        c = _diag_couplings({1: v} if args.quark == "u" else {}, {1: v} if args.quark == "d" else {})
        for name, lk in likelihoods.items():
            curves[name][k] = lk.chi2_couplings(c)
    curves["combined"] = sum(curves[n] for n in likelihoods)
    print(f"eps^{args.quark}_mumu (all other NSI zero, contact): 90% CL (Delta chi2 < 2.71, 1 dof)")
    for name, curve in curves.items():
        spans = allowed_intervals(values, curve - curve.min(), CL90_1DOF, interpolation="linear")
        print(f"  {name:20s} " + (" + ".join(f"[{a:+.3f}, {b:+.3f}]" for a, b in spans) or "none"))
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6.0, 4.0))
        for name, curve in curves.items():
            ax.plot(values, curve - curve.min(), label=name,
                    **(dict(color="k", lw=2.5) if name == "combined" else {}))
        ax.axhline(CL90_1DOF, color="grey", ls="--", lw=1, label="90% CL")
        ax.set_ylim(0, 15)
        ax.set_xlabel(rf"$\varepsilon^{{{args.quark}}}_{{\mu\mu}}$")
        ax.set_ylabel(r"$\Delta\chi^2$")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=130)
        plt.close(fig)
    return 0


# --- weak mixing angle and signal strength ------------------------------------------------
def _configure_weak_angle(parser) -> None:
    _configure_common(parser)


def fit_weak_angle(likelihood) -> tuple[float, float, float]:
    """Best-fit ``sin^2 theta_W`` (MS-bar at M_Z, in the radiatively corrected couplings)
    and its 1-sigma half-widths (``Delta chi2 = 1``), SM elsewhere."""
    from scipy.optimize import brentq, minimize_scalar

    from globalfit.physics.cevns import weak_nucleon_couplings

    def chi2(s2):
        g_p, g_n = weak_nucleon_couplings(s2)
        return likelihood.chi2_couplings(Couplings(), g_p=g_p, g_n=g_n)

    best = minimize_scalar(chi2, bounds=(0.05, 0.45), method="bounded", options={"xatol": 1e-6})
    target = best.fun + 1.0
    lo = brentq(lambda s: chi2(s) - target, 1e-3, best.x) if chi2(1e-3) > target else float("nan")
    hi = brentq(lambda s: chi2(s) - target, best.x, 0.499) if chi2(0.499) > target else float("nan")
    return float(best.x), float(best.x - lo), float(hi - best.x)


def _run_weak_angle(args) -> int:
    from globalfit.physics.constants import SIN2_THETA_W_LOW_ENERGY, SIN2_THETA_W_MSBAR_MZ

    likelihoods = _likelihoods_from(args)
    running = SIN2_THETA_W_LOW_ENERGY / SIN2_THETA_W_MSBAR_MZ
    print("sin^2 theta_W from CEvNS (low-energy value = MS-bar(M_Z) fit x "
          f"{running:.4f}), and the SM prediction of each data set")
    for name, lk in likelihoods.items():
        s2, minus, plus = fit_weak_angle(lk)
        print(f"  {name:20s} sin2(0) = {s2 * running:.3f} -{minus * running:.3f} +{plus * running:.3f}"
              f"   (MS-bar M_Z {s2:.3f});  SM events {lk.predicted_counts():.1f}")
    return 0


SCANS = {
    "lma-dark": ("LMA-Dark (x-2, x, x) vs CEvNS as a function of m_Z'",
                 _configure_lma_dark, _run_lma_dark),
    "ee-plane": ("bounds on eps^u_ee vs eps^d_ee (other NSI zero) from CEvNS",
                 _configure_ee_plane, _run_ee_plane),
    "mumu": ("1-D bounds on eps^u_mumu or eps^d_mumu from CEvNS", _configure_mumu, _run_mumu),
    "weak-angle": ("fit sin^2 theta_W to each CEvNS data set", _configure_weak_angle,
                   _run_weak_angle),
}
"""Scan name -> (help, configure(parser), run(args) -> int)."""


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="scan", metavar="SCAN")
    for name, (help_text, configure_scan, run) in SCANS.items():
        scan_parser = sub.add_parser(name, help=help_text, description=help_text)
        configure_scan(scan_parser)
        scan_parser.set_defaults(_scan_handler=run)


def main(args: argparse.Namespace) -> int:
    handler = getattr(args, "_scan_handler", None)
    if handler is None:
        raise ValueError(f"choose a scan: {', '.join(SCANS)} (globalfit scan --help)")
    return int(handler(args) or 0)
