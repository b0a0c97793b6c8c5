"""`Couplings`: what a model says about new physics, in the form every likelihood reads.

A model (``globalfit.models``) turns its parameters into one `Couplings` object. Likelihoods
never see model parameters; they ask a `Couplings` for

* ``eps(f, q2_gev2)``: the 3x3 vector NSI matrix ``eps^f_ab`` of fermion ``f`` at momentum
  transfer ``Q^2`` (GeV^2), in units of ``2 sqrt(2) G_F`` (physics.md section 0), with the
  light-mediator factor ``m_Z'^2 / (m_Z'^2 + Q^2)`` applied;
* ``eps_chiral(f, "L" | "R", q2_gev2)``: the chiral pieces (NuTeV); a vector-coupled Z'
  gives ``L = R = V / 2``;
* ``eps_matter(neutron_fraction)``: the combination seen in propagation at ``Q^2 = 0``,
  ``eps^e + (2 + Y_n) eps^u + (1 + 2 Y_n) eps^d``;
* the Z' itself: ``mzp_gev`` (``None`` for a contact interaction), ``g_fermion`` (vector
  couplings to charged fermions) and ``g_nu`` (3x3, left-handed neutrinos);
* heavy neutral leptons (``hnl_masses_gev``, ``hnl_mixing``) and free-form ``extras``
  for what a particular model adds (e.g. a Yukawa), documented by that model.

Fermion labels: ``"e", "u", "d"`` enter NSI; ``g_fermion`` may also hold ``"mu"``,
``"tau"``. Flavour order everywhere is ``(e, mu, tau)``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

NSI_FERMIONS = ("e", "u", "d")
FLAVOURS = ("e", "mu", "tau")
CHIRALITIES = ("L", "R")

_ZERO = np.zeros((3, 3), dtype=complex)
_ZERO.setflags(write=False)


def _frozen_matrix(value, name: str) -> np.ndarray:
    matrix = np.array(value, dtype=complex)
    if matrix.shape != (3, 3):
        raise ValueError(f"{name}: expected a 3x3 matrix, got shape {matrix.shape}")
    # one pass over 9 numbers; np.allclose costs ~25x more and this runs at every point
    size = float(np.abs(matrix).max())
    if not np.isfinite(size):
        raise ValueError(f"{name}: contains NaN or inf")
    if float(np.abs(matrix - matrix.conj().T).max()) > 1e-12 + 1e-10 * size:
        raise ValueError(f"{name}: must be Hermitian (eps_ba = conj(eps_ab))")
    matrix.setflags(write=False)
    return matrix


@dataclass(frozen=True)
class Couplings:
    """New-physics couplings at one parameter point.

    Parameters
    ----------
    eps0 : mapping fermion -> 3x3 complex Hermitian
        Vector NSI ``eps^f = eps^{fL} + eps^{fR}`` at ``Q^2 = 0``. Missing fermions are zero.
    eps0_chiral : mapping (fermion, chirality) -> 3x3, optional
        Chiral NSI at ``Q^2 = 0`` where a model distinguishes them. Where absent for a
        fermion, ``L = R = eps0[f] / 2`` (a vector coupling).
    mzp_gev : float or None
        Mediator mass in GeV; ``None`` means a heavy (contact) mediator, no ``Q^2`` dependence.
    g_fermion : mapping fermion -> float
        Vector couplings of the Z' to charged fermions (e, mu, tau, u, d).
    g_nu : 3x3 complex Hermitian
        Couplings of the Z' to left-handed neutrinos, ``(g_nu)_ab``.
    hnl_masses_gev, hnl_mixing : heavy neutral leptons: masses and the (3 x n) mixing of
        active flavours with them, where the model has them.
    extras : model-specific numbers, documented by the model.
    """

    eps0: Mapping[str, np.ndarray] = field(default_factory=dict)
    eps0_chiral: Mapping[tuple[str, str], np.ndarray] = field(default_factory=dict)
    mzp_gev: float | None = None
    g_fermion: Mapping[str, float] = field(default_factory=dict)
    g_nu: np.ndarray = field(default_factory=lambda: _ZERO)
    hnl_masses_gev: tuple[float, ...] = ()
    hnl_mixing: np.ndarray | None = None
    extras: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self):
        for f in self.eps0:
            if f not in NSI_FERMIONS:
                raise ValueError(f"eps0: unknown fermion {f!r}; allowed: {NSI_FERMIONS}")
        for f, chirality in self.eps0_chiral:
            if f not in NSI_FERMIONS or chirality not in CHIRALITIES:
                raise ValueError(
                    f"eps0_chiral: key {(f, chirality)!r} not allowed; "
                    f"fermion in {NSI_FERMIONS}, chirality in {CHIRALITIES}"
                )
        if self.mzp_gev is not None and not (np.isfinite(self.mzp_gev) and self.mzp_gev > 0):
            raise ValueError(f"mzp_gev must be positive and finite or None, got {self.mzp_gev}")
        eps0 = {f: _frozen_matrix(m, f"eps0[{f!r}]") for f, m in self.eps0.items()}
        chiral = {k: _frozen_matrix(m, f"eps0_chiral[{k!r}]") for k, m in self.eps0_chiral.items()}
        object.__setattr__(self, "eps0", MappingProxyType(eps0))
        object.__setattr__(self, "eps0_chiral", MappingProxyType(chiral))
        object.__setattr__(self, "g_nu", _frozen_matrix(self.g_nu, "g_nu"))
        object.__setattr__(self, "g_fermion", MappingProxyType(dict(self.g_fermion)))
        object.__setattr__(self, "extras", MappingProxyType(dict(self.extras)))

    # --- momentum-transfer dependence -------------------------------------------------
    def propagator_factor(self, q2_gev2=0.0):
        """``m_Z'^2 / (m_Z'^2 + Q^2)``; 1 for a contact interaction. Broadcasts over ``q2``."""
        q2 = np.asarray(q2_gev2, dtype=float)
        if self.mzp_gev is None:
            return np.ones_like(q2)
        m2 = self.mzp_gev**2
        return m2 / (m2 + q2)

    def eps(self, fermion: str, q2_gev2=0.0) -> np.ndarray:
        """Vector NSI ``eps^f_ab(Q^2)``; shape ``q2.shape + (3, 3)``."""
        if fermion not in NSI_FERMIONS:
            raise ValueError(f"fermion {fermion!r} not allowed; choose from {NSI_FERMIONS}")
        base = self.eps0.get(fermion, _ZERO)
        factor = self.propagator_factor(q2_gev2)
        return factor[..., None, None] * base

    def eps_chiral(self, fermion: str, chirality: str, q2_gev2=0.0) -> np.ndarray:
        """Chiral NSI ``eps^{fP}_ab(Q^2)``, ``P`` in ``("L", "R")``."""
        if chirality not in CHIRALITIES:
            raise ValueError(f"chirality {chirality!r} not allowed; choose from {CHIRALITIES}")
        if (fermion, "L") in self.eps0_chiral or (fermion, "R") in self.eps0_chiral:
            base = self.eps0_chiral.get((fermion, chirality), _ZERO)
            return self.propagator_factor(q2_gev2)[..., None, None] * base
        return 0.5 * self.eps(fermion, q2_gev2)

    def eps_matter(self, neutron_fraction=1.05) -> np.ndarray:
        """Propagation NSI at ``Q^2 = 0`` for neutral matter with ``Y_n = N_n / N_e``:
        ``eps^e + (2 + Y_n) eps^u + (1 + 2 Y_n) eps^d`` (physics.md section 0).
        Broadcasts over ``neutron_fraction``; shape ``y_n.shape + (3, 3)``."""
        y_n = np.asarray(neutron_fraction, dtype=float)[..., None, None]
        return (
            self.eps0.get("e", _ZERO)
            + (2.0 + y_n) * self.eps0.get("u", _ZERO)
            + (1.0 + 2.0 * y_n) * self.eps0.get("d", _ZERO)
        )

    @property
    def has_nsi(self) -> bool:
        """True if any NSI entry is non-zero."""
        matrices = list(self.eps0.values()) + list(self.eps0_chiral.values())
        return any(np.any(m != 0) for m in matrices)


STANDARD_MODEL = Couplings()
"""No new physics."""
