"""Forward-model pieces shared by accelerator long-baseline experiments (T2K, NOvA, DUNE).

The event rate of a far-detector sample in reconstructed-energy bin ``j`` is (physics.md section 4)

    N_j = k * sum_i phi(E_i) sigma(E_i) dE_i P(E_i) R_ij

with ``phi`` a flux shape, ``sigma`` a charged-current cross section per nucleon, ``P`` the oscillation
probability of the channel, ``R_ij`` a Gaussian energy-smearing matrix and ``k`` a normalisation that
absorbs exposure, target mass and efficiency. The likelihood modules calibrate ``k`` to the
collaborations' published expected event counts; this module only supplies the shapes.

Everything here is a documented approximation (docs/long_baseline.md):

* cross sections: a two-piece parameterisation (quasi-elastic saturation + inelastic rise linear in E)
  whose high-energy slopes are the PDG deep-inelastic values for an isoscalar target,
  ``sigma/E = 0.677e-38 (nu)`` and ``0.334e-38 cm^2/GeV (nubar)`` (PDG review "Neutrino cross
  sections"; every number in ``data/cross_sections/accelerator_cc.yaml`` with its provenance); the
  low-energy pieces reproduce the measured ``sigma/E ~ 0.8-0.9e-38`` near 1 GeV only
  roughly (about 20 %);
* off-axis fluxes: a log-normal peak plus a broad log-normal high-energy tail;
* detector response: Gaussian in reconstructed energy with width ``a E + b``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import BSpline, make_lsq_spline
from scipy.special import ndtr

from globalfit.datafile import data_value
from globalfit.paths import data_path

CROSS_SECTION_FILE = data_path("cross_sections", "accelerator_cc.yaml")
"""High-energy CC slopes (PDG) and the low-energy approximation's parameters, with provenance."""


def _cross_section_value(key: str) -> float:
    return float(data_value(CROSS_SECTION_FILE, key))

CROSS_SECTION_KINDS = ("cc", "cc_inelastic")


