"""Benchmark of the oscillation engine against the installed peers, in one run.

Problem (issue #2): all nine probabilities with complex NSI at L = 1300 km,
rho = 2.848 g/cm^3 (Y_e = 0.5), ``n_energies`` energies (0.5-5 GeV) x ``n_points``
parameter points (NuFIT-like values jittered per point, one complex NSI matrix per point).

Prints, for each engine, the best wall time of ``--repeat`` runs (after one warm-up run)
divided by ``n_energies * n_points``, and ratios to NuOscProbExact (prebuilt Hamiltonian)
and to batched ``eigh`` measured in the same run, plus the largest difference to ``eigh``.

Run single-threaded::

    OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 python benchmarks/oscillation.py
"""
from __future__ import annotations

import argparse
import os
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from globalfit.physics import oscillation as osc  # noqa: E402
from globalfit.physics.constants import EV, MATTER_POTENTIAL_EV_PER_GCC  # noqa: E402

BASELINE_KM = 1300.0
DENSITY_GCC = 2.848
ELECTRON_FRACTION = 0.5


def problem(n_energies: int, n_points: int, seed: int = 7):
    """Energies (n_energies,), params of shape (n_points, 1), eps (n_points, 1, 3, 3)."""
    rng = np.random.default_rng(seed)
    energy = np.geomspace(0.5, 5.0, n_energies)
    base = {"th12": 0.5831, "th13": 0.1497, "th23": 0.7365, "dcp": 4.05, "dm21": 7.41e-5, "dm31": 2.507e-3}
    params = {}
    for key, value in base.items():
        jitter = rng.normal(scale=0.02, size=(n_points, 1))
        params[key] = value * (1.0 + jitter)
    eps = np.zeros((n_points, 1, 3, 3), complex)
    diag = rng.uniform(-0.5, 0.5, size=(n_points, 3))
    for a in range(3):
        eps[:, 0, a, a] = diag[:, a]
    for a, b in ((0, 1), (0, 2), (1, 2)):
        value = rng.uniform(0, 0.3, n_points) * np.exp(1j * rng.uniform(0, 2 * np.pi, n_points))
        eps[:, 0, a, b] = value
        eps[:, 0, b, a] = np.conj(value)
    return energy, params, eps


def best_time(function, repeat: int) -> tuple[float, float, object]:
    """Best CPU time (``time.process_time``) and best wall time over ``repeat`` runs.

    CPU time of this (single-threaded) process is the figure of merit: the benchmark
    machine is shared, and wall time there includes waiting for a core.
    """
    result = function()                       # warm-up (page faults, numba compilation)
    best_cpu = best_wall = np.inf
    for _ in range(repeat):
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        result = function()
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
        best_wall = min(best_wall, time.perf_counter() - start_wall)
    return best_cpu, best_wall, result


def nuoscprobexact_engines(energy, params, eps):
    """(prebuilt, as_shipped) callables for NuOscProbExact, or None if absent."""
    try:
        import hamiltonians3nu
        import oscprob3nu
    except ImportError:
        return None
    n_points = params["th12"].shape[0]
    v_cc = MATTER_POTENTIAL_EV_PER_GCC * ELECTRON_FRACTION * DENSITY_GCC
    length = BASELINE_KM * osc.LENGTH_EV_INV_PER_KM
    energy_ev = energy / EV

    def build():
        stacks = []
        for i in range(n_points):
            h_vac = hamiltonians3nu.hamiltonian_3nu_vacuum_energy_independent(
                np.sin(params["th12"][i, 0]), np.sin(params["th23"][i, 0]), np.sin(params["th13"][i, 0]),
                params["dcp"][i, 0], params["dm21"][i, 0], params["dm31"][i, 0])
            e = eps[i, 0]
            nsi = [e[0, 0].real, e[0, 1], e[0, 2], e[1, 1].real, e[1, 2], e[2, 2].real]
            stacks.append(hamiltonians3nu.hamiltonian_3nu_nsi(h_vac, energy_ev, v_cc, nsi))
        return np.stack(stacks)

    prebuilt_h = build()

    def prebuilt():
        return oscprob3nu.probabilities_3nu(prebuilt_h, length).reshape(prebuilt_h.shape[:-2] + (3, 3))

    def as_shipped():
        h = build()
        return oscprob3nu.probabilities_3nu(h, length).reshape(h.shape[:-2] + (3, 3))

    return prebuilt, as_shipped


