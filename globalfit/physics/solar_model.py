"""Solar models: electron density, neutron fraction and production distributions.

A `SolarModel` holds, on a radial grid ``x = r / R_sun`` covering the production region,
``n_e / N_A`` (cm^-3), ``Y_n = N_n / N_e`` and, per source (pp, pep, hep, 7Be, 8B, 13N, 15O,
17F), normalised production weights (summing to 1 on the grid). It also gives ``n_e`` and
``Y_n`` as functions of ``x`` out to the surface for the numerical evolution.

Built-in default (`SolarModel.compact`): the B16-GS98 standard solar model condensed into
``data/solar/compact_solar_model.yaml`` (how: ``data/solar/derive_compact_model.py``):

* ``ln(n_e/N_A) = sum_k c_k T_k(4x - 1)`` (Chebyshev, k <= 13) for ``x <= 0.5``, then
  ``exp(-10.54 x)`` (Bahcall's slope) continued from ``x = 0.5``;
* ``X(x) = X_out - (X_out - X_c) exp(-(x/x0)^p)``, ``Y_n = (1 - X)/(1 + X)`` (hydrogen and helium
  only; metals, about 2 % by mass, are neglected);
* per source, the radii ``r(u_k)`` enclosing the fractions ``u_k = (1 - cos(pi k / 128)) / 2`` of
  its production (`PRODUCTION_LEVELS`); the cumulative distribution is the monotone (PCHIP)
  interpolant through ``(r(u_k), u_k)``.

It reproduces the day-time ``P_ee`` of the full B16-GS98 table over LMA and LMA-Dark to
< 1e-3 (tests/test_solar_model_agreement.py, docs/solar.md).

Full tables (`SolarModel.from_table`): a file in the format of B16's ``nudistr_*.dat``
(columns ``x, T, log10(n_e/N_A), m, pp, pep, hep, 7Be, 8B, 13N, 15O, 17F``) or of BS05's
``bs2005*flux*`` (``x, T, log10(n_e/N_A), m, X(7Be), pp, 8B, 13N, 15O, 17F, 7Be, pep, hep``,
with the fluxes' header lines). Those tables carry no hydrogen fraction, so ``Y_n`` comes
from the compact ``X(x)`` fit; beyond the table the electron density continues with the
Bahcall slope.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.polynomial import chebyshev
from scipy.interpolate import PchipInterpolator

from globalfit.datafile import read_yaml
from globalfit.paths import data_path

SOURCES = ("pp", "pep", "hep", "7Be", "8B", "13N", "15O", "17F")
DATA_FILE = data_path("solar", "compact_solar_model.yaml")

N_PRODUCTION_LEVELS = 129
PRODUCTION_LEVELS = 0.5 * (1.0 - np.cos(np.pi * np.arange(N_PRODUCTION_LEVELS) / (N_PRODUCTION_LEVELS - 1)))
"""Cumulative production fractions ``u_k`` at which the compact model gives the radius (the
same formula as ``data/solar/derive_compact_model.py``)."""
DENSITY_EDGE = 0.5
"""Outer end (``x = r / R_sun``) of the compact model's Chebyshev fit of ``ln(n_e/N_A)``."""

_B16_COLUMNS = {name: 4 + k for k, name in enumerate(SOURCES)}
_BS05_COLUMNS = {"pp": 5, "8B": 6, "13N": 7, "15O": 8, "17F": 9, "7Be": 10, "pep": 11, "hep": 12}


@lru_cache(maxsize=1)
def _compact_parameters() -> dict:
    return read_yaml(DATA_FILE)


def hydrogen_fraction(x) -> np.ndarray:
    """Hydrogen mass fraction ``X(x)`` of the compact model (fit to B23-GS98)."""
    p = _compact_parameters()["hydrogen_fraction"]
    x = np.asarray(x, float)
    return p["x_outer"] - (p["x_outer"] - p["x_centre"]) * np.exp(-(np.clip(x, 0, None) / p["x0"]) ** p["power"])


def neutron_fraction_compact(x) -> np.ndarray:
    """``Y_n = N_n / N_e = (1 - X) / (1 + X)`` for a hydrogen-helium plasma."""
    hydrogen = hydrogen_fraction(x)
    return (1.0 - hydrogen) / (1.0 + hydrogen)


def compact_production(source: str, radius_edges) -> np.ndarray:
    """Fraction of ``source``'s neutrinos produced between consecutive ``radius_edges``
    (``x = r / R_sun``) in the compact model (PCHIP cumulative through its quantile radii)."""
    radii = np.asarray(_compact_parameters()["production_quantile_radii"][_check_source(source)], float)
    if radii.shape != PRODUCTION_LEVELS.shape or np.any(np.diff(radii) <= 0):
        raise ValueError(f"{DATA_FILE}: production_quantile_radii.{source} must be {N_PRODUCTION_LEVELS} "
                         f"increasing radii; rerun data/solar/derive_compact_model.py")
    cumulative = PchipInterpolator(radii, PRODUCTION_LEVELS)(np.clip(radius_edges, radii[0], radii[-1]))
    return np.diff(cumulative)


