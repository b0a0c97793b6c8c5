"""The Python API (globalfit.run / load / posterior / profile, Run) on the test plugins'
Gaussian posterior, and every code block of docs/api.md."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.figure import Figure
from plugins import gaussian_card

import globalfit
from globalfit import config as config_module
from globalfit.cli import main
from globalfit.config import ConfigError, load_config, merge_card
from globalfit.posterior import build_posterior
from globalfit.samplers.emcee_sampler import run_emcee

ROOT = Path(__file__).resolve().parents[1]
CARD = gaussian_card("tiny", {"walkers": 8, "steps": 20, "burn_in": 5, "seed": 11}, th12=True)
"""Likelihood: (eps_ee, eps_mumu) ~ N((0.3, -0.2), sigma (0.1, 0.2), correlation 0.5)."""


def test_run_and_load_give_the_same_run(tmp_path):
    run = globalfit.run(CARD, output=tmp_path / "tiny", sampler={"steps": 40})
    assert isinstance(run, globalfit.Run) and run.kind == "emcee" and run.complete
    again = globalfit.load(tmp_path / "tiny")
    pd.testing.assert_frame_equal(run.chain, again.chain)
    pd.testing.assert_frame_equal(run.summary(), again.summary())
    assert list(run.chain.columns[:3]) == ["th12", "eps_ee", "eps_mumu"]
    assert len(run.chain) == (40 - 5) * 8
    # the chi^2 blobs are the likelihood's: total = the one likelihood's chi^2
    np.testing.assert_allclose(run.chain["chi2.total"], run.chain["chi2.gauss"])
    assert yaml.safe_load((tmp_path / "tiny" / "config.yaml").read_text())["sampler"]["steps"] == 40
    figure = run.corner()
    assert isinstance(figure, Figure) and len(figure.axes) == 9
    copy = run.save(tmp_path / "copy")
    assert {"summary.csv", "summary.md", "corner.png", "chain.h5"} <= {p.name for p in copy.iterdir()}
    with pytest.raises(FileExistsError, match="exists; choose a new folder"):
        run.save(tmp_path / "copy")


def test_a_run_emcee_folder_is_a_loadable_run(tmp_path):
    """run_emcee alone (no command line) leaves a folder globalfit.load reads."""
    config = load_config(CARD)
    posterior = build_posterior(config)
    result = run_emcee(posterior, config, tmp_path, progress=False)
    run = globalfit.load(tmp_path, keep_stranded=True)
    assert run.kind == "emcee" and result.steps == 20
    assert run.chain.shape[0] == (20 - 5) * 8


def test_overrides_merge_block_by_block():
    card = merge_card(CARD, {"sampler": {"steps": 6}, "likelihoods": {"plugins:GaussianLikelihood": None},
                             "name": "other"})
    assert card["sampler"] == {"walkers": 8, "steps": 6, "burn_in": 3, "seed": 11}  # burn-in capped
    assert card["likelihoods"] == {} and card["name"] == "other"
    assert CARD["sampler"]["steps"] == 20 and CARD["likelihoods"]  # the card is not changed
    with pytest.raises(ConfigError, match="sampler.walkers"):
        globalfit.posterior(CARD, sampler={"walkers": 2})


def test_posterior_reports_each_likelihoods_chi2():
    post = globalfit.posterior(CARD)
    theta = np.array([p.to_internal(v) for p, v in zip(post.parameters, (33.41, 0.4, -0.2))])
    values = dict(zip(["ln_posterior", *post.blob_names], post(theta)))
    # chi^2 of the correlated Gaussian at (0.4, -0.2): d = (1, 0) sigma, rho = 0.5
    assert values["chi2.gauss"] == pytest.approx(1.0 / (1 - 0.5**2), rel=1e-12)
    assert values["chi2.total"] == values["chi2.gauss"]
    assert values["ln_posterior"] == pytest.approx(post.log_prior(theta) - values["chi2.total"] / 2)
    log_like, chi2 = post.log_likelihood(theta)
    assert chi2 == {"gauss": values["chi2.gauss"]} and log_like == -values["chi2.gauss"] / 2


def test_profile_of_a_card_needs_no_sampling():
    """The profile of one coordinate of a correlated Gaussian is that coordinate's own
    Gaussian: eps_ee = 0.3 +- 0.1, 90% CL range 0.3 -+ 1.6449 x 0.1."""
    table = globalfit.profile(CARD, parameters=["eps_ee"], n_grid=41, seed=1)
    row = table[table["level"] == "90%"].iloc[0]
    assert row["best_fit"] == pytest.approx(0.3, abs=1e-3)
    assert row["low"] == pytest.approx(0.3 - 0.164485, abs=2e-3)
    assert row["high"] == pytest.approx(0.3 + 0.164485, abs=2e-3)


def test_each_command_validates_the_card_and_builds_the_model_once(tmp_path, monkeypatch):
    import plugins

    counts = Counter()
    check_semantics, model_init = config_module.check_semantics, plugins.DiagonalNSIModel.__init__

    def counting_check(config):
        counts["validations"] += 1
        return check_semantics(config)

    def counting_init(self, *args, **kwargs):
        counts["models"] += 1
        model_init(self, *args, **kwargs)

    monkeypatch.setattr(config_module, "check_semantics", counting_check)
    monkeypatch.setattr(plugins.DiagonalNSIModel, "__init__", counting_init)
    card = tmp_path / "tiny.yaml"
    card.write_text(yaml.safe_dump(CARD))
    for argv in (["validate", card], ["run", card, "--output", tmp_path / "r", "--no-progress"],
                 ["resume", tmp_path / "r", "--steps", 25, "--no-progress"]):
        counts.clear()
        assert main([str(a) for a in argv]) == 0
        assert counts == {"validations": 1, "models": 1}, argv
    counts.clear()
    globalfit.run(card, output=tmp_path / "api", sampler={"steps": 10})
    assert counts == {"validations": 1, "models": 1}


def test_load_explains_what_is_not_a_run(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a run folder"):
        globalfit.load(tmp_path)


# --- docs/api.md and README's Python API: every python block runs, in order, in one namespace -
def docs_blocks() -> list[str]:
    text = (ROOT / "docs" / "api.md").read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def readme_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Python API"):]
    section = section[: section.index("\n## ", 1)]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


@pytest.mark.parametrize("document, blocks", [("docs/api.md", docs_blocks()),
                                               ("README.md", readme_blocks())])
def test_documented_examples_run(document, blocks, tmp_path, monkeypatch):
    assert blocks
    monkeypatch.chdir(tmp_path)  # the examples write into out/ of the working directory
    (tmp_path / "configs").symlink_to(ROOT / "configs")
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, document, "exec"), namespace)  # noqa: S102
