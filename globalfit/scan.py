"""Viability scans: the profile chi^2 of a run card along one parameter (``scan:`` block).

For each value of the scanned parameter on the card's grid (``from``, ``to``, ``points``,
``spacing``), the parameter is held fixed and chi^2 is minimised over every other free
parameter of the card with `globalfit.samplers.profile.profile_1d` (seeded by a multi-start
`best_fit`, with warm starts from the neighbouring grid points in both directions). A
likelihood that profiles its own nuisance parameters (COHERENT's normalisation, shape and
background terms) is left to do so (`globalfit.posterior.nuisances_profiled_inside`); the
nuisance parameters it needs on the point (names with a ``.``) are minimised with the rest
and enter with their card priors as pull terms ``-2 ln prior``, as in
`globalfit.comparison.summarise_run`; the physics parameters enter through the likelihoods
only.

``Delta chi2`` is counted from a reference chi^2 named by ``scan.reference``:

* ``minimum`` (default): the minimum over the scan grid;
* ``standard-model``: the Standard Model, i.e. the same likelihoods with the model's
  couplings replaced by `globalfit.couplings.STANDARD_MODEL`, minimised over every free
  parameter (nuisances included, with their pulls). This is the reference of
  ``globalfit check`` (`globalfit.viability`), so a card scan and a check scan of the same
  point give the same curve; each likelihood then also gets ``delta_chi2.<likelihood>``
  (its chi^2 with its own nuisances' pulls, minus the same at the SM).

A scanned parameter that the card keeps fixed (a model parameter such as ``mzp``) is freed
for the scan with a (log-)uniform prior over the scan range; that prior only bounds the
minimiser's starts.

The result is written to ``scan.csv`` in the run folder: the parameter in the scan's unit,
``chi2_min``, ``delta_chi2``, ``chi2.<likelihood>`` at each point's best fit and the
best-fit values of the other free parameters (in their display units).

`lma_dark_card` builds the card of the LMA-Dark-versus-m_Z' scan that ``globalfit scan
lma-dark`` runs (the same model as ``configs/lmad_scan.yaml``).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from globalfit.config import SCAN_REFERENCES
from globalfit.params import unit_factor
from globalfit.samplers.minimize import DEFAULT_METHOD
from globalfit.statistics import CL90_1DOF, CL95_1DOF, level_crossings

SCAN_FILE = "scan.csv"
SCAN_LEVELS = {"90% CL": CL90_1DOF, "95% CL": CL95_1DOF}
"""Delta chi^2 thresholds (one degree of freedom) whose crossings are reported."""


def scan_grid(scan: dict[str, Any]) -> np.ndarray:
    """The scan values in the scan's unit: ``points`` values from ``from`` to ``to``
    (both included), evenly spaced in the logarithm (``spacing: log``) or linearly."""
    low, high, points = float(scan["from"]), float(scan["to"]), int(scan["points"])
    spaced = np.geomspace if scan.get("spacing", "log") == "log" else np.linspace
    grid = spaced(low, high, points)
    grid[0], grid[-1] = low, high
    return grid


def scan_config(config):
    """A copy of ``config`` in which the scanned parameter is free.

    A parameter the card fixes (a model parameter) gets a uniform (``linear``) or
    log-uniform (``log``) prior spanning the scan range, in the scan's unit.
    """
    scan = config.scan
    out = copy.deepcopy(config)
    spec = out.parameters.get(scan["parameter"])
    if isinstance(spec, dict) and "prior" in spec:
        return out
    kind = "log-uniform" if scan["spacing"] == "log" else "uniform"
    low, high = sorted((float(scan["from"]), float(scan["to"])))
    latex = spec.get("latex") if isinstance(spec, dict) else None
    out.parameters[scan["parameter"]] = {"prior": kind, "min": low, "max": high,
                                         "unit": scan["unit"], **({"latex": latex} if latex else {})}
    out.validate()
    return out


@dataclass
class ScanResult:
    """A viability scan: ``table`` (pandas DataFrame, one row per grid value) and the
    crossings of each level in `SCAN_LEVELS` (``{label: [x, ...]}``, scan unit);
    ``reference`` names what ``delta_chi2`` is counted from and ``reference_chi2`` is it."""

    parameter: str
    unit: str
    spacing: str
    table: Any
    crossings: dict[str, list[float]]
    calls: int
    reference: str = "minimum"
    reference_chi2: float = math.nan


def run_scan(config, n_starts: int = 8, method: str = DEFAULT_METHOD, seed: int = 0,
             progress: str | None = None, posterior=None) -> ScanResult:
    """Profile chi^2 of ``config`` (a validated `RunConfig` with a ``scan`` block).

    Parameters
    ----------
    config : RunConfig
        The card; ``config.scan`` gives the parameter and grid.
    n_starts : int
        Latin-hypercube starts of the seeding `best_fit` (drawn through the priors).
    method : str
        Local minimiser (`globalfit.samplers.minimize.METHODS`).
    seed : int
        Seed of the starts.
    progress : str, optional
        Label of a progress bar over the grid (`globalfit.progress`; shown on a terminal).
    posterior : Posterior, optional
        ``build_posterior(scan_config(config))`` where the caller has built it already.
    """
    from globalfit.posterior import build_posterior, nuisances_profiled_inside
    from globalfit.samplers.minimize import best_fit, posterior_chi2
    from globalfit.samplers.profile import profile_1d
    from globalfit.samplers.starts import start_unit_cube_map

    scan = config.scan
    if not scan:
        raise ValueError("scan: the run card has no 'scan:' block")
    if posterior is None:
        posterior = build_posterior(scan_config(config))
    posterior = nuisances_profiled_inside(posterior)
    names = list(posterior.names)
    index = names.index(scan["parameter"])
    bounds = np.asarray(posterior.bounds, dtype=float)
    grid_display = scan_grid(scan)
    grid = np.clip(grid_display * unit_factor(scan["unit"], "scan.unit"),
                   bounds[index, 0], bounds[index, 1])
    pulls = [n for n in names if "." in n]
    chi2 = posterior_chi2(posterior, pull_terms=pulls)
    starts_map = start_unit_cube_map(posterior.parameters)
    best = best_fit(chi2, bounds, n_starts=n_starts, method=method, seed=seed, names=names,
                    from_unit_cube=starts_map)
    profile = profile_1d(chi2, index, grid, bounds, [m.theta for m in best.minima], method,
                         parameter=scan["parameter"], progress=progress)
    reference = scan.get("reference") or "minimum"
    calls = best.calls + profile.calls
    sm_theta = None
    if reference == "standard-model":
        sm_posterior = standard_model_view(posterior)
        sm = best_fit(posterior_chi2(sm_posterior, pull_terms=pulls), bounds, n_starts=n_starts,
                      starts=[m.theta for m in best.minima], method=method, seed=seed,
                      names=names, from_unit_cube=starts_map)
        reference_chi2, sm_theta, calls = sm.chi2_min, sm.theta, calls + sm.calls
    elif reference == "minimum":
        reference_chi2 = float(np.min(profile.chi2))
    else:
        raise ValueError(f"scan.reference: {reference!r} not allowed; choose from "
                         f"{', '.join(SCAN_REFERENCES)}")
    table = _table(posterior, scan, grid_display, profile, reference_chi2, sm_theta)
    crossings = {label: level_crossings(grid_display, table["delta_chi2"].to_numpy(), level,
                                        log=scan["spacing"] == "log")
                 for label, level in SCAN_LEVELS.items()}
    return ScanResult(scan["parameter"], scan["unit"], scan["spacing"], table, crossings,
                      calls, reference, float(reference_chi2))


class _StandardModelCouplings:
    """A model whose couplings are always the Standard Model's (other attributes delegated)."""

    def __init__(self, model):
        self._model = model

    def couplings(self, params):
        from globalfit.couplings import STANDARD_MODEL

        return STANDARD_MODEL

    def __getattr__(self, name):
        return getattr(self._model, name)


