"""``globalfit resume RUN_DIR``: continue a stopped run to its target number of steps."""
from __future__ import annotations

import argparse
from pathlib import Path

from globalfit.cli.run_command import (
    add_sampling_options,
    dispatch,
    open_pool,
    stored_steps,
)
from globalfit.config import ConfigError, load_config
from globalfit.runlock import check_output_writable, writing_run

HELP = "Continue a stopped run (chains/<name>/) to its target number of steps."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", metavar="RUN_DIR", help="run folder, e.g. chains/lfv_model")
    parser.add_argument("--steps", type=int, default=None,
                        help="new target TOTAL number of steps (default: the run's sampler.steps)")
    add_sampling_options(parser)


def main(args: argparse.Namespace) -> int:
    run_dir = Path(args.run_dir)
    card = run_dir / "config.yaml"
    if not card.is_file():
        raise FileNotFoundError(f"{run_dir}: not a run folder (no config.yaml); start a run "
                                f"with `globalfit run CARD`")
    try:
        config = load_config(card)
    except ConfigError as error:
        raise ConfigError(error.errors + [
            "the run's resolved card no longer matches the installed models/likelihoods "
            "(changed since the run started? provenance.json records the versions it used)"],
            error.source) from None
    config.output = run_dir
    stored_steps(run_dir)  # a damaged chain is refused before any data are loaded
    check_output_writable(run_dir)
    if args.steps is not None:
        if config.sampler["name"] == "nested":
            raise ValueError("--steps: nested sampling has no number of steps")
        if args.steps < 1:
            raise ValueError(f"--steps: expected a positive number of steps, got {args.steps}")
        config.sampler["steps"] = args.steps
        config.sampler["burn_in"] = min(config.sampler["burn_in"], args.steps // 2)
    from globalfit.posterior import build_posterior

    posterior = build_posterior(config)
    pool = open_pool(args, posterior)
    if pool is not None and not pool.is_master():
        pool.wait()  # worker rank: evaluate points for rank 0 until it closes the pool
        return 0
    try:
        with writing_run(run_dir, "globalfit resume", new=False):
            return _continue(posterior, config, args, pool)
    finally:
        if pool is not None:
            pool.close()


def _continue(posterior, config, args: argparse.Namespace, pool) -> int:
    run_dir = Path(config.output)
    if args.steps is not None:
        config.write(run_dir / "config.yaml")
    done = stored_steps(run_dir)
    target = config.sampler.get("steps")
    if config.sampler["name"] == "nested":
        print(f"globalfit resume: {config.name}: nested sampling continues from its checkpoints")
    elif config.sampler.get("ensembles_per_region"):
        print(f"globalfit resume: {config.name}: continuing the ensembles of each region "
              f"to {target} steps")
    elif done == 0:
        saved = "an empty chain.h5" if (run_dir / "chain.h5").exists() else "no chain.h5"
        print(f"globalfit resume: {config.name}: {run_dir} has {saved} (the run stopped "
              f"before its first step was saved); starting it from step 0 to {target} with "
              f"seed {config.sampler.get('seed')}")
    elif done >= target:
        print(f"{run_dir}: already has {done} steps (target {target}); nothing to do "
              f"(raise the target with --steps N)")
        return 0
    else:
        print(f"globalfit resume: {config.name}: continuing from step {done} to {target}")
    return dispatch(posterior, config, args, command="resume", pool=pool)
