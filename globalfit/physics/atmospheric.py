"""Atmospheric neutrinos: flux tables, paths through a layered Earth, oscillograms.

Experiment-independent pieces of an atmospheric-neutrino forward model:

* `HondaFluxTable`: a Honda et al. flux table in the format of the public tables
  (M. Honda et al., PRD 92 (2015) 023004, arXiv:1502.03916): blocks of cos(zenith) bands,
  each a table of ``E [GeV]`` against the ``nu_mu, nubar_mu, nu_e, nubar_e`` fluxes in
  ``(m^2 s sr GeV)^-1``. Interpolated by a bicubic spline of ``ln(flux)`` in ``ln E`` and
  the band-centre ``cos(zenith)`` (linear extrapolation-free: the spline's end pieces
  cover the half bands at ``|cos z| > 0.95``).
* `LayeredEarth`: a spherically symmetric Earth of constant-density shells (the format
  ``outer radius [km]  density [g/cm^3]`` per line, the centre first), with the electron
  fraction of `globalfit.physics.matter` (core 0.466, mantle 0.494).
* `path_layers`: the constant-density pieces crossed between a production height in the
  atmosphere and a detector at a depth, in crossing order (the atmosphere is vacuum).
* `Oscillogram`: ``P(nu_a -> nu_b)`` for neutrinos and antineutrinos on a grid of true
  energies and cos(zenith), from `globalfit.physics.oscillation.evolution_operator` (one
  call per group of directions that cross the same number of pieces).
* `barr_nu_nubar_slope`, `barr_up_horizontal_slope`: the parameterisation of the Barr et
  al. (PRD 74 (2006) 094009) flux uncertainties used by IceCube's oscillation analyses
  (``barr_simple`` of IceCube's PISA, Apache-2.0), as derivatives of the flux.

The NSI matrix passed to `Oscillogram.probabilities` is the propagation matrix in units
of the electron-density potential (``Couplings.eps_matter``), one matrix for the whole
path (a fixed neutron-to-electron ratio).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike
from scipy.interpolate import RectBivariateSpline

from globalfit.physics.matter import (
    CORE_ELECTRON_FRACTION,
    CORE_MANTLE_BOUNDARY_KM,
    MANTLE_ELECTRON_FRACTION,
)
from globalfit.physics.oscillation import evolution_operator

HONDA_COLUMNS = ("numu", "numubar", "nue", "nuebar")
"""Column order of a Honda table after the energy column."""

_HONDA_BLOCK = re.compile(r"cosZ\s*=\s*([-+0-9.]+)\s*--\s*([-+0-9.]+)")


# --------------------------------------------------------------------------------------
# flux
# --------------------------------------------------------------------------------------
class HondaFluxTable:
    """An azimuth-averaged Honda flux table, interpolated in ``ln E`` and ``cos(zenith)``.

    Parameters
    ----------
    path : str or Path
        The table (e.g. ``honda-2015-spl-solmin-aa.d``): for each cos(zenith) band a line
        ``average flux in [cosZ = a -- b, ...]``, a header line, then rows
        ``E numu numubar nue nuebar``.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        bands, blocks, block = [], [], None
        with open(self.path) as handle:
            for line in handle:
                match = _HONDA_BLOCK.search(line)
                if match:
                    bands.append((float(match.group(1)), float(match.group(2))))
                    block = []
                    blocks.append(block)
                    continue
                fields = line.split()
                if block is None or len(fields) != 5:
                    continue
                try:
                    block.append([float(v) for v in fields])
                except ValueError:
                    continue            # the column-header line
        if not blocks or any(len(b) == 0 for b in blocks):
            raise ValueError(f"{self.path}: no Honda flux blocks found (expected 'cosZ = a -- b' headers)")
        tables = [np.array(b) for b in blocks]
        energies = tables[0][:, 0]
        if any(t.shape != tables[0].shape or not np.allclose(t[:, 0], energies) for t in tables):
            raise ValueError(f"{self.path}: cos(zenith) blocks have different energy columns")
        order = np.argsort([0.5 * (a + b) for a, b in bands])
        self.cos_zenith_centres = np.array([0.5 * sum(bands[i]) for i in order])
        self.energy_gev = energies
        self.table = np.stack([tables[i][:, 1:] for i in order], axis=1)   # (nE, ncz, 4)
        if np.any(self.table <= 0):
            raise ValueError(f"{self.path}: fluxes must be positive")
        log_e = np.log(energies)
        self._splines = [RectBivariateSpline(log_e, self.cos_zenith_centres, np.log(self.table[:, :, j]),
                                             bbox=[log_e[0], log_e[-1], -1.0, 1.0], kx=3, ky=3, s=0)
                         for j in range(len(HONDA_COLUMNS))]

    def flux(self, column: str, energy_gev: ArrayLike, cos_zenith: ArrayLike) -> np.ndarray:
        """Flux in ``(m^2 s sr GeV)^-1`` of ``column`` (one of `HONDA_COLUMNS`) at the points.

        Raises
        ------
        ValueError
            For an unknown column, or energies outside the table.
        """
        if column not in HONDA_COLUMNS:
            raise ValueError(f"column: {column!r} is not one of {HONDA_COLUMNS}")
        energy = np.asarray(energy_gev, float)
        cz = np.asarray(cos_zenith, float)
        if np.any(energy < self.energy_gev[0]) or np.any(energy > self.energy_gev[-1]):
            raise ValueError(f"energy_gev: outside the table {self.path.name} "
                             f"([{self.energy_gev[0]}, {self.energy_gev[-1]}] GeV)")
        if np.any(np.abs(cz) > 1.0):
            raise ValueError("cos_zenith: must lie in [-1, 1]")
        spline = self._splines[HONDA_COLUMNS.index(column)]
        return np.exp(spline(np.log(energy), cz, grid=False))


