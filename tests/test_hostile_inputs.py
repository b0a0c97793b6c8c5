"""Hostile inputs: every case ends in a clear message (exit 2) or correct behaviour, and no
case loses or silently changes data.

Classes of cases: bad cards (safe loader), the CLI's error boundary, damaged run folders
under each reading command, the run lock (two writers, stale locks), failed starts,
unwritable / full output folders, faulty plug-ins, damaged data files, and property-based
fuzzing of the card loader (hypothesis). Tiny cards with the analytic test plug-ins
(tests/plugins.py, tests/hostile_plugins.py) keep the whole file fast.
"""
from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plugins import gaussian_card

from globalfit.chainfile import check_chain
from globalfit.cli import main
from globalfit.config import ConfigError, load_config
from globalfit.datafiles import DataFileError, check_frame, read_table
from globalfit.runlock import LOCK_FILE, RunLock, RunLockError, check_output_writable
from globalfit.safe_yaml import MAX_MESSAGE_CHARS, YamlFileError, load_yaml_text

TESTS = Path(__file__).resolve().parent
CARD = gaussian_card("tiny", {"walkers": 8, "steps": 12, "burn_in": 2, "seed": 5})
CARD_TEXT = yaml.safe_dump(CARD, sort_keys=False)
COMMANDS_READING = ("table", "plot", "compare", "export", "resume")


@pytest.fixture(autouse=True)
def quiet_results_layer(monkeypatch):
    """Summary tables and corner plots are their owners' tests; here only the run layer."""
    from globalfit import sampling

    monkeypatch.setattr(sampling, "write_results", lambda run_dir, report=None: None)


def cli(*argv) -> int:
    return main([str(a) for a in argv])


def write_card(folder: Path, text: str | bytes, name: str = "card.yaml") -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def card_with(**changes) -> str:
    return yaml.safe_dump({**CARD, **changes}, sort_keys=False)


