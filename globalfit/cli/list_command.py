"""``globalfit list``: the models and likelihoods this installation can use."""
from __future__ import annotations

import argparse

from globalfit import registry
from globalfit.registry import available_likelihoods

HELP = "List models and likelihoods (with their parameters and nuisances)."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", nargs="?", choices=("all", "models", "likelihoods"),
                        default="all", help="what to list (default: all)")


def main(args: argparse.Namespace) -> int:
    if args.what in ("all", "models"):
        print("Models (model.name in a run card):")
        for name, target in sorted(registry.available_models().items()):
            print(describe_model(name, target))
    if args.what == "all":
        print()
    if args.what in ("all", "likelihoods"):
        print("Likelihoods (keys of likelihoods: in a run card):")
        for name, target in sorted(available_likelihoods().items()):
            print(describe_likelihood(name, target))
    return 0


def describe_model(name: str, target: str) -> str:
    try:
        cls = registry.model_class(name)
    except ValueError as error:
        return f"  {name:<20} unavailable ({target}): {_reason(error)}"
    parameters = ", ".join(_parameter_text(p, spec) for p, spec in cls.parameters.items())
    lines = [f"  {name:<20} {cls.description or cls.__doc__ or ''}".rstrip(),
             f"  {'':<20}   parameters: {parameters or 'none'}"]
    if cls.options_allowed:
        lines.append(f"  {'':<20}   options: {', '.join(cls.options_allowed)}")
    return "\n".join(lines)


def describe_likelihood(name: str, target: str) -> str:
    try:
        cls = registry.likelihood_class(name)
    except ValueError as error:
        return f"  {name:<20} unavailable ({target}): {_reason(error)}"
    lines = [f"  {name:<20} {cls.description}".rstrip()]
    if cls.reads:
        lines.append(f"  {'':<20}   reads: {', '.join(cls.reads)}")
    if cls.nuisance_parameters:
        nuisances = ", ".join(f"{name}.{local} ({_prior_text(spec)})"
                              for local, spec in cls.nuisance_parameters.items())
        lines.append(f"  {'':<20}   nuisances: {nuisances}")
    shared = getattr(cls, "shared_nuisance_parameters", {})
    if shared:
        text = ", ".join(f"{local} ({_prior_text(spec)})" for local, spec in shared.items())
        lines.append(f"  {'':<20}   shared nuisances: {text}")
    if cls.options_allowed:
        lines.append(f"  {'':<20}   options: {', '.join(cls.options_allowed)}")
    return "\n".join(lines)


def _parameter_text(name: str, spec) -> str:
    unit = spec.get("unit")
    unit = "" if unit in (None, "", "none") else f" {unit}"
    return f"{name} (default {spec.get('default')}{unit})"


def _prior_text(spec) -> str:
    if "value" in spec:
        return f"fixed {spec['value']}"
    kind = spec.get("prior", "?")
    if kind == "gaussian":
        return f"gaussian {spec.get('mean')} +- {spec.get('sigma')}"
    return f"{kind} [{spec.get('min')}, {spec.get('max')}]"


def _reason(error: Exception) -> str:
    """The error without its run-card key prefix (and import target, shown already)."""
    text = str(error).split(": ", 1)[-1]
    return text.split("): ", 1)[1] if text.startswith("cannot import") and "): " in text else text
