"""``globalfit run [CARD]``: sample the posterior of a run card into ``chains/<name>/``."""
from __future__ import annotations

import argparse
import secrets
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np

from globalfit import provenance
from globalfit.config import RunConfig, load_config
from globalfit.paths import CONFIG_DIR
from globalfit.runlock import (
    LOCK_FILE,
    RunLockError,
    check_output_writable,
    describe_owner,
    is_locked,
    writing_run,
)

HELP = "Run a fit from a run card (default: configs/default.yaml) and write chains/<name>/."
DEFAULT_CARD = CONFIG_DIR / "default.yaml"
RUN_MARKERS = ("config.yaml", "chain.h5", "provenance.json", "scan.csv")
"""Files that make a folder a globalfit run folder."""
EXIT_INTERRUPTED = 130
RUN_SAMPLERS = ("emcee", "nested")
"""``sampler.name`` values `globalfit run` runs."""
EVIDENCE_FILES = ("evidence.csv", "evidence.md")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("card", nargs="?", default=None,
                        help=f"run card (YAML); default: {DEFAULT_CARD}")
    add_sampling_options(parser)
    parser.add_argument("--steps", type=int, default=None,
                        help="number of emcee steps (overrides sampler.steps)")
    parser.add_argument("--seed", type=int, default=None, help="overrides sampler.seed")
    parser.add_argument("--output", default=None,
                        help="run folder (overrides output:, default chains/<name>)")
    parser.add_argument("--force", action="store_true",
                        help="delete an existing run in the output folder and start afresh")


def add_sampling_options(parser: argparse.ArgumentParser) -> None:
    """``--cores`` and ``--no-progress`` (shared with ``resume``)."""
    parser.add_argument("--cores", type=positive_int, default=1,
                        help="worker processes evaluating the posterior (default 1)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--pool", choices=("process", "mpi"), default="process",
                        help="'process' (default): --cores local processes; 'mpi': every MPI "
                             "rank evaluates points (mpiexec -n N globalfit run CARD --pool mpi)")


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value}")
    return value


def main(args: argparse.Namespace) -> int:
    card = Path(args.card) if args.card else DEFAULT_CARD
    config = load_config(card)
    if config.scan is not None:
        return scan_and_report(config, card, args)
    if config.sampler["name"] not in RUN_SAMPLERS:
        raise ValueError(f"sampler.name: `globalfit run` samples with {' or '.join(RUN_SAMPLERS)}, "
                         f"but {card} asks for {config.sampler['name']!r} (see `globalfit --help` "
                         f"for the command that runs it, or set sampler.name: emcee)")
    apply_overrides(config, steps=args.steps, seed=args.seed, output=args.output)
    check_run_dir(config.output, force=args.force)
    check_output_writable(config.output)
    from globalfit.posterior import build_posterior

    posterior = build_posterior(config)
    if posterior.ndim == 0:
        raise ValueError(f"parameters: every parameter of {card} is fixed; give at least one "
                         f"a prior to sample (`globalfit check {card}` evaluates a fixed point)")
    pool = open_pool(args, posterior)
    if pool is not None and not pool.is_master():
        pool.wait()  # worker rank: evaluate what rank 0 sends, until it closes the pool
        return 0
    try:
        with writing_run(config.output, "globalfit run", new=True):
            start_run_folder(config, posterior, card, args)
            ranks = f"; {pool.size} MPI ranks" if pool is not None else ""
            print(f"globalfit run: {config.name}: model {config.model.name!r}, likelihoods "
                  f"{', '.join(posterior.likelihoods) or 'none'}; {posterior.ndim} free "
                  f"parameters ({', '.join(posterior.names)}); output {config.output}{ranks}")
            return dispatch(posterior, config, args, command="run", pool=pool)
    finally:
        if pool is not None:
            pool.close()


def start_run_folder(config: RunConfig, posterior, card: Path, args: argparse.Namespace) -> None:
    """Create the run folder and write the resolved card and the provenance record."""
    prepare_run_dir(config.output, force=args.force)
    config.write(config.output / "config.yaml")
    record = provenance.start_record(posterior, config)
    record["card"] = str(card)
    record["arguments"] = arguments_record(args)
    provenance.write(config.output, record)


