"""The likelihood plug-in contract and its registry.

Every experiment, built in or third party, is a subclass of `Likelihood`:

* class attributes declare its ``name``, a one-line ``description``, the standard
  parameters it ``reads`` (e.g. ``("th12", "dm21")``; couplings are always available) and
  its ``nuisance_parameters`` with default priors, written exactly as in a run card
  (``{"prior": "gaussian", "mean": 1.0, "sigma": 0.04, "latex": "..."}``);
* ``__init__(**options)`` validates its options and loads its data once;
* ``loglike(point)`` returns ``ln L`` (up to a constant that does not depend on the point);
* optionally ``loglike_batch(points)`` returns ``ln L`` of a list of points at once (an
  array; each value must not depend on the other points of the batch); the posterior uses
  it when a sampler evaluates several points (``Posterior.evaluate_batch``);
* ``observables(point)`` returns predictions beside measurements, so that a user sees
  why a point is excluded.

Nuisance parameters are namespaced by the likelihood's name in the run
(``kamland.norm``); inside a likelihood read them with ``self.nuisance(point, "norm")``.
A nuisance that several experiments share (the solar 8B flux normalisation of the xenon
CEvNS likelihoods, ``shared.flux_8b``) is declared in ``shared_nuisance_parameters`` under a
name in the namespace ``shared.``: the run has it once however many likelihoods declare it
(their declarations must be equal), it enters profiles with its prior as a pull term like any
nuisance, and each likelihood reads it as ``point["shared.flux_8b"]``.

Registry: built-in likelihoods are listed in ``likelihoods.BUILTIN``; third-party packages
register under the entry-point group ``globalfit.likelihoods``; a run card may also name
``package.module:Class`` directly (`globalfit.registry.likelihood_class` resolves all three).
"""
from __future__ import annotations

import abc
import difflib
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np

from globalfit.couplings import STANDARD_MODEL, Couplings
from globalfit.params import reject_unknown_options

ENTRY_POINT_GROUP = "globalfit.likelihoods"

OSCILLATION_PARAMETERS = ("th12", "th13", "th23", "dcp", "dm21", "dm31")
"""Standard oscillation parameters: angles and phase in radians, mass splittings in eV^2."""


@dataclass(frozen=True)
class Point:
    """One point of parameter space as every likelihood sees it.

    ``params`` holds every parameter by name in internal units (radians, eV^2, GeV),
    oscillation parameters and nuisance parameters included; ``couplings`` is what the
    model made of them.
    """

    params: Mapping[str, float]
    couplings: Couplings = STANDARD_MODEL

    def __post_init__(self):
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def __getitem__(self, name: str) -> float:
        try:
            return self.params[name]
        except KeyError:
            close = difflib.get_close_matches(name, self.params, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise KeyError(f"parameter {name!r} is not set at this point{hint}") from None

    def oscillation(self) -> dict[str, float]:
        """The six oscillation parameters as a dict (the engine's ``params``)."""
        return {name: self[name] for name in OSCILLATION_PARAMETERS}


class Likelihood(abc.ABC):
    """Base class of every likelihood plug-in (see the module docstring)."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    """Short name for figures and tables (``COHERENT CsI 2021``); empty: use ``name``."""
    description: ClassVar[str] = ""
    reads: ClassVar[tuple[str, ...]] = ()
    card_reads: ClassVar[tuple[str, ...]] = ()
    """Parameters the card itself must set (fixed or free): no model default stands for them
    (validation names the missing key)."""
    nuisance_parameters: ClassVar[Mapping[str, Mapping[str, Any]]] = MappingProxyType({})
    shared_nuisance_parameters: ClassVar[Mapping[str, Mapping[str, Any]]] = MappingProxyType({})
    """Nuisances shared with other likelihoods: ``shared.<name>`` -> default prior."""
    options_allowed: ClassVar[tuple[str, ...]] = ()
    """Option names accepted by ``__init__``; anything else is a configuration error."""

    def __init__(self, **options):
        reject_unknown_options(options, self.options_allowed, f"likelihoods.{self.name}")
        self.options = dict(options)
        self.instance_name = self.name

    # --- to implement -------------------------------------------------------------------
    @abc.abstractmethod
    def loglike(self, point: Point) -> float:
        """ln L at ``point`` (a constant offset independent of the point is allowed)."""

    def observables(self, point: Point):
        """Predicted observables beside the measured ones, as a ``pandas.DataFrame`` with
        at least the columns ``observable, predicted, measured, uncertainty``."""
        raise NotImplementedError(f"{type(self).__name__} does not report observables")

    def data_files(self) -> list[Path]:
        """Files this likelihood read (their checksums go into the run's provenance)."""
        return []

    def approximations(self) -> list[str]:
        """Approximations a user should know about, written into the run's provenance."""
        return []

    # --- helpers ------------------------------------------------------------------------
    def chi2(self, point: Point) -> float:
        """``-2 ln L``."""
        return -2.0 * self.loglike(point)

    def nuisance(self, point: Point, local_name: str) -> float:
        """Value of this likelihood's nuisance parameter ``local_name`` at ``point``."""
        return point[f"{self.instance_name}.{local_name}"]

    def nuisance_names(self) -> list[str]:
        return [f"{self.instance_name}.{n}" for n in self.nuisance_parameters]


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, for provenance records."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class LikelihoodSet:
    """Several likelihoods evaluated together; returns the total and the parts."""

    members: dict[str, Likelihood] = field(default_factory=dict)

    def loglikes(self, point: Point) -> dict[str, float]:
        return {name: float(lk.loglike(point)) for name, lk in self.members.items()}

    def loglike(self, point: Point) -> float:
        return float(np.sum(list(self.loglikes(point).values())))