def _log_log(energy_gev, y1, y2, x1, x2, cutoff_gev=None):
    """Straight line in ``log10`` through ``(x1, log10 y1)`` and ``(x2, log10 y2)``, times
    0.01 (the Barr tables are in per cent), with an optional ``exp(-E / cutoff)``."""
    l1, l2 = np.log10(abs(y1) + 1e-4), np.log10(abs(y2) + 1e-4)
    value = np.sign(y2) * 10.0 ** ((l2 - l1) / (x2 - x1) * (np.log10(energy_gev) - x1) + l1 - 2.0)
    if cutoff_gev is not None:
        value = value * np.exp(-energy_gev / cutoff_gev)
    return value


def _gauss(x, amplitude, sigma):
    return amplitude / np.sqrt(2.0 * np.pi * sigma**2) * np.exp(-x**2 / (2.0 * sigma**2))


def barr_nu_nubar_slope(flavour: str, energy_gev: ArrayLike, cos_zenith: ArrayLike) -> np.ndarray:
    """``M(E, cos z)`` of the Barr nu/nubar uncertainty: the flux of neutrinos is scaled by
    ``1 + s M / 2`` and that of antineutrinos by ``1 / (1 + s M / 2)`` for a shift ``s``
    (in sigma). Energy dependence fitted to Barr et al. 2006 Fig. 7 (1 sigma: 3 % at
    3 GeV to 43 % at 1 TeV for nu_mu), zenith dependence to Fig. 9 (IceCube's
    parameterisation).

    Parameters
    ----------
    flavour : ``"e"`` or ``"mu"``
    energy_gev, cos_zenith : array_like
    """
    energy = np.asarray(energy_gev, float)
    cz = np.asarray(cos_zenith, float)
    if flavour == "mu":
        average = _log_log(energy, 3.0, 43.0, 0.5, 3.0)
        shape = 2.5 * _log_log(energy, 0.6, 5.0, 0.5, 2.0, cutoff_gev=1000.0)
        return average - (_gauss(cz, shape, 0.36) - 0.6 * shape)
    if flavour == "e":
        average = _log_log(energy, 3.0 + 2.5, 43.0 + 10.0, 0.5, 3.0)
        shape = _log_log(energy, 0.6 + 0.3, 5.0 + 5.0, 0.5, 2.0, cutoff_gev=650.0)
        return average - (1.5 * _gauss(cz, shape, 0.36) - 0.7 * shape)
    raise ValueError(f"flavour: {flavour!r} is not 'e' or 'mu'")


def barr_up_horizontal_slope(flavour: str, energy_gev: ArrayLike, cos_zenith: ArrayLike) -> np.ndarray:
    """``d ln(flux) / du`` of the Barr up/horizontal uncertainty (shift ``u`` in sigma; the
    flux factor ``1 + u * slope`` is exactly linear). Non-zero for ``nu_e`` only, as in
    IceCube's parameterisation."""
    energy = np.asarray(energy_gev, float)
    cz = np.asarray(cos_zenith, float)
    if flavour == "mu":
        return np.zeros(np.broadcast_shapes(energy.shape, cz.shape))
    if flavour == "e":
        shape = _log_log(energy, 0.3 + 0.6, 5.0 + 5.0, 0.5, 2.0, cutoff_gev=650.0)
        return -0.3 * _gauss(cz, shape, 0.35)
    raise ValueError(f"flavour: {flavour!r} is not 'e' or 'mu'")


