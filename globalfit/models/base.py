"""The model contract: parameters in, `Couplings` out.

A model declares its parameters (name -> spec with ``default``, ``unit`` (internal unit,
e.g. ``"GeV"``, ``"rad"``), ``latex`` and optional physical ``min``/``max``) and implements
``couplings(params)``. It may add ``derived(params)``: named quantities worth reporting
(e.g. ``eps_u_ee_minus_mumu``) that are functions of its parameters.
"""
from __future__ import annotations

import abc
import difflib
from typing import Any, ClassVar, Mapping

from globalfit.couplings import Couplings


class Model(abc.ABC):
    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    parameters: ClassVar[Mapping[str, Mapping[str, Any]]] = {}
    options_allowed: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **options):
        unknown = set(options) - set(self.options_allowed)
        if unknown:
            bad = sorted(unknown)[0]
            close = difflib.get_close_matches(bad, self.options_allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"model.options.{bad}: unknown option for model {self.name!r}{hint} "
                f"(allowed: {', '.join(self.options_allowed) or 'none'})"
            )
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
