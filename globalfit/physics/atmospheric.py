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
  energies and cos(zenith), from the Hamiltonian of `globalfit.physics.oscillation` with
  one eigen-decomposition per (energy, medium) shared by all directions.
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
from globalfit.physics.oscillation import DEGENERACY_COS_TOL, LENGTH_EV_INV_PER_KM, hamiltonian_ev

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
    A path crosses pieces of a few media (the vacuum above the surface and the shells),
    and the Hamiltonian of a medium depends on the energy but not on the direction. Each
    (energy, medium) eigensystem ``H = V diag(l) V^dag`` is therefore computed once for
    all directions (closed form, `_eigensystems`), and the amplitudes of an initial
    ``nu_e`` and ``nu_mu`` are carried through a path in the eigenbases of its pieces::

        c_j = diag(exp(-i (l - l_0) L_j)) V_j^dag V_(j-1) c_(j-1),   amplitude = V_n c_n

    (the phase ``exp(-i l_0 L_j)`` common to the three components is dropped: it leaves
    every probability unchanged). The overlaps ``V_j^dag V_(j-1)`` depend only on the pair
    of media, the phases only on the (medium, length) of a piece, and a step is one 3x3
    times 3x2 product per (energy, direction). ``P(nu_tau -> nu_b)`` follows by unitarity
    (the probabilities into ``nu_b`` sum to one over the initial flavours). The directions
    are sorted by their number of pieces, so step ``j`` works on a prefix of them;
    neutrinos and antineutrinos go through the same steps together.
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
        media = sorted({piece[1:] for path in paths for piece in path})
        self.media_density_gcc = np.array([m[0] for m in media])
        self.media_electron_fraction = np.array([m[1] for m in media])
        medium = [[media.index(piece[1:]) for piece in path] for path in paths]
        self.n_pieces = np.array([len(p) for p in paths])
        self.order = np.argsort(-self.n_pieces, kind="stable")        # most pieces first
        # pieces of one medium whose lengths agree to 1e-9 km (the two crossings of a shell)
        # share their phases; the first length is kept
        pieces, lengths, transitions, self.steps = {}, [], {}, []
        for step in range(int(self.n_pieces.max())):
            active = self.order[:np.count_nonzero(self.n_pieces > step)]
            piece, pair = [], []
            for i in active:
                key = (medium[i][step], round(paths[i][step][0], 9))
                if key not in pieces:
                    pieces[key] = len(lengths)
                    lengths.append(paths[i][step][0])
                piece.append(pieces[key])
                if step:
                    pair.append(transitions.setdefault((medium[i][step - 1], medium[i][step]), len(transitions)))
            self.steps.append((active.size, np.array(piece), np.array(pair, dtype=int)))
        self.piece_medium = np.array([m for m, _ in pieces])
        self.piece_length_km = np.array(lengths)
        self.transitions = np.array(list(transitions), dtype=int)     # (from, to) media
        self.first_medium = np.array([medium[i][0] for i in self.order])
        self.last_medium = np.array([medium[i][-1] for i in self.order])

    @property
    def layer_evaluations(self) -> int:
        """Energy x piece steps per neutrino type (the work of one evaluation)."""
        return int(self.energy_gev.size * self.n_pieces.sum())

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
        mul, add = np.multiply, np.add
        density, y_e = self.media_density_gcc[:, None], self.media_electron_fraction[:, None]
        hamiltonian = np.stack([hamiltonian_ev(self.energy_gev, density, params, eps, antineutrino=bar,
                                               electron_fraction=y_e) for bar in (False, True)])  # (2, media, nE, 3, 3)
        # axes from here on: (component(s), nu/nubar, medium or direction, energy)
        values, vectors = _eigensystems(hamiltonian * LENGTH_EV_INV_PER_KM)    # per km: (k, ...), (flavour, k, ...)
        phases = _unit_phases((values[1:] - values[:1])[:, :, self.piece_medium] * self.piece_length_km[:, None])
        phases = phases[:, None]                                               # (k, 1, 2, piece, nE)
        v_to = np.conj(vectors[:, :, None, :, self.transitions[:, 1]])          # (flavour, a, 1, 2, pair, nE)
        v_from = vectors[:, None, :, :, self.transitions[:, 0]]                 # (flavour, 1, b, 2, pair, nE)
        overlap = (v_to[0] * v_from[0] + v_to[1] * v_from[1] + v_to[2] * v_from[2])[:, :, None]  # V_to^dag V_from
        state = np.conj(np.swapaxes(vectors[:2, :, :, self.first_medium], 0, 1))    # (k, a, 2, dir, nE)
        state[1:] *= phases[:, :, :, self.steps[0][1]]
        new, term = np.empty_like(state), np.empty_like(state)
        for n, piece, pair in self.steps[1:]:
            w, c, out, tmp = overlap[:, :, :, :, pair], state[:, :, :, :n], new[:, :, :, :n], term[:, :, :, :n]
            mul(w[:, 0], c[0], out)
            add(out, mul(w[:, 1], c[1], tmp), out)
            add(out, mul(w[:, 2], c[2], tmp), out)
            mul(out[1:], phases[:, :, :, piece], out[1:])
            np.copyto(c, out)
        last = vectors[:, :, None, :, self.last_medium]
        amplitude = last[:, 0] * state[0] + last[:, 1] * state[1] + last[:, 2] * state[2]   # (b, a, 2, dir, nE)
        out = np.empty((2, 3, 3, self.energy_gev.size, self.cos_zenith.size))
        out[:, :2, :, :, self.order] = np.transpose(amplitude.real**2 + amplitude.imag**2, (2, 1, 0, 4, 3))
        out[:, 2] = 1.0 - out[:, 0] - out[:, 1]
        return out


