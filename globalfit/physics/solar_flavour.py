"""Flavour composition of solar neutrinos at the Earth, day and night, with NSI.

`SolarFlavourEngine` answers, for a set of requests fixed once (a source of the solar model
and an array of neutrino energies in MeV, plus the detectors whose night-time exposure is
wanted), every ``P(nu_e -> nu_alpha)``, ``alpha = e, mu, tau``, at the Earth: by day, by night
at each detector (Earth regeneration averaged over its nadir exposure), and their average.
All requests are evaluated together, once per parameter point (`SolarFlavourEngine.evaluate`
keeps the last evaluations keyed by the `SolarOscillation`), so several likelihoods that read
the same engine (`shared_engine`) cost one forward model per point.
`SolarFlavourEngine.evaluate_batch` evaluates many points at once (arrays with a leading point
axis, `SolarBatchEvaluation`; the last batch is kept in the same way): the likelihoods'
``loglike_batch``.

Physics (docs/physics.md, "Solar neutrinos"). In the effective two-state basis
``(nu_e', nu_x')`` the neutrino reaches the Earth as an incoherent mixture of ``nu_1`` (with
probability ``p_1 = (P_eff - s12^2) / cos 2th12``) and ``nu_2`` (adiabatic day-time ``P_eff``
averaged over the production region, `globalfit.physics.solar.DayPlan`); ``nu_3`` decouples
with weight ``s13^2``. Its 2x2 density matrix is ``rho = p_1 I + (1 - 2 p_1) psi_2 psi_2^+``,
``psi_2`` the image of ``nu_2`` at the detector: ``nu_2`` itself by day, after the Earth at
night. With ``W = R_23 U_13(delta)`` (PDG convention) the flavour probabilities are

    P(nu_e -> nu_alpha) = c13^2 [|W_a1|^2 rho_ee + |W_a2|^2 rho_xx + 2 Re(W_a1 W_a2^* rho_ex)]
                          + s13^2 |W_a3|^2,

which gives ``P_ee = c13^4 P_eff + s13^4``. At night ``rho_ee`` follows from ``P_2e`` and
``rho_ex`` from the coherence ``<c_1 conj(c_2)>`` of the ``nu_2`` image
(`globalfit.physics.earth_regeneration.EarthRegeneration.coherence`, or exact layered
evolution with ``night="exact"``). The day/night average weights day and night equally (the
yearly night fraction is 1/2 at every latitude to < 0.2 %, `globalfit.physics.solar.nadir_exposure`).

Energies in MeV, angles in radians, ``Dm21`` in eV^2.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from globalfit.physics.earth_regeneration import EarthRegeneration
from globalfit.physics.solar import (
    NightRegeneration,
    SolarOscillation,
    SolarOscillationArrays,
    SolarSurvival,
)
from globalfit.physics.solar_model import load_solar_model

FLAVOURS = ("e", "mu", "tau")
NIGHT_MODES = (True, False, "exact")
"""``True``: second-order Earth kernels (default); ``False``: no night; ``"exact"``: layered
evolution (slow; also used automatically outside the kernel tables)."""
B8_GRID_MEV = np.arange(3.125, 16.5, 0.25)
"""The 8B energy grid (MeV) shared by the solar likelihoods that read the 8B night spectrum."""
EXACT_NADIR_BINS = 40
EXACT_STEP_KM = 100.0
EXACT_ENERGY_STEP_MEV = 0.02
CACHE_SIZE = 64


@dataclass(frozen=True)
class Request:
    """One (source, energies) request; ``detectors``: name -> latitude (deg) for the night."""

    source: str
    energy_mev: np.ndarray
    detectors: tuple = ()


class _DayNight:
    """Day, night and average two-state ``P_eff`` and three-flavour ``P_ee`` from the day
    ``P_eff`` and the night coherences; shared by `SolarEvaluation` (one point, scalar
    angles) and `SolarBatchEvaluation` (angles as columns (n_points, 1), arrays with a leading
    point axis)."""

    th12 = th13 = 0.0
    p_eff_day: dict
    night: dict

    @cached_property
    def _angles(self) -> tuple:
        """``(s12^2, cos 2th12, c13^4, s13^4)``, computed once per evaluation."""
        return (np.sin(self.th12) ** 2, np.cos(2 * self.th12), np.cos(self.th13) ** 4, np.sin(self.th13) ** 4)

    def _p1(self, key) -> np.ndarray:
        s12_squared, cos_2th12 = self._angles[:2]
        return (self.p_eff_day[key] - s12_squared) / cos_2th12

    def _night(self, key, detector):
        if detector not in self.night.get(key, {}):
            raise ValueError(f"detector: no night-time probabilities for {detector!r} in request {key!r}; "
                             f"requested detectors: {tuple(self.night.get(key, {}))}")
        return self.night[key][detector]

    def p_eff(self, key, time: str = "day", detector: str | None = None) -> np.ndarray:
        """Two-state ``P(nu_e' -> nu_e')``; ``time`` in ``day``, ``night``, ``average``."""
        if time == "day":
            return self.p_eff_day[key]
        p2e = self._night(key, detector)[0]
        p1 = self._p1(key)
        night = p1 + (1.0 - 2.0 * p1) * p2e
        if time == "night":
            return night
        if time == "average":
            return 0.5 * (self.p_eff_day[key] + night)
        raise ValueError(f"time: {time!r} not allowed; choose 'day', 'night' or 'average'")

    def p_ee(self, key, time: str = "day", detector: str | None = None) -> np.ndarray:
        """Three-flavour ``P(nu_e -> nu_e) = c13^4 P_eff + s13^4``."""
        c13_fourth, s13_fourth = self._angles[2:]
        return c13_fourth * self.p_eff(key, time, detector) + s13_fourth


class SolarEvaluation(_DayNight):
    """The engine's answer at one point: survival and flavour probabilities per request.

    ``p_eff_day[key]`` is the two-state day ``P_eff``; ``night[key][detector]`` holds
    ``(P_2e, <|c_1|^2>, <c_1 conj(c_2)>)`` of the ``nu_2`` image.
    """

    def __init__(self, osc: SolarOscillation, p_eff_day: dict, night: dict):
        self.osc = osc
        self.th12, self.th13 = osc.th12, osc.th13
        self.p_eff_day = p_eff_day
        self.night = night

    def density_matrix(self, key, time: str = "day", detector: str | None = None):
        """``(rho_ee, rho_xx, rho_ex)`` of the two-state system at the detector."""
        if time == "average":
            day, night = self.density_matrix(key, "day"), self.density_matrix(key, "night", detector)
            return tuple(0.5 * (d + n) for d, n in zip(day, night))
        s12, c12 = np.sin(self.osc.th12), np.cos(self.osc.th12)
        p1 = self._p1(key)
        if time == "day":
            coherence = np.full(p1.shape, s12 * c12, complex)
            rho_ee = self.p_eff_day[key]
        elif time == "night":
            p2e, c1_sq, c1c2 = self._night(key, detector)
            coherence = s12 * c12 * (1.0 - 2.0 * c1_sq) + c12**2 * c1c2 - s12**2 * np.conj(c1c2)
            rho_ee = p1 + (1.0 - 2.0 * p1) * p2e
        else:
            raise ValueError(f"time: {time!r} not allowed; choose 'day', 'night' or 'average'")
        return rho_ee, 1.0 - rho_ee, (1.0 - 2.0 * p1) * coherence

    def flavour(self, key, time: str = "day", detector: str | None = None) -> np.ndarray:
        """``P(nu_e -> nu_alpha)`` for ``alpha`` in `FLAVOURS`, shape (3, n_energies)."""
        osc = self.osc
        if osc.th23 is None or osc.dcp is None:
            raise ValueError("the nu_mu / nu_tau split needs th23 and dcp: build the SolarOscillation with "
                             "SolarOscillation.from_parameters (or from_matrices)")
        rho_ee, rho_xx, rho_ex = self.density_matrix(key, time, detector)
        s13, c13 = np.sin(osc.th13), np.cos(osc.th13)
        s23, c23 = np.sin(osc.th23), np.cos(osc.th23)
        phase = np.exp(1j * osc.dcp)
        # rows of W = R23 U13(delta): (W_a1, W_a2, W_a3)
        rows = ((c13, 0.0, s13 * np.conj(phase)), (-s23 * s13 * phase, c23, s23 * c13),
                (-c23 * s13 * phase, -s23, c23 * c13))
        out = [c13**2 * (abs(w1) ** 2 * rho_ee + abs(w2) ** 2 * rho_xx + 2.0 * (w1 * np.conj(w2) * rho_ex).real)
               + s13**2 * abs(w3) ** 2 for w1, w2, w3 in rows]
        return np.array(out)


class SolarBatchEvaluation(_DayNight):
    """The engine's answer at several points (`SolarFlavourEngine.evaluate_batch`): the same
    quantities as `SolarEvaluation` with a leading point axis, shape (n_points, n_energies);
    `point` gives one point's `SolarEvaluation`."""

    def __init__(self, oscs, arrays: SolarOscillationArrays, p_eff_day: dict, night: dict):
        self.oscs = tuple(oscs)
        self.th12, self.th13 = arrays.th12, arrays.th13
        self.p_eff_day = p_eff_day
        self.night = night

    def __len__(self) -> int:
        return len(self.oscs)

    def point(self, index: int) -> SolarEvaluation:
        """The evaluation of the ``index``-th point."""
        return SolarEvaluation(self.oscs[index], {key: value[index] for key, value in self.p_eff_day.items()},
                               {key: {name: tuple(part[index] for part in parts) for name, parts in per.items()}
                                for key, per in self.night.items()})


