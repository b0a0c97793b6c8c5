"""Solar neutrinos: radiochemical, Borexino, Super-Kamiokande and SNO, with NSI in propagation.

Observables (numbers and sources in ``data/solar/measurements.yaml``):

* Homestake Cl and the combined Ga (GALLEX/GNO + SAGE) capture rates in SNU, with
  spectrum-averaged cross sections per source and cross-section-weighted 8B/hep responses
  (``data/solar/radiochemical.yaml``);
* Borexino Phase-II pp, 7Be (862 keV line) and pep interaction rates, the 8B rate above
  3 MeV recoil energy and the Phase-III CNO rate (cpd/100 t), with the nu-e elastic cross
  sections of ``globalfit.physics.neutrino_electron``;
* Super-Kamiokande I-IV: the 8B elastic-scattering flux (equivalent unoscillated flux above a
  4.5 MeV recoil threshold) and the day-night asymmetry ``A_DN = 2 (D - N) / (D + N)``;
* SNO (three phases combined): the NC 8B flux and the survival-probability polynomial
  ``P_day(E) = c0 + c1 (E - 10) + c2 (E - 10)^2`` and day-night asymmetry
  ``A(E) = a0 + a1 (E - 10)`` with their 6x6 covariance. The model's coefficients are the
  weighted least-squares polynomial fits to its own ``P_ee^day(E)`` and ``A(E)`` with the
  detected-spectrum weights (SNO Table XXVI if ``sno_table:`` points at it, otherwise the
  built-in approximation ``phi_8B(E) (E - 1.442)^2.3`` with a threshold turn-on).

Survival probabilities: from the shared solar engine ``globalfit.physics.solar_flavour``
(one forward model per point, shared with ``superk_iv_spectrum``): adiabatic,
production-averaged day ``P_ee`` per source in the built-in compact solar model or a full table
(``solar_model:``), with NSI from the point's couplings (``eps_D``, ``eps_N`` per electron and
per neutron); night ``P_ee`` for 8B in SK and SNO from Earth regeneration (PREM) averaged
over each detector's nadir exposure (from its latitude) and over 5 % in energy, from the
second-order kernels of ``globalfit.physics.earth_regeneration`` (``night: true``, default),
exact layered evolution (``night: exact``, slow) or not at all (``night: false``).

Fluxes: B16-GS98 (``data/solar/fluxes_b16_gs98.yaml``) times normalisations ``f_s``. The
predictions are linear in ``f_s``, so the ``f_s`` are profiled analytically inside
``loglike``: ``chi2 = min_f [ r^T C^-1 r + sum_s (f_s - 1)^2 / sigma_s^2 ]`` with the B16
uncertainties as Gaussian constraints, except 8B, whose normalisation is free (fixed by SNO's
NC flux). ``observables`` and ``profiled_fluxes`` report the minimising ``f_s``. When the card
has the shared 8B flux normalisation ``shared.flux_8b`` (`likelihoods.shared_nuisances`, declared by
the xenon CEvNS likelihoods), ``f_8B`` is that parameter instead of profiled, so both fit one flux.
"""
from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from globalfit.datafile import read_yaml
from globalfit.datafiles import check_frame
from globalfit.likelihood import Likelihood, Point
from globalfit.paths import data_path
from globalfit.physics import neutrino_electron as nue
from globalfit.physics import solar_spectra as spectra
from globalfit.physics.constants import SECONDS_PER_DAY
from globalfit.physics.solar import SolarOscillation
from globalfit.physics.solar_flavour import B8_GRID_MEV, NIGHT_MODES, shared_engine
from globalfit.physics.solar_model import SOURCES
from globalfit.releases import release_option
from likelihoods.shared_nuisances import FLUX_8B

DATA_DIR = data_path("solar")
OBSERVABLES = ("chlorine_snu", "gallium_snu", "borexino_pp", "borexino_7be", "borexino_pep",
               "borexino_cno", "borexino_8b", "superk_es_flux", "sno_phi_b8", "sno_c0", "sno_c1",
               "sno_c2", "sno_a0", "sno_a1", "superk_adn")
SNU = 1.0e-36
CROSS_SECTION_UNIT_CM2 = 1.0e-46


