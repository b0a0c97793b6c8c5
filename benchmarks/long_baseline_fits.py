"""Physics results of the long-baseline module (docs/reproductions/long_baseline.md).

1. Standard oscillations: T2K, NOvA and T2K + NOvA allowed regions in (sin^2 th23, delta_CP) for each
   mass ordering, profiled over |Delta m^2_32| and the normalisation nuisances; preferred ordering.
2. NSI: the T2K + NOvA fit with eps_emu or eps_etau (complex, Earth propagation combination),
   profiled over sin^2 th23, delta_CP, Delta m^2_32 and the nuisances.
3. DUNE: the (sin^2 th23, delta_CP) a standard fit finds when the Asimov data contain NSI.

Grids are evaluated batched (``loglike_arrays``) and the best grid points refined with scipy.
theta_13 and the solar parameters are fixed (reactor constraint / KamLAND + solar).

Run: ``OMP_NUM_THREADS=1 python benchmarks/long_baseline_fits.py [--quick]`` (about 3 minutes;
``--quick`` uses coarse grids). Figures go to docs/figures/lbl_*.png, numbers to stdout.
"""
from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.optimize import minimize  # noqa: E402

from likelihoods.long_baseline import DUNE, T2K, NOvA  # noqa: E402

FIGURES = Path(__file__).resolve().parent.parent / "docs" / "figures"
SIN2_TH12, SIN2_TH13, DM21 = 0.307, 0.0218, 7.53e-5
CHUNK = 3000
DM32_PRIOR = (2.45e-3, 0.05e-3)
"""External Gaussian constraint on |Delta m^2_32| (eV^2) used with the counting likelihoods of T2K and
NOvA, which without spectra constrain only a combination of theta_23 and Delta m^2 (see the docs).
2.45 +- 0.05 covers the T2K, NOvA and reactor measurements; an approximation of this study."""
BOUNDS = {"s23": (0.35, 0.70), "dm": (2.2, 2.8), "abs": (0.0, 0.6)}


def engine_params(s23, dcp, dm32):
    """Arrays of engine parameters from sin^2 th23, delta and Delta m^2_32 (sign = ordering)."""
    s23, dcp, dm32 = np.broadcast_arrays(*(np.asarray(x, float) for x in (s23, dcp, dm32)))
    return {"th12": np.full(s23.shape, np.arcsin(np.sqrt(SIN2_TH12))),
            "th13": np.full(s23.shape, np.arcsin(np.sqrt(SIN2_TH13))),
            "th23": np.arcsin(np.sqrt(s23)), "dcp": dcp, "dm21": np.full(s23.shape, DM21),
            "dm31": dm32 + DM21}


def chi2_total(likelihoods, params, eps=None, dm_prior=True):
    """Summed -2 ln L of several likelihoods on flat parameter arrays, in chunks, plus the external
    |Delta m^2_32| constraint (``dm_prior``)."""
    size = params["th23"].size
    out = np.empty(size)
    if dm_prior:
        dm32 = np.abs(params["dm31"] - params["dm21"]).ravel()
        out_prior = ((dm32 - DM32_PRIOR[0]) / DM32_PRIOR[1]) ** 2
    else:
        out_prior = 0.0
    for start in range(0, size, CHUNK):
        sl = slice(start, start + CHUNK)
        p = {k: v.ravel()[sl] for k, v in params.items()}
        e = None if eps is None else eps.reshape(-1, 3, 3)[sl]
        out[sl] = sum(lk.chi2_arrays(p, e) for lk in likelihoods)
    return out + out_prior


def offdiagonal_eps(which, modulus, phase):
    modulus, phase = np.broadcast_arrays(np.asarray(modulus, float), np.asarray(phase, float))
    eps = np.zeros(modulus.shape + (3, 3), complex)
    i, j = {"emu": (0, 1), "etau": (0, 2)}[which]
    eps[..., i, j] = modulus * np.exp(1j * phase)
    eps[..., j, i] = np.conj(eps[..., i, j])
    return eps


# --- 1. standard oscillations -------------------------------------------------------------------
def standard_scan(likelihoods, s23_grid, dcp_grid, dm_grid, dm_prior=True):
    """chi^2(s23, dcp) profiled over |dm32| on the grid, for NO (+) and IO (-)."""
    maps = {}
    for ordering, sign in (("NO", 1.0), ("IO", -1.0)):
        s, d, m = np.meshgrid(s23_grid, dcp_grid, sign * dm_grid, indexing="ij")
        chi2 = chi2_total(likelihoods, engine_params(s, d, m), dm_prior=dm_prior).reshape(s.shape)
        maps[ordering] = chi2.min(axis=2)
    return maps


