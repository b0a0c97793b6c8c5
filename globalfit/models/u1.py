"""Gauged U(1) models with a light Z' coupled to baryon number and lepton flavours.

* `LeptonBaryonU1`: U(1)' with charge ``a_e L_e + a_mu L_mu + a_tau L_tau + B``;
* `BMinusLeptonU1`: U(1)' with charge ``B - (a_e L_e + a_mu L_mu + a_tau L_tau)``,
  ``a_e + a_mu + a_tau = 3``.

Both give flavour-diagonal NSI (physics.md section 9). Quarks carry baryon number 1/3,
so ``g_u = g_d = g / 3``; leptons of flavour ``a`` (charged lepton and left-handed
neutrino) carry the lepton charge, so ``g_a = (g_nu)_aa``.
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

MZP_SPEC = {"default": 0.01, "unit": "GeV", "latex": "m_{Z'}", "min": 1.0e-6, "max": 1.0e3}
"""Mediator mass declaration shared by the light-Z' models (internal unit GeV)."""


def _charge_spec(default: float, latex: str) -> dict[str, Any]:
    return {"default": default, "unit": "", "latex": latex, "min": -10.0, "max": 10.0}


def _lepton_couplings(
    gauge_coupling: float, lepton_charges: tuple[float, float, float], mzp_gev: float,
    baryon_charge: float = 1.0,
) -> Couplings:
    """Couplings of a Z' gauging ``baryon_charge * B + sum_a q_a L_a`` with gauge coupling
    ``gauge_coupling``: quarks ``g/3 * baryon_charge``; charged lepton and neutrino of flavour
    ``a``: ``g q_a``."""
    g_lepton = [gauge_coupling * q for q in lepton_charges]
    g_quark = gauge_coupling * baryon_charge / 3.0
    g_fermion = {
        "u": g_quark, "d": g_quark, "e": g_lepton[0], "mu": g_lepton[1], "tau": g_lepton[2]
    }
    return couplings_from_mediator(g_fermion, np.diag(g_lepton).astype(complex), mzp_gev)


def _derived(couplings: Couplings) -> dict[str, float]:
    out = oscillation_derived("eps_u", couplings.eps("u"))
    out.update(oscillation_derived("eps_e", couplings.eps("e")))
    out.update(earth_matter_derived(couplings))
    return out


class LeptonBaryonU1(Model):
    """Z' of a U(1)' with charge ``a_e L_e + a_mu L_mu + a_tau L_tau + B``.

    ``eps^u_aa = eps^d_aa = g'^2 a_a / (6 sqrt2 G_F m_Z'^2)``, off-diagonal zero;
    ``eps^e_ee = g'^2 a_e^2 / (2 sqrt2 G_F m_Z'^2)``. Charged leptons couple
    (``g_e = g' a_e``; ``g' a_e < 3e-11`` in practice forces ``a_e = 0``). The choice
    ``a_e = 0, a_mu = a_tau = -3/2`` cancels the ``SU(2)^2 U(1)'`` anomaly
    (``3 + sum_a a_a = 0``, reported as ``anomaly_su2``).

    Parameters: ``g_prime`` (gauge coupling), ``a_e``, ``a_mu``, ``a_tau`` (charges),
    ``mzp`` (GeV).
    """

    name = "u1_lepton_baryon"
    description = "Light Z' of U(1)' = a_e L_e + a_mu L_mu + a_tau L_tau + B"
    parameters: Mapping[str, Mapping[str, Any]] = {
        "g_prime": {"default": 0.0, "unit": "", "latex": "g'", "min": 0.0, "max": 1.0},
        "a_e": _charge_spec(0.0, "a_e"),
        "a_mu": _charge_spec(-1.5, r"a_\mu"),
        "a_tau": _charge_spec(-1.5, r"a_\tau"),
        "mzp": MZP_SPEC,
    }

    def _charges(self, params: Mapping[str, float]) -> tuple[float, float, float]:
        return tuple(self.value(params, n) for n in ("a_e", "a_mu", "a_tau"))

    def couplings(self, params: Mapping[str, float]) -> Couplings:
        return _lepton_couplings(
            self.value(params, "g_prime"), self._charges(params), self.value(params, "mzp")
        )

    def derived(self, params: Mapping[str, float]) -> dict[str, float]:
        """Oscillation combinations of ``eps^u`` (= ``eps^d``), ``eps^e`` and the Earth
        matrix; ``anomaly_su2 = 3 + a_e + a_mu + a_tau`` (zero when anomaly free)."""
        out = _derived(self.couplings(params))
        out["anomaly_su2"] = 3.0 + sum(self._charges(params))
        return out


class BMinusLeptonU1(Model):
    """Z' of a U(1)' with charge ``B - (a_e L_e + a_mu L_mu + a_tau L_tau)``,
    ``a_tau = 3 - a_e - a_mu`` (anomaly-free sum with three right-handed neutrinos).

    Couplings: ``g_u = g_d = g_B / 3``; charged lepton and neutrino of flavour ``a``:
    ``-a_a g_B`` (the minus sign of the lepton charge is kept; physics.md writes the
    magnitude ``a_a g_B``). Then ``eps^u_aa = eps^d_aa = -g_B^2 a_a / (6 sqrt2 G_F m^2)``
    and ``eps^e_ee = a_e^2 g_B^2 / (2 sqrt2 G_F m^2)``.

    Parameters: ``g_b`` (gauge coupling), ``a_e``, ``a_mu``, ``mzp`` (GeV); ``a_tau`` is
    derived.
    """

    name = "b_minus_l"
    description = "Light Z' of U(1)' = B - (a_e L_e + a_mu L_mu + a_tau L_tau), sum a = 3"
    parameters: Mapping[str, Mapping[str, Any]] = {
        "g_b": {"default": 0.0, "unit": "", "latex": "g_B", "min": 0.0, "max": 1.0},
        "a_e": _charge_spec(1.0, "a_e"),
        "a_mu": _charge_spec(1.0, r"a_\mu"),
        "mzp": MZP_SPEC,
    }

    def _charges(self, params: Mapping[str, float]) -> tuple[float, float, float]:
        a_e, a_mu = self.value(params, "a_e"), self.value(params, "a_mu")
        return a_e, a_mu, 3.0 - a_e - a_mu

    def couplings(self, params: Mapping[str, float]) -> Couplings:
        lepton_charges = tuple(-a for a in self._charges(params))
        return _lepton_couplings(
            self.value(params, "g_b"), lepton_charges, self.value(params, "mzp")
        )

    def derived(self, params: Mapping[str, float]) -> dict[str, float]:
        """``a_tau`` and the oscillation combinations (``eps_u_*``, ``eps_e_*``,
        ``eps_earth_*``)."""
        out = _derived(self.couplings(params))
        out["a_tau"] = self._charges(params)[2]
        return out