def standard_model_view(posterior):
    """A shallow copy of ``posterior`` whose points carry the SM couplings (no new physics),
    with the same parameters, likelihoods and nuisance parameters: the reference of
    ``scan.reference: standard-model`` and of `globalfit.viability`."""
    view = copy.copy(posterior)
    view.model = _StandardModelCouplings(posterior.model)
    return view


def likelihood_chi2(posterior, theta) -> dict[str, float]:
    """Each likelihood's chi^2 at ``theta`` with the pulls of its own nuisance parameters
    (``<likelihood>.<name>``) added: what `globalfit.viability` reports per likelihood."""
    parts = dict(posterior.log_likelihood(theta)[1])
    for k, (name, parameter) in enumerate(zip(posterior.names, posterior.parameters)):
        owner = name.partition(".")[0]
        if "." in name and owner in parts:
            parts[owner] -= 2.0 * float(parameter.prior.log_prob(theta[k]))
    return parts


def _table(posterior, scan, grid_display, profile, reference_chi2, sm_theta=None):
    import pandas as pd

    names = list(posterior.names)
    columns = {column_name(scan): grid_display, "chi2_min": profile.chi2,
               "delta_chi2": profile.chi2 - reference_chi2}
    parts = posterior.log_likelihood_batch(profile.theta)[1]  # all grid points at once
    for column, likelihood in enumerate(posterior.likelihoods):
        columns[f"chi2.{likelihood}"] = parts[:, column].tolist()
    if sm_theta is not None:
        sm_parts = likelihood_chi2(standard_model_view(posterior), sm_theta)
        with_pulls = [likelihood_chi2(posterior, theta) for theta in profile.theta]
        for likelihood in posterior.likelihoods:
            columns[f"delta_chi2.{likelihood}"] = [p[likelihood] - sm_parts[likelihood]
                                                   for p in with_pulls]
    for k, parameter in enumerate(posterior.parameters):
        if names[k] != scan["parameter"]:
            columns[names[k]] = profile.theta[:, k] / parameter.factor
    return pd.DataFrame(columns)


