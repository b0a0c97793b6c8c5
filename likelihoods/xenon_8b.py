"""Solar 8B neutrinos seen by CEvNS in xenon dark-matter detectors: XENONnT, PandaX-4T and a
next-generation projection (docs/likelihoods/xenon_8b.md).

Forward model (`globalfit.physics.solar_cevns.SolarCEvNS`): 8B and hep neutrinos with B16-GS98
fluxes (8B times the shared nuisance ``shared.flux_8b``), flavour composition at the Earth from the
shared solar engine (day/night average at the laboratory's latitude, NSI in solar and Earth
matter from the point's couplings), CEvNS on natural xenon with the Helm form factor and the
NSI / light-mediator charges of each flavour at ``Q^2 = 2 M T``, times each experiment's
detection efficiency in recoil energy.

Measurement. Each collaboration converted its fitted signal into an 8B flux assuming the
Standard Model cross section (flavour blind), so the published flux is the signal strength
relative to the SM expectation, ``mu = N / N_SM``, times the reference flux. The likelihood
compares the point's SM-equivalent flux ``phi_B16 * mu(point)`` with the published one:
``chi^2 = ((phi_B16 mu - phi) / sigma_pm)^2`` with ``sigma_+`` above and ``sigma_-`` below
(`globalfit.statistics.asymmetric_gaussian_chi2`). ``mu`` is ``shared.flux_8b`` times the NSI /
light-mediator / flavour factor of the detector's recoil window, so the collaboration's own
efficiency enters only through the recoil-energy weighting of that factor.

* ``xenonnt_8b``: efficiency from XENONnT's data release (``data/xenon/xenonnt_8b.yaml``);
  ``(4.7 +3.6 -2.3) x 10^6 cm^-2 s^-1``.
* ``pandax4t_8b``: paired (1.1 keV) and US2 (0.33 keV) samples, sharp thresholds (the
  efficiencies are in the paper body, not reached), combined with Fisher weights
  ``s^2 / (s + b)`` of the abstract's best-fit signals and backgrounds; ``(8.4 +- 3.1) x 10^6``.
* ``xenon_projection``: a next-generation xenon detector with XENONnT's efficiency and
  background rate per tonne-year, exposure ``exposure_t_yr`` (option), Asimov data at the SM
  (``mu = 1``) with the Poisson error ``sqrt(S + B) / S`` and a signal-normalisation
  uncertainty ``efficiency_uncertainty`` (option) in quadrature.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from globalfit.datafile import read_yaml
from globalfit.likelihood import Likelihood, Point
from globalfit.paths import data_path
from globalfit.physics.solar import SolarOscillation
from globalfit.physics.solar_cevns import SOURCES, SolarCEvNS
from globalfit.physics.solar_flavour import NIGHT_MODES, shared_engine
from globalfit.physics.solar_spectra import load_spectrum_table
from globalfit.releases import release_option
from globalfit.statistics import asymmetric_gaussian_chi2
from likelihoods.shared_nuisances import B16_FILE, FLUX_8B, flux_8b_prior

XENONNT_FILE = data_path("xenon", "xenonnt_8b.yaml")
PANDAX_FILE = data_path("xenon", "pandax4t_8b.yaml")
OSCILLATION = ("th12", "th13", "th23", "dcp", "dm21")
SPECTRUM_8B_FILE = "8B_shape_Winter_et_al.csv"
"""Tabulated 8B shape read from the release named by ``spectrum_8b_release`` (e.g. ``solar``)."""


def b16_fluxes() -> dict[str, float]:
    """B16-GS98 fluxes (cm^-2 s^-1) of the CEvNS sources."""
    flux = read_yaml(B16_FILE)["flux"]
    return {s: float(flux[s]) for s in SOURCES}


def xenonnt_efficiency(content: dict):
    """``recoil_kev -> eff[T, 1]`` of XENONnT (linear in the table, zero outside its ROI)."""
    table = content["efficiency"]
    recoil = np.asarray(table["recoil_kev"], float)
    probability = np.asarray(table["probability"], float)
    low, high = content["analysis"]["roi_kev_nr"]

    def efficiency(recoil_kev):
        value = np.interp(recoil_kev, recoil, probability, left=0.0, right=0.0)
        return np.where((recoil_kev >= low) & (recoil_kev <= high), value, 0.0)[:, None]

    return efficiency


class _SolarCEvNSMeasurement(Likelihood):
    """Common part: the forward model and the SM-equivalent flux."""

    reads = OSCILLATION
    shared_nuisance_parameters = {FLUX_8B: flux_8b_prior()}
    options_allowed = ("solar_model", "night", "spectrum_8b_table", "spectrum_8b_release")
    detector = ""

    def _build(self, latitude_deg: float, composition: dict, efficiency) -> None:
        night = self.options.get("night", True)
        if night not in NIGHT_MODES:
            raise ValueError(f"likelihoods.{self.name}.night: {night!r} not allowed; choose true (default), "
                             f"false (day only) or 'exact'")
        if night is False:
            raise ValueError(f"likelihoods.{self.name}.night: false would drop the night half of the day/night "
                             f"average the detector sees; choose true (default) or 'exact'")
        self.engine = shared_engine(self.options.get("solar_model"), night)
        self.fluxes = b16_fluxes()
        table = release_option(self.options, f"likelihoods.{self.name}", release_key="spectrum_8b_release",
                               path_key="spectrum_8b_table", file=SPECTRUM_8B_FILE)
        self.spectrum_8b_table = table
        tables = {"8B": load_spectrum_table(table)} if table else None
        self.model = SolarCEvNS(self.engine, self.detector, latitude_deg, composition, efficiency, self.fluxes,
                                spectrum_tables=tables)
        self.standard_model = self.model.standard_model_events_per_tonne_year()

    def oscillation(self, point: Point) -> SolarOscillation:
        return SolarOscillation.from_parameters(point.params, point.couplings.eps0, f"likelihood {self.name}")

    def sample_ratios(self, point: Point) -> np.ndarray:
        """``N / N_SM`` per analysis sample (8B scaled by ``shared.flux_8b``, hep at B16)."""
        events = self.model.events_per_tonne_year(self.oscillation(point), point.couplings,
                                                  {"8B": point[FLUX_8B]})
        total = sum(events.values())
        return total / sum(self.standard_model.values())

    def signal_strength(self, point: Point) -> float:
        """``mu = N / N_SM`` of the measurement (samples combined with `sample_weights`)."""
        return float(self.sample_weights @ self.sample_ratios(point))

    def loglike(self, point: Point) -> float:
        predicted = self.fluxes["8B"] * self.signal_strength(point)
        return -0.5 * asymmetric_gaussian_chi2(predicted, self.measured, self.sigma_plus, self.sigma_minus)

    def observables(self, point: Point) -> pd.DataFrame:
        mu = self.signal_strength(point)
        return pd.DataFrame({
            "observable": ["flux_8b_sm_equivalent_cm2_s", "signal_strength"],
            "predicted": [self.fluxes["8B"] * mu, mu],
            "measured": [self.measured, self.measured / self.fluxes["8B"]],
            "uncertainty": [0.5 * (self.sigma_plus + self.sigma_minus),
                            0.5 * (self.sigma_plus + self.sigma_minus) / self.fluxes["8B"]]})

    def data_files(self) -> list[Path]:
        files = [self.path, B16_FILE, data_path("solar", "spectra.yaml")]
        if self.options.get("solar_model"):
            files.append(Path(self.options["solar_model"]))
        if self.spectrum_8b_table:
            files.append(Path(self.spectrum_8b_table))
        return files

    def common_approximations(self) -> list[str]:
        return [
            "Flavour composition at the Earth: day/night average with equal weights, from the shared solar engine "
            "(compact solar model unless solar_model is given); 8B spectrum "
            + (f"from {self.spectrum_8b_table}" if self.spectrum_8b_table
               else "compact (data/solar/spectra.yaml; spectrum_8b_release: solar takes Winter et al.'s table)")
            + ".",
            "CEvNS with Helm form factor (charge radii as weak radii), SM couplings with radiative corrections, NSI "
            "and light mediator at Q^2 = 2 M T; no quenching model (efficiency given in nuclear-recoil energy).",
            "Published 8B flux taken as the SM-equivalent flux of the fitted signal; hep (1-2 % of the signal) is "
            "counted as signal at its B16 flux in both the prediction and the SM reference.",
        ]


class XenonNT8B(_SolarCEvNSMeasurement):
    """XENONnT SR0+SR1 8B CEvNS flux (PRL 133 (2024) 191002)."""

    name = "xenonnt_8b"
    title = "XENONnT 8B CEvNS"
    description = "XENONnT solar 8B CEvNS on xenon (SR0+SR1, 3.51 t yr): 8B flux (4.7 +3.6 -2.3) e6 /cm^2/s"
    detector = "xenonnt"

    def __init__(self, **options):
        super().__init__(**options)
        self.path = XENONNT_FILE
        self.content = read_yaml(self.path)
        detector = self.content["detector"]
        self._build(float(detector["latitude_deg"]), dict(detector["composition"]),
                    xenonnt_efficiency(self.content))
        result = self.content["result"]
        self.measured = float(result["flux_8b_cm2_s"])
        self.sigma_plus = float(result["flux_8b_sigma_plus_cm2_s"])
        self.sigma_minus = float(result["flux_8b_sigma_minus_cm2_s"])
        self.sample_weights = np.ones(1)
        self.exposure_t_yr = float(sum(self.content["analysis"]["exposure_sr_t_yr"].values()))

    def expected_sm_events(self, flux_8b_cm2_s: float) -> float:
        """SM 8B events in the SR0+SR1 exposure for an 8B flux (hep not counted: the release's
        templates are 8B only)."""
        return float(self.standard_model["8B"][0] / self.fluxes["8B"] * flux_8b_cm2_s * self.exposure_t_yr)

    def approximations(self) -> list[str]:
        return self.common_approximations() + [
            "XENONnT efficiency: exposure-weighted SR0/SR1 mono-energetic response of the public release at the "
            "median YBe yields (no yield uncertainty beyond the published flux error).",
            "Published asymmetric error used as a two-piece Gaussian in the flux.",
        ]


class PandaX4T8B(_SolarCEvNSMeasurement):
    """PandaX-4T Run0+Run1 8B CEvNS flux (PRL 133 (2024) 191001)."""

    name = "pandax4t_8b"
    title = "PandaX-4T 8B CEvNS"
    description = "PandaX-4T solar 8B CEvNS on xenon (paired + US2): 8B flux (8.4 +- 3.1) e6 /cm^2/s"
    detector = "pandax4t"

    def __init__(self, **options):
        super().__init__(**options)
        self.path = PANDAX_FILE
        self.content = read_yaml(self.path)
        detector = self.content["detector"]
        samples = self.content["samples"]
        self.sample_names = ("paired", "us2")
        for sample in self.sample_names:
            if samples[sample]["efficiency"] != "step":
                raise ValueError(f"{self.path}: samples.{sample}.efficiency: only 'step' is implemented")
        thresholds = np.array([float(samples[s]["threshold_kev_nr"]) for s in self.sample_names])

        def efficiency(recoil_kev):
            return (recoil_kev[:, None] >= thresholds[None, :]).astype(float)

        self._build(float(detector["latitude_deg"]), dict(detector["composition"]), efficiency)
        signal = np.array([float(samples[s]["best_fit_signal"]) for s in self.sample_names])
        background = np.array([float(samples[s]["expected_background"]) for s in self.sample_names])
        fisher = signal**2 / (signal + background)
        self.sample_weights = fisher / fisher.sum()
        result = self.content["result"]
        self.measured = float(result["flux_8b_cm2_s"])
        self.sigma_plus = self.sigma_minus = float(result["flux_8b_sigma_cm2_s"])

    def expected_sm_events_from_abstract(self, flux_8b_cm2_s: float) -> dict[str, float]:
        """SM events per sample for an 8B flux, from the abstract: best-fit signal x flux / fitted flux."""
        samples = self.content["samples"]
        return {s: float(samples[s]["best_fit_signal"]) * flux_8b_cm2_s / self.measured for s in self.sample_names}

    def approximations(self) -> list[str]:
        return self.common_approximations() + [
            "PandaX-4T efficiencies not reached: sharp thresholds at 1.1 keV (paired) and 0.33 keV (US2) weight the "
            "NSI / light-mediator factor in recoil energy; the two samples are combined with Fisher weights "
            f"{self.sample_weights.round(3).tolist()} from the abstract's best-fit signals and backgrounds.",
        ]


class XenonProjection(_SolarCEvNSMeasurement):
    """A next-generation xenon detector: XENONnT's response and background rate per tonne-year,
    scaled to ``exposure_t_yr``; Asimov data at the Standard Model."""

    name = "xenon_projection"
    title = "Xenon projection (8B CEvNS)"
    description = ("Projection: XENONnT-like xenon detector, 8B CEvNS at exposure_t_yr (option), Asimov SM data, "
                   "signal-normalisation uncertainty efficiency_uncertainty (option)")
    detector = "xenon_projection"
    options_allowed = ("exposure_t_yr", "efficiency_uncertainty", "latitude_deg", "solar_model", "night",
                       "spectrum_8b_table", "spectrum_8b_release")

    def __init__(self, **options):
        super().__init__(**options)
        for key in ("exposure_t_yr", "efficiency_uncertainty"):
            if key not in options:
                raise ValueError(f"likelihoods.xenon_projection.{key}: required (exposure in tonne-years; fractional "
                                 f"signal-normalisation uncertainty, e.g. 0.25 as XENONnT's release)")
        self.exposure_t_yr = float(options["exposure_t_yr"])
        self.efficiency_uncertainty = float(options["efficiency_uncertainty"])
        if self.exposure_t_yr <= 0 or self.efficiency_uncertainty < 0:
            raise ValueError(f"likelihoods.xenon_projection: exposure_t_yr must be > 0 and efficiency_uncertainty "
                             f">= 0, got {self.exposure_t_yr}, {self.efficiency_uncertainty}")
        self.path = XENONNT_FILE
        self.content = read_yaml(self.path)
        detector = self.content["detector"]
        latitude = float(options.get("latitude_deg", detector["latitude_deg"]))
        self._build(latitude, dict(detector["composition"]), xenonnt_efficiency(self.content))
        xenonnt_exposure = float(sum(self.content["analysis"]["exposure_sr_t_yr"].values()))
        background = float(self.content["result"]["expected_background"]) / xenonnt_exposure * self.exposure_t_yr
        signal = float(sum(self.standard_model.values())[0]) * self.exposure_t_yr
        self.expected_signal, self.expected_background = signal, background
        sigma_mu = np.hypot(np.sqrt(signal + background) / signal, self.efficiency_uncertainty)
        self.measured = self.fluxes["8B"]
        self.sigma_plus = self.sigma_minus = float(sigma_mu * self.fluxes["8B"])
        self.sample_weights = np.ones(1)

    def approximations(self) -> list[str]:
        return self.common_approximations() + [
            f"Projection: XENONnT efficiency and background rate ({self.expected_background:.1f} events) scaled to "
            f"{self.exposure_t_yr:g} t yr ({self.expected_signal:.1f} SM signal events); Gaussian Asimov likelihood "
            f"in the signal strength with Poisson and {self.efficiency_uncertainty:.0%} normalisation errors.",
        ]