def layered_benchmark(n_energies: int, repeat: int) -> None:
    """Earth chord (PREM, nadir 0.2 rad, 50 km steps) with NSI: globalfit vs NuOscProbExact slabs."""
    from globalfit.physics.matter import earth_layers

    layers = earth_layers(0.2)
    energy = np.geomspace(0.1, 20.0, n_energies)
    energy_, params_, eps_ = problem(1, 1)
    params = {k: float(v[0, 0]) for k, v in params_.items()}
    eps = eps_[0, 0]
    engines = {"globalfit probabilities_layers": lambda: osc.probabilities_layers(energy, layers, params, eps)}
    try:
        import hamiltonians3nu
        import slabs
    except ImportError:
        slabs = None
    if slabs is not None:
        h_vac = hamiltonians3nu.hamiltonian_3nu_vacuum_energy_independent(
            np.sin(params["th12"]), np.sin(params["th23"]), np.sin(params["th13"]), params["dcp"],
            params["dm21"], params["dm31"])
        nsi = [eps[0, 0].real, eps[0, 1], eps[0, 2], eps[1, 1].real, eps[1, 2], eps[2, 2].real]
        stacks = [np.stack([hamiltonians3nu.hamiltonian_3nu_nsi(
            h_vac, e / EV, MATTER_POTENTIAL_EV_PER_GCC * y_e * rho, nsi) for _, rho, y_e in layers]) for e in energy]
        widths = np.array([length for length, _, _ in layers]) * osc.LENGTH_EV_INV_PER_KM

        def nuoscprobexact_slabs():   # its slab product is compiled but takes one energy per call
            return np.array([slabs.probabilities_3nu_slabs(h, widths) for h in stacks]).reshape(-1, 3, 3)
        engines["NuOscProbExact slabs, H prebuilt, loop over E"] = nuoscprobexact_slabs
    times, results = {}, {}
    for name, function in engines.items():
        times[name], _, results[name] = best_time(function, repeat)
    reference = results["globalfit probabilities_layers"]
    print(f"\nLayered: {len(layers)} PREM layers (nadir 0.2 rad), {n_energies} energies, complex NSI, "
          f"best of {repeat}")
    print(f"{'engine':46s} {'CPU ns/(E,layer)':>17s} {'vs globalfit':>13s} {'max|dP|':>10s}")
    base = times["globalfit probabilities_layers"]
    for name in engines:
        ns = times[name] / (n_energies * len(layers)) * 1e9
        diff = np.abs(np.asarray(results[name]) - reference).max()
        print(f"{name:46s} {ns:17.1f} {times[name] / base:13.3f} {diff:10.2e}")


def interleaved_times(engines: dict, number: int, repeat: int) -> dict:
    """CPU seconds per call of each engine: (min, median) over ``repeat`` rounds of ``number``
    calls, the engines taking turns within each round (so that load changes hit all), each
    after one untimed call (the engine before it leaves the caches cold)."""
    samples = {name: [] for name in engines}
    for function in engines.values():
        function()                                            # warm-up (caches, compilation)
    for _ in range(repeat):
        for name, function in engines.items():
            function()                  # untimed: each engine starts its round with warm caches
            start = time.process_time()
            for _ in range(number):
                function()
            samples[name].append((time.process_time() - start) / number)
    return {name: (min(values), float(np.median(values))) for name, values in samples.items()}


