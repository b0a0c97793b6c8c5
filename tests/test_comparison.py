"""Model comparison numbers on analytic runs."""
import math

import numpy as np
import pytest

from globalfit.cli import main
from globalfit.comparison import (
    RunSummary,
    breakdown_table,
    comparison_table,
    jeffreys_wording,
    summarise_run,
)


def test_jeffreys_scale_edges():
    assert jeffreys_wording(0.5) == "inconclusive"
    assert jeffreys_wording(-2.0) == "weak"
    assert jeffreys_wording(3.0) == "moderate"
    assert jeffreys_wording(7.0) == "strong"
    assert jeffreys_wording(float("nan")) == "-"


def test_information_criteria_by_hand():
    a = RunSummary("a", n_free=2, chi2_min=10.0, best_fit={}, chi2_by_likelihood={"x": 4.0, "y": 6.0},
                   n_data=20, log_evidence=-7.0, log_evidence_err=0.1)
    b = RunSummary("b", n_free=4, chi2_min=7.0, best_fit={}, chi2_by_likelihood={"x": 4.5, "y": 2.5},
                   n_data=20, log_evidence=-8.0, log_evidence_err=0.1)
    table = comparison_table([a, b]).set_index("run")
    assert table.loc["a", "AIC"] == 14.0 and table.loc["b", "AIC"] == 15.0
    assert table.loc["a", "BIC"] == pytest.approx(10 + 2 * math.log(20))
    assert table.loc["b", "delta_chi2"] == 0.0 and table.loc["a", "delta_chi2"] == 3.0
    assert table.loc["b", "ln_B_vs_best"] == -1.0
    assert table.loc["b", "evidence_against"] == "weak"
    breakdown = breakdown_table([a, b])
    assert breakdown.loc["y", "b - a"] == -3.5


GAUSS_CARD = """
name: {name}
model: {{name: 'plugins:DiagonalNSIModel'}}
parameters:
  eps_ee: {{prior: uniform, min: -1.0, max: 1.0}}
  eps_mumu: {eps_mumu}
  mzp: {{value: 1.0, unit: GeV}}
likelihoods:
  'plugins:GaussianLikelihood': {{mean: [0.3, -0.2], sigma: [0.1, 0.2], correlation: 0.0}}
sampler: {{name: emcee, walkers: 8, steps: 30, burn_in: 10, seed: 4}}
"""


def _write_run(tmp_path, name, eps_mumu):
    run = tmp_path / name
    run.mkdir()
    (run / "config.yaml").write_text(GAUSS_CARD.format(name=name, eps_mumu=eps_mumu))
    return run


def test_nested_models_by_refit(tmp_path):
    """Fixing eps_mumu = 0 (0.2 from the measured -0.2, sigma 0.2) costs Delta chi^2 = 1."""
    free = _write_run(tmp_path, "free", "{prior: uniform, min: -1.0, max: 1.0}")
    fixed = _write_run(tmp_path, "fixed", "{value: 0.0}")
    summaries = [summarise_run(free), summarise_run(fixed)]
    assert summaries[0].chi2_min == pytest.approx(0.0, abs=1e-6)
    assert summaries[1].chi2_min == pytest.approx(1.0, abs=1e-5)
    assert summaries[1].best_fit["eps_ee"] == pytest.approx(0.3, abs=1e-3)
    assert np.isnan(summaries[0].log_evidence)
    assert main(["compare", str(free), str(fixed), "--format", "csv", "--output",
                 str(tmp_path / "cmp.csv")]) == 0
    assert "delta_chi2" in (tmp_path / "cmp.csv").read_text()
