"""Fixed-purpose CEvNS analyses behind ``globalfit scan``: LMA-Dark versus m_Z' (figure),
bounds on flavour-diagonal NSI and the weak mixing angle.

* `globalfit.scan.lma_dark_curves` computes the LMA-Dark curves (the card scan engine);
  `plot_lma_dark` draws them.
* `ee_plane_chi2`: chi^2 on a grid of ``eps^u_ee`` x ``eps^d_ee`` (other NSI zero, contact).
* `mumu_chi2`: chi^2 along ``eps^q_mumu`` (other NSI zero, contact).
* `fit_weak_angle`: best-fit ``sin^2 theta_W`` of one data set and its 1-sigma half-widths.

Each likelihood profiles its own nuisance parameters (``chi2_couplings``); Delta chi^2
levels and intervals come from `globalfit.statistics`.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from globalfit.couplings import Couplings
from globalfit.progress import progress_bar
from globalfit.statistics import CL90_1DOF, CL90_2DOF, CL95_1DOF


def format_lma_dark(mzp, curves: dict, csv: bool = False) -> str:
    """The LMA-Dark curves (`globalfit.scan.lma_dark_curves`) and, per curve, the ``m_Z'``
    below which LMA-Dark survives at 95 % CL (first upward crossing of 3.84, log-interpolated):
    a text table, or CSV (``dataset,mzp_mev,delta_chi2`` then ``dataset,threshold_mzp_mev``)."""
    from globalfit.statistics import first_upward_crossing

    limits = {name: first_upward_crossing(mzp, curve, CL95_1DOF) for name, curve in curves.items()}
    if csv:
        lines = ["dataset,mzp_mev,delta_chi2"]
        lines += [f"{name},{m:.6g},{value:.6g}" for name, curve in curves.items()
                  for m, value in zip(mzp, curve)]
        lines += ["", "dataset,threshold_mzp_mev"]
        lines += [f"{name},{value:.6g}" for name, value in limits.items()]
        return "\n".join(lines) + "\n"
    width = max(len(n) for n in curves) + 2
    lines = ["LMA-Dark (x-2, x, x) vs CEvNS: Delta chi2 = min_x chi2(x, m_Z') - chi2(SM)",
             "m_Z' [MeV]".ljust(12) + "".join(n.rjust(width) for n in curves)]
    lines += [f"{m:<12.4g}" + "".join(f"{c[i]:{width}.2f}" for c in curves.values())
              for i, m in enumerate(mzp)]
    lines += ["", f"LMA-Dark survives at 95% CL (Delta chi2 < {CL95_1DOF:.2f}) for m_Z' below:"]
    for name, value in limits.items():
        text = ("excluded at every mass" if np.isnan(value)
                else "allowed at every mass scanned" if np.isinf(value) else f"{value:.1f} MeV")
        lines.append(f"  {name.ljust(width)} {text}")
    return "\n".join(lines) + "\n"


def build_cevns_likelihoods(names: Sequence[str], release_root: str | None = None) -> dict:
    """Instantiate the named CEvNS likelihoods (release mode when ``release_root`` holds
    a folder of the same name; `globalfit.scan.cevns_likelihood_options`)."""
    from globalfit.registry import likelihood_class
    from globalfit.scan import cevns_likelihood_options

    if not names:
        raise ValueError("--datasets: empty list")
    options = cevns_likelihood_options(names, release_root)
    return {name: likelihood_class(name)(**opts) for name, opts in options.items()}


def diagonal_couplings(eps_u: dict, eps_d: dict, mzp_gev=None) -> Couplings:
    """Couplings with diagonal entries ``{flavour index: value}`` of eps^u and eps^d."""
    u, d = np.zeros((3, 3)), np.zeros((3, 3))
    for k, v in eps_u.items():
        u[k, k] = v
    for k, v in eps_d.items():
        d[k, k] = v
    return Couplings(eps0={"u": u, "d": d}, mzp_gev=mzp_gev)


def ee_plane_chi2(likelihoods: dict, eps_u: np.ndarray, eps_d: np.ndarray,
                  progress: str | None = None) -> dict:
    """``chi2`` on the grid ``eps^u_ee x eps^d_ee`` (other NSI zero), per data set and summed."""
    out = {name: np.empty((len(eps_u), len(eps_d))) for name in likelihoods}
    with progress_bar(len(eps_u), progress, unit="row") as bar:
        for i, u in enumerate(eps_u):
            for j, d in enumerate(eps_d):
                c = diagonal_couplings({0: u}, {0: d})
                for name, lk in likelihoods.items():
                    out[name][i, j] = lk.chi2_couplings(c)
            bar.update()
    out["combined"] = sum(out[name] for name in likelihoods)
    return out


def mumu_chi2(likelihoods: dict, values: np.ndarray, quark: str = "u",
              progress: str | None = None) -> dict:
    """``chi2`` along ``eps^q_mumu`` (``quark`` u or d; other NSI zero), per data set and summed."""
    curves = {name: np.empty(len(values)) for name in likelihoods}
    with progress_bar(len(values), progress, unit="point") as bar:
        for k, v in enumerate(values):
            c = diagonal_couplings({1: v} if quark == "u" else {}, {1: v} if quark == "d" else {})
            for name, lk in likelihoods.items():
                curves[name][k] = lk.chi2_couplings(c)
            bar.update()
    curves["combined"] = sum(curves[n] for n in likelihoods)
    return curves


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


# --- figures ----------------------------------------------------------------------------
def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _title(name: str) -> str:
    """Legend name of a data set as the docs write it (``COHERENT CsI 2021``)."""
    from globalfit.registry import likelihood_title

    return "all combined" if name == "combined" else likelihood_title(name)


def _save(fig, filename: str | Path) -> Path:
    fig.tight_layout()
    fig.savefig(filename, dpi=130)
    _pyplot().close(fig)
    return Path(filename)


def plot_lma_dark(mzp, curves: dict, filename: str | Path) -> Path:
    """``Delta chi2`` against ``m_Z'`` with the 95 % CL line."""
    fig, ax = _pyplot().subplots(figsize=(6.0, 4.2))
    for name, curve in curves.items():
        style = dict(lw=2.5, color="k") if name == "combined" else dict(lw=1.5)
        ax.plot(mzp, curve, label=_title(name), **style)
    ax.axhline(CL95_1DOF, color="grey", ls="--", lw=1, label="95% CL (1 dof)")
    ax.set_xscale("log")
    ax.set_xlabel(r"$m_{Z'}$ [MeV]")
    ax.set_ylabel(r"$\Delta\chi^2$ (LMA-Dark $-$ SM), profiled over $x$")
    ax.set_title(r"LMA-Dark $(x-2, x, x)$ against CEvNS")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return _save(fig, filename)


