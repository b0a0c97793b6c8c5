"""The model contract: parameters in, `Couplings` out.

A model declares its parameters (name -> spec with ``default``, ``unit`` (internal unit,
e.g. ``"GeV"``, ``"rad"``), ``latex`` and optional physical ``min``/``max``) and implements
``couplings(params)``. It may add ``derived(params)``: named quantities worth reporting
(e.g. ``eps_u_ee_minus_mumu``) that are functions of its parameters.
"""
from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any, ClassVar

from globalfit.couplings import Couplings
from globalfit.params import reject_unknown_options


class Model(abc.ABC):
    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    parameters: ClassVar[Mapping[str, Mapping[str, Any]]] = {}
    options_allowed: ClassVar[tuple[str, ...]] = ()
    reads: ClassVar[tuple[str, ...]] = ()
    """Parameters besides its own that `couplings` needs (e.g. ``("th13", "th23")``); the card
    validation checks that the run provides them (`globalfit.config.check_semantics`)."""

    def __init__(self, **options):
        reject_unknown_options(options, self.options_allowed, "model.options",
                               owner=f"model {self.name!r}")
        self.options = dict(options)

    def parameter_names(self) -> list[str]:
        return list(self.parameters)

    @abc.abstractmethod
    def couplings(self, params: Mapping[str, float]) -> Couplings:
        """Couplings at ``params`` (internal units; missing names take their default)."""

    def derived(self, params: Mapping[str, float]) -> dict[str, float]:
        """Derived quantities to report beside the parameters (none by default)."""
        return {}

    def value(self, params: Mapping[str, float], name: str) -> float:
        """A parameter's value at ``params``, or its declared default."""
        if name in params:
            return float(params[name])
        return float(self.parameters[name]["default"])