def _unit_phases(angle: np.ndarray) -> np.ndarray:
    """``exp(-i angle)`` from ``tau = tan(angle / 2)``: ``(1 - tau^2 - 2 i tau) / (1 + tau^2)``
    (numpy's vectorised ``tan`` is about ten times faster than ``exp``, ``sin`` or ``cos``
    of large arguments here; the result agrees with ``exp`` to 4e-16)."""
    tau = np.tan(0.5 * angle)
    scale = 2.0 / (1.0 + tau * tau)
    out = np.empty(angle.shape, dtype=complex)
    out.real = scale - 1.0
    out.imag = -tau * scale
    return out


def _eigensystems(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues ``(3, ...)`` (descending) and orthonormal eigenvectors ``(3, 3, ...)``
    (``[flavour, k]``) of Hermitian ``h (..., 3, 3)`` less its trace.

    Eigenvalues from the trigonometric solution of ``l^3 - a l - b = 0`` (``a = tr(T^2)/2``,
    ``b = det T`` of the traceless ``T``). The eigenvector of ``l_k`` is the column of
    ``adj(T - l_k)`` (the cross products of its rows; it is ``(l_k - l_i)(l_k - l_j)`` times
    the projector on ``v_k``) with the largest diagonal entry, taken for the eigenvalue
    farthest from the others and for the middle one (orthogonalised against the first);
    the third is ``conj(v_first x v_middle)``, so the eigenvectors are orthonormal to
    rounding. Matrices whose two closest eigenvalues nearly coincide
    (`oscillation.DEGENERACY_COS_TOL`, as in the engine) go to ``numpy.linalg.eigh``.
    Entries are handled as separate arrays: the batches are small (energies x media), so
    the number of numpy calls matters more than their size.
    """
    mean = (h[..., 0, 0].real + h[..., 1, 1].real + h[..., 2, 2].real) / 3.0
    d0, d1, d2 = (h[..., i, i].real - mean for i in range(3))
    p, q, s = h[..., 0, 1], h[..., 0, 2], h[..., 1, 2]
    pp, qq, ss = (x.real**2 + x.imag**2 for x in (p, q, s))
    a = 0.5 * (d0**2 + d1**2 + d2**2) + pp + qq + ss
    b = d0 * d1 * d2 + 2.0 * (p * s * np.conj(q)).real - d0 * ss - d1 * qq - d2 * pp
    r = np.sqrt(a / 3.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos_3theta = b / (2.0 * r**3)
    regular = np.abs(cos_3theta) < 1.0 - DEGENERACY_COS_TOL
    theta = np.arccos(np.where(regular, cos_3theta, 0.0)) / 3.0
    values = 2.0 * r * np.cos(theta - _THIRDS_OF_A_TURN.reshape((3,) + (1,) * theta.ndim))
    first_isolated = values[0] - values[1] > values[1] - values[2]
    lam = np.stack([np.where(first_isolated, values[0], values[2]), values[1]])      # (2, ...)
    e0, e1, e2 = d0 - lam, d1 - lam, d2 - lam
    pc, qc, sc = np.conj(p), np.conj(q), np.conj(s)
    diagonal = (e1 * e2 - ss, e0 * e2 - qq, e0 * e1 - pp)
    columns = ((diagonal[0], s * qc - pc * e2, pc * sc - e1 * qc),
               (sc * q - e2 * p, diagonal[1], qc * p - sc * e0),
               (p * s - q * e1, q * pc - e0 * s, diagonal[2]))
    best = np.argmax(np.abs(np.stack(diagonal)), axis=0)
    v = np.stack([np.where(best == 0, columns[0][i], np.where(best == 1, columns[1][i], columns[2][i]))
                  for i in range(3)])                                                # (flavour, 2, ...)
    isolated = v[:, 0] / np.sqrt(np.sum(v[:, 0].real**2 + v[:, 0].imag**2, axis=0))
    middle = v[:, 1] - np.sum(np.conj(isolated) * v[:, 1], axis=0) * isolated
    middle /= np.sqrt(np.sum(middle.real**2 + middle.imag**2, axis=0))
    third = np.conj(np.stack([isolated[1] * middle[2] - isolated[2] * middle[1],
                              isolated[2] * middle[0] - isolated[0] * middle[2],
                              isolated[0] * middle[1] - isolated[1] * middle[0]]))
    vectors = np.stack([np.where(first_isolated, isolated, third), middle,
                        np.where(first_isolated, third, isolated)], axis=1)
    if not regular.all():
        exact_values, exact_vectors = np.linalg.eigh(h[~regular] - mean[~regular][:, None, None] * np.eye(3))
        values[:, ~regular] = exact_values.T
        vectors[:, :, ~regular] = np.moveaxis(exact_vectors, 0, -1)
    return values, vectors


_THIRDS_OF_A_TURN = np.array([0.0, 2.0 * np.pi / 3.0, 4.0 * np.pi / 3.0])