ADN_FILE = data_path("superk", "sk1to4_day_night.yaml")
ADN_COLUMNS = ("dm2_21", "adn_fit", "adn_lo", "adn_hi")


def read_adn_table(path) -> pd.DataFrame:
    """SK's A_DN amplitude fit versus ``Dm21`` (csv: ``dm2_21`` in 1e-5 eV^2, ``adn_fit``,
    ``adn_lo``, ``adn_hi`` in percent; e.g. ``sk1to4_adn_vs_dm2.csv`` of the SK release folder)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"likelihoods.solar.superk_adn_table: {path} is not a file (SK's A_DN amplitude fit "
                         f"vs dm2_21, e.g. ../shared/data/superk/sk1to4_adn_vs_dm2_truncated.csv)")
    table = pd.read_csv(path, comment="#")
    missing = [c for c in ADN_COLUMNS if c not in table.columns]
    if missing or len(table) < 2 or not np.all(np.diff(table["dm2_21"]) > 0):
        raise ValueError(f"likelihoods.solar.superk_adn_table: {path} needs columns {ADN_COLUMNS} with increasing "
                         f"dm2_21 (missing: {missing})")
    syst = float(read_yaml(ADN_FILE)["amplitude_fit"]["systematic_percent"])
    return pd.DataFrame({"dm21_ev2": 1e-5 * table["dm2_21"].to_numpy(float),
                         "value": 0.01 * table["adn_fit"].to_numpy(float),
                         "sigma": 0.01 * np.hypot(0.5 * (table["adn_hi"] - table["adn_lo"]).to_numpy(float), syst)})


def adn_at(table: pd.DataFrame, dm21_ev2, path):
    """``(A_DN, sigma)`` of the amplitude fit at ``dm21_ev2`` (linear interpolation): floats, or
    arrays of the shape of ``dm21_ev2``."""
    x = table["dm21_ev2"].to_numpy()
    dm21 = np.asarray(dm21_ev2, float)
    if not (x[0] <= dm21.min() and dm21.max() <= x[-1]):
        outside = dm21[(dm21 < x[0]) | (dm21 > x[-1])].flat[0]
        raise ValueError(f"likelihoods.solar.superk_adn_table: dm21 = {outside:.3g} eV^2 is outside the table "
                         f"{path} ({x[0]:.3g}-{x[-1]:.3g} eV^2); restrict the dm21 prior to it or use a table that "
                         f"covers it")
    value, sigma = np.interp(dm21, x, table["value"]), np.interp(dm21, x, table["sigma"])
    if dm21.ndim == 0:
        return float(value), float(sigma)
    return value, sigma


def _load_yaml(name: str) -> dict:
    return read_yaml(DATA_DIR / name)


class SolarLikelihood(Likelihood):
    """Global solar data (Cl, Ga, Borexino, Super-K, SNO); see the module docstring."""

    name = "solar"
    title = "Solar"
    description = ("Solar neutrinos: Cl, Ga, Borexino (pp, 7Be, pep, CNO, 8B), Super-K (8B, A_DN), "
                   "SNO (NC, P_ee polynomial)")
    reads = ("th12", "th13", "th23", "dcp", "dm21")
    nuisance_parameters = {}
    options_allowed = ("solar_model", "sno_table", "sno_release", "night", "exclude", "superk_adn_table",
                       "superk_adn_release")

    def __init__(self, **options):
        super().__init__(**options)
        self.measurements = _load_yaml("measurements.yaml")
        fluxes = _load_yaml("fluxes_b16_gs98.yaml")
        self.ssm_flux = np.array([float(fluxes["flux"][s]) for s in SOURCES])
        self.flux_sigma = np.array([fluxes["fractional_uncertainty"][s] for s in SOURCES])
        self.flux_prior_weight = 1.0 / self.flux_sigma**2
        self.flux_prior_weight[SOURCES.index("8B")] = 0.0
        self._flux_prior_matrix = np.diag(self.flux_prior_weight)
        self._free_sources = np.flatnonzero(self.flux_prior_weight == 0)
        self.radiochemical = _load_yaml("radiochemical.yaml")
        self.night_mode = options.get("night", True)
        if self.night_mode not in NIGHT_MODES:
            raise ValueError(f"likelihoods.solar.night: {self.night_mode!r} not allowed; choose true (perturbative "
                             f"kernels, default), false (day only) or 'exact' (layered evolution, slow)")
        self.include_night = self.night_mode is not False
        self.engine = shared_engine(options.get("solar_model"), self.night_mode)
        self.solar_model = self.engine.solar_model
        excluded = options.get("exclude", []) or []
        unknown = set(excluded) - set(OBSERVABLES)
        if unknown:
            raise ValueError(f"likelihoods.solar.exclude: unknown observables {sorted(unknown)}; allowed {OBSERVABLES}")
        self.used = np.array([name not in excluded for name in OBSERVABLES])
        self.sno_table_path = release_option(options, "likelihoods.solar", release_key="sno_release",
                                             path_key="sno_table", file="sno_sensitivity.csv")
        self.latitudes = {d: self.measurements[d]["latitude_deg"] for d in ("superk", "sno")}
        self._build_energy_grids()
        self._build_measurements()
        self.adn_table_path = release_option(options, "likelihoods.solar", release_key="superk_adn_release",
                                             path_key="superk_adn_table", file="sk1to4_adn_vs_dm2_truncated.csv")
        self.adn_table = read_adn_table(self.adn_table_path) if self.adn_table_path else None

    # --- setup ------------------------------------------------------------------------------
    def _build_energy_grids(self) -> None:
        m = self.measurements
        self.e_radio = np.array(self.radiochemical["bin_edges_mev"], float)
        self.e_radio = 0.5 * (self.e_radio[1:] + self.e_radio[:-1])
        self.e8 = B8_GRID_MEV
        phi8 = spectra.spectrum("8B", self.e8) * 0.25
        sk_threshold = m["superk"]["recoil_threshold_mev"]
        bx_threshold = m["borexino"]["8B"]["threshold_mev"]
        self.sk_sigma = (phi8 * nue.integrated_cross_section_cm2(self.e8, "e", sk_threshold),
                         phi8 * nue.integrated_cross_section_cm2(self.e8, "mu", sk_threshold))
        self.bx8_sigma = (phi8 * nue.integrated_cross_section_cm2(self.e8, "e", bx_threshold),
                          phi8 * nue.integrated_cross_section_cm2(self.e8, "mu", bx_threshold))
        self.low_grids = {}
        for source in ("pp", "13N", "15O", "17F"):
            edges = np.linspace(0, spectra.endpoint_mev(source), 25)
            centres = 0.5 * (edges[1:] + edges[:-1])
            phi = spectra.spectrum(source, centres) * np.diff(edges)
            self.low_grids[source] = (centres, phi / phi.sum())
        self.sno_weights = self._sno_weights()
        x = self.e8 - m["sno"]["polynomial_pivot_mev"]
        basis = np.stack([np.ones_like(x), x, x**2], axis=1)
        self.sno_c_projector = np.linalg.solve(basis.T @ (basis * self.sno_weights[:, None]),
                                               (basis * self.sno_weights[:, None]).T)
        self.sno_a_projector = np.linalg.solve(basis[:, :2].T @ (basis[:, :2] * self.sno_weights[:, None]),
                                               (basis[:, :2] * self.sno_weights[:, None]).T)
        requests = {"8B_radio": ("8B", self.e_radio), "hep_radio": ("hep", self.e_radio)}
        requests.update({source: (source, energy) for source, (energy, _) in self.low_grids.items()})
        requests.update({source: (source, spectra.lines(source)[0][0]) for source in ("7Be", "pep")})
        for key, (source, energy) in requests.items():
            self.engine.request(key, source, energy)
        self.engine.request("8B", "8B", self.e8, self.latitudes if self.include_night else None)

    def _sno_weights(self) -> np.ndarray:
        if self.sno_table_path is None:
            e = self.e8
            from scipy.special import erf

            return (spectra.spectrum("8B", e) * np.clip(e - 1.442, 0, None) ** 2.3
                    * 0.5 * (1 + erf((e - 5.5) / 1.0)))
        path = Path(self.sno_table_path)
        if not path.is_file():
            raise ValueError(f"likelihoods.solar.sno_table: {path} is not a file (SNO Table XXVI csv expected)")
        table = check_frame(pd.read_csv(path, comment="#"), path,
                            ("E_lo", "E_hi", "CC_day", "CC_night"))
        centre = 0.5 * (table["E_lo"] + table["E_hi"]).to_numpy()
        weight = (table["CC_day"] + table["CC_night"]).to_numpy(float)
        return np.interp(self.e8, centre, weight, left=0.0, right=0.0)

    def _build_measurements(self) -> None:
        m = self.measurements
        bx = m["borexino"]["phase2"]

        def symmetric(entry):
            return np.hypot(entry["stat"], 0.5 * (entry["syst_plus"] + entry["syst_minus"]))

        b8 = m["borexino"]["8B"]
        cno = m["borexino"]["cno"]
        sk = m["superk"]
        sno = m["sno"]
        central = [m["chlorine"]["rate_snu"], m["gallium"]["rate_snu"], bx["pp"]["rate_cpd_100t"],
                   bx["7Be_862"]["rate_cpd_100t"], bx["pep"]["rate_cpd_100t"], cno["rate_cpd_100t"],
                   b8["rate_cpd_100t"], sk["es_flux_1e6"]] + list(sno["central"]) + [sk["day_night_asymmetry"]]
        sigma = [np.hypot(m["chlorine"]["stat"], m["chlorine"]["syst"]),
                 np.hypot(m["gallium"]["stat"], m["gallium"]["syst"]),
                 symmetric(bx["pp"]), symmetric(bx["7Be_862"]), symmetric(bx["pep"]),
                 0.5 * (cno["plus"] + cno["minus"]),
                 np.hypot(0.5 * (b8["stat_plus"] + b8["stat_minus"]), b8["syst"]), np.hypot(sk["stat"], sk["syst"])]
        sno_sigma = np.hypot(sno["stat"], sno["syst"])
        covariance = np.diag(np.array(sigma + list(sno_sigma) + [np.hypot(sk["dn_stat"], sk["dn_syst"])]) ** 2)
        covariance[8:14, 8:14] = np.outer(sno_sigma, sno_sigma) * np.array(sno["correlation"])
        self.measured = np.array(central, float)[self.used]
        self.covariance = covariance[np.ix_(self.used, self.used)]
        self.inverse_covariance = np.linalg.inv(self.covariance)
        self.electrons_per_100t = float(m["borexino"]["electrons_per_100t"]["value"])

    # --- forward model ------------------------------------------------------------------------
    def probabilities(self, osc: SolarOscillation) -> dict:
        """``P_ee`` (three-flavour) needed by the observables, per source and grid.

        Keys: ``8B_radio``, ``hep_radio`` (on the radiochemical grid), ``8B_day``,
        ``8B_night_superk``, ``8B_night_sno`` (on `e8`), the low-energy sources ``pp``, ``13N``,
        ``15O``, ``17F`` (on their grids) and the lines ``7Be``, ``pep`` (floats). From the
        shared `globalfit.physics.solar_flavour` engine (one forward model per point).
        """
        out = {key: value[0] for key, value in self._probabilities(self.engine.evaluate_batch([osc])).items()}
        return out | {line: float(out[line]) for line in ("7Be", "pep")}

    def _probabilities(self, evaluation) -> dict:
        """`probabilities` at every point of a `SolarBatchEvaluation`: a leading point axis
        (the lines have shape (n_points,))."""
        out = {key: evaluation.p_ee(key) for key in ("8B_radio", "hep_radio", *self.low_grids)}
        for line in ("7Be", "pep"):
            out[line] = evaluation.p_ee(line)[:, 0]
        out["8B_day"] = evaluation.p_ee("8B")
        for detector in ("superk", "sno"):
            out[f"8B_night_{detector}"] = (evaluation.p_ee("8B", "night", detector) if self.include_night
                                           else out["8B_day"])
        return out

    def _es_rate_factor(self, source: str, p) -> np.ndarray:
        """``<P sigma_e + (1 - P) sigma_mu>`` over a source's spectrum, cm^2 (T > 0), per point
        (``p`` with a leading point axis)."""
        s_e, s_mu = self._es_sigma[source]
        if source in ("7Be", "pep"):
            return p * s_e + (1 - p) * s_mu
        return (p * s_e + (1 - p) * s_mu) @ self.low_grids[source][1]

    @cached_property
    def _es_sigma(self) -> dict:
        """Total nu_e and nu_mu elastic cross sections (cm^2) on each low-energy grid and line."""
        energies = {s: e for s, (e, _) in self.low_grids.items()}
        energies.update({line: spectra.lines(line)[0][0] for line in ("7Be", "pep")})
        return {s: (nue.integrated_cross_section_cm2(e, "e"), nue.integrated_cross_section_cm2(e, "mu"))
                for s, e in energies.items()}

    @cached_property
    def _radiochemical_response(self) -> dict:
        """(target, source) -> the 8B / hep response on the radiochemical grid, as arrays."""
        return {(target, source): np.asarray(self.radiochemical[target][f"response_{source}"], float)
                for target in ("chlorine", "gallium") for source in ("8B", "hep")}

    def design(self, osc: SolarOscillation):
        """Linear model of the observables: ``prediction = A @ f + b``, ``f`` the flux
        normalisations in the order of `SOURCES`. Returns ``(A, b)`` for all `OBSERVABLES`."""
        a, b = self._design(self.engine.evaluate_batch([osc]))
        return a[0], b[0]

    def _design(self, evaluation):
        """`design` at every point of a `SolarBatchEvaluation`: ``A`` (n_points, n_obs, n_src)
        and ``b`` (n_points, n_obs)."""
        p = self._probabilities(evaluation)
        n_points, n_obs, n_src = len(evaluation), len(OBSERVABLES), len(SOURCES)
        a = np.zeros((n_points, n_obs, n_src))
        b = np.zeros((n_points, n_obs))
        index = {s: i for i, s in enumerate(SOURCES)}
        # radiochemical
        for row, target in ((0, "chlorine"), (1, "gallium")):
            table = self.radiochemical[target]
            sigma = table["averaged_cross_section"]
            for source in SOURCES:
                if source in ("8B", "hep"):
                    mean_p = p[f"{source}_radio"] @ self._radiochemical_response[target, source]
                elif source in ("7Be", "pep"):
                    mean_p = p[source]
                else:
                    mean_p = p[source] @ self.low_grids[source][1]
                a[:, row, index[source]] = (self.ssm_flux[index[source]] * sigma[source]
                                            * CROSS_SECTION_UNIT_CM2 * mean_p / SNU)
        # Borexino (rates in counts per day per 100 t)
        scale = self.electrons_per_100t * SECONDS_PER_DAY
        a[:, 2, index["pp"]] = scale * self.ssm_flux[index["pp"]] * self._es_rate_factor("pp", p["pp"])
        be7_branch = spectra.lines("7Be")[0][1]
        a[:, 3, index["7Be"]] = (scale * self.ssm_flux[index["7Be"]] * be7_branch
                                 * self._es_rate_factor("7Be", p["7Be"]))
        a[:, 4, index["pep"]] = scale * self.ssm_flux[index["pep"]] * self._es_rate_factor("pep", p["pep"])
        for source in ("13N", "15O", "17F"):
            a[:, 5, index[source]] = scale * self.ssm_flux[index[source]] * self._es_rate_factor(source, p[source])
        p8_avg = 0.5 * (p["8B_day"] + p["8B_night_superk"])
        s_e, s_mu = self.bx8_sigma
        a[:, 6, index["8B"]] = scale * self.ssm_flux[index["8B"]] * np.sum(p8_avg * s_e + (1 - p8_avg) * s_mu, axis=1)
        # Super-K ES flux (1e6 cm^-2 s^-1, equivalent unoscillated) and day-night asymmetry
        s_e, s_mu = self.sk_sigma
        day_rate = np.sum(p["8B_day"] * s_e + (1 - p["8B_day"]) * s_mu, axis=1)
        night_rate = np.sum(p["8B_night_superk"] * s_e + (1 - p["8B_night_superk"]) * s_mu, axis=1)
        a[:, 7, index["8B"]] = self.ssm_flux[index["8B"]] * 1e-6 * 0.5 * (day_rate + night_rate) / np.sum(s_e)
        b[:, 14] = 2.0 * (day_rate - night_rate) / (day_rate + night_rate)
        # SNO
        a[:, 8, index["8B"]] = self.ssm_flux[index["8B"]] * 1e-6
        b[:, 9:12] = p["8B_day"] @ self.sno_c_projector.T
        asymmetry = 2.0 * (p["8B_night_sno"] - p["8B_day"]) / (p["8B_night_sno"] + p["8B_day"])
        b[:, 12:14] = asymmetry @ self.sno_a_projector.T
        return a, b

    def measurement(self, osc: SolarOscillation):
        """``(measured, covariance, inverse covariance)`` of the used observables at ``osc``.

        Fixed, except with ``superk_adn_table:``, where SK's A_DN is its amplitude fit at the
        point's ``Dm21`` (statistical band and a 0.32 % systematic in quadrature)."""
        parts = self._measurement(np.array([osc.dm21_ev2]))
        return parts if parts[0].ndim == 1 else tuple(part[0] for part in parts)

    def _measurement(self, dm21_ev2: np.ndarray):
        """`measurement` at each ``Dm21`` of ``dm21_ev2`` (n_points,): arrays with a leading
        point axis, or the fixed ones (no point axis, they broadcast) where nothing depends on
        the point."""
        if self.adn_table is None or not self.used[-1]:
            return self.measured, self.covariance, self.inverse_covariance
        value, sigma = adn_at(self.adn_table, dm21_ev2, self.adn_table_path)
        n_points = len(dm21_ev2)
        measured = np.repeat(self.measured[None], n_points, axis=0)
        covariance = np.repeat(self.covariance[None], n_points, axis=0)
        inverse = np.repeat(self.inverse_covariance[None], n_points, axis=0)
        measured[:, -1], covariance[:, -1, -1] = value, sigma**2
        inverse[:, -1, -1] = 1.0 / sigma**2  # A_DN is uncorrelated with the other observables
        return measured, covariance, inverse

    def profiled_fluxes(self, osc: SolarOscillation, flux_8b: float | None = None):
        """``(f, chi2)``: flux normalisations minimising the chi^2 and the minimum; ``flux_8b``
        fixes the 8B normalisation (the shared nuisance) instead of profiling it."""
        f, chi2 = self._profiled_fluxes(self.engine.evaluate_batch([osc]),
                                        None if flux_8b is None else np.array([flux_8b], float))
        return f[0], float(chi2[0])

    def _profiled_fluxes(self, evaluation, flux_8b: np.ndarray | None = None):
        """`profiled_fluxes` at every point of a `SolarBatchEvaluation` (``flux_8b``: None or
        one value per point): ``f`` (n_points, n_src) and chi^2 (n_points,)."""
        a, b = self._design(evaluation)
        used = np.flatnonzero(self.used)
        a, b = a[:, used], b[:, used]
        measured, _, w = self._measurement(np.array([osc.dm21_ev2 for osc in evaluation.oscs]))
        residual0 = measured - b
        b8 = SOURCES.index("8B")
        if flux_8b is not None:
            residual0 = residual0 - a[:, :, b8] * flux_8b[:, None]
            a[:, :, b8] = 0.0  # no column, no prior: solved as 0 below, then set
        a_w = np.swapaxes(a, 1, 2) @ w
        lhs = a_w @ a
        lhs += self._flux_prior_matrix
        rhs = (a_w @ residual0[..., None])[..., 0] + self.flux_prior_weight
        # a free normalisation (8B) that no used observable sees: fix it (f = 0) instead of a singular solve
        free = self._free_sources
        rows, columns = np.nonzero(~np.any(a[:, :, free] != 0, axis=1))
        lhs[rows, free[columns], free[columns]] = 1.0
        f = np.linalg.solve(lhs, rhs[..., None])[..., 0]
        r = residual0 - (a @ f[..., None])[..., 0]
        r_w = r @ w if w.ndim == 2 else (r[:, None, :] @ w)[:, 0]
        chi2 = np.sum(r_w * r, axis=1) + (f - 1.0) ** 2 @ self.flux_prior_weight
        if flux_8b is not None:
            f[:, b8] = flux_8b
        return f, chi2

    def oscillation(self, point: Point) -> SolarOscillation:
        """The point's two-state parameters; every oscillation parameter must be set."""
        return SolarOscillation.from_parameters(point.params, point.couplings.eps0, f"likelihood {self.name}")

    def loglike(self, point: Point) -> float:
        return float(self.loglike_batch([point])[0])

    def loglike_batch(self, points) -> np.ndarray:
        """``ln L`` of each point (one vectorised forward model and flux profile for all)."""
        flux_8b = [point.params.get(FLUX_8B) for point in points]
        if all(value is None for value in flux_8b):
            flux_8b = None
        elif any(value is None for value in flux_8b):
            raise ValueError(f"likelihoods.solar: {FLUX_8B} is set at some points of the batch but not at others; "
                             f"every point of a run card has it or none")
        evaluation = self.engine.evaluate_batch([self.oscillation(p) for p in points])
        _, chi2 = self._profiled_fluxes(evaluation, None if flux_8b is None else np.array(flux_8b, float))
        return -0.5 * chi2

    def observables(self, point: Point) -> pd.DataFrame:
        osc = self.oscillation(point)
        f, _ = self.profiled_fluxes(osc, point.params.get(FLUX_8B))
        a, b = self.design(osc)
        predicted = (a @ f + b)[self.used]
        names = [n for n, u in zip(OBSERVABLES, self.used) if u]
        measured, covariance, _ = self.measurement(osc)
        table = pd.DataFrame({"observable": names, "predicted": predicted, "measured": measured,
                              "uncertainty": np.sqrt(np.diag(covariance))})
        fluxes = pd.DataFrame({"observable": [f"flux_norm_{s}" for s in SOURCES], "predicted": f,
                               "measured": 1.0,
                               "uncertainty": np.where(self.flux_prior_weight > 0, self.flux_sigma, np.inf)})
        return pd.concat([table, fluxes], ignore_index=True)

    def data_files(self) -> list[Path]:
        files = [DATA_DIR / n for n in ("measurements.yaml", "fluxes_b16_gs98.yaml", "radiochemical.yaml",
                                        "spectra.yaml", "compact_solar_model.yaml")]
        if self.options.get("solar_model"):
            files.append(Path(self.options["solar_model"]))
        if self.sno_table_path:
            files.append(Path(self.sno_table_path))
        if self.adn_table_path:
            files += [Path(self.adn_table_path), ADN_FILE]
        return files

    def approximations(self) -> list[str]:
        return [
            f"Solar model: {self.solar_model.name}; Y_n from a hydrogen-helium X(r) fit.",
            "Adiabatic day-time P_ee (validated against numerical evolution to < 1e-3).",
            "Night regeneration only for 8B in SK and SNO (PREM, latitude-based nadir exposure, averaged over 5 % in "
            "energy); " + ("exact layered evolution." if self.night_mode == "exact" else
                           "second-order perturbative Earth kernels (0.1-0.3 % of the regeneration against exact "
                           "evolution; exact outside the tabulated Dm21/2E)." if self.include_night
                           else "switched off.")
            + " Borexino, Cl and Ga use the day P_ee (for 8B in Borexino the SK day/night average).",
            "nu-e cross sections at tree level with low-energy sin^2 theta_W and rho_NC; no detector resolution; sharp "
            "recoil thresholds (SK 4.5 MeV, Borexino 8B 3 MeV).",
            "Asymmetric errors symmetrised (Borexino CNO: 6.7 +- 1.4 cpd/100 t); flux normalisations profiled "
            "analytically with B16-GS98 Gaussian constraints (8B free); no luminosity constraint.",
            "SNO polynomial coefficients from a weighted fit of the model's P_ee(E) "
            + ("with Table XXVI CC weights." if self.sno_table_path else "with built-in approximate CC weights."),
            ("SK A_DN: SK I-IV amplitude fit at the point's Dm21 (digitised figure of arXiv:2312.12907, linear "
             "interpolation, statistical band + 0.32 % systematic), compared with the model's 2 (D - N) / (D + N) "
             "above 4.5 MeV." if self.adn_table_path else
             "SK A_DN: the 2014 SK I-IV number (-3.2 +- 1.1 +- 0.5 %), independent of Dm21."),
            "SK total rate: SK I-IV 2014 (2.37 +- 0.015 +- 0.04 e6 cm^-2 s^-1).",
        ]
