"""Solar-neutrino energy spectra: compact parameterisations or user-given tables.

Built in (parameters in ``data/solar/spectra.yaml``):

* continuous sources pp, 13N, 15O, 17F, hep: allowed beta+ shapes
  ``dN/dE ∝ E^2 W p F(Z, W)`` with positron total energy ``W = Q - E + m_e``, momentum
  ``p = sqrt(W^2 - m_e^2)`` and the non-relativistic Fermi function for a positron
  ``F = 2 pi eta / (exp(2 pi eta) - 1)``, ``eta = Z alpha W / p`` (Z of the daughter);
  recoil and radiative corrections neglected (percent-level at the endpoint);
* 8B: ``E^a (Q - E)^b exp(-c E)`` fitted to Winter et al., PRC 73 (2006) 025503
  (peak-relative accuracy 0.3 %, see ``data/solar/derive_spectra.py``);
* lines: 7Be (861.8 keV, 89.56 %; 384.3 keV, 10.44 %), pep (1.442 MeV).

`load_spectrum_table(path)` reads a user-given two-column table (E in MeV, shape), e.g.
the files of ``shared/data/solar``, in place of a built-in shape.

Every continuous spectrum returned here is normalised to 1 over energy (MeV^-1).
"""
from __future__ import annotations

import functools
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from globalfit.paths import data_path
from globalfit.physics.constants import ALPHA_EM, ELECTRON_MASS_GEV

ELECTRON_MASS_MEV = ELECTRON_MASS_GEV * 1.0e3
DATA_FILE = data_path("solar", "spectra.yaml")
CONTINUOUS = ("pp", "hep", "8B", "13N", "15O", "17F")
LINES = ("7Be", "pep")


@lru_cache(maxsize=1)
@functools.lru_cache(maxsize=1)
def spectra_parameters() -> dict:
    """The compact spectra of ``data/solar/spectra.yaml`` (read once)."""
    with open(DATA_FILE) as handle:
        return yaml.safe_load(handle)


def endpoint_mev(source: str) -> float:
    """Maximum neutrino energy of a continuous source, MeV."""
    params = spectra_parameters()
    if source == "8B":
        return float(params["8B"]["q"])
    if source in params["beta_plus"]:
        return float(params["beta_plus"][source]["q_mev"])
    raise ValueError(f"source: {source!r} is not continuous; choose from {CONTINUOUS}")


def beta_plus_shape(energy_mev, q_mev: float, daughter_charge: int) -> np.ndarray:
    """Unnormalised allowed beta+ neutrino spectrum (see module docstring)."""
    energy = np.asarray(energy_mev, float)
    kinetic = np.clip(q_mev - energy, 0.0, None)
    total = kinetic + ELECTRON_MASS_MEV
    momentum = np.sqrt(np.clip(total**2 - ELECTRON_MASS_MEV**2, 0.0, None))
    eta = daughter_charge * ALPHA_EM * total / np.where(momentum > 0, momentum, 1.0)
    fermi = 2 * np.pi * eta / np.expm1(2 * np.pi * eta)
    shape = energy**2 * total * momentum * fermi
    return np.where((energy > 0) & (energy < q_mev), shape, 0.0)


def boron8_shape(energy_mev) -> np.ndarray:
    """Unnormalised compact 8B spectrum ``E^a (Q - E)^b exp(-c E)``."""
    p = spectra_parameters()["8B"]
    energy = np.asarray(energy_mev, float)
    inside = (energy > 0) & (energy < p["q"])
    safe = np.where(inside, energy, 1.0)
    shape = safe ** p["a"] * (p["q"] - safe) ** p["b"] * np.exp(-p["c"] * safe)
    return np.where(inside, shape, 0.0)


def energy_grid(source: str, n_points: int = 200) -> np.ndarray:
    """Midpoint grid over the range of a continuous source, MeV."""
    edges = np.linspace(0.0, endpoint_mev(source), n_points + 1)
    return 0.5 * (edges[1:] + edges[:-1])


def spectrum(source: str, energy_mev) -> np.ndarray:
    """Normalised spectrum (MeV^-1) of a continuous source at ``energy_mev``."""
    if source not in CONTINUOUS:
        raise ValueError(f"source: {source!r} is not continuous; choose from {CONTINUOUS}")
    fine = np.linspace(0.0, endpoint_mev(source), 4001)
    norm = np.trapezoid(_raw_shape(source, fine), fine)
    return _raw_shape(source, energy_mev) / norm


def _raw_shape(source: str, energy_mev) -> np.ndarray:
    if source == "8B":
        return boron8_shape(energy_mev)
    p = spectra_parameters()["beta_plus"][source]
    return beta_plus_shape(energy_mev, p["q_mev"], p["daughter_z"])


def lines(source: str) -> list[tuple[float, float]]:
    """``[(energy_mev, branching), ...]`` of a line source."""
    if source not in LINES:
        raise ValueError(f"source: {source!r} is not a line; choose from {LINES}")
    return [(float(e), float(b)) for e, b in spectra_parameters()["lines"][source]]


def load_spectrum_table(path) -> tuple[np.ndarray, np.ndarray]:
    """Read a user-given spectrum table: two or more comma/space separated columns
    (energy in MeV, shape); ``#`` comments. Returns ``(energy_mev, normalised_shape)``."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"spectrum table: {path} is not a file")
    rows = []
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        try:
            rows.append([float(v) for v in line.replace(",", " ").split()[:2]])
        except ValueError:
            continue
    table = np.array(rows)
    if table.ndim != 2 or len(table) < 3:
        raise ValueError(f"spectrum table: {path} has no usable (energy, shape) rows")
    energy, shape = table[:, 0], table[:, 1]
    return energy, shape / np.trapezoid(shape, energy)
