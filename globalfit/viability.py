"""Viability cards: every likelihood of a run card evaluated at one parameter point.

A *check card* is an ordinary run card whose model and oscillation parameters are all fixed
(``value:``). `check_card` evaluates each of its likelihoods at that point and at the
Standard-Model point (the same parameters, no new physics: ``STANDARD_MODEL`` couplings) and
reports, per likelihood,

* ``chi2`` and ``chi2_sm`` (``-2 ln L``),
* ``delta_chi2 = chi2 - chi2_sm`` and the pull ``sign(delta_chi2) sqrt(|delta_chi2|)``
  (positive: the point fits worse than the SM),
* a verdict: ``excluded at 99.7% CL`` if ``delta_chi2`` exceeds the ``chi^2`` quantile of
  ``dof`` degrees of freedom at 0.9973 (9.0 for 1 dof), ``excluded at 95% CL`` above the
  0.95 quantile (3.84 for 1 dof), else ``allowed``.

The default ``dof = 1`` treats the benchmark as one point on the line from the SM along
its direction in coupling space (a test of one signal strength); a user who regards the
point as one of a ``k``-parameter family passes ``dof = k``. Likelihoods named in the card
whose module does not exist (yet) are listed as ``not available``; likelihoods that raise
at the point are listed with the error. Free nuisance parameters are profiled by default
(each ``chi2`` minimised over them, at the point and at the SM separately: a profile-likelihood
``Delta chi^2``); ``nuisances="median"`` fixes them at their prior medians instead, which
treats their uncertainty (e.g. the COHERENT flux normalisation) as zero and overstates
exclusions.

`globalfit.viability_scan.scan_viability` repeats the evaluation along log-spaced values of one
parameter (the mediator mass).

`format_card` writes the one-page Markdown card; `check_card(...).table` is a
``pandas.DataFrame``. A card may also be a mapping, e.g.::

    from globalfit.viability import check_card, format_card
    card = {"name": "psi", "model": {"name": "psi_mixing"},
            "parameters": {"g_prime": {"value": 1e-5}, "g_prime_a_psi": {"value": 1.0},
                           "kappa_e": {"value": 0.048827}, "kappa_mu": {"value": 0.02048},
                           "mzp": {"value": 10.0, "unit": "MeV"}},
            "likelihoods": {"nutev": {}, "unitarity": {}, "mesons": {}}}
    print(format_card(check_card(card)))
"""
from __future__ import annotations

import contextlib
import importlib.util
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from globalfit.couplings import FLAVOURS, NSI_FERMIONS, STANDARD_MODEL, Couplings
from globalfit.likelihood import Likelihood, Point
from globalfit.safe_yaml import load_yaml_file
from globalfit.statistics import delta_chi2_level, signed_sqrt

CONFIDENCE_LEVELS = (0.9973, 0.95)
"""Verdict thresholds, strongest first."""
CONFIDENCE_LABELS = {0.9973: "99.7%", 0.95: "95%"}
TABLE_COLUMNS = ("likelihood", "chi2", "chi2_sm", "delta_chi2", "pull", "dof", "verdict", "status")


@dataclass
class ViabilityResult:
    """What `check_card` found: the table, the point and what the card said."""

    name: str
    description: str
    model_name: str
    model_options: dict[str, Any]
    card_parameters: dict[str, Any]
    point: Point
    table: pd.DataFrame
    observables: dict[str, pd.DataFrame] = field(default_factory=dict)
    approximations: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def excluded_by(self) -> list[str]:
        """Likelihoods that exclude the point at 95 % CL or more."""
        mask = self.table["verdict"].str.startswith("excluded")
        return list(self.table.loc[mask, "likelihood"])

    @property
    def verdict(self) -> str:
        """``excluded`` if any likelihood excludes the point at 95 % CL, else ``allowed``."""
        return "excluded" if self.excluded_by else "allowed"


# --- thresholds and verdicts ------------------------------------------------------------------
def thresholds(dof: int) -> dict[float, float]:
    """Delta chi^2 thresholds ``{confidence level: chi^2 quantile}`` for ``dof`` degrees of freedom."""
    return {cl: delta_chi2_level(cl, dof) for cl in CONFIDENCE_LEVELS}


def verdict(delta_chi2: float, dof: int = 1) -> str:
    """``excluded at 99.7% CL``, ``excluded at 95% CL`` or ``allowed`` (module docstring)."""
    if math.isnan(delta_chi2):
        return "not evaluated"
    for cl, limit in thresholds(dof).items():
        if delta_chi2 > limit:
            return f"excluded at {CONFIDENCE_LABELS[cl]} CL"
    return "allowed"


