"""Inventory of the published numbers each likelihood reads on its default path.

The inventory is measured, not written by hand: for each built-in likelihood a fresh Python
process builds it with its default options, evaluates it once at the default
Standard-Model point (``model: standard``, the default oscillation parameters, nuisance
parameters at their prior medians) and asks for its observables, all inside
`globalfit.datafile.recording`. Every quantity taken out of a ``data/**/*.yaml`` file on
that path is listed with the status its file declares for it.

Provenance schema (each data file)::

    provenance:
      source: "..."                    # the publication(s), free text
      quantities:                      # dotted key (fnmatch pattern) -> status and where seen
        baseline_km: {status: VERIFIED, where: "T2K, PRD 103 (2021) 112008, abstract"}
        "samples.*.observed": {status: FROM MEMORY, where: "..."}

A pattern also covers everything below it (``table_point`` covers ``table_point.sin2_th23``);
when several patterns match, the most specific (most literal characters) wins. Statuses:

``VERIFIED``      seen in the cited publication, release or official page;
``VERIFIED-3P``   seen in third-party material that quotes the source;
``DERIVED``       arithmetic or a fit from VERIFIED inputs or a public release (named);
``DEFINITION``    needs no source (a stoichiometry, the meaning of a confidence level, a bin grid);
``APPROXIMATION`` a modelling choice of this project, documented, not a published number;
``FROM MEMORY``   not confirmed in any source.

A quantity with no matching pattern is ``UNTAGGED``. ``ALLOWED_FROM_MEMORY`` lists the few
FROM MEMORY quantities a default path may still read, each with the reason it cannot be
verified; `violations` returns the others (and every UNTAGGED one).
"""
from __future__ import annotations

import contextlib
import fnmatch
import json
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from globalfit.paths import DATA_DIR, PROJECT_ROOT

STATUSES = ("VERIFIED", "VERIFIED-3P", "DERIVED", "DEFINITION", "APPROXIMATION", "FROM MEMORY")
"""Statuses a data file may declare (module docstring)."""
UNTAGGED = "UNTAGGED"
RELEASE = "RELEASE"
"""Status of a whole file outside ``data/`` (a public release the user supplies)."""