def scan_and_report(config: RunConfig, card: Path, args: argparse.Namespace) -> int:
    """A card with ``scan:``: the profile chi^2 along the scanned parameter
    (`globalfit.scan`) instead of sampling; writes ``scan.csv``, ``config.yaml`` and
    ``provenance.json`` into the run folder and prints the table."""
    from globalfit.posterior import build_posterior
    from globalfit.scan import scan_config

    if args.steps is not None:
        raise ValueError("--steps: a scan has no steps (its grid is scan.points)")
    apply_overrides(config, seed=args.seed, output=args.output)
    check_run_dir(config.output, force=args.force)
    check_output_writable(config.output)
    posterior = build_posterior(scan_config(config))
    with writing_run(config.output, "globalfit run", new=True):
        return _scan_locked(config, posterior, card, args)


def _scan_locked(config: RunConfig, posterior, card: Path, args: argparse.Namespace) -> int:
    from globalfit.scan import format_scan, run_scan, write_scan

    start_run_folder(config, posterior, card, args)
    scan = config.scan
    others = [n for n in posterior.names if n != scan["parameter"]]
    print(f"globalfit run: {config.name}: scan of {scan['parameter']} from {scan['from']:g} to "
          f"{scan['to']:g} {scan['unit']} ({scan['points']} points, {scan['spacing']}), "
          f"profiling {', '.join(others) or 'nothing'}; output {config.output}")
    started = provenance.utc_now()
    result = run_scan(config, seed=int(config.sampler.get("seed") or 0) % 2**32,
                      progress=f"scan {scan['parameter']}")
    path = write_scan(result, config.output)
    provenance.add_session(config.output, command="run", argv=None, started=started,
                           steps_before=0, steps_after=result.calls, target=result.calls,
                           status="complete", posterior=posterior)
    print(format_scan(result))
    print(f"wrote {path}, {config.output / 'config.yaml'}, {config.output / 'provenance.json'}")
    return 0


def open_pool(args: argparse.Namespace, posterior):
    """`globalfit.mpi.MPIPool` over all ranks for ``--pool mpi`` (every rank built the same
    posterior), else None (``--cores`` processes are started by the sampler)."""
    if getattr(args, "pool", "process") != "mpi":
        return None
    from globalfit.mpi import MPIPool

    return MPIPool(posterior)


def dispatch(posterior, config: RunConfig, args, command: str, pool=None) -> int:
    """Run the card's sampler: nested evidences, region ensembles or one emcee ensemble."""
    if config.sampler["name"] == "nested":
        return nested_and_report(posterior, config, args, pool=pool)
    if config.sampler.get("ensembles_per_region"):
        return region_ensembles_and_report(posterior, config, args, command=command, pool=pool)
    return sample_and_report(posterior, config, args, command=command, pool=pool)


def apply_overrides(config: RunConfig, *, steps=None, seed=None, output=None) -> None:
    """Command-line overrides; a run without a seed gets a random one (recorded)."""
    if steps is not None and config.sampler["name"] == "nested":
        raise ValueError("--steps: nested sampling has no number of steps; it stops when "
                         "sampler.n_effective (nautilus) or the evidence tolerance (dynesty) "
                         "is reached")
    if steps is not None:
        if steps < 1:
            raise ValueError(f"--steps: expected a positive number of steps, got {steps}")
        config.sampler["steps"] = steps
        config.sampler["burn_in"] = min(config.sampler.get("burn_in", 0), steps // 2)
    if seed is not None:
        config.sampler["seed"] = seed
    if config.sampler.get("seed") is None:
        config.sampler["seed"] = secrets.randbelow(2**32)
    if output is not None:
        config.output = Path(output)


def check_run_dir(run_dir: Path, force: bool) -> bool:
    """Whether ``run_dir`` holds a run that ``force`` allows to replace (False: empty/new).

    Raises
    ------
    ValueError
        If the folder holds a run and ``force`` is not set (suggesting ``resume``), or it
        holds other files (never deleted).
    """
    run_dir = Path(run_dir)
    if not (run_dir.exists() and any(p.name != LOCK_FILE for p in run_dir.iterdir())):
        return False
    owner = is_locked(run_dir)
    if owner is not None:
        raise RunLockError(f"output {run_dir}: is being written by {describe_owner(owner)}; "
                           f"wait for it to finish, or choose another --output")
    if not any((run_dir / marker).exists() for marker in RUN_MARKERS):
        raise ValueError(f"output {run_dir}: folder exists and is not a globalfit run "
                         f"folder; choose another --output (nothing was deleted)")
    if not force:
        raise ValueError(f"output {run_dir}: already holds a run; continue it with "
                         f"`globalfit resume {run_dir}` or start afresh with --force")
    return True


def prepare_run_dir(run_dir: Path, force: bool) -> None:
    """Create the run folder; with ``force``, delete the run it holds (see `check_run_dir`)."""
    run_dir = Path(run_dir)
    if check_run_dir(run_dir, force):
        for path in run_dir.iterdir():  # the lock file of this writer stays
            if path.name == LOCK_FILE:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
    run_dir.mkdir(parents=True, exist_ok=True)


def arguments_record(args: argparse.Namespace) -> dict:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
            if not k.startswith("_")}


