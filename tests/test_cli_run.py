"""CLI: globalfit run / resume / validate / list on a tiny card with the test plugins."""
from __future__ import annotations

import json

import emcee
import numpy as np
import pytest
import yaml
from plugins import gaussian_card

import likelihoods
from globalfit import sampling
from globalfit.cli import main
from globalfit.cli.run_command import DEFAULT_CARD

CARD = gaussian_card(
    "tiny", {"walkers": 8, "steps": 20, "burn_in": 5, "seed": 11}, th12=True,
    description="Gaussian measurement of two electron NSI couplings (test plugins)",
    regions={"positive": "eps_ee > 0"})


@pytest.fixture
def card(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(CARD))
    return path


@pytest.fixture(autouse=True)
def quiet_results_layer(monkeypatch):
    """Keep the tests on this layer: the results/plots hooks are tested by their owners."""
    monkeypatch.setattr(sampling, "write_results", lambda run_dir, report=None: None)


def run_cli(*argv) -> int:
    return main([str(a) for a in argv])


def test_validate_ok_prints_parameters(card, capsys):
    assert run_cli("validate", card) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"OK: {card}")
    assert "free parameters (3):" in out and "th12                   gaussian 33.41 +- 0.75 deg" in out
    assert "fixed parameters (6):" in out and "dm21                   = 7.41e-05 eV2" in out
    assert "recorded per sample: chi2.gauss, chi2.total, derived.eps_ee_minus_mumu" in out


def test_validate_errors_exit_2(tmp_path, capsys):
    bad = dict(CARD, parameters={"eps_ee": {"prior": "unifrom", "min": 2, "max": 1}})
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    assert run_cli("validate", path) == 2
    err = capsys.readouterr().err
    assert "parameters.eps_ee.prior: unknown prior 'unifrom'; did you mean 'uniform'?" in err


def test_run_writes_the_run_folder(card, tmp_path, capsys):
    out_dir = tmp_path / "runs" / "tiny"
    assert run_cli("run", card, "--output", out_dir, "--no-progress") == 0
    assert {p.name for p in out_dir.iterdir()} >= {"config.yaml", "provenance.json", "chain.h5",
                                                  "diagnostics.json"}
    resolved = yaml.safe_load((out_dir / "config.yaml").read_text())
    assert resolved["sampler"]["seed"] == 11 and resolved["output"] == str(out_dir)
    assert resolved["parameters"]["dm31"] == {"value": 2.507e-3, "unit": "eV2",
                                              "latex": r"\Delta m^2_{31}"}
    record = json.loads((out_dir / "provenance.json").read_text())
    assert record["seed"] == 11 and record["status"] == "complete"
    assert record["parameter_names"] == ["th12", "eps_ee", "eps_mumu"]
    assert record["blob_names"] == ["chi2.gauss", "chi2.total", "derived.eps_ee_minus_mumu"]
    assert record["software"]["emcee"] == emcee.__version__
    assert record["inputs"]["likelihoods"]["gauss"]["class"] == "plugins:GaussianLikelihood"
    assert record["inputs"]["oscillation_defaults"]["sha256"]
    assert record["inputs"]["oscillation_kernels"] == {"constant_density": "numba", "layered_matter": "numpy"}
    assert record["software"]["numba"] != "not installed"
    assert record["sessions"][0]["steps_after"] == 20
    backend = emcee.backends.HDFBackend(str(out_dir / "chain.h5"), read_only=True)
    assert backend.get_chain().shape == (20, 8, 3)
    captured = capsys.readouterr()
    assert "mean acceptance fraction" in captured.out
    assert "converged: no (max split R-hat" in captured.out
    # 20 steps are far fewer than 50 autocorrelation times: the user is told what to do,
    # in one line
    warning = [line for line in captured.err.splitlines() if "has not converged" in line]
    assert len(warning) == 1 and warning[0].startswith("warning: chain of 20 steps")
    assert f"continue it with `globalfit resume {out_dir} --steps" in warning[0]
    assert warning[0].endswith("(ChainNotConvergedWarning)")


