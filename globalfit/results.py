"""Run results: read a run folder into a `RunResult`.

A run folder ``chains/<run>/`` holds ``config.yaml`` (resolved card), ``provenance.json``,
``chain.h5`` (emcee ``HDFBackend``, group ``mcmc``; samples in internal units in the order
of ``posterior.names``; structured blobs ``chi2.<likelihood>``, ``chi2.total``,
``derived.<name>``) and ``diagnostics.json``. `load_run` turns it into a `RunResult`;
`merge_ensembles` and `region_ensemble_runs` join the ensembles of a region run.

The tables made from results live beside it (``docs/statistics.md``):
`globalfit.summaries` (Bayesian), `globalfit.profile_tables` (frequentist) and
`globalfit.table_format` (Markdown, LaTeX).
"""
from __future__ import annotations

import json
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from globalfit.chainfile import ChainReader, check_chain, open_chain_file
from globalfit.diagnostics import stranded_walkers
from globalfit.display import unit_latex
from globalfit.params import canonical_prior_kind
from globalfit.regions import UNIT_SCALES, Region, parse_regions
from globalfit.safe_yaml import load_yaml_file

CHAIN_FILE = "chain.h5"
CHAIN_GROUP = "mcmc"


# --- parameters as a result needs them -----------------------------------------------------
@dataclass(frozen=True)
class DisplayParameter:
    """Name, LaTeX label and display unit of a sampled quantity (pure scale conversion).

    Built from the resolved run card when no `globalfit.params.Parameter` is at hand;
    has the same ``name``, ``latex``, ``unit``, ``to_internal`` and ``from_internal``.
    """

    name: str
    latex: str = ""
    unit: str = "none"
    factor: float = 1.0
    prior_kind: str = ""
    """The card's prior (``uniform``, ``log-uniform``, ...), for axis scales and limits."""
    prior_low: float = -math.inf
    prior_high: float = math.inf
    """Prior bounds in the display unit (infinite where the prior has none)."""

    def to_internal(self, x):
        return np.asarray(x, dtype=float) * self.factor

    def from_internal(self, x):
        return np.asarray(x, dtype=float) / self.factor

    @property
    def label(self) -> str:
        text = self.latex or self.name.replace("_", r"\_")
        return text if self.unit in ("none", "", None) else f"{text}\\ [{unit_latex(self.unit)}]"


def parameters_from_card(card: dict) -> list[DisplayParameter]:
    """The sampled (non-fixed) parameters of a resolved card, in card order."""
    out = []
    for name, spec in (card.get("parameters") or {}).items():
        if not isinstance(spec, dict) or "value" in spec:
            continue
        unit = spec.get("unit") or "none"
        factor = UNIT_SCALES[unit][1] if unit in UNIT_SCALES else 1.0
        kind = canonical_prior_kind(spec.get("prior", "uniform"))
        bounded = kind in ("uniform", "log-uniform")
        out.append(DisplayParameter(
            name, str(spec.get("latex", "") or ""), unit, factor, kind,
            float(spec.get("min", -math.inf)) if bounded else -math.inf,
            float(spec.get("max", math.inf)) if bounded else math.inf))
    return out


# --- the result object ---------------------------------------------------------------------
@dataclass
class RunResult:
    """Samples and metadata of one run (after burn-in and thinning).

    Attributes
    ----------
    run_dir : Path
    config : dict
        The resolved run card (``config.yaml``).
    provenance : dict
        ``provenance.json`` (empty if absent).
    parameters : list
        Sampled parameters (``name``, ``latex``, ``unit``, ``from_internal``), chain order.
    chain : array (n_steps, n_walkers, n_parameters)
        Internal units.
    log_prob : array (n_steps, n_walkers)
        ln posterior of each sample.
    blobs : pandas.DataFrame
        Flattened blobs (``chi2.*``, ``derived.*``), one row per flat sample.
    acceptance_fraction : array (n_walkers,)
    burn_in, thin : int
    excluded_walkers : dict
        Walkers left out of ``chain``, ``log_prob``, ``blobs`` and ``acceptance_fraction``
        because they were stranded (`globalfit.diagnostics.stranded_walkers`): walker index
        in the stored chain (``"ensemble_<k>:<index>"`` after `merge_ensembles`) -> its
        median ln posterior below the others' median.
    """

    run_dir: Path
    config: dict
    provenance: dict
    parameters: list
    chain: np.ndarray
    log_prob: np.ndarray
    blobs: pd.DataFrame
    acceptance_fraction: np.ndarray
    burn_in: int = 0
    thin: int = 1
    diagnostics: dict = field(default_factory=dict)
    excluded_walkers: dict = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.parameters]

    @property
    def flat_chain(self) -> np.ndarray:
        return self.chain.reshape(-1, self.chain.shape[-1])

    @property
    def flat_log_prob(self) -> np.ndarray:
        return self.log_prob.reshape(-1)

    @property
    def samples_internal(self) -> pd.DataFrame:
        """Flat samples, internal units, one column per parameter."""
        return pd.DataFrame(self.flat_chain, columns=self.names)

    @property
    def samples(self) -> pd.DataFrame:
        """Flat samples in display units, with the derived quantities and chi^2 blobs."""
        table = pd.DataFrame({p.name: p.from_internal(self.flat_chain[:, i])
                              for i, p in enumerate(self.parameters)})
        return pd.concat([table, self.blobs.reset_index(drop=True)], axis=1)

    @property
    def regions(self) -> list[Region]:
        """The run card's regions, parsed."""
        return parse_regions(self.config.get("regions"), self.parameters, self.blobs.columns)

    def region_mask(self, region: Region) -> np.ndarray:
        """Which flat samples lie in ``region`` (parameters in internal units, blobs as is)."""
        blobs = self.blobs.reset_index(drop=True)
        bare = {c[len("derived."):]: blobs[c] for c in blobs.columns if c.startswith("derived.")}
        columns = pd.concat([self.samples_internal, blobs, pd.DataFrame(bare)], axis=1)
        return region.mask(columns)