@dataclass
class SolarModel:
    """Radial solar model on a grid (see module docstring).

    Attributes
    ----------
    name : str
        Human-readable description written into a run's provenance.
    radius : ndarray, shape (n,)
        Grid ``x = r / R_sun`` of the production region.
    electron_density_na, neutron_fraction : ndarray, shape (n,)
        ``n_e / N_A`` in cm^-3 and ``Y_n`` on the grid.
    production : dict source -> ndarray (n,)
        Normalised production weights (sum to 1) per source.
    """

    name: str
    radius: np.ndarray
    electron_density_na: np.ndarray
    neutron_fraction: np.ndarray
    production: dict = field(default_factory=dict)

    # --- constructors -----------------------------------------------------------------
    @classmethod
    def compact(cls, n_points: int = 2000) -> SolarModel:
        """The built-in compact model (B16-GS98), on ``n_points`` zone centres in (0, 0.5]
        (production weights: the fraction produced in each zone)."""
        edges = np.linspace(0.0, DENSITY_EDGE, n_points + 1)
        x = 0.5 * (edges[1:] + edges[:-1])
        production = {}
        for source in SOURCES:
            fractions = compact_production(source, edges)
            production[source] = fractions / fractions.sum()
        return cls("compact B16-GS98 (data/solar/compact_solar_model.yaml)", x,
                   compact_electron_density_na(x), neutron_fraction_compact(x), production)

    @classmethod
    def from_table(cls, path) -> SolarModel:
        """Read a B16 ``nudistr`` or a BS05 ``bs2005*flux*`` table (format detected from the header)."""
        path = Path(path)
        if not path.is_file():
            raise ValueError(f"solar_model: {path} is not a file (expected a B16 nudistr_*.dat or BS05 table)")
        text = path.read_text()
        is_bs05 = "X(^7Be)" in text or "BS05" in text
        rows = [line.split() for line in text.splitlines()]
        numeric = [r for r in rows if len(r) == (13 if is_bs05 else 12) and _is_number_row(r)]
        table = np.array(numeric, dtype=float)
        if table.size == 0:
            raise ValueError(f"solar_model: no data rows of the expected width found in {path}")
        columns = _BS05_COLUMNS if is_bs05 else _B16_COLUMNS
        x = table[:, 0]
        production = {s: table[:, columns[s]] / table[:, columns[s]].sum() for s in SOURCES}
        return cls(f"table {path.name}", x, 10.0 ** table[:, 2], neutron_fraction_compact(x), production)

    # --- profiles as functions out to the surface ----------------------------------------
    def electron_density_function(self):
        """``n_e/N_A (x)`` for ``0 <= x <= 1``: the grid, then the Bahcall slope."""
        x_edge, n_edge = self.radius[-1], self.electron_density_na[-1]
        outer_slope = float(_compact_parameters()["outer_slope"])  # Bahcall's exp(-10.54 x), inputs.md 1b

        def density(x):
            x = np.asarray(x, float)
            inside = np.interp(x, self.radius, self.electron_density_na)
            return np.where(x <= x_edge, inside, n_edge * np.exp(-outer_slope * (x - x_edge)))

        return density

    def mean_radius(self, source: str) -> float:
        """Production-weighted mean ``x`` of a source."""
        return float(self.production[_check_source(source)] @ self.radius)

    def weighted(self, source: str):
        """``(n_e/N_A, Y_n, weights)`` on the grid points that carry production of ``source``."""
        weights = self.production[_check_source(source)]
        keep = weights > 1e-7 * weights.max()
        w = weights[keep] / weights[keep].sum()
        return self.electron_density_na[keep], self.neutron_fraction[keep], w


def compact_electron_density_na(x) -> np.ndarray:
    """Electron density ``n_e / N_A`` (cm^-3) of the compact model for ``0 <= x <= 1``."""
    params = _compact_parameters()
    coefficients = np.asarray(params["electron_density_log_chebyshev"], float)
    x = np.asarray(x, float)
    inner = np.exp(chebyshev.chebval(2.0 * np.clip(x, 0.0, DENSITY_EDGE) / DENSITY_EDGE - 1.0, coefficients))
    return np.where(x <= DENSITY_EDGE, inner, inner * np.exp(-params["outer_slope"] * (x - DENSITY_EDGE)))


def _check_source(source: str) -> str:
    if source not in SOURCES:
        raise ValueError(f"source: {source!r} not known; choose from {SOURCES}")
    return source


def _is_number_row(row) -> bool:
    try:
        [float(v) for v in row]
    except ValueError:
        return False
    return True


def load_solar_model(solar_model=None) -> SolarModel:
    """``None`` or ``"compact"``: the built-in model; otherwise a path to a full table."""
    if solar_model is None or solar_model == "compact":
        return SolarModel.compact()
    return SolarModel.from_table(solar_model)
