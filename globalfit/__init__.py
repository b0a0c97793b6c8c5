"""globalfit: Bayesian and frequentist global fits of neutrino NSI and light-Z' models."""
from importlib import metadata

try:
    __version__ = metadata.version("globalfit")
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