ALLOWED_FROM_MEMORY: dict[str, str] = {
    "t2k/samples.yaml:samples": (
        "Nature 580 (2020) 339 Table 1: the search corpora hold only the openings (authors, abstract) of "
        "arXiv:1910.03887 and no transcription was found in three passes (docs/data_verification.md); the later "
        "analysis' release (zenodo 15701867, not in the data folder) gives its predictions as figures only, at "
        "another exposure and oscillation point"),
    "t2k/samples.yaml:table_point": "the oscillation point of the same Table 1 (same reason)",
    "coherent_csi_2017/coherent_csi_2017.yaml:analysis": (
        "ROI 6-30 PE, t < 6 us is in the paper's text, not its abstract; the release files span 1-49 PE and "
        "0-12 us. Supported: the computed SM count in this ROI, 169.0, is 2.3 % from the published 173"),
    "coherent_csi_2021/coherent_csi_2021.yaml:result.sm_prediction": (
        "341 +- 11 (th) +- 42 (exp) is in the text of PRL 129 (2022) 081801, not its abstract (nubib.org), and "
        "no transcription was found; the count computed from the release response, 357.9, is 5.0 % above"),
    "conus/conus_plus_run1.yaml:detector.roi_max_eVee": (
        "analysis window of the paper's methods, not in the abstracts reached; with the default published "
        "normalisation it enters only N(model)/N(SM)"),
    "conus/conus_plus_run1.yaml:detector.resolution_sigma_eVee": (
        "per-detector pulser resolutions are in the paper's methods, not in the abstracts reached; enters only "
        "N(model)/N(SM) with the default published normalisation"),
    "nutev/nutev_couplings.yaml:*": (
        "PRL 88 (2002) 091802 text (g_L^2, g_R^2, correlation, kinematics) not reachable: three passes of "
        "pages/docs/code searches and find_string ('0.30005', '0.03076') found only the abstract "
        "(docs/data_verification.md)"),
    "charm/charm_nue.yaml:*": "PLB 180 (1986) 303 is pre-arXiv; not found in any corpus (docs/data_verification.md)",
    "cosmology/neff.yaml:*": (
        "the m_Z' bound is the talk's reading of Huang, Ohlsson, Zhou, whose abstract states no mass bound; the "
        "~2 MeV decoupling temperature is a textbook order of magnitude (docs/data_verification.md)"),
    "dune/design.yaml:*": (
        "a projection: exposure, POT per year, efficiencies and density are design assumptions of DUNE-era "
        "documents not reached in the corpora (docs/data_verification.md)"),
    "mesons/lepton_universality.yaml:*.acceptance": (
        "the PIENU high-energy-region boundary and the NA62 K_l2 missing-mass window are approximate "
        "descriptions of cuts in the papers' texts, not in the abstracts reached (docs/data_verification.md)"),
    "earth/matter_composition.yaml:earth_neutron_to_electron": (
        "Y_n = 1.05 of the crust and mantle is in the text of the NSI global fits (Esteban et al., JHEP 08 (2018) "
        "180), not in the abstract reached (arXiv:1805.04530); pages/docs searches for the value and find_string "
        "('Y_n = 1.051', 'Yn = 1.051') found no transcription. A 1 % change moves eps_earth by < 1 % of eps^q"),
    "mesons/hnl_inputs.yaml:*": (
        "PDG 2024 / FLAG / arXiv:1805.08567 (tables 2-3) inputs of the HNL widths, recorded FROM MEMORY when the "
        "lhcb_lnv likelihood was added (its search reached m_B, |V_ub| and HPQCD's f_B = 186(4) MeV, 2 % below the "
        "190 MeV used) and moved out of Python code unchanged; not searched again in this pass. They set the HNL "
        "lifetime and the B -> mu N rate (about 4 % from f_B)"),
    "nuclei/isotopes.yaml:elements.*.*.rms_radius_fm": (
        "Angeli & Marinova's table (ADNDT 99 (2013) 69) is not in the corpora and find_string for the values "
        "('4.8041', '3.4274', '4.7859') found no transcription; the radius enters the Helm form factor, covered "
        "by the COHERENT radius nuisance (5 %) and the form-factor systematic (docs/cevns.md)"),
    "unitarity/kappa_bounds.yaml:kappa2_upper": (
        "talk values; the likely source's table (arXiv:1605.08774) was not reached, only its abstract "
        "(docs/data_verification.md)"),
}
"""``"file:key"`` pattern (file relative to ``data/``, fnmatch) -> why these FROM MEMORY
quantities cannot be verified with the tools available; read on a default path without
failing ``tests/test_inputs.py``."""


CODE_ROOTS = ("globalfit", "likelihoods")
"""Packages whose Python sources may not carry a ``FROM MEMORY`` marker (`code_markers`)."""
MARKER_VOCABULARY_FILES = {
    "globalfit/inputs.py": "defines the statuses and the allow-list",
    "globalfit/cli/inputs_command.py": "help text of `globalfit inputs --status/--strict`",
}
"""Sources that name the status as vocabulary, not as the status of a number."""


def code_markers(root: str | Path = PROJECT_ROOT, roots: Iterable[str] = CODE_ROOTS) -> list[str]:
    """``"path:line"`` of every ``FROM MEMORY`` marker in the Python sources under ``roots``.

    A published number with an unverified status must live in a ``data/`` file, where the
    inventory sees it, not in code; `MARKER_VOCABULARY_FILES` are exempt.
    """
    root = Path(root)
    found = []
    for package in roots:
        for path in sorted((root / package).rglob("*.py")):
            name = path.relative_to(root).as_posix()
            if name in MARKER_VOCABULARY_FILES:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
                if "FROM MEMORY" in line.upper().replace("_", " "):
                    found.append(f"{name}:{number}")
    return found


@dataclass(frozen=True)
class Entry:
    """One quantity read on a likelihood's default path."""

    likelihood: str
    file: str
    key: str
    value: Any
    status: str
    where: str

    @property
    def allowed(self) -> bool:
        """True if a FROM MEMORY quantity is covered by `ALLOWED_FROM_MEMORY`."""
        return allow_reason(self.file, self.key) is not None


