"""Local minimisers for the profile likelihood: MINUIT2/MIGRAD against scipy.

Runs each method of `globalfit.samplers.minimize.METHODS` from the same random starts on
test chi^2 surfaces of the kind a global fit meets (bounded, correlated, curved valleys,
separated modes, aliased oscillation minima; 2 to 10 parameters) and prints, per method:

* success: fraction of local minimisations ending within 0.01 of the global chi2_min
  (from random starts: measures the basin each method reaches, not a bug);
* calls: median chi^2 evaluations per minimisation (what costs in a real fit);
* calls/success: mean calls per minimisation divided by the success fraction, the expected
  cost of one hit of the global minimum in a multi-start search;
* time: wall time relative to L-BFGS-B measured in the same run;
* profile: total calls and the worst interval error of a 1-D profile of a 6-D correlated
  Gaussian (41 grid points), against the analytic 90% / 3 sigma endpoints.

A real fit is added with ``--real N`` (the project's solar + KamLAND likelihoods with solar
NSI, N starts; a few ms per evaluation). For that problem the global minimum is not known:
"success" counts minimisations within 0.01 of the best value any method found.

Usage: ``OMP_NUM_THREADS=1 python benchmarks/profile.py [--starts 40] [--real 8]``.
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np
from scipy import stats

from globalfit.samplers.minimize import METHODS, minimize_chi2
from globalfit.samplers.region_profiles import profile_regions
from globalfit.samplers.starts import latin_hypercube_starts
from globalfit.statistics import CL90_1DOF


def correlated_gaussian(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, n))
    cov = a @ a.T / n + np.diag(np.logspace(-2, 0, n))  # condition number ~ 1e2 - 1e3
    inv = np.linalg.inv(cov)
    mean = rng.uniform(-0.5, 0.5, n)
    sig = np.sqrt(np.diag(cov))
    bounds = np.column_stack([mean - 8 * sig, mean + 8 * sig])
    return (lambda t: float((t - mean) @ inv @ (t - mean))), bounds, 0.0, (mean, cov)


def rosenbrock(n: int):
    def chi2(t):
        return float(np.sum(100.0 * (t[1:] - t[:-1] ** 2) ** 2 + (1 - t[:-1]) ** 2))
    return chi2, np.tile([-2.0, 2.0], (n, 1)), 0.0, None


def bounded_quadratic(n: int):
    """Minimum outside the box: the constrained minimum sits on a corner."""
    centre = np.full(n, 1.5)
    scale = np.linspace(0.2, 1.0, n)

    def chi2(t):
        return float(np.sum(((t - centre) / scale) ** 2))
    corner_value = float(np.sum(((1.0 - centre) / scale) ** 2))
    return chi2, np.tile([-1.0, 1.0], (n, 1)), corner_value, None


def bimodal(n: int):
    """Two Gaussian valleys (chi2 0 and 1.5) separated along x0; the rest correlated."""
    def chi2(t):
        rest = np.sum((t[1:] - 0.3 * t[0]) ** 2 / 0.04)
        a = ((t[0] - 1.0) / 0.2) ** 2 + rest
        b = ((t[0] + 1.0) / 0.3) ** 2 + 1.5 + rest
        return float(-2 * np.logaddexp(-a / 2, -b / 2))
    return chi2, np.tile([-3.0, 3.0], (n, 1)), None, None


def disappearance_fit():
    """Asimov two-flavour disappearance spectrum: sin^2 2theta, dm2 [eV^2], norm, scale.

    P = 1 - sin^2 2theta sin^2(1.267 dm2 L / E), L = 180 km, E in 2-8 MeV (20 bins),
    5% normalisation and 2% energy-scale pulls: the reactor-like aliasing in dm2 gives
    several local minima.
    """
    energy = np.linspace(2.0, 8.0, 20)
    flux = 500.0 * np.exp(-0.5 * ((energy - 4.0) / 1.5) ** 2)

    def expected(t):
        s22, dm2, norm, scale = t
        e = energy * scale
        return norm * flux * (1 - s22 * np.sin(1.267 * dm2 * 1e-5 * 180e3 / e) ** 2)

    data = expected(np.array([0.85, 7.5, 1.0, 1.0]))

    def chi2(t):
        mu = expected(t)
        return float(np.sum((mu - data) ** 2 / data) + ((t[2] - 1) / 0.05) ** 2
                     + ((t[3] - 1) / 0.02) ** 2)
    bounds = np.array([[0.0, 1.0], [1.0, 20.0], [0.7, 1.3], [0.9, 1.1]])
    return chi2, bounds, 0.0, None


def disappearance_fit_raw_units():
    """`disappearance_fit` with dm2 in eV^2 (7.5e-5), as internal units store it."""
    chi2_scaled, bounds, chi2_min, _ = disappearance_fit()
    factor = np.array([1.0, 1e-5, 1.0, 1.0])
    return (lambda t: chi2_scaled(np.asarray(t) / factor)), bounds * factor[:, None], chi2_min, None


def solar_kamland_fit():
    """The project's solar + KamLAND likelihoods with solar NSI (eps_D, eps_N of u quarks),
    th12 in [20, 70] deg (LMA and LMA-D), dm21 in [4, 10] 1e-5 eV^2: a real 4-D fit."""
    from globalfit.config import load_config
    from globalfit.posterior import build_posterior
    from globalfit.samplers.minimize import posterior_chi2

    card = {
        "name": "benchmark_solar",
        "model": {"name": "solar_nsi", "options": {"fermion": "u"}},
        "parameters": {
            "th12": {"prior": "uniform", "min": 20, "max": 70, "unit": "deg"},
            "dm21": {"prior": "uniform", "min": 4.0e-5, "max": 10.0e-5, "unit": "eV2"},
            "eps_D": {"prior": "uniform", "min": -1.0, "max": 1.0},
            "eps_N": {"prior": "uniform", "min": -1.0, "max": 1.0},
        },
        "likelihoods": {"solar": {}, "kamland": {}},
    }
    posterior = build_posterior(load_config(card))
    return posterior_chi2(posterior), posterior.bounds, None, None


PROBLEMS = {
    "gauss-6d": correlated_gaussian(6),
    "gauss-10d": correlated_gaussian(10, seed=1),
    "rosenbrock-4d": rosenbrock(4),
    "bounded-8d": bounded_quadratic(8),
    "bimodal-5d": bimodal(5),
    "disappearance-4d": disappearance_fit(),
    "disappearance-eV2": disappearance_fit_raw_units(),
}


def run_problem(name, problem, methods, n_starts, seed):
    chi2, bounds, chi2_min, _ = problem
    starts = latin_hypercube_starts(bounds, n_starts, seed)
    results = {}
    for method in methods:
        t0 = time.perf_counter()
        minima = [minimize_chi2(chi2, s, bounds, method) for s in starts]
        results[method] = (time.perf_counter() - t0, minima)
    best = min(m.chi2 for _, ms in results.values() for m in ms)
    target = best if chi2_min is None else chi2_min
    rows = {}
    for method, (seconds, minima) in results.items():
        values = np.array([m.chi2 for m in minima])
        rows[method] = {
            "success": float(np.mean(values < target + 0.01)),
            "calls": float(np.median([m.calls for m in minima])),
            "per_success": float(np.mean([m.calls for m in minima]))
            / max(float(np.mean(values < target + 0.01)), 1e-9),
            "seconds": seconds,
        }
    return rows


def profile_check(method):
    chi2, bounds, _, (mean, cov) = PROBLEMS["gauss-6d"]
    names = [f"x{i}" for i in range(len(mean))]
    t0 = time.perf_counter()
    profile = profile_regions(chi2, names, bounds, "x0", n_grid=41, n_starts=4,
                              method=method)["all"]
    seconds = time.perf_counter() - t0
    sigma = math.sqrt(cov[0, 0])
    errors = []
    for level, z in ((CL90_1DOF, stats.norm.ppf(0.95)), (9.0, 3.0)):
        ((low, high),) = profile.intervals(level)
        errors += [abs(low - (mean[0] - z * sigma)) / sigma,
                   abs(high - (mean[0] + z * sigma)) / sigma]
    return profile.calls, max(errors), seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--real", type=int, default=0, metavar="N",
                        help="also fit the project's solar+KamLAND likelihood from N starts")
    args = parser.parse_args()
    methods = list(METHODS)
    try:
        import iminuit  # noqa: F401
    except ImportError:
        methods.remove("migrad")
        print("iminuit not installed: migrad skipped")
    totals = {m: {"success": [], "per_success": [], "calls": [], "seconds": 0.0} for m in methods}
    print(f"{'problem':18s} {'method':12s} {'success':>8s} {'calls':>8s} {'calls/success':>14s} "
          f"{'time/LBFGSB':>12s}")
    problems = dict(PROBLEMS)
    if args.real:
        problems["solar+kamland-4d"] = solar_kamland_fit()
    for name, problem in problems.items():
        starts = args.real if name == "solar+kamland-4d" else args.starts
        rows = run_problem(name, problem, methods, starts, args.seed)
        reference = rows["l-bfgs-b"]["seconds"]
        for method, row in rows.items():
            print(f"{name:18s} {method:12s} {row['success']:8.2f} {row['calls']:8.0f} "
                  f"{row['per_success']:14.0f} {row['seconds'] / reference:12.2f}")
            totals[method]["success"].append(row["success"])
            totals[method]["per_success"].append(row["per_success"])
            totals[method]["calls"].append(row["calls"])
            totals[method]["seconds"] += row["seconds"]
    print("\nall problems (mean success, median calls, geometric mean of calls/success, "
          "total time / L-BFGS-B):")
    reference = totals["l-bfgs-b"]["seconds"]
    for method, total in totals.items():
        print(f"  {method:12s} success {np.mean(total['success']):.2f}  calls "
              f"{np.median(total['calls']):6.0f}  calls/success "
              f"{np.exp(np.mean(np.log(total['per_success']))):6.0f}  "
              f"time {total['seconds'] / reference:.2f}")
    print("\nprofile of x0 in the 6-D Gaussian (41 points): calls, worst endpoint error / "
          "sigma, time / L-BFGS-B")
    checks = {method: profile_check(method) for method in methods}
    reference = checks["l-bfgs-b"][2]
    for method, (calls, error, seconds) in checks.items():
        print(f"  {method:12s} calls {calls:7d}  error {error:.1e}  time {seconds / reference:.2f}")


if __name__ == "__main__":
    main()