def _read_yaml(path: Path) -> dict:

    if not path.exists():
        raise FileNotFoundError(f"{path} not found: is {path.parent} a globalfit run folder?")
    card = load_yaml_file(path, what="run folder's resolved card") or {}
    if not isinstance(card, dict):
        raise ValueError(f"{path}: is not a resolved run card (a mapping); the file is damaged: "
                         f"rewrite it from the run's card (provenance.json names it)")
    return card


def _read_json(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        record = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not valid JSON ({error}); the file is damaged: delete it "
                         f"(the chain is not affected) or restore it") from None
    if not isinstance(record, dict):
        raise ValueError(f"{path}: expected a JSON object; the file is damaged: delete it "
                         f"(the chain is not affected) or restore it")
    return record


def _names_in_chain(path: Path) -> list[str] | None:

    check_chain(path)
    with open_chain_file(path) as handle:
        group = handle.get(CHAIN_GROUP)
        names = group.attrs.get("parameter_names") if group is not None else None
    if names is None:
        return None
    return [n.decode() if isinstance(n, bytes) else str(n) for n in names]


def _order_parameters(parameters, run_dir: Path, provenance: dict, n: int) -> list:
    """Parameters in chain order: ``parameter_names`` in chain.h5, provenance, or card order."""
    names = _names_in_chain(run_dir / CHAIN_FILE) or provenance.get("parameter_names")
    if names:
        table = {p.name: p for p in parameters}
        missing = [name for name in names if name not in table]
        if missing:
            raise ValueError(f"{run_dir}: chain parameters {missing} are not in config.yaml")
        parameters = [table[name] for name in names]
    if len(parameters) != n:
        raise ValueError(f"{run_dir}: chain.h5 has {n} parameters, config.yaml samples "
                         f"{len(parameters)} ({', '.join(p.name for p in parameters)})")
    return parameters


