"""KamLAND reactor antineutrinos.

Two modes:

* ``release_path:`` a folder in the format of KamLAND's public 2011 ("4th result",
  PRD 83 (2011) 052002, arXiv:1009.4771) spectrum release: ``EnergySpectrum_0.1MeVbin_4th_result.dat``
  (76 prompt-energy bins of 0.1 MeV from 0.9 to 8.5 MeV; columns: bin centre, observed
  events, reactor expectation without oscillation, reactor best fit, three background
  columns, geo-neutrino U and Th) and ``Reactors.csv`` (site baselines in km and number of
  cores), optionally ``reactors_path:`` an IAEA-PRIS operating history (format of
  ``shared/data/reactors``) for time-averaged site weights (recommended). Binned Poisson
  likelihood: ``mu_i = norm * R_i + sum_k b_k B_ki + geo * G_i``
  with the reactor term ``R_i = N_i^{no-osc} <P_ee>_i``, where ``<P_ee>_i`` averages the
  survival probability over the bin with the IBD-weighted Huber-Mueller spectrum, the
  sites' ``N / L^2`` weights and a Gaussian resolution ``6.4 % sqrt(E/MeV)`` (Gauss-Legendre
  quadrature in ``sqrt(E - E_thr)``, converged to 1e-12; see docs/kamland.md for the
  evaluation speed and numerics).
* built-in default (no release): the KamLAND-only 2008 result (arXiv:0801.4589, abstract)
  as a summary likelihood in ``(Dm21, tan^2 th12)`` with asymmetric Gaussian errors, the
  octant folded (``tan^2 -> min(tan^2, 1/tan^2)``) because reactor data cannot tell it.
  The numbers live in ``data/kamland/kamland_2008_summary.yaml``.

Antineutrinos cross the crust (``rho = 2.7 g/cm^3``, ``Y_e = 0.5``, ``Y_n = 1.0``; read from
``data/earth/matter_composition.yaml``) with the
two-state Hamiltonian of ``globalfit.physics.solar`` including NSI; ``P_ee = c13^4 P_eff + s13^4``.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from globalfit.datafile import data_value, read_yaml
from globalfit.datafiles import check_frame, read_table
from globalfit.likelihood import Likelihood, Point
from globalfit.paths import data_path
from globalfit.physics import reactor
from globalfit.physics.detector import gaussian_interval_probability
from globalfit.physics.matter import crust_electron_density_na, crust_neutron_to_electron
from globalfit.physics.solar import (
    KM_TIMES_EV,
    SolarOscillation,
    SolarOscillationArrays,
    charged_current_potential_ev,
    p_eff_constant_density,
)
from globalfit.releases import release_option

DATA_DIR = data_path("kamland")
SPECTRUM_FILE = "EnergySpectrum_0.1MeVbin_4th_result.dat"
REACTORS_FILE = "Reactors.csv"
SITE_FILE = DATA_DIR / "detector_site.yaml"
"""KamLAND's latitude and longitude (+-0.01 deg; 1 km changes L by < 1 %), with provenance."""
KAMLAND_YEARS = (2002, 2009)
"""Data-taking years of the 2011 (4th) result: March 2002 to November 2009."""
EARTH_RADIUS_FOR_BASELINES_KM = 6371.0
RESOLUTION_AT_1MEV = 0.064
"""KamLAND prompt-energy resolution sigma/E at 1 MeV (6.4 %/sqrt(E), 2011)."""
ENERGY_MAX_MEV = 11.0
"""Upper end of the true-energy integration (the resolution kernel of the 8.45 MeV bin is
below 1e-12 of its peak there)."""
QUADRATURE_NODES_RESOLUTION = 200
QUADRATURE_NODES_OSCILLATION = 500
"""Gauss-Legendre nodes in ``u = sqrt(E - E_thr)``: ``200 (6.4 % / resolution)`` for the
resolution kernel plus ``500 (Dm21 / 1e-3 eV^2) (L_max / 1000 km)`` for the oscillation,
rounded up to a multiple of 50 (`KamLANDSpectrum.quadrature_nodes`). Calibrated by finding
the fewest nodes that reproduce a 3000-node result to 1e-12 in every bin's ``<P_ee>``
(6.4 %: 160 nodes at Dm21 <= 5e-5, 220 at 2e-4, 360 at 5e-4, 600 at 1e-3 eV^2 for
L_max = 986 km; 3 %: 300 to 700); the rule gives 250-300 nodes for Dm21 <= 2e-4."""