def sample_and_report(posterior, config: RunConfig, args, command: str, pool=None) -> int:
    """Run emcee, record the session, print diagnostics, then the results layer."""
    from globalfit.samplers.emcee_sampler import format_diagnostics, run_emcee

    run_dir = Path(config.output)
    steps_before = stored_steps(run_dir)
    started = provenance.utc_now()
    result = run_emcee(posterior, config, run_dir, cores=args.cores,
                       progress=not args.no_progress, pool=pool)
    status = "complete" if result.complete else "interrupted"
    provenance.add_session(run_dir, command=command, argv=None, started=started,
                           steps_before=steps_before, steps_after=result.steps,
                           target=result.target_steps, status=status, posterior=posterior)
    print(format_diagnostics(result.diagnostics))
    print(f"wrote {run_dir / 'chain.h5'}, {run_dir / 'diagnostics.json'}, "
          f"{run_dir / 'provenance.json'}")
    if not result.complete:
        print(f"stopped at step {result.steps} of {result.target_steps}; continue with "
              f"`globalfit resume {run_dir}`")
        return EXIT_INTERRUPTED
    write_results(run_dir)
    return 0


def nested_and_report(posterior, config: RunConfig, args, pool=None) -> int:
    """Evidence of each card region (or of the whole prior) by nested sampling; writes
    ``nested_<region>.h5``, ``evidence.csv`` and ``evidence.md`` and prints the table.

    A checkpoint ``nested_<region>.checkpoint`` per region lets a killed run continue
    (``globalfit resume RUN_DIR``)."""
    run_dir = Path(config.output)
    started = provenance.utc_now()
    results = nested_evidences(posterior, config, progress=not args.no_progress, pool=pool)
    table = evidence_table(results)
    table.to_csv(run_dir / EVIDENCE_FILES[0], index=False, float_format="%.6g")
    text = evidence_markdown(table, config)
    (run_dir / EVIDENCE_FILES[1]).write_text(text)
    calls = sum(max(r.n_calls, 0) for r in results.values())
    provenance.add_session(run_dir, command=getattr(args, "command", None) or "run",
                           argv=None, started=started, steps_before=0, steps_after=calls,
                           target=calls, status="complete", posterior=posterior)
    print(text)
    print("wrote " + ", ".join(str(run_dir / f"nested_{n}.h5") for n in results)
          + f", {run_dir / EVIDENCE_FILES[0]}, {run_dir / EVIDENCE_FILES[1]}")
    return 0


def nested_evidences(posterior, config: RunConfig, progress: bool = False, pool=None) -> dict:
    """`globalfit.modes.region_evidences` with the card's nested-sampler settings."""
    from globalfit.modes import region_evidences
    from globalfit.regions import parse_regions

    settings = config.sampler
    return region_evidences(
        posterior, parse_regions(config.regions, posterior.parameters),
        output_dir=Path(config.output), engine=settings["engine"],
        n_live=settings["live_points"], seed=int(settings["seed"]),
        n_effective=settings["n_effective"], pool=pool, progress=progress,
    )


def evidence_table(results: dict):
    """`globalfit.modes.region_masses` of nested results, with engine and calls."""
    from globalfit.modes import region_masses

    table = region_masses({k: r.log_evidence for k, r in results.items()},
                          {k: r.log_evidence_err for k, r in results.items()})
    table["likelihood_calls"] = [results[k].n_calls for k in table["region"]]
    table["engine"] = [results[k].engine for k in table["region"]]
    return table


