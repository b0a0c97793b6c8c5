"""``globalfit validate CARD``: check a run card and summarise its parameters."""
from __future__ import annotations

import argparse
import sys

from globalfit.config import ConfigError, RunConfig, load_config, run_parameters
from globalfit.params import Parameter
from globalfit.posterior import build_posterior

HELP = "Check a run card: prints OK and its free/fixed parameters, or every error (exit 2)."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("card", help="run card (YAML)")
    parser.add_argument("--quick", action="store_true",
                        help="do not instantiate the likelihoods (skips loading their data)")


def main(args: argparse.Namespace) -> int:
    posterior = None
    try:
        config = load_config(args.card)
        parameters = run_parameters(config)
        if not args.quick:

            posterior = build_posterior(config)
    except ConfigError as error:
        print(f"{error}", file=sys.stderr)
        return 2
    print(f"OK: {args.card}")
    print(summary(config, parameters))
    if posterior is not None:
        print(f"recorded per sample: {', '.join(posterior.blob_names)}")
    return 0


def summary(config: RunConfig, parameters: list[Parameter]) -> str:
    """Model, likelihoods, free and fixed parameters (display units), sampler, output."""
    free = [p for p in parameters if not p.fixed]
    fixed = [p for p in parameters if p.fixed]
    lines = [f"run {config.name!r}: {config.description}" if config.description
             else f"run {config.name!r}",
             f"model: {config.model.name}",
             f"likelihoods: {', '.join(config.likelihoods) or 'none'}",
             f"free parameters ({len(free)}):"]
    lines += [f"  {p.name:<22} {describe_prior(p)}" for p in free]
    lines.append(f"fixed parameters ({len(fixed)}):")
    lines += [f"  {p.name:<22} = {format_value(p.from_internal(p.prior.value))} "
              f"{unit_text(p)}".rstrip() for p in fixed]
    sampler = ", ".join(f"{k}={v}" for k, v in config.sampler.items())
    lines.append(f"sampler: {sampler}")
    if config.regions:
        lines.append("regions: " + "; ".join(f"{k}: {v}" for k, v in config.regions.items()))
    lines.append(f"output: {config.output}")
    return "\n".join(lines)


def describe_prior(parameter: Parameter) -> str:
    """E.g. ``uniform [30, 36] deg`` or ``gaussian 1 +- 0.04``."""
    spec = parameter.prior.to_spec(parameter.factor)
    unit = unit_text(parameter)
    if spec["prior"] == "gaussian":
        text = f"gaussian {format_value(spec['mean'])} +- {format_value(spec['sigma'])}"
        if "min" in spec or "max" in spec:
            text += (f" in [{format_value(spec.get('min', float('-inf')))}, "
                     f"{format_value(spec.get('max', float('inf')))}]")
    else:
        text = f"{spec['prior']} [{format_value(spec['min'])}, {format_value(spec['max'])}]"
    return f"{text} {unit}".rstrip()


def unit_text(parameter: Parameter) -> str:
    return "" if parameter.unit == "none" else parameter.unit


def format_value(value) -> str:
    return f"{float(value):.6g}"
