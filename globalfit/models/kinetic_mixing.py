"""Light Z' kinetically mixed with hypercharge, with a dark-sector coupling to neutrinos.

Kinetic mixing ``-(delta/2) B_{mu nu} Z'^{mu nu}`` gives, for ``m_Z' << m_Z``, a Z'
coupling to the electromagnetic current, ``g_f = Q_f e cos(theta_W) delta`` for
``f = e, mu, tau, u, d`` (``Q_e = -1``, ``Q_u = 2/3``, ``Q_d = -1/3``). The coupling to
neutrinos induced by the mixing itself is suppressed by ``m_Z'^2 / m_Z^2`` and neglected;
the neutrinos couple through the dark sector, ``(g_nu)_ab`` (e.g. by mixing with a
dark fermion as in `PsiMixing`), given here as a Hermitian parameter matrix.

Consequences (physics.md section 9): ``eps^f = Q_f X`` with
``X = e cos(theta_W) delta g_nu / (2 sqrt2 G_F m_Z'^2)``, so ``eps^p = 2 eps^u + eps^d
= +X = -eps^e`` and the propagation matrix of neutral matter,
``eps^e + (2 + Y_n) eps^u + (1 + 2 Y_n) eps^d``, vanishes for every ``Y_n``: no NSI in
oscillations, but NSI on protons in CEvNS. ``cos(theta_W)`` uses MS-bar
``sin^2(theta_W)(m_Z)``.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from globalfit.couplings import Couplings
from globalfit.models.base import Model
from globalfit.models.effective import (
    couplings_from_mediator,
    hermitian_matrix,
    hermitian_parameters,
    oscillation_derived,
)
from globalfit.models.u1 import MZP_SPEC
from globalfit.physics.constants import ELECTRON_CHARGE, SIN2_THETA_W_MSBAR_MZ

ELECTRIC_CHARGES = {"e": -1.0, "mu": -1.0, "tau": -1.0, "u": 2.0 / 3.0, "d": -1.0 / 3.0}
"""Electric charges of the charged fermions in units of the positron charge."""


class KineticMixing(Model):
    """Z' coupled to charged fermions through kinetic mixing ``delta`` and to neutrinos
    through ``g_nu``.

    Parameters: ``delta`` (kinetic mixing), ``g_nu_ee`` ... ``g_nu_mutau_im`` (Hermitian
    neutrino couplings), ``mzp`` (GeV). ``extras['epsilon_em'] = cos(theta_W) delta`` is the
    mixing in the photon-like normalisation (coupling ``epsilon_em e Q_f``).
    """

    name = "kinetic_mixing"
    description = "Z' kinetically mixed with hypercharge (g_f = Q_f e cos th_W delta) + g_nu"
    parameters: Mapping[str, Mapping[str, Any]] = {
        "delta": {"default": 0.0, "unit": "", "latex": r"\delta", "min": -1.0, "max": 1.0},
        **hermitian_parameters("g_nu", "g^\\nu", bound=1.0),
        "mzp": MZP_SPEC,
    }

    @staticmethod
    def cos_theta_w() -> float:
        return math.sqrt(1.0 - SIN2_THETA_W_MSBAR_MZ)

    def couplings(self, params: Mapping[str, float]) -> Couplings:
        epsilon_em = self.cos_theta_w() * self.value(params, "delta")
        g_fermion = {f: q * ELECTRON_CHARGE * epsilon_em for f, q in ELECTRIC_CHARGES.items()}
        return couplings_from_mediator(
            g_fermion,
            hermitian_matrix(self, params, "g_nu"),
            self.value(params, "mzp"),
            extras={"epsilon_em": epsilon_em},
        )

    def derived(self, params: Mapping[str, float]) -> dict[str, float]:
        """Oscillation combinations of ``eps^e`` and of the proton NSI
        ``eps^p = 2 eps^u + eps^d`` (``eps_p_*``); the Earth matrix is identically zero."""
        couplings = self.couplings(params)
        out = oscillation_derived("eps_e", couplings.eps("e"))
        out.update(oscillation_derived("eps_p", 2.0 * couplings.eps("u") + couplings.eps("d")))
        out["eps_p_ee"] = float((2.0 * couplings.eps("u") + couplings.eps("d"))[0, 0].real)
        return out