def digest(folder: Path) -> dict[str, str]:
    """Content hash of every file under ``folder`` (to prove nothing was changed)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def assert_one_clear_error(capsys, *fragments: str) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err, err
    assert "error:" in err, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    return err


# --- 1. bad cards: the safe loader -----------------------------------------------------------
ALIAS_BOMB = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    + [f"{b}: &{b} [{', '.join([f'*{a}'] * 10)}]" for a, b in zip("abcdefgh", "bcdefghi")])
BAD_CARDS = {
    "duplicate top-level key": ("name: a\nname: b\n", ["line 2: duplicate key 'name' (first given on line 1)"]),
    "duplicate parameter": (
        CARD_TEXT.replace("parameters:\n", "parameters:\n  eps_ee: {prior: uniform, min: 0, "
                          "max: 1}\n"), ["line 5: duplicate key 'eps_ee' (first given on line 4)"]),
    "duplicate key in a flow mapping": ("name: tiny\nsampler: {walkers: 8, walkers: 10}\n",
                                        ["duplicate key 'walkers' (first given on line 2)"]),
    "alias bomb in model options": (
        ALIAS_BOMB + "\nname: x\nmodel: {name: standard, options: {bomb: *i}}\n", ["alias bomb"]),
    "alias bomb in parameters": (ALIAS_BOMB + "\nname: x\nparameters: *i\n", ["alias bomb"]),
    "recursive alias": ("name: x\nparameters: &p {eps_ee: *p}\n", ["refers to the node that contains it"]),
    "syntax error": ("name: tiny\nparameters: [a, b\nsampler: x\n", ["not valid YAML", "line 3"]),
    "tab indentation": ("name: tiny\nparameters:\n\teps_ee: 1\n", ["not valid YAML", "line 3"]),
    "python tag": ("name: !!python/object/apply:os.system ['echo hi']\n", ["not valid YAML"]),
    "empty card": ("", ["expected a mapping"]),
    "a list": ("- name\n- tiny\n", ["expected a mapping"]),
    "a scalar": ("just words\n", ["expected a mapping"]),
    "NUL byte": ("name: ti\x00ny\n", ["not valid YAML"]),
    "long bad value": ("name: tiny\nsampler: {walkers: '" + "w" * 100_000 + "'}\n", ["sampler.walkers"]),
    "deep nesting": ("name: " + "[" * 5000 + "]" * 5000 + "\n", ["card.yaml"]),
}


@pytest.mark.parametrize("case", list(BAD_CARDS))
def test_bad_card_is_one_clear_message(tmp_path, capsys, case):
    text, fragments = BAD_CARDS[case]
    path = write_card(tmp_path, text)
    started = time.process_time()        # CPU time: a guard against runaway parsing that
    assert cli("validate", path) == 2     # the load of a shared machine cannot trip
    assert time.process_time() - started < 10
    out = capsys.readouterr()
    message = out.err + out.out
    assert "Traceback" not in message
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message, (fragment, message[:2000])
    longest = max(len(line) for line in message.splitlines())
    assert longest < MAX_MESSAGE_CHARS + 200  # values are shortened, never printed in full


def test_duplicate_parameter_is_not_silently_a_different_prior(tmp_path):
    """The reported case: th12 given twice, the second without unit, used to become a
    radian prior silently; now the card is refused, naming both lines."""
    text = ("name: tiny\nparameters:\n  th12: {prior: uniform, min: 30, max: 36, unit: deg}\n"
            "  th12: {prior: uniform, min: 30, max: 36}\n")
    with pytest.raises(ConfigError, match="line 4: duplicate key 'th12' .first given on line 3"):
        load_config(write_card(tmp_path, text), validate=False)


def test_merge_keys_and_plain_aliases_are_fine(tmp_path):
    text = ("name: tiny\nmodel: plugins:DiagonalNSIModel\nparameters:\n"
            "  eps_ee: &flat {prior: uniform, min: -2, max: 2}\n  eps_mumu: *flat\n"
            "likelihoods: {plugins:GaussianLikelihood: {}}\n"
            "sampler:\n  <<: {walkers: 8, steps: 12, burn_in: 2}\n  walkers: 10\n")
    config = load_config(write_card(tmp_path, text))
    assert config.sampler["walkers"] == 10 and config.parameters["eps_mumu"]["max"] == 2


def test_card_over_one_megabyte_is_refused_before_parsing(tmp_path, capsys):
    path = write_card(tmp_path, CARD_TEXT + "description: '" + "d" * 2_000_000 + "'\n")
    started = time.process_time()
    assert cli("validate", path) == 2
    assert time.process_time() - started < 2
    out = capsys.readouterr()
    assert "larger than 1000 kB" in out.err + out.out


@pytest.mark.parametrize("encoding", ["latin-1", "utf-16"])
def test_card_not_utf8_names_the_file(tmp_path, capsys, encoding):
    path = write_card(tmp_path, ("name: tiny\ndescription: Müller fit\n").encode(encoding))
    assert cli("validate", path) == 2
    out = capsys.readouterr()
    assert f"{path}: run card is not UTF-8 text" in out.err + out.out


@pytest.mark.parametrize("kind", ["missing", "folder"])
def test_card_path_that_is_not_a_file(tmp_path, capsys, kind):
    path = tmp_path / "card.yaml"
    if kind == "folder":
        path.mkdir()
    assert cli("run", path, "--output", tmp_path / "out") == 2
    assert_one_clear_error(capsys, str(path), "not found")
    assert not (tmp_path / "out").exists()


def test_random_bytes_card(tmp_path, capsys):
    path = write_card(tmp_path, np.random.default_rng(1).bytes(3000))
    assert cli("run", path, "--output", tmp_path / "out") == 2
    assert_one_clear_error(capsys, str(path))
    assert not (tmp_path / "out").exists()


# --- 2. the CLI error boundary ---------------------------------------------------------------
@pytest.mark.parametrize("cores", ["0", "-2", "two"])
def test_cores_must_be_positive(tmp_path, capsys, cores):
    path = write_card(tmp_path, CARD_TEXT)
    with pytest.raises(SystemExit) as stop:
        cli("run", path, "--cores", cores, "--output", tmp_path / "out")
    assert stop.value.code == 2
    assert "--cores: expected a whole number >= 1" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("cores", [0, -1, 1.5, True])
def test_sampler_refuses_a_bad_number_of_cores(tmp_path, cores):
    """The library path (globalfit.run, region ensembles) refuses what --cores refuses,
    before it touches the run folder."""
    from globalfit.posterior import build_posterior
    from globalfit.samplers.emcee_sampler import run_emcee

    config = load_config(CARD)
    with pytest.raises(ValueError, match="cores: expected a whole number >= 1"):
        run_emcee(build_posterior(config), config, tmp_path / "out", cores=cores)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("error, fragments", [
    (OSError(28, "No space left on device", "/data/run/chain.h5"),
     ["/data/run/chain.h5: No space left on device", "free some space"]),
    (PermissionError(13, "Permission denied", "/data/run"), ["/data/run", "permissions"]),
    (KeyError("mcmc"), ["missing key 'mcmc'"]),
    (yaml.YAMLError("mapping values are not allowed here"), ["not valid YAML"]),
    (RunLockError("run: is being written by someone"), ["is being written"]),
])
def test_expected_failures_are_one_line_exit_2(monkeypatch, capsys, error, fragments):
    from globalfit.cli import table_command

    def fail(args):
        raise error

    monkeypatch.setattr(table_command, "main", fail)
    assert cli("table", "somewhere") == 2
    err = assert_one_clear_error(capsys, *fragments)
    assert len(err.strip().splitlines()) == 1


def test_unexpected_exception_writes_a_traceback_log(monkeypatch, capsys):
    from globalfit.cli import table_command

    def bug(args):
        raise ZeroDivisionError("a bug deep inside")

    monkeypatch.setattr(table_command, "main", bug)
    monkeypatch.delenv("GLOBALFIT_TRACEBACK", raising=False)
    assert cli("table", "somewhere") == 1
    err = capsys.readouterr().err
    assert "internal error: ZeroDivisionError: a bug deep inside" in err
    log = Path(err.split("the traceback is in ")[1].split()[0])
    text = log.read_text()
    assert "Traceback (most recent call last)" in text and "def bug" not in err
    assert "ZeroDivisionError: a bug deep inside" in text
    log.unlink()


# --- 3. damaged run folders, for each reading command ----------------------------------------
@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A complete tiny run (12 steps), made once; tests damage copies of it."""
    from globalfit import sampling

    folder = tmp_path_factory.mktemp("finished")
    card = write_card(folder, CARD_TEXT)
    original = sampling.write_results
    sampling.write_results = lambda run_dir, report=None: None
    try:
        assert cli("run", card, "--output", folder / "run", "--no-progress") == 0
    finally:
        sampling.write_results = original
    return folder / "run"