def refine_standard(likelihoods, start, sign, dm_prior=True):
    """Continuous minimum from a grid start (s23, dcp, |dm32|), within BOUNDS."""
    def f(x):
        return chi2_total(likelihoods, engine_params([x[0]], [x[1]], [sign * x[2] * 1e-3]), dm_prior=dm_prior)[0]
    result = minimize(f, [start[0], start[1], start[2] * 1e3], method="Nelder-Mead",
                      bounds=[BOUNDS["s23"], (None, None), BOUNDS["dm"]],
                      options={"xatol": 1e-4, "fatol": 1e-4, "maxiter": 600})
    return result.fun, result.x


def standard_results(t2k, nova, quick):
    s23 = np.linspace(0.35, 0.70, 15 if quick else 36)
    dcp = np.linspace(0.0, 2 * np.pi, 19 if quick else 49)[:-1]
    dm = np.linspace(2.30e-3, 2.60e-3, 4 if quick else 7)
    sets = {"T2K": [t2k], "NOvA": [nova], "T2K+NOvA": [t2k, nova]}
    summary, maps = {}, {}
    for label, lks in sets.items():
        grid = standard_scan(lks, s23, dcp, dm)
        maps[label] = grid
        best = {}
        for ordering, sign in (("NO", 1.0), ("IO", -1.0)):
            i, j = np.unravel_index(np.argmin(grid[ordering]), grid[ordering].shape)
            s, d, m = np.meshgrid(s23[i], dcp[j], sign * dm, indexing="ij")
            k = np.argmin(chi2_total(lks, engine_params(s, d, m)))
            chi2, x = refine_standard(lks, (s23[i], dcp[j], dm[k]), sign)
            best[ordering] = {"chi2": float(chi2), "sin2_th23": float(x[0]),
                              "dcp_over_pi": float(np.mod(x[1], 2 * np.pi) / np.pi), "dm32_abs_1e3": float(x[2])}
        preferred = min(best, key=lambda o: best[o]["chi2"])
        global_min = min(best[o]["chi2"] for o in best)
        # Delta chi^2 at the CP-conserving and maximal phases, profiled over sin^2 th23 (grid)
        at_phase = {f"{o} dcp={name}": float(grid[o][:, np.argmin(np.abs(dcp - value))].min() - global_min)
                    for o in ("NO", "IO") for name, value in (("0", 0.0), ("pi/2", 0.5 * np.pi),
                                                              ("pi", np.pi), ("3pi/2", 1.5 * np.pi))}
        summary[label] = {"best": best, "preferred_ordering": preferred,
                          "delta_chi2_IO_minus_NO": best["IO"]["chi2"] - best["NO"]["chi2"],
                          "delta_chi2_at_phase": at_phase}
    pg = summary["T2K+NOvA"]["best"]
    chi2_comb = min(pg["NO"]["chi2"], pg["IO"]["chi2"])
    chi2_sep = sum(min(summary[x]["best"]["NO"]["chi2"], summary[x]["best"]["IO"]["chi2"]) for x in ("T2K", "NOvA"))
    summary["parameter_goodness_of_fit_chi2"] = chi2_comb - chi2_sep
    plot_standard(maps, summary, s23, dcp)
    return summary


def plot_standard(maps, summary, s23, dcp):
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5), sharex=True, sharey=True)
    published = {"T2K": {"NO": (0.53, -1.89 / np.pi % 2)}, "NOvA": {"NO": (0.57, 0.82)}}
    published_label = {"T2K": "T2K 2020 best fit (from memory)", "NOvA": r"NOvA 2021 best fit ($\delta$ from memory)"}
    for col, label in enumerate(maps):
        global_min = min(summary[label]["best"][o]["chi2"] for o in ("NO", "IO"))
        for row, ordering in enumerate(("NO", "IO")):
            ax = axes[row, col]
            delta = maps[label][ordering] - global_min
            ax.contourf(s23, dcp / np.pi, delta.T, levels=[0, 2.30, 6.18, 11.83],
                        colors=["#2b6cb0", "#90cdf4", "#e2f0fb"])
            ax.contour(s23, dcp / np.pi, delta.T, levels=[2.30, 6.18, 11.83], colors="k", linewidths=0.6)
            b = summary[label]["best"][ordering]
            ax.plot(b["sin2_th23"], b["dcp_over_pi"], "w*", ms=11, mec="k", label="this fit")
            if label in published and ordering in published[label]:
                x, y = published[label][ordering]
                ax.plot(x, y, "rX", ms=9, label=published_label[label])
            ax.set_title(f"{label}, {ordering}")
            if row == 1:
                ax.set_xlabel(r"$\sin^2\theta_{23}$")
            if col == 0:
                ax.set_ylabel(r"$\delta_{CP}/\pi$")
            ax.legend(loc="lower right", fontsize=7)
    fig.suptitle(r"Standard oscillations: $\Delta\chi^2$ (2 dof: 1, 2, 3$\sigma$) relative to each data set's "
                 r"global minimum (both orderings); $|\Delta m^2_{32}|$ and normalisations profiled")
    fig.tight_layout()
    fig.savefig(FIGURES / "lbl_standard_regions.png", dpi=110)
    plt.close(fig)