# --------------------------------------------------------------------------------------
# Earth and paths
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LayeredEarth:
    """Constant-density shells: ``outer_radius_km[i]`` and ``density_gcc[i]`` from the
    centre outwards; ``electron_fraction[i]`` per shell."""

    outer_radius_km: np.ndarray
    density_gcc: np.ndarray
    electron_fraction: np.ndarray
    name: str = ""

    @classmethod
    def from_file(cls, path: str | Path) -> LayeredEarth:
        """Read ``radius density`` lines (the first may be the centre, radius 0). Shells
        inside the core-mantle boundary (3480 km) get ``Y_e`` = 0.466, the others 0.494."""
        path = Path(path)
        try:
            rows = np.loadtxt(path, comments="#", ndmin=2)
        except ValueError as error:
            raise ValueError(f"{path}: cannot read 'radius_km density_gcc' rows: {error}") from None
        if rows.shape[1] != 2:
            raise ValueError(f"{path}: expected 2 columns (radius_km, density_gcc), got {rows.shape[1]}")
        rows = rows[rows[:, 0] > 0]
        radius, density = rows[:, 0], rows[:, 1]
        if np.any(np.diff(radius) <= 0) or np.any(density < 0):
            raise ValueError(f"{path}: radii must increase and densities be >= 0")
        y_e = np.where(radius <= CORE_MANTLE_BOUNDARY_KM + 1e-6, CORE_ELECTRON_FRACTION, MANTLE_ELECTRON_FRACTION)
        return cls(radius, density, y_e, path.name)

    @property
    def radius_km(self) -> float:
        return float(self.outer_radius_km[-1])


def path_layers(cos_zenith: float, earth: LayeredEarth, detector_depth_km: float,
                production_height_km: float) -> list[tuple[float, float, float]]:
    """Pieces ``(length_km, density_gcc, electron_fraction)`` from the production point to
    the detector, in crossing order.

    The detector sits at radius ``R - detector_depth_km``; the neutrino is produced at
    height ``production_height_km`` above the surface and arrives from the direction
    ``cos_zenith`` (-1: from below). Pieces above the surface are vacuum (density 0).
    """
    if not -1.0 <= cos_zenith <= 1.0:
        raise ValueError(f"cos_zenith: must lie in [-1, 1], got {cos_zenith}")
    radius = earth.radius_km
    r_det = radius - detector_depth_km
    if not (0 <= detector_depth_km < radius) or production_height_km < 0:
        raise ValueError(f"detector_depth_km ({detector_depth_km}) must lie in [0, R) and "
                         f"production_height_km ({production_height_km}) be >= 0")
    boundaries = np.append(earth.outer_radius_km, radius + production_height_km)
    cuts = [0.0]
    for r in boundaries:
        disc = r_det**2 * cos_zenith**2 - r_det**2 + r**2
        if disc < 0:
            continue
        root = np.sqrt(disc)
        cuts += [s for s in (-r_det * cos_zenith - root, -r_det * cos_zenith + root) if s > 0]
    top = -r_det * cos_zenith + np.sqrt(r_det**2 * cos_zenith**2 - r_det**2 + boundaries[-1] ** 2)
    cuts = np.unique(np.clip(cuts, 0.0, top))
    pieces = []
    for start, stop in zip(cuts[:-1], cuts[1:]):
        if stop - start < 1e-9:
            continue
        mid = 0.5 * (start + stop)
        r_mid = np.sqrt(r_det**2 + 2 * mid * r_det * cos_zenith + mid**2)
        if r_mid >= radius:
            pieces.append((float(stop - start), 0.0, float(MANTLE_ELECTRON_FRACTION)))
            continue
        shell = int(np.searchsorted(earth.outer_radius_km, r_mid, side="right"))
        pieces.append((float(stop - start), float(earth.density_gcc[shell]), float(earth.electron_fraction[shell])))
    return pieces[::-1]       # from the production point to the detector


