"""Super-Kamiokande IV (2970 days): shape of the 8B recoil-electron spectrum.

Data: the SK-IV day and night elastic-scattering rates per recoil kinetic-energy bin
(3.49-19.49 MeV, 23 bins), their statistical errors, SK's unoscillated Monte-Carlo expectation
for 8B (5.25e6 cm^-2 s^-1) and hep (7.88e3 cm^-2 s^-1) and the energy-uncorrelated systematics,
from SK, PRD 109 (2024) 092001, arXiv:2312.12907, appendix tables. The release is NOT copied into
the repository: the run card points ``release_path:`` at a folder holding ``sk4_solar_spectrum.csv``.
Detector response and energy-correlated systematics: ``data/superk/sk4_spectrum_systematics.yaml``.

Observable: the day+night mean rate per bin, ``R_i = (R_i^day + R_i^night) / 2``.

Forward model (per bin ``i`` of reconstructed kinetic energy ``T'``)::

    S_i[P] = int dE phi(E) int dT [P(E) dsigma_e/dT + (1 - P(E)) dsigma_mu/dT] G_i(T),
    G_i(T) = int_{bin i} dT' N(T'; T (1 + a_s delta_s), (1 + a_r delta_r) sigma(T + m_e)),

with ``phi`` the normalised 8B (or hep) spectrum, ``P`` the three-flavour ``P_ee`` averaged over
day and night at SK (``globalfit.physics.solar_flavour``, shared with ``likelihoods.solar``), tree-level
nu-e cross sections (``globalfit.physics.neutrino_electron``) and SK-IV's Gaussian resolution
``sigma(E) = a + b sqrt(E) + c E`` (E the total electron energy). The prediction calibrates
away SK's detector efficiency with its own Monte Carlo::

    mu_i = n * mc_b8_i * S_i^8B[P] / S_i^8B[1] + mc_hep_i * S_i^hep[P] / S_i^hep[1].

Likelihood: ``chi2 = min_{n, a} sum_i (R_i - mu_i(n, a))^2 / s_i^2 + sum_k a_k^2`` with ``s_i``
statistical and energy-uncorrelated systematic errors in quadrature, ``n`` (the 8B
normalisation) free — the spectrum enters as SHAPE only, because the SK total rate and the
day-night asymmetry are in ``likelihoods.solar`` (``superk_es_flux``, ``superk_adn``) — and the
energy-correlated systematics ``a_k`` (energy scale, energy resolution, 8B spectrum shape)
Gaussian nuisances with unit width. Their fractional effects ``f_ki`` on the 8B prediction are
recomputed at every call (symmetric finite differences, +-1 sigma) with the point's ``P_ee``
and enter linearly, ``mu_i -> mu_i + n0 mc_b8_i S_i/S0_i sum_k a_k f_ki``, ``n0`` the
normalisation fitted without them; the minimum over ``(n, a)`` is then a linear least-squares
problem solved exactly.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from globalfit.datafile import read_yaml
from globalfit.datafiles import check_frame
from globalfit.likelihood import Likelihood, Point
from globalfit.paths import data_path
from globalfit.physics import neutrino_electron as nue
from globalfit.physics import solar_spectra as spectra
from globalfit.physics.detector import gaussian_interval_probability
from globalfit.physics.solar import SolarOscillation
from globalfit.physics.solar_flavour import B8_GRID_MEV, shared_engine
from globalfit.releases import release_option

RELEASE_FILE = "sk4_solar_spectrum.csv"
USES = ("shape",)
CSV_COLUMNS = ("E_lo", "E_hi", "zenith", "rate", "stat", "mc_b8", "mc_hep", "syst_uncorr_percent")
NEUTRINO_STEP_MEV = 0.05
RECOIL_STEP_MEV = 0.02
NEUTRINO_MIN_MEV = 1.5
RECOIL_MIN_MEV = 1.0
SYSTEMATICS = ("energy_scale", "energy_resolution", "b8_spectrum_shape")


def read_release(release_path) -> tuple[pd.DataFrame, Path]:
    """Read ``sk4_solar_spectrum.csv`` and merge day and night into one row per energy bin.

    Parameters
    ----------
    release_path : str or Path
        Folder holding ``sk4_solar_spectrum.csv`` (SK-IV 2970-day release format).

    Returns
    -------
    (bins, path) : the per-bin table with columns ``E_lo, E_hi`` (kinetic energy, MeV),
        ``rate`` (day+night mean, events/kton/yr), ``stat``, ``syst`` (absolute, same unit),
        ``mc_b8``, ``mc_hep``; and the csv path.
    """
    if release_path is None:
        raise ValueError("likelihoods.superk_iv_spectrum.release_path is required: a folder holding "
                         f"{RELEASE_FILE} (the SK-IV public release); there is no built-in default")
    path = Path(release_path) / RELEASE_FILE
    if not path.is_file():
        raise ValueError(f"likelihoods.superk_iv_spectrum.release_path: {path} not found "
                         f"(expected the SK-IV release file {RELEASE_FILE} in {release_path})")
    table = pd.read_csv(path, comment="#")
    check_frame(table, path, [c for c in CSV_COLUMNS if c != "zenith" and c in table.columns])
    missing = [c for c in CSV_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"likelihoods.superk_iv_spectrum.release_path: {path} lacks columns {missing}")
    day = table[table["zenith"] == "day"].set_index(["E_lo", "E_hi"]).sort_index()
    night = table[table["zenith"] == "night"].set_index(["E_lo", "E_hi"]).sort_index()
    if len(day) == 0 or not day.index.equals(night.index):
        raise ValueError(f"likelihoods.superk_iv_spectrum.release_path: {path} must hold one day and one "
                         "night row per energy bin")
    rate = 0.5 * (day["rate"] + night["rate"])
    bins = pd.DataFrame({
        "rate": rate,
        "stat": 0.5 * np.hypot(day["stat"], night["stat"]),
        # energy-uncorrelated systematics: same % for day and night, fully correlated between them
        "syst": 0.01 * day["syst_uncorr_percent"] * rate,
        "mc_b8": day["mc_b8"],
        "mc_hep": day["mc_hep"],
    }).reset_index()
    return bins, path


def resolution_mev(total_energy_mev, coefficients: dict) -> np.ndarray:
    """SK-IV energy resolution ``sigma = a + b sqrt(E) + c E`` (MeV) at total energy ``E`` (MeV)."""
    e = np.asarray(total_energy_mev, float)
    return coefficients["a"] + coefficients["b"] * np.sqrt(e) + coefficients["c"] * e


def bin_response(recoil_mev: np.ndarray, edges_mev: np.ndarray, coefficients: dict,
                 scale_shift: float = 0.0, resolution_shift: float = 0.0) -> np.ndarray:
    """``G[i, t]``: probability that a true recoil ``T_t`` is reconstructed in bin ``i``.

    Gaussian in reconstructed kinetic energy around ``T (1 + scale_shift)`` with width
    ``(1 + resolution_shift) sigma(T + m_e)``; ``edges_mev`` has shape ``(n_bins, 2)``.
    """
    centre = recoil_mev * (1.0 + scale_shift)
    width = (1.0 + resolution_shift) * resolution_mev(recoil_mev + nue.ELECTRON_MASS_MEV, coefficients)
    return gaussian_interval_probability(edges_mev[:, 0:1], edges_mev[:, 1:2], centre[None, :], width[None, :])


def folded_cross_sections(neutrino_mev: np.ndarray, recoil_mev: np.ndarray,
                          response: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``K_f[i, e] = sum_t dsigma_f/dT(E_e, T_t) G[i, t] dT`` for ``f = e, mu`` (cm^2)."""
    step = np.gradient(recoil_mev)
    out = []
    for flavour in ("e", "mu"):
        dsigma = nue.differential_cross_section_cm2_per_mev(neutrino_mev[:, None], recoil_mev[None, :], flavour)
        out.append(response @ (dsigma * step[None, :]).T)
    return out[0], out[1]