# --- 2. NSI fit ----------------------------------------------------------------------------------------
def nsi_scan(likelihoods, which, quick):
    moduli = np.linspace(0.0, 0.5, 6 if quick else 11)
    phases = np.linspace(0.0, 2 * np.pi, 9 if quick else 17)[:-1]
    s23 = np.linspace(0.42, 0.62, 5 if quick else 9)
    dcp = np.linspace(0.0, 2 * np.pi, 13 if quick else 25)[:-1]
    dm = np.array([2.35e-3, 2.45e-3, 2.55e-3]) if not quick else np.array([2.45e-3])
    out = np.empty((moduli.size, phases.size))
    arg = np.empty((moduli.size, phases.size, 3))
    s, d, m = np.meshgrid(s23, dcp, dm, indexing="ij")
    params = engine_params(s, d, m)
    for a, b in itertools.product(range(moduli.size), range(phases.size)):
        eps = offdiagonal_eps(which, np.full(s.shape, moduli[a]), np.full(s.shape, phases[b]))
        chi2 = chi2_total(likelihoods, params, eps)
        k = np.argmin(chi2)
        out[a, b] = chi2[k]
        arg[a, b] = (s.ravel()[k], d.ravel()[k], m.ravel()[k])
    return moduli, phases, out, arg


def refine_nsi(likelihoods, which, start):
    """Minimise over (|eps|, phi, s23, dcp, dm32) from a grid start (NO)."""
    def f(x):
        eps = offdiagonal_eps(which, [abs(x[0])], [x[1]])
        return chi2_total(likelihoods, engine_params([x[2]], [x[3]], [x[4] * 1e-3]), eps)[0]
    result = minimize(f, start, method="Nelder-Mead",
                      bounds=[BOUNDS["abs"], (None, None), BOUNDS["s23"], (None, None), BOUNDS["dm"]],
                      options={"xatol": 1e-4, "fatol": 1e-4, "maxiter": 3000, "maxfev": 3000})
    return result.fun, result.x


def nsi_results(t2k, nova, standard, quick):
    chi2_sm = standard["T2K+NOvA"]["best"]["NO"]["chi2"]
    results, panels = {}, {}
    for which in ("emu", "etau"):
        moduli, phases, grid, arg = nsi_scan([t2k, nova], which, quick)
        a, b = np.unravel_index(np.argmin(grid), grid.shape)
        start = [moduli[a] if moduli[a] > 0 else 0.05, phases[b], arg[a, b, 0], arg[a, b, 1], arg[a, b, 2] * 1e3]
        chi2, x = refine_nsi([t2k, nova], which, start)
        # each experiment alone at the combined NSI best fit: does NSI reconcile the delta preferences?
        eps = offdiagonal_eps(which, [abs(x[0])], [x[1]])
        separate = {}
        for label, lk in (("T2K", t2k), ("NOvA", nova)):
            def f(y, lk=lk):
                return chi2_total([lk], engine_params([y[0]], [y[1]], [y[2] * 1e-3]), eps)[0]  # noqa: B023
            best = min((minimize(f, [x[2], d0, x[4]], method="Nelder-Mead",
                                 bounds=[BOUNDS["s23"], (None, None), BOUNDS["dm"]])
                        for d0 in (0.5 * np.pi, 1.5 * np.pi)), key=lambda r: r.fun)
            separate[label] = {"chi2": float(best.fun), "dcp_over_pi": float(np.mod(best.x[1], 2 * np.pi) / np.pi)}
        reference = min(grid.min(), chi2)
        results[which] = {
            "profile_abs_delta_chi2": {f"{m:.2f}": float(v) for m, v in zip(moduli, grid.min(axis=1) - reference)},
            "profile_phase_delta_chi2_at_best_abs": {f"{p / np.pi:.3f}": float(v)
                                                     for p, v in zip(phases, grid[a] - reference)},
            "abs": float(abs(x[0])), "phase_over_pi": float(np.mod(x[1], 2 * np.pi) / np.pi),
            "sin2_th23": float(x[2]), "dcp_over_pi": float(np.mod(x[3], 2 * np.pi) / np.pi),
            "dm32_1e3": float(x[4]), "chi2": float(chi2), "delta_chi2_vs_standard_NO": float(chi2_sm - chi2),
            "separate_fits_at_this_eps": separate,
        }
        panels[which] = (moduli, phases, grid - min(grid.min(), chi2))
    plot_nsi(panels, results)
    return results