def pull(delta_chi2: float) -> float:
    """Signed ``sqrt(|Delta chi^2|)``; ``inf`` where a likelihood vetoes the point."""
    return signed_sqrt(delta_chi2)


# --- loading a card -----------------------------------------------------------------------------
def read_card(path: str | Path) -> dict[str, Any]:
    """Parse a run card (YAML) into a mapping; clear errors for a missing or malformed file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"check card {path} not found")
    raw = load_yaml_file(path, what="check card")  # size cap, UTF-8, no duplicate keys
    if not isinstance(raw, Mapping):
        raise ValueError(f"{path}: a check card is a run card (a YAML mapping), got {type(raw).__name__}")
    return dict(raw)


def likelihood_available(name: str) -> bool:
    """Whether the module behind a likelihood name exists (it may be written later)."""
    from globalfit.registry import available_likelihoods

    target = name if ":" in name else available_likelihoods().get(name)
    if target is None:
        return True  # unknown names are reported by the config layer with a hint
    module = target.partition(":")[0]
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def split_available(card: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The card without likelihoods whose module does not exist, and their names."""
    card = dict(card)
    likelihoods = dict(card.get("likelihoods") or {})
    missing = [name for name in likelihoods if not likelihood_available(name)]
    card["likelihoods"] = {k: (v or {}) for k, v in likelihoods.items() if k not in missing}
    return card, missing


def _point_from_config_layer(card: Mapping[str, Any]):
    """Model, likelihoods and point through `globalfit.config` / `globalfit.posterior`."""
    from globalfit.config import load_config
    from globalfit.posterior import build_posterior

    card = dict(card)
    # A check samples nothing: the card's sampler block is ignored, and a sampler name run by
    # another command is given so that the config layer accepts an all-fixed card.
    card["sampler"] = {"name": "profile"}
    config = load_config(card)
    posterior = build_posterior(config)
    notes = []
    free_physics = [n for n in posterior.names if "." not in n]
    if free_physics:
        raise ValueError(
            f"parameters: a check card fixes every model and oscillation parameter (value:); "
            f"free here: {', '.join(free_physics)}"
        )
    theta = posterior.reference_theta()
    for name, value in zip(posterior.names, theta):
        notes.append(f"nuisance parameter {name} set to its prior median {value:g}")
    return posterior.model, posterior.likelihoods, posterior.point(theta), notes


def _point_without_config_layer(card: Mapping[str, Any]):
    """Fallback: resolve the model and likelihoods from the registries and convert fixed
    values with `globalfit.params.unit_factor` (used when the config layer is absent)."""
    from globalfit.models import BUILTIN as MODELS
    from globalfit.params import unit_factor
    from globalfit.registry import likelihood_class

    model_spec = card.get("model") or {}
    name = model_spec.get("name", "standard")
    target = name if ":" in name else MODELS.get(name)
    if target is None:
        raise ValueError(f"model.name: unknown model {name!r} (available: {', '.join(sorted(MODELS))})")
    module, _, cls_name = target.partition(":")
    model = getattr(importlib.import_module(module), cls_name)(**(model_spec.get("options") or {}))
    params = {}
    for key, spec in (card.get("parameters") or {}).items():
        if isinstance(spec, Mapping):
            if "value" not in spec:
                raise ValueError(f"parameters.{key}: a check card needs 'value:' (fixed), got {dict(spec)}")
            params[key] = float(spec["value"]) * unit_factor(spec.get("unit"), f"parameters.{key}.unit")
        else:
            params[key] = float(spec)
    for key, spec in model.parameters.items():
        params.setdefault(key, float(spec["default"]))
    from globalfit.config import oscillation_defaults

    # the fixed oscillation parameters every run has (NuFIT 5.2), as the config layer sets them:
    # likelihoods no longer default a missing one themselves
    for key, spec in oscillation_defaults().items():
        params.setdefault(key, float(spec["value"]) * unit_factor(spec.get("unit")))
    likelihoods = {}
    for key, options in (card.get("likelihoods") or {}).items():
        likelihoods[key] = likelihood_class(key)(**(options or {}))
    return model, likelihoods, Point(params, model.couplings(params)), []


def resolve_card(card: Mapping[str, Any]):
    """``(model, likelihoods, point, notes)`` of a check card; the config layer when present."""
    if importlib.util.find_spec("globalfit.config") and importlib.util.find_spec("globalfit.posterior"):
        return _point_from_config_layer(card)
    return _point_without_config_layer(card)


# --- evaluation ---------------------------------------------------------------------------------
NUISANCE_MODES = ("profile", "median")
"""How `check_card` / `scan_viability` treat free nuisance parameters (module docstring)."""