def truncate(path: Path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def random_bytes(path: Path):
    path.write_bytes(np.random.default_rng(2).bytes(path.stat().st_size))


def empty(path: Path):
    path.write_bytes(b"")


def no_mcmc_group(path: Path):
    with h5py.File(path, "a") as handle:
        handle.move("mcmc", "renamed")


def more_steps_than_stored(path: Path):
    with h5py.File(path, "a") as handle:
        handle["mcmc"].attrs["iteration"] = 10_000


DAMAGES = {
    "truncated chain.h5": ("chain.h5", truncate, "is truncated"),
    "random bytes chain.h5": ("chain.h5", random_bytes, "is not an HDF5 file"),
    "empty chain.h5": ("chain.h5", empty, "is empty"),
    "no mcmc group": ("chain.h5", no_mcmc_group, "has no 'mcmc' group"),
    "step count beyond the data": ("chain.h5", more_steps_than_stored, "records 10000 steps"),
    "corrupt config.yaml": ("config.yaml", lambda p: p.write_text("name: [unclosed\n"), "not valid YAML"),
    "config.yaml not a card": ("config.yaml", lambda p: p.write_text("- a list\n"), "config.yaml"),
}


@pytest.mark.parametrize("command", COMMANDS_READING)
@pytest.mark.parametrize("damage", list(DAMAGES))
def test_damaged_run_folder(finished_run, tmp_path, capsys, command, damage):
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    name, spoil, fragment = DAMAGES[damage]
    spoil(run / name)
    before = digest(run)
    argv = {"compare": ("compare", run, run), "export": ("export", run, "--output", tmp_path / "x"),
            "resume": ("resume", run, "--steps", 20, "--no-progress")}.get(command, (command, run))
    assert cli(*argv) == 2
    assert_one_clear_error(capsys, str(run / name), fragment)
    assert digest(run) == before  # nothing written, nothing lost


def test_damaged_json_records_name_their_file(finished_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    (run / "provenance.json").write_text("{not json")
    assert cli("table", run) == 2
    assert_one_clear_error(capsys, str(run / "provenance.json"), "not valid JSON")
    (run / "provenance.json").unlink()
    (run / "diagnostics.json").write_text("[1, 2")
    assert cli("resume", run, "--steps", 14, "--no-progress") == 2
    assert_one_clear_error(capsys, str(run / "diagnostics.json"), "damaged")


@pytest.mark.parametrize("damage", ["random bytes", "no evidence in it"])
def test_damaged_nested_evidence_in_compare(finished_run, tmp_path, capsys, damage):
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    (run / "chain.h5").unlink()
    evidence = run / "nested_all.h5"
    if damage == "random bytes":
        evidence.write_bytes(np.random.default_rng(4).bytes(4000))
    else:
        with h5py.File(evidence, "w") as handle:
            handle.create_dataset("samples", data=np.zeros((3, 2)))
    assert cli("compare", run, run) == 2
    assert_one_clear_error(capsys, str(evidence), "not an HDF5 file" if damage == "random bytes"
                           else "not a complete nested-sampling result")


def test_check_chain_accepts_the_intact_chain(finished_run):
    assert check_chain(finished_run / "chain.h5") == 12


@pytest.mark.parametrize("command", ["table", "plot", "export", "compare"])
def test_run_without_chain_is_refused(finished_run, tmp_path, capsys, command):
    run = tmp_path / "run"
    shutil.copytree(finished_run, run)
    (run / "chain.h5").unlink()
    argv = ("compare", run, finished_run) if command == "compare" else (command, run)
    assert cli(*argv) == 2
    assert_one_clear_error(capsys, "chain.h5 not found")


# --- 4. one writer per run folder ------------------------------------------------------------
def start_background_run(card: Path, output: Path, *extra) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(TESTS.parent), str(TESTS), os.environ.get("PYTHONPATH", "")]))
    return subprocess.Popen([sys.executable, "-m", "globalfit.cli", "run", str(card),
                             "--output", str(output), "--no-progress", *map(str, extra)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_two_runs_into_one_folder(tmp_path, capsys):
    """The reported data loss: the second writer is refused at once, the first finishes,
    and its chain holds exactly its own steps."""
    gate = tmp_path / "gate"
    gate.write_text("the first run waits while this file exists")
    gated = card_with(likelihoods={"hostile_plugins:GatedLikelihood": {"gate": str(gate)}},
                      sampler={"walkers": 8, "steps": 30, "burn_in": 2, "seed": 5})
    card = write_card(tmp_path, gated)
    output = tmp_path / "shared"
    first = start_background_run(card, output)
    try:
        assert wait_for(lambda: (output / LOCK_FILE).exists()), first.communicate()
        for argv in (("run", card, "--output", output, "--force", "--seed", 9),
                     ("resume", output, "--steps", 300)):
            assert cli(*argv, "--no-progress") == 2
            assert_one_clear_error(capsys, str(output), "being written", f"process {first.pid}")
    finally:
        gate.unlink()
        out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert check_chain(output / "chain.h5") == 30
    record = json.loads((output / "provenance.json").read_text())
    assert record["seed"] == 5 and [s["command"] for s in record["sessions"]] == ["run"]
    assert yaml.safe_load((output / "config.yaml").read_text())["sampler"]["seed"] == 5
    assert not (output / LOCK_FILE).exists()


def test_lock_names_its_owner_and_refuses_a_second_holder(tmp_path):
    with RunLock(tmp_path / "run", "globalfit run") as lock:
        assert lock.created
        owner = json.loads((tmp_path / "run" / LOCK_FILE).read_text())
        assert owner["pid"] == os.getpid() and owner["command"] == "globalfit run"
        code = ("import sys; from globalfit.runlock import RunLock\n"
                f"RunLock({str(tmp_path / 'run')!r}).acquire()")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env=dict(os.environ, PYTHONPATH=str(TESTS.parent)))
        assert done.returncode != 0
        assert f"is being written by `globalfit run` (process {os.getpid()}" in done.stderr
    assert not (tmp_path / "run" / LOCK_FILE).exists()


def test_stale_lock_of_a_killed_run_is_named_and_taken_over(tmp_path, capsys):
    card = write_card(tmp_path, CARD_TEXT)
    output = tmp_path / "out"
    output.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    stale = {"pid": int(dead), "host": "vm", "command": "globalfit run", "started": "earlier"}
    (output / LOCK_FILE).write_text(json.dumps(stale))
    assert cli("run", card, "--output", output, "--no-progress") == 0
    err = capsys.readouterr().err
    assert f"was left by `globalfit run` (process {dead}" in err and "taking it over" in err
    assert check_chain(output / "chain.h5") == 12 and not (output / LOCK_FILE).exists()


def test_killed_run_resumes_through_its_stale_lock(tmp_path, capsys):
    card = write_card(tmp_path, card_with(
        likelihoods={"plugins:InterruptingGaussianLikelihood": {
            "interrupt_after": 8 * 6 + 3, "interrupt_signal": "SIGKILL"}}))
    output = tmp_path / "out"
    killed = start_background_run(card, output)
    killed.communicate(timeout=120)
    assert killed.returncode == -9 and (output / LOCK_FILE).exists()
    assert check_chain(output / "chain.h5") < 12  # what the last checkpoint saved
    config = yaml.safe_load((output / "config.yaml").read_text())
    config["likelihoods"] = {"plugins:GaussianLikelihood": {}}
    (output / "config.yaml").write_text(yaml.safe_dump(config))
    assert cli("resume", output, "--no-progress") == 0
    assert "taking it over" in capsys.readouterr().err
    assert check_chain(output / "chain.h5") == 12


# --- 5. failed starts leave nothing behind; resume of a run with no saved step --------------
def test_failed_start_cleans_up_and_can_be_rerun(tmp_path, capsys):
    card = write_card(tmp_path, card_with(
        likelihoods={"hostile_plugins:AlwaysRaisingLikelihood": {}}))
    output = tmp_path / "new" / "run"
    assert cli("run", card, "--output", output, "--no-progress") == 2
    assert_one_clear_error(capsys, "no starting point", "RuntimeError: this plug-in cannot")
    assert not output.exists()
    assert cli("run", card, "--output", output, "--no-progress") == 2  # not "resume it"
    assert "resume" not in capsys.readouterr().err
    existing = tmp_path / "existing"
    existing.mkdir()
    assert cli("run", card, "--output", existing, "--no-progress") == 2
    assert existing.is_dir() and list(existing.iterdir()) == []


@pytest.mark.parametrize("chain", ["absent", "no step"])
def test_resume_of_a_run_without_saved_step_says_so_and_starts(finished_run, tmp_path, capsys,
                                                               chain):
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(finished_run / "config.yaml", run)
    if chain == "no step":
        with h5py.File(run / "chain.h5", "w"):
            pass
    assert cli("resume", run, "--no-progress") == 0
    out = capsys.readouterr().out
    assert "before its first step was saved); starting it from step 0 to 12" in out
    assert check_chain(run / "chain.h5") == 12
    reference = h5py.File(finished_run / "chain.h5", "r", locking=False)
    with reference, h5py.File(run / "chain.h5", "r", locking=False) as resumed:
        np.testing.assert_array_equal(reference["mcmc/chain"][:12], resumed["mcmc/chain"][:12])


def test_resume_of_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert cli("resume", tmp_path, "--no-progress") == 2
    assert_one_clear_error(capsys, "not a run folder (no config.yaml)")


# --- 6. unwritable and full output folders ---------------------------------------------------
def test_output_through_a_file_is_refused_before_data_load(tmp_path, capsys):
    from hostile_plugins import DataLoadingLikelihood

    card = write_card(tmp_path, card_with(likelihoods={"hostile_plugins:DataLoadingLikelihood": {}}))
    blocker = tmp_path / "a_file"
    blocker.write_text("keep me")
    built = DataLoadingLikelihood.built
    assert cli("run", card, "--output", blocker / "run") == 2
    assert_one_clear_error(capsys, str(blocker), "not a folder")
    assert DataLoadingLikelihood.built == built and blocker.read_text() == "keep me"


@pytest.fixture
def read_only_dir(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("read-only folder needs a tmpfs mount as root here (not permitted)")
    yield folder
    subprocess.run(["umount", str(folder)], check=False)


def test_read_only_output_is_refused_before_data_load(tmp_path, capsys, read_only_dir):
    from hostile_plugins import DataLoadingLikelihood

    card = write_card(tmp_path, card_with(likelihoods={"hostile_plugins:DataLoadingLikelihood": {}}))
    built = DataLoadingLikelihood.built
    assert cli("run", card, "--output", read_only_dir / "run") == 2
    assert_one_clear_error(capsys, str(read_only_dir), "cannot write")
    assert DataLoadingLikelihood.built == built


@pytest.fixture
def small_tmpfs(tmp_path):
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a small tmpfs needs root and the mount command")
    folder = tmp_path / "small"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)],
                      capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs is not permitted here")
    yield folder
    subprocess.run(["umount", str(folder)], check=False)