class SolarFlavourEngine:
    """Day/night solar probabilities for a fixed set of requests (see the module docstring).

    Parameters
    ----------
    solar_model : SolarModel, str, Path or None
        A `globalfit.physics.solar_model.SolarModel`, a table file, or None for the built-in
        compact model.
    night : bool or "exact"
        See `NIGHT_MODES`.
    cache_size : int
        Evaluations kept (keyed by the `SolarOscillation`); 0 switches the cache off.
    """

    def __init__(self, solar_model=None, night=True, cache_size: int = CACHE_SIZE):
        if night not in NIGHT_MODES:
            raise ValueError(f"night: {night!r} not allowed; choose true (perturbative kernels, default), "
                             f"false (day only) or 'exact' (layered evolution, slow)")
        self.solar_model = (solar_model if hasattr(solar_model, "production")
                            else load_solar_model(None if solar_model is None else str(solar_model)))
        self.night_mode = night
        self.survival = SolarSurvival(self.solar_model)
        self.requests: dict[str, Request] = {}
        self.cache_size = int(cache_size)
        self._cache: OrderedDict = OrderedDict()
        self._last_batch = None
        self._plan = None
        self._regeneration = None
        self.forward_evaluations = 0
        """Number of forward-model evaluations (cache misses) so far."""

    # --- requests ------------------------------------------------------------------------------
    def request(self, key: str, source: str, energy_mev, detectors: dict | None = None) -> str:
        """Ask for ``source`` at ``energy_mev``; ``detectors`` (name -> latitude in degrees) get
        night-time probabilities. A request equal in source and energies to an existing ``key``
        merges its detectors into it; a different one under the same key is an error.
        Returns ``key``."""
        if source not in self.solar_model.production:
            raise ValueError(f"source: {source!r} not in the solar model; choose from "
                             f"{tuple(self.solar_model.production)}")
        energy = np.atleast_1d(np.asarray(energy_mev, float))
        detectors = dict(detectors or {})
        if detectors and self.night_mode is False:
            raise ValueError(f"request {key!r}: night-time probabilities for {sorted(detectors)} asked from an "
                             f"engine built with night=False")
        if key in self.requests:
            old = self.requests[key]
            if old.source != source or not np.array_equal(old.energy_mev, energy):
                raise ValueError(f"request {key!r}: already {old.source} on {len(old.energy_mev)} energies; "
                                 f"use another key for {source} on {len(energy)} energies")
            merged = dict(old.detectors)
            for name, latitude in detectors.items():
                if name in merged and merged[name] != latitude:
                    raise ValueError(f"request {key!r}: detector {name!r} at latitude {merged[name]} and {latitude}")
                merged[name] = latitude
            detectors = merged
        self.requests[key] = Request(source, energy, tuple(sorted(detectors.items())))
        self._plan = self._regeneration = None
        self.__dict__.pop("exact_night", None)
        self._cache.clear()
        self._last_batch = None
        return key

    @property
    def detectors(self) -> dict:
        """Every detector with a night-time request: name -> latitude (deg)."""
        return {name: lat for r in self.requests.values() for name, lat in r.detectors}

    # --- evaluation ----------------------------------------------------------------------------
    def evaluate(self, osc: SolarOscillation) -> SolarEvaluation:
        """All requests at ``osc`` (cached: the forward model runs once per distinct point)."""
        cached = self._cache.get(osc)
        if cached is not None:
            self._cache.move_to_end(osc)
            return cached
        result = self._forward([osc]).point(0)
        if self.cache_size > 0:
            self._cache[osc] = result
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return result

    def evaluate_batch(self, oscs) -> SolarBatchEvaluation:
        """All requests at every point of ``oscs`` at once (arrays with a leading point axis).
        The last batch is kept, so that several likelihoods reading the engine at the same
        points cost one forward model."""
        key = tuple(oscs)
        if self._last_batch is not None and self._last_batch[0] == key:
            return self._last_batch[1]
        result = self._forward(key)
        if self.cache_size > 0:
            self._last_batch = (key, result)
        return result

    def _forward(self, oscs) -> SolarBatchEvaluation:
        if self._plan is None:
            if not self.requests:
                raise ValueError("SolarFlavourEngine.evaluate: no requests; call request() first")
            self._plan = self.survival.plan({k: (r.source, r.energy_mev) for k, r in self.requests.items()})
        self.forward_evaluations += len(oscs)
        arrays = SolarOscillationArrays.stack(oscs)
        return SolarBatchEvaluation(oscs, arrays, self._plan.p_eff_batch(arrays), self._night(oscs, arrays))

    def _night(self, oscs, arrays: SolarOscillationArrays) -> dict:
        """Key -> detector -> ``(P_2e, <|c_1|^2>, <c_1 conj(c_2)>)``, each (n_points, n_energies):
        from the Earth kernels where they cover the point's ``Dm21 / 2E``, else (and with
        ``night="exact"``) from layered evolution point by point."""
        out = {}
        s2, c2, s12sq = np.sin(2 * arrays.th12), np.cos(2 * arrays.th12), np.sin(arrays.th12) ** 2
        for key, request in self.requests.items():
            if not request.detectors:
                continue
            names = [name for name, _ in request.detectors]
            fast = (np.zeros(len(oscs), bool) if self.night_mode == "exact"
                    else self.regeneration.covers(request.energy_mev, arrays.dm21_ev2))
            if fast.all():
                coherence = self.regeneration.coherence_batch(request.energy_mev, arrays)
            else:
                shape = (len(oscs), len(request.energy_mev))
                coherence = {name: (np.empty(shape), np.empty(shape, complex)) for name in names}
            if fast.any() and not fast.all():
                for name, values in self.regeneration.coherence_batch(request.energy_mev, arrays.take(fast)).items():
                    if name in coherence:
                        for part, value in zip(coherence[name], values):
                            part[fast] = value
            for index in np.flatnonzero(~fast):
                exact = self._exact_coherence(request.energy_mev, oscs[index])
                for name in names:
                    for part, value in zip(coherence[name], exact[name]):
                        part[index] = value
            out[key] = {name: (s12sq + s2 * coherence[name][1].real + c2 * coherence[name][0],) + coherence[name]
                        for name in names}
        return out

    @property
    def regeneration(self) -> EarthRegeneration:
        """Perturbative Earth kernels for every requested detector (tables cached per process)."""
        if self._regeneration is None:
            self._regeneration = EarthRegeneration(self.detectors)
        return self._regeneration

    @cached_property
    def exact_night(self) -> NightRegeneration:
        """Exact layered evolution through the Earth for every detector known when first used."""
        return NightRegeneration(self.detectors, n_bins=EXACT_NADIR_BINS, max_step_km=EXACT_STEP_KM)

    def _exact_coherence(self, energy_mev: np.ndarray, osc: SolarOscillation) -> dict:
        """Layered evolution on a fine energy grid, averaged over the same relative width in
        energy as the kernels (slow; the reference for the default)."""
        fine = np.arange(0.8 * energy_mev[0], 1.25 * energy_mev[-1], EXACT_ENERGY_STEP_MEV)
        width = self.regeneration.grid.smoothing * energy_mev[:, None]
        kernel = np.exp(-0.5 * ((fine[None, :] - energy_mev[:, None]) / width) ** 2)
        kernel /= kernel.sum(axis=1, keepdims=True)
        chunks = [self.exact_night.mean_coherence(part, osc) for part in np.array_split(fine, max(1, len(fine) // 100))]
        return {name: tuple(kernel @ np.concatenate([c[name][i] for c in chunks]) for i in range(2))
                for name in chunks[0]}


_SHARED: dict = {}


def shared_engine(solar_model: str | Path | None = None, night=True) -> SolarFlavourEngine:
    """The process-wide engine for ``(solar_model, night)``: every likelihood that asks for the
    same solar model and night treatment gets the same engine, hence one forward model per point."""
    key = (None if solar_model is None else str(Path(solar_model).resolve()), night)
    if key not in _SHARED:
        _SHARED[key] = SolarFlavourEngine(solar_model, night)
    return _SHARED[key]


def flavour_at_earth(osc: SolarOscillation, source: str, energy_mev, detector_latitude_deg: float | None = None,
                     solar_model=None) -> dict:
    """``P(nu_e -> nu_alpha)`` at the Earth for one source, shape (3, n) per entry.

    Returns ``{"day": ..., "night": ..., "average": ...}`` (night and average only when
    ``detector_latitude_deg`` is given). A one-off convenience: repeated use should hold a
    `SolarFlavourEngine` (which builds its tables once).

    Examples
    --------
    >>> osc = SolarOscillation.from_parameters({"th12": 0.583, "th13": 0.150, "th23": 0.737,
    ...                                         "dcp": 4.05, "dm21": 7.4e-5})
    >>> p = flavour_at_earth(osc, "8B", [10.0], detector_latitude_deg=36.43)
    >>> p["day"].sum(axis=0)  # unitarity
    array([1.])
    """
    engine = SolarFlavourEngine(solar_model, night=detector_latitude_deg is not None, cache_size=0)
    detectors = {"detector": float(detector_latitude_deg)} if detector_latitude_deg is not None else None
    engine.request("request", source, energy_mev, detectors)
    evaluation = engine.evaluate(osc)
    out = {"day": evaluation.flavour("request", "day")}
    if detectors:
        out["night"] = evaluation.flavour("request", "night", "detector")
        out["average"] = evaluation.flavour("request", "average", "detector")
    return out