def column_name(scan: dict[str, Any]) -> str:
    """The scanned parameter's column: ``mzp [MeV]`` (or the bare name without a unit)."""
    unit = scan.get("unit", "none")
    return scan["parameter"] if unit == "none" else f"{scan['parameter']} [{unit}]"


def format_scan(result: ScanResult, max_rows: int = 40) -> str:
    """A short text table and the level crossings."""
    table = result.table
    shown = [c for c in table.columns if not c.startswith(("chi2.", "delta_chi2."))]
    step = max(1, math.ceil(len(table) / max_rows))
    lines = ["  ".join(f"{c:>14}" for c in shown)]
    for row in table[shown].iloc[::step].itertuples(index=False):
        lines.append("  ".join(f"{v:>14.6g}" for v in row))
    unit = "" if result.unit == "none" else f" {result.unit}"
    what = ("the Standard Model" if result.reference == "standard-model"
            else "the minimum over the scan")
    lines.append(f"delta_chi2 counted from {what} (chi2 = {result.reference_chi2:.6g})")
    for label, values in result.crossings.items():
        level = SCAN_LEVELS[label]
        where = ", ".join(f"{v:.4g}{unit}" for v in values) or "none in the scan range"
        lines.append(f"Delta chi2 = {level:.2f} ({label}) crossed at {result.parameter} = {where}")
    return "\n".join(lines)


def write_scan(result: ScanResult, run_dir: str | Path) -> Path:
    """``scan.csv`` in ``run_dir``."""
    path = Path(run_dir) / SCAN_FILE
    result.table.to_csv(path, index=False, float_format="%.10g")
    return path


def read_scan(run_dir: str | Path):
    """``scan.csv`` of a run folder as a DataFrame (FileNotFoundError naming the run)."""
    import pandas as pd

    path = Path(run_dir) / SCAN_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run a card with a 'scan:' block "
                                f"(`globalfit run CARD`) into {run_dir} first")
    return pd.read_csv(path)


# --- LMA-Dark versus m_Z' (`globalfit scan lma-dark`) --------------------------------------
LMA_DARK_DATASETS = ("coherent_csi_2017", "coherent_csi_2021", "coherent_lar_2020")
"""Default data sets of the LMA-Dark scan (those of ``configs/lmad_scan.yaml``)."""
CEVNS_DATASETS = (*LMA_DARK_DATASETS, "conus")
"""CEvNS likelihoods a CEvNS scan may name."""
LMA_DARK_SEED = 7
"""Seed of the starts (``sampler.seed`` of ``configs/lmad_scan.yaml``)."""


