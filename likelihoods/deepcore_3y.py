"""IceCube DeepCore 3-year high-statistics oscillation sample ("sample B").

Reads IceCube's public release (data page ``highstats_nuosc_3y``; PRL 120 (2018) 071801,
arXiv:1707.07081; PRD 99 (2019) 032007, arXiv:1901.05366) from ``release_path:``, a
folder holding ``neutrino_mc.csv.bz2``, ``data.csv.bz2``, ``muons.csv.bz2``, the four
``hyperplanes_*.csv.bz2``, ``honda-2015-spl-solmin-aa.d`` and ``PREM_12layer.dat``.

Expected events in the 128 analysis bins (8 reconstructed energies x 8 cos zenith x 2
PID; docs/likelihoods/deepcore.md)::

    T0_cb = sum_{events i in bin b, category c} w_i * livetime * sum_{a = e, mu}
            Phi_a(E_i, cz_i) * P(nu_a -> nu_beta(i); E_i, cz_i)

with the Honda flux ``Phi`` (`globalfit.physics.atmospheric.HondaFluxTable`) and the
oscillation probability from one `Oscillogram` on a grid of true ``(1/E, cos z)`` nodes,
interpolated bilinearly to each event. Because that interpolation is linear in the node
values, the sum over events is folded into one sparse matrix built once: an evaluation
is one oscillogram and one sparse product. The flux-nuisance derivatives ``T_k`` share
the matrix's pattern. Nuisances: `likelihoods.deepcore_nuisances` (profiled).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse

from globalfit.likelihood import OSCILLATION_PARAMETERS, Likelihood, Point
from globalfit.physics.atmospheric import (
    HondaFluxTable,
    LayeredEarth,
    Oscillogram,
    barr_nu_nubar_slope,
    barr_up_horizontal_slope,
)
from globalfit.releases import release_option
from likelihoods.deepcore_nuisances import HYPERPLANE_SLOPES, NUISANCES, NuisanceModel

RELEASE_FILES = {
    "events": "neutrino_mc.csv.bz2", "data": "data.csv.bz2", "muons": "muons.csv.bz2",
    "flux": "honda-2015-spl-solmin-aa.d", "earth": "PREM_12layer.dat",
    "hyperplane_nue_cc": "hyperplanes_nue_cc.csv.bz2", "hyperplane_numu_cc": "hyperplanes_numu_cc.csv.bz2",
    "hyperplane_nutau_cc": "hyperplanes_nutau_cc.csv.bz2", "hyperplane_nc": "hyperplanes_all_nc.csv.bz2",
}
CATEGORIES = ("nue_cc", "numu_cc", "nutau_cc", "nc")
ENERGY_EDGES_GEV = np.logspace(0.75, 1.75, 9)
"""Reconstructed-energy bin edges: 5.62 ... 56.2 GeV, log-spaced (the release's binning)."""
COSZEN_EDGES = np.linspace(-1.0, 1.0, 9)
N_BINS = 128
LIVETIME_S = 2.5 * 365.0 * 86400.0
"""2.5 years of 365 days: the livetime of IceCube's example pipeline for this release."""
DETECTOR_DEPTH_KM = 2.0
PRODUCTION_HEIGHT_KM = 20.0
"""Geometry of IceCube's pipeline for this sample (detector 2 km deep, neutrinos produced
20 km above the surface)."""
SPECTRAL_PIVOT_GEV = 24.0900951261
"""Pivot energy of the spectral-index nuisance ``(E / E_pivot)^delta`` (IceCube's)."""
ENERGY_NODES = 60
COSZEN_NODES = 41
"""Default oscillogram grid (`energy_node_grid`; 41 nodes uniform in cos(zenith));
docs/likelihoods/deepcore.md gives its accuracy against finer grids and its speed."""
DERIVATIVE_STRIDE = (3, 4)
"""The flux-nuisance derivatives use every 3rd energy node and every 4th cos(zenith) node
(nearest node): they only enter multiplied by nuisance shifts of about one sigma."""
LOW_ENERGY_GEV = 3.0
"""Below this energy (1 % of the events) the energy nodes are 5 times sparser."""
_FLAVOURS = {12: 0, 14: 1, 16: 2}


def analysis_bin(reco_energy_gev, reco_coszen, pid) -> np.ndarray:
    """Bin index ``(i_E * 8 + i_cz) * 2 + pid`` of the 128 analysis bins; -1 outside."""
    i_e = np.searchsorted(ENERGY_EDGES_GEV, reco_energy_gev, side="right") - 1
    i_c = np.searchsorted(COSZEN_EDGES, reco_coszen, side="right") - 1
    pid = np.asarray(pid).astype(int)
    inside = (i_e >= 0) & (i_e < 8) & (i_c >= 0) & (i_c < 8) & ((pid == 0) | (pid == 1))
    return np.where(inside, (i_e * 8 + i_c) * 2 + pid, -1)


def _read(folder: Path, key: str, columns: tuple) -> pd.DataFrame:
    path = folder / RELEASE_FILES[key]
    if not path.is_file():
        raise ValueError(f"likelihoods.deepcore_3y.release_path: {path} is missing; the folder must hold "
                         f"IceCube's highstats_nuosc_3y release files {sorted(RELEASE_FILES.values())}")
    frame = pd.read_csv(path)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: columns {missing} missing (found {list(frame.columns)})")
    return frame


def _per_bin(frame: pd.DataFrame, column: str, path_hint: str) -> np.ndarray:
    bins = analysis_bin(frame.reco_energy.to_numpy(), frame.reco_coszen.to_numpy(), frame.pid.to_numpy())
    if np.any(bins < 0) or len(np.unique(bins)) != N_BINS or len(bins) != N_BINS:
        raise ValueError(f"{path_hint}: expected one row per analysis bin ({N_BINS})")
    out = np.empty(N_BINS)
    out[bins] = frame[column].to_numpy(float)
    return out


class DeepCoreRelease:
    """The release folder read once: events, data, muons, hyperplanes, flux and Earth."""

    def __init__(self, release_path):
        folder = Path(release_path)
        if not folder.is_dir():
            raise ValueError(f"likelihoods.deepcore_3y.release_path: {folder} is not a folder")
        self.folder = folder
        self.events = _read(folder, "events", ("pdg", "type", "true_energy", "true_coszen", "reco_energy",
                                                "reco_coszen", "pid", "weight"))
        data = _read(folder, "data", ("reco_energy", "reco_coszen", "pid", "count"))
        muons = _read(folder, "muons", ("reco_energy", "reco_coszen", "pid", "count", "abs_uncert"))
        self.observed = _per_bin(data, "count", RELEASE_FILES["data"])
        self.muons = _per_bin(muons, "count", RELEASE_FILES["muons"])
        self.muon_uncertainty = _per_bin(muons, "abs_uncert", RELEASE_FILES["muons"])
        columns = ("offset",) + HYPERPLANE_SLOPES
        planes = [_read(folder, f"hyperplane_{c}", ("reco_energy", "reco_coszen", "pid") + columns)
                  for c in CATEGORIES]
        self.hyperplane_offsets = np.stack([_per_bin(p, "offset", c) for p, c in zip(planes, CATEGORIES)])
        self.hyperplane_slopes = np.stack([np.stack([_per_bin(p, s, c) for p, c in zip(planes, CATEGORIES)])
                                           for s in HYPERPLANE_SLOPES])
        self.flux = HondaFluxTable(folder / RELEASE_FILES["flux"])
        self.earth = LayeredEarth.from_file(folder / RELEASE_FILES["earth"])

    def files(self) -> list[Path]:
        return [self.folder / name for name in RELEASE_FILES.values()]


class DeepCoreForwardModel:
    """Templates ``(5, 4, 128)`` (oscillated Monte Carlo sums and their flux derivatives)
    at a point: one oscillogram on the node grid and one sparse product."""

    def __init__(self, release: DeepCoreRelease, energy_nodes: int = ENERGY_NODES,
                 coszen_nodes: int = COSZEN_NODES):
        ev = release.events
        energy = ev.true_energy.to_numpy(float)
        coszen = np.clip(ev.true_coszen.to_numpy(float), -1.0, 1.0)
        pdg = ev.pdg.to_numpy(int)
        if not set(np.unique(np.abs(pdg))) <= set(_FLAVOURS):
            raise ValueError(f"{RELEASE_FILES['events']}: pdg codes must be +-12, +-14, +-16")
        bins = analysis_bin(ev.reco_energy.to_numpy(), ev.reco_coszen.to_numpy(), ev.pid.to_numpy())
        if np.any(bins < 0):
            raise ValueError(f"{RELEASE_FILES['events']}: {np.sum(bins < 0)} events outside the analysis bins")
        antineutrino = (pdg < 0).astype(int)
        beta = np.vectorize(_FLAVOURS.get)(np.abs(pdg))
        category = np.where(ev.type.to_numpy(int) == 0, 3, beta)
        rate = ev.weight.to_numpy(float) * LIVETIME_S
        # nodes: uniform in 1/E (oscillation phases are linear in 1/E), uniform in cos z
        self.node_energy_gev = energy_node_grid(int(energy_nodes))
        self.node_coszen = np.linspace(-1.0, 1.0, int(coszen_nodes))
        self.oscillogram = Oscillogram(self.node_energy_gev, self.node_coszen, release.earth,
                                       DETECTOR_DEPTH_KM, PRODUCTION_HEIGHT_KM)
        e_index, e_frac = _interval(-1.0 / np.clip(energy, 1.0, 1000.0), -1.0 / self.node_energy_gev)
        z_index, z_frac = _interval(coszen, self.node_coszen)
        n_nodes = self.node_energy_gev.size * self.node_coszen.size
        flux, derivatives = self._flux(release.flux, energy, coszen, antineutrino)
        n_columns = 12 * n_nodes
        row = (category * N_BINS + bins).astype(np.int64) * n_columns
        column = ((antineutrino * 2)[None] + np.arange(2)[:, None]) * 3 + beta        # (alpha, event)
        # T0: bilinear interpolation (four nodes); derivatives: the nearest node of a sub-grid
        corners = [((e_index + de) * self.node_coszen.size + z_index + dz, we * wz)
                   for de, we in ((0, 1.0 - e_frac), (1, e_frac)) for dz, wz in ((0, 1.0 - z_frac), (1, z_frac))]
        nearest = _coarse_nearest(e_index + e_frac, self.node_energy_gev.size, DERIVATIVE_STRIDE[0]) \
            * self.node_coszen.size + _coarse_nearest(z_index + z_frac, self.node_coszen.size, DERIVATIVE_STRIDE[1])
        base = _aggregate([row + column * n_nodes + node for node, _ in corners],
                          [[rate * weight * flux] for _, weight in corners], n_columns)
        shifts = _aggregate([row + column * n_nodes + nearest],
                            [[rate * flux * d for d in derivatives]], n_columns)
        # column-compressed: the product reads the node values in order and adds into the
        # 2560 outputs, which stay in cache (a third faster than row-compressed here)
        self.matrix = scipy.sparse.vstack([base[0]] + shifts, format="csc")

    @staticmethod
    def _flux(table: HondaFluxTable, energy, coszen, antineutrino):
        """Per-event ``Phi_e, Phi_mu`` and ``d ln Phi_a / d phi_k`` for the four flux
        nuisances at their nominal values."""
        bar = antineutrino.astype(bool)
        flux = np.empty((2, energy.size))
        for alpha, (nu, nubar) in enumerate((("nue", "nuebar"), ("numu", "numubar"))):
            flux[alpha] = np.where(bar, table.flux(nubar, energy, coszen), table.flux(nu, energy, coszen))
        total = flux.sum(axis=0)
        ratio = np.stack([flux[1] / total, -flux[0] / total])          # sum-preserving nu_e/nu_mu ratio
        uphor = np.stack([barr_up_horizontal_slope(f, energy, coszen) for f in ("e", "mu")])
        sign = np.where(bar, -0.5, 0.5)                                  # nu: 1 + sM/2; nubar: 1/(1 + sM/2)
        nunubar = np.stack([sign * barr_nu_nubar_slope(f, energy, coszen) for f in ("e", "mu")])
        index = np.log(energy / SPECTRAL_PIVOT_GEV)
        return flux, (ratio, uphor, nunubar, np.stack([index, index]))

    def templates(self, params, eps=None) -> np.ndarray:
        """``(5, 4, 128)``: ``T0`` and the derivatives for the flux nuisances."""
        probabilities = self.oscillogram.probabilities(params, eps)       # (2, 3, 3, nE, ncz)
        x = np.ascontiguousarray(probabilities[:, :2]).ravel()
        return (self.matrix @ x).reshape(5, 4, N_BINS)


def energy_node_grid(n_nodes: int) -> np.ndarray:
    """Energies (GeV, ascending) of the oscillogram nodes: uniform in ``1/E`` from
    1/1000 GeV^-1 to ``1/LOW_ENERGY_GEV`` with ``n_nodes - n_low`` nodes, then
    ``n_low = n_nodes // 8`` nodes uniform in ``1/E`` down to 1 GeV (oscillations there are
    faster than any affordable grid and those events are 1 % of the sample)."""
    if n_nodes < 16:
        raise ValueError(f"likelihoods.deepcore_3y.energy_nodes: need at least 16, got {n_nodes}")
    n_low = n_nodes // 8
    high = np.linspace(1.0 / 1000.0, 1.0 / LOW_ENERGY_GEV, n_nodes - n_low)
    low = np.linspace(1.0 / LOW_ENERGY_GEV, 1.0, n_low + 1)[1:]
    return 1.0 / np.concatenate([high, low])[::-1]


def _aggregate(keys: list, values: list, n_columns: int) -> list:
    """Sparse ``(4 * N_BINS, n_columns)`` matrices summing ``values`` at flat ``keys``.

    ``keys``: arrays ``(2, n_events)`` of ``row * n_columns + column``; ``values``: for each
    key array, a list of arrays ``(2, n_events)``, one per output matrix."""
    unique, inverse = np.unique(np.concatenate([k.ravel() for k in keys]), return_inverse=True)
    out = []
    for j in range(len(values[0])):
        summed = np.bincount(inverse, weights=np.concatenate([v[j].ravel() for v in values]), minlength=unique.size)
        row, column = np.divmod(unique, n_columns)
        out.append(scipy.sparse.csr_matrix((summed, (row, column)), shape=(4 * N_BINS, n_columns)))
    return out


def _coarse_nearest(position: np.ndarray, n_nodes: int, stride: int) -> np.ndarray:
    """Index of the nearest node among every ``stride``-th node (and the last) for
    fractional node positions ``position``."""
    coarse = np.unique(np.append(np.arange(0, n_nodes, stride), n_nodes - 1))
    index = np.clip(np.searchsorted(coarse, position), 1, coarse.size - 1)
    left, right = coarse[index - 1], coarse[index]
    return np.where(position - left < right - position, left, right)


def _interval(values, nodes):
    """Index of the node interval holding each value and the fraction across it."""
    index = np.clip(np.searchsorted(nodes, values, side="right") - 1, 0, nodes.size - 2)
    fraction = (values - nodes[index]) / (nodes[index + 1] - nodes[index])
    return index, np.clip(fraction, 0.0, 1.0)


class DeepCore3y(Likelihood):
    """IceCube DeepCore 3-year sample: 128-bin Poisson likelihood, nuisances profiled."""

    name = "deepcore_3y"
    description = "IceCube DeepCore 3-year atmospheric oscillations (public release, 128 bins)"
    reads = OSCILLATION_PARAMETERS
    options_allowed = ("release", "release_path", "energy_nodes", "coszen_nodes")

    def __init__(self, **options):
        super().__init__(**options)
        folder = release_option(options, "likelihoods.deepcore_3y")
        if folder is None:
            raise ValueError("likelihoods.deepcore_3y: set release: deepcore_3y (IceCube's highstats_nuosc_3y "
                             "release; get it with `globalfit data fetch deepcore_3y`) or release_path: a "
                             "folder holding it")
        self.release = DeepCoreRelease(folder)
        self.forward = DeepCoreForwardModel(self.release, int(options.get("energy_nodes", ENERGY_NODES)),
                                            int(options.get("coszen_nodes", COSZEN_NODES)))
        self.nuisance_model = NuisanceModel(self.release.observed, self.release.muons,
                                            self.release.hyperplane_offsets, self.release.hyperplane_slopes)

    def templates(self, point: Point) -> np.ndarray:
        couplings = point.couplings
        eps = couplings.eps_matter() if couplings.has_nsi else None
        return self.forward.templates(point.oscillation(), eps)

    def profile(self, point: Point, fixed: dict | None = None) -> tuple[float, dict]:
        """``(chi2_min, nuisances)`` at ``point``; ``fixed`` maps nuisance names to values."""
        index = {NUISANCES.index(k): float(v) for k, v in (fixed or {}).items()}
        # always from the nominal nuisances and converged tightly: ln L must not depend on
        # which points were evaluated before (reproducibility; numerical gradients outside)
        chi2, theta = self.nuisance_model.profile(self.templates(point), fixed=index, tolerance=1e-10)
        return chi2, dict(zip(NUISANCES, theta.tolist()))

    def loglike(self, point: Point) -> float:
        return -0.5 * self.profile(point)[0]

    def expected_counts(self, point: Point, nuisances: dict | None = None) -> np.ndarray:
        """Expected events per bin at ``point`` with the given nuisances (profiled if None)."""
        if nuisances is None:
            nuisances = self.profile(point)[1]
        theta = np.array([nuisances[k] for k in NUISANCES])
        return self.nuisance_model.expected(self.templates(point), theta)

    def observables(self, point: Point) -> pd.DataFrame:
        mu = self.expected_counts(point)
        bins = np.arange(N_BINS)
        return pd.DataFrame({"observable": [f"deepcore_3y bin {b} (E {b // 16}, cz {(b // 2) % 8}, pid {b % 2})"
                                            for b in bins],
                             "predicted": mu, "measured": self.release.observed,
                             "uncertainty": np.sqrt(np.maximum(mu, 1.0))})

    def data_files(self) -> list[Path]:
        return self.release.files()

    def approximations(self) -> list[str]:
        return ["deepcore_3y: flux nuisances to first order about their nominal values",
                "deepcore_3y: oscillation probabilities interpolated bilinearly in (1/E, cos z) from a "
                f"{self.forward.node_energy_gev.size} x {self.forward.node_coszen.size} grid",
                "deepcore_3y: one neutron-to-electron ratio (Couplings.eps_matter default) on the whole path",
                "deepcore_3y: Monte Carlo and muon-template statistical uncertainties not in the likelihood"]