def plot_ee_plane(grid, chi2: dict, filename: str | Path) -> Path:
    """90 % CL (2 dof) contours of each data set and their sum in the ee plane."""
    fig, ax = _pyplot().subplots(figsize=(5.6, 5.0))
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]
    for k, (name, values) in enumerate(chi2.items()):
        colour = "k" if name == "combined" else colours[k % len(colours)]
        delta = values - values.min()
        width = 2.5 if name == "combined" else 1.2
        ax.contour(grid, grid, delta.T, levels=[CL90_2DOF], colors=[colour], linewidths=width)
        ax.plot([], [], color=colour, lw=width, label=_title(name))
    ax.plot([0], [0], "k*", ms=8, label="SM")
    ax.set_xlabel(r"$\varepsilon^{u}_{ee}$")
    ax.set_ylabel(r"$\varepsilon^{d}_{ee}$")
    ax.set_title("COHERENT, 90% CL (2 dof), other NSI zero")
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    ax.legend(unique.values(), unique.keys(), fontsize=8, loc="upper right")
    ax.grid(alpha=0.3)
    return _save(fig, filename)


def plot_mumu(values, curves: dict, quark: str, filename: str | Path) -> Path:
    """``Delta chi2`` along ``eps^q_mumu`` with the 90 % CL line."""
    fig, ax = _pyplot().subplots(figsize=(6.0, 4.0))
    for name, curve in curves.items():
        ax.plot(values, curve - curve.min(), label=_title(name),
                **(dict(color="k", lw=2.5) if name == "combined" else {}))
    ax.axhline(CL90_1DOF, color="grey", ls="--", lw=1, label="90% CL")
    ax.set_ylim(0, 15)
    ax.set_xlabel(rf"$\varepsilon^{{{quark}}}_{{\mu\mu}}$")
    ax.set_ylabel(r"$\Delta\chi^2$")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, filename)
