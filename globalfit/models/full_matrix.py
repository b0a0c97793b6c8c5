"""`FullMatrixNSI`: every NSI coupling of one fermion that oscillations can see.

Oscillations see ``eps^f`` only up to a multiple of the identity, so the parameters are the
eight combinations (physics.md section 0; the rows of the table of Esteban et al., JHEP 08
(2018) 180, arXiv:1805.04530)::

    eps_ee_minus_mumu, eps_tautau_minus_mumu               (real)
    eps_emu_re, eps_emu_im, eps_etau_re, eps_etau_im,
    eps_mutau_re, eps_mutau_im                             (complex off-diagonals)

and the matrix is built with ``eps_mumu = 0``. Likelihoods that see the absolute entries
(coherent scattering) must not be combined with this model.

Derived: the solar combinations ``eps_D`` and ``eps_N`` (``eps_N_re``, ``eps_N_im``;
Gonzalez-Garcia & Maltoni 2013, `globalfit.physics.solar.effective_nsi`) and ``|eps_ab|``.

The generalised mass-ordering degeneracy (`globalfit.physics.nsi.mass_ordering_degeneracy`:
``th12 -> pi/2 - th12``, ``dm31 -> -dm31 + dm21``, ``dcp -> pi - dcp``,
``eps_ee - eps_mumu -> -(eps_ee - eps_mumu) - 2/k_f``, ``eps_tautau - eps_mumu -> -(...)``,
``eps_emu, eps_etau -> conj``, ``eps_mutau -> -conj``, with ``k_f`` the fermion's weight in
the Earth's matter potential) leaves every oscillation probability unchanged:
`FullMatrixNSI.degenerate_image` maps a point to its image, so that a run can start walkers
in the LMA-Dark region from LMA points and a profile can be checked for the symmetry.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from globalfit.couplings import Couplings
from globalfit.models.base import Model
from globalfit.models.effective import OFF_DIAGONAL_PAIRS
from globalfit.physics.matter import earth_neutron_to_electron
from globalfit.physics.nsi import mass_ordering_degeneracy
from globalfit.physics.solar import effective_nsi

FERMIONS = ("e", "u", "d")


def fermion_weight(fermion: str) -> float:
    """``k_f`` in ``eps_matter = k_f eps^f`` (``Couplings.eps_matter`` with the Earth's ``Y_n``,
    `globalfit.physics.matter.earth_neutron_to_electron`)."""
    y_n = earth_neutron_to_electron()
    return {"e": 1.0, "u": 2.0 + y_n, "d": 1.0 + 2.0 * y_n}[fermion]

_BOUND = 5.0


def _parameters() -> dict[str, dict[str, Any]]:
    specs = {
        "eps_ee_minus_mumu": {"default": 0.0, "unit": "", "latex": r"\epsilon_{ee}-\epsilon_{\mu\mu}",
                              "min": -_BOUND, "max": _BOUND},
        "eps_tautau_minus_mumu": {"default": 0.0, "unit": "",
                                  "latex": r"\epsilon_{\tau\tau}-\epsilon_{\mu\mu}",
                                  "min": -_BOUND, "max": _BOUND},
    }
    labels = {"emu": r"e\mu", "etau": r"e\tau", "mutau": r"\mu\tau"}
    for pair in OFF_DIAGONAL_PAIRS:
        for part, word in (("re", r"\mathrm{Re}\,"), ("im", r"\mathrm{Im}\,")):
            specs[f"eps_{pair}_{part}"] = {"default": 0.0, "unit": "", "latex": f"{word}\\epsilon_{{{labels[pair]}}}",
                                           "min": -_BOUND, "max": _BOUND}
    return specs


class FullMatrixNSI(Model):
    """All oscillation-visible NSI of one fermion (see the module docstring).

    Options
    -------
    fermion : ``u`` (default), ``d`` or ``e``
    """

    name = "nsi_matrix"
    description = "All oscillation-visible NSI eps^f_ab of one fermion (complex off-diagonals, eps_mumu = 0)"
    parameters = _parameters()
    options_allowed = ("fermion",)

    def __init__(self, **options):
        super().__init__(**options)
        self.fermion = options.get("fermion", "u")
        if self.fermion not in FERMIONS:
            raise ValueError(f"model.options.fermion: {self.fermion!r} not allowed; "
                             f"choose from {sorted(FERMIONS)}")

    def matrix(self, params: Mapping[str, float]) -> np.ndarray:
        """``eps^f`` (3x3 Hermitian, ``eps_mumu = 0``)."""
        eps = np.zeros((3, 3), dtype=complex)
        eps[0, 0] = self.value(params, "eps_ee_minus_mumu")
        eps[2, 2] = self.value(params, "eps_tautau_minus_mumu")
        for pair, (row, column) in OFF_DIAGONAL_PAIRS.items():
            entry = complex(self.value(params, f"eps_{pair}_re"), self.value(params, f"eps_{pair}_im"))
            eps[row, column], eps[column, row] = entry, entry.conjugate()
        return eps

    def couplings(self, params: Mapping[str, float]) -> Couplings:
        return Couplings(eps0={self.fermion: self.matrix(params)})

    def derived(self, params: Mapping[str, float]) -> dict[str, float]:
        """``eps_D``, ``eps_N_re``, ``eps_N_im`` (needs ``th13, th23, dcp`` at the point) and
        ``eps_<ab>_abs``."""
        eps = self.matrix(params)
        out = {f"eps_{pair}_abs": float(abs(eps[row, column])) for pair, (row, column) in OFF_DIAGONAL_PAIRS.items()}
        if all(k in params for k in ("th13", "th23", "dcp")):
            eps_d, eps_n = effective_nsi(eps, float(params["th13"]), float(params["th23"]), float(params["dcp"]))
            out.update(eps_D=float(eps_d), eps_N_re=float(np.real(eps_n)), eps_N_im=float(np.imag(eps_n)))
        return out

    def degenerate_image(self, params: Mapping[str, float]) -> dict[str, float]:
        """The point's image under the generalised mass-ordering degeneracy (all oscillation
        probabilities in the Earth's matter with ``Y_n = 1.05`` unchanged). ``params`` must
        hold the six oscillation parameters."""
        weight = fermion_weight(self.fermion)
        mapped, eps_matter = mass_ordering_degeneracy(dict(params), weight * self.matrix(params))
        eps = eps_matter / weight
        out = {k: float(v) for k, v in mapped.items()}
        out["eps_ee_minus_mumu"] = float((eps[0, 0] - eps[1, 1]).real)
        out["eps_tautau_minus_mumu"] = float((eps[2, 2] - eps[1, 1]).real)
        for pair, (row, column) in OFF_DIAGONAL_PAIRS.items():
            out[f"eps_{pair}_re"] = float(eps[row, column].real)
            out[f"eps_{pair}_im"] = float(eps[row, column].imag)
        return out