def plot_nsi(panels, results):
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    published = {"emu": (0.15, 1.38), "etau": (0.275, 1.62)}  # Chatterjee-Palazzo, FROM MEMORY
    for ax, (which, (moduli, phases, delta)) in zip(axes, panels.items()):
        phases, delta = np.r_[phases, 2 * np.pi], np.c_[delta, delta[:, :1]]  # periodic in the phase
        cs = ax.contourf(phases / np.pi, moduli, delta, levels=[0, 1, 2.30, 4, 6.18, 9, 16], cmap="Blues_r")
        ax.contour(phases / np.pi, moduli, delta, levels=[2.30, 6.18], colors="k", linewidths=0.7)
        r = results[which]
        ax.plot(r["phase_over_pi"], r["abs"], "w*", ms=12, mec="k", label="this fit (T2K+NOvA, NO)")
        ax.plot(published[which][1], published[which][0], "rX", ms=9,
                label="Chatterjee-Palazzo 2020 (values from memory)")
        label = {"emu": r"\mu", "etau": r"\tau"}[which]
        ax.set_xlabel(rf"$\phi_{{e{label}}}/\pi$")
        ax.set_title(rf"$\varepsilon_{{e{label}}}$ only: $\Delta\chi^2_{{SM-NSI}}$ = "
                     f"{r['delta_chi2_vs_standard_NO']:.2f}")
        ax.legend(fontsize=7, loc="upper left")
    axes[0].set_ylabel(r"$|\varepsilon|$ (Earth propagation combination)")
    fig.colorbar(cs, ax=axes,
                 label=r"$\Delta\chi^2$ (profiled over $\theta_{23}, \delta_{CP}, \Delta m^2_{32}$, norms)")
    fig.savefig(FIGURES / "lbl_nsi_t2k_nova.png", dpi=110)
    plt.close(fig)


# --- 3. DUNE bias ------------------------------------------------------------------------------------
def dune_results(quick):
    true_base = {"th12": np.arcsin(np.sqrt(SIN2_TH12)), "th13": np.arcsin(np.sqrt(SIN2_TH13)),
                 "th23": np.arcsin(np.sqrt(0.50)), "dcp": 1.5 * np.pi, "dm21": DM21, "dm31": 2.45e-3 + DM21}
    cases = {"SM": None, "eps_emu = 0.15 e^{1.38 i pi}": {"emu": [0.15, 1.38 * np.pi]},
             "eps_etau = 0.275 e^{1.62 i pi}": {"etau": [0.275, 1.62 * np.pi]}}
    s23 = np.linspace(0.38, 0.64, 14 if quick else 53)
    dcp = np.linspace(0.0, 2 * np.pi, 19 if quick else 73)[:-1]
    dm = np.linspace(2.35e-3, 2.55e-3, 3 if quick else 9)
    out, maps = {}, {}
    for label, nsi in cases.items():
        lk = DUNE(nuisances="profiled", true_params=true_base, true_nsi=nsi)
        grid = standard_scan([lk], s23, dcp, dm, dm_prior=False)
        maps[label] = grid
        best = {}
        for ordering, sign in (("NO", 1.0), ("IO", -1.0)):
            i, j = np.unravel_index(np.argmin(grid[ordering]), grid[ordering].shape)
            chi2, x = refine_standard([lk], (s23[i], dcp[j], 2.45e-3), sign, dm_prior=False)
            best[ordering] = {"chi2": float(chi2), "sin2_th23": float(x[0]),
                              "dcp_over_pi": float(np.mod(x[1], 2 * np.pi) / np.pi), "dm32_abs_1e3": float(x[2])}
        out[label] = best
    fig, axes = plt.subplots(1, len(cases), figsize=(13, 4.2), sharey=True)
    for ax, (label, grid) in zip(axes, maps.items()):
        ordering = min(("NO", "IO"), key=lambda o: out[label][o]["chi2"])
        minimum = out[label][ordering]["chi2"]
        delta = grid[ordering] - minimum
        ax.contourf(s23, dcp / np.pi, delta.T, levels=[0, 2.30, 6.18, 11.83], colors=["#2b6cb0", "#90cdf4", "#e2f0fb"])
        ax.contour(s23, dcp / np.pi, delta.T, levels=[2.30, 6.18, 11.83], colors="k", linewidths=0.6)
        ax.plot(0.50, 1.5, "rX", ms=9, label="true")
        b = out[label][ordering]
        ax.plot(b["sin2_th23"], b["dcp_over_pi"], "w*", ms=11, mec="k", label=f"standard fit ({ordering})")
        ax.set_title(f"true {label} (NO)\n" + rf"best standard fit: {ordering}, $\chi^2_{{min}}$ = {minimum:.1f}",
                     fontsize=9)
        ax.set_xlabel(r"$\sin^2\theta_{23}$")
        ax.legend(fontsize=7)
    axes[0].set_ylabel(r"$\delta_{CP}/\pi$")
    fig.suptitle("DUNE (3.5+3.5 yr, Asimov): standard-oscillation fit to data with and without NSI "
                 "(regions: 1, 2, 3 sigma, 2 dof, in the preferred ordering)")
    fig.tight_layout()
    fig.savefig(FIGURES / "lbl_dune_nsi_bias.png", dpi=110)
    plt.close(fig)
    return out