def test_run_refuses_to_overwrite_then_force(card, tmp_path, capsys):
    out_dir = tmp_path / "tiny"
    assert run_cli("run", card, "--output", out_dir, "--no-progress") == 0
    assert run_cli("run", card, "--output", out_dir, "--no-progress") == 2
    assert f"continue it with `globalfit resume {out_dir}`" in capsys.readouterr().err
    assert run_cli("run", card, "--output", out_dir, "--no-progress", "--force", "--seed", 3) == 0
    assert json.loads((out_dir / "provenance.json").read_text())["seed"] == 3
    stranger = tmp_path / "not_a_run"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("keep me")
    assert run_cli("run", card, "--output", stranger, "--force") == 2
    assert (stranger / "notes.txt").exists()


def test_resume_to_a_new_target_equals_a_longer_run(card, tmp_path):
    short, full = tmp_path / "short", tmp_path / "full"
    assert run_cli("run", card, "--output", short, "--no-progress") == 0
    assert run_cli("resume", short, "--steps", 35, "--no-progress") == 0
    assert run_cli("run", card, "--output", full, "--steps", 35, "--no-progress") == 0
    a = emcee.backends.HDFBackend(str(short / "chain.h5"), read_only=True)
    b = emcee.backends.HDFBackend(str(full / "chain.h5"), read_only=True)
    np.testing.assert_array_equal(a.get_chain(), b.get_chain())
    record = json.loads((short / "provenance.json").read_text())
    assert [s["command"] for s in record["sessions"]] == ["run", "resume"]
    assert yaml.safe_load((short / "config.yaml").read_text())["sampler"]["steps"] == 35
    assert run_cli("resume", short, "--no-progress") == 0  # nothing left to do


def test_resume_refuses_a_card_that_no_longer_matches(card, tmp_path, capsys):
    run_dir = tmp_path / "old"
    assert run_cli("run", card, "--output", run_dir, "--steps", 10, "--no-progress") == 0
    resolved = yaml.safe_load((run_dir / "config.yaml").read_text())
    resolved["parameters"]["gauss.norm"] = {"prior": "gaussian", "mean": 1.0, "sigma": 0.1}
    (run_dir / "config.yaml").write_text(yaml.safe_dump(resolved))  # a nuisance since removed
    assert run_cli("resume", run_dir, "--steps", 20) == 2
    err = capsys.readouterr().err
    assert "parameters.gauss.norm: no parameter 'gauss.norm' in this run" in err
    assert "no longer matches the installed models/likelihoods" in err


def test_ctrl_c_stops_with_exit_130_and_a_resume_hint(tmp_path, capsys):
    interrupted = dict(CARD, likelihoods={"plugins:InterruptingGaussianLikelihood":
                                          {"interrupt_after": 8 * 5}})
    path = tmp_path / "interrupted.yaml"
    path.write_text(yaml.safe_dump(interrupted))
    run_dir = tmp_path / "run"
    assert run_cli("run", path, "--output", run_dir, "--no-progress") == 130
    out = capsys.readouterr().out
    assert f"continue with `globalfit resume {run_dir}`" in out
    record = json.loads((run_dir / "provenance.json").read_text())
    assert record["status"] == "interrupted" and 0 < record["sessions"][0]["steps_after"] < 20


def test_run_with_two_cores(card, tmp_path):
    serial, pooled = tmp_path / "serial", tmp_path / "pool"
    assert run_cli("run", card, "--output", serial, "--no-progress") == 0
    assert run_cli("run", card, "--output", pooled, "--no-progress", "--cores", 2) == 0
    a = emcee.backends.HDFBackend(str(serial / "chain.h5"), read_only=True)
    b = emcee.backends.HDFBackend(str(pooled / "chain.h5"), read_only=True)
    np.testing.assert_array_equal(a.get_chain(), b.get_chain())