def oscillation_from_point(point: Point) -> SolarOscillation:
    """Two-state parameters (with NSI from the point's couplings) at ``point``."""
    return SolarOscillation.from_parameters(point.params, point.couplings.eps0, "likelihood kamland")


def kamland_survival(energy_mev, baseline_km, osc: SolarOscillation) -> np.ndarray:
    """``P(nubar_e -> nubar_e)`` in the crust; broadcasts energy against baseline."""
    v_cc = charged_current_potential_ev(crust_electron_density_na())
    p_eff = p_eff_constant_density(energy_mev, baseline_km, v_cc, crust_neutron_to_electron(), osc, antineutrino=True)
    return np.cos(osc.th13) ** 4 * p_eff + np.sin(osc.th13) ** 4


def _unit_vector_km(lat_deg, lon_deg) -> np.ndarray:
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    return EARTH_RADIUS_FOR_BASELINES_KM * np.stack(
        [np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)


def operating_history_weights(reactors_path, years=KAMLAND_YEARS,
                              latitude_deg=None, longitude_deg=None):
    """Site baselines and flux weights from a reactor operating history.

    Reads ``sites.csv`` (site, lat, lon), ``units.csv`` (id, site, thermal_power_MW) and
    ``operating_history.csv`` (id, year, electricity_GWh, reference_power_MWe) in the format
    of the IAEA-PRIS tables of ``shared/data/reactors``. The thermal energy of each unit in
    ``years`` is its electricity times ``thermal_power_MW / reference_power_MWe``; a site's
    weight is its thermal energy over ``L^2`` (straight-line distance through the Earth).
    ``latitude_deg``, ``longitude_deg``: the detector (default KamLAND, ``SITE_FILE``).

    Returns
    -------
    baseline_km, weight : arrays (weights sum to 1)
    """
    latitude_deg = float(data_value(SITE_FILE, "latitude_deg")) if latitude_deg is None else latitude_deg
    longitude_deg = float(data_value(SITE_FILE, "longitude_deg")) if longitude_deg is None else longitude_deg
    folder = Path(reactors_path)
    try:
        sites = pd.read_csv(folder / "sites.csv", comment="#")
        units = pd.read_csv(folder / "units.csv", comment="#")
        history = pd.read_csv(folder / "operating_history.csv", comment="#")
    except FileNotFoundError as error:
        raise ValueError(f"likelihoods.kamland.reactors_path: {error}") from None
    history = history[(history.year >= years[0]) & (history.year <= years[1])]
    history = history.merge(units[["id", "site", "thermal_power_MW"]], on="id")
    thermal = history.electricity_GWh * history.thermal_power_MW / history.reference_power_MWe
    energy = thermal.groupby(history.site).sum()
    energy = energy[energy > 0]
    located = sites.set_index("site").loc[energy.index]
    baseline = np.linalg.norm(_unit_vector_km(located.lat.to_numpy(), located.lon.to_numpy())
                              - _unit_vector_km(latitude_deg, longitude_deg), axis=-1)
    weight = energy.to_numpy() / baseline**2
    return baseline, weight / weight.sum()


@dataclass(frozen=True)
class EnergyQuadrature:
    """True-energy nodes and the bins' normalised response to them.

    Attributes
    ----------
    energy_mev : array, shape (n_nodes,)
        Antineutrino energies of the nodes (MeV).
    kernel : array, shape (n_bins, n_nodes)
        ``<f>_i = kernel[i] @ f(energy_mev)`` is the flux-, cross-section- and
        resolution-weighted average of ``f`` in prompt bin ``i`` (rows sum to 1).
    inverse_four_energy_ev : array, shape (n_nodes,)
        ``1 / (4 E)`` in 1/eV, so that ``Dm21 / 4E = dm21_ev2 * inverse_four_energy_ev``.
    """

    energy_mev: np.ndarray
    kernel: np.ndarray
    inverse_four_energy_ev: np.ndarray


_PAIR_ROWS = np.array([0, 0, 0, 1, 1, 2])
_PAIR_COLUMNS = np.array([0, 1, 2, 1, 2, 2])
"""Upper triangle of a symmetric 3x3 matrix, row-major: (00, 01, 02, 11, 12, 22)."""


def _solve_symmetric_3x3(h00, h01, h02, h11, h12, h22, g0, g1, g2) -> tuple:
    """``H^-1 g`` for a symmetric 3x3 ``H`` by cofactors (Cramer's rule), elementwise (floats or arrays)."""
    c00 = h11 * h22 - h12 * h12
    c01 = h02 * h12 - h01 * h22
    c02 = h01 * h12 - h02 * h11
    c11 = h00 * h22 - h02 * h02
    c12 = h01 * h02 - h00 * h12
    c22 = h00 * h11 - h01 * h01
    determinant = h00 * c00 + h01 * c01 + h02 * c02
    return ((c00 * g0 + c01 * g1 + c02 * g2) / determinant,
            (c01 * g0 + c11 * g1 + c12 * g2) / determinant,
            (c02 * g0 + c12 * g1 + c22 * g2) / determinant)


class KamLANDSpectrum:
    """Forward model of the binned KamLAND prompt spectrum from a public release folder."""

    def __init__(self, release_path, resolution_at_1mev: float = RESOLUTION_AT_1MEV, reactors_path=None):
        folder = Path(release_path)
        spectrum_file = folder / SPECTRUM_FILE
        reactors_file = folder / REACTORS_FILE
        for path in (spectrum_file, reactors_file):
            if not path.is_file():
                raise ValueError(f"likelihoods.kamland.release_path: {path} not found "
                                 f"(expected {SPECTRUM_FILE} and {REACTORS_FILE})")
        table = read_table(spectrum_file, columns=9)
        self.files = [spectrum_file, reactors_file]
        self.bin_centre_mev = table[:, 0]
        self.observed = table[:, 1]
        self.no_oscillation = table[:, 2]
        self.published_best_fit = table[:, 3]
        self.backgrounds = table[:, 4:7].T
        self.geo = table[:, 7] + table[:, 8]
        if reactors_path is None:
            sites = check_frame(pd.read_csv(reactors_file, skipinitialspace=True).dropna(),
                                reactors_file, ("L", "N_reactors"))
            self.baseline_km = sites["L"].to_numpy(float)
            weight = sites["N_reactors"].to_numpy(float) / self.baseline_km**2
            self.baseline_weight = weight / weight.sum()
            self.weights_from = "Reactors.csv: N_cores / L^2"
        else:
            self.baseline_km, self.baseline_weight = operating_history_weights(reactors_path)
            self.files += [Path(reactors_path) / n for n in ("sites.csv", "units.csv", "operating_history.csv")]
            self.weights_from = f"operating history {KAMLAND_YEARS[0]}-{KAMLAND_YEARS[1]} in {reactors_path}"
        self.resolution_at_1mev = float(resolution_at_1mev)
        if not self.resolution_at_1mev > 0:
            raise ValueError(f"likelihoods.kamland.resolution: must be > 0, got {resolution_at_1mev}")
        self._twice_baseline_per_ev = 2.0 * self.baseline_km * KM_TIMES_EV
        self._weight_sum = float(self.baseline_weight.sum())
        self._quadratures: dict[int, EnergyQuadrature] = {}

    # --- true-energy integration -------------------------------------------------------------
    def quadrature_nodes(self, dm21_ev2: float) -> int:
        """Gauss-Legendre nodes that integrate the bins' ``<P_ee>`` to ~1e-12 at ``dm21_ev2``.

        The oscillation phase changes with energy at most as fast as in vacuum
        (``|dw/dE| <= Dm21 / (4 E^2)`` also with matter and NSI), so the node count grows with
        ``Dm21 L_max`` (see `QUADRATURE_NODES_OSCILLATION`) and with the inverse resolution.
        """
        nodes = (QUADRATURE_NODES_RESOLUTION * RESOLUTION_AT_1MEV / self.resolution_at_1mev
                 + QUADRATURE_NODES_OSCILLATION * (dm21_ev2 / 1e-3) * (self.baseline_km.max() / 1000.0))
        return int(50 * np.ceil(nodes / 50.0))

    def energy_quadrature(self, dm21_ev2: float) -> EnergyQuadrature:
        """The (cached) true-energy quadrature with `quadrature_nodes` ``(dm21_ev2)`` nodes."""
        return self.gauss_legendre_quadrature(self.quadrature_nodes(dm21_ev2))

    def gauss_legendre_quadrature(self, nodes: int) -> EnergyQuadrature:
        """Gauss-Legendre rule with ``nodes`` nodes in ``u = sqrt(E - E_thr)`` (cached).

        In ``u`` the integrand ``S(E) sigma_IBD(E) R_i(E) P_ee(E) dE = 2 u (...) du`` is smooth
        (``sigma_IBD`` rises like ``sqrt(E - 1.804 MeV)`` just below the 1.806 MeV threshold),
        so the rule converges exponentially with the node count.
        """
        if nodes not in self._quadratures:
            u_max = np.sqrt(ENERGY_MAX_MEV - reactor.IBD_THRESHOLD_MEV)
            x, weight = np.polynomial.legendre.leggauss(int(nodes))
            u = 0.5 * u_max * (x + 1.0)
            self._quadratures[nodes] = self.quadrature_from_nodes(reactor.IBD_THRESHOLD_MEV + u**2,
                                                                  u_max * u * weight)
        return self._quadratures[nodes]

    def quadrature_from_nodes(self, energy_mev: np.ndarray, weight_mev: np.ndarray) -> EnergyQuadrature:
        """Response of every bin to the flux at the nodes ``energy_mev`` with integration
        weights ``weight_mev``: Huber-Mueller spectrum x IBD cross section x Gaussian
        resolution, each bin's row normalised to 1."""
        energy_mev = np.asarray(energy_mev, float)
        half_width = 0.5 * np.diff(self.bin_centre_mev).mean()
        prompt = reactor.prompt_energy_mev(energy_mev)
        sigma = self.resolution_at_1mev * np.sqrt(np.clip(prompt, 0.05, None))
        centre = self.bin_centre_mev[:, None]
        rate = reactor.reactor_spectrum(energy_mev) * reactor.ibd_cross_section_cm2(energy_mev) * weight_mev
        kernel = gaussian_interval_probability(centre - half_width, centre + half_width, prompt, sigma) * rate
        kernel /= np.clip(kernel.sum(axis=1, keepdims=True), 1e-300, None)
        return EnergyQuadrature(energy_mev, kernel, 1.0 / (4.0e6 * energy_mev))

    # --- survival probability ----------------------------------------------------------------
    def site_averaged_survival(self, osc: SolarOscillation, quadrature: EnergyQuadrature | None = None) -> np.ndarray:
        """``sum_s w_s P_ee(E, L_s)`` at the quadrature's energies, shape (n_nodes,).

        Same physics as `kamland_survival` (to rounding, tested to 1e-12), arranged for
        speed: at constant density ``A``, ``|B|^2`` and ``w = sqrt(A^2 + |B|^2)`` depend on
        the energy only, so they are computed on the 1D grid in real arithmetic; only
        ``cos(2 w L_s)`` lives on the (energy, site) grid, and
        ``sum_s w_s sin^2(w L_s) = (sum_s w_s - sum_s w_s cos(2 w L_s)) / 2`` folds the sites
        with one matrix-vector product. ``quadrature`` defaults to `energy_quadrature`.
        """
        if quadrature is None:
            quadrature = self.energy_quadrature(osc.dm21_ev2)
        return self.site_averaged_survival_batch(SolarOscillationArrays.stack([osc]), quadrature)[0]

    def site_averaged_survival_batch(self, osc: SolarOscillationArrays, quadrature: EnergyQuadrature) -> np.ndarray:
        """`site_averaged_survival` at every point of ``osc`` on one ``quadrature``, shape
        (n_points, n_nodes)."""
        v_cc = float(charged_current_potential_ev(crust_electron_density_na()))
        y_n = crust_neutron_to_electron()
        c13sq = np.cos(osc.th13) ** 2
        # antineutrinos: H -> conj(H_vac - H_mat) (globalfit.physics.solar.hamiltonian_terms)
        matter_a = 0.5 * c13sq * v_cc - v_cc * (osc.eps_d_pe + y_n * osc.eps_d_n)
        matter_b = -(v_cc * (osc.eps_n_pe + y_n * osc.eps_n_n))
        k = osc.dm21_ev2 * quadrature.inverse_four_energy_ev
        a = k * np.cos(2.0 * osc.th12) + matter_a
        b_squared = k * np.sin(2.0 * osc.th12) + matter_b.real
        b_squared *= b_squared
        b_squared += matter_b.imag ** 2
        w_squared = a * a + b_squared
        cos_phase = np.multiply.outer(np.sqrt(w_squared), self._twice_baseline_per_ev)
        np.cos(cos_phase, out=cos_phase)
        mean_sin_squared = 0.5 * (self._weight_sum - cos_phase @ self.baseline_weight)
        p_eff = self._weight_sum - b_squared / w_squared * mean_sin_squared
        return c13sq**2 * p_eff + np.sin(osc.th13) ** 4 * self._weight_sum

    def mean_survival(self, osc: SolarOscillation, quadrature: EnergyQuadrature | None = None) -> np.ndarray:
        """Bin-averaged ``<P_ee>`` of the reactor flux, shape (n_bins,)."""
        if quadrature is None:
            quadrature = self.energy_quadrature(osc.dm21_ev2)
        return quadrature.kernel @ self.site_averaged_survival(osc, quadrature)

    def mean_survival_reference(self, osc: SolarOscillation,
                                quadrature: EnergyQuadrature | None = None) -> np.ndarray:
        """`mean_survival` the slow, transparent way (`kamland_survival` on the (energy, site) grid)."""
        if quadrature is None:
            quadrature = self.energy_quadrature(osc.dm21_ev2)
        p = kamland_survival(quadrature.energy_mev[:, None], self.baseline_km, osc) @ self.baseline_weight
        return quadrature.kernel @ p

    def reactor_events(self, osc: SolarOscillation) -> np.ndarray:
        """Expected reactor IBD events per bin at ``osc`` (before normalisation pulls)."""
        return self.no_oscillation * self.mean_survival(osc)


class KamLANDLikelihood(Likelihood):
    """KamLAND: binned Poisson spectrum (release) or 2008 summary (built-in default)."""

    name = "kamland"
    title = "KamLAND"
    description = "KamLAND reactor antineutrinos: 2011 binned spectrum (release_path) or 2008 summary"
    reads = ("th12", "th13", "th23", "dcp", "dm21")
    nuisance_parameters = {}
    """None exposed: the reactor normalisation (Gaussian, 4.1 %), the background scale
    (Gaussian, 10 %) and the geo-neutrino scale (free, >= 0) are profiled inside ``loglike``."""
    pulls = {"norm": 0.041, "background": 0.10}
    options_allowed = ("release", "release_path", "reactors_release", "reactors_path", "energy_min_mev",
                       "energy_max_mev", "resolution")

    def __init__(self, **options):
        super().__init__(**options)
        self.release_path = release_option(options, "likelihoods.kamland")
        if self.release_path is None:
            self.summary = read_yaml(DATA_DIR / "kamland_2008_summary.yaml")
            self.spectrum = None
            return
        self.summary = None
        self.spectrum = KamLANDSpectrum(self.release_path, float(options.get("resolution", RESOLUTION_AT_1MEV)),
                                        release_option(options, "likelihoods.kamland", release_key="reactors_release",
                                                       path_key="reactors_path"))
        low = float(options.get("energy_min_mev", 0.9))
        high = float(options.get("energy_max_mev", 8.5))
        if not low < high:
            raise ValueError(f"likelihoods.kamland.energy_min_mev ({low}) must be below energy_max_mev ({high})")
        centre = self.spectrum.bin_centre_mev
        self.mask = (centre > low) & (centre < high)
        self._prepare_profiling()

    # --- nuisance profiling ----------------------------------------------------------------
    def templates(self, point: Point) -> np.ndarray:
        """Event templates per bin (reactor at the point, backgrounds, geo), shape (3, n_bins)."""
        if self.spectrum is None:
            raise ValueError("likelihoods.kamland: templates need release_path")
        reactor_events = self.spectrum.reactor_events(oscillation_from_point(point))
        return np.stack([reactor_events, self._background_template, self.spectrum.geo])

    def profile_nuisances(self, templates: np.ndarray, iterations: int = 8, tolerance: float = 1e-12):
        """Scales ``(norm, background, geo)`` minimising Poisson chi^2 + pulls.

        Newton steps from ``(1, 1, 1)`` on the convex objective, the geo scale clipped at 0
        after each step; at most `iterations` steps, stopping early once no scale moves by
        more than `tolerance` (Newton converges quadratically, so the skipped steps would
        change the scales by far less than that). Returns ``(scales, chi2)``.
        """
        t = np.ascontiguousarray(templates[:, self.mask], dtype=float)
        products = t[_PAIR_ROWS] * t[_PAIR_COLUMNS]
        return self._newton_profile(t, products, iterations, tolerance)

    def _prepare_profiling(self) -> None:
        """Point-independent pieces of the profiled likelihood (masked data and templates)."""
        spectrum = self.spectrum
        self._observed = np.ascontiguousarray(spectrum.observed[self.mask])
        observed_positive = self._observed[self._observed > 0]
        self._observed_total = float(self._observed.sum())
        self._observed_log_observed = float(np.sum(observed_positive * np.log(observed_positive)))
        self._pull_inverse_variance = (1.0 / self.pulls["norm"] ** 2, 1.0 / self.pulls["background"] ** 2, 0.0)
        self._background_template = spectrum.backgrounds.sum(axis=0)
        self._reactor_responses: dict[int, np.ndarray] = {}
        self._masked_templates = np.stack([np.zeros(self._observed.size), self._background_template[self.mask],
                                           spectrum.geo[self.mask]])
        self._masked_products = self._masked_templates[_PAIR_ROWS] * self._masked_templates[_PAIR_COLUMNS]

    def _newton_profile(self, t: np.ndarray, products: np.ndarray, iterations: int, tolerance: float):
        """`profile_nuisances` on masked templates ``t`` (3, n) and their pair products (6, n).

        One point in Python floats (a fifth of the cost of `_newton_profile_batch` on one
        point); the batch form does the same steps at many points (tested equal to 1e-10)."""
        n = self._observed
        inverse_variance = self._pull_inverse_variance
        template_sum = t.sum(axis=1)
        theta = np.ones(3)
        for _ in range(iterations):
            mu = theta @ t
            np.maximum(mu, 1e-9, out=mu)
            ratio = n / mu
            # gradient and Hessian of chi^2 / 2 (the factor 2 cancels in the Newton step)
            g0, g1, g2 = (template_sum - t @ ratio).tolist()
            ratio /= mu
            h00, h01, h02, h11, h12, h22 = (products @ ratio).tolist()
            th0, th1, th2 = theta.tolist()
            g0 += (th0 - 1.0) * inverse_variance[0]
            g1 += (th1 - 1.0) * inverse_variance[1]
            g2 += (th2 - 1.0) * inverse_variance[2]
            h00 += inverse_variance[0]
            h11 += inverse_variance[1]
            h22 += inverse_variance[2]
            step0, step1, step2 = _solve_symmetric_3x3(h00, h01, h02, h11, h12, h22, g0, g1, g2)
            new = (th0 - step0, th1 - step1, max(th2 - step2, 0.0))
            theta = np.array(new)
            if max(abs(new[0] - th0), abs(new[1] - th1), abs(new[2] - th2)) < tolerance:
                break
        mu = theta @ t
        np.maximum(mu, 1e-12, out=mu)
        poisson = 2.0 * (float(mu.sum()) - self._observed_total + self._observed_log_observed - float(n @ np.log(mu)))
        pulls = sum(((value - 1.0) ** 2) * weight for value, weight in zip(theta.tolist(), inverse_variance))
        return theta, poisson + pulls

    def _newton_profile_batch(self, t: np.ndarray, products: np.ndarray, iterations: int, tolerance: float):
        """`_newton_profile` at several points at once: ``t`` (n_points, 3, n), ``products``
        (n_points, 6, n); scales (n_points, 3) and chi^2 (n_points,). Each point stops on its own
        (its scales are frozen once a step moves none by more than ``tolerance``)."""
        n = self._observed
        inverse_variance = np.array(self._pull_inverse_variance)
        template_sum = t.sum(axis=2)
        theta = np.ones((len(t), 3))
        active = np.arange(len(t))
        for _ in range(iterations):
            if not active.size:
                break
            t_active, old = t[active], theta[active]
            mu = (old[:, None, :] @ t_active)[:, 0]
            np.maximum(mu, 1e-9, out=mu)
            ratio = n / mu
            # gradient and Hessian of chi^2 / 2 (the factor 2 cancels in the Newton step)
            gradient = template_sum[active] - (t_active @ ratio[..., None])[..., 0]
            ratio /= mu
            hessian = (products[active] @ ratio[..., None])[..., 0]
            gradient += (old - 1.0) * inverse_variance
            hessian[:, [0, 3, 5]] += inverse_variance
            step = np.column_stack(_solve_symmetric_3x3(*hessian.T, *gradient.T))
            new = old - step
            np.maximum(new[:, 2], 0.0, out=new[:, 2])
            theta[active] = new
            active = active[np.abs(new - old).max(axis=1) >= tolerance]
        mu = (theta[:, None, :] @ t)[:, 0]
        np.maximum(mu, 1e-12, out=mu)
        poisson = 2.0 * (mu.sum(axis=1) - self._observed_total + self._observed_log_observed - np.log(mu) @ n)
        pulls = ((theta - 1.0) ** 2 * inverse_variance).sum(axis=1)
        return theta, poisson + pulls

    def _reactor_response(self, nodes: int) -> np.ndarray:
        """No-oscillation events x resolution kernel of the selected bins on the ``nodes``-node
        quadrature: the reactor template is this matrix times the site-averaged ``P_ee``."""
        if nodes not in self._reactor_responses:
            kernel = self.spectrum.gauss_legendre_quadrature(nodes).kernel
            self._reactor_responses[nodes] = np.ascontiguousarray(
                self.spectrum.no_oscillation[self.mask, None] * kernel[self.mask])
        return self._reactor_responses[nodes]

    def _profiled_chi2(self, oscs) -> np.ndarray:
        """Profiled chi^2 at each of ``oscs`` (the fast path of `loglike`): points grouped by
        their quadrature, each group in one vectorised evaluation."""
        chi2 = np.empty(len(oscs))
        nodes = [self.spectrum.quadrature_nodes(osc.dm21_ev2) for osc in oscs]
        arrays = SolarOscillationArrays.stack(oscs)
        for count in sorted(set(nodes)):
            rows = [i for i, n in enumerate(nodes) if n == count]
            group = arrays if len(rows) == len(oscs) else arrays.take(rows)
            quadrature = self.spectrum.gauss_legendre_quadrature(int(count))
            survival = self.spectrum.site_averaged_survival_batch(group, quadrature)
            t = np.repeat(self._masked_templates[None], len(rows), axis=0)
            t[:, 0] = survival @ self._reactor_response(int(count)).T
            products = np.empty((len(rows), *self._masked_products.shape))
            np.multiply(t[:, :1], t, out=products[:, :3])
            products[:, 3:] = self._masked_products[3:]
            if len(rows) == 1:
                chi2[rows] = self._newton_profile(t[0], products[0], 8, 1e-12)[1]
            else:
                chi2[rows] = self._newton_profile_batch(t, products, 8, 1e-12)[1]
        return chi2

    def expected_events(self, point: Point) -> np.ndarray:
        """Expected events per 0.1 MeV bin with the profiled nuisance scales (release mode)."""
        templates = self.templates(point)
        theta, _ = self.profile_nuisances(templates)
        return theta @ templates

    def _summary_chi2(self, point: Point) -> float:
        s = self.summary
        dm21 = point["dm21"]
        tan2 = np.tan(point["th12"]) ** 2
        tan2 = min(tan2, 1.0 / tan2)
        dm_sigma = s["dm21_err_plus_ev2"] if dm21 > s["dm21_ev2"] else s["dm21_err_minus_ev2"]
        t_sigma = s["tan2_th12_err_plus"] if tan2 > s["tan2_th12"] else s["tan2_th12_err_minus"]
        return ((dm21 - s["dm21_ev2"]) / dm_sigma) ** 2 + ((tan2 - s["tan2_th12"]) / t_sigma) ** 2

    def loglike(self, point: Point) -> float:
        if self.spectrum is None:
            self._warn_nsi_ignored(point)
            return -0.5 * self._summary_chi2(point)
        return float(self.loglike_batch([point])[0])

    def loglike_batch(self, points) -> np.ndarray:
        """``ln L`` of each point (release mode: one vectorised evaluation per quadrature)."""
        if self.spectrum is None:
            return np.array([self.loglike(point) for point in points])
        return -0.5 * self._profiled_chi2([oscillation_from_point(point) for point in points])

    def _warn_nsi_ignored(self, point: Point) -> None:
        """Warn once if a point carries NSI that the built-in summary cannot see (near the
        best fit KamLAND's chi^2 moves by 3-15 per unit eps_D^u: docs/kamland.md)."""
        if getattr(self, "_nsi_warned", False):
            return
        if any(np.any(np.asarray(eps) != 0) for eps in point.couplings.eps0.values()):
            self._nsi_warned = True
            warnings.warn("likelihoods.kamland: the built-in 2008 summary has no NSI dependence, but this point "
                          "has NSI couplings (KamLAND's crust matter effect with NSI moves its chi^2 by several "
                          "units); give release_path: for NSI fits", stacklevel=2)

    def observables(self, point: Point) -> pd.DataFrame:
        if self.spectrum is None:
            tan2 = np.tan(point["th12"]) ** 2
            return pd.DataFrame({
                "observable": ["dm21_ev2", "tan2_th12_folded"],
                "predicted": [point["dm21"], min(tan2, 1 / tan2)],
                "measured": [self.summary["dm21_ev2"], self.summary["tan2_th12"]],
                "uncertainty": [self.summary["dm21_err_plus_ev2"], self.summary["tan2_th12_err_plus"]],
            })
        mu = self.expected_events(point)
        return pd.DataFrame({
            "observable": [f"prompt_{e:.2f}_MeV" for e in self.spectrum.bin_centre_mev],
            "predicted": mu, "measured": self.spectrum.observed,
            "uncertainty": np.sqrt(np.maximum(mu, 1.0)),
        })[self.mask]

    def data_files(self) -> list[Path]:
        if self.spectrum is None:
            return [DATA_DIR / "kamland_2008_summary.yaml", reactor._DATA_FILE]
        return list(self.spectrum.files) + [reactor._DATA_FILE]

    def approximations(self) -> list[str]:
        if self.spectrum is None:
            return ["KamLAND enters as the 2008 KamLAND-only summary (Dm21, tan^2 th12), not as a spectrum; "
                    "no NSI or theta13 dependence beyond the two parameters (matter effects in KamLAND are < 1 %)."]
        return [f"Reactor flux weights per site from {self.spectrum.weights_from}; the release's own "
                "no-oscillation expectation sets the per-bin normalisation.",
                "Gaussian resolution 6.4 %/sqrt(E); no energy-scale non-linearity; one fixed fission mix.",
                "Backgrounds: the release's columns scaled by one common factor (10 % pull); geo-neutrinos by one "
                "free factor; reactor normalisation with a 4.1 % pull; all three profiled inside loglike."]
