"""DeepCore 3-year validation numbers and figures for docs/likelihoods/deepcore.md.

* ``prediction``: expected events at the fit of IceCube's own code (PISA example) and at
  the PRL best fit with the nuisances profiled, beside the data; per-bin pulls; writes
  ``docs/figures/deepcore_data_vs_prediction.png``.
* ``scan``: the standard-oscillation fit, a (Dm2_32, sin2 theta_23) grid with the
  nuisances profiled at every point; best fit, 1 sigma and 90 % ranges; writes
  ``docs/figures/deepcore_standard_fit.png``.
* ``grid``: the templates of the default oscillogram grid against finer grids.
* ``octant``: the lower-octant Delta chi2 with the default and a finer grid.

    OMP_NUM_THREADS=1 python benchmarks/deepcore_fit.py --release ../shared/data/deepcore_3y \\
        prediction|scan|grid|octant
"""
from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from globalfit.likelihood import Point  # noqa: E402
from likelihoods.deepcore_3y import COSZEN_EDGES, ENERGY_EDGES_GEV, DeepCore3y  # noqa: E402
from likelihoods.deepcore_nuisances import NUISANCES  # noqa: E402

FIGURES = Path(__file__).resolve().parents[1] / "docs" / "figures"
DEG = np.pi / 180.0
PISA_EXAMPLE_PARAMS = dict(th12=33.48 * DEG, th13=8.51035 * DEG, th23=46.251 * DEG, dcp=0.0,
                           dm21=7.5e-5, dm31=2.42612e-3)
PISA_EXAMPLE_NUISANCES = dict(aeff_scale=0.934906, nc_norm=1.26362, nue_numu_ratio=1.03301,
                              barr_uphor=-0.315637, barr_nu_nubar=-0.0208958,
                              delta_index=-0.0106002, ice_absorption=1.0175368,
                              ice_scattering=1 - 0.0287944, opt_eff_overall=1.05343,
                              opt_eff_lateral=(22.0036 - 25) / 10, opt_eff_headon=-1.32362,
                              muon_scale=0.931613)
"""The fit printed by IceCube's PISA example notebook for this release (IceCube_3y_
oscillations_example.ipynb), in this likelihood's conventions."""


def standard_point(dm32: float, s23: float) -> Point:
    return Point(dict(th12=33.48 * DEG, th13=8.5 * DEG, th23=float(np.arcsin(np.sqrt(s23))), dcp=0.0,
                      dm21=7.5e-5, dm31=dm32 + 7.5e-5))


