"""Faulty plug-ins for tests/test_hostile_inputs.py (loaded by cards as ``hostile_plugins:X``).

Each one fails the way a third-party likelihood can: an exception of any type inside
``loglike`` (in part of the parameter space or everywhere), a wrong return type, an error in
its constructor, an evaluation that waits (to keep a run busy while a second writer tries
the same folder). They build on the analytic `plugins.GaussianLikelihood`, so that where they do not
fail the posterior is the known bivariate normal.
"""
from __future__ import annotations

import builtins
import os
import time

from plugins import GaussianLikelihood


class RaisingLikelihood(GaussianLikelihood):
    """Raises ``error`` (a name of a builtin exception) where ``eps_ee > raise_above``."""

    name = "raising"
    options_allowed = GaussianLikelihood.options_allowed + ("raise_above", "error")

    def __init__(self, raise_above=0.5, error="RuntimeError", **options):
        super().__init__(**options)
        self.raise_above = float(raise_above)
        self.error = error

    def loglike(self, point):
        if point.couplings.eps("e", 0.0)[0, 0].real > self.raise_above:
            if self.error == "KeyError":
                raise KeyError("table_entry")
            raise getattr(builtins, self.error)(
                f"plug-in failure above eps_ee = {self.raise_above}")
        return super().loglike(point)


class WrongTypeLikelihood(GaussianLikelihood):
    """Returns None (not a number) where ``eps_ee > 0``."""

    name = "wrong_type"

    def loglike(self, point):
        if point.couplings.eps("e", 0.0)[0, 0].real > 0:
            return None
        return super().loglike(point)


class AlwaysRaisingLikelihood(GaussianLikelihood):
    """Fails everywhere: no walker can start."""

    name = "always_raising"

    def loglike(self, point):
        raise RuntimeError("this plug-in cannot evaluate any point")


class BrokenConstructorLikelihood(GaussianLikelihood):
    """Its constructor fails with an error of its own (not a bad option)."""

    name = "broken_constructor"

    def __init__(self, **options):
        raise RuntimeError("could not initialise the detector table")


class GatedLikelihood(GaussianLikelihood):
    """The Gaussian, but each call waits while the file ``gate`` exists (at most 120 s):
    keeps a run busy, deterministically, while a test tries a second writer."""

    name = "gated"
    options_allowed = GaussianLikelihood.options_allowed + ("gate",)

    def __init__(self, gate="", **options):
        super().__init__(**options)
        self.gate = str(gate)

    def loglike(self, point):
        deadline = time.monotonic() + 120
        while self.gate and os.path.exists(self.gate) and time.monotonic() < deadline:
            time.sleep(0.01)
        return super().loglike(point)


class DataLoadingLikelihood(GaussianLikelihood):
    """Records that it was built (a stand-in for a likelihood that loads data)."""

    name = "data_loading"
    built = 0

    def __init__(self, **options):
        type(self).built += 1
        super().__init__(**options)
