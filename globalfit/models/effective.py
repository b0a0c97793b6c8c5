"""Standard oscillations, effective (contact) NSI, and the light-Z' coupling convention.

This module holds

* `StandardOscillations`: no new physics;
* `EffectiveNSI`: the NSI matrices ``eps^f_ab`` as free parameters (heavy mediator, no
  ``Q^2`` dependence), optionally chiral;
* the helpers every light-Z' model uses: `eps_from_mediator` (the general convention of
  physics.md section 0, ``eps^f_ab(0) = g_f (g_nu)_ab / (2 sqrt2 G_F m_Z'^2)``) and the
  parameter declarations / assembly of Hermitian 3x3 matrices from named real parameters.

See ``docs/models.md`` for the Lagrangians and the numbers reproduced.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from globalfit.couplings import NSI_FERMIONS, STANDARD_MODEL, Couplings
from globalfit.models.base import Model
from globalfit.physics.constants import FERMI_CONSTANT_GEV2
from globalfit.physics.matter import earth_neutron_to_electron

DIAGONAL_PAIRS = ("ee", "mumu", "tautau")
"""Names of the diagonal entries, in flavour order."""
OFF_DIAGONAL_PAIRS = {"emu": (0, 1), "etau": (0, 2), "mutau": (1, 2)}
"""Names of the upper off-diagonal entries and their (row, column) indices."""



# --- the light-mediator convention -----------------------------------------------------------
def eps_from_mediator(g_fermion: float, g_nu: np.ndarray, mzp_gev: float) -> np.ndarray:
    """NSI of one fermion from a vector Z' (physics.md section 0).

    Parameters
    ----------
    g_fermion : float
        Vector coupling ``g_f`` of the Z' to ``fbar gamma^mu f`` (dimensionless).
    g_nu : (3, 3) complex array
        Couplings ``(g_nu)_ab`` of the Z' to ``nubar_a gamma^mu P_L nu_b``.
    mzp_gev : float
        Z' mass in GeV (positive).

    Returns
    -------
    (3, 3) complex array
        ``eps^f_ab(Q^2 = 0) = g_f (g_nu)_ab / (2 sqrt(2) G_F m_Z'^2)``, i.e. in units of the
        Fermi interaction of the NSI Lagrangian ``-2 sqrt2 G_F eps (nu gamma P_L nu)(f gamma f)``.
    """
    if not (np.isfinite(mzp_gev) and mzp_gev > 0):
        raise ValueError(f"mzp_gev: must be positive and finite, got {mzp_gev}")
    return g_fermion * np.asarray(g_nu, dtype=complex) / (
        2.0 * math.sqrt(2.0) * FERMI_CONSTANT_GEV2 * mzp_gev**2
    )


def couplings_from_mediator(
    g_fermion: Mapping[str, float],
    g_nu: np.ndarray,
    mzp_gev: float,
    **extra: Any,
) -> Couplings:
    """`Couplings` of a vector Z' with charged-fermion couplings ``g_fermion`` (keys among
    ``e, mu, tau, u, d``) and neutrino couplings ``g_nu``; NSI for ``e, u, d`` follow from
    `eps_from_mediator`. ``extra`` is passed on to `Couplings` (HNLs, extras)."""
    eps0 = {
        f: eps_from_mediator(g_fermion[f], g_nu, mzp_gev)
        for f in NSI_FERMIONS
        if g_fermion.get(f, 0.0) != 0.0
    }
    return Couplings(
        eps0=eps0, mzp_gev=float(mzp_gev), g_fermion=dict(g_fermion), g_nu=g_nu, **extra
    )


# --- parameter declarations for Hermitian matrices -------------------------------------------
def hermitian_parameters(
    prefix: str, latex_symbol: str, bound: float, default: float = 0.0
) -> dict[str, dict[str, Any]]:
    """Declarations of the 9 real parameters of a Hermitian 3x3 matrix called ``prefix``:
    ``<prefix>_ee, _mumu, _tautau`` (real diagonal) and ``<prefix>_emu_re, _emu_im`` etc.
    (upper off-diagonal entries ``M_ab``, ``a < b``; ``M_ba = conj(M_ab)``).
    ``latex_symbol`` is a LaTeX macro taking the flavour subscript, e.g. ``r'\\epsilon^u'``."""
    labels = {"e": "e", "mu": r"\mu", "tau": r"\tau"}
    specs: dict[str, dict[str, Any]] = {}
    for pair in DIAGONAL_PAIRS:
        sub = labels[pair[: len(pair) // 2]] * 2
        specs[f"{prefix}_{pair}"] = {
            "default": default, "unit": "", "latex": f"{latex_symbol}_{{{sub}}}",
            "min": -bound, "max": bound,
        }
    for pair in OFF_DIAGONAL_PAIRS:
        a, b = ("e", pair[1:]) if pair.startswith("e") else ("mu", "tau")
        sub = labels[a] + labels[b]
        for part, word in (("re", r"\mathrm{Re}\,"), ("im", r"\mathrm{Im}\,")):
            specs[f"{prefix}_{pair}_{part}"] = {
                "default": 0.0, "unit": "", "latex": f"{word}{latex_symbol}_{{{sub}}}",
                "min": -bound, "max": bound,
            }
    return specs


def hermitian_matrix(model: Model, params: Mapping[str, float], prefix: str) -> np.ndarray:
    """Assemble the Hermitian 3x3 matrix declared by `hermitian_parameters` from ``params``
    (missing names take their declared default)."""
    matrix = np.zeros((3, 3), dtype=complex)
    for index, pair in enumerate(DIAGONAL_PAIRS):
        matrix[index, index] = model.value(params, f"{prefix}_{pair}")
    for pair, (row, column) in OFF_DIAGONAL_PAIRS.items():
        entry = complex(
            model.value(params, f"{prefix}_{pair}_re"), model.value(params, f"{prefix}_{pair}_im")
        )
        matrix[row, column] = entry
        matrix[column, row] = entry.conjugate()
    return matrix


def oscillation_derived(prefix: str, eps: np.ndarray) -> dict[str, float]:
    """The combinations oscillations see (physics.md section 0): diagonal differences and
    modulus/phase of the off-diagonal entries, named ``<prefix>_ee_minus_mumu`` etc."""
    out = {
        f"{prefix}_ee_minus_mumu": float(eps[0, 0].real - eps[1, 1].real),
        f"{prefix}_tautau_minus_mumu": float(eps[2, 2].real - eps[1, 1].real),
    }
    for pair, (row, column) in OFF_DIAGONAL_PAIRS.items():
        out[f"{prefix}_{pair}_abs"] = float(abs(eps[row, column]))
        out[f"{prefix}_{pair}_phase"] = float(np.angle(eps[row, column]))
    return out


def earth_matter_derived(couplings: Couplings) -> dict[str, float]:
    """Propagation combination in the Earth reported as ``eps_earth_*``.

    ``Y_n`` (1.05) is `globalfit.physics.matter.earth_neutron_to_electron`.
    """
    return oscillation_derived("eps_earth", couplings.eps_matter(earth_neutron_to_electron()))


# --- models ------------------------------------------------------------------------------------
class StandardOscillations(Model):
    """Three-flavour oscillations without new physics (no parameters of its own)."""

    name = "standard"
    description = "Standard three-flavour oscillations, no new physics"
    parameters: Mapping[str, Mapping[str, Any]] = {}

    def couplings(self, params: Mapping[str, float]) -> Couplings:
        return STANDARD_MODEL


def _effective_parameters(fermions: tuple[str, ...], chiral: bool) -> dict[str, dict[str, Any]]:
    specs: dict[str, dict[str, Any]] = {}
    for f in fermions:
        for label in ((f + "L", f + "R") if chiral else (f,)):
            chirality = label[1:] if chiral else ""
            symbol = rf"\epsilon^{{{f}{chirality}}}"
            specs.update(hermitian_parameters(f"eps_{label}", symbol, bound=10.0))
    return specs


class EffectiveNSI(Model):
    """Effective (contact) NSI: the matrices ``eps^f_ab`` are the parameters.

    Parameters are ``eps_<f>_ee``, ``eps_<f>_mumu``, ``eps_<f>_tautau`` (real) and
    ``eps_<f>_emu_re`` / ``_im`` (and ``etau``, ``mutau``) for ``f`` in the option
    ``fermions`` (default ``[e, u, d]``). With ``chiral: true`` the parameters are
    ``eps_<f>L_*`` and ``eps_<f>R_*`` and the vector NSI is their sum.

    Options
    -------
    fermions : list of str, subset of ``[e, u, d]``
    chiral : bool, default False
    """

    name = "effective_nsi"
    description = "Heavy-mediator NSI: eps^f_ab as free parameters (optionally chiral)"
    options_allowed = ("fermions", "chiral")
    parameters: Mapping[str, Mapping[str, Any]] = _effective_parameters(NSI_FERMIONS, False)

    def __init__(self, **options):
        super().__init__(**options)
        fermions = options.get("fermions", list(NSI_FERMIONS))
        if isinstance(fermions, str):
            fermions = [fermions]
        bad = [f for f in fermions if f not in NSI_FERMIONS]
        if bad or not fermions or len(set(fermions)) != len(fermions):
            raise ValueError(
                f"model.options.fermions: {fermions!r} not allowed; give a non-empty list "
                f"of distinct fermions from {list(NSI_FERMIONS)}"
            )
        chiral = options.get("chiral", False)
        if not isinstance(chiral, bool):
            raise ValueError(f"model.options.chiral: expected true or false, got {chiral!r}")
        self.fermions = tuple(f for f in NSI_FERMIONS if f in fermions)
        self.chiral = chiral
        self.parameters = _effective_parameters(self.fermions, chiral)

    def _matrices(self, params: Mapping[str, float]) -> tuple[dict, dict]:
        if not self.chiral:
            return {f: hermitian_matrix(self, params, f"eps_{f}") for f in self.fermions}, {}
        chiral = {
            (f, p): hermitian_matrix(self, params, f"eps_{f}{p}")
            for f in self.fermions
            for p in ("L", "R")
        }
        vector = {f: chiral[(f, "L")] + chiral[(f, "R")] for f in self.fermions}
        return vector, chiral

    def couplings(self, params: Mapping[str, float]) -> Couplings:
        vector, chiral = self._matrices(params)
        return Couplings(eps0=vector, eps0_chiral=chiral, mzp_gev=None)

    def derived(self, params: Mapping[str, float]) -> dict[str, float]:
        """``eps_<f>_ee_minus_mumu``, ``eps_<f>_tautau_minus_mumu``, ``|eps_<f>_ab|`` and
        phases for each fermion (vector sums), and the same for the Earth propagation
        matrix (``eps_earth_*``, ``Y_n = 1.05``)."""
        couplings = self.couplings(params)
        out: dict[str, float] = {}
        for f in self.fermions:
            out.update(oscillation_derived(f"eps_{f}", couplings.eps0[f]))
        out.update(earth_matter_derived(couplings))
        return out


__all__ = [
    "StandardOscillations",
    "EffectiveNSI",
    "eps_from_mediator",
    "couplings_from_mediator",
    "hermitian_parameters",
    "hermitian_matrix",
]