def allow_reason(file: str, key: str) -> str | None:
    """The `ALLOWED_FROM_MEMORY` reason covering ``file:key`` (most specific pattern), or None."""
    name = f"{file}:{key}"
    matches = [p for p in ALLOWED_FROM_MEMORY
               if fnmatch.fnmatchcase(name, p) or fnmatch.fnmatchcase(name, p + ".*")]
    return ALLOWED_FROM_MEMORY[max(matches, key=len)] if matches else None


# --- provenance lookup ---------------------------------------------------------------------------
def file_statuses(content: Mapping[str, Any], file: str) -> dict[str, dict[str, str]]:
    """The ``provenance.quantities`` table of a data file, checked.

    Raises
    ------
    ValueError
        If an entry is not ``{status: ..., where: ...}`` or names an unknown status.
    """
    table = ((content.get("provenance") or {}).get("quantities")) or {}
    for pattern, spec in table.items():
        if not isinstance(spec, Mapping) or "status" not in spec:
            raise ValueError(f"{file}: provenance.quantities.{pattern}: expected {{status: ..., where: ...}}, "
                             f"got {spec!r}")
        if spec["status"] not in STATUSES:
            raise ValueError(f"{file}: provenance.quantities.{pattern}.status: {spec['status']!r} is not one "
                             f"of {', '.join(STATUSES)}")
    return {str(k): dict(v) for k, v in table.items()}


def match_status(key: str, table: Mapping[str, Mapping[str, str]]) -> tuple[str, str]:
    """``(status, where)`` of the most specific pattern covering ``key``; UNTAGGED if none."""
    best, best_score = None, -1
    for pattern, spec in table.items():
        if fnmatch.fnmatchcase(key, pattern) or fnmatch.fnmatchcase(key, pattern + ".*"):
            score = len(pattern.replace("*", "").replace("?", ""))
            if score > best_score:
                best, best_score = spec, score
    if best is None:
        return UNTAGGED, ""
    return str(best["status"]), str(best.get("where", ""))


def lookup(content: Any, key: str) -> Any:
    """Value at a dotted key (list items by index)."""
    for part in key.split("."):
        content = content[int(part)] if isinstance(content, list) else content[part]
    return content


# --- measuring the default path ------------------------------------------------------------------
CARD_REQUIREMENTS: dict[str, dict[str, Any]] = {
    "lhcb_lnv": {  # reads the heavy pair of lfv_nsi and needs its splitting and options
        "model": {"name": "lfv_nsi"},
        "parameters": {"sin_beta": {"value": 0.01}, "m_n1": {"value": 2.0, "unit": "GeV"},
                       "m_n2": {"value": 2.0, "unit": "GeV"},
                       "delta_m_n": {"value": 1.0e-6, "unit": "GeV"}},
        "options": {"limit": "lhcb_2011", "prompt_proper_time_ps": 1.0},
    },
}
"""Likelihoods that read a model's heavy leptons or have required options: the model, the
parameters and the options their measured path uses (every other one: ``model: standard``)."""


def default_card(name: str) -> dict[str, Any]:
    """The check card of one likelihood with its default options at the SM point (or, for
    a `CARD_REQUIREMENTS` likelihood, at the point that entry names)."""
    card = {"name": f"inputs_{name}", "model": {"name": "standard"}, "likelihoods": {name: {}}}
    needs = CARD_REQUIREMENTS.get(name, {})
    if needs:
        card["model"] = dict(needs["model"])
        card["parameters"] = dict(needs["parameters"])
    return card


REQUIRED_RELEASES = {"superk_iv_spectrum": "superk", "deepcore_3y": "deepcore_3y"}
"""Built-in likelihoods with no built-in default data: the release each is measured with."""
REQUIRED_OPTIONS = {"xenon_projection": {"exposure_t_yr": 200.0, "efficiency_uncertainty": 0.10}}
"""Built-in likelihoods with required design options (a projection): the values of their shipped
card (configs/xenon_projection.yaml) they are measured with."""