def per_call_engines(n_energies: int) -> dict:
    """One parameter point (complex NSI) at ``n_energies``: the engines timed per call."""
    energy, params_, eps_ = problem(n_energies, 1)
    params = {k: float(v[0, 0]) for k, v in params_.items()}
    eps = eps_[0, 0]
    path = osc.ConstantDensityPath(energy, BASELINE_KM, DENSITY_GCC, ELECTRON_FRACTION)
    reference_path = osc.ConstantDensityPath(energy, BASELINE_KM, DENSITY_GCC, ELECTRON_FRACTION, kernel="numpy")
    engines = {
        "globalfit probabilities()": lambda: osc.probabilities(
            energy, BASELINE_KM, DENSITY_GCC, params, eps, electron_fraction=ELECTRON_FRACTION),
        "globalfit ConstantDensityPath (numba)": lambda: path.probabilities(params, eps),
        "globalfit ConstantDensityPath (numpy kernel)": lambda: reference_path.probabilities(params, eps),
        "eigh (oracle)": lambda: osc.probabilities_eigh(
            energy, BASELINE_KM, DENSITY_GCC, params, eps, electron_fraction=ELECTRON_FRACTION),
    }
    peers = nuoscprobexact_engines(energy, params_, eps_)
    if peers is not None:
        engines["NuOscProbExact, Hamiltonian prebuilt"] = peers[0]
    return engines


def per_call_benchmark(repeat: int) -> None:
    """One parameter point (complex NSI) at 1, 100 and 10^4 energies: time per call."""
    print("\nPer call, one parameter point, complex NSI; CPU us per call, min / median of "
          f"{repeat} interleaved rounds; load average {os.getloadavg()[0]:.1f} at the start")
    print(f"{'energies':>8s} {'engine':44s} {'min us':>9s} {'median us':>10s} {'NuOsc/this':>11s} "
          f"{'eigh/this':>10s} {'max|dP| vs eigh':>16s}")
    for n_energies, number in ((1, 400), (100, 200), (10_000, 4)):
        engines = per_call_engines(n_energies)
        times = interleaved_times(engines, number, repeat)
        oracle = engines["eigh (oracle)"]()
        peer = times.get("NuOscProbExact, Hamiltonian prebuilt")
        for name, function in engines.items():
            best, median = times[name]
            vs_peer = f"{peer[0] / best:11.2f}" if peer else f"{'n/a':>11s}"
            diff = np.abs(np.asarray(function()).reshape(oracle.shape) - oracle).max()
            print(f"{n_energies:8d} {name[:44]:44s} {best * 1e6:9.1f} {median * 1e6:10.1f} {vs_peer} "
                  f"{times['eigh (oracle)'][0] / best:10.2f} {diff:16.2e}")


def kernel_part_engines(n_energies: int) -> dict:
    """The parts of the compiled kernel for one point at ``n_energies`` (see `kernel_parts`)."""
    compiled = osc.compiled_kernels()
    energy, params_, eps_ = problem(n_energies, 1)
    params = {k: float(v[0, 0]) for k, v in params_.items()}
    eps = np.ascontiguousarray(eps_[0, 0])
    path = osc.ConstantDensityPath(energy, BASELINE_KM, DENSITY_GCC, ELECTRON_FRACTION)
    point = tuple(params[k] for k in osc.PARAMETER_NAMES)
    w, v = path.w.reshape(-1), float(path.v)
    planes, regular, table = np.empty((3, 3, n_energies)), np.empty(n_energies, bool), np.empty((1, 10, 4))
    compiled.point_table(*point, eps, False, v, table[0])
    no_index = np.empty(0, np.int64)
    x = np.linspace(-0.9, 0.9, n_energies)
    y = np.empty_like(x)
    engines = {
        "ConstantDensityPath.probabilities (numba)": lambda: path.probabilities(params, eps),
        "compiled table + scalar loop (one call)": lambda: compiled.point_probabilities(
            *point, eps, False, v, w, planes, regular, table),
    }
    if n_energies == 1:
        engines["compiled Hermiticity check of eps"] = lambda: compiled.hermitian_deviation(eps)
    else:
        engines.update({
            "compiled hybrid blocks (table given)": lambda: compiled.probabilities_blocks(
                table, no_index, w, planes, regular),
            "numpy arccos": lambda: np.arccos(x, y),
            "numpy tan": lambda: np.tan(x, y),
            "numpy cos": lambda: np.cos(x, y),
        })
    return engines