def load_run(run_dir: str | Path, burn_in: int | None = None, thin: int | None = None,
             parameters: Sequence[Any] | None = None, keep_stranded: bool = False) -> RunResult:
    """Read a run folder.

    Walkers stranded far below the posterior's bulk (`globalfit.diagnostics.stranded_walkers`:
    median ln posterior more than 20 below the others') are left out, with a warning, and
    listed in ``RunResult.excluded_walkers``; ``keep_stranded=True`` keeps them.

    Parameters
    ----------
    run_dir : path
        ``chains/<run>/``.
    burn_in, thin : int, optional
        Override the card's ``sampler.burn_in`` / ``sampler.thin`` (steps).
    parameters : sequence of Parameter, optional
        ``posterior.parameters``; by default built from the resolved card (display unit,
        LaTeX label).

    Raises
    ------
    FileNotFoundError
        If ``config.yaml`` or ``chain.h5`` is missing.
    ValueError
        If burn-in leaves no sample, or the chain and card disagree.
    """

    run_dir = Path(run_dir)
    config = _read_yaml(run_dir / "config.yaml")
    provenance = _read_json(run_dir / "provenance.json")
    chain_path = run_dir / CHAIN_FILE
    if not chain_path.exists():
        raise FileNotFoundError(f"{chain_path} not found (has the run started?)")
    sampler = config.get("sampler") or {}
    burn_in = int(sampler.get("burn_in", 0) if burn_in is None else burn_in)
    thin = int(sampler.get("thin", 1) if thin is None else thin)
    backend = ChainReader(chain_path, name=CHAIN_GROUP)
    steps = backend.iteration
    if steps <= burn_in:
        raise ValueError(f"burn_in: the chain has {steps} steps, burn-in is {burn_in}; "
                         f"run longer or pass a smaller burn_in")
    chain = backend.get_chain(discard=burn_in, thin=thin)
    log_prob = backend.get_log_prob(discard=burn_in, thin=thin)
    blobs = _blob_table(backend.get_blobs(discard=burn_in, thin=thin, flat=True))
    params = list(parameters) if parameters is not None else parameters_from_card(config)
    params = _order_parameters(params, run_dir, provenance, chain.shape[-1])
    acceptance = np.asarray(backend.accepted / steps)
    excluded = {} if keep_stranded else _stranded(log_prob)
    if excluded:
        keep = np.setdiff1d(np.arange(chain.shape[1]), list(excluded))
        warnings.warn(f"{run_dir}: walkers {sorted(excluded)} are stranded (median ln posterior "
                      f"{', '.join(f'{v:.0f}' for v in excluded.values())} below the others') and are left "
                      "out; load_run(..., keep_stranded=True) keeps them", stacklevel=2)
        if len(blobs):
            blobs = blobs.iloc[np.flatnonzero(np.tile(np.isin(np.arange(chain.shape[1]), keep),
                                                      chain.shape[0]))].reset_index(drop=True)
        chain, log_prob, acceptance = chain[:, keep], log_prob[:, keep], acceptance[keep]
    return RunResult(run_dir, config, provenance, params, chain, log_prob, blobs,
                     acceptance, burn_in, thin, _read_json(run_dir / "diagnostics.json"), excluded)


def _stranded(log_prob: np.ndarray) -> dict[int, float]:
    """Stranded walker index -> how far (ln posterior) its median lies below the others'."""

    medians = np.median(log_prob, axis=0)
    reference = np.median(medians[np.isfinite(medians)]) if np.isfinite(medians).any() else math.nan
    return {int(w): float(reference - medians[w]) for w in stranded_walkers(log_prob)}


def merge_ensembles(results: Sequence[RunResult]) -> RunResult:
    """Independent ensembles of one region as one run: walkers side by side.

    The chains are cut to the shortest post-burn-in length; blobs, acceptance fractions and
    excluded walkers follow (walker indices offset by the ensembles before). ``run_dir``,
    ``config`` and ``provenance`` are the first ensemble's.
    """
    if not results:
        raise ValueError("results: no ensemble to merge")
    steps = min(r.chain.shape[0] for r in results)
    columns = list(results[0].blobs.columns)

    def side_by_side(r: RunResult, column: str) -> np.ndarray:
        return r.blobs[column].to_numpy()[: steps * r.chain.shape[1]].reshape(steps, r.chain.shape[1])

    blobs = pd.DataFrame({c: np.concatenate([side_by_side(r, c) for r in results], axis=1).ravel()
                          for c in columns})
    excluded = {f"{r.run_dir.name}:{w}": v for r in results for w, v in r.excluded_walkers.items()}
    first = results[0]
    return RunResult(first.run_dir, first.config, first.provenance, first.parameters,
                     np.concatenate([r.chain[:steps] for r in results], axis=1),
                     np.concatenate([r.log_prob[:steps] for r in results], axis=1), blobs,
                     np.concatenate([r.acceptance_fraction for r in results]), first.burn_in,
                     first.thin, first.diagnostics, excluded)


def region_ensemble_runs(run_dir: str | Path) -> dict[str, RunResult]:
    """Card region name -> its ensembles merged (`merge_ensembles`), for a run made with
    ``ensembles_per_region`` (``RUN/<region>/ensemble_<k>/``). Empty for other runs."""
    run_dir = Path(run_dir)
    regions = (_read_yaml(run_dir / "config.yaml").get("regions") or {})
    runs = {}
    for name in regions:
        folders = sorted(f for f in (run_dir / name).glob("ensemble_*") if (f / CHAIN_FILE).exists())
        if folders:
            runs[name] = merge_ensembles([load_run(f) for f in folders])
    return runs


def _blob_table(blobs) -> pd.DataFrame:
    if blobs is None:
        return pd.DataFrame()
    blobs = np.asarray(blobs)
    if blobs.dtype.names is None:
        return pd.DataFrame()
    return pd.DataFrame({name: np.asarray(blobs[name], dtype=float) for name in blobs.dtype.names})