def evidence_markdown(table, config: RunConfig) -> str:
    """The evidence table as Markdown, with the regions' conditions."""
    lines = [f"# Evidence of run {config.name}", "",
             f"Nested sampling ({config.sampler['engine']}); posterior mass of a region "
             f"= Z_region / sum Z.", "",
             "| region | condition | ln Z | mass | ln B vs best |",
             "|---|---|---|---|---|"]
    for row in table.itertuples():
        condition = config.regions.get(row.region, "whole prior")
        lines.append(f"| {row.region} | {condition} | {row.log_evidence:.3f} +- "
                     f"{row.log_evidence_err:.3f} | {row.mass:.4f} +- {row.mass_err:.4f} | "
                     f"{row.ln_bayes_factor_vs_best:.3f} |")
    return "\n".join(lines) + "\n"


MAX_REGION_START_ROUNDS = 1000
"""Rounds of prior draws when seeding walkers inside a region by rejection."""


def region_ensembles_and_report(posterior, config: RunConfig, args, command: str,
                                pool=None) -> int:
    """``ensembles_per_region: K``: K independent emcee ensembles in each card region.

    Each ensemble samples `globalfit.modes.RegionPosterior` (``-inf`` outside its region)
    into ``<output>/<region>/ensemble_<k>/`` (a run folder with ``config.yaml``,
    ``chain.h5``, ``diagnostics.json``), with a seed derived from the card seed, region and
    ensemble index. The split R-hat of each region across its K ensembles goes to
    ``<output>/diagnostics.json``. A stopped run continues with ``globalfit resume``.
    """
    import copy

    from globalfit.modes import RegionPosterior
    from globalfit.regions import parse_regions
    from globalfit.samplers.emcee_sampler import ChainNotConvergedWarning, run_emcee, write_json

    run_dir = Path(config.output)
    ensembles = int(config.sampler["ensembles_per_region"])
    started = provenance.utc_now()
    results = {}
    for index, region in enumerate(parse_regions(config.regions, posterior.parameters)):
        restricted = RegionPosterior(posterior, region)
        for k in range(ensembles):
            sub = copy.deepcopy(config)
            sub.sampler = {key: value for key, value in config.sampler.items()
                           if key != "ensembles_per_region"}
            sub.sampler["seed"] = ensemble_seed(config.sampler["seed"], index, k)
            sub.output = run_dir / region.name / f"ensemble_{k}"
            sub.output.mkdir(parents=True, exist_ok=True)
            sub.write(sub.output / "config.yaml")
            start = None
            if stored_steps(sub.output) == 0:
                start = region_start(posterior, region, int(sub.sampler["walkers"]),
                                     np.random.default_rng(sub.sampler["seed"]))
            print(f"region {region.name!r} ({region.condition}), ensemble {k}: {sub.output}")
            with warnings.catch_warnings():
                # only the per-ensemble chain-length advice (R-hat across ensembles below);
                # every other warning (e.g. KamLAND's built-in summary cannot see NSI) shows
                warnings.simplefilter("ignore", ChainNotConvergedWarning)
                results[(region.name, k)] = run_emcee(
                    restricted, sub, sub.output, cores=args.cores, pool=pool,
                    progress=not args.no_progress, start_positions=start)
    summary = region_rhat_summary(config, results, posterior.names)
    write_json(run_dir / "diagnostics.json", summary)
    complete = all(r.complete for r in results.values())
    steps = sum(r.steps for r in results.values())
    provenance.add_session(run_dir, command=command, argv=None, started=started,
                           steps_before=0, steps_after=steps,
                           target=sum(r.target_steps for r in results.values()),
                           status="complete" if complete else "interrupted", posterior=posterior)
    print(format_region_rhat(summary))
    print(f"wrote {run_dir / 'diagnostics.json'}")
    if not complete:
        print(f"stopped before the target; continue with `globalfit resume {run_dir}`")
        return EXIT_INTERRUPTED
    return 0


def ensemble_seed(card_seed: int, region_index: int, ensemble: int) -> int:
    """Seed of ensemble ``ensemble`` of region number ``region_index`` (independent streams
    from the card seed, `numpy.random.SeedSequence`)."""
    sequence = np.random.SeedSequence([int(card_seed), int(region_index), int(ensemble)])
    return int(sequence.generate_state(1)[0])


