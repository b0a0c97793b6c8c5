"""Run cards: YAML -> validated `RunConfig`.

``load_config(path_or_dict)`` reads a card (``yaml.safe_load`` only), checks it and returns
a `RunConfig`. Checking collects *every* problem and raises one `ConfigError` listing them;
each message names the key path (``parameters.th12.prior``), the bad value, what is allowed
and, for a misspelt name, the closest valid one. The card format is documented in
``docs/config.md``.
"""
from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from globalfit import registry
from globalfit.datafile import read_yaml
from globalfit.diagnostics import CONVERGENCE_CRITERION
from globalfit.likelihood import OSCILLATION_PARAMETERS
from globalfit.params import (
    PRIOR_KINDS,
    UNITS,
    Parameter,
    canonical_unit,
    check_unit_compatible,
    closest_hint,
    parameter_from_spec,
    unit_factor,
    unknown_name_message,
)
from globalfit.paths import CHAINS_DIR, DATA_DIR
from globalfit.regions import parse_condition
from globalfit.safe_yaml import YamlFileError, load_yaml_file, shorten

TOP_LEVEL_KEYS = ("name", "description", "model", "parameters", "likelihoods", "sampler",
                  "regions", "output", "scan")
SCAN_KEYS = ("parameter", "from", "to", "points", "unit", "spacing", "reference")
"""Keys of the ``scan:`` block (``unit``, ``spacing`` and ``reference`` optional)."""
SCAN_REFERENCES = ("minimum", "standard-model")
"""``scan.reference``: what Delta chi^2 is counted from (`globalfit.scan`)."""
SCAN_SPACINGS = ("log", "linear")
SAMPLERS = {
    "emcee": {"walkers": 32, "steps": 2000, "burn_in": 500, "thin": 1, "seed": None},
    "nested": {"engine": "nautilus", "live_points": None, "n_effective": 10000, "seed": None},
}
"""Samplers run by ``globalfit run`` and their settings with defaults."""
EMCEE_OPTIONAL = ("stop_on_convergence", "ensembles_per_region")
"""emcee settings without a default value: present in the resolved card only if given."""
CONVERGENCE_DEFAULTS = {"check_every": 100, "rtol": 0.01}
"""``sampler.stop_on_convergence: true`` means these (`globalfit.convergence`)."""
NESTED_ENGINES = ("nautilus", "dynesty")
OTHER_SAMPLERS = ("profile", "dynesty")
"""Sampler names accepted in a card but run by other commands; their keys pass through."""
REGION_WORDS = frozenset(
    {"and", "or", "not", "abs", "sqrt", "log", "log10", "exp", "sin", "cos", "tan",
     "min", "max", "pi", "True", "False"} | set(UNITS)
)
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.+-]+$")
RUN_LENGTH_KEYS = ("steps", "burn_in", "thin", "seed")
"""Sampler settings that no validation check reads: changing them after validation (e.g.
``globalfit resume --steps``) keeps the card validated."""
_IDENTIFIER = re.compile(r"(?<![\w.])[A-Za-z_][\w.]*")
NUFIT_FILE = ("oscillation", "nufit52.yaml")


class ConfigError(ValueError):
    """A run card with one or more errors; ``errors`` lists them."""

    def __init__(self, errors: list[str], source: str = "run card"):
        self.errors = list(errors)
        self.source = source
        count = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
        super().__init__(f"{count} in {source}:\n"
                         + "\n".join(f"  - {shorten(e)}" for e in errors))