def test_full_output_folder_is_refused_before_the_start(tmp_path, capsys, small_tmpfs):
    card = write_card(tmp_path, CARD_TEXT)
    assert cli("run", card, "--output", small_tmpfs / "run", "--no-progress") == 2
    assert_one_clear_error(capsys, "bytes free", "choose another --output")
    assert list(small_tmpfs.iterdir()) == []


def test_check_output_writable_free_space(tmp_path):
    check_output_writable(tmp_path / "new" / "run", min_free_bytes=1)
    with pytest.raises(OSError, match="bytes free"):
        check_output_writable(tmp_path / "run", min_free_bytes=2**62)
    assert list(tmp_path.iterdir()) == []  # the probe leaves nothing behind


def test_file_size_limit_is_refused_before_the_start(tmp_path):
    """Without root: a ``ulimit -f`` (RLIMIT_FSIZE) too small for a chain is found before
    any data are loaded (HDF5 crashes the process on a write that fails mid-file)."""
    card = write_card(tmp_path, CARD_TEXT)
    output = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS.parent), str(TESTS)]))

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))

    done = subprocess.run([sys.executable, "-m", "globalfit.cli", "run", str(card), "--output",
                           str(output), "--no-progress"], env=env, capture_output=True,
                          text=True, preexec_fn=limit, timeout=300)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "the file size limit (ulimit -f) is 60000 bytes" in done.stderr
    assert not output.exists()