def test_all_fixed_card_validates_but_does_not_run(tmp_path, capsys):
    fixed = dict(CARD, parameters={"eps_ee": {"value": 0.3}, "eps_mumu": {"value": -0.2}})
    path = tmp_path / "fixed.yaml"
    path.write_text(yaml.safe_dump(fixed))
    assert run_cli("validate", path) == 0  # a point to evaluate (globalfit check)
    assert run_cli("run", path, "--output", tmp_path / "out") == 2
    assert "every parameter of" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_results_layer_files_are_reported(card, tmp_path, monkeypatch, capsys):
    monkeypatch.undo()  # the real write_results, with a corner plot that fails

    def corner_plot(run_dir):
        raise RuntimeError("no display")

    corner_plot.__module__ = "globalfit.plots"
    monkeypatch.setattr(sampling, "corner_plot", corner_plot)
    assert run_cli("run", card, "--output", tmp_path / "r", "--no-progress") == 0
    captured = capsys.readouterr()
    assert f"wrote {tmp_path / 'r' / 'summary.md'}" in captured.out
    assert "warning: globalfit.plots.corner_plot failed: RuntimeError: no display" in captured.err


def test_run_refuses_cards_for_other_samplers(tmp_path, capsys):
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(dict(CARD, sampler={"name": "profile", "points": 20})))
    assert run_cli("validate", path) == 0
    assert run_cli("run", path, "--output", tmp_path / "out") == 2
    assert "`globalfit run` samples with emcee or nested, but" in capsys.readouterr().err


def test_resume_of_a_folder_that_is_no_run(tmp_path, capsys):
    assert run_cli("resume", tmp_path) == 2
    assert "not a run folder" in capsys.readouterr().err


def test_list_shows_plugins_and_unavailable_modules(monkeypatch, capsys):
    monkeypatch.setitem(likelihoods.BUILTIN, "not_written", "likelihoods.not_written:Nothing")
    assert run_cli("list") == 0
    out = capsys.readouterr().out
    assert "not_written          unavailable (likelihoods.not_written:Nothing): " \
           "ModuleNotFoundError: No module named 'likelihoods.not_written'" in out
    assert "standard" in out and "Models (model.name in a run card):" in out


def test_default_card_exists_and_validates(capsys):
    assert DEFAULT_CARD.is_file()
    assert run_cli("validate", DEFAULT_CARD) == 0, capsys.readouterr().err


@pytest.mark.slow
def test_default_run_finds_the_lma_solution(tmp_path):
    """End to end on real data: `globalfit run` (default card, shortened) lands on LMA.

    Reference: NuFIT 5.2, theta_12 = 33.41 (+0.75 / -0.72) deg, Delta m^2_21 =
    7.41 (+0.21 / -0.20) e-5 eV^2 (global fit; solar + KamLAND alone sit within 1 sigma of it).
    Tolerance: 3 x those widths around the NuFIT values, for a 400-step chain.
    """
    out_dir = tmp_path / "default"
    assert run_cli("run", "--output", out_dir, "--steps", 400, "--cores", 2, "--no-progress") == 0
    backend = emcee.backends.HDFBackend(str(out_dir / "chain.h5"), read_only=True)
    samples = backend.get_chain(discard=150, flat=True)
    th12_deg, dm21 = np.degrees(np.median(samples[:, 0])), np.median(samples[:, 1])
    assert abs(th12_deg - 33.41) < 3 * 0.75
    assert abs(dm21 - 7.41e-5) < 3 * 0.21e-5


def test_cli_shows_each_warning_once_as_one_line(monkeypatch, capsys):
    import warnings as python_warnings

    from globalfit.cli import main, validate_command

    def noisy(args):
        for _ in range(3):
            python_warnings.warn("the chain has not converged", UserWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(validate_command, "main", noisy)
    assert main(["validate", "card.yaml"]) == 0
    assert capsys.readouterr().err == "warning: the chain has not converged (UserWarning)\n"


def test_help_lists_every_command(capsys):
    from globalfit.cli import COMMANDS

    with pytest.raises(SystemExit) as stop:
        main(["--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert all(command in out for command in COMMANDS)
