"""``globalfit scan``: fixed-purpose frequentist scans (the work is in `globalfit.scan` and
`globalfit.cevns_bounds`; this module parses, calls and prints).

``lma-dark``: LMA-Dark ``(x-2, x, x)`` against CEvNS as a function of ``m_Z'``: the card
scan of ``configs/lmad_scan.yaml`` (`globalfit.scan.lma_dark_card`), ``x`` profiled,
``Delta chi2`` relative to the Standard Model, per data set and combined; prints the
``m_Z'`` below which LMA-Dark survives at 95 % CL. ``ee-plane``, ``mumu``, ``weak-angle``:
bounds on flavour-diagonal NSI and ``sin^2 theta_W`` from each CEvNS data set.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

HELP = "frequentist scans (e.g. 'scan lma-dark': LMA-Dark vs CEvNS as a function of m_Z')"


def _datasets(args) -> list[str]:
    return [n.strip() for n in args.datasets.split(",") if n.strip()]


def _common(parser, points: int, range_=None) -> None:
    from globalfit.scan import LMA_DARK_DATASETS

    parser.add_argument("--datasets", default=",".join(LMA_DARK_DATASETS),
                        help="comma-separated CEvNS likelihoods (default: the three COHERENT "
                             "sets; 'conus' also allowed)")
    parser.add_argument("--release-root", metavar="DIR",
                        help="folder holding the official COHERENT releases (coherent_csi_2017/, "
                             "...): use the binned release likelihoods")
    parser.add_argument("--plot", metavar="FILE", help="draw the result into FILE (PNG/PDF)")
    if points:
        parser.add_argument("--points", type=int, default=points,
                            help=f"grid points (default {points})")
    if range_:
        parser.add_argument("--range", type=float, nargs=2, default=range_, metavar=("MIN", "MAX"),
                            help=f"range of the couplings (default {range_[0]} {range_[1]})")


def _configure_lma_dark(parser) -> None:
    _common(parser, points=25)
    parser.add_argument("--mzp-min", type=float, default=1.0, help="lightest m_Z' in MeV (default 1)")
    parser.add_argument("--mzp-max", type=float, default=1000.0,
                        help="heaviest m_Z' in MeV (default 1000)")
    parser.add_argument("--format", choices=("table", "csv"), default="table",
                        help="output format (default table)")


def _run_lma_dark(args) -> int:
    from globalfit.cevns_bounds import format_lma_dark, plot_lma_dark
    from globalfit.scan import lma_dark_curves

    mzp, curves = lma_dark_curves(_datasets(args), args.mzp_min, args.mzp_max, args.points,
                                  args.release_root, progress=True)
    sys.stdout.write(format_lma_dark(mzp, curves, csv=args.format == "csv"))
    if args.plot:
        plot_lma_dark(mzp, curves, args.plot)
    return 0


def _run_ee_plane(args) -> int:
    from globalfit.cevns_bounds import build_cevns_likelihoods, ee_plane_chi2, plot_ee_plane
    from globalfit.statistics import CL90_2DOF, allowed_intervals

    grid = np.linspace(*args.range, args.points)
    chi2 = ee_plane_chi2(build_cevns_likelihoods(_datasets(args), args.release_root), grid, grid,
                         progress="eps^u_ee x eps^d_ee")
    print(f"eps^u_ee vs eps^d_ee (other NSI zero, contact): allowed at 90% CL (2 dof, "
          f"Delta chi2 < {CL90_2DOF:.2f})")
    print("  eps^u_ee       eps^d_ee interval(s) of the combined fit")
    delta = chi2["combined"] - chi2["combined"].min()
    for i in range(0, len(grid), max(len(grid) // 12, 1)):
        spans = allowed_intervals(grid, delta[i], CL90_2DOF, interpolation="linear")
        print(f"  {grid[i]:+.3f}   " + (" + ".join(f"[{a:+.3f}, {b:+.3f}]" for a, b in spans) or "none"))
    if args.plot:
        plot_ee_plane(grid, chi2, args.plot)
    return 0


def _configure_mumu(parser) -> None:
    _common(parser, points=1301, range_=(-0.5, 0.8))
    parser.add_argument("--quark", choices=("u", "d"), default="u", help="eps^q_mumu (default u)")


def _run_mumu(args) -> int:
    from globalfit.cevns_bounds import build_cevns_likelihoods, mumu_chi2, plot_mumu
    from globalfit.statistics import CL90_1DOF, allowed_intervals

    values = np.linspace(*args.range, args.points)
    curves = mumu_chi2(build_cevns_likelihoods(_datasets(args), args.release_root), values,
                       args.quark, progress=f"eps^{args.quark}_mumu")
    print(f"eps^{args.quark}_mumu (all other NSI zero, contact): 90% CL "
          f"(Delta chi2 < {CL90_1DOF:.2f}, 1 dof)")
    for name, curve in curves.items():
        spans = allowed_intervals(values, curve - curve.min(), CL90_1DOF, interpolation="linear")
        print(f"  {name:20s} " + (" + ".join(f"[{a:+.3f}, {b:+.3f}]" for a, b in spans) or "none"))
    if args.plot:
        plot_mumu(values, curves, args.quark, args.plot)
    return 0


def _run_weak_angle(args) -> int:
    from globalfit.cevns_bounds import build_cevns_likelihoods, fit_weak_angle
    from globalfit.physics.constants import SIN2_THETA_W_LOW_ENERGY, SIN2_THETA_W_MSBAR_MZ

    running = SIN2_THETA_W_LOW_ENERGY / SIN2_THETA_W_MSBAR_MZ
    print("sin^2 theta_W from CEvNS (low-energy value = MS-bar(M_Z) fit x "
          f"{running:.4f}), and the SM prediction of each data set")
    for name, lk in build_cevns_likelihoods(_datasets(args), args.release_root).items():
        s2, minus, plus = fit_weak_angle(lk)
        print(f"  {name:20s} sin2(0) = {s2 * running:.3f} -{minus * running:.3f} "
              f"+{plus * running:.3f}   (MS-bar M_Z {s2:.3f});  SM events "
              f"{lk.predicted_counts():.1f}")
    return 0


SCANS = {
    "lma-dark": ("LMA-Dark (x-2, x, x) vs CEvNS as a function of m_Z'",
                 _configure_lma_dark, _run_lma_dark),
    "ee-plane": ("bounds on eps^u_ee vs eps^d_ee (other NSI zero) from CEvNS",
                 lambda p: _common(p, points=121, range_=(-0.8, 0.8)), _run_ee_plane),
    "mumu": ("1-D bounds on eps^u_mumu or eps^d_mumu from CEvNS", _configure_mumu, _run_mumu),
    "weak-angle": ("fit sin^2 theta_W to each CEvNS data set", lambda p: _common(p, points=0),
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
