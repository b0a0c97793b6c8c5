"""Lepton-flavour-violating NSI model (Farzan, arXiv:1912.09408; physics.md section 9).

Two heavy neutral fermions ``N1``, ``N2`` are charged under a U'(1) whose Z' couples them
off-diagonally (``g_psi Z'_mu N1bar gamma^mu N2 + h.c.``, a Z2 forbids the diagonal
coupling); ``N1`` mixes with ``nu_a`` by ``sin(alpha)`` and ``N2`` with ``nu_b`` by
``sin(beta)``. The light neutrinos inherit a purely off-diagonal coupling

    (g_nu)_ab = (g_nu)_ba = g_psi sin(alpha) sin(beta),   (g_nu)_aa = (g_nu)_bb = 0,

and with a vector coupling ``g_f`` of the Z' to quarks (and optionally electrons)

    eps^f_ab = g_f (g_nu)_ab / (2 sqrt2 G_F m_Z'^2).

The Z' mass comes from the U'(1)-breaking vev ``v_phi``: ``m_Z' = g_psi v_phi / sqrt2``,
and ``m_N = Y v_phi``; ``m_N > 500 MeV`` keeps ``N`` out of meson decays.

`Couplings` filled: ``g_nu``, ``g_fermion`` (``u``, ``d``, ``e``), ``mzp_gev``,
``hnl_masses_gev = (m_N1, m_N2)``, ``hnl_mixing`` (3x2: column 0 is ``sin(alpha)`` at
flavour ``a``, column 1 ``sin(beta)`` at flavour ``b``) and ``extras``:

N1 and N2 are the two Weyl components of one Dirac fermion (the seed's
``M_N/2 (psi1 psi2 + psi2 psi1)``, so ``m_N1 = m_N2 = M_N``): two degenerate Majorana states
of opposite CP parity, whose lepton-number-violating amplitudes cancel. The parameter
``delta_m_n`` (GeV) is a Majorana mass splitting of that pair (``extras['delta_m_n_gev']``);
lepton-number-violating likelihoods (``lhcb_lnv``) read it and require the card to set it.


* ``g_psi``, ``sin_alpha``, ``sin_beta``;
* ``flavour_a``, ``flavour_b``: flavour indices (0 = e, 1 = mu, 2 = tau) of the pair;
* ``v_phi_gev``: ``sqrt2 m_Z' / g_psi``; ``yukawa_n1``, ``yukawa_n2``: ``m_N / v_phi``.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from globalfit.couplings import Couplings
from globalfit.models.base import Model
from globalfit.models.effective import (
    OFF_DIAGONAL_PAIRS,
    couplings_from_mediator,
    earth_matter_derived,
)
from globalfit.models.u1 import MZP_SPEC

HNL_MASS_MIN_GEV = 0.5
"""``m_N > 500 MeV`` (physics.md section 9): N1, N2 heavier than the kaon window."""


def _base_parameters() -> dict[str, dict[str, Any]]:
    return {
        "g_psi": {"default": 0.1, "unit": "", "latex": r"g_\psi", "min": 0.0, "max": 4.0 * math.pi},
        "g_e": {"default": 0.0, "unit": "", "latex": "g_e", "min": -1.0, "max": 1.0},
        "sin_alpha": {
            "default": 0.0, "unit": "", "latex": r"\sin\alpha", "min": -1.0, "max": 1.0
        },
        "sin_beta": {"default": 0.0, "unit": "", "latex": r"\sin\beta", "min": -1.0, "max": 1.0},
        "m_n1": {
            "default": 1.0, "unit": "GeV", "latex": "m_{N_1}", "min": HNL_MASS_MIN_GEV, "max": 1.0e4
        },
        "m_n2": {
            "default": 1.0, "unit": "GeV", "latex": "m_{N_2}", "min": HNL_MASS_MIN_GEV, "max": 1.0e4
        },
        # Majorana splitting of the pair; only lepton-number-violating observables read it,
        # and they require the card to set it (`Likelihood.card_reads`): 0 is the seed's pure
        # Dirac mass, not a fallback.
        "delta_m_n": {
            "default": 0.0, "unit": "GeV", "latex": r"\Delta m_N", "min": 0.0, "max": 1.0
        },
    }


def _quark_parameters(separate: bool) -> dict[str, dict[str, Any]]:
    if separate:
        return {
            "g_u": {"default": 0.0, "unit": "", "latex": "g_u", "min": -1.0, "max": 1.0},
            "g_d": {"default": 0.0, "unit": "", "latex": "g_d", "min": -1.0, "max": 1.0},
        }
    return {"g_q": {"default": 0.0, "unit": "", "latex": "g_q", "min": -1.0, "max": 1.0}}


def _mass_parameter(from_vev: bool) -> dict[str, dict[str, Any]]:
    if from_vev:
        return {"v_phi": {
            "default": 1.0, "unit": "GeV", "latex": r"v_\phi", "min": 1.0e-6, "max": 1.0e4
        }}
    return {"mzp": dict(MZP_SPEC)}


class LFVNSI(Model):
    """Farzan's LFV-NSI model with heavy neutral leptons N1, N2.

    Options
    -------
    flavours : ``"emu"`` (default), ``"etau"`` or ``"mutau"``: the pair ``(a, b)``.
    quarks : ``"universal"`` (default; one parameter ``g_q`` for u and d) or
        ``"separate"`` (``g_u``, ``g_d``).
    mzp_from_vev : bool, default False. If true the parameter ``v_phi`` (GeV) replaces
        ``mzp`` and ``m_Z' = g_psi v_phi / sqrt2``.
    """

    name = "lfv_nsi"
    description = "LFV NSI (Farzan 2019): N1, N2 mixed with nu_a, nu_b; off-diagonal Z' coupling"
    options_allowed = ("flavours", "quarks", "mzp_from_vev")
    parameters: Mapping[str, Mapping[str, Any]] = {
        **_base_parameters(), **_quark_parameters(False), **_mass_parameter(False)
    }

    def __init__(self, **options):
        super().__init__(**options)
        flavours = options.get("flavours", "emu")
        if flavours not in OFF_DIAGONAL_PAIRS:
            raise ValueError(
                f"model.options.flavours: {flavours!r} not allowed; choose from "
                f"{list(OFF_DIAGONAL_PAIRS)}"
            )
        quarks = options.get("quarks", "universal")
        if quarks not in ("universal", "separate"):
            raise ValueError(
                f"model.options.quarks: {quarks!r} not allowed; choose 'universal' or 'separate'"
            )
        from_vev = options.get("mzp_from_vev", False)
        if not isinstance(from_vev, bool):
            raise ValueError(f"model.options.mzp_from_vev: expected true or false, got {from_vev!r}")
        self.flavours = flavours
        self.flavour_indices = OFF_DIAGONAL_PAIRS[flavours]
        self.separate_quarks = quarks == "separate"
        self.mzp_from_vev = from_vev
        self.parameters = {
            **_base_parameters(), **_quark_parameters(self.separate_quarks),
            **_mass_parameter(from_vev),
        }

    def mzp_gev(self, params: Mapping[str, float]) -> float:
        """Z' mass in GeV (from ``mzp``, or ``g_psi v_phi / sqrt2``)."""
        if self.mzp_from_vev:
            return self.value(params, "g_psi") * self.value(params, "v_phi") / math.sqrt(2.0)
        return self.value(params, "mzp")

    def g_nu(self, params: Mapping[str, float]) -> np.ndarray:
        """``(g_nu)_ab = (g_nu)_ba = g_psi sin(alpha) sin(beta)``, all else zero."""
        a, b = self.flavour_indices
        value = (
            self.value(params, "g_psi")
            * self.value(params, "sin_alpha")
            * self.value(params, "sin_beta")
        )
        matrix = np.zeros((3, 3), dtype=complex)
        matrix[a, b] = matrix[b, a] = value
        return matrix

    def _quark_couplings(self, params: Mapping[str, float]) -> tuple[float, float]:
        if self.separate_quarks:
            return self.value(params, "g_u"), self.value(params, "g_d")
        g_q = self.value(params, "g_q")
        return g_q, g_q

    def couplings(self, params: Mapping[str, float]) -> Couplings:
        a, b = self.flavour_indices
        mzp = self.mzp_gev(params)
        g_psi = self.value(params, "g_psi")
        sin_alpha, sin_beta = self.value(params, "sin_alpha"), self.value(params, "sin_beta")
        m_n1, m_n2 = self.value(params, "m_n1"), self.value(params, "m_n2")
        mixing = np.zeros((3, 2))
        mixing[a, 0], mixing[b, 1] = sin_alpha, sin_beta
        v_phi = math.sqrt(2.0) * mzp / g_psi if g_psi > 0 else math.inf
        g_u, g_d = self._quark_couplings(params)
        return couplings_from_mediator(
            {"u": g_u, "d": g_d, "e": self.value(params, "g_e")},
            self.g_nu(params),
            mzp,
            hnl_masses_gev=(m_n1, m_n2),
            hnl_mixing=mixing,
            extras={
                "g_psi": g_psi, "sin_alpha": sin_alpha, "sin_beta": sin_beta,
                "flavour_a": float(a), "flavour_b": float(b), "v_phi_gev": v_phi,
                "yukawa_n1": m_n1 / v_phi, "yukawa_n2": m_n2 / v_phi,
                "delta_m_n_gev": self.value(params, "delta_m_n"),
            },
        )

    def derived(self, params: Mapping[str, float]) -> dict[str, float]:
        """``g_nu_<pair>``, ``eps_u_<pair>`` and ``eps_d_<pair>``, the Earth matrix, and
        whichever of ``mzp`` / ``v_phi`` (GeV) is not a parameter."""
        couplings = self.couplings(params)
        a, b = self.flavour_indices
        out = {
            f"g_nu_{self.flavours}": float(couplings.g_nu[a, b].real),
            f"eps_u_{self.flavours}": float(couplings.eps("u")[a, b].real),
            f"eps_d_{self.flavours}": float(couplings.eps("d")[a, b].real),
        }
        if self.mzp_from_vev:
            out["mzp"] = couplings.mzp_gev
        else:
            out["v_phi"] = couplings.extras["v_phi_gev"]
        out.update(earth_matter_derived(couplings))
        return out


