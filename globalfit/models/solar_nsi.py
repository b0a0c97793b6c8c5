"""`SolarNSI`: the solar effective NSI couplings ``eps_D``, ``eps_N`` of one fermion.

Parameters: ``eps_D`` and ``eps_N`` (real) of fermion ``f`` (option ``fermion: u | d | e``,
default ``u``), as defined in physics.md section 2 (Gonzalez-Garcia & Maltoni 2013;
Esteban et al., JHEP 08 (2018) 180): the solar two-state Hamiltonian gets
``V_f [[-eps_D, eps_N], [eps_N*, eps_D]]``.

Mapping to a 3x3 matrix. ``eps_D``, ``eps_N`` are two projections of the five independent
combinations of ``eps^f``; we choose the matrix with

    eps_ee = -2 eps_D / c13^2,   eps_emu = c23 eps_N / c13,   eps_etau = -s23 eps_N / c13,

all other entries zero, using ``th13``, ``th23`` (and ``dcp``) from the point. With these,
``eps_D`` and ``eps_N`` are reproduced exactly (the ``eps_emu``/``eps_etau`` contributions
to ``eps_D`` cancel: ``s23 eps_emu + c23 eps_etau = 0``); tested in
``tests/test_solar_nsi_model.py``. Only oscillations in the Sun (and, slightly, in the Earth
and KamLAND's crust) see these couplings; the Earth sees the same matrix.

Derived: ``eps_ee_minus_mumu = -2 eps_D / c13^2``, which is the quantity quoted by Esteban
et al. when ``eps_D`` is carried by the diagonal entries alone (their table profiles over
the other entries, so the two agree where those are small: 0.298 vs ``-2 (-0.140) / c13^2 = 0.287``).
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from globalfit.couplings import Couplings
from globalfit.models.base import Model


def _angle(params: Mapping[str, float], name: str) -> float:
    """``params[name]``; the mapping to ``eps^f`` needs it (no default)."""
    if name not in params:
        raise KeyError(f"model solar_nsi needs {name!r} to map eps_D, eps_N to a 3x3 matrix; the point does "
                       f"not set it (give it in the run card's parameters:)")
    return float(params[name])


class SolarNSI(Model):
    """eps_D, eps_N of one fermion (see module docstring)."""

    name = "solar_nsi"
    description = "Solar effective NSI eps_D, eps_N of one fermion (u, d or e)"
    parameters = {
        "eps_D": {"default": 0.0, "unit": "", "latex": r"\varepsilon_D", "min": -2.0, "max": 2.0},
        "eps_N": {"default": 0.0, "unit": "", "latex": r"\varepsilon_N", "min": -2.0, "max": 2.0},
    }
    options_allowed = ("fermion",)
    reads = ("th13", "th23")

    def __init__(self, **options):
        super().__init__(**options)
        self.fermion = options.get("fermion", "u")
        if self.fermion not in ("u", "d", "e"):
            raise ValueError(f"model.options.fermion: {self.fermion!r} not allowed; choose from ('u', 'd', 'e')")

    def nsi_matrix(self, params: Mapping[str, float]) -> np.ndarray:
        """The 3x3 ``eps^f`` that reproduces ``eps_D``, ``eps_N`` at the point's th13, th23."""
        eps_d = self.value(params, "eps_D")
        eps_n = self.value(params, "eps_N")
        th13 = _angle(params, "th13")
        th23 = _angle(params, "th23")
        c13 = np.cos(th13)
        matrix = np.zeros((3, 3), dtype=complex)
        matrix[0, 0] = -2.0 * eps_d / c13**2
        matrix[0, 1] = matrix[1, 0] = np.cos(th23) * eps_n / c13
        matrix[0, 2] = matrix[2, 0] = -np.sin(th23) * eps_n / c13
        return matrix

    def couplings(self, params: Mapping[str, float]) -> Couplings:
        return Couplings(eps0={self.fermion: self.nsi_matrix(params)})

    def derived(self, params: Mapping[str, float]) -> dict[str, float]:
        c13 = np.cos(_angle(params, "th13"))
        return {"eps_ee_minus_mumu": -2.0 * self.value(params, "eps_D") / c13**2}
