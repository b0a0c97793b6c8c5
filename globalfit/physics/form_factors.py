"""Nuclear form factors for coherent scattering, ``F(q)`` with ``F(0) = 1``.

* Helm: ``F(q) = 3 j1(q R0) / (q R0) exp(-q^2 s^2 / 2)``, ``R0^2 = (5/3) R^2 - 5 s^2``,
  ``R`` the rms radius and ``s = 0.9 fm`` the surface thickness
  [R. H. Helm, Phys. Rev. 104 (1956) 1466; parameters as in arXiv:1810.05606].
* Klein-Nystrand: ``F(q) = 3 j1(q R_A) / (q R_A) / (1 + q^2 a^2)``, ``R_A = 1.2 A^{1/3} fm``,
  ``a = 0.7 fm`` [S. Klein, J. Nystrand, Phys. Rev. C 60 (1999) 014903].

``q`` is the three-momentum transfer in GeV, ``q = sqrt(2 M T)`` for a recoil ``T``.
"""
from __future__ import annotations

import numpy as np

from globalfit.datafile import data_value
from globalfit.paths import data_path
from globalfit.physics.constants import FM_IN_PER_GEV

PARAMETER_FILE = data_path("cross_sections", "cevns.yaml")
"""Holds ``form_factor.helm.skin_fm`` and ``form_factor.klein_nystrand.{r0_fm, range_fm}``."""


def _parameter(key: str) -> float:
    return float(data_value(PARAMETER_FILE, f"form_factor.{key}"))


def _spherical_bessel_ratio(x: np.ndarray) -> np.ndarray:
    """``3 j1(x) / x``, with its Taylor series below ``x = 1e-3`` (equals 1 at 0)."""
    x = np.asarray(x, dtype=float)
    small = np.abs(x) < 1.0e-3
    safe = np.where(small, 1.0, x)
    exact = 3.0 * (np.sin(safe) - safe * np.cos(safe)) / safe**3
    series = 1.0 - x**2 / 10.0 + x**4 / 280.0
    return np.where(small, series, exact)


def helm(q_gev, rms_radius_fm: float, skin_fm: float | None = None) -> np.ndarray:
    """Helm form factor at momentum transfer ``q_gev`` (GeV) for rms radius ``rms_radius_fm``
    (``skin_fm``: the data file's 0.9 fm for None)."""
    skin_fm = _parameter("helm.skin_fm") if skin_fm is None else skin_fm
    r0_sq = 5.0 / 3.0 * rms_radius_fm**2 - 5.0 * skin_fm**2
    if r0_sq <= 0:
        raise ValueError(
            f"rms_radius_fm={rms_radius_fm} too small for skin_fm={skin_fm}: "
            "needs rms_radius_fm > sqrt(3) * skin_fm"
        )
    q_fm = np.asarray(q_gev, dtype=float) * FM_IN_PER_GEV
    return _spherical_bessel_ratio(q_fm * np.sqrt(r0_sq)) * np.exp(-0.5 * (q_fm * skin_fm) ** 2)


def klein_nystrand(q_gev, mass_number: int, r0_fm: float | None = None,
                   range_fm: float | None = None) -> np.ndarray:
    """Klein-Nystrand form factor at ``q_gev`` (GeV) for mass number ``mass_number``
    (``r0_fm``, ``range_fm``: the data file's 1.2 and 0.7 fm for None)."""
    r0_fm = _parameter("klein_nystrand.r0_fm") if r0_fm is None else r0_fm
    range_fm = _parameter("klein_nystrand.range_fm") if range_fm is None else range_fm
    if mass_number <= 0:
        raise ValueError(f"mass_number must be positive, got {mass_number}")
    q_fm = np.asarray(q_gev, dtype=float) * FM_IN_PER_GEV
    radius = r0_fm * mass_number ** (1.0 / 3.0)
    return _spherical_bessel_ratio(q_fm * radius) / (1.0 + (q_fm * range_fm) ** 2)


FORM_FACTORS = ("helm", "klein_nystrand")


def form_factor(name: str, q_gev, isotope, radius_scale: float = 1.0) -> np.ndarray:
    """Form factor ``name`` (``"helm"`` or ``"klein_nystrand"``) of ``isotope`` at ``q_gev``.

    ``radius_scale`` multiplies the nuclear radius (rms radius for Helm, ``R_A`` for
    Klein-Nystrand): a nuisance for the form-factor uncertainty.
    """
    if name == "helm":
        return helm(q_gev, isotope.rms_radius_fm * radius_scale)
    if name == "klein_nystrand":
        return klein_nystrand(q_gev, isotope.mass_number, r0_fm=_parameter("klein_nystrand.r0_fm") * radius_scale)
    raise ValueError(f"form factor {name!r} not known; choose from {FORM_FACTORS}")
