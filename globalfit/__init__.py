"""globalfit: Bayesian and frequentist global fits of neutrino NSI and light-Z' models.

The Python API (docs/api.md)::

    import globalfit
    run = globalfit.run("configs/default.yaml", sampler={"steps": 300, "burn_in": 100})
    run.summary(); run.corner(); run.save()
    run = globalfit.load("chains/default")
    table = globalfit.profile("configs/default.yaml", parameters=["th12"])
    post = globalfit.posterior("configs/default.yaml")

The API (`globalfit.api`) is loaded on first use, so that ``import globalfit.physics`` (or a
likelihood module, or ``globalfit --help``) does not import the samplers, pandas and
matplotlib.
"""
import importlib
from importlib import metadata

try:
    __version__ = metadata.version("globalfit")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

# `globalfit.posterior` is the API function below, not the submodule of the same name: the
# submodule is loaded first, so that loading it later cannot rebind the name.
from globalfit import posterior as _posterior_module  # noqa: E402, F401

LAZY = ("run", "resume", "load", "profile", "Run")
"""`globalfit.api` names served by `__getattr__`."""
__all__ = ["__version__", "posterior", *LAZY]


def posterior(card, **overrides):
    """The card's log-posterior, each likelihood's chi^2 in its blob (`globalfit.api.posterior`)."""
    return importlib.import_module("globalfit.api").posterior(card, **overrides)


def __getattr__(name: str):
    """``globalfit.run`` etc. from `globalfit.api`, imported on first use (PEP 562)."""
    if name in LAZY:
        return getattr(importlib.import_module("globalfit.api"), name)
    raise AttributeError(f"module 'globalfit' has no attribute {name!r}")