def test_disk_filling_up_during_the_run_stops_cleanly_and_resumes(tmp_path, capsys,
                                                                  monkeypatch):
    """The disk fills up before step 7: the run stops with a message (exit 2), the chain
    holds its 6 steps intact, and once there is room `resume` completes it to the same
    chain as an uninterrupted run."""
    from globalfit import runlock
    from globalfit.samplers.emcee_sampler import ChainBackend

    monkeypatch.setattr(ChainBackend, "checkpoint_steps", 1)  # a checkpoint per step
    card = write_card(tmp_path, CARD_TEXT)
    output = tmp_path / "out"
    real_free = runlock.free_bytes
    calls = {"n": 0}

    def filling_up(folder):
        if Path(folder) == output:
            calls["n"] += 1
            if calls["n"] > 6:
                return 1000
        return real_free(folder)

    monkeypatch.setattr(runlock, "free_bytes", filling_up)
    assert cli("run", card, "--output", output, "--no-progress") == 2
    assert_one_clear_error(capsys, "only 1000 bytes free", "stopped before step 7",
                           "6 steps are saved", f"globalfit resume {output}")
    assert check_chain(output / "chain.h5") == 6
    monkeypatch.setattr(runlock, "free_bytes", real_free)
    assert cli("resume", output, "--no-progress") == 0
    assert cli("run", card, "--output", tmp_path / "whole", "--no-progress") == 0
    with h5py.File(output / "chain.h5", "r", locking=False) as a, \
            h5py.File(tmp_path / "whole" / "chain.h5", "r", locking=False) as b:
        np.testing.assert_array_equal(a["mcmc/chain"][:12], b["mcmc/chain"][:12])