class Oscillogram:
    """``P(nu_a -> nu_b)`` on a grid of true energies and directions.

    Parameters
    ----------
    energy_gev : 1-d array
        Energies (> 0).
    cos_zenith : 1-d array
        Directions in [-1, 1].
    earth : LayeredEarth
    detector_depth_km, production_height_km : float
        Geometry of `path_layers`.

    Notes
    -----
    The paths are computed once; directions whose paths have the same number of pieces
    form one group, and each group is one `evolution_operator` call per neutrino type,
    with array-valued layers (so no zero-length padding layers are evaluated).
    """

    def __init__(self, energy_gev: ArrayLike, cos_zenith: ArrayLike, earth: LayeredEarth,
                 detector_depth_km: float, production_height_km: float):
        self.energy_gev = np.asarray(energy_gev, float)
        self.cos_zenith = np.asarray(cos_zenith, float)
        if self.energy_gev.ndim != 1 or np.any(self.energy_gev <= 0):
            raise ValueError("energy_gev: expected a 1-d array of positive energies")
        if self.cos_zenith.ndim != 1:
            raise ValueError("cos_zenith: expected a 1-d array")
        paths = [path_layers(float(c), earth, detector_depth_km, production_height_km) for c in self.cos_zenith]
        self.n_pieces = np.array([len(p) for p in paths])
        self.groups = []
        for index, count in _group_by_pieces(self.n_pieces, self.energy_gev.size):
            columns = np.array([_split_to(paths[i], count) for i in index])      # (n_dir, count, 3)
            layers = [tuple(columns[:, j, k] for k in range(3)) for j in range(count)]
            self.groups.append((index, layers))

    @property
    def layer_evaluations(self) -> int:
        """Energy x layer products per neutrino type (the work of one evaluation)."""
        return int(sum(self.energy_gev.size * index.size * len(layers) for index, layers in self.groups))

    def probabilities(self, params: Mapping, eps: ArrayLike | None = None) -> np.ndarray:
        """``P[t, a, b, i, j] = P(nu_a -> nu_b)`` for ``t = 0`` neutrinos, ``1``
        antineutrinos, at ``energy_gev[i]``, ``cos_zenith[j]``.

        Parameters
        ----------
        params : mapping
            ``th12, th13, th23, dcp`` (rad), ``dm21, dm31`` (eV^2), scalars.
        eps : (3, 3) complex Hermitian or None
            Propagation NSI matrix (``Couplings.eps_matter``).
        """
        out = np.empty((2, 3, 3, self.energy_gev.size, self.cos_zenith.size))
        energy = self.energy_gev[:, None]
        for t, antineutrino in enumerate((False, True)):
            for index, layers in self.groups:
                s = evolution_operator(energy, layers, params, eps, antineutrino=antineutrino)
                out[t][:, :, :, index] = np.moveaxis(np.abs(s) ** 2, (-1, -2), (0, 1))   # [a, b] = |S_ba|^2
        return out


CALL_COST_LAYER_EVALUATIONS = 4000
"""Fixed cost of one `evolution_operator` call in units of one energy x layer product
(measured: about 1 ms per call against about 250 ns per product); used to decide how
directions are grouped."""


def _group_by_pieces(n_pieces: np.ndarray, n_energies: int) -> list[tuple[np.ndarray, int]]:
    """Directions grouped into contiguous ranges of piece counts, each group padded to its
    largest count, minimising ``sum(call cost + energies x directions x count)`` (dynamic
    programming over the sorted distinct counts)."""
    counts, sizes = np.unique(n_pieces, return_counts=True)
    best = [0.0] + [np.inf] * len(counts)
    cut = [0] * (len(counts) + 1)
    for end in range(1, len(counts) + 1):
        for start in range(end):
            cost = best[start] + CALL_COST_LAYER_EVALUATIONS + n_energies * sizes[start:end].sum() * counts[end - 1]
            if cost < best[end]:
                best[end], cut[end] = cost, start
    groups, end = [], len(counts)
    while end > 0:
        start = cut[end]
        members = np.flatnonzero(np.isin(n_pieces, counts[start:end]))
        groups.append((members, int(counts[end - 1])))
        end = start
    return groups[::-1]


def _split_to(pieces: list, count: int) -> list:
    """``pieces`` with the longest ones halved until there are ``count`` (the evolution
    through a constant-density piece is the product of that through its halves)."""
    pieces = list(pieces)
    while len(pieces) < count:
        longest = max(range(len(pieces)), key=lambda i: pieces[i][0])
        length, density, y_e = pieces[longest]
        pieces[longest:longest + 1] = [(0.5 * length, density, y_e)] * 2
    return pieces
