"""U(1)' of ``a_psi L_psi + B`` with active neutrinos mixed with the new fermion psi.

A new (vector-like, SM-singlet) fermion ``psi`` carries charge ``a_psi`` under a U(1)' that
also gauges baryon number; the active neutrinos ``nu_a`` mix with ``psi`` with small
mixings ``kappa_a``. The light neutrinos inherit the Z' coupling
``(g_nu)_ab = g' a_psi conj(kappa_a) kappa_b`` (rank one); charged leptons do not couple.
Quarks carry baryon number 1/3: ``g_u = g_d = g'/3``. Hence (physics.md section 9)

    eps^u_ab = eps^d_ab = g'^2 a_psi conj(kappa_a) kappa_b / (6 sqrt2 G_F m_Z'^2),

and ``eps_aa eps_bb = |eps_ab|^2`` for every pair.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from globalfit.couplings import Couplings
from globalfit.models.base import Model
from globalfit.models.effective import (
    couplings_from_mediator,
    earth_matter_derived,
    oscillation_derived,
)
from globalfit.models.u1 import MZP_SPEC

UNITARITY_KAPPA2_BOUNDS = {"e": 2.5e-3, "mu": 4.4e-4, "tau": 5.6e-3}
"""2-sigma bounds on ``|kappa_a|^2`` from non-unitarity quoted in physics.md section 9
(used only in docs and the ``unitarity`` likelihood, not as parameter limits)."""


class PsiMixing(Model):
    """Light Z' coupled to B and to a new fermion psi that mixes with the neutrinos.

    Parameters: ``g_prime`` (U(1)' gauge coupling; quarks ``g'/3``), ``g_prime_a_psi``
    (the Z' coupling of psi, ``g' a_psi``), ``kappa_e``, ``kappa_mu``, ``kappa_tau``
    (mixings, real; the overall phase is unphysical), ``phase_mu``, ``phase_tau`` (phases
    of ``kappa_mu``, ``kappa_tau`` relative to ``kappa_e``, rad), ``m_psi`` (GeV; only in
    ``hnl_masses_gev``), ``mzp`` (GeV). ``hnl_mixing`` is the 3x1 column ``kappa_a``.
    """

    name = "psi_mixing"
    description = "Z' of U(1)' = a_psi L_psi + B; nu_a mix with psi by kappa_a"
    parameters: Mapping[str, Mapping[str, Any]] = {
        "g_prime": {"default": 0.0, "unit": "", "latex": "g'", "min": 0.0, "max": 1.0},
        "g_prime_a_psi": {
            "default": 1.0, "unit": "", "latex": r"g' a_\psi", "min": 0.0, "max": 4.0 * np.pi
        },
        "kappa_e": {"default": 0.0, "unit": "", "latex": r"\kappa_e", "min": -1.0, "max": 1.0},
        "kappa_mu": {"default": 0.0, "unit": "", "latex": r"\kappa_\mu", "min": -1.0, "max": 1.0},
        "kappa_tau": {
            "default": 0.0, "unit": "", "latex": r"\kappa_\tau", "min": -1.0, "max": 1.0
        },
        "phase_mu": {
            "default": 0.0, "unit": "rad", "latex": r"\phi_\mu", "min": -np.pi, "max": np.pi
        },
        "phase_tau": {
            "default": 0.0, "unit": "rad", "latex": r"\phi_\tau", "min": -np.pi, "max": np.pi
        },
        "m_psi": {"default": 10.0, "unit": "GeV", "latex": r"m_\psi", "min": 0.0, "max": 1.0e4},
        "mzp": MZP_SPEC,
    }

    def kappa(self, params: Mapping[str, float]) -> np.ndarray:
        """Complex mixings ``(kappa_e, kappa_mu, kappa_tau)``."""
        return np.array([
            self.value(params, "kappa_e"),
            self.value(params, "kappa_mu") * np.exp(1j * self.value(params, "phase_mu")),
            self.value(params, "kappa_tau") * np.exp(1j * self.value(params, "phase_tau")),
        ])

    def couplings(self, params: Mapping[str, float]) -> Couplings:
        kappa = self.kappa(params)
        g_nu = self.value(params, "g_prime_a_psi") * np.outer(kappa.conj(), kappa)
        g_quark = self.value(params, "g_prime") / 3.0
        return couplings_from_mediator(
            {"u": g_quark, "d": g_quark},
            g_nu,
            self.value(params, "mzp"),
            hnl_masses_gev=(self.value(params, "m_psi"),),
            hnl_mixing=kappa.reshape(3, 1),
        )

    def derived(self, params: Mapping[str, float]) -> dict[str, float]:
        """Oscillation combinations of ``eps^u`` (= ``eps^d``) and of the Earth matrix, and
        ``kappa2_<a> = |kappa_a|^2`` (compare with `UNITARITY_KAPPA2_BOUNDS`)."""
        couplings = self.couplings(params)
        out = oscillation_derived("eps_u", couplings.eps("u"))
        out.update(earth_matter_derived(couplings))
        for flavour, value in zip(("e", "mu", "tau"), np.abs(self.kappa(params)) ** 2):
            out[f"kappa2_{flavour}"] = float(value)
        return out