# --- 7. faulty plug-ins ----------------------------------------------------------------------
@pytest.mark.parametrize("error", ["RuntimeError", "KeyError", "TypeError", "AttributeError",
                                   "IndexError"])
def test_plugin_exception_is_contained_and_counted(tmp_path, capsys, error):
    card = write_card(tmp_path, card_with(likelihoods={"hostile_plugins:RaisingLikelihood": {
        "raise_above": 0.6, "error": error}}))
    output = tmp_path / "out"
    assert cli("run", card, "--output", output, "--no-progress") == 0
    diagnostics = json.loads((output / "diagnostics.json").read_text())
    counts = diagnostics["failure_counts"]
    assert sum(counts.values()) > 0 and all(key.startswith(f"raising: {error}") for key in counts)
    assert f"{error}" in diagnostics["first_failure_traceback"]
    assert "Traceback (most recent call last)" in diagnostics["first_failure_traceback"]
    assert "hostile_plugins.py" in diagnostics["first_failure_traceback"]
    chain = h5py.File(output / "chain.h5", "r", locking=False)["mcmc/chain"][:]
    assert np.all(chain[..., 0] <= 0.6)  # a failed point is never accepted


def test_plugin_returning_none_is_contained(tmp_path):
    card = write_card(tmp_path, card_with(likelihoods={"hostile_plugins:WrongTypeLikelihood": {}}))
    assert cli("run", card, "--output", tmp_path / "out", "--no-progress") == 0
    counts = json.loads((tmp_path / "out" / "diagnostics.json").read_text())["failure_counts"]
    assert any(key.startswith("wrong_type: TypeError") for key in counts)