def prediction(deepcore: DeepCore3y) -> None:
    observed = deepcore.release.observed
    cases = [("IceCube PISA-example fit", deepcore.expected_counts(Point(PISA_EXAMPLE_PARAMS),
                                                                   PISA_EXAMPLE_NUISANCES)),
             ("PRL best fit, nuisances profiled", deepcore.expected_counts(standard_point(2.31e-3, 0.51)))]
    print(f"observed total: {observed.sum():.0f}")
    for label, mu in cases:
        pulls = (observed - mu) / np.sqrt(mu)
        chi2 = 2 * np.sum(mu - observed + observed * np.log(observed / mu))
        print(f"{label}: predicted {mu.sum():.1f} ({mu.sum() / observed.sum() - 1:+.2%}); pulls mean "
              f"{pulls.mean():+.3f}, std {pulls.std():.3f}, max |pull| {np.abs(pulls).max():.2f}; "
              f"Poisson chi2 {chi2:.1f} / 128 bins")
    point = Point(PISA_EXAMPLE_PARAMS)
    theta = np.array([PISA_EXAMPLE_NUISANCES[k] for k in NUISANCES])
    model = deepcore.nuisance_model
    templates = deepcore.templates(point)
    tau_cc = templates.copy()
    tau_cc[:, [0, 1, 3]] = 0.0                     # keep the nu_tau CC category only
    share = (model.expected(tau_cc, theta) - theta[11] * model.muons).sum() / cases[0][1].sum()
    print(f"nu_tau CC share of the prediction at the PISA-example fit: {share:.2%}")
    mu = cases[1][1]
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5), constrained_layout=True)
    centres = np.sqrt(ENERGY_EDGES_GEV[1:] * ENERGY_EDGES_GEV[:-1])
    for pid, name in enumerate(("cascade-like (PID 0)", "track-like (PID 1)")):
        n = observed.reshape(8, 8, 2)[:, :, pid]
        m = mu.reshape(8, 8, 2)[:, :, pid]
        up, down = slice(0, 4), slice(4, 8)
        for column, (rows, label) in enumerate(((up, "up-going, cos z < 0"), (down, "down-going, cos z > 0"))):
            ax = axes[pid, column]
            ax.errorbar(centres, n[:, rows].sum(axis=1), yerr=np.sqrt(n[:, rows].sum(axis=1)), fmt="ko",
                        label="data")
            ax.step(ENERGY_EDGES_GEV, np.append(m[:, rows].sum(axis=1), m[-1, rows].sum()), where="post",
                    color="C0", label="prediction (PRL best fit, profiled)")
            ax.set(xscale="log", xlabel="reconstructed energy [GeV]", ylabel="events",
                   title=f"{name}, {label}")
            ax.legend(fontsize=8)
        ax = axes[pid, 2]
        image = ax.pcolormesh(ENERGY_EDGES_GEV, COSZEN_EDGES, ((n - m) / np.sqrt(m)).T, cmap="RdBu_r",
                              vmin=-3, vmax=3)
        ax.set(xscale="log", xlabel="reconstructed energy [GeV]", ylabel="reconstructed cos(zenith)",
               title=f"{name}: (data - prediction) / sqrt(prediction)")
        fig.colorbar(image, ax=ax)
    for ax in axes.ravel():
        ax.set_xticks([6, 10, 20, 30, 50], ["6", "10", "20", "30", "50"])
        ax.set_xticks([], minor=True)
    fig.savefig(FIGURES / "deepcore_data_vs_prediction.png", dpi=110)
    print(f"wrote {FIGURES / 'deepcore_data_vs_prediction.png'}")


def crossings(grid, profile, level):
    inside = np.flatnonzero(profile <= level)
    lo, hi = inside[0], inside[-1]

    def cross(i, j):
        return grid[i] + (level - profile[i]) * (grid[j] - grid[i]) / (profile[j] - profile[i])
    return (cross(lo - 1, lo) if lo > 0 else np.nan), (cross(hi, hi + 1) if hi < grid.size - 1 else np.nan)


def scan(deepcore: DeepCore3y) -> None:
    dm32 = np.arange(2.00, 2.701, 0.05) * 1e-3
    s23 = np.arange(0.34, 0.661, 0.02)
    chi2 = np.array([[deepcore.profile(standard_point(d, s))[0] for s in s23] for d in dm32])
    best = np.unravel_index(chi2.argmin(), chi2.shape)
    chi2 -= chi2.min()
    print(f"best fit on the grid: Dm2_32 = {dm32[best[0]] * 1e3:.2f}e-3 eV^2, sin2 theta_23 = {s23[best[1]]:.2f}")
    for name, grid, profile, scale in (("Dm2_32 [1e-3 eV^2]", dm32, chi2.min(axis=1), 1e3),
                                       ("sin2 theta_23", s23, chi2.min(axis=0), 1.0)):
        one = crossings(grid, profile, 1.0)
        ninety = crossings(grid, profile, 2.71)
        print(f"{name}: 1 sigma [{one[0] * scale:.3f}, {one[1] * scale:.3f}], "
              f"90 % [{ninety[0] * scale:.3f}, {ninety[1] * scale:.3f}]; profile "
              + " ".join(f"{v:.2f}" for v in profile))
    fig, ax = plt.subplots(figsize=(5.5, 4.5), constrained_layout=True)
    ax.contour(s23, dm32 * 1e3, chi2, levels=[2.30, 4.61], colors=["C0", "C0"], linestyles=["--", "-"])
    ax.plot(s23[best[1]], dm32[best[0]] * 1e3, "C0x", label="this likelihood: best fit")
    ax.plot([], [], "C0--", label=r"this likelihood: 68 % ($\Delta\chi^2 = 2.30$, 2 dof)")
    ax.plot([], [], "C0-", label=r"this likelihood: 90 % ($\Delta\chi^2 = 4.61$, 2 dof)")
    ax.errorbar([0.51], [2.31], xerr=[[0.09], [0.07]], yerr=[[0.13], [0.11]], fmt="ko",
                label="IceCube PRL 120 (2018) 071801, 1 sigma")
    ax.set(xlabel=r"$\sin^2\theta_{23}$", ylabel=r"$\Delta m^2_{32}$ [$10^{-3}$ eV$^2$]",
           title="DeepCore 3 y, normal ordering")
    ax.legend(fontsize=8)
    fig.savefig(FIGURES / "deepcore_standard_fit.png", dpi=110)
    print(f"wrote {FIGURES / 'deepcore_standard_fit.png'}")


