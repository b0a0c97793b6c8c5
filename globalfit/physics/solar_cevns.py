"""CEvNS of solar neutrinos (8B, hep) on a target, with the flavour composition at the Earth.

A solar neutrino of energy ``E`` reaches the detector as ``nu_alpha`` with probability
``P_alpha(E) = P(nu_e -> nu_alpha)`` (`globalfit.physics.solar_flavour`: MSW in the Sun with
the point's NSI in matter, day and night at the detector's latitude, averaged day/night with
equal weights). CEvNS then sees the row ``alpha`` of the NSI matrices (`globalfit.physics.cevns`:
``Q_alpha^2`` with ``eps^{u,d}`` at ``Q^2 = 2 M T`` and the light-mediator factor), so the
expected events in analysis sample ``k`` are

    N_k = exposure x sum_s phi_s sum_alpha int dE f_s(E) P_alpha(E)
          sum_isotopes n_i int dT dsigma_alpha/dT(E, T) F_i(T)^2 eff_k(T)

``phi_s`` the flux of source ``s`` (cm^-2 s^-1), ``f_s`` its normalised spectrum
(`globalfit.physics.solar_spectra`), ``n_i`` nuclei per tonne, ``eff_k(T)`` the detection
efficiency of sample ``k`` at recoil ``T``.

Evaluation. The flavour probabilities come from the engine on its own energy grid
(`B8_GRID_MEV` for 8B, shared with the solar likelihoods; a 0.25 MeV grid for hep) and vary
slowly there; in ``E`` they are interpolated linearly. Each engine node ``E_k`` and flavour is
therefore one `globalfit.physics.cevns.Source` whose fluence is the spectrum on a fine grid
(`FINE_STEP_MEV`) times the linear-interpolation weight of that node (a hat function), so
``sum_k P(E_k) hat_k(E)`` is exactly the interpolated ``P(E)`` and the kinematics are integrated
on the fine grid. `globalfit.physics.cevns.CEvNSPredictor` precomputes everything that does
not depend on the couplings; a point costs one engine evaluation (cached, shared) and a few
small contractions.

Units: energies in MeV where names say ``_mev``, recoils in keV where they say ``_kev``,
exposure in tonne-years, fluxes in cm^-2 s^-1.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from globalfit.couplings import STANDARD_MODEL, Couplings
from globalfit.physics import solar_spectra as spectra
from globalfit.physics.cevns import CEvNSPredictor, Source
from globalfit.physics.constants import SECONDS_PER_YEAR
from globalfit.physics.nuclei import target_isotopes
from globalfit.physics.solar import SolarOscillation
from globalfit.physics.solar_flavour import B8_GRID_MEV, FLAVOURS, SolarFlavourEngine

SOURCES = ("8B", "hep")
"""Solar sources above the CEvNS thresholds of xenon detectors (``E > 3`` MeV)."""
HEP_GRID_MEV = np.arange(3.125, 19.0, 0.25)
"""Engine grid of the hep flavour probabilities (MeV; the hep endpoint is 18.8 MeV)."""
FINE_STEP_MEV = 0.02
"""Neutrino-energy step of the kinematic integration."""
KG_PER_TONNE = 1000.0

Efficiency = Callable[[np.ndarray], np.ndarray]
"""``efficiency(recoil_kev[T]) -> eff[T, samples]``: detection probability per sample."""


def _engine_grid(source: str) -> np.ndarray:
    return B8_GRID_MEV if source == "8B" else HEP_GRID_MEV


def _spectrum_on_fine_grid(source: str, table) -> tuple[np.ndarray, np.ndarray]:
    """Midpoints of the `FINE_STEP_MEV` grid up to the endpoint and the normalised spectrum
    there (MeV^-1): built in, or linear in a ``(energy_mev, shape)`` table."""
    if table is None:
        fine = np.arange(0.5 * FINE_STEP_MEV, spectra.endpoint_mev(source), FINE_STEP_MEV)
        return fine, spectra.spectrum(source, fine)
    energy, shape = (np.asarray(v, float) for v in table)
    fine = np.arange(0.5 * FINE_STEP_MEV, float(energy[shape > 0].max()), FINE_STEP_MEV)
    return fine, np.interp(fine, energy, shape, left=0.0, right=0.0)


class SolarCEvNS:
    """Expected solar-neutrino CEvNS events per tonne-year in one detector.

    Parameters
    ----------
    engine : SolarFlavourEngine
        The (shared) solar engine; the sources are requested from it at construction.
    detector : str
        Name of the detector for the engine's night-time request.
    latitude_deg : float
        Detector latitude (degrees) for Earth regeneration at night.
    composition : dict
        Atoms per formula unit of the target, e.g. ``{"Xe": 1}`` (natural abundances).
    efficiency : callable
        See `Efficiency`; one column per analysis sample.
    fluxes : mapping
        Source -> flux in cm^-2 s^-1 (the normalisation of ``N`` per source).
    sources : tuple
        Subset of `SOURCES`.
    recoil_points : int
        Recoil nodes per isotope (midpoint rule on ``[0, T_max]``).
    spectrum_tables : mapping, optional
        Source -> ``(energy_mev, normalised shape)`` in place of the built-in spectrum (e.g.
        `globalfit.physics.solar_spectra.load_spectrum_table` of a tabulated 8B shape).
    """

    def __init__(self, engine: SolarFlavourEngine, detector: str, latitude_deg: float,
                 composition: Mapping[str, int], efficiency: Efficiency, fluxes: Mapping[str, float],
                 sources: tuple[str, ...] = SOURCES, recoil_points: int = 600,
                 spectrum_tables: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None):
        unknown = [s for s in sources if s not in SOURCES]
        if unknown:
            raise ValueError(f"sources: {unknown} not available; choose from {SOURCES}")
        missing = [s for s in sources if s not in fluxes]
        if missing:
            raise ValueError(f"fluxes: no flux given for {missing} (cm^-2 s^-1 per source)")
        self.engine = engine
        self.detector = detector
        self.sources = tuple(sources)
        self.fluxes = {s: float(fluxes[s]) for s in self.sources}
        self.keys = {}
        self.predictors = {}
        targets = target_isotopes(dict(composition), KG_PER_TONNE)
        seconds = SECONDS_PER_YEAR
        for source in self.sources:
            grid = _engine_grid(source)
            key = source if source == "8B" else f"{source}_cevns"
            self.keys[source] = engine.request(key, source, grid, {detector: float(latitude_deg)})
            fine, density = _spectrum_on_fine_grid(source, (spectrum_tables or {}).get(source))
            fluence = density * FINE_STEP_MEV * seconds  # per unit flux, 1 yr
            node_sources = []
            for alpha in FLAVOURS:
                for k in range(len(grid)):
                    hat = np.interp(fine, grid, np.eye(len(grid))[k])
                    support = hat > 0
                    energies, weights = (fine[support], fluence[support] * hat[support]) if support.any() \
                        else (grid[k:k + 1], np.zeros(1))  # a node beyond the endpoint carries nothing
                    node_sources.append(Source(f"{source}:{alpha}:{k}", f"nu_{alpha}", 1e-3 * energies, weights))
            self.predictors[source] = CEvNSPredictor(
                targets, node_sources, lambda recoil_gev, _iso: efficiency(recoil_gev * 1e6),
                recoil_points=recoil_points)
        self.n_samples = next(iter(self.predictors.values())).n_bins

    def flavour_fractions(self, osc: SolarOscillation) -> dict[str, np.ndarray]:
        """Source -> day/night-averaged ``P(nu_e -> nu_alpha)`` on its engine grid, shape (3, n)."""
        evaluation = self.engine.evaluate(osc)
        return {s: evaluation.flavour(self.keys[s], "average", self.detector) for s in self.sources}

    def events_per_tonne_year(self, osc: SolarOscillation, couplings: Couplings = STANDARD_MODEL,
                              flux_scale: Mapping[str, float] | None = None) -> dict[str, np.ndarray]:
        """Source -> expected events per tonne-year in each sample (array of `n_samples`).

        ``flux_scale`` multiplies the flux of a source (e.g. ``{"8B": f}``); default 1.
        """
        fractions = self.flavour_fractions(osc)
        out = {}
        for source in self.sources:
            rates = self.predictors[source].rates(couplings)  # [flavour x node, sample]
            p = fractions[source]
            per_node = rates.reshape(len(FLAVOURS), p.shape[1], -1)
            scale = 1.0 if flux_scale is None else float(flux_scale.get(source, 1.0))
            out[source] = scale * self.fluxes[source] * np.einsum("an,ank->k", p, per_node)
        return out

    def standard_model_events_per_tonne_year(self) -> dict[str, np.ndarray]:
        """Source -> SM events per tonne-year per sample. The SM charge is flavour blind and
        ``sum_alpha P_alpha = 1``, so this needs no oscillation point (any flavour row)."""
        out = {}
        for source in self.sources:
            rates = self.predictors[source].rates(STANDARD_MODEL)
            per_node = rates.reshape(len(FLAVOURS), -1, rates.shape[-1])
            out[source] = self.fluxes[source] * per_node[0].sum(axis=0)
        return out