def default_options(name: str) -> dict[str, Any]:
    """Options a likelihood needs that have no built-in default (a public release by name).

    Returns an empty dict for every likelihood that runs from the installed package alone.

    Raises
    ------
    FileNotFoundError
        If the release the likelihood needs is not in the data folder.
    """
    if name in CARD_REQUIREMENTS:
        return dict(CARD_REQUIREMENTS[name]["options"])
    if name in REQUIRED_OPTIONS:
        return dict(REQUIRED_OPTIONS[name])
    if name not in REQUIRED_RELEASES:
        return {}
    from globalfit.releases import ReleaseError, release_folder

    release = REQUIRED_RELEASES[name]
    try:
        release_folder(release)
    except ReleaseError as error:
        raise FileNotFoundError(f"{name} needs the public release {release!r}: {error}") from None
    return {"release": release}


def _measure_in_this_process(names: Iterable[str]) -> dict[str, Any]:
    """Reads of each likelihood; must run in a process that has read no data file yet."""
    from globalfit.datafile import recording
    from globalfit.viability import evaluate_likelihood, resolve_card

    result = {}
    with recording():  # every file read from here on records its reads (caches included)
        for name in names:
            with recording() as reads:
                card = default_card(name)
                card["likelihoods"] = {name: default_options(name)}
                _, likelihoods, point, _ = resolve_card(card)
                likelihood = likelihoods[name]
                row = evaluate_likelihood(likelihood, point, point, nuisances="median")
                if not row["status"].startswith("ok"):
                    raise RuntimeError(f"likelihood {name!r} failed at the SM point: {row['status']}")
                with contextlib.suppress(NotImplementedError):  # observables are optional
                    likelihood.observables(point)
                files = [str(Path(p).resolve()) for p in likelihood.data_files()]
            result[name] = {"reads": sorted(reads), "files": files}
    return result


