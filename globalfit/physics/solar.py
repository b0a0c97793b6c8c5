"""Solar-neutrino survival probability with NSI in the effective two-state picture.

After the third mass state decouples (``Dm31 L / E >> 1``, ``V << Dm31 / E``),

    P_ee = c13^4 P_eff + s13^4,

with ``P_eff`` from the traceless two-state Hamiltonian (physics.md section 2;
Gonzalez-Garcia & Maltoni, Phys. Rept. 460 (2008) 1; Esteban et al., JHEP 08 (2018) 180)

    H_eff = [[-A, B], [conj(B), A]]
    A = (Dm21 / 4E) cos 2th12 - c13^2 V_CC / 2 + V_f eps_D
    B = (Dm21 / 4E) sin 2th12 + V_f eps_N,        V_f = V_CC N_f / N_e.

``N_f / N_e`` is 1 for electrons, ``2 + Y_n`` for up quarks and ``1 + 2 Y_n`` for down
quarks (``Y_n = N_n / N_e``). For antineutrinos ``H -> conj(H_vac - H_mat)``.

What this module offers
-----------------------
* `SolarOscillation`: oscillation parameters and ``eps_D``, ``eps_N`` per electron and per
  neutron (built for one fermion or from 3x3 matrices with `effective_nsi`);
* `p_eff_adiabatic`: day-time ``P_eff`` at given production densities (adiabatic, phases
  averaged); `day_p_ee` averages it over a source's production region;
* `layered_amplitudes`: exact 2x2 evolution through constant-density layers (vectorised);
  `p_eff_numerical` uses it for a fine-step evolution from the production point through the
  solar profile (the validation of the adiabatic result);
* `p_eff_constant_density`: 2x2 survival probability at constant density (KamLAND);
* `p2e_earth`, `night_p_eff`: Earth regeneration of ``nu_2`` and the night probability
  ``P_N = P_D + (1 - 2 P_D)(P_2e - s12^2) / cos 2th12``; `NightRegeneration`: exact,
  exposure-averaged ``P_2e`` (the reference for the fast kernels of
  `globalfit.physics.earth_regeneration`).

Energies are in MeV here (``energy_mev``), potentials in eV, lengths in km.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np

from globalfit.physics.constants import KM_IN_PER_GEV, MATTER_POTENTIAL_EV_PER_GCC

KM_TIMES_EV = KM_IN_PER_GEV * 1.0e-9
"""Multiply ``energy[eV] * length[km]`` by this for a dimensionless phase (5.068e9)."""

FERMIONS = ("e", "u", "d")
PARAMETERS = ("th12", "th13", "th23", "dcp", "dm21")
DAY_NODES = 256
"""Equal-weight production nodes per source in `SolarSurvival` (quantile midpoints). Where the
MSW resonance sits inside the production region P_eff(r) is steep and the midpoint rule
converges as 1/n: 256 nodes keep the day P_ee within 1e-3 of the full B16 grid over a
500-point LMA / LMA-Dark sample (24 nodes: 9e-3; tests/test_solar_model_agreement.py)."""
"""The oscillation parameters of `SolarOscillation.from_parameters`, in its argument order."""


@dataclass(frozen=True)
class SolarOscillation:
    """The parameters of the solar two-state problem.

    NSI enter through ``sum_f V_f eps_X^f = V_CC (eps_X^{pe} + Y_n eps_X^{n})`` for
    ``X = D, N``, with the per-electron (proton + electron) and per-neutron combinations
    ``eps^{pe} = eps^e + 2 eps^u + eps^d`` and ``eps^{n} = eps^u + 2 eps^d``
    (``N_u = 2 N_p + N_n``, ``N_d = N_p + 2 N_n``, ``N_p = N_e``).

    Attributes
    ----------
    th12, th13 : float
        Mixing angles in radians.
    dm21_ev2 : float
        ``Dm21`` in eV^2.
    eps_d_pe, eps_d_n : float
        ``eps_D`` per electron (with its proton) and per neutron.
    eps_n_pe, eps_n_n : complex
        ``eps_N`` per electron and per neutron.
    th23, dcp : float or None
        Radians. Not needed for ``P_ee``; the ``nu_mu`` / ``nu_tau`` split at Earth
        (`globalfit.physics.solar_flavour`) needs them. Set by `from_matrices` and
        `from_parameters`.
    """

    th12: float
    th13: float
    dm21_ev2: float
    eps_d_pe: float = 0.0
    eps_d_n: float = 0.0
    eps_n_pe: complex = 0.0
    eps_n_n: complex = 0.0
    th23: float | None = None
    dcp: float | None = None

    def __post_init__(self):
        if not self.dm21_ev2 > 0:
            raise ValueError(f"dm21_ev2: must be > 0, got {self.dm21_ev2}")

    @classmethod
    def with_fermion(cls, th12: float, th13: float, dm21_ev2: float, eps_d: float = 0.0,
                     eps_n: complex = 0.0, fermion: str = "u") -> SolarOscillation:
        """NSI ``eps_D``, ``eps_N`` with a single fermion ``f`` in ``("e", "u", "d")``."""
        weights = {"e": (1.0, 0.0), "u": (2.0, 1.0), "d": (1.0, 2.0)}
        if fermion not in weights:
            raise ValueError(f"fermion: {fermion!r} not allowed; choose from {FERMIONS}")
        w_pe, w_n = weights[fermion]
        return cls(th12, th13, dm21_ev2, w_pe * eps_d, w_n * eps_d, w_pe * eps_n, w_n * eps_n)

    @classmethod
    def from_matrices(cls, th12: float, th13: float, th23: float, dcp: float, dm21_ev2: float,
                      eps_by_fermion) -> SolarOscillation:
        """From the 3x3 NSI matrices ``{f: eps^f}`` (physics.md section 2 projection)."""
        d_pe = d_n = 0.0
        n_pe = n_n = 0.0j
        for fermion, (w_pe, w_n) in {"e": (1.0, 0.0), "u": (2.0, 1.0), "d": (1.0, 2.0)}.items():
            if fermion not in eps_by_fermion:
                continue
            eps_d, eps_n = effective_nsi(eps_by_fermion[fermion], th13, th23, dcp)
            d_pe, d_n = d_pe + w_pe * eps_d, d_n + w_n * eps_d
            n_pe, n_n = n_pe + w_pe * eps_n, n_n + w_n * eps_n
        return cls(th12, th13, dm21_ev2, d_pe, d_n, n_pe, n_n, float(th23), float(dcp))

    @classmethod
    def from_parameters(cls, params: Mapping[str, float], eps_by_fermion: Mapping | None = None,
                        reader: str = "the solar two-state problem") -> SolarOscillation:
        """From a point's parameters (radians, eV^2; every name of `PARAMETERS` required) and
        its NSI matrices ``{f: eps^f}``.

        Raises
        ------
        KeyError
            Naming the missing parameter(s) and ``reader``: there is no default.
        """
        missing = [name for name in PARAMETERS if name not in params]
        if missing:
            raise KeyError(f"{reader} needs the oscillation parameter(s) {missing}, which this point does not "
                           f"set; give them in the run card's parameters: (e.g. th23: {{value: 42.2, unit: deg}})")
        return cls.from_matrices(*(float(params[name]) for name in PARAMETERS), eps_by_fermion or {})


@dataclass(frozen=True)
class SolarOscillationArrays:
    """The fields of several `SolarOscillation` stacked as columns of shape (n_points, 1), so
    that they broadcast against per-energy arrays (n_points, n_energies): the batched form
    read by `DayPlan.p_eff_batch`, the Earth kernels and KamLAND (same names and units)."""

    th12: np.ndarray
    th13: np.ndarray
    dm21_ev2: np.ndarray
    eps_d_pe: np.ndarray
    eps_d_n: np.ndarray
    eps_n_pe: np.ndarray
    eps_n_n: np.ndarray

    @classmethod
    def stack(cls, oscs) -> SolarOscillationArrays:
        """Columns of the points ``oscs`` (a sequence of `SolarOscillation`)."""
        real = np.array([(o.th12, o.th13, o.dm21_ev2, o.eps_d_pe, o.eps_d_n) for o in oscs], float).reshape(-1, 5)
        nsi_n = np.array([(o.eps_n_pe, o.eps_n_n) for o in oscs], complex).reshape(-1, 2)
        return cls(*(real[:, i:i + 1] for i in range(5)), nsi_n[:, 0:1], nsi_n[:, 1:2])

    def __len__(self) -> int:
        return len(self.th12)

    def take(self, rows) -> SolarOscillationArrays:
        """The points selected by ``rows`` (indices or a boolean mask)."""
        return type(self)(*(getattr(self, f.name)[rows] for f in fields(self)))


def effective_nsi(eps, th13: float, th23: float, dcp: float) -> tuple[float, complex]:
    """``(eps_D, eps_N)`` of a 3x3 NSI matrix (Gonzalez-Garcia & Maltoni 2013; physics.md 2)."""
    e = np.asarray(eps, dtype=complex)
    if e.shape != (3, 3):
        raise ValueError(f"eps: expected a 3x3 matrix, got shape {e.shape}")
    s13, c13 = np.sin(th13), np.cos(th13)
    s23, c23 = np.sin(th23), np.cos(th23)
    ee_mm = (e[0, 0] - e[1, 1]).real
    tt_mm = (e[2, 2] - e[1, 1]).real
    eps_d = (c13 * s13 * np.real(np.exp(1j * dcp) * (s23 * e[0, 1] + c23 * e[0, 2]))
             - (1 + s13**2) * c23 * s23 * e[1, 2].real
             - 0.5 * c13**2 * ee_mm
             + 0.5 * (s23**2 - s13**2 * c23**2) * tt_mm)
    eps_n = (c13 * (c23 * e[0, 1] - s23 * e[0, 2])
             + s13 * np.exp(-1j * dcp) * (s23**2 * e[1, 2] - c23**2 * np.conj(e[1, 2])
                                          + c23 * s23 * tt_mm))
    return float(eps_d), complex(eps_n)


def fermion_to_electron_ratio(fermion: str, neutron_fraction) -> np.ndarray:
    """``N_f / N_e`` in neutral matter with ``Y_n = N_n / N_e``."""
    y_n = np.asarray(neutron_fraction, float)
    if fermion == "e":
        return np.ones_like(y_n)
    if fermion == "u":
        return 2.0 + y_n
    if fermion == "d":
        return 1.0 + 2.0 * y_n
    raise ValueError(f"fermion: {fermion!r} not allowed; choose from {FERMIONS}")


def charged_current_potential_ev(electron_density_na) -> np.ndarray:
    """``V_CC = sqrt(2) G_F n_e`` in eV for ``n_e / N_A`` in cm^-3 (7.63e-14 eV per unit)."""
    return MATTER_POTENTIAL_EV_PER_GCC * np.asarray(electron_density_na, float)


def hamiltonian_terms(energy_mev, v_cc_ev, neutron_fraction, osc: SolarOscillation, antineutrino=False):
    """``(A, B)`` of ``H_eff`` in eV (broadcast over energy, ``V_CC`` and ``Y_n``)."""
    energy_ev = np.asarray(energy_mev, float) * 1.0e6
    k = osc.dm21_ev2 / (4.0 * energy_ev)
    v_cc = np.asarray(v_cc_ev, float)
    y_n = np.asarray(neutron_fraction, float)
    c13sq = np.cos(osc.th13) ** 2
    sign = -1.0 if antineutrino else 1.0
    nsi_d = v_cc * (osc.eps_d_pe + y_n * osc.eps_d_n)
    nsi_n = v_cc * (osc.eps_n_pe + y_n * osc.eps_n_n)
    a = k * np.cos(2 * osc.th12) + sign * (-0.5 * c13sq * v_cc + nsi_d)
    b = k * np.sin(2 * osc.th12) + sign * nsi_n
    if antineutrino:
        b = np.conj(b)
    return a, np.asarray(b, dtype=complex)


def p_eff_adiabatic(energy_mev, v_cc_ev, neutron_fraction, osc: SolarOscillation) -> np.ndarray:
    """Day-time adiabatic ``P_eff = (1 + cos 2th_m cos 2th12) / 2`` at the production point."""
    a, b = hamiltonian_terms(energy_mev, v_cc_ev, neutron_fraction, osc)
    cos2m = a / np.sqrt(a**2 + np.abs(b) ** 2)
    return 0.5 * (1.0 + cos2m * np.cos(2 * osc.th12))


def p_ee_from_p_eff(p_eff, th13: float) -> np.ndarray:
    """Three-flavour ``P_ee = c13^4 P_eff + s13^4``."""
    return np.cos(th13) ** 4 * np.asarray(p_eff) + np.sin(th13) ** 4


def day_p_eff(energy_mev, radius_grid, production_weights, electron_density_na, neutron_fraction,
              osc: SolarOscillation) -> np.ndarray:
    """Adiabatic ``P_eff`` averaged over a production distribution.

    Parameters
    ----------
    energy_mev : array_like, shape (n_e,)
    radius_grid : array, shape (n_r,)
        Radii ``r / R_sun`` (only used for documentation of the weights).
    production_weights : array, shape (n_r,)
        Normalised weights (sum to 1) of the production distribution on `radius_grid`.
    electron_density_na, neutron_fraction : arrays, shape (n_r,)
        ``n_e / N_A`` (cm^-3) and ``Y_n`` on the same grid.

    Returns
    -------
    numpy.ndarray, shape (n_e,)
    """
    v_cc = charged_current_potential_ev(electron_density_na)
    p = p_eff_adiabatic(np.asarray(energy_mev, float)[..., None], v_cc, neutron_fraction, osc)
    return p @ np.asarray(production_weights, float)


# --- exact evolution through constant-density layers ----------------------------------
def layered_amplitudes(energy_mev, lengths_km, v_cc_ev, neutron_fraction, osc: SolarOscillation,
                       initial_state, antineutrino=False) -> np.ndarray:
    """Evolve a two-component state through layers of constant density.

    Each layer's evolution is ``exp(-i H L) = cos(w L) - i sin(w L) H / w``,
    ``w = sqrt(A^2 + |B|^2)``: exact for piecewise-constant density.

    Parameters
    ----------
    energy_mev : array, shape (n,)
    lengths_km, v_cc_ev, neutron_fraction : arrays, shape (n_layers,) or (n, n_layers)
        Layers in the order crossed.
    initial_state : array, shape (2,) or (n, 2)
        Amplitudes in the effective flavour basis ``(nu_e', nu_x')``.

    Returns
    -------
    numpy.ndarray, shape (n, 2): final amplitudes.
    """
    energy = np.atleast_1d(np.asarray(energy_mev, float))
    lengths = np.broadcast_to(np.asarray(lengths_km, float), energy.shape + np.shape(lengths_km)[-1:])
    v_cc = np.broadcast_to(np.asarray(v_cc_ev, float), lengths.shape)
    y_n = np.broadcast_to(np.asarray(neutron_fraction, float), lengths.shape)
    a, b = hamiltonian_terms(energy[:, None], v_cc, y_n, osc, antineutrino)
    w = np.sqrt(a**2 + np.abs(b) ** 2)
    phase = w * lengths * KM_TIMES_EV
    cos_p, sin_over_w = np.cos(phase), np.sin(phase) / w
    # exp(-i H phase / w) = [[u, v], [-conj(v), conj(u)]] (SU(2)): u = cos + i a sin/w, v = -i b sin/w
    u, v = _ordered_su2_product(cos_p + 1j * sin_over_w * a, -1j * sin_over_w * b)
    state = np.broadcast_to(np.asarray(initial_state, complex), energy.shape + (2,))
    up = u * state[:, 0] + v * state[:, 1]
    down = -np.conj(v) * state[:, 0] + np.conj(u) * state[:, 1]
    return np.stack([up, down], axis=-1)


def _ordered_su2_product(u: np.ndarray, v: np.ndarray):
    """``U_L ... U_1`` for SU(2) matrices ``[[u, v], [-conj(v), conj(u)]]`` stored along the
    last axis, by pairwise (tree) reduction: log2(L) vectorised steps instead of L."""
    while u.shape[-1] > 1:
        if u.shape[-1] % 2:
            u = np.concatenate([u, np.ones(u.shape[:-1] + (1,), complex)], axis=-1)
            v = np.concatenate([v, np.zeros(v.shape[:-1] + (1,), complex)], axis=-1)
        u1, v1, u2, v2 = u[..., 0::2], v[..., 0::2], u[..., 1::2], v[..., 1::2]
        u, v = u2 * u1 - v2 * np.conj(v1), u2 * v1 + v2 * np.conj(u1)
    return u[..., 0], v[..., 0]


def p_eff_constant_density(energy_mev, length_km, v_cc_ev, neutron_fraction, osc: SolarOscillation,
                           antineutrino=False) -> np.ndarray:
    """``P(nu_e' -> nu_e')`` of the two-state system at constant density (broadcasts).

    ``1 - |B|^2 / w^2 sin^2(w L)``, ``w = sqrt(A^2 + |B|^2)``.
    """
    a, b = hamiltonian_terms(energy_mev, v_cc_ev, neutron_fraction, osc, antineutrino)
    w2 = a**2 + np.abs(b) ** 2
    phase = np.sqrt(w2) * np.asarray(length_km, float) * KM_TIMES_EV
    return 1.0 - np.abs(b) ** 2 / w2 * np.sin(phase) ** 2


def vacuum_mass_states(th12: float) -> np.ndarray:
    """Rows: ``nu_1``, ``nu_2`` in the effective flavour basis ``(nu_e', nu_x')``."""
    s, c = np.sin(th12), np.cos(th12)
    return np.array([[c, -s], [s, c]], dtype=complex)


def p_eff_numerical(energy_mev, production_radius, electron_density_fn, neutron_fraction_fn,
                    osc: SolarOscillation, steps: int = 60000, radius_max: float = 1.0,
                    seed: int = 12345) -> np.ndarray:
    """``P_eff`` from a numerical evolution through the solar profile.

    A ``nu_e'`` produced at ``production_radius`` (units of R_sun) travels radially out to
    ``radius_max`` through `steps` constant-density slices, each evolved exactly
    (`layered_amplitudes`) with its Simpson-averaged density. Slice lengths are jittered
    (uniform in 0.5-1.5 of the mean, fixed `seed`) so that the small density jumps between
    slices do not add up coherently (equal steps alias with the oscillation phase); the
    result converges to the continuous-profile evolution as ``1/steps`` (checked in the tests).
    At the surface the state is projected on the vacuum mass states; their interference is
    dropped (it averages out over the production region and the Earth-Sun distance):
    ``P_eff = sum_i |<nu_e'|nu_i>|^2 |<nu_i|psi>|^2``.
    """
    from globalfit.physics.constants import SOLAR_RADIUS_KM

    if not 0.0 <= production_radius < radius_max:
        raise ValueError(f"production_radius: must be in [0, {radius_max}), got {production_radius}")
    jitter = np.random.default_rng(seed).uniform(0.5, 1.5, steps)
    edges = production_radius + (radius_max - production_radius) * np.concatenate(
        [[0.0], np.cumsum(jitter) / jitter.sum()])
    low, high = edges[:-1], edges[1:]
    mid = 0.5 * (low + high)
    density = (electron_density_fn(low) + 4.0 * electron_density_fn(mid) + electron_density_fn(high)) / 6.0
    v_cc = charged_current_potential_ev(density)
    state = layered_amplitudes(energy_mev, np.diff(edges) * SOLAR_RADIUS_KM, v_cc, neutron_fraction_fn(mid), osc,
                               np.array([1.0, 0.0]))
    mass = vacuum_mass_states(osc.th12)
    overlap = np.abs(state @ mass.conj().T) ** 2
    return overlap @ (np.abs(mass[:, 0]) ** 2)


# --- Earth regeneration ------------------------------------------------------------------
def p2e_earth(energy_mev, lengths_km, electron_density_na, neutron_fraction, osc: SolarOscillation) -> np.ndarray:
    """Probability that ``nu_2`` arriving at the Earth is detected as ``nu_e'``.

    ``lengths_km``, ``electron_density_na`` and ``neutron_fraction`` describe the path as
    constant-density layers (shape (n_layers,)).
    """
    v_cc = charged_current_potential_ev(electron_density_na)
    state = layered_amplitudes(energy_mev, lengths_km, v_cc, neutron_fraction, osc, vacuum_mass_states(osc.th12)[1])
    return np.abs(state[:, 0]) ** 2


def night_p_eff(p_eff_day, p2e, th12: float) -> np.ndarray:
    """``P_N = P_D + (1 - 2 P_D)(P_2e - s12^2) / cos 2th12`` (physics.md section 2).

    Valid for ``cos 2th12 != 0``; both LMA and LMA-Dark are far from maximal mixing.
    """
    return p_eff_day + (1.0 - 2.0 * p_eff_day) * (p2e - np.sin(th12) ** 2) / np.cos(2.0 * th12)


# --- day/night exposure of a detector ----------------------------------------------------
EARTH_AXIAL_TILT_RAD = np.radians(23.44)


def nadir_exposure(latitude_deg: float, n_bins: int = 10, n_samples: int = 200_000):
    """Night-time exposure of a detector versus ``cos(nadir)``, from its latitude.

    The Sun's direction is sampled uniformly in time over a year (hour angle uniform,
    declination ``delta = 23.44 deg sin(2 pi t / yr)``; the orbit's eccentricity and the
    detector's live-time pattern are neglected). When the Sun is below the horizon the
    neutrino's nadir angle satisfies ``cos(eta) = -cos(zenith)``.

    Returns
    -------
    cos_nadir : array (n_bins,)
        Bin centres of ``cos(eta)`` in (0, 1].
    weight : array (n_bins,)
        Fraction of the *night* time in each bin (sums to 1).
    night_fraction : float
        Fraction of the year the Sun is below the horizon (about 0.5).
    """
    if not -90.0 <= latitude_deg <= 90.0:
        raise ValueError(f"latitude_deg: must be within [-90, 90], got {latitude_deg}")
    t = (np.arange(n_samples) + 0.5) / n_samples
    hour_angle = 2 * np.pi * ((t * 365.25) % 1.0)
    declination = EARTH_AXIAL_TILT_RAD * np.sin(2 * np.pi * t)
    lat = np.radians(latitude_deg)
    cos_zenith = np.sin(lat) * np.sin(declination) + np.cos(lat) * np.cos(declination) * np.cos(hour_angle)
    night = cos_zenith < 0
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    counts, _ = np.histogram(-cos_zenith[night], bins=edges)
    keep = counts > 0
    centres = 0.5 * (edges[1:] + edges[:-1])
    return centres[keep], counts[keep] / counts.sum(), float(night.mean())


class NightRegeneration:
    """Exposure-averaged ``P_2e`` for several detectors sharing one set of Earth paths.

    ``n_bins`` equal bins in ``cos(nadir)`` over (0, 1]; each detector weights the bins with
    its `nadir_exposure` (from its latitude). One vectorised evolution per point serves all
    detectors.
    """

    def __init__(self, latitudes_deg: dict, n_bins: int = 12, max_step_km: float = 500.0):
        from globalfit.physics.matter import earth_layers

        edges = np.linspace(0.0, 1.0, n_bins + 1)
        self.cos_nadir = 0.5 * (edges[1:] + edges[:-1])
        self.weights = {}
        for name, latitude in latitudes_deg.items():
            cos_nadir, weight, _ = nadir_exposure(latitude, n_bins)
            full = np.zeros(n_bins)
            full[np.searchsorted(self.cos_nadir, cos_nadir - 1e-12)] = weight
            self.weights[name] = full
        used = np.any(np.array(list(self.weights.values())) > 0, axis=0)
        self.cos_nadir = self.cos_nadir[used]
        self.weights = {k: v[used] for k, v in self.weights.items()}
        paths = [earth_layers(float(np.arccos(c)), max_step_km=max_step_km) for c in self.cos_nadir]
        n_max = max(len(p) for p in paths)
        self.lengths_km = np.zeros((len(paths), n_max))
        density = np.zeros((len(paths), n_max))
        y_e = np.full((len(paths), n_max), 0.5)
        for i, path in enumerate(paths):
            arr = np.array(path)
            self.lengths_km[i, : len(arr)], density[i, : len(arr)], y_e[i, : len(arr)] = arr.T
        self.electron_density_na = density * y_e
        self.neutron_fraction = (1.0 - y_e) / y_e

    def amplitudes_per_path(self, energy_mev, osc: SolarOscillation) -> np.ndarray:
        """Amplitudes ``(nu_e', nu_x')`` at the detector of a ``nu_2`` entering the Earth, for
        every path and energy, shape (n_paths, n_energies, 2)."""
        energy = np.atleast_1d(np.asarray(energy_mev, float))
        n_paths = len(self.cos_nadir)
        per_path = lambda a: np.repeat(a, len(energy), axis=0)  # noqa: E731
        v_cc = charged_current_potential_ev(per_path(self.electron_density_na))
        state = layered_amplitudes(np.tile(energy, n_paths), per_path(self.lengths_km), v_cc,
                                   per_path(self.neutron_fraction), osc, vacuum_mass_states(osc.th12)[1])
        return state.reshape(n_paths, len(energy), 2)

    def p2e_per_path(self, energy_mev, osc: SolarOscillation) -> np.ndarray:
        """``P_2e`` for every path and energy, shape (n_paths, n_energies)."""
        return np.abs(self.amplitudes_per_path(energy_mev, osc)[..., 0]) ** 2

    def mean_p2e(self, energy_mev, osc: SolarOscillation) -> dict:
        """Detector name -> exposure-averaged ``P_2e(E)``."""
        per_path = self.p2e_per_path(energy_mev, osc)
        return {name: weight @ per_path for name, weight in self.weights.items()}

    def mean_coherence(self, energy_mev, osc: SolarOscillation) -> dict:
        """Detector name -> exposure-averaged ``(|c_1|^2, c_1 conj(c_2))``: the ``nu_1``,
        ``nu_2`` amplitudes at the detector of a ``nu_2`` entering the Earth (the exact
        counterpart of `globalfit.physics.earth_regeneration.EarthRegeneration.coherence`)."""
        state = self.amplitudes_per_path(energy_mev, osc)
        mass = vacuum_mass_states(osc.th12)
        c1 = state @ mass[0].conj()
        c2 = state @ mass[1].conj()
        return {name: (weight @ np.abs(c1) ** 2, weight @ (c1 * np.conj(c2)))
                for name, weight in self.weights.items()}


# --- production-averaged survival probabilities -----------------------------------------
class SolarSurvival:
    """Day-time ``P_eff`` per solar source, averaged over its production region.

    For each source of a `globalfit.physics.solar_model.SolarModel` the production
    distribution is represented by ``n_nodes`` equal-weight nodes at the midpoints of equal
    probability slices (quantiles ``(i + 1/2) / n_nodes`` of the cumulative distribution);
    ``n_nodes = None`` keeps every grid point with its weight. `day_p_eff(source, energy_mev,
    osc)` is then one vectorised evaluation of the adiabatic formula. With `DAY_NODES` (256)
    nodes the result differs from the full grid by < 1e-4 at the LMA and LMA-Dark best fits
    and < 1e-3 over a 500-point sample of both regions (tests).
    """

    def __init__(self, solar_model, n_nodes: int | None = DAY_NODES):
        self.model = solar_model
        self._grids = {}
        for source in solar_model.production:
            density, y_n, weights = solar_model.weighted(source)
            if n_nodes is not None:
                production = solar_model.production[source]
                radius = solar_model.radius[production > 1e-7 * production.max()]
                cumulative = np.cumsum(weights) - 0.5 * weights
                nodes = np.interp((np.arange(n_nodes) + 0.5) / n_nodes, cumulative, radius)
                density = np.interp(nodes, radius, density)
                y_n = np.interp(nodes, radius, y_n)
                weights = np.full(n_nodes, 1.0 / n_nodes)
            self._grids[source] = (density, y_n, weights)

    def day_p_eff(self, source: str, energy_mev, osc: SolarOscillation) -> np.ndarray:
        """Adiabatic day ``P_eff`` of ``source`` at ``energy_mev`` (production-averaged)."""
        if source not in self._grids:
            raise ValueError(f"source: {source!r} not in the solar model; choose from {tuple(self._grids)}")
        density, y_n, weights = self._grids[source]
        v_cc = charged_current_potential_ev(density)
        p = p_eff_adiabatic(np.asarray(energy_mev, float)[..., None], v_cc, y_n, osc)
        return p @ weights

    def plan(self, requests: dict) -> DayPlan:
        """A `DayPlan` for ``{key: (source, energies_mev)}``: all of them in one evaluation."""
        for source, _ in requests.values():
            if source not in self._grids:
                raise ValueError(f"source: {source!r} not in the solar model; choose from {tuple(self._grids)}")
        return DayPlan({key: (self._grids[source], np.atleast_1d(np.asarray(energy, float)))
                        for key, (source, energy) in requests.items()})

    def numerical_p_eff(self, source: str, energy_mev, osc: SolarOscillation, steps: int = 60000,
                        n_radii: int = 12) -> np.ndarray:
        """Production-averaged ``P_eff`` from numerical evolution (`p_eff_numerical`) from
        ``n_radii`` production radii (quantiles of the distribution)."""
        density_fn = self.model.electron_density_function()
        radius = self.model.radius
        weights = self.model.production[source]
        cumulative = np.cumsum(weights) / weights.sum()
        quantiles = (np.arange(n_radii) + 0.5) / n_radii
        radii = np.interp(quantiles, cumulative, radius)
        y_n_fn = lambda x: np.interp(x, radius, self.model.neutron_fraction)  # noqa: E731
        values = [p_eff_numerical(energy_mev, r, density_fn, y_n_fn, osc, steps=steps) for r in radii]
        return np.mean(values, axis=0)


CACHE_BLOCK_ELEMENTS = 32768
"""`DayPlan.p_eff_batch` evaluates about this many (point, energy, node) values at a time."""


class DayPlan:
    """Production-averaged day ``P_eff`` for a fixed set of (source, energies) requests.

    The adiabatic formula (that of `p_eff_adiabatic`, in real arithmetic) splits into an energy
    part, ``(Dm21 / 4E) (cos 2th12, sin 2th12)``, and a production-node part, ``V_CC`` times the
    matter and NSI terms; a point costs both parts on their own grids, their outer sum on the
    (energy, node) grid of each source (requests of one source share it) and one weighted sum
    over the nodes (a matrix-vector product). Built by `SolarSurvival.plan`.
    """

    def __init__(self, requests: dict):
        self.keys = tuple(requests)
        by_grid: dict[int, list] = {}
        for key, (grid, energies) in requests.items():
            by_grid.setdefault(id(grid), [grid, []])[1].append((key, np.atleast_1d(np.asarray(energies, float))))
        self.groups = []
        """Per production grid: ``(keys, splits, 1 / E in 1/eV, V_CC in eV, Y_n, weights)``."""
        for (density, y_n, weights), members in by_grid.values():
            energy = np.concatenate([e for _, e in members])
            self.groups.append(([k for k, _ in members], np.cumsum([len(e) for _, e in members])[:-1],
                                1.0 / (1.0e6 * energy), charged_current_potential_ev(density),
                                np.asarray(y_n, float), np.asarray(weights, float)))

    def p_eff(self, osc: SolarOscillation) -> dict:
        """Key -> day ``P_eff`` at the request's energies."""
        return {key: value[0] for key, value in self.p_eff_batch(SolarOscillationArrays.stack([osc])).items()}

    def p_eff_batch(self, osc: SolarOscillationArrays) -> dict:
        """Key -> day ``P_eff`` at the request's energies for every point of ``osc``, shape
        (n_points, n_energies)."""
        c2, s2 = np.cos(2 * osc.th12), np.sin(2 * osc.th12)
        out = {}
        for keys, splits, inverse_energy_ev, v_cc, y_n, weights in self.groups:
            k = 0.25 * osc.dm21_ev2 * inverse_energy_ev                                   # (points, energies)
            matter_a = v_cc * (osc.eps_d_pe - 0.5 * np.cos(osc.th13) ** 2 + y_n * osc.eps_d_n)   # (points, nodes)
            matter_b_re = v_cc * (osc.eps_n_pe.real + y_n * osc.eps_n_n.real)
            matter_b_im_squared = (v_cc * (osc.eps_n_pe.imag + y_n * osc.eps_n_n.imag)) ** 2
            cos_2theta_m = np.empty_like(k)
            # a few points at a time, so that the (points, energies, nodes) arrays stay in cache
            step = max(1, CACHE_BLOCK_ELEMENTS // (k.shape[1] * len(v_cc)))
            for first in range(0, len(k), step):
                rows = slice(first, first + step)
                a = (k[rows] * c2[rows])[:, :, None] + matter_a[rows, None, :]           # (points, energies, nodes)
                b_re = (k[rows] * s2[rows])[:, :, None] + matter_b_re[rows, None, :]
                denominator = a * a
                b_re *= b_re
                denominator += b_re
                denominator += matter_b_im_squared[rows, None, :]
                np.sqrt(denominator, out=denominator)
                np.divide(a, denominator, out=a)
                cos_2theta_m[rows] = a @ weights
            p = 0.5 * weights.sum() + (0.5 * c2) * cos_2theta_m
            out.update(zip(keys, np.split(p, splits, axis=1)))
        return {key: out[key] for key in self.keys}
