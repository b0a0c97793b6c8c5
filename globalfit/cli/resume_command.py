"""``globalfit resume RUN_DIR``: continue a stopped run to its target number of steps."""
from __future__ import annotations

import argparse
from pathlib import Path

from globalfit.cli.run_command import (
    add_sampling_options,
    nested_and_report,
    region_ensembles_and_report,
    sample_and_report,
    stored_steps,
)
from globalfit.config import ConfigError, load_config

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
    if config.sampler["name"] == "nested":
        return resume_nested(config, args)
    if args.steps is not None:
        if args.steps < 1:
            raise ValueError(f"--steps: expected a positive number of steps, got {args.steps}")
        config.sampler["steps"] = args.steps
        config.sampler["burn_in"] = min(config.sampler["burn_in"], args.steps // 2)
        config.write(card)
    from globalfit.posterior import build_posterior

    posterior = build_posterior(config)
    if config.sampler.get("ensembles_per_region"):
        print(f"globalfit resume: {config.name}: continuing the ensembles of each region "
              f"to {config.sampler['steps']} steps")
        return region_ensembles_and_report(posterior, config, args, command="resume")
    done = stored_steps(run_dir)
    target = config.sampler["steps"]
    if done >= target:
        print(f"{run_dir}: already has {done} steps (target {target}); nothing to do "
              f"(raise the target with --steps N)")
        return 0
    print(f"globalfit resume: {config.name}: continuing from step {done} to {target}")
    return sample_and_report(posterior, config, args, command="resume")



def resume_nested(config, args: argparse.Namespace) -> int:
    """A nested-sampling run continues from its checkpoints (a finished region is only
    re-read), then the evidence table is written again."""
    if args.steps is not None:
        raise ValueError("--steps: nested sampling has no number of steps")
    from globalfit.posterior import build_posterior

    posterior = build_posterior(config)
    print(f"globalfit resume: {config.name}: nested sampling continues from its checkpoints")
    return nested_and_report(posterior, config, args)