_LOG_PARAMETERS = {
    # name: (linear parameter, default log10 value, latex, min, max)
    "log10_sin_alpha": ("sin_alpha", -3.0, r"\log_{10}\sin\alpha", -8.0, 0.0),
    "log10_sin_beta": ("sin_beta", -3.0, r"\log_{10}\sin\beta", -8.0, 0.0),
    "log10_g_q": ("g_q", -4.0, r"\log_{10} g_q", -12.0, 0.0),
    "log10_mzp": ("mzp", -2.0, r"\log_{10}(m_{Z'}/\mathrm{GeV})", -6.0, 3.0),
}


class LFVNSILog(LFVNSI):
    """`LFVNSI` with the couplings and mass sampled as base-10 logarithms.

    The same physics as `LFVNSI`; the parameters ``log10_sin_alpha``, ``log10_sin_beta``,
    ``log10_g_q`` and ``log10_mzp`` (``m_Z'`` in GeV) replace ``sin_alpha``, ``sin_beta``,
    ``g_q`` and ``mzp`` (all positive). Uniform priors on them are log-uniform priors on the
    couplings, and a sampler moving in these variables handles ranges over many decades
    (emcee's stretch move in the linear variables does not). Name it in a run card as
    ``globalfit.models.lfv:LFVNSILog``. Option ``flavours`` as in `LFVNSI`.
    """

    name = "lfv_nsi_log"
    description = "LFV NSI (Farzan 2019) with log10 couplings and log10 m_Z' as parameters"
    options_allowed = ("flavours",)
    parameters: Mapping[str, Mapping[str, Any]] = {
        **{k: v for k, v in _base_parameters().items() if k not in ("sin_alpha", "sin_beta")},
        **{name: {"default": default, "unit": "", "latex": latex, "min": low, "max": high}
           for name, (_, default, latex, low, high) in _LOG_PARAMETERS.items()},
    }

    def __init__(self, **options):
        super().__init__(**options)
        self.parameters = type(self).parameters

    def linear_parameters(self, params: Mapping[str, float]) -> dict[str, float]:
        """The `LFVNSI` parameters at ``params``."""
        linear = {name: self.value(params, name)
                  for name in ("g_psi", "g_e", "m_n1", "m_n2", "delta_m_n")}
        for name, (target, *_rest) in _LOG_PARAMETERS.items():
            linear[target] = 10.0 ** self.value(params, name)
        return linear

    def couplings(self, params: Mapping[str, float]) -> Couplings:
        return LFVNSI(flavours=self.flavours).couplings(self.linear_parameters(params))

    def derived(self, params: Mapping[str, float]) -> dict[str, float]:
        """`LFVNSI.derived` plus the linear ``sin_alpha``, ``sin_beta``, ``g_q``, ``mzp``."""
        linear = self.linear_parameters(params)
        out = LFVNSI(flavours=self.flavours).derived(linear)
        out.update({name: linear[name] for name in ("sin_alpha", "sin_beta", "g_q", "mzp")})
        return out
