"""Coherent elastic neutrino-nucleus scattering (CEvNS) with NSI and light vector mediators.

Cross section for a neutrino of flavour ``a`` and energy ``E`` on a nucleus (Z, N, M),
recoil kinetic energy ``T`` (physics.md section 5, inputs.md 3a)::

    dsigma/dT = (G_F^2 M / pi) (1 - T/E - M T / (2 E^2)) F(q)^2 Q_a(q^2)^2,  q^2 = 2 M T
    Q_a^2 = [Z (g_p + eps^p_aa) + N (g_n + eps^n_aa)]^2
            + sum_{b != a} |Z eps^p_ab + N eps^n_ab|^2
    eps^p = 2 eps^u + eps^d,   eps^n = eps^u + 2 eps^d

with every ``eps`` taken at ``Q^2 = 2 M T`` (``Couplings.eps(f, q2)``, which applies the
light-mediator factor ``m^2 / (m^2 + Q^2)``). ``Q = Z g_p + N g_n = -Q_W / 2`` so that the
``T -> 0`` limit is the familiar ``G_F^2 M Q_W^2 / (4 pi)``. Antineutrinos see the same
vector charge (diagonal entries are real; off-diagonal ones enter as ``|.|^2``).

SM couplings with the radiative corrections of Barranco, Miranda, Rashba (2005) and the PDG
(inputs.md 3a): ``rho = 1.0086``, ``kappa = 0.9978``, ``lambda_uL = -0.0031``,
``lambda_dL = -0.0025``, ``lambda_dR = 7.5e-5 = 2 lambda_uR`` (read from
``data/cross_sections/cevns.yaml`` with their provenance), with ``sin^2 theta_W`` in MS-bar at
``M_Z``. This gives ``g_p = 0.0304``, ``g_n = -0.5122`` (`sm_nucleon_couplings`); every
``g_p=None, g_n=None`` argument below means these.

Fast evaluation
---------------
Everything that does not depend on the couplings is precomputed by `CEvNSPredictor`:
for each isotope ``i``, source ``s`` (a flavour with its spectrum and timing) and analysis
bin ``k`` it stores ``W[i, s, T, k]`` = targets x fluence x flux-averaged kinematics x
``F^2`` x detector response on a recoil grid. For a mediator mass ``m`` the NSI depend
on ``T`` only through ``P_i(T) = m^2 / (m^2 + 2 M_i T)``, so with
``Q^2 = Q_SM^2 + 2 Q_SM A P + (A^2 + B) P^2`` the rate is three small contractions with
``K_j = sum_T W P^j`` (``j = 0, 1, 2``), cached per ``m`` (the last few values).
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from globalfit.couplings import STANDARD_MODEL, Couplings
from globalfit.datafile import data_value, recording_active
from globalfit.paths import data_path
from globalfit.physics.constants import FERMI_CONSTANT_GEV2, GEV2_TO_CM2, SIN2_THETA_W_MSBAR_MZ
from globalfit.physics.form_factors import form_factor as _form_factor
from globalfit.physics.nuclei import Isotope

# --- weak couplings ---------------------------------------------------------------------
CEVNS_FILE = data_path("cross_sections", "cevns.yaml")
"""Radiative corrections to the Z-nucleon couplings and form-factor parameters, with provenance."""


def weak_nucleon_couplings(sin2_theta_w: float = SIN2_THETA_W_MSBAR_MZ,
                           radiative: bool = True) -> tuple[float, float]:
    """Vector couplings ``(g_p, g_n)`` of the Z to protons and neutrons.

    Parameters
    ----------
    sin2_theta_w : float
        ``sin^2 theta_W``: MS-bar at ``M_Z`` when ``radiative`` (the corrections of
        inputs.md 3a run it to low energy), the low-energy value at tree level otherwise.
    radiative : bool
        Tree level ``g_p = 1/2 - 2 s^2, g_n = -1/2`` when False.
    """
    if not 0.0 < sin2_theta_w < 1.0:
        raise ValueError(f"sin2_theta_w must be in (0, 1), got {sin2_theta_w}")
    if not radiative:
        return 0.5 - 2.0 * sin2_theta_w, -0.5
    rho, kappa, lambda_ul, lambda_dl, lambda_dr = (
        float(data_value(CEVNS_FILE, f"radiative.{key}")) for key in ("rho", "kappa", "lambda_ul", "lambda_dl",
                                                                       "lambda_dr"))
    lambda_ur = lambda_dr / 2.0
    ks2 = kappa * sin2_theta_w
    g_u = rho * (0.5 - 4.0 / 3.0 * ks2) + lambda_ul + lambda_ur
    g_d = rho * (-0.5 + 2.0 / 3.0 * ks2) + lambda_dl + lambda_dr
    return 2.0 * g_u + g_d, g_u + 2.0 * g_d


@cache
def _sm_couplings_cached() -> tuple[float, float]:
    return weak_nucleon_couplings()


def sm_nucleon_couplings(g_p: float | None = None, g_n: float | None = None) -> tuple[float, float]:
    """``(g_p, g_n)``: the given values, or the radiatively corrected SM ones for ``None``."""
    if g_p is None or g_n is None:
        sm_p, sm_n = weak_nucleon_couplings() if recording_active() else _sm_couplings_cached()
        g_p = sm_p if g_p is None else g_p
        g_n = sm_n if g_n is None else g_n
    return g_p, g_n

# --- flavours ---------------------------------------------------------------------------
FLAVOUR_INDEX = {
    "nu_e": 0, "nu_mu": 1, "nu_tau": 2, "nubar_e": 0, "nubar_mu": 1, "nubar_tau": 2,
}
"""Neutrino species -> flavour index ``(e, mu, tau)`` of the NSI matrices."""


def _flavour_index(flavour: str) -> int:
    if flavour not in FLAVOUR_INDEX:
        raise ValueError(f"flavour {flavour!r} not known; choose from {sorted(FLAVOUR_INDEX)}")
    return FLAVOUR_INDEX[flavour]


def nucleon_nsi(couplings: Couplings, q2_gev2=0.0) -> tuple[np.ndarray, np.ndarray]:
    """``(eps^p, eps^n)`` at ``q2_gev2``: ``2 eps^u + eps^d`` and ``eps^u + 2 eps^d``."""
    eps_u = couplings.eps("u", q2_gev2)
    eps_d = couplings.eps("d", q2_gev2)
    return 2.0 * eps_u + eps_d, eps_u + 2.0 * eps_d


def weak_charge_squared(isotope: Isotope, flavour: str, couplings: Couplings = STANDARD_MODEL,
                        q2_gev2=0.0, g_p: float | None = None, g_n: float | None = None) -> np.ndarray:
    """``Q_a^2`` of physics.md section 5 (``Q = -Q_W/2`` in the SM), at ``q2_gev2``.

    Broadcasts over ``q2_gev2``.
    """
    g_p, g_n = sm_nucleon_couplings(g_p, g_n)
    a = _flavour_index(flavour)
    eps_p, eps_n = nucleon_nsi(couplings, q2_gev2)
    z, n = isotope.z, isotope.n
    row = z * eps_p[..., a, :] + n * eps_n[..., a, :]
    diagonal = z * g_p + n * g_n + row[..., a].real
    off = np.sum(np.abs(row) ** 2, axis=-1) - np.abs(row[..., a]) ** 2
    return diagonal**2 + off


def max_recoil_gev(energy_gev, mass_gev: float) -> np.ndarray:
    """Largest recoil ``T_max = 2 E^2 / (M + 2 E)`` in GeV."""
    energy = np.asarray(energy_gev, dtype=float)
    return 2.0 * energy**2 / (mass_gev + 2.0 * energy)


def kinematic_factor(energy_gev, recoil_gev, mass_gev: float) -> np.ndarray:
    """``max(0, 1 - T/E - M T / (2 E^2))``: zero beyond ``T_max``. Broadcasts."""
    energy = np.asarray(energy_gev, dtype=float)
    recoil = np.asarray(recoil_gev, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = 1.0 - recoil / energy - mass_gev * recoil / (2.0 * energy**2)
    return np.where((energy > 0) & (value > 0), value, 0.0)


def differential_cross_section(energy_gev, recoil_gev, isotope: Isotope, flavour: str,
                               couplings: Couplings = STANDARD_MODEL,
                               form_factor: str | None = "helm", radius_scale: float = 1.0,
                               g_p: float | None = None, g_n: float | None = None) -> np.ndarray:
    """``dsigma/dT`` in cm^2 / GeV for ``energy_gev`` and ``recoil_gev`` (broadcast).

    This is the direct (reference) evaluation; likelihoods use `CEvNSPredictor`.
    ``form_factor=None`` sets ``F = 1``.
    """
    mass = isotope.mass_gev
    recoil = np.asarray(recoil_gev, dtype=float)
    q2 = 2.0 * mass * recoil
    ff2 = 1.0 if form_factor is None else _form_factor(form_factor, np.sqrt(q2), isotope,
                                                       radius_scale) ** 2
    charge2 = weak_charge_squared(isotope, flavour, couplings, q2, g_p, g_n)
    prefactor = FERMI_CONSTANT_GEV2**2 * mass / np.pi * GEV2_TO_CM2
    return prefactor * kinematic_factor(energy_gev, recoil, mass) * ff2 * charge2


# --- sources and the precomputed predictor ---------------------------------------------
@dataclass(frozen=True)
class Source:
    """One neutrino species reaching the detector.

    Attributes
    ----------
    label : str
        e.g. ``"nu_mu"``; ``flavour`` decides which row of the NSI matrices it sees.
    flavour : str
        Key of `FLAVOUR_INDEX`.
    energies_gev, fluence_cm2 : arrays
        Discrete spectrum: energies and the fluence (cm^-2) carried by each node
        (a line is one node; a continuous spectrum is quadrature nodes x weights x pdf).
    """

    label: str
    flavour: str
    energies_gev: np.ndarray
    fluence_cm2: np.ndarray

    def __post_init__(self):
        _flavour_index(self.flavour)
        energies = np.atleast_1d(np.asarray(self.energies_gev, dtype=float))
        fluence = np.atleast_1d(np.asarray(self.fluence_cm2, dtype=float))
        if energies.shape != fluence.shape:
            raise ValueError(f"Source {self.label}: energies and fluence differ in shape")
        object.__setattr__(self, "energies_gev", energies)
        object.__setattr__(self, "fluence_cm2", fluence)


Response = Callable[[np.ndarray, Isotope], np.ndarray]
"""``response(recoil_gev[T], isotope) -> R[T, bins]``: probability that a recoil of
energy ``T`` is detected in each analysis bin (quenching, resolution, efficiency)."""


_ZERO3 = np.zeros((3, 3), dtype=complex)
_LAST_EPS: list = [None, None]


def _contact_eps(couplings: Couplings):
    """``(eps^u(0), eps^d(0), any NSI)``, remembered for the last ``Couplings`` object (the
    likelihoods of one point share it)."""
    if _LAST_EPS[0] is couplings:
        return _LAST_EPS[1]
    eps_u = couplings.eps0.get("u", _ZERO3)
    eps_d = couplings.eps0.get("d", _ZERO3)
    value = (eps_u, eps_d, bool(np.any(eps_u) or np.any(eps_d)))
    _LAST_EPS[0], _LAST_EPS[1] = couplings, value
    return value


def _uses_standard_propagator(couplings: Couplings) -> bool:
    cls = type(couplings)
    return cls.eps is Couplings.eps and cls.propagator_factor is Couplings.propagator_factor


class CEvNSPredictor:
    """Binned CEvNS event counts for one detector, precomputed for fast NSI evaluation.

    Parameters
    ----------
    targets : sequence of (Isotope, float)
        Isotopes and their numbers of nuclei (`globalfit.physics.nuclei.target_isotopes`).
    sources : sequence of Source
        Neutrino species, spectra and fluences.
    response : callable
        See `Response`; called once per isotope at construction.
    form_factor : str
        ``"helm"`` or ``"klein_nystrand"``.
    radius_scale : float
        Multiplies the nuclear radius of the form factor.
    recoil_points : int
        Midpoint-rule nodes on ``[0, T_max]`` for each isotope.
    cache_size : int
        How many mediator masses keep their structure kernels.
    """

    def __init__(self, targets: Sequence[tuple[Isotope, float]], sources: Sequence[Source],
                 response: Response, form_factor: str = "helm", radius_scale: float = 1.0,
                 recoil_points: int = 600, cache_size: int = 4):
        if not targets or not sources:
            raise ValueError("CEvNSPredictor needs at least one target isotope and one source")
        self.isotopes = [iso for iso, _ in targets]
        self.sources = list(sources)
        self.source_labels = [s.label for s in self.sources]
        self.z = np.array([iso.z for iso in self.isotopes], dtype=float)
        self.n = np.array([iso.n for iso in self.isotopes], dtype=float)
        self._flavours = np.array([_flavour_index(s.flavour) for s in self.sources])
        self._source_index = np.arange(len(self.sources))
        self._u_weight = 2.0 * self.z + self.n  # Z eps^p + N eps^n = (2Z+N) eps^u + (Z+2N) eps^d
        self._d_weight = self.z + 2.0 * self.n
        self._u_weight_3 = self._u_weight[:, None, None]
        self._d_weight_3 = self._d_weight[:, None, None]
        self._cache: OrderedDict = OrderedDict()
        self._cache_size = cache_size
        e_max = max(float(s.energies_gev.max()) for s in self.sources)

        kernels, q2_grid = [], []
        for isotope, count in targets:
            mass = isotope.mass_gev
            t_max = float(max_recoil_gev(e_max, mass))
            step = t_max / recoil_points
            recoil = (np.arange(recoil_points) + 0.5) * step
            q2 = 2.0 * mass * recoil
            ff2 = _form_factor(form_factor, np.sqrt(q2), isotope, radius_scale) ** 2
            folded = np.stack([
                kinematic_factor(s.energies_gev[None, :], recoil[:, None], mass) @ s.fluence_cm2
                for s in self.sources
            ])  # [source, T], cm^-2
            prefactor = count * FERMI_CONSTANT_GEV2**2 * mass / np.pi * GEV2_TO_CM2 * step
            response_matrix = np.asarray(response(recoil, isotope), dtype=float)
            if response_matrix.ndim != 2 or response_matrix.shape[0] != recoil_points:
                raise ValueError(
                    f"response must return shape (recoil_points, bins), got {response_matrix.shape}"
                )
            weight = prefactor * folded * ff2[None, :]  # [source, T]
            kernels.append(weight[:, :, None] * response_matrix[None, :, :])
            q2_grid.append(q2)
        self.kernel = np.stack(kernels)  # [isotope, source, T, bin]
        self.q2_gev2 = np.stack(q2_grid)  # [isotope, T]
        self.n_bins = self.kernel.shape[-1]
        self._contact = self.kernel.sum(axis=2)  # [isotope, source, bin]
        self._contact_stack = np.stack([self._contact] * 3)

    # --- structure kernels ------------------------------------------------------------
    def structure_kernels(self, mzp_gev: float | None) -> np.ndarray:
        """``K[j, isotope, source, bin] = sum_T W P^j``, ``P = m^2/(m^2 + 2 M T)``."""
        if mzp_gev is None:
            return self._contact_stack
        key = float(mzp_gev)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        m2 = key * key
        prop = m2 / (m2 + self.q2_gev2)  # [isotope, T]
        k1 = np.einsum("istb,it->isb", self.kernel, prop)
        k2 = np.einsum("istb,it->isb", self.kernel, prop * prop)
        value = np.stack([self._contact, k1, k2])
        self._cache[key] = value
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return value

    def charge_coefficients(self, couplings: Couplings, g_p: float | None = None,
                            g_n: float | None = None) -> np.ndarray:
        """``c[j, isotope, source]``: ``Q_SM^2``, ``2 Q_SM A``, ``A^2 + B`` at ``Q^2 = 0``.

        ``A = Z eps^p_aa + N eps^n_aa``, ``B = sum_{b != a} |Z eps^p_ab + N eps^n_ab|^2``;
        ``A^2 + B`` is the squared norm of the row ``a`` of ``Z eps^p + N eps^n``.
        """
        g_p, g_n = sm_nucleon_couplings(g_p, g_n)
        eps_u, eps_d, _ = _contact_eps(couplings)
        rows = (self._u_weight_3 * eps_u[self._flavours]
                + self._d_weight_3 * eps_d[self._flavours])  # [iso, src, 3]
        out = np.empty((3,) + rows.shape[:2])
        q_sm = (self.z * g_p + self.n * g_n)[:, None]
        out[0] = q_sm * q_sm
        np.multiply(2.0 * q_sm, rows.real[:, self._source_index, self._flavours], out=out[1])
        absq = rows.real * rows.real + rows.imag * rows.imag
        np.sum(absq, axis=-1, out=out[2])
        return out

    def rates(self, couplings: Couplings = STANDARD_MODEL, g_p: float | None = None,
              g_n: float | None = None) -> np.ndarray:
        """Expected events ``[source, bin]`` (fast path; generic couplings fall back to
        `rates_on_grid`)."""
        return rates_of_predictors([self], couplings, g_p, g_n)[0]

    def rates_on_grid(self, couplings: Couplings = STANDARD_MODEL, g_p: float | None = None,
                      g_n: float | None = None) -> np.ndarray:
        """Expected events ``[source, bin]`` calling ``couplings.eps(f, q2)`` at every
        recoil node (reference path; works for any ``Couplings`` subclass)."""
        g_p, g_n = sm_nucleon_couplings(g_p, g_n)
        eps_p, eps_n = nucleon_nsi(couplings, self.q2_gev2)  # [iso, T, 3, 3]
        out = np.zeros((len(self.sources), self.n_bins))
        for s, a in enumerate(self._flavours):
            rows = (self.z[:, None, None] * eps_p[:, :, a, :]
                    + self.n[:, None, None] * eps_n[:, :, a, :])  # [iso, T, 3]
            diag = (self.z * g_p + self.n * g_n)[:, None] + rows[..., a].real
            off = np.sum(np.abs(rows) ** 2, axis=-1) - np.abs(rows[..., a]) ** 2
            charge2 = diag**2 + off  # [iso, T]
            out[s] = np.einsum("it,itb->b", charge2, self.kernel[:, s])
        return out


def rates_of_predictors(predictors: Sequence[CEvNSPredictor], couplings: Couplings = STANDARD_MODEL,
                        g_p: float | None = None, g_n: float | None = None) -> list[np.ndarray]:
    """`CEvNSPredictor.rates` of several predictors of the same targets and sources (e.g. a
    detector's nominal response and its +-1 sigma variants), with the coupling-dependent
    coefficients formed once."""
    g_p, g_n = sm_nucleon_couplings(g_p, g_n)
    first = predictors[0]
    if not _uses_standard_propagator(couplings):
        return [p.rates_on_grid(couplings, g_p, g_n) for p in predictors]
    if not _contact_eps(couplings)[2]:
        q_sm2 = (first.z * g_p + first.n * g_n) ** 2
        return [np.einsum("i,isb->sb", q_sm2, p._contact) for p in predictors]
    for p in predictors[1:]:
        if not (np.array_equal(p.z, first.z) and np.array_equal(p.n, first.n)
                and np.array_equal(p._flavours, first._flavours)):
            raise ValueError("rates_of_predictors: the predictors differ in targets or sources")
    coeff = first.charge_coefficients(couplings, g_p, g_n)
    return [np.einsum("jis,jisb->sb", coeff, p.structure_kernels(couplings.mzp_gev))
            for p in predictors]