def grid(release: str) -> None:
    points = [standard_point(2.31e-3, 0.51),
              Point(standard_point(2.31e-3, 0.51).params, _nsi_couplings())]
    reference = DeepCore3y(release_path=release, energy_nodes=240, coszen_nodes=161)
    for label, point in zip(("standard", "complex NSI"), points):
        t_ref = reference.templates(point)[0].sum(axis=0)
        for nodes in ((32, 25), (40, 31), (48, 33), (60, 41), (80, 61), (120, 81)):
            t = DeepCore3y(release_path=release, energy_nodes=nodes[0], coszen_nodes=nodes[1]).templates(point)
            t = t[0].sum(axis=0)
            print(f"{label}: grid {nodes[0]} x {nodes[1]} against 240 x 161: max |dT|/sqrt(T) "
                  f"{np.max(np.abs(t - t_ref) / np.sqrt(t_ref)):.3f}, max |dT|/T {np.max(np.abs(t / t_ref - 1)):.4f}, "
                  f"total {t.sum() / t_ref.sum() - 1:+.2e}")


def lower_octant(release: str) -> None:
    """Delta chi2 at sin2 theta_23 = 0.44, 0.46 against 0.52 (Dm2_32 profiled over 2.25, 2.30,
    2.35e-3 eV^2) with the default and a four times finer oscillogram grid."""
    for nodes in ((60, 41), (120, 81)):
        deepcore = DeepCore3y(release_path=release, energy_nodes=nodes[0], coszen_nodes=nodes[1])
        chi2 = {s: min(deepcore.profile(standard_point(d, s))[0] for d in (2.25e-3, 2.30e-3, 2.35e-3))
                for s in (0.44, 0.46, 0.52)}
        print(f"grid {nodes[0]} x {nodes[1]}: Delta chi2 at sin2 theta_23 = 0.44: {chi2[0.44] - chi2[0.52]:.3f}, "
              f"0.46: {chi2[0.46] - chi2[0.52]:.3f}")


def _nsi_couplings():
    from globalfit.couplings import Couplings

    eps = np.array([[0.0, 0.02 - 0.01j, 0.03j], [0.02 + 0.01j, 0.0, 0.005], [-0.03j, 0.005, 0.01]])
    return Couplings(eps0={"u": eps})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--release", required=True)
    parser.add_argument("what", choices=("prediction", "scan", "grid", "octant"))
    args = parser.parse_args()
    if args.what in ("grid", "octant"):
        {"grid": grid, "octant": lower_octant}[args.what](args.release)
        return
    deepcore = DeepCore3y(release_path=args.release)
    {"prediction": prediction, "scan": scan}[args.what](deepcore)


if __name__ == "__main__":
    main()