def without_nuisances(point: Point) -> Point:
    """The point without nuisance parameters (``<likelihood>.<name>``): likelihoods then
    profile them (the `Likelihood` contract: nuisances the point does not carry are profiled)."""
    return Point({k: v for k, v in point.params.items() if "." not in k}, point.couplings)


def _chi2_pair(likelihood: Likelihood, point: Point, sm_point: Point, nuisances: str):
    """``(chi2, chi2_sm, how)``: nuisances profiled where the likelihood can, else at the median."""
    if nuisances == "profile":
        try:
            return (float(likelihood.chi2(without_nuisances(point))) + 0.0,
                    float(likelihood.chi2(without_nuisances(sm_point))) + 0.0, "profiled")
        except KeyError:  # this likelihood needs its nuisances on the point
            pass
    return float(likelihood.chi2(point)) + 0.0, float(likelihood.chi2(sm_point)) + 0.0, "median"


def evaluate_likelihood(likelihood: Likelihood, point: Point, sm_point: Point, dof: int = 1,
                        nuisances: str = "profile") -> dict:
    """One row of the table: chi^2 at the point and at the SM, pull and verdict.

    ``nuisances="profile"`` (default) minimises each chi^2 over the likelihood's nuisance
    parameters (profile likelihood, prior penalties included), separately at the point and
    at the SM; ``"median"`` fixes them at the values on the point (the card's prior medians),
    which treats e.g. the COHERENT flux normalisation as exactly known.
    """
    if nuisances not in NUISANCE_MODES:
        raise ValueError(f"nuisances: {nuisances!r} not allowed; choose from {NUISANCE_MODES}")
    row = {"dof": dof, "status": "ok"}
    try:
        chi2, chi2_sm, how = _chi2_pair(likelihood, point, sm_point, nuisances)
        if nuisances == "profile" and how == "median" and any("." in k for k in point.params):
            row["status"] = "ok (nuisances at prior median: profiling not supported)"
    except Exception as error:  # reported on the card, never hidden
        row.update(chi2=math.nan, chi2_sm=math.nan, delta_chi2=math.nan, pull=math.nan,
                   verdict="not evaluated", status=f"error: {type(error).__name__}: {error}")
        return row
    delta = chi2 - chi2_sm if math.isfinite(chi2_sm) else math.nan
    if chi2 == math.inf and math.isfinite(chi2_sm):
        delta = math.inf
    row.update(chi2=chi2, chi2_sm=chi2_sm, delta_chi2=delta, pull=pull(delta), verdict=verdict(delta, dof))
    return row


def check_card(card: str | Path | Mapping[str, Any], dof: int = 1,
               nuisances: str = "profile") -> ViabilityResult:
    """Evaluate every likelihood of a check card at its (fixed) point.

    Parameters
    ----------
    card : path or mapping
        A run card whose model and oscillation parameters are all fixed.
    dof : int
        Degrees of freedom of the Delta chi^2 verdicts (module docstring).
    nuisances : {"profile", "median"}
        Nuisance parameters profiled (default) or fixed at their prior medians
        (`evaluate_likelihood`).

    Returns
    -------
    ViabilityResult
    """
    raw = read_card(card) if not isinstance(card, Mapping) else dict(card)
    thresholds(dof)  # validates dof
    available, missing = split_available(raw)
    model, likelihoods, point, notes = resolve_card(available)
    notes = nuisance_notes(notes, nuisances)
    sm_point = Point(point.params, STANDARD_MODEL)
    rows, observables, approximations = [], {}, {}
    for name, likelihood in likelihoods.items():
        rows.append({"likelihood": name,
                     **evaluate_likelihood(likelihood, point, sm_point, dof, nuisances)})
        with contextlib.suppress(Exception):  # observables are optional in the contract
            observables[name] = likelihood.observables(point)
        approximations[name] = list(likelihood.approximations())
    for name in missing:
        rows.append({"likelihood": name, "chi2": math.nan, "chi2_sm": math.nan, "delta_chi2": math.nan,
                     "pull": math.nan, "dof": dof, "verdict": "not evaluated",
                     "status": "not available (module not installed yet)"})
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    model_spec = raw.get("model") or {}
    return ViabilityResult(
        name=str(raw.get("name", "check")),
        description=str(raw.get("description", "")).strip(),
        model_name=str(model_spec.get("name", "standard")),
        model_options=dict(model_spec.get("options") or {}),
        card_parameters=dict(raw.get("parameters") or {}),
        point=point,
        table=table,
        observables=observables,
        approximations=approximations,
        notes=notes,
    )


