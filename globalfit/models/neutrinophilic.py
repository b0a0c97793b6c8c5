"""Neutrinophilic light Z' (Farzan-Heeck type): a Z' gauging baryon number with a general
Hermitian coupling matrix to the left-handed neutrinos.

Normalisation used here (the project's general convention, physics.md section 0):
quarks carry baryon number 1/3, ``g_u = g_d = g_B / 3``, so

    eps^u_ab = eps^d_ab = (g_B / 3) (g_nu)_ab / (2 sqrt2 G_F m_Z'^2)
                        = g_B (g_nu)_ab / (6 sqrt2 G_F m_Z'^2).

The talk writes ``eps = g_B g_nu / (sqrt2 G_F m^2)``, six times larger at the same
``(g_B, g_nu)``; the two agree if the talk's ``g_B`` is read as ``g_q / 2`` (see
``docs/models.md``). Physical statements (``eps`` as a function of ``m_Z'``) do not depend
on the choice; only the meaning of the coupling parameters does.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from globalfit.couplings import Couplings
from globalfit.models.base import Model
from globalfit.models.effective import (
    couplings_from_mediator,
    earth_matter_derived,
    hermitian_matrix,
    hermitian_parameters,
    oscillation_derived,
)
from globalfit.models.u1 import MZP_SPEC


class Neutrinophilic(Model):
    """Z' with baryon-number coupling ``g_b`` and neutrino couplings ``g_nu_ab``.

    Parameters: ``g_b`` (U(1)_B gauge coupling; quarks ``g_b/3``), ``g_nu_ee``,
    ``g_nu_mumu``, ``g_nu_tautau`` (real), ``g_nu_emu_re`` / ``_im`` (and ``etau``,
    ``mutau``), ``mzp`` (GeV). Charged leptons do not couple.
    """

    name = "neutrinophilic"
    description = "Neutrinophilic Z' (Farzan-Heeck): g_B to baryons, Hermitian g_nu to neutrinos"
    parameters: Mapping[str, Mapping[str, Any]] = {
        "g_b": {"default": 0.0, "unit": "", "latex": "g_B", "min": 0.0, "max": 1.0},
        **hermitian_parameters("g_nu", "g^\\nu", bound=1.0),
        "mzp": MZP_SPEC,
    }

    def couplings(self, params: Mapping[str, float]) -> Couplings:
        g_quark = self.value(params, "g_b") / 3.0
        return couplings_from_mediator(
            {"u": g_quark, "d": g_quark},
            hermitian_matrix(self, params, "g_nu"),
            self.value(params, "mzp"),
        )

    def derived(self, params: Mapping[str, float]) -> dict[str, float]:
        """Oscillation combinations of ``eps^u`` (= ``eps^d``) and of the Earth matrix."""
        couplings = self.couplings(params)
        out = oscillation_derived("eps_u", couplings.eps("u"))
        out.update(earth_matter_derived(couplings))
        return out
