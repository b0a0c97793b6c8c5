"""Official releases by name: manifest, mirror download, verification, card resolution.

A local mirror (``python -m http.server`` bound to 127.0.0.1 on a free port) serves a copy
of a few releases of the team's data folder (``$GLOBALFIT_DATA``, by default
``../shared/data``, one folder per release); no traffic leaves the machine.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from globalfit import releases
from globalfit.cli import main as cli_main
from globalfit.likelihood import file_sha256
from globalfit.paths import RELEASES_ENV

SERVED = ("sno", "kamland", "reactors", "superk")
"""Small releases copied onto the local mirror (about 160 kB)."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def mirror_tree(shared_data, tmp_path_factory) -> Path:
    """A copy of a few releases, laid out as on a mirror (one folder per release)."""
    root = tmp_path_factory.mktemp("mirror")
    for name in SERVED:
        shutil.copytree(shared_data / name, root / name)
    shutil.copytree(shared_data / "kamland", root / "kamland_corrupted")
    return root


@pytest.fixture(scope="module")
def mirror(mirror_tree) -> str:
    """URL of ``python -m http.server`` serving ``mirror_tree`` on 127.0.0.1."""
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                               "127.0.0.1", "--directory", str(mirror_tree)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/sno/sno_sensitivity.csv", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("the local mirror did not start")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def data_folder(tmp_path, monkeypatch) -> Path:
    """An empty data folder in ``$GLOBALFIT_DATA`` (and no mirror from the environment)."""
    folder = tmp_path / "releases"
    monkeypatch.setenv(RELEASES_ENV, str(folder))
    monkeypatch.delenv(releases.MIRROR_ENV, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    return folder


# --- the manifest ------------------------------------------------------------------------
def test_manifest_lists_every_release_a_likelihood_reads():
    names = set(releases.manifest())
    assert {"coherent_csi_2017", "coherent_csi_2021", "coherent_lar_2020", "kamland",
            "reactors", "superk", "sno", "solar", "deepcore_3y", "dune"} <= names
    for release in releases.manifest().values():
        assert release.title and release.reference and release.licence and release.files
        for entry in release.files:
            assert len(entry.sha256) == 64 and entry.bytes > 0
            assert entry.url is None or entry.url.startswith("https://")
            assert entry.url is not None or entry.note, f"{entry.name}: a mirror-only file explains why"


def test_manifest_matches_the_team_copy(shared_data):
    """Sizes and SHA-256 of every file of every release equal the manifest."""
    checks = releases.verify(list(releases.manifest()), shared_data)
    failed = [(c.release, c.file, c.status, c.detail) for c in checks if c.status != "ok"]
    assert failed == []
    assert len(checks) == sum(len(r.files) for r in releases.manifest().values())


def test_unknown_release_names_the_closest():
    with pytest.raises(releases.ReleaseError, match="did you mean 'kamland'"):
        releases.get("kamlnd")


# --- fetch from a mirror -----------------------------------------------------------------
def test_fetch_from_mirror_then_verify(mirror, data_folder, capsys):
    assert cli_main(["data", "fetch", "sno", "kamland", "--mirror", mirror]) == 0
    for name in ("sno", "kamland"):
        for entry in releases.get(name).files:
            path = data_folder / name / entry.name
            assert file_sha256(path) == entry.sha256
    assert sorted(p.name for p in (data_folder / "kamland").iterdir()) == sorted(
        f.name for f in releases.get("kamland").files)
    capsys.readouterr()
    assert cli_main(["data", "verify"]) == 0
    out = capsys.readouterr().out
    assert "sno: OK (1 files ok)" in out and "kamland: OK (8 files ok)" in out
    assert cli_main(["data", "path"]) == 0
    assert capsys.readouterr().out.strip() == str(data_folder)


def test_fetch_uses_the_mirror_from_the_environment(mirror, data_folder, monkeypatch):
    monkeypatch.setenv(releases.MIRROR_ENV, mirror)
    checks = releases.fetch("sno")
    assert [c.status for c in checks] == ["ok"]


def test_fetch_keeps_good_files_and_replaces_corrupted_ones(mirror, data_folder, capsys):
    releases.fetch("sno", mirror=mirror)
    path = data_folder / "sno" / "sno_sensitivity.csv"
    good = path.read_bytes()
    path.write_bytes(good.replace(b"2.9,3,", b"2.9,3.0,"))
    assert cli_main(["data", "verify", "sno"]) == 1
    out = capsys.readouterr().out
    assert "sno: FAILED" in out and "globalfit data fetch sno" in out
    releases.fetch("sno", mirror=mirror)
    assert path.read_bytes() == good
    assert cli_main(["data", "verify", "sno"]) == 0


def test_corrupted_download_is_refused_and_nothing_stays(mirror, mirror_tree, data_folder):
    """A file whose SHA-256 differs is an error naming it and both hashes; the release folder
    keeps neither the file nor a temporary copy."""
    victim = "KamLAND_data.csv"
    served = mirror_tree / "kamland_corrupted" / victim
    served.write_bytes(served.read_bytes().replace(b"142.", b"143.", 1))
    received = file_sha256(served)
    expected = next(f.sha256 for f in releases.get("kamland").files if f.name == victim)
    # a mirror whose kamland/ folder is the corrupted copy
    corrupted_mirror = mirror_tree / "bad"
    corrupted_mirror.mkdir(exist_ok=True)
    link = corrupted_mirror / "kamland"
    if not link.exists():
        link.symlink_to(mirror_tree / "kamland_corrupted")
    with pytest.raises(releases.ChecksumMismatch) as caught:
        releases.fetch("kamland", mirror=f"{mirror}/bad", retries=0)
    message = str(caught.value)
    assert victim in message and expected in message and received in message
    folder = data_folder / "kamland"
    left = sorted(p.name for p in folder.iterdir())
    assert victim not in left
    assert set(left) <= {f.name for f in releases.get("kamland").files}, f"temporary files left: {left}"


def test_mirror_only_file_is_optional(mirror, data_folder):
    """The truncated SK I-IV file has no official URL: it comes from a mirror, and a release
    folder without it still counts as present."""
    releases.fetch("superk", mirror=mirror)
    assert all(c.status == "ok" for c in releases.check_files("superk"))
    (data_folder / "superk" / "sk1to4_adn_vs_dm2_truncated.csv").unlink()
    statuses = {c.file: c.status for c in releases.check_files("superk")}
    assert statuses["sk1to4_adn_vs_dm2_truncated.csv"] == "mirror-only"
    assert releases.release_folder("superk") == data_folder / "superk"
    with pytest.raises(releases.ReleaseError, match="globalfit data fetch superk --mirror URL"):
        releases.release_option({"superk_adn_release": "superk"}, "likelihoods.solar",
                                release_key="superk_adn_release", path_key="superk_adn_table",
                                file="sk1to4_adn_vs_dm2_truncated.csv")


# --- run cards name releases ---------------------------------------------------------------
def test_missing_release_prints_the_fetch_command(data_folder):
    from likelihoods.kamland import KamLANDLikelihood

    with pytest.raises(releases.ReleaseError) as caught:
        KamLANDLikelihood(release="kamland")
    message = str(caught.value)
    assert "likelihoods.kamland.release" in message
    assert "globalfit data fetch kamland" in message
    assert str(data_folder / "kamland") in message


def test_missing_release_through_the_cli(data_folder, tmp_path, capsys):
    card = tmp_path / "card.yaml"
    card.write_text("name: t\nmodel: {name: standard}\nparameters:\n"
                    "  th12: {prior: uniform, min: 25.0, max: 45.0, unit: deg}\n"
                    "likelihoods:\n  superk_iv_spectrum: {release: superk}\n"
                    "sampler: {name: emcee, walkers: 8, steps: 2, burn_in: 0, seed: 1}\n")
    assert cli_main(["run", str(card), "--output", str(tmp_path / "out"), "--no-progress"]) != 0
    assert "globalfit data fetch superk" in capsys.readouterr().err


def test_release_name_and_explicit_path_give_the_same_likelihood(shared_data, nufit_no):
    from globalfit.likelihood import Point
    from likelihoods.kamland import KamLANDLikelihood

    by_name = KamLANDLikelihood(release="kamland", reactors_release="reactors")
    by_path = KamLANDLikelihood(release_path=str(shared_data / "kamland"),
                                reactors_path=str(shared_data / "reactors"))
    point = Point(nufit_no)
    assert by_name.release_path == shared_data / "kamland"
    assert by_name.loglike(point) == by_path.loglike(point)
    assert np.isfinite(by_name.loglike(point))


def test_release_and_path_together_are_an_error(shared_data):
    from likelihoods.superk_spectrum import SuperKSpectrumLikelihood

    with pytest.raises(releases.ReleaseError, match="not both"):
        SuperKSpectrumLikelihood(release="superk", release_path=str(shared_data / "superk"))


def test_provenance_names_each_release_and_checksum(shared_data, tmp_path):
    files = [shared_data / "kamland" / "KamLAND_data.csv", shared_data / "sno" / "sno_sensitivity.csv"]
    record = releases.releases_read(files + [Path(releases.__file__)])
    assert set(record) == {"kamland", "sno"}
    assert record["kamland"]["files"] == {"KamLAND_data.csv": file_sha256(files[0])}
    assert record["kamland"]["matches_manifest"] is True
    modified = tmp_path / "sno" / "sno_sensitivity.csv"
    modified.parent.mkdir()
    modified.write_bytes(files[1].read_bytes() + b"\n")
    assert releases.releases_read([modified])["sno"]["matches_manifest"] is False


def test_run_records_each_release_and_checksum(shared_data, tmp_path):
    """A card naming releases: provenance.json lists each release and the SHA-256 of every
    file of it the run read."""
    import json

    card = tmp_path / "card.yaml"
    card.write_text("name: t\nmodel: {name: standard}\nparameters:\n"
                    "  th12: {prior: uniform, min: 25.0, max: 45.0, unit: deg}\n"
                    "  dm21: {prior: log-uniform, min: 1.0e-5, max: 2.0e-4, unit: eV2}\n"
                    "likelihoods:\n  kamland: {release: kamland, reactors_release: reactors}\n"
                    "sampler: {name: emcee, walkers: 8, steps: 3, burn_in: 0, seed: 1}\n")
    out = tmp_path / "out"
    assert cli_main(["run", str(card), "--output", str(out), "--no-progress"]) == 0
    read = json.loads((out / "provenance.json").read_text())["inputs"]["releases"]
    assert set(read) == {"kamland", "reactors"}
    assert sorted(read["reactors"]["files"]) == ["operating_history.csv", "sites.csv", "units.csv"]
    for name, record in read.items():
        assert record["matches_manifest"] is True
        for file, digest in record["files"].items():
            assert digest == file_sha256(shared_data / name / file)


# --- globalfit init ------------------------------------------------------------------------
def test_init_copies_a_card_and_never_overwrites(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli_main(["init"]) == 0
    card = tmp_path / "default.yaml"
    from globalfit.paths import example_cards_dir

    assert card.read_bytes() == (example_cards_dir() / "default.yaml").read_bytes()
    card.write_text("mine")
    assert cli_main(["init", "default"]) == 2
    assert "not overwritten" in capsys.readouterr().err
    assert card.read_text() == "mine"
    assert cli_main(["init", "lma_vs_lmad_u"]) == 0
    assert (tmp_path / "lma_vs_lmad_u.yaml").is_file()
    assert cli_main(["init", "no_such_card"]) == 2