def measure_reads(names: Iterable[str]) -> dict[str, Any]:
    """``{likelihood: {"reads": [(file, key), ...], "files": [...]}}`` measured in a fresh process.

    A fresh interpreter guarantees that no cached data file was read before recording began.
    """
    names = list(names)
    code = ("import json, sys; from globalfit.inputs import _measure_in_this_process; "
            "json.dump(_measure_in_this_process(sys.argv[1:]), sys.stdout)")
    done = subprocess.run([sys.executable, "-c", code, *names], capture_output=True, text=True,
                          cwd=str(PROJECT_ROOT))
    if done.returncode != 0:
        raise RuntimeError(f"measuring the default path of {', '.join(names)} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def builtin_likelihoods() -> list[str]:
    """Names of the built-in likelihoods (``likelihoods.BUILTIN``)."""
    from likelihoods import BUILTIN

    return list(BUILTIN)


def unmeasurable() -> dict[str, str]:
    """Built-in likelihoods that cannot be built here (a release is missing), with the reason."""
    missing = {}
    for name in builtin_likelihoods():
        try:
            default_options(name)
        except FileNotFoundError as error:
            missing[name] = str(error)
    return missing


def _relative(path: str) -> str:
    """A data file relative to ``data/``; a release file as ``release:<path in ../shared/data>``."""
    from globalfit.paths import releases_dir

    try:
        return str(Path(path).relative_to(Path(DATA_DIR).resolve()))
    except ValueError:
        releases = releases_dir().resolve()
        if Path(path).is_relative_to(releases):
            return "release:" + str(Path(path).relative_to(releases))
        return "release:" + Path(path).name


def inventory(names: Iterable[str] | None = None) -> list[Entry]:
    """Every quantity the named likelihoods read on their default path.

    The default is every built-in likelihood that can be built here (`unmeasurable` lists the
    others).

    Files a likelihood reads outside ``data/`` (public releases) are listed once each with
    status ``RELEASE`` and key ``*``.
    """
    from globalfit.datafile import read_yaml

    if names is None:
        names = [n for n in builtin_likelihoods() if n not in unmeasurable()]
    names = list(names)
    measured = measure_reads(names)
    entries, contents = [], {}
    for name in names:
        yaml_files = set()
        for file, key in measured[name]["reads"]:
            yaml_files.add(file)
            if file not in contents:
                contents[file] = read_yaml(file)
            table = file_statuses(contents[file], _relative(file))
            status, where = match_status(key, table)
            entries.append(Entry(name, _relative(file), key, lookup(contents[file], key), status, where))
        for file in measured[name]["files"]:
            if file not in yaml_files and not file.startswith(str(Path(DATA_DIR).resolve())):
                entries.append(Entry(name, _relative(file), "*", None, RELEASE,
                                     "public release supplied by the user (SOURCE.md beside it)"))
    return entries


def violations(entries: Iterable[Entry]) -> list[Entry]:
    """FROM MEMORY quantities not in `ALLOWED_FROM_MEMORY`, and UNTAGGED ones."""
    return [e for e in entries if (e.status == "FROM MEMORY" and not e.allowed) or e.status == UNTAGGED]


def as_records(entries: Iterable[Entry]) -> list[dict[str, Any]]:
    """Entries as plain dicts (for JSON)."""
    return [asdict(e) | {"allowed": e.allowed} for e in entries]


# --- rendering ---------------------------------------------------------------------------------------
def _format_value(value: Any) -> str:
    text = json.dumps(value) if isinstance(value, list) else f"{value:g}" if isinstance(value, float) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def by_quantity(entries: Iterable[Entry]) -> list[tuple[Entry, list[str]]]:
    """One row per (file, key) with the likelihoods that read it, sorted by file and key."""
    rows: dict[tuple[str, str], tuple[Entry, list[str]]] = {}
    for entry in entries:
        rows.setdefault((entry.file, entry.key), (entry, []))[1].append(entry.likelihood)
    return [rows[k] for k in sorted(rows)]


def summary_counts(entries: Iterable[Entry]) -> dict[str, int]:
    """Number of distinct quantities per status."""
    counts: dict[str, int] = {}
    for entry, _ in by_quantity(entries):
        counts[entry.status] = counts.get(entry.status, 0) + 1
    return counts


def markdown_table(entries: Iterable[Entry]) -> str:
    """The inventory as a Markdown table (one row per quantity)."""
    entries = list(entries)
    lines = ["| file | key | value | status | where | read by |", "|---|---|---|---|---|---|"]
    for entry, readers in by_quantity(entries):
        status = entry.status + (" (allowed)" if entry.status == "FROM MEMORY" and entry.allowed else "")
        where = entry.where.replace("|", "/")
        lines.append(f"| `{entry.file}` | `{entry.key}` | {_format_value(entry.value)} | {status} | "
                     f"{where} | {', '.join(sorted(readers))} |")
    return "\n".join(lines) + "\n"


def markdown_inventory(entries: Iterable[Entry]) -> str:
    """Counts, the allow-list with reasons and the table: the generated part of the docs."""
    entries = list(entries)
    counts = summary_counts(entries)
    parts = ["Distinct quantities read on the default paths, by status: "
             + ", ".join(f"{s} {counts[s]}" for s in (*STATUSES, UNTAGGED, RELEASE) if s in counts) + ".",
             "", "FROM MEMORY quantities allowed on a default path (`globalfit.inputs.ALLOWED_FROM_MEMORY`):", ""]
    parts += [f"* `{pattern}`: {reason}" for pattern, reason in ALLOWED_FROM_MEMORY.items()]
    parts += ["", markdown_table(entries)]
    return "\n".join(parts)


BEGIN_MARK = "<!-- BEGIN GENERATED INVENTORY (globalfit inputs --update-docs) -->"
END_MARK = "<!-- END GENERATED INVENTORY -->"


def updated_document(text: str, entries: Iterable[Entry]) -> str:
    """``text`` with the part between `BEGIN_MARK` and `END_MARK` replaced by the inventory.

    Raises
    ------
    ValueError
        If the markers are missing.
    """
    start, end = text.find(BEGIN_MARK), text.find(END_MARK)
    if start < 0 or end < start:
        raise ValueError(f"the document has no {BEGIN_MARK!r} ... {END_MARK!r} block; add both lines")
    return text[: start + len(BEGIN_MARK)] + "\n\n" + markdown_inventory(entries) + "\n" + text[end:]
