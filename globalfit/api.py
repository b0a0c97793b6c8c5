"""The Python API: what the ``globalfit`` commands do, as functions.

::

    import globalfit
    run = globalfit.run("configs/default.yaml", output="out/default",
                        sampler={"steps": 300, "burn_in": 100})
    print(run.summary())

A card is a path to a YAML run card, a mapping with the same content, or a `RunConfig`
from `globalfit.config.load_config`. Keyword overrides merge into the card before it is
validated (`globalfit.config.merge_card`): ``sampler={"steps": 200}`` changes one setting,
``likelihoods={"kamland": None}`` drops a likelihood. Each call validates its card once and
builds its model and likelihoods once. See docs/api.md.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from globalfit.config import ConfigError, RunConfig, load_config, merge_card, read_card
from globalfit.frequentist import profile_card
from globalfit.mpi import MPIPool
from globalfit.posterior import Posterior, build_posterior
from globalfit.reporting import Reporter
from globalfit.runfolder import check_run_dir, ensure_seed, prepare_run, stored_steps
from globalfit.runlock import check_output_writable, writing_run
from globalfit.runs import Run
from globalfit.sampling import check_runnable, sample, scan_card

Card = str | Path | Mapping[str, Any] | RunConfig


def card_config(card: Card, **overrides) -> RunConfig:
    """``card`` with ``overrides`` merged in, validated (once: a validated `RunConfig`
    without overrides is returned as it is).

    Raises
    ------
    ConfigError
        Listing every problem of the card, each with its key path.
    FileNotFoundError
        If ``card`` is a path that does not exist.
    """
    if isinstance(card, RunConfig):
        if not overrides:
            card.validate()
            return card
        card = card.to_dict()
    elif not isinstance(card, Mapping):
        if not overrides:
            return load_config(card)
        source = f"{card} (with overrides)"
        try:
            config = load_config(merge_card(read_card(card), overrides))
        except ConfigError as error:
            raise ConfigError(error.errors, source) from None
        config.source = source
        return config
    return load_config(merge_card(card, overrides))


def run(card: Card, output: str | Path | None = None, *, force: bool = False,
        cores: int = 1, pool=None, progress: bool = False, reporter: Reporter | None = None,
        **overrides) -> Run | None:
    """Sample a run card into its run folder and return the `Run`.

    Parameters
    ----------
    card : path, mapping or RunConfig
    output : path, optional
        Run folder (default: the card's ``output``, else ``chains/<name>``).
    force : bool
        Replace a run the folder holds (a folder holding anything else is never touched).
    cores : int
        Worker processes evaluating the posterior.
    pool : "mpi" or an object with ``map``, optional
        ``"mpi"``: every MPI rank evaluates points (`globalfit.mpi.MPIPool`); the call
        returns None on the worker ranks.
    progress : bool
        Show a progress bar.
    reporter : Reporter, optional
        Where progress messages go (default: none; advice becomes a Python warning).
    **overrides
        Merged into the card (``sampler={"steps": 300}``, ``parameters={...}``...).

    Returns
    -------
    Run
        ``run.complete`` is False when the sampler was stopped (Ctrl-C): continue with
        `resume`. A card with ``scan:`` gives a ``scan`` run instead of sampling.
    """
    if output is not None:
        overrides["output"] = str(output)
    config = card_config(card, **overrides)
    ensure_seed(config)
    reporter = reporter or Reporter()
    if config.scan is not None:
        if "steps" in (overrides.get("sampler") or {}):
            raise ValueError("--steps: a scan has no steps (its grid is scan.points)")
        scan_card(config, force=force, report=reporter)
        return Run.load(config.output)
    check_runnable(config)
    check_run_dir(config.output, force=force)
    check_output_writable(config.output)
    posterior = build_posterior(config)
    check_runnable(config, posterior)  # before the folder is made
    return _sample(posterior, config, "run", cores, pool, progress, reporter, force=force)


def resume(run_dir: str | Path, *, steps: int | None = None, cores: int = 1, pool=None,
           progress: bool = False, reporter: Reporter | None = None) -> Run | None:
    """Continue the run in ``run_dir`` to its target number of steps (or to ``steps`` in
    total, which becomes the new target); nested runs continue from their checkpoints."""
    run_dir = Path(run_dir)
    card = run_dir / "config.yaml"
    if not card.is_file():
        raise FileNotFoundError(f"{run_dir}: not a run folder (no config.yaml); start a run "
                                f"with `globalfit run CARD` (globalfit.run)")
    try:
        config = load_config(card)
    except ConfigError as error:
        raise ConfigError(error.errors + [
            "the run's resolved card no longer matches the installed models/likelihoods "
            "(changed since the run started? provenance.json records the versions it used)"],
            error.source) from None
    config.output = run_dir
    done = stored_steps(run_dir)  # a damaged chain is refused before any data are loaded
    check_output_writable(run_dir)
    if steps is not None:
        if config.sampler["name"] == "nested":
            raise ValueError("--steps: nested sampling has no number of steps")
        if steps < 1:
            raise ValueError(f"--steps: expected a positive number of steps, got {steps}")
        config.sampler["steps"] = steps
        config.sampler["burn_in"] = min(config.sampler["burn_in"], steps // 2)
    posterior = build_posterior(config)
    if steps is not None:
        config.write(run_dir / "config.yaml")
    reporter = reporter or Reporter()
    target = config.sampler.get("steps")
    if config.sampler["name"] == "emcee" and not config.sampler.get("ensembles_per_region"):
        if done == 0:
            saved = "an empty chain.h5" if (run_dir / "chain.h5").exists() else "no chain.h5"
            reporter.info(f"globalfit resume: {config.name}: {run_dir} has {saved} (the run "
                          f"stopped before its first step was saved); starting it from step 0 "
                          f"to {target} with seed {config.sampler.get('seed')}")
        elif done >= target:
            reporter.info(f"{run_dir}: already has {done} steps (target {target}); nothing to "
                          f"do (raise the target with --steps N)")
            return Run.load(run_dir)
        else:
            reporter.info(f"globalfit resume: {config.name}: continuing from step {done} to "
                          f"{target}")
    return _sample(posterior, config, "resume", cores, pool, progress, reporter)


def _sample(posterior, config, command, cores, pool, progress, reporter, force=False):
    """Open the MPI pool if asked, create the run folder (new runs), sample, load."""
    if pool == "mpi":
        pool = MPIPool(posterior)
        if not pool.is_master():
            pool.wait()  # worker rank: evaluate what rank 0 sends, until it closes the pool
            return None
        owned = True
    else:
        owned = False
    try:
        with writing_run(config.output, f"globalfit {command}", new=command == "run"):
            if command == "run":
                prepare_run(config, posterior, force=force)
            ranks = f"; {pool.size} MPI ranks" if owned else ""
            reporter.info(f"globalfit {command}: {config.name}: model {config.model.name!r}, "
                          f"likelihoods {', '.join(posterior.likelihoods) or 'none'}; "
                          f"{posterior.ndim} free parameters ({', '.join(posterior.names)}); "
                          f"output {config.output}{ranks}")
            sample(posterior, config, command=command, cores=cores, progress=progress,
                   pool=pool, report=reporter)
    finally:
        if owned:
            pool.close()
    return Run.load(config.output)


def load(path: str | Path, **options) -> Run:
    """The run in folder ``path`` (`Run.load`; ``burn_in``, ``thin``, ``keep_stranded``)."""
    return Run.load(path, **options)


def posterior(card: Card, **overrides) -> Posterior:
    """The card's posterior, model and likelihoods built (data loaded) once.

    ``post(theta)`` returns ``(ln posterior, *blob)`` with the blob named by
    ``post.blob_names``: each likelihood's chi^2 (``chi2.<name>``), ``chi2.total`` and the
    model's derived quantities; ``theta`` lists ``post.names`` in internal units
    (``post.parameters[i].to_internal(value)`` converts from the card's unit).
    ``post.log_likelihood(theta)`` gives ``(ln L, {likelihood: chi2})``.
    """
    return build_posterior(card_config(card, **overrides))


def profile(card: Card, parameters: Sequence[str] | None = None, split: str | None = None,
            **options) -> pd.DataFrame:
    """The frequentist table of a card, no sampling needed: best fit and the 1-dof ranges
    where the profiled Delta chi^2 < 2.71 (90% CL) and < 9 (3 sigma), per region (the
    card's, or ``split``: a condition and its complement) and for their union; columns
    ``parameter, region, level, best_fit, low, high``. A run folder works too (its best
    samples join the starting points). ``options``: ``cores``, ``n_grid``, ``n_starts``,
    ``method``, ``seed``, ``progress`` (`globalfit.frequentist.profile_card`)."""
    return profile_card(card, split=split, parameters=parameters, **options)