@dataclass
class ModelSpec:
    """``model:`` block: registered name (or ``package.module:Class``) and options."""

    name: str = "standard"
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunConfig:
    """A validated run card.

    Attributes
    ----------
    name, description : str
    model : ModelSpec
    parameters : dict
        Raw parameter specs as written in the card (display units).
    likelihoods : dict
        Name -> options.
    sampler : dict
        ``name`` plus the sampler's settings, defaults filled in.
    regions : dict
        Region name -> condition string (e.g. ``"th12 < 45 deg"``).
    output : Path
        Run folder (default ``chains/<name>``).
    resolved : dict
        After validation: every parameter of the run (oscillation, model, nuisance) ->
        its spec, defaults included. Empty before.
    source : str
        Where the card came from (for messages).
    """

    name: str
    description: str = ""
    model: ModelSpec = field(default_factory=ModelSpec)
    parameters: dict[str, Any] = field(default_factory=dict)
    likelihoods: dict[str, dict[str, Any]] = field(default_factory=dict)
    sampler: dict[str, Any] = field(default_factory=lambda: {"name": "emcee", **SAMPLERS["emcee"]})
    regions: dict[str, str] = field(default_factory=dict)
    output: Path = Path()
    resolved: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str = "run card"
    scan: dict[str, Any] | None = None
    _validated_as: str | None = field(default=None, repr=False, compare=False)
    _model: Any = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        if self.output == Path():
            self.output = CHAINS_DIR / self.name
        self.output = Path(self.output)

    def to_dict(self) -> dict[str, Any]:
        """The resolved card (plain Python types; what ``config.yaml`` of a run holds)."""
        card = {
            "name": self.name,
            "description": self.description,
            "model": {"name": self.model.name, "options": dict(self.model.options)},
            "parameters": dict(self.resolved or self.parameters),
            "likelihoods": {k: dict(v) for k, v in self.likelihoods.items()},
            "sampler": dict(self.sampler),
            "regions": dict(self.regions),
            "output": str(self.output),
        }
        if self.scan is not None:
            card["scan"] = dict(self.scan)
        return _plain(card)

    def write(self, path: Path) -> None:
        """Write ``to_dict()`` as YAML."""
        header = f"# Resolved run card of run {self.name!r} (written by globalfit)\n"
        Path(path).write_text(header + yaml.safe_dump(self.to_dict(), sort_keys=False))

    def validate(self) -> None:
        """Full check (structure done at load; here: models, likelihoods, parameters).

        Done once: a card validated before and not changed since (`validation_key`) is not
        checked again, so a command validates its card once and builds its model once."""
        if self.is_validated:
            return
        errors = check_semantics(self)
        if errors:
            raise ConfigError(errors, self.source)

    @property
    def is_validated(self) -> bool:
        """Validated, and nothing that validation reads has changed since."""
        return self._validated_as is not None and self._validated_as == validation_key(self)

    def model_instance(self):
        """The model of the card, built once (at validation) and shared by every later step.

        Raises
        ------
        ConfigError
            If the card does not validate.
        """
        self.validate()
        return self._model


def load_config(source: str | Path | Mapping[str, Any], validate: bool = True) -> RunConfig:
    """Read and check a run card.

    Parameters
    ----------
    source : path or mapping
        A YAML file (read by `read_card`: size cap, UTF-8, no duplicate keys, no alias
        bombs) or an already parsed card.
    validate : bool
        Also resolve the model and likelihoods and check every parameter (default). With
        ``False`` only the structure is checked and nothing is imported.

    Raises
    ------
    ConfigError
        Listing every problem found, each with its key path.
    FileNotFoundError
        If ``source`` is a path that does not exist.
    """
    if isinstance(source, Mapping):
        raw, label = copy.deepcopy(dict(source)), "run card"
    else:
        raw, label = read_card(source), str(source)
    errors: list[str] = []
    config = _structure(raw, errors, label)
    if validate and isinstance(raw, Mapping):
        errors += check_semantics(config)
    if errors:
        raise ConfigError(errors, label)
    return config