def region_start(posterior, region, nwalkers: int, rng) -> np.ndarray:
    """Starting walkers inside ``region``: draws from the priors (or the card's ``start``
    hints) kept only where they lie in the region.

    Raises
    ------
    ValueError
        If fewer than ``nwalkers`` points fall in the region in `MAX_REGION_START_ROUNDS`
        rounds (a region of tiny prior mass: give ``start`` hints inside it).
    """
    from globalfit.samplers.emcee_sampler import draw_start

    kept = []
    count = 0
    for _ in range(MAX_REGION_START_ROUNDS):
        draws = draw_start(posterior, nwalkers, rng)
        inside = draws[region.mask(draws, posterior.names)]
        kept.append(inside)
        count += len(inside)
        if count >= nwalkers:
            return np.concatenate(kept)[:nwalkers]
    raise ValueError(f"regions.{region.name}: only {count} of {nwalkers} starting walkers fell "
                     f"in {region.condition!r} in {MAX_REGION_START_ROUNDS} rounds of prior "
                     f"draws; give parameters 'start' hints inside the region")


def region_rhat_summary(config: RunConfig, results: dict, names: list[str]) -> dict:
    """Split R-hat (`globalfit.diagnostics.split_rhat`, rank-normalised) of each region
    across its ensembles: each ensemble's post-burn-in samples, walkers interleaved step by
    step, are one chain."""
    from globalfit.diagnostics import RHAT_GOOD, split_rhat

    burn_in = int(config.sampler["burn_in"])
    summary = {"ensembles_per_region": int(config.sampler["ensembles_per_region"]),
               "burn_in": burn_in, "rhat_good_below": RHAT_GOOD, "regions": {}}
    for region in config.regions:
        runs = [r for (name, _), r in sorted(results.items()) if name == region]
        chains = [ensemble_samples(r.output_dir, burn_in) for r in runs]
        length = min(len(c) for c in chains)
        entry = {"condition": config.regions[region],
                 "steps": [r.steps for r in runs],
                 "folders": [str(r.output_dir) for r in runs]}
        if length >= 4:
            rhat = split_rhat(np.stack([c[:length] for c in chains], axis=1))
            entry["rhat"] = {n: float(v) for n, v in zip(names, rhat)}
            entry["rhat_max"] = float(np.max(rhat))
            entry["mixed"] = bool(np.max(rhat) < RHAT_GOOD)
        else:
            entry.update(rhat=None, rhat_max=None, mixed=False)
        summary["regions"][region] = entry
    return summary


def ensemble_samples(run_dir: Path, burn_in: int) -> np.ndarray:
    """Post-burn-in samples of one ensemble, shape (steps * walkers, ndim), step-major."""
    from globalfit.chainfile import ChainReader

    backend = ChainReader(Path(run_dir) / "chain.h5")
    chain = backend.get_chain(discard=min(burn_in, max(backend.iteration - 1, 0)))
    return chain.reshape(-1, chain.shape[-1])


def format_region_rhat(summary: dict) -> str:
    lines = [f"split R-hat across {summary['ensembles_per_region']} ensembles per region "
             f"(< {summary['rhat_good_below']} is mixed):"]
    for region, entry in summary["regions"].items():
        if entry["rhat"] is None:
            lines.append(f"  {region}: chains too short for R-hat")
            continue
        values = ", ".join(f"{n} {v:.4f}" for n, v in entry["rhat"].items())
        lines.append(f"  {region} ({entry['condition']}): {values}"
                     + ("" if entry["mixed"] else "  <- not mixed: run longer"))
    return "\n".join(lines)


def stored_steps(run_dir: Path) -> int:
    """Steps already saved in ``run_dir/chain.h5`` (0 if none; `globalfit.chainfile.
    ChainFileError` if the file is damaged)."""
    from globalfit.chainfile import saved_steps

    return saved_steps(run_dir)


def write_results(run_dir: Path) -> None:
    """Summary table and corner plot, where the results layer is installed; prints every
    file it wrote. Failures there are reported but do not undo the run (the chain is saved).
    """
    for module_name, function_name in (("globalfit.results", "write_summary"),
                                       ("globalfit.plots", "corner_plot")):
        try:
            module = __import__(module_name, fromlist=[function_name])
            function = getattr(module, function_name)
        except (ImportError, AttributeError):
            continue
        before = _snapshot(run_dir)
        try:
            function(run_dir)
        except Exception as error:  # the chain is safe; tell the user what failed
            print(f"warning: {module_name}.{function_name} failed: "
                  f"{type(error).__name__}: {error}", file=sys.stderr)
            continue
        after = _snapshot(run_dir)
        for path in sorted(p for p, stamp in after.items() if before.get(p) != stamp):
            print(f"wrote {path}")


def _snapshot(run_dir: Path) -> dict[Path, float]:
    return {p: p.stat().st_mtime_ns for p in Path(run_dir).rglob("*") if p.is_file()}