def kernel_parts(repeat: int) -> None:
    """Where the compiled kernel's time goes: the parts of one call at one energy, and per
    element at 10^4 energies the scalar-libm loop, the hybrid blocks and numpy's vectorised
    functions they are built on."""
    print(f"\nParts of the compiled kernel, CPU time, min / median of {repeat} interleaved rounds")
    print(f"{'energies':>8s} {'part':44s} {'min':>9s} {'median':>10s}")
    for n_energies, number, scale, unit in ((1, 2000, 1e6, "us per call"), (10_000, 20, 1e5, "ns per energy")):
        times = interleaved_times(kernel_part_engines(n_energies), number, repeat)
        for name, (best, median) in times.items():
            print(f"{n_energies:8d} {name:44s} {best * scale:9.2f} {median * scale:10.2f}  {unit}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--energies", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--layered-energies", type=int, default=1000,
                        help="energies for the Earth-chord benchmark (0 to skip)")
    parser.add_argument("--per-call-only", action="store_true",
                        help="only the per-call tables (one point at 1, 100, 10^4 energies; parts of the "
                             "compiled kernel)")
    args = parser.parse_args(argv)
    per_call_benchmark(max(args.repeat, 5))
    kernel_parts(max(args.repeat, 5))
    if args.per_call_only:
        return
    energy, params, eps = problem(args.energies, args.points)
    n = args.energies * args.points

    reused = osc.probabilities(energy, BASELINE_KM, DENSITY_GCC, params, eps, electron_fraction=ELECTRON_FRACTION)
    engines = {
        "globalfit closed form (numba, default)": lambda: osc.probabilities(
            energy, BASELINE_KM, DENSITY_GCC, params, eps, electron_fraction=ELECTRON_FRACTION),
        "globalfit closed form (numba), out= reused": lambda: osc.probabilities(
            energy, BASELINE_KM, DENSITY_GCC, params, eps, electron_fraction=ELECTRON_FRACTION, out=reused),
        "globalfit closed form (numpy kernel)": lambda: osc.probabilities(
            energy, BASELINE_KM, DENSITY_GCC, params, eps, electron_fraction=ELECTRON_FRACTION, kernel="numpy"),
        "globalfit eigh (oracle)": lambda: osc.probabilities_eigh(
            energy, BASELINE_KM, DENSITY_GCC, params, eps, electron_fraction=ELECTRON_FRACTION),
    }
    peers = nuoscprobexact_engines(energy, params, eps)
    if peers is not None:
        engines["NuOscProbExact, Hamiltonian prebuilt"] = peers[0]
        engines["NuOscProbExact, as shipped (builds H)"] = peers[1]

    times, walls, results = {}, {}, {}
    for name, function in engines.items():
        times[name], walls[name], results[name] = best_time(function, args.repeat)
    reference = results["globalfit eigh (oracle)"]
    t_eigh = times["globalfit eigh (oracle)"]
    t_peer = times.get("NuOscProbExact, Hamiltonian prebuilt")
    print(f"{args.energies} energies x {args.points} points, L = {BASELINE_KM} km, rho = {DENSITY_GCC} g/cm3, "
          f"complex NSI, best of {args.repeat}, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}, "
          f"NUMBA_NUM_THREADS={os.environ['NUMBA_NUM_THREADS']}")
    print("ns/(E,point): best CPU time of this process per (energy, point); wall time beside it")
    header = (f"{'engine':46s} {'CPU ns':>8s} {'wall ns':>8s} {'vs NuOscProbExact':>18s} {'vs eigh':>8s} "
              f"{'max|dP| vs eigh':>16s}")
    print(header)
    for name in engines:
        ns, wall_ns = times[name] / n * 1e9, walls[name] / n * 1e9
        vs_peer = f"{times[name] / t_peer:18.3f}" if t_peer else f"{'n/a':>18s}"
        diff = np.abs(np.array(results[name]) - reference).max()
        print(f"{name:46s} {ns:8.1f} {wall_ns:8.1f} {vs_peer} {times[name] / t_eigh:8.3f} {diff:16.2e}")
    if args.layered_energies:
        layered_benchmark(args.layered_energies, args.repeat)


if __name__ == "__main__":
    main()
