"""LMA-Dark with a light mediator, one-parameter family ``x`` (Denton, Farzan, Shoemaker,
JHEP 07 (2018) 037, arXiv:1804.03660; physics.md section 9).

The propagation NSI "in matter units" is ``(eps_ee, eps_mumu, eps_tautau) = (x - 2, x, x)``
(off-diagonal zero): ``eps_ee - eps_mumu = -2`` realises LMA-Dark for every ``x``; ``x``
is the flavour-universal part, invisible in oscillations but not in CEvNS.

Consistent quark entries. A Z' with equal couplings to u and d (``eps^u = eps^d``) gives
``eps_matter = 3 (1 + Y_n) eps^u``. The quoted ``eps^{u,V}_ee = eps^{d,V}_ee = x/4 - 1/2``
is ``(x - 2) / 4``, i.e. it fixes the "matter units" to ``3 (1 + Y_n^ref) = 4``,
``Y_n^ref = 1/3``. Applying the same normalisation to every diagonal entry:

    eps^u = eps^d = diag(x - 2, x, x) / (3 (1 + Y_n^ref))
                 = diag(x/4 - 1/2, x/4, x/4)            (Y_n^ref = 1/3, default),

so ``eps^u_mumu = eps^u_tautau = x/4``. In other media the propagation matrix is
``(1 + Y_n)/(1 + Y_n^ref) diag(x - 2, x, x)``; the option ``reference_neutron_fraction``
moves the reference (e.g. ``1.05`` to make ``(x - 2, x, x)`` exact in the Earth).

LMA counterpart (option ``solution: lma``): the generalised mass-ordering degeneracy
(physics.md section 1) maps ``eps_ee - eps_mumu = -2`` to ``0``; the LMA image of the
family is the flavour-universal ``diag(x, x, x)`` with ``th12 < 45 deg`` (no effect on
oscillations, the same ``eps_mumu`` in CEvNS).

The Z' couplings are split as ``g_u = g_d = g_q`` (parameter, default 1e-4) and
``g_nu = eps^u 2 sqrt2 G_F m_Z'^2 / g_q``; only observables sensitive to ``g_q`` and
``g_nu`` separately (meson decays) depend on that split.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from globalfit.couplings import Couplings
from globalfit.models.base import Model
from globalfit.models.effective import earth_matter_derived, oscillation_derived
from globalfit.models.u1 import MZP_SPEC
from globalfit.physics.constants import FERMI_CONSTANT_GEV2

SOLUTIONS = ("dark", "lma")


class LMADarkX(Model):
    """LMA-Dark family ``(x - 2, x, x)`` from a light Z' coupled equally to u and d.

    Parameters: ``x``, ``mzp`` (GeV), ``g_q`` (quark coupling; splits ``eps`` into
    ``g_q`` and ``g_nu``).

    Options
    -------
    solution : ``"dark"`` (default, ``(x-2, x, x)``) or ``"lma"`` (``(x, x, x)``).
    reference_neutron_fraction : float, default 1/3. ``Y_n`` at which the propagation matrix
        equals the quoted one exactly (1/3 reproduces ``eps^u_ee = x/4 - 1/2``).
    """

    name = "lma_dark_x"
    description = "LMA-Dark family (x-2, x, x) with a light Z' (Denton-Farzan-Shoemaker)"
    options_allowed = ("solution", "reference_neutron_fraction")
    parameters: Mapping[str, Mapping[str, Any]] = {
        "x": {"default": 0.0, "unit": "", "latex": "x", "min": -20.0, "max": 20.0},
        "mzp": MZP_SPEC,
        "g_q": {"default": 1.0e-4, "unit": "", "latex": "g_q", "min": 1.0e-12, "max": 1.0},
    }

    def __init__(self, **options):
        super().__init__(**options)
        solution = options.get("solution", "dark")
        if solution not in SOLUTIONS:
            raise ValueError(
                f"model.options.solution: {solution!r} not allowed; choose from {SOLUTIONS}"
            )
        y_ref = options.get("reference_neutron_fraction", 1.0 / 3.0)
        if not (isinstance(y_ref, (int, float)) and 0.0 <= y_ref <= 10.0):
            raise ValueError(
                f"model.options.reference_neutron_fraction: {y_ref!r} not allowed; "
                "give a number in [0, 10]"
            )
        self.solution = solution
        self.reference_neutron_fraction = float(y_ref)

    def matter_diagonal(self, params: Mapping[str, float]) -> np.ndarray:
        """``(eps_ee, eps_mumu, eps_tautau)`` in matter units at ``Y_n^ref``."""
        x = self.value(params, "x")
        shift = 2.0 if self.solution == "dark" else 0.0
        return np.array([x - shift, x, x])

    def eps_quark(self, params: Mapping[str, float]) -> np.ndarray:
        """``eps^u = eps^d`` at ``Q^2 = 0`` (3x3, diagonal)."""
        factor = 3.0 * (1.0 + self.reference_neutron_fraction)
        return np.diag(self.matter_diagonal(params) / factor).astype(complex)

    def couplings(self, params: Mapping[str, float]) -> Couplings:
        mzp = self.value(params, "mzp")
        g_q = self.value(params, "g_q")
        if not g_q > 0:
            raise ValueError(f"parameter g_q: must be positive, got {g_q}")
        eps_q = self.eps_quark(params)
        g_nu = eps_q * 2.0 * math.sqrt(2.0) * FERMI_CONSTANT_GEV2 * mzp**2 / g_q
        return Couplings(
            eps0={"u": eps_q, "d": eps_q}, mzp_gev=mzp, g_fermion={"u": g_q, "d": g_q}, g_nu=g_nu
        )

    def derived(self, params: Mapping[str, float]) -> dict[str, float]:
        """``eps_u_ee`` (= ``eps_d_ee``), oscillation combinations of ``eps^u`` and of the
        Earth matrix."""
        couplings = self.couplings(params)
        out = {"eps_u_ee": float(couplings.eps("u")[0, 0].real)}
        out.update(oscillation_derived("eps_u", couplings.eps("u")))
        out.update(earth_matter_derived(couplings))
        return out