def log_energy_grid(e_min_gev: float, e_max_gev: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Log-spaced true-energy grid: bin centres (geometric means) and widths, both in GeV."""
    if not (0 < e_min_gev < e_max_gev):
        raise ValueError(f"energy range must satisfy 0 < e_min < e_max, got ({e_min_gev}, {e_max_gev})")
    if n < 2:
        raise ValueError(f"n: need at least 2 energy points, got {n}")
    edges = np.geomspace(e_min_gev, e_max_gev, n + 1)
    return np.sqrt(edges[1:] * edges[:-1]), np.diff(edges)


def cc_cross_section_cm2(energy_gev, antineutrino: bool = False, lepton: str = "mu",
                         kind: str = "cc") -> np.ndarray:
    """Charged-current cross section per nucleon (isoscalar target), in cm^2.

    Parameters
    ----------
    energy_gev : array_like
        Neutrino energy in GeV.
    antineutrino : bool
        Antineutrino (smaller quasi-elastic plateau and inelastic slope).
    lepton : {"e", "mu"}
        Final charged lepton; ``"mu"`` switches on the muon threshold (0.11 GeV).
    kind : {"cc", "cc_inelastic"}
        ``"cc"``: quasi-elastic plus inelastic; ``"cc_inelastic"``: the inelastic (pion-production and
        deep-inelastic) part alone, used for single-pion samples.

    Returns
    -------
    numpy.ndarray
        ``sigma(E)`` in cm^2, zero below threshold.
    """
    if kind not in CROSS_SECTION_KINDS:
        raise ValueError(f"kind: {kind!r} not allowed; choose from {CROSS_SECTION_KINDS}")
    if lepton not in ("e", "mu"):
        raise ValueError(f"lepton: {lepton!r} not allowed; choose 'e' or 'mu'")
    energy = np.asarray(energy_gev, dtype=float)
    threshold = _cross_section_value("muon_threshold_gev") if lepton == "mu" else 0.0
    above = np.clip(energy - threshold, 0.0, None)
    species = "antineutrino" if antineutrino else "neutrino"
    slope = _cross_section_value(f"dis_slope_cm2_per_gev.{species}")
    onset = _cross_section_value("inelastic_onset_gev")
    inelastic = slope * above * (1.0 - np.exp(-((above / onset) ** 2)))
    if kind == "cc_inelastic":
        return inelastic
    plateau = _cross_section_value(f"quasi_elastic.plateau_cm2.{species}")
    rise = _cross_section_value(f"quasi_elastic.rise_gev.{species}")
    quasi_elastic = plateau * (1.0 - np.exp(-above / rise))
    return quasi_elastic + inelastic


@dataclass(frozen=True)
class OffAxisFlux:
    """Flux shape: a log-normal peak plus a broad log-normal tail (arbitrary normalisation).

    ``phi(E) = exp(-ln^2(E/peak)/(2 w^2)) + tail * exp(-ln^2(E/tail_peak)/(2 tail_w^2))``.

    Parameters are documented approximations of the published off-axis spectra (peak energies
    0.6 GeV for T2K and about 1.9 GeV for NOvA, inputs.md), not fits to flux tables.
    """

    peak_gev: float
    log_width: float
    tail_fraction: float = 0.0
    tail_peak_gev: float = 1.0
    tail_log_width: float = 1.0

    def __post_init__(self):
        for name in ("peak_gev", "log_width", "tail_peak_gev", "tail_log_width"):
            if not getattr(self, name) > 0:
                raise ValueError(f"OffAxisFlux.{name} must be positive, got {getattr(self, name)}")
        if self.tail_fraction < 0:
            raise ValueError(f"OffAxisFlux.tail_fraction must be >= 0, got {self.tail_fraction}")

    def __call__(self, energy_gev) -> np.ndarray:
        log_e = np.log(np.asarray(energy_gev, dtype=float))
        core = np.exp(-0.5 * ((log_e - np.log(self.peak_gev)) / self.log_width) ** 2)
        tail = np.exp(-0.5 * ((log_e - np.log(self.tail_peak_gev)) / self.tail_log_width) ** 2)
        return core + self.tail_fraction * tail


@dataclass(frozen=True)
class SplineFlux:
    """Flux shape as a cubic B-spline in ``ln phi`` versus ``E`` (zero outside the knot range).

    ``phi(E) = exp(sum_k c_k B_k(E))`` with the clamped knot vector ``knots_gev``; produced by
    `fit_spline_flux` from a tabulated flux (units of the table).
    """

    knots_gev: tuple[float, ...]
    coefficients: tuple[float, ...]
    degree: int = 3

    def __post_init__(self):
        if len(self.knots_gev) != len(self.coefficients) + self.degree + 1:
            raise ValueError(f"SplineFlux: need len(knots) = len(coefficients) + degree + 1, got "
                             f"{len(self.knots_gev)} and {len(self.coefficients)}")

    def __call__(self, energy_gev) -> np.ndarray:
        energy = np.asarray(energy_gev, dtype=float)
        spline = BSpline(np.asarray(self.knots_gev), np.asarray(self.coefficients), self.degree,
                         extrapolate=False)
        log_flux = spline(energy)
        return np.where(np.isfinite(log_flux), np.exp(np.nan_to_num(log_flux, nan=-np.inf)), 0.0)


def fit_spline_flux(energy_gev, values, interior_knots_gev, degree: int = 3) -> SplineFlux:
    """Least-squares cubic B-spline fit of ``ln(values)`` versus energy (bins with zero flux dropped).

    Parameters
    ----------
    energy_gev, values : arrays
        Bin centres in GeV and tabulated flux (any units; the fit keeps them).
    interior_knots_gev : sequence of float
        Interior knots in GeV; the boundary knots are the first and last positive bins.
    """
    energy = np.asarray(energy_gev, dtype=float)
    flux_values = np.asarray(values, dtype=float)
    keep = flux_values > 0
    x, y = energy[keep], np.log(flux_values[keep])
    interior = np.asarray(interior_knots_gev, dtype=float)
    if x.size < interior.size + degree + 1 or np.any(interior <= x[0]) or np.any(interior >= x[-1]):
        raise ValueError(f"interior_knots_gev: {interior} must lie inside ({x[0]}, {x[-1]}) with enough bins")
    knots = np.r_[[x[0]] * (degree + 1), interior, [x[-1]] * (degree + 1)]
    spline = make_lsq_spline(x, y, knots, degree)
    return SplineFlux(tuple(float(k) for k in knots), tuple(float(c) for c in spline.c), degree)


def smearing_matrix(true_energy_gev, reco_edges_gev, resolution_fraction: float,
                    resolution_floor_gev: float = 0.0, energy_scale=0.0) -> np.ndarray:
    """Probability that an event of true energy ``E_i`` lands in reconstructed bin ``j``.

    The reconstructed energy is Gaussian with mean ``(1 + energy_scale) E`` and width
    ``resolution_fraction * E + resolution_floor_gev``.

    Parameters
    ----------
    true_energy_gev : array, shape (n_true,)
    reco_edges_gev : array, shape (n_reco + 1,)
        Increasing bin edges in GeV.
    resolution_fraction, resolution_floor_gev : float
        Width ``a E + b`` (``a`` dimensionless, ``b`` in GeV).
    energy_scale : float or array, shape (batch,)
        Fractional shift of the reconstructed energy; an array gives a leading batch axis.

    Returns
    -------
    numpy.ndarray
        ``R[..., i, j]``, shape ``energy_scale.shape + (n_true, n_reco)``. Rows sum to the probability
        that the event is reconstructed inside the outer edges.
    """
    edges = np.asarray(reco_edges_gev, dtype=float)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"reco_edges_gev: need increasing edges, got {edges}")
    if resolution_fraction < 0 or resolution_floor_gev < 0:
        raise ValueError("resolution_fraction and resolution_floor_gev must be >= 0")
    energy = np.asarray(true_energy_gev, dtype=float)
    scale = np.asarray(energy_scale, dtype=float)[..., None, None]
    width = resolution_fraction * energy + resolution_floor_gev
    mean = (1.0 + scale) * energy[:, None]
    cdf = ndtr((edges - mean) / width[:, None])
    return np.diff(cdf, axis=-1)


@dataclass(frozen=True)
class Channel:
    """One oscillated contribution to a sample: ``P(nu_initial -> nu_final)`` of one polarity.

    ``relative_rate`` is the ratio of this channel's unoscillated charged-current event count to that
    of the sample's first (main) channel (e.g. the wrong-sign fraction of an antineutrino-mode beam);
    it is ignored for the first channel. ``None`` keeps the channel's own flux normalisation (for
    fluxes in absolute units, such as the DUNE flux fits).
    """

    initial: int
    final: int
    antineutrino: bool
    relative_rate: float | None = 1.0
    cross_section: str = "cc"
    flux: OffAxisFlux | SplineFlux | None = None
    """Own flux shape (e.g. a beam's intrinsic nu_e); ``None``: the sample's flux."""


class SampleModel:
    """Precomputed weights of one far-detector sample on a true-energy grid.

    ``rates(prob_nu, prob_nubar)`` maps probabilities ``P[..., E, a, b]`` (neutrino and antineutrino,
    leading batch axes allowed) to oscillated signal rates per reconstructed bin, before the
    normalisation ``k``. Only the smearing depends on the energy scale; with ``energy_scale`` given
    per batch point the matrix is recomputed in one vectorised call.
    """

    def __init__(self, energy_gev, width_gev, flux: OffAxisFlux | SplineFlux, channels: tuple[Channel, ...],
                 reco_edges_gev, resolution_fraction: float, resolution_floor_gev: float = 0.0):
        if not channels:
            raise ValueError("channels: a sample needs at least one oscillated channel")
        self.energy_gev = np.asarray(energy_gev, dtype=float)
        self.channels = tuple(channels)
        self.reco_edges_gev = np.asarray(reco_edges_gev, dtype=float)
        self.resolution_fraction = float(resolution_fraction)
        self.resolution_floor_gev = float(resolution_floor_gev)
        width = np.asarray(width_gev, dtype=float)
        lepton = {0: "e", 1: "mu", 2: "mu"}
        # unoscillated flux x sigma x dE per channel, shape (n_channels, n_true); channel c is scaled so
        # that its unoscillated event count is relative_rate times that of the first channel
        raw = np.stack([
            (ch.flux or flux)(self.energy_gev) * width * cc_cross_section_cm2(
                self.energy_gev, ch.antineutrino, lepton[ch.final], ch.cross_section) / 1e-38
            for ch in self.channels
        ])
        totals = raw.sum(axis=1)
        if np.any(totals <= 0):
            raise ValueError("channels: a channel has no events on the energy grid (check thresholds)")
        factors = np.array([
            1.0 if (i == 0 or ch.relative_rate is None) else ch.relative_rate * totals[0] / totals[i]
            for i, ch in enumerate(self.channels)
        ])
        self.true_weights = raw * factors[:, None]
        self.nominal_smearing = self.smearing(0.0)

    def smearing(self, energy_scale) -> np.ndarray:
        return smearing_matrix(self.energy_gev, self.reco_edges_gev, self.resolution_fraction,
                               self.resolution_floor_gev, energy_scale)

    def channel_probabilities(self, prob_nu, prob_nubar) -> np.ndarray:
        """``P`` of every channel, shape ``batch + (n_channels, n_true)``."""
        return np.stack([
            (prob_nubar if ch.antineutrino else prob_nu)[..., ch.initial, ch.final] for ch in self.channels
        ], axis=-2)

    def rates(self, prob_nu, prob_nubar, energy_scale=None) -> np.ndarray:
        """Unnormalised oscillated rates per reconstructed bin, shape ``batch + (n_reco,)``."""
        weighted = np.sum(self.channel_probabilities(prob_nu, prob_nubar) * self.true_weights, axis=-2)
        if energy_scale is None:
            return weighted @ self.nominal_smearing
        smear = self.smearing(energy_scale)
        return np.einsum("...i,...ij->...j", weighted, smear)

    def true_spectrum(self, prob_nu=None, prob_nubar=None) -> np.ndarray:
        """Unnormalised events per true-energy point (unsmeared); unoscillated if no P is given."""
        if prob_nu is None:
            return self.true_weights.sum(axis=0)
        return np.sum(self.channel_probabilities(prob_nu, prob_nubar) * self.true_weights, axis=-2)
