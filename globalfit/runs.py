"""`Run`: one run folder as an object, the same whether it was just sampled or read back.

``globalfit.run(card)`` returns a `Run`; ``globalfit.load(path)`` (`Run.load`) reads one from
disk. What a folder holds decides its kind:

* ``emcee``: ``chain.h5`` (one ensemble); ``chain`` is the flat post-burn-in sample,
  ``summary()`` the Bayesian table of `globalfit.summaries.summary_table`;
* ``ensembles``: ``<region>/ensemble_<k>/chain.h5`` (``sampler.ensembles_per_region``);
  ``chain`` has a ``region`` column, ``summary()`` one block per region;
* ``nested``: ``evidence.csv`` (``sampler.name: nested``); ``summary()`` is the evidence
  table (ln Z and posterior mass per region), there is no chain;
* ``scan``: ``scan.csv`` (a card with ``scan:``); ``summary()`` is the scan table.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from globalfit.plots import corner_figure, corner_plot, plt
from globalfit.regions import WHOLE_SPACE
from globalfit.results import RunResult, load_run, region_ensemble_runs
from globalfit.scan import SCAN_FILE, read_scan
from globalfit.summaries import region_ensemble_table, summary_table, write_summary

RUN_KINDS = ("emcee", "ensembles", "nested", "scan")
EVIDENCE_FILE = "evidence.csv"


@dataclass
class Run:
    """A run folder: its resolved card, provenance and results.

    Attributes
    ----------
    run_dir : Path
    config : dict
        The resolved run card (``config.yaml``).
    provenance : dict
        ``provenance.json`` (software, seed, inputs, sessions).
    kind : str
        One of `RUN_KINDS` (see the module documentation).
    complete : bool
        False where the last session stopped before its target (``globalfit resume``).
    """

    run_dir: Path
    config: dict
    provenance: dict
    kind: str
    complete: bool = True
    load_options: dict[str, Any] = field(default_factory=dict, repr=False)
    _result: RunResult | None = field(default=None, repr=False)

    # --- reading ---------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path, **load_options) -> Run:
        """Read the run folder ``path``; ``load_options`` (``burn_in``, ``thin``,
        ``keep_stranded``) go to `globalfit.results.load_run` when the chain is read.

        Raises
        ------
        FileNotFoundError
            If ``path`` holds no ``config.yaml`` or nothing a sampler wrote.
        """
        run_dir = Path(path)
        card = run_dir / "config.yaml"
        if not card.is_file():
            raise FileNotFoundError(f"{run_dir}: not a run folder (no config.yaml); make one "
                                    f"with globalfit.run(card) or `globalfit run CARD`")
        config = yaml.safe_load(card.read_text()) or {}
        record_path = run_dir / "provenance.json"
        record = json.loads(record_path.read_text()) if record_path.is_file() else {}
        return cls(run_dir, config, record, _kind(run_dir),
                   record.get("status", "complete") == "complete", dict(load_options))

    @property
    def name(self) -> str:
        return str(self.config.get("name", self.run_dir.name))

    @property
    def result(self) -> RunResult:
        """The emcee chain with its metadata (`globalfit.results.RunResult`), read once."""
        if self.kind != "emcee":
            raise ValueError(f"{self.run_dir}: a {self.kind} run has no single chain"
                             + ("; see Run.chain" if self.kind == "ensembles" else ""))
        if self._result is None:
            self._result = load_run(self.run_dir, **self.load_options)
        return self._result

    @property
    def chain(self) -> pd.DataFrame:
        """Post-burn-in samples, one row each: parameters in display units (deg, eV2, MeV...),
        then ``chi2.<likelihood>``, ``chi2.total`` and ``derived.<name>``; for an
        ``ensembles`` run a first column ``region``."""
        if self.kind == "emcee":
            return self.result.samples
        if self.kind == "ensembles":
            runs = region_ensemble_runs(self.run_dir)
            return pd.concat([r.samples.assign(region=name)[["region", *r.samples.columns]]
                              for name, r in runs.items()], ignore_index=True)
        raise ValueError(f"{self.run_dir}: a {self.kind} run has no chain; see Run.summary()")

    # --- results ---------------------------------------------------------------------------
    def summary(self, split: Any = None) -> pd.DataFrame:
        """The run's table.

        emcee: `globalfit.summaries.summary_table` (maximum-posterior sample, median, HPD and
        equal-tailed credible intervals) for the whole space and each card region, or for
        ``split`` (``"card"``, a condition such as ``"th12 < 45 deg"``, or Regions);
        ensembles: one block per region; nested: the evidence table; scan: the scan table.
        """
        if self.kind == "emcee":
            if split is None:
                split = [WHOLE_SPACE, *self.result.regions]
            return summary_table(self.result, split=split)
        if split is not None:
            raise ValueError(f"split: only an emcee run is split into regions afterwards; "
                             f"{self.run_dir} is a {self.kind} run")
        if self.kind == "ensembles":
            return region_ensemble_table(self.run_dir)
        if self.kind == "nested":
            return pd.read_csv(self.run_dir / EVIDENCE_FILE)
        return read_scan(self.run_dir)

    def corner(self, split: Any = "card", parameters=None) -> plt.Figure:
        """Corner plot of the chain (`globalfit.plots.corner_figure`); one colour per card
        region by default."""
        return corner_figure(self.result, split=split, parameters=parameters)

    def save(self, output: str | Path | None = None) -> Path:
        """Write the run's tables and figure into its folder (emcee: ``summary.csv``,
        ``summary.md``, ``corner.png``); with ``output``, copy the folder there first (an
        existing ``output`` is refused, nothing is overwritten). Returns the folder."""
        target = Path(output) if output is not None else self.run_dir
        if target.resolve() != self.run_dir.resolve():
            if target.exists():
                raise FileExistsError(f"output {target}: exists; choose a new folder "
                                      f"(nothing was written)")
            shutil.copytree(self.run_dir, target)
        if self.kind == "emcee":
            write_summary(target)
            corner_plot(target)
        return target


def _kind(run_dir: Path) -> str:
    if (run_dir / "chain.h5").is_file():
        return "emcee"
    if any(run_dir.glob("*/ensemble_*/chain.h5")):
        return "ensembles"
    if (run_dir / EVIDENCE_FILE).is_file():
        return "nested"
    if (run_dir / SCAN_FILE).is_file():
        return "scan"
    raise FileNotFoundError(f"{run_dir}: holds a run card but no results (no chain.h5, "
                            f"{EVIDENCE_FILE} or {SCAN_FILE}): has the run started? Continue "
                            f"it with globalfit.resume({str(run_dir)!r})")