def cevns_likelihood_options(names, release_root: str | Path | None = None) -> dict:
    """``{name: options}`` for CEvNS likelihoods: release mode (``release_path``) for each
    COHERENT set when ``release_root`` is given (it must hold a folder of that name)."""
    out = {}
    for name in names:
        if name not in CEVNS_DATASETS:
            raise ValueError(f"--datasets: {name!r} is not a CEvNS data set; choose from "
                             f"{', '.join(CEVNS_DATASETS)}")
        options = {}
        if release_root is not None and name != "conus":
            folder = Path(release_root) / name
            if not folder.is_dir():
                raise ValueError(f"--release-root: {str(folder)!r} not found (it needs one "
                                 f"folder per data set, e.g. {name}/)")
            options["release_path"] = str(folder)
        out[name] = options
    return out


def lma_dark_card(datasets=LMA_DARK_DATASETS, mzp_min_mev: float = 1.0,
                  mzp_max_mev: float = 1000.0, points: int = 25,
                  release_root: str | Path | None = None) -> dict[str, Any]:
    """The run card of the LMA-Dark scan: model ``lma_dark_x`` (``(x-2, x, x)``, Denton,
    Farzan and Shoemaker, arXiv:1804.03660), ``x`` profiled over [-10, 10], ``m_Z'``
    scanned log-spaced in MeV, ``Delta chi2`` relative to the Standard Model. Identical to
    ``configs/lmad_scan.yaml`` for the default arguments."""
    if not (0 < mzp_min_mev < mzp_max_mev):
        raise ValueError(f"--mzp-min/--mzp-max: need 0 < min < max, got {mzp_min_mev}, {mzp_max_mev}")
    if int(points) != points or points < 2:
        raise ValueError(f"--points: need an integer >= 2, got {points}")
    if not datasets:
        raise ValueError("--datasets: empty list")
    return {
        "name": "lmad_scan",
        "model": {"name": "lma_dark_x", "options": {"solution": "dark"}},
        "parameters": {"x": {"prior": "uniform", "min": -10.0, "max": 10.0, "latex": "x"},
                       "g_q": {"value": 1.0e-4}},
        "likelihoods": cevns_likelihood_options(datasets, release_root),
        "scan": {"parameter": "mzp", "from": float(mzp_min_mev), "to": float(mzp_max_mev),
                 "points": int(points), "unit": "MeV", "spacing": "log",
                 "reference": "standard-model"},
        "sampler": {"name": "profile", "seed": LMA_DARK_SEED},
    }


def lma_dark_curves(datasets=LMA_DARK_DATASETS, mzp_min_mev: float = 1.0,
                    mzp_max_mev: float = 1000.0, points: int = 25,
                    release_root: str | Path | None = None,
                    progress: bool = False) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``Delta chi2(m_Z')`` of LMA-Dark relative to the SM, ``x`` profiled: for each data set
    alone (each profiled separately) and, key ``"combined"``, for all together. Each curve
    is a `run_scan` of `lma_dark_card` (the card scan of ``configs/lmad_scan.yaml``).

    Returns ``(m_Z' in MeV, {name: delta_chi2})``.
    """
    from globalfit.config import load_config

    datasets = list(datasets)
    groups = {name: [name] for name in datasets} if len(datasets) > 1 else {}
    groups["combined"] = datasets
    curves, mzp = {}, None
    for label, names in groups.items():
        config = load_config(lma_dark_card(names, mzp_min_mev, mzp_max_mev, points, release_root))
        result = run_scan(config, seed=LMA_DARK_SEED,
                          progress=f"LMA-Dark vs m_Z': {label}" if progress else None)
        mzp = result.table[column_name(config.scan)].to_numpy()
        curves[label] = result.table["delta_chi2"].to_numpy()
    if len(datasets) == 1:
        curves = {datasets[0]: curves["combined"], "combined": curves["combined"]}
    return mzp, curves