class SuperKSpectrumLikelihood(Likelihood):
    """SK-IV 8B recoil spectrum shape (day+night mean); see the module docstring."""

    name = "superk_iv_spectrum"
    title = "Super-K IV spectrum"
    description = "Super-Kamiokande IV (2970 d) 8B recoil-electron spectrum shape (normalisation free)"
    reads = ("th12", "th13", "th23", "dcp", "dm21")
    nuisance_parameters = {}
    options_allowed = ("release", "release_path", "use", "solar_model", "systematics_file")

    def __init__(self, **options):
        super().__init__(**options)
        self.use = options.get("use", "shape")
        if self.use not in USES:
            raise ValueError(f"likelihoods.superk_iv_spectrum.use: {self.use!r} not allowed; choose from {USES}")
        self.bins, self.release_file = read_release(release_option(options, "likelihoods.superk_iv_spectrum"))
        self.systematics_file = Path(options.get("systematics_file")
                                     or data_path("superk", "sk4_spectrum_systematics.yaml"))
        if not self.systematics_file.is_file():
            raise ValueError(f"likelihoods.superk_iv_spectrum.systematics_file: {self.systematics_file} not found")
        self.systematics = read_yaml(self.systematics_file)
        self.solar_data = [data_path("solar", name) for name in ("measurements.yaml", "spectra.yaml",
                                                                  "compact_solar_model.yaml")]
        latitude = read_yaml(self.solar_data[0])["superk"]["latitude_deg"]
        self.engine = shared_engine(options.get("solar_model"), night=True)
        self.engine.request("8B", "8B", B8_GRID_MEV, {"superk": latitude})
        self.measured = self.bins["rate"].to_numpy(float)
        self.sigma = np.hypot(self.bins["stat"], self.bins["syst"]).to_numpy(float)
        self.weight = 1.0 / self.sigma**2
        self.mc_b8 = self.bins["mc_b8"].to_numpy(float)
        self.mc_hep = self.bins["mc_hep"].to_numpy(float)
        self._build_kernels()

    # --- setup ------------------------------------------------------------------------------
    def _build_kernels(self) -> None:
        """Folded cross sections per bin for the nominal response and the +-1 sigma variations."""
        edges = self.bins[["E_lo", "E_hi"]].to_numpy(float)
        coefficients = self.systematics["resolution_mev"]
        e_max = spectra.endpoint_mev("hep")
        self.neutrino_mev = np.arange(NEUTRINO_MIN_MEV, e_max + NEUTRINO_STEP_MEV, NEUTRINO_STEP_MEV)
        recoil = np.arange(RECOIL_MIN_MEV, edges.max() + 3.0, RECOIL_STEP_MEV)
        d_e = NEUTRINO_STEP_MEV
        self.flux = {s: spectra.spectrum(s, self.neutrino_mev) * d_e for s in ("8B", "hep")}
        shape = self.systematics["b8_spectrum_shape"]
        distortion = np.interp(self.neutrino_mev, shape["energy_mev"], shape["relative_distortion"])
        self.flux_shape_shift = self.flux["8B"] * distortion
        scale = float(self.systematics["energy_scale_fractional_sigma"])
        reso = float(self.systematics["energy_resolution_fractional_sigma"])
        variants = {"nominal": (0.0, 0.0), "scale+": (scale, 0.0), "scale-": (-scale, 0.0),
                    "reso+": (0.0, reso), "reso-": (0.0, -reso)}
        self.kernels = {}
        for label, (s, r) in variants.items():
            response = bin_response(recoil, edges, coefficients, s, r)
            self.kernels[label] = folded_cross_sections(self.neutrino_mev, recoil, response)
        k_e, _ = self.kernels["nominal"]
        self.unoscillated = {s: k_e @ self.flux[s] for s in ("8B", "hep")}
        # the survival probability enters linearly: S = K_mu phi + (K_e - K_mu) (phi P), so the
        # P-independent part and the difference matrices (all variants side by side) are kept
        self._signal_at_no_electron_flavour = {
            label: (k_mu @ self.flux["8B"], k_mu @ self.flux["hep"], k_mu @ self.flux_shape_shift)
            for label, (k_e, k_mu) in self.kernels.items()}
        self._b8_differences = np.concatenate([(k_e - k_mu).T for k_e, k_mu in self.kernels.values()], axis=1)
        self._nominal_difference = (self.kernels["nominal"][0] - self.kernels["nominal"][1]).T
        # linear interpolation from the engine's 8B grid (held constant beyond its ends), as a matrix
        self._from_engine_grid = np.stack([np.interp(self.neutrino_mev, B8_GRID_MEV, unit)
                                           for unit in np.eye(len(B8_GRID_MEV))])

    # --- forward model ------------------------------------------------------------------------
    def survival(self, point: Point) -> np.ndarray:
        """Day/night-averaged three-flavour ``P_ee`` of 8B on the internal neutrino grid.

        From the shared solar engine (`globalfit.physics.solar_flavour`, the same forward model
        as `likelihoods.solar`) on its 8B grid, interpolated linearly; held constant beyond the
        ends of that grid (3.125-16.375 MeV).
        """
        return self._survival([point])[0]

    def _survival(self, points) -> np.ndarray:
        """`survival` of each point, shape (n_points, n_neutrino_energies)."""
        oscs = [SolarOscillation.from_parameters(p.params, p.couplings.eps0, f"likelihood {self.name}")
                for p in points]
        p_mean = self.engine.evaluate_batch(oscs).p_ee("8B", "average", "superk")
        return p_mean @ self._from_engine_grid

    def components(self, point: Point) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(b8, hep, shifts)``: 8B and hep rates per bin at unit 8B normalisation
        (events/kton/yr) and the fractional +1 sigma effects ``f[k, i]`` of the systematics
        `SYSTEMATICS` on the 8B rate."""
        return tuple(part[0] for part in self._components(self.survival(point)[None]))

    def _components(self, p_ee: np.ndarray):
        """`components` for survival probabilities ``p_ee`` (n_points, n_neutrino_energies):
        ``b8``, ``hep`` (n_points, n_bins) and ``shifts`` (n_points, 3, n_bins)."""
        n_bins = len(self.measured)
        base = self._signal_at_no_electron_flavour
        b8_signals = ((self.flux["8B"] * p_ee) @ self._b8_differences).reshape(len(p_ee), len(self.kernels), n_bins)
        signal = {label: base[label][0] + b8_signals[:, i] for i, label in enumerate(self.kernels)}
        s8 = signal["nominal"]
        s_hep = base["nominal"][1] + (self.flux["hep"] * p_ee) @ self._nominal_difference
        b8 = self.mc_b8 * s8 / self.unoscillated["8B"]
        hep = self.mc_hep * s_hep / self.unoscillated["hep"]
        shifts = np.stack([
            0.5 * (signal["scale+"] - signal["scale-"]),
            0.5 * (signal["reso+"] - signal["reso-"]),
            base["nominal"][2] + (self.flux_shape_shift * p_ee) @ self._nominal_difference,
        ], axis=1) / s8[:, None, :]
        return b8, hep, shifts

    def fit(self, point: Point) -> dict:
        """Profile the 8B normalisation and the correlated systematics (exact linear least squares).

        Returns a dict with ``chi2``, ``norm`` (8B normalisation relative to SK's MC flux 5.25e6),
        ``pulls`` (one per `SYSTEMATICS`, in sigma), ``predicted`` (events/kton/yr per bin) and
        ``unoscillated_ratio`` (8B prediction over SK's unoscillated 8B MC, at unit normalisation).
        """
        result = self._fit(self.survival(point)[None])
        return {key: float(value[0]) if key in ("chi2", "norm") else value[0] for key, value in result.items()}

    def _fit(self, p_ee: np.ndarray) -> dict:
        """`fit` for survival probabilities ``p_ee`` (n_points, n_neutrino_energies): each entry
        with a leading point axis."""
        b8, hep, shifts = self._components(p_ee)
        w = self.weight
        data = self.measured - hep
        norm0 = np.sum(w * b8 * data, axis=1) / np.sum(w * b8 * b8, axis=1)
        design = np.concatenate([b8[..., None], norm0[:, None, None] * b8[..., None] * np.swapaxes(shifts, 1, 2)],
                                axis=2)
        prior = np.diag([0.0] + [1.0] * len(SYSTEMATICS))
        design_t = np.swapaxes(design, 1, 2)
        theta = np.linalg.solve(design_t @ (w[:, None] * design) + prior, (design_t @ (w * data)[..., None]))[..., 0]
        fitted = (design @ theta[..., None])[..., 0]
        residual = data - fitted
        chi2 = np.sum(w * residual**2, axis=1) + np.sum(theta[:, 1:] ** 2, axis=1)
        return {"chi2": chi2, "norm": theta[:, 0], "pulls": theta[:, 1:], "predicted": fitted + hep,
                "unoscillated_ratio": b8 / self.mc_b8}

    def loglike(self, point: Point) -> float:
        return float(self.loglike_batch([point])[0])

    def loglike_batch(self, points) -> np.ndarray:
        """``ln L`` of each point (one vectorised forward model and fit for all)."""
        return -0.5 * self._fit(self._survival(points))["chi2"]

    def observables(self, point: Point) -> pd.DataFrame:
        result = self.fit(point)
        labels = [f"R({lo:.2f}-{hi:.2f} MeV) [ev/kton/yr]" for lo, hi in zip(self.bins["E_lo"], self.bins["E_hi"])]
        table = pd.DataFrame({"observable": labels, "predicted": result["predicted"],
                              "measured": self.measured, "uncertainty": self.sigma})
        extra = pd.DataFrame({
            "observable": ["norm_8B (x 5.25e6 cm^-2 s^-1, free)"] + [f"pull_{k}" for k in SYSTEMATICS],
            "predicted": [result["norm"]] + list(result["pulls"]),
            "measured": [np.nan] + [0.0] * len(SYSTEMATICS),
            "uncertainty": [np.inf] + [1.0] * len(SYSTEMATICS),
        })
        return pd.concat([table, extra], ignore_index=True)

    def data_files(self) -> list[Path]:
        files = [self.release_file, self.systematics_file] + self.solar_data
        return files + ([Path(self.options["solar_model"])] if self.options.get("solar_model") else [])

    def approximations(self) -> list[str]:
        return [
            "Spectrum SHAPE only: 8B normalisation free (SK total rate and A_DN are in `solar`: no double counting).",
            "Day+night mean rate per bin with P_ee = (P_day + P_night_superk)/2; no zenith-binned night spectrum.",
            "Efficiency from SK's MC: prediction = SK MC x (our oscillated / our unoscillated rate) per bin.",
            "Gaussian SK-IV resolution (transcribed, VERIFIED-3P); energy scale (0.48 %), resolution (3 %) and 8B "
            "shape (Winter 2006) as linearised Gaussian nuisances, recomputed at each point and profiled.",
            "Tree-level nu-e cross sections (no T-dependent radiative corrections, < 2 % on the 8B shape).",
            "Compact 8B spectrum (effective endpoint 14.8 MeV): the top bins rely on the resolution tail and hep.",
            "hep at SK's MC flux 7.88e3 cm^-2 s^-1 with the 8B P_ee; P_ee held constant outside 3.125-16.4 MeV.",
        ]