def merge_card(card: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``card`` with ``overrides`` merged in (neither is changed).

    A mapping given for a block that is a mapping in the card (``sampler``, ``parameters``,
    ``likelihoods``, ``regions``, ``model``, ``scan``) updates it key by key, and a key set to
    None is removed (``likelihoods={"kamland": None}``); anything else replaces the card's
    value. ``sampler={"steps": N}`` without ``burn_in`` also caps the burn-in at ``N // 2``.
    """
    merged = copy.deepcopy(dict(card))
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            block = dict(merged[key])
            for inner, setting in value.items():
                if setting is None:
                    block.pop(inner, None)
                else:
                    block[inner] = copy.deepcopy(setting)
            merged[key] = block
        else:
            merged[key] = copy.deepcopy(value)
    sampler = overrides.get("sampler")
    if isinstance(sampler, Mapping) and "steps" in sampler and "burn_in" not in sampler:
        block = merged["sampler"]
        if isinstance(sampler["steps"], int) and isinstance(block.get("burn_in"), int):
            block["burn_in"] = min(block["burn_in"], sampler["steps"] // 2)
    return merged


def validation_key(config: RunConfig) -> str:
    """What validation reads of a card (everything but `RUN_LENGTH_KEYS` and the output)."""
    sampler = {k: v for k, v in config.sampler.items() if k not in RUN_LENGTH_KEYS}
    content = [config.model.name, config.model.options, config.parameters, config.likelihoods,
               config.regions, config.scan, sampler]
    return json.dumps(_plain(content), sort_keys=True, default=repr)


def read_card(path: str | Path) -> Any:
    """The parsed YAML of the card at ``path`` (`globalfit.safe_yaml.load_yaml_file`: size
    cap, UTF-8, no duplicate keys, no alias bombs).

    Raises
    ------
    FileNotFoundError
        If ``path`` is not a file.
    ConfigError
        If the file cannot be read as a card (the message names the file and the fix).
    """
    try:
        return load_yaml_file(path, what="run card")
    except YamlFileError as error:
        raise ConfigError([str(error)], str(path)) from None


# --- structure -----------------------------------------------------------------------------
def _structure(raw: Any, errors: list[str], label: str) -> RunConfig:
    if not isinstance(raw, Mapping):
        errors.append(f"(top level): expected a mapping of {', '.join(TOP_LEVEL_KEYS)}, "
                      f"got {raw!r}")
        return RunConfig(name="invalid")
    for key in raw:
        if key not in TOP_LEVEL_KEYS:
            errors.append(unknown_name_message(str(key), key, "top-level key", TOP_LEVEL_KEYS))
    name = raw.get("name")
    if not isinstance(name, str) or not _NAME_PATTERN.match(name):
        errors.append(f"name: {name!r} is not a valid run name (required; letters, digits, "
                      f"'_', '-', '.', '+' only, as it names the output folder)")
        name = "invalid"
    description = raw.get("description", "") or ""
    if not isinstance(description, str):
        errors.append(f"description: expected text, got {description!r}")
        description = ""
    return RunConfig(
        name=name,
        description=description.strip(),
        model=_model_spec(raw.get("model", "standard"), errors),
        parameters=_mapping(raw.get("parameters"), "parameters", errors),
        likelihoods=_likelihoods(raw.get("likelihoods"), errors),
        sampler=_sampler(raw.get("sampler"), errors),
        regions=_regions(raw.get("regions"), errors),
        output=_output(raw.get("output"), name, errors),
        source=label,
        scan=_scan(raw.get("scan"), errors),
    )


def _mapping(value, key, errors) -> dict:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        errors.append(f"{key}: expected a mapping, got {value!r}")
        return {}
    return {str(k): v for k, v in value.items()}


def _model_spec(value, errors) -> ModelSpec:
    if isinstance(value, str):
        return ModelSpec(value, {})
    if not isinstance(value, Mapping):
        errors.append(f"model: expected a model name or {{name: ..., options: {{...}}}}, "
                      f"got {value!r}")
        return ModelSpec()
    for key in value:
        if key not in ("name", "options"):
            errors.append(unknown_name_message(f"model.{key}", key, "key", ("name", "options")))
    name = value.get("name")
    if not isinstance(name, str) or not name:
        errors.append(f"model.name: expected a model name, got {name!r}")
        name = "standard"
    return ModelSpec(name, _mapping(value.get("options"), "model.options", errors))


def _likelihoods(value, errors) -> dict[str, dict]:
    if value is None:
        return {}
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return {v: {} for v in value}
    table = _mapping(value, "likelihoods", errors)
    out = {}
    for name, options in table.items():
        if options is not None and not isinstance(options, Mapping):
            errors.append(f"likelihoods.{name}: expected a mapping of options (or nothing), "
                          f"got {options!r}")
            continue
        out[name] = dict(options or {})
    return out


def _sampler(value, errors) -> dict[str, Any]:
    table = _mapping(value, "sampler", errors)
    name = table.pop("name", "emcee")
    if not isinstance(name, str):
        errors.append(f"sampler.name: expected a sampler name, got {name!r}")
        name = "emcee"
    if name in OTHER_SAMPLERS:
        return {"name": name, **table}
    if name not in SAMPLERS:
        errors.append(unknown_name_message("sampler.name", name, "sampler",
                                           list(SAMPLERS) + list(OTHER_SAMPLERS)))
        return {"name": "emcee", **SAMPLERS["emcee"]}
    if name == "nested":
        return {"name": name, **_nested_settings(table, errors)}
    return {"name": name, **_emcee_settings(table, errors)}


def _integer(key: str, setting, minimum: int, errors) -> bool:
    if isinstance(setting, bool) or not isinstance(setting, int) or setting < minimum:
        errors.append(f"sampler.{key}: expected an integer >= {minimum}, got {setting!r}")
        return False
    return True


def _emcee_settings(table: dict, errors) -> dict[str, Any]:
    settings = dict(SAMPLERS["emcee"])
    allowed = list(settings) + list(EMCEE_OPTIONAL)
    for key, setting in table.items():
        if key not in allowed:
            errors.append(unknown_name_message(f"sampler.{key}", key, "emcee setting", allowed))
            continue
        if key == "stop_on_convergence":
            settings[key] = _convergence_setting(setting, errors)
            continue
        if key == "ensembles_per_region":
            if _integer(key, setting, 2, errors):
                settings[key] = setting
            continue
        if setting is None and key == "seed":
            continue
        minimum = {"walkers": 2, "steps": 1, "thin": 1}.get(key, 0)
        if _integer(key, setting, minimum, errors):
            settings[key] = setting
    if settings["walkers"] % 2:
        errors.append(f"sampler.walkers: emcee needs an even number of walkers, "
                      f"got {settings['walkers']}")
    if settings["burn_in"] >= settings["steps"]:
        errors.append(f"sampler.burn_in: burn-in ({settings['burn_in']}) must be smaller than "
                      f"steps ({settings['steps']})")
    return settings


def _convergence_setting(setting, errors) -> dict[str, Any] | bool:
    """``stop_on_convergence``: true/false, or a mapping of ``check_every`` and ``rtol``
    (missing keys take `CONVERGENCE_DEFAULTS`). Returns False or the full mapping."""
    key = "sampler.stop_on_convergence"
    if isinstance(setting, bool):
        return dict(CONVERGENCE_DEFAULTS) if setting else False
    if not isinstance(setting, Mapping):
        errors.append(f"{key}: expected true, false or a mapping of "
                      f"{', '.join(CONVERGENCE_DEFAULTS)}, got {setting!r}")
        return False
    out = dict(CONVERGENCE_DEFAULTS)
    for name, value in setting.items():
        if name == "n_tau":
            errors.append(f"{key}.n_tau: no longer an option: a run stops once it has "
                          f"converged by globalfit's one definition ({CONVERGENCE_CRITERION}); "
                          f"remove n_tau")
        elif name not in CONVERGENCE_DEFAULTS:
            errors.append(unknown_name_message(f"{key}.{name}", name, "convergence setting",
                                               CONVERGENCE_DEFAULTS))
        elif name == "check_every":
            if _integer("stop_on_convergence.check_every", value, 1, errors):
                out[name] = value
        elif (isinstance(value, bool) or not isinstance(value, (int, float))
              or not value > 0):
            errors.append(f"{key}.{name}: expected a positive number, got {value!r}")
        else:
            out[name] = float(value)
    return out


def _nested_settings(table: dict, errors) -> dict[str, Any]:
    settings = dict(SAMPLERS["nested"])
    for key, setting in table.items():
        if key not in settings:
            errors.append(unknown_name_message(f"sampler.{key}", key, "nested setting",
                                               settings))
        elif key == "engine":
            if setting not in NESTED_ENGINES:
                errors.append(unknown_name_message("sampler.engine", str(setting),
                                                   "nested-sampling engine", NESTED_ENGINES))
            else:
                settings[key] = setting
        elif setting is None and key in ("seed", "live_points"):
            settings[key] = None
        elif _integer(key, setting, {"seed": 0, "live_points": 10}.get(key, 1), errors):
            settings[key] = setting
    return settings


def _regions(value, errors) -> dict[str, str]:
    table = _mapping(value, "regions", errors)
    out = {}
    for name, condition in table.items():
        if not isinstance(condition, str) or not condition.strip():
            errors.append(f"regions.{name}: expected a condition such as \"th12 < 45 deg\", "
                          f"got {condition!r}")
            continue
        out[name] = condition.strip()
    return out


def _scan(value, errors) -> dict[str, Any] | None:
    """``scan:`` block (structure only; the parameter is checked in `_check_scan`).

    Returns ``{parameter, from, to, points, unit, spacing}`` with ``spacing`` filled in
    (``log`` for a positive range, else ``linear``), or None without a block.
    """
    if value is None:
        return None
    if not isinstance(value, Mapping):
        errors.append(f"scan: expected a mapping of {', '.join(SCAN_KEYS)}, got {value!r}")
        return None
    bad = len(errors)
    for key in value:
        if key not in SCAN_KEYS:
            errors.append(unknown_name_message(f"scan.{key}", key, "scan key", SCAN_KEYS))
    for key in ("parameter", "from", "to", "points"):
        if key not in value:
            errors.append(f"scan.{key}: missing (a scan needs {', '.join(SCAN_KEYS[:4])})")
    out = {key: value.get(key) for key in SCAN_KEYS}
    if "parameter" in value and (not isinstance(out["parameter"], str) or not out["parameter"]):
        errors.append(f"scan.parameter: expected a parameter name, got {out['parameter']!r}")
    for key in ("from", "to"):
        number = value.get(key)
        if key in value and (isinstance(number, bool) or not isinstance(number, (int, float))
                             or not np.isfinite(number)):
            errors.append(f"scan.{key}: expected a finite number, got {number!r}")
    points = value.get("points")
    if "points" in value and (isinstance(points, bool) or not isinstance(points, int)
                              or points < 2):
        errors.append(f"scan.points: expected an integer >= 2, got {points!r}")
    out["unit"] = canonical_unit(value.get("unit"))
    if out["unit"] not in UNITS:
        errors.append(unknown_name_message("scan.unit", out["unit"], "unit", UNITS))
    if len(errors) > bad:
        return out
    low, high = float(out["from"]), float(out["to"])
    out["from"], out["to"] = low, high
    if low == high:
        errors.append(f"scan.to: {high:g} equals scan.from; a scan needs two different ends")
    spacing = value.get("spacing", "log" if low > 0 and high > 0 else "linear")
    if spacing not in SCAN_SPACINGS:
        errors.append(unknown_name_message("scan.spacing", spacing, "spacing", SCAN_SPACINGS))
    elif spacing == "log" and not (low > 0 and high > 0):
        errors.append(f"scan.spacing: 'log' needs a positive range, got from {low:g} to "
                      f"{high:g} (use spacing: linear)")
    out["spacing"] = spacing
    out["reference"] = value.get("reference", "minimum")
    if out["reference"] not in SCAN_REFERENCES:
        errors.append(unknown_name_message("scan.reference", out["reference"], "reference",
                                           SCAN_REFERENCES))
    return out


def _check_scan(config, parameters: list[Parameter], sources, errors) -> None:
    """The scanned parameter exists (a card free parameter or a model parameter), its unit
    fits, and the scan range lies inside its prior (if it has one) and physical range."""
    scan = config.scan
    if not scan or not isinstance(scan.get("parameter"), str) or scan.get("spacing") is None:
        return
    name = scan["parameter"]
    source = sources.get(name)
    by_name = {p.name: p for p in parameters}
    if source is None or name not in by_name:
        if source is None:
            allowed = [p.name for p in parameters
                       if not p.fixed or sources[p.name].owner == "model"]
            errors.append(f"scan.parameter: no parameter {name!r} in this run"
                          f"{closest_hint(name, allowed or sources)} (allowed: a free parameter "
                          f"of the card or a model parameter: {', '.join(allowed)})")
        return
    parameter = by_name[name]
    if parameter.fixed and source.owner != "model":
        errors.append(f"scan.parameter: {name!r} is fixed in the card and not a model "
                      f"parameter; give it a prior (free parameters: "
                      f"{', '.join(p.name for p in parameters if not p.fixed) or 'none'})")
        return
    try:

        check_unit_compatible(scan["unit"], source.internal_unit, "scan.unit")
        factor = unit_factor(scan["unit"], "scan.unit")
    except ValueError as error:
        errors.append(str(error))
        return
    unit = "" if scan["unit"] == "none" else f" {scan['unit']}"
    if parameter.fixed:
        low, high = source.physical
        what = f"the physical range of model {config.model.name!r}"
    else:
        low, high = parameter.prior.bounds
        what = f"the prior of {name!r}"
    for key in ("from", "to"):
        value = scan[key] * factor
        outside = ((value < low and not np.isclose(value, low, rtol=1e-9, atol=0.0))
                   or (value > high and not np.isclose(value, high, rtol=1e-9, atol=0.0)))
        if outside:
            errors.append(f"scan.{key}: {scan[key]:g}{unit} lies outside {what}, "
                          f"[{low / factor:g}, {high / factor:g}]{unit}")


def _output(value, name, errors) -> Path:
    if value is None:
        return CHAINS_DIR / name
    if not isinstance(value, str) or not value:
        errors.append(f"output: expected a folder path, got {value!r}")
        return CHAINS_DIR / name
    return Path(value)


# --- semantics -----------------------------------------------------------------------------
def oscillation_defaults() -> dict[str, dict[str, Any]]:
    """Default (fixed) oscillation parameter specs: NuFIT 5.2, NO, with SK-atm.

    Read from ``data/oscillation/nufit52.yaml`` (provenance inside; VERIFIED-3P).
    """
    path = DATA_DIR.joinpath(*NUFIT_FILE)
    table = read_yaml(path)["parameters"]
    return {name: dict(table[name]) for name in OSCILLATION_PARAMETERS}


def oscillation_internal_unit(name: str) -> str:
    """``rad`` for angles and the phase, ``eV2`` for mass splittings."""
    return "eV2" if name.startswith("dm") else "rad"


@dataclass
class ParameterSource:
    """Where a parameter comes from and its default spec."""

    owner: str                    # "oscillation", "model", or "likelihoods.<name>"
    default: dict[str, Any]
    internal_unit: str
    physical: tuple[float, float] = (-np.inf, np.inf)


def parameter_sources(model, likelihoods: Mapping[str, Any]) -> dict[str, ParameterSource]:
    """Every parameter a run has, by name, with its default spec (before the card).

    Parameters
    ----------
    model : Model instance or class, or None
        Preferably the INSTANCE built with the card's options: a model whose options change
        its parameters (``effective_nsi`` with ``chiral: true``, ``lfv_nsi`` with
        ``quarks: separate``) sets them on the instance. A class gives its defaults.
    likelihoods : mapping
        Instance name -> likelihood instance or class (``nuisance_parameters`` is read
        from whichever is given; an instance reflects its options).
    """
    sources = {
        name: ParameterSource("oscillation", spec, oscillation_internal_unit(name))
        for name, spec in oscillation_defaults().items()
    }
    if model is not None:
        for name, spec in model.parameters.items():
            unit = canonical_unit(spec.get("unit"))
            default = {"value": float(spec["default"]), "unit": unit,
                       "latex": spec.get("latex", "")}
            physical = (float(spec.get("min", -np.inf)), float(spec.get("max", np.inf)))
            sources[name] = ParameterSource("model", default, unit, physical)
    for instance, likelihood in likelihoods.items():
        for local, spec in likelihood.nuisance_parameters.items():
            unit = canonical_unit(spec.get("unit"))
            sources[f"{instance}.{local}"] = ParameterSource(f"likelihoods.{instance}",
                                                             dict(spec), unit)
    for instance, likelihood in likelihoods.items():
        for name, spec in getattr(likelihood, "shared_nuisance_parameters", {}).items():
            if not name.startswith("shared."):
                raise ValueError(f"shared nuisance {name!r} of likelihood {instance!r}: shared nuisances are "
                                 f"named 'shared.<name>'")
            if name in sources and sources[name].default != dict(spec):
                raise ValueError(f"shared nuisance {name!r}: likelihood {instance!r} declares "
                                 f"{dict(spec)}, {sources[name].owner} declares "
                                 f"{sources[name].default}; a shared nuisance needs one prior")
            if name not in sources:
                sources[name] = ParameterSource(f"likelihoods.{instance} (shared)", dict(spec),
                                                canonical_unit(spec.get("unit")))
    return sources


def build_model(model_cls, config: RunConfig, errors: list[str]):
    """The model instance with the card's options (its parameters may depend on them),
    or None where the options are rejected (the reason goes to ``errors``)."""
    if model_cls is None:
        return None
    try:
        return model_cls(**config.model.options)
    except (TypeError, ValueError) as error:
        text = str(error)
        if not any(e.startswith("model.options") for e in errors):  # not twice
            errors.append(text if text.startswith("model") else f"model: {text}")
        return None


def deferred_likelihoods(config: RunConfig, classes: Mapping[str, type]) -> set[str]:
    """Likelihood instances given options in the card: their nuisance parameters may depend
    on those options and are only known once the likelihood is built (data loaded), so card
    parameters ``<instance>.<name>`` the class does not list are checked in
    `globalfit.posterior.build_posterior`, not at validation."""

    deferred = set()
    for key, options in config.likelihoods.items():
        if not options:
            continue
        try:
            cls = registry.likelihood_class(key)
        except ValueError:
            continue
        instance = registry.likelihood_instance_name(key, cls)
        if instance in classes:
            deferred.add(instance)
    return deferred


def resolve_classes(config: RunConfig, errors: list[str]):
    """Model class and ``{instance name: likelihood class}``; problems go to ``errors``."""

    model_cls = None
    try:
        model_cls = registry.model_class(config.model.name)
        _check_options(model_cls, config.model.options, "model.options", errors)
    except ValueError as error:
        errors.append(str(error))
    classes = {}
    for key, options in config.likelihoods.items():
        try:
            cls = registry.likelihood_class(key)
        except ValueError as error:
            errors.append(str(error))
            continue
        instance = registry.likelihood_instance_name(key, cls)
        if instance in classes:
            errors.append(f"likelihoods.{key}: a second likelihood named {instance!r}")
            continue
        _check_options(cls, options, f"likelihoods.{key}", errors)
        classes[instance] = cls
    return model_cls, classes


def _check_options(cls, options, key, errors):
    allowed = tuple(getattr(cls, "options_allowed", ()))
    for option in options:
        if option not in allowed:
            errors.append(unknown_name_message(f"{key}.{option}", option, "option",
                                               allowed) if allowed else
                          f"{key}.{option}: {cls.__name__} takes no options")


def resolve_parameters(config: RunConfig, sources: Mapping[str, ParameterSource],
                       errors: list[str], *, model_missing: bool = False,
                       likelihoods_missing: bool = False,
                       deferred: set[str] | frozenset[str] = frozenset()) -> list[Parameter]:
    """Build every `Parameter` of the run: card specs over defaults. Fills ``config.resolved``.

    ``model_missing`` / ``likelihoods_missing``: the model / some likelihood could not be
    resolved (already reported), so card parameters that may be theirs are not called
    unknown as well. ``deferred``: likelihood instances whose nuisance parameters are only
    known once built (see `deferred_likelihoods`); card parameters of theirs are not
    checked here.
    """
    for name in config.parameters:
        maybe_theirs = likelihoods_missing if "." in name else model_missing
        if "." in name and name.split(".", 1)[0] in deferred:
            maybe_theirs = True
        if name not in sources and not maybe_theirs:
            errors.append(
                f"parameters.{name}: no parameter {name!r} in this run"
                f"{closest_hint(name, sources)} "
                f"(model, oscillation and nuisance parameters: {', '.join(sources)})")
    parameters, resolved = [], {}
    for name, source in sources.items():
        spec = _merged_spec(source.default, config.parameters.get(name))
        parameter = parameter_from_spec(name, spec, internal_unit=source.internal_unit,
                                        default_latex=source.default.get("latex", ""),
                                        errors=errors)
        if parameter is None:
            continue
        _check_physical(parameter, source, config.model.name, errors)
        parameters.append(parameter)
        resolved[name] = _plain(spec)
    config.resolved = resolved
    return parameters


def _merged_spec(default: Mapping, card_spec) -> Any:
    if card_spec is None:
        return dict(default)
    if not isinstance(card_spec, Mapping):
        return card_spec  # a bare number (fixed value) or an error reported later
    spec = {"latex": default["latex"]} if "latex" in default else {}
    spec.update(card_spec)  # no unit in the card: values are in the internal unit
    return spec


def _check_physical(parameter: Parameter, source: ParameterSource, model_name, errors):
    """The prior (or fixed value) must stay inside the model's physical range."""
    low, high = parameter.prior.bounds
    phys_low, phys_high = source.physical
    key = f"parameters.{parameter.name}"
    unit = "" if parameter.unit == "none" else f" {parameter.unit}"
    factor = parameter.factor
    for value, limit, side, word in ((low, phys_low, "min", "below"),
                                     (high, phys_high, "max", "above")):
        outside = value < limit if side == "min" else value > limit
        if not outside:
            continue
        bound = f"the physical {'minimum' if side == 'min' else 'maximum'} {limit / factor:g}{unit}"
        hint = ""
        if parameter.fixed:
            text = f"{key}.value: {value / factor:g}{unit} is {word} {bound}"
        elif np.isfinite(value):
            text = f"{key}.{side}: {value / factor:g}{unit} is {word} {bound}"
        else:
            text, hint = f"{key}: the prior extends {word} {bound}", f"; truncate it with '{side}:'"
        errors.append(f"{text} of model {model_name!r}{hint}")


def run_parameters(config: RunConfig) -> list[Parameter]:
    """Every parameter of the run (fixed and free), card specs over defaults.

    Raises
    ------
    ConfigError
        With every problem found (see `check_semantics`).
    """
    model = config.model_instance()
    errors: list[str] = []
    _, classes = resolve_classes(config, errors)
    return resolve_parameters(config, parameter_sources(model, classes), errors,
                              deferred=deferred_likelihoods(config, classes))


def check_semantics(config: RunConfig) -> list[str]:
    """Resolve classes and parameters; return every error found."""
    errors: list[str] = []
    model_cls, classes = resolve_classes(config, errors)
    model = build_model(model_cls, config, errors)
    sources = parameter_sources(model, classes)
    parameters = resolve_parameters(config, sources, errors, model_missing=model is None,
                                    likelihoods_missing=len(classes) < len(config.likelihoods),
                                    deferred=deferred_likelihoods(config, classes))
    if model is not None:
        _check_reads({**classes, "model": model}, sources, config.model.name, errors)
        _check_card_reads(classes, config, errors)
    _check_regions(config, parameters, sources, model, list(classes), errors)
    _check_scan(config, parameters, sources, errors)
    errors += _check_sampler_semantics(config)
    n_free = sum(not p.fixed for p in parameters)
    if (config.sampler["name"] == "nested" and config.sampler.get("engine") == "nautilus"
            and not errors and n_free == 1 and config.scan is None):
        errors.append("sampler.engine: nautilus needs at least 2 free parameters, the card has "
                      "1; use engine: dynesty")
    # (a card with every parameter fixed is valid: `globalfit check` evaluates it;
    # `globalfit run` refuses it)
    if (config.sampler["name"] == "emcee" and not errors and n_free and config.scan is None
            and config.sampler["walkers"] < 2 * n_free):
        errors.append(f"sampler.walkers: emcee needs at least 2 x (free parameters) = "
                      f"{2 * n_free} walkers, got {config.sampler['walkers']}")
    if not errors:  # remember the model and what was validated (`RunConfig.validate`)
        config._model = model
        config._validated_as = validation_key(config)
    return errors


def _check_sampler_semantics(config: RunConfig) -> list[str]:
    """Sampler checks that need more than the ``sampler:`` block."""
    if config.sampler.get("ensembles_per_region") and not config.regions:
        return ["sampler.ensembles_per_region: runs ensembles in each card region, but the "
                "card has no 'regions:' (add e.g. regions: {LMA: \"th12 < 45 deg\"}, or "
                "drop the setting for one ensemble over the whole prior)"]
    return []


def _check_reads(classes, sources, model_name, errors):
    """Every parameter a likelihood (or the model, under the key ``"model"``) declares in
    ``reads`` must be a parameter of the run: nothing falls back to a default in the code."""
    for instance, cls in classes.items():
        for name in getattr(cls, "reads", ()):
            if name not in sources:
                where = "model" if instance == "model" else f"likelihoods.{instance}"
                errors.append(
                    f"{where}: reads parameter {name!r}, which neither model "
                    f"{model_name!r} nor any likelihood provides{closest_hint(name, sources)} "
                    f"(use a model that has it, or add {name!r} to the card's parameters:)")


def _check_card_reads(classes, config, errors):
    """Every parameter a likelihood declares in ``card_reads`` must be in the card's
    ``parameters:`` (its model default is not a physics input for that likelihood)."""
    for instance, cls in classes.items():
        for name in getattr(cls, "card_reads", ()):
            if name not in config.parameters:
                errors.append(
                    f"likelihoods.{instance}: needs parameter {name!r} set in the card "
                    f"(its model default is not used for this likelihood); add e.g. "
                    f"'{name}: {{value: ...}}' or a prior to the card's parameters:")


def _check_regions(config, parameters, sources, model, instances, errors):
    """Parse each region with `globalfit.regions.parse_condition` (the parser the results
    layer uses), naming the closest known name on an error."""
    extra = ([f"chi2.{n}" for n in instances] + ["chi2.total"]
             + _derived_names(model, sources))
    known = set(sources) | REGION_WORDS | set(extra)
    for region, condition in config.regions.items():
        try:
            parse_condition(condition, parameters, name=region, derived=extra)
        except ValueError as error:
            errors.append(f"regions.{region}: {error}{_name_hint(condition, known, sources)}")


def _name_hint(condition, known, sources) -> str:
    unknown = [t for t in _IDENTIFIER.findall(condition) if t not in known]
    return closest_hint(unknown[0], sources) if unknown else ""


def _derived_names(model, sources) -> list[str]:
    """Names of the model's derived quantities (bare and ``derived.``-prefixed)."""
    if model is None:
        return []
    try:
        defaults = {}
        for name, source in sources.items():
            value = source.default.get("value", source.default.get("mean", 0.0))
            defaults[name] = float(value)
        names = list(model.derived(defaults))
    except Exception:  # a model that cannot evaluate at its defaults: skip this check
        return []
    return names + [f"derived.{n}" for n in names]


def _plain(value):
    """Numpy scalars, tuples and paths -> plain YAML-safe Python."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return value


__all__ = ["ConfigError", "ModelSpec", "RunConfig", "load_config", "merge_card",
           "oscillation_defaults", "run_parameters", "PRIOR_KINDS"]