def test_plugin_exception_counted_across_worker_processes(tmp_path):
    card = write_card(tmp_path, card_with(likelihoods={"hostile_plugins:RaisingLikelihood": {
        "raise_above": 0.6}}))
    assert cli("run", card, "--output", tmp_path / "out", "--cores", 2, "--no-progress") == 0
    diagnostics = json.loads((tmp_path / "out" / "diagnostics.json").read_text())
    assert sum(diagnostics["failure_counts"].values()) > 0
    assert "RuntimeError" in diagnostics["first_failure_traceback"]


def test_plugin_constructor_error_names_the_likelihood(tmp_path, capsys):
    card = write_card(tmp_path, card_with(
        likelihoods={"hostile_plugins:BrokenConstructorLikelihood": {}}))
    assert cli("run", card, "--output", tmp_path / "out") == 2
    assert_one_clear_error(capsys, "likelihoods.hostile_plugins:BrokenConstructorLikelihood",
                           "RuntimeError: could not initialise the detector table")
    assert not (tmp_path / "out").exists()


def test_plugin_module_failing_at_import(tmp_path, capsys, monkeypatch):
    (tmp_path / "exploding_plugin.py").write_text("raise RuntimeError('boom at import')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    card = write_card(tmp_path, card_with(likelihoods={"exploding_plugin:Anything": {}}))
    assert cli("validate", card) == 2
    out = capsys.readouterr()
    assert "cannot import 'exploding_plugin'" in out.err + out.out
    assert "boom at import" in out.err + out.out


# --- 8. damaged data files -------------------------------------------------------------------
DATA_DAMAGES = {
    "NaN value": ("1 2 3\n4 nan 6\n", "line 2, column 2: nan is not a finite number"),
    "inf value": ("# header\n1 2 3\n4 5 inf\n", "line 3, column 3: inf is not a finite number"),
    "text in a number column": ("1 2 3\n4 five 6\n", "line 2, column 2: 'five' is not a number"),
    "truncated last row": ("1 2 3\n4 5 6\n7 8\n", "line 3 has 2 values, expected 3"),
    "empty file": ("# only a comment\n", "0 data rows"),
}


@pytest.mark.parametrize("damage", list(DATA_DAMAGES))
def test_damaged_data_file_names_file_and_line(tmp_path, damage):
    text, fragment = DATA_DAMAGES[damage]
    path = tmp_path / "table.dat"
    path.write_text(text)
    with pytest.raises(DataFileError) as caught:
        read_table(path, columns=3)
    assert str(path) in str(caught.value) and fragment in str(caught.value)
    assert "get it again from its source" in str(caught.value)


def test_read_table_matches_numpy_on_a_clean_file(tmp_path):
    table = np.random.default_rng(3).normal(size=(20, 4))
    path = tmp_path / "clean.txt"
    np.savetxt(path, table, header="a b c d", delimiter=",")
    np.testing.assert_array_equal(read_table(path, columns=4, delimiter=","),
                                  np.loadtxt(path, delimiter=","))


def test_check_frame_names_row_and_column(tmp_path):
    import pandas as pd

    table = pd.DataFrame({"L": [180.0, np.nan], "N_reactors": [2, 3]})
    with pytest.raises(DataFileError, match=r"Reactors.csv: data row 2, column 'L'"):
        check_frame(table, Path("Reactors.csv"), ("L", "N_reactors"))


def test_kamland_release_with_nan_row_names_the_file(shared_data, tmp_path, capsys):
    release = tmp_path / "kamland"
    shutil.copytree(shared_data / "kamland", release)
    spectrum = next(release.glob("EnergySpectrum*.dat"))
    lines = spectrum.read_text().splitlines()
    row = next(i for i, line in enumerate(lines) if line.strip() and not line.startswith("#"))
    fields = lines[row + 4].split()
    fields[1] = "nan"
    lines[row + 4] = " ".join(fields)
    spectrum.write_text("\n".join(lines) + "\n")
    from likelihoods.kamland import KamLANDSpectrum

    with pytest.raises(DataFileError, match=f"line {row + 5}, column 2: nan is not a finite"):
        KamLANDSpectrum(release)
    spectrum.write_text("\n".join(lines[: row + 3] + [" ".join(lines[row + 3].split()[:5])]))
    with pytest.raises(DataFileError, match=f"line {row + 4} has 5 values, expected 9"):
        KamLANDSpectrum(release)


# --- 9. property-based fuzzing of the card loader --------------------------------------------
YAML_ALPHABET = st.sampled_from(list("abc:-{}[],&*!|>'\"# \n\t0.1eE+~?%@`\\") + ["\x00", "é"])


@settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(YAML_ALPHABET, max_size=200))
def test_fuzz_yaml_text_always_parses_or_gives_a_message(text):
    try:
        load_yaml_text(text, "fuzz.yaml")
    except YamlFileError as error:
        assert str(error).startswith("fuzz.yaml") and len(str(error)) < 1000


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                    st.text(max_size=30))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)
TOP_KEYS = st.sampled_from(["name", "description", "model", "parameters", "likelihoods",
                            "sampler", "regions", "output", "scan", "nmae"])


@settings(max_examples=120, deadline=4000, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(TOP_KEYS, VALUES, max_size=6))
def test_fuzz_structured_cards_validate_or_give_a_message(card):
    """Random cards through the full validation: a RunConfig or a ConfigError, never another
    exception, and every message line bounded."""
    text = yaml.safe_dump(card)
    try:
        load_config(yaml.safe_load(text))
    except ConfigError as error:
        assert error.errors
        assert max(len(line) for line in str(error).splitlines()) < MAX_MESSAGE_CHARS + 100


@settings(max_examples=80, deadline=4000, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.data())
def test_fuzz_mutated_card_files(tmp_path, data):
    """Byte-level mutations of a valid card file: a config or one ConfigError naming it."""
    raw = bytearray(CARD_TEXT.encode())
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["flip", "insert", "delete"]))
        byte = data.draw(st.integers(0, 255))
        if action == "flip":
            raw[position] = byte
        elif action == "insert":
            raw.insert(position, byte)
        else:
            del raw[position]
    path = tmp_path / "mutated.yaml"
    path.write_bytes(bytes(raw))
    try:
        load_config(path)
    except ConfigError as error:
        assert str(path) in str(error)