def nuisance_notes(notes: list[str], nuisances: str) -> list[str]:
    """The config layer's 'set to its prior median' notes, rewritten when profiling."""
    if nuisances != "profile":
        return list(notes)
    out = [n for n in notes if not n.startswith("nuisance parameter ")]
    names = [n.split()[2] for n in notes if n.startswith("nuisance parameter ")]
    if names:
        out.append("nuisance parameters profiled (at the point and at the SM separately): "
                   + ", ".join(names))
    return out


# --- the card -------------------------------------------------------------------------------------
def format_number(value: float, digits: int = 3) -> str:
    """``value`` with ``digits`` significant digits; exponent form below 1e-3 and from 1e5; ``-`` for NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    value = float(value)
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.{digits - 1}e}"
    return f"{value:.{digits}g}"


def markdown_table(frame: pd.DataFrame) -> str:
    """A Markdown pipe table of ``frame``, floats written by `format_number`."""
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    lines = [header, rule]
    for _, row in frame.iterrows():
        cells = [format_number(v) if isinstance(v, (float, np.floating)) else str(v).replace("|", "\\|")
                 for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def couplings_summary(couplings: Couplings) -> list[str]:
    """Non-zero couplings in words: mediator mass, eps^f_ab at Q^2 = 0, g_nu, HNL mixing."""
    lines = []
    lines.append("m_Z' = contact interaction" if couplings.mzp_gev is None
                 else f"m_Z' = {format_number(couplings.mzp_gev * 1e3)} MeV")
    for fermion in NSI_FERMIONS:
        eps = couplings.eps(fermion, 0.0)
        entries = [f"{FLAVOURS[a]}{FLAVOURS[b]} = {format_number(float(eps[a, b].real))}"
                   + (f"{format_number(float(eps[a, b].imag))}i" if eps[a, b].imag else "")
                   for a in range(3) for b in range(a, 3) if abs(eps[a, b]) > 0]
        if entries:
            lines.append(f"eps^{fermion}(Q^2 = 0): " + ", ".join(entries))
    g_nu = couplings.g_nu
    entries = [f"{FLAVOURS[a]}{FLAVOURS[b]} = {format_number(float(abs(g_nu[a, b])))}"
               for a in range(3) for b in range(a, 3) if abs(g_nu[a, b]) > 0]
    if entries:
        lines.append("|g_nu|: " + ", ".join(entries))
    charged = [f"{f} = {format_number(float(g))}" for f, g in couplings.g_fermion.items() if g]
    if charged:
        lines.append("g_f: " + ", ".join(charged))
    if couplings.hnl_masses_gev:
        lines.append("heavy leptons: m = " + ", ".join(f"{format_number(m)} GeV" for m in couplings.hnl_masses_gev))
    return lines


def format_card(result: ViabilityResult) -> str:
    """The one-page Markdown viability card."""
    out = [f"# Viability card: {result.name}", ""]
    if result.description:
        out += [result.description, ""]
    options = f" (options: {result.model_options})" if result.model_options else ""
    out += [f"**Model:** `{result.model_name}`{options}", "", "**Benchmark point** (as written in the card):", ""]
    for key, spec in result.card_parameters.items():
        if isinstance(spec, Mapping):
            unit = f" {spec['unit']}" if spec.get("unit") not in (None, "", "none") else ""
            out.append(f"* `{key}` = {spec.get('value')}{unit}")
        else:
            out.append(f"* `{key}` = {spec}")
    out += ["", "**Couplings:**", ""] + [f"* {line}" for line in couplings_summary(result.point.couplings)]
    dof = int(result.table["dof"].iloc[0]) if len(result.table) else 1
    limits = thresholds(dof)
    out += [
        "", "## Likelihoods", "",
        f"Delta chi^2 relative to the SM point (same parameters, no new physics); pull = "
        f"sign(Delta chi^2) sqrt(|Delta chi^2|); excluded at 95% / 99.7% CL above "
        f"{limits[0.95]:.2f} / {limits[0.9973]:.2f} ({dof} dof).", "",
        markdown_table(result.table),
        "",
        f"**Verdict: {result.verdict.upper()}**"
        + (f" (excluded by: {', '.join(result.excluded_by)})" if result.excluded_by else
           " (no likelihood of this card excludes it at 95% CL)"),
    ]
    if result.observables:
        out += ["", "## Observables", ""]
        for name, frame in result.observables.items():
            columns = [c for c in ("observable", "predicted", "measured", "uncertainty") if c in frame]
            out += [f"**{name}**", "", markdown_table(frame[columns]), ""]
    notes = list(result.notes)
    for name, items in result.approximations.items():
        notes += [f"{name}: {item}" for item in items]
    if notes:
        out += ["## Approximations and notes", ""] + [f"* {n}" for n in notes]
    return "\n".join(out).rstrip() + "\n"

