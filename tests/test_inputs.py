"""The inventory of published numbers read on each likelihood's default path (issue #20)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from globalfit import inputs
from globalfit.datafile import read_yaml, recording
from globalfit.paths import DATA_DIR, PROJECT_ROOT


@pytest.fixture(scope="module")
def inventory():
    missing = inputs.unmeasurable()  # likelihoods whose public release is not in the data folder
    return inputs.inventory([n for n in inputs.builtin_likelihoods() if n not in missing])


def _file(tmp_path: Path, content: dict) -> Path:
    path = tmp_path / "data.yaml"
    path.write_text(yaml.safe_dump(content))
    return path


def test_recording_notes_exactly_the_quantities_taken(tmp_path):
    path = _file(tmp_path, {"a": 1.0, "b": {"c": [1, 2], "d": "label", "e": 3}, "f": [{"g": 4}, {"g": 5}],
                            "unused": 7})
    with recording() as reads:
        content = read_yaml(path)
        assert content["a"] == 1.0
        assert dict(content["b"]) == {"c": [1, 2], "d": "label", "e": 3}
        assert [item["g"] for item in content["f"]] == [4, 5]
    keys = {key for _, key in reads}
    assert keys == {"a", "b.c", "b.e", "f.0.g", "f.1.g"}  # strings are not quantities; 'unused' not read
    assert read_yaml(path) == {"a": 1.0, "b": {"c": [1, 2], "d": "label", "e": 3},
                               "f": [{"g": 4}, {"g": 5}], "unused": 7}
    assert type(read_yaml(path)) is dict  # outside recording: plain yaml.safe_load


def test_nested_recorders_both_see_reads(tmp_path):
    path = _file(tmp_path, {"x": {"y": 2.0}})
    with recording() as outer:
        content = read_yaml(path)
        with recording() as inner:
            for _, value in content["x"].items():
                assert value == 2.0
    assert {k for _, k in inner} == {"x.y"} and {k for _, k in outer} == {"x.y"}


def test_most_specific_pattern_wins():
    table = {"samples": {"status": "FROM MEMORY"}, "samples.*.observed": {"status": "VERIFIED"},
             "samples.nue.observed": {"status": "DERIVED"}}
    assert inputs.match_status("samples.numu.predicted", table)[0] == "FROM MEMORY"
    assert inputs.match_status("samples.numu.observed", table)[0] == "VERIFIED"
    assert inputs.match_status("samples.nue.observed", table)[0] == "DERIVED"
    assert inputs.match_status("baseline_km", table)[0] == inputs.UNTAGGED


def test_unknown_status_is_an_error():
    with pytest.raises(ValueError, match="VERIFIED-ish"):
        inputs.file_statuses({"provenance": {"quantities": {"a": {"status": "VERIFIED-ish"}}}}, "x.yaml")


def test_every_builtin_likelihood_is_measured(inventory):
    readers = {e.likelihood for e in inventory}
    expected = set(inputs.builtin_likelihoods()) - set(inputs.unmeasurable())
    assert readers == expected


def test_default_paths_are_measured_not_listed(inventory):
    """T2K reads its prediction table but not the 2023 reference block of the same file."""
    t2k = {e.key for e in inventory if e.likelihood == "t2k" and e.file == "t2k/samples.yaml"}
    assert "samples.nue_fhc.predicted" in t2k and "samples.nue_fhc.observed" in t2k
    assert not any(k.startswith("reference_2023") for k in t2k)
    csi = {e.key for e in inventory if e.likelihood == "coherent_csi_2021"}
    assert "result.sm_prediction" in csi and "detector.mass_kg" in csi


def test_values_match_the_data_files(inventory):
    for entry in inventory:
        if entry.status == inputs.RELEASE:
            continue
        content = yaml.safe_load((DATA_DIR / entry.file).read_text())
        assert inputs.lookup(content, entry.key) == entry.value


def test_no_unlisted_from_memory_number_on_a_default_path(inventory):
    bad = inputs.violations(inventory)
    assert not bad, "FROM MEMORY or untagged quantities on default paths outside the allow-list:\n" + "\n".join(
        f"  {e.likelihood}: {e.file}:{e.key} = {e.value} ({e.status})" for e in bad)


def test_allow_list_entries_have_reasons_and_are_used(inventory):
    memory = [e for e in inventory if e.status == "FROM MEMORY"]
    for pattern, reason in inputs.ALLOWED_FROM_MEMORY.items():
        assert len(reason) > 20, pattern
        assert any(inputs.allow_reason(e.file, e.key) == reason for e in memory), f"{pattern} allows nothing"


def test_violations_are_detected(monkeypatch):
    entry = inputs.Entry("t2k", "t2k/samples.yaml", "density_gcc", 2.6, "FROM MEMORY", "")
    monkeypatch.setattr(inputs, "ALLOWED_FROM_MEMORY", {})
    assert inputs.violations([entry]) == [entry]
    monkeypatch.setattr(inputs, "ALLOWED_FROM_MEMORY", {"t2k/samples.yaml:density_gcc": "a reason long enough"})
    assert inputs.violations([entry]) == []


def test_docs_inventory_is_current(inventory):
    if inputs.unmeasurable():
        pytest.skip(f"the generated inventory needs every release; missing here: {', '.join(inputs.unmeasurable())}")
    path = PROJECT_ROOT / "docs" / "data_verification.md"
    text = path.read_text()
    assert inputs.updated_document(text, inventory) == text, (
        "docs/data_verification.md is out of date: run `globalfit inputs --update-docs docs/data_verification.md`")


def test_cli_filters_by_status(capsys):
    from globalfit.cli import main

    assert main(["inputs", "--likelihood", "conus", "--status", "VERIFIED"]) == 0
    out = capsys.readouterr().out
    assert "`reactor.distance_m`" in out and "FROM MEMORY" not in out
    assert main(["inputs", "--likelihood", "conus", "--status", "NOT_A_STATUS"]) == 2


def test_no_from_memory_marker_in_python_sources():
    """Unverified published numbers live in data/ (where the inventory lists them), not in code."""
    found = inputs.code_markers()
    assert not found, "FROM MEMORY markers in Python sources (move the number to data/ with its provenance):\n" + \
        "\n".join(found)


def test_code_marker_check_finds_a_planted_case(tmp_path):
    physics = tmp_path / "globalfit" / "physics"
    physics.mkdir(parents=True)
    (physics / "clean.py").write_text('SLOPE_FILE = "data/x.yaml"\n')
    (physics / "planted.py").write_text('X = 1.0\n"""A slope (PDG; from memory)."""\n')
    (tmp_path / "likelihoods").mkdir()
    (tmp_path / "likelihoods" / "planted.py").write_text("# FROM_MEMORY number\nY = 2.0\n")
    (tmp_path / "globalfit" / "inputs.py").write_text('STATUSES = ("FROM MEMORY",)\n')  # vocabulary: exempt
    assert inputs.code_markers(tmp_path) == ["globalfit/physics/planted.py:2", "likelihoods/planted.py:1"]


def test_missing_physics_quantity_names_file_and_key(tmp_path):
    from globalfit.datafile import MissingQuantityError, data_value

    path = _file(tmp_path, {"slope": {"neutrino": 0.677e-38}})
    assert data_value(path, "slope.neutrino") == 0.677e-38
    with pytest.raises(MissingQuantityError, match=r"data.yaml: physics quantity 'slope.antineutrino' is missing"):
        data_value(path, "slope.antineutrino")


def test_data_value_is_recorded_even_when_cached_before_recording(tmp_path):
    from globalfit.datafile import data_value

    path = _file(tmp_path, {"rho_nc": 1.0126})
    assert data_value(path, "rho_nc") == 1.0126  # cached outside any recording
    with recording() as reads:
        assert data_value(path, "rho_nc") == 1.0126
    assert reads == {(str(path.resolve()), "rho_nc")}