def dune_octant_results(quick):
    """Standard fits to DUNE Asimov data with a non-maximal true theta_23 (lower / upper octant):
    does NSI move the fitted octant? Best fit over both orderings and the full sin^2 th23 range."""
    s23 = np.linspace(0.38, 0.64, 14 if quick else 27)
    dcp = np.linspace(0.0, 2 * np.pi, 19 if quick else 37)[:-1]
    dm = np.linspace(2.35e-3, 2.55e-3, 3 if quick else 5)
    cases = {"SM": None, "eps_emu = 0.15 e^{1.38 i pi}": {"emu": [0.15, 1.38 * np.pi]},
             "eps_etau = 0.275 e^{1.62 i pi}": {"etau": [0.275, 1.62 * np.pi]}}
    out = {}
    for true_s23 in (0.45, 0.55):
        true_params = {"th12": np.arcsin(np.sqrt(SIN2_TH12)), "th13": np.arcsin(np.sqrt(SIN2_TH13)),
                       "th23": np.arcsin(np.sqrt(true_s23)), "dcp": 1.5 * np.pi, "dm21": DM21,
                       "dm31": 2.45e-3 + DM21}
        for label, nsi in cases.items():
            lk = DUNE(nuisances="profiled", true_params=true_params, true_nsi=nsi)
            grid = standard_scan([lk], s23, dcp, dm, dm_prior=False)
            best = None
            for ordering, sign in (("NO", 1.0), ("IO", -1.0)):
                # best point in each octant separately (the octants are separate local minima)
                for octant, mask in (("lower", s23 < 0.5), ("upper", s23 > 0.5)):
                    sub = np.where(mask[:, None], grid[ordering], np.inf)
                    i, j = np.unravel_index(np.argmin(sub), sub.shape)
                    chi2, x = refine_standard([lk], (s23[i], dcp[j], 2.45e-3), sign, dm_prior=False)
                    entry = {"ordering": ordering, "octant_start": octant, "chi2": float(chi2),
                             "sin2_th23": float(x[0]), "dcp_over_pi": float(np.mod(x[1], 2 * np.pi) / np.pi)}
                    out.setdefault(f"true s23={true_s23}, {label}", []).append(entry)
                    if best is None or chi2 < best["chi2"]:
                        best = entry
            out[f"true s23={true_s23}, {label}: best"] = best
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="coarse grids (a smoke test)")
    args = parser.parse_args()
    FIGURES.mkdir(parents=True, exist_ok=True)
    t2k, nova = T2K(nuisances="profiled"), NOvA(nuisances="profiled")
    standard = standard_results(t2k, nova, args.quick)
    print(json.dumps({"standard": standard}, indent=1))
    nsi = nsi_results(t2k, nova, standard, args.quick)
    print(json.dumps({"nsi": nsi}, indent=1))
    dune = dune_results(args.quick)
    print(json.dumps({"dune": dune}, indent=1))
    print(json.dumps({"dune_octant": dune_octant_results(args.quick)}, indent=1))


if __name__ == "__main__":
    main()
