"""`globalfit table CARD --profile` straight from a card (`globalfit.frequentist.profile_card`)
on the analytic test double: the profile of a bivariate normal in one parameter is its
marginal normal, so the 90 % CL range is mean -+ 1.645 sigma and 3 sigma is mean -+ 3 sigma."""
from __future__ import annotations

import io

import pandas as pd
import pytest
import yaml

from globalfit.cli import main
from globalfit.frequentist import profile_card

CARD = {"name": "gauss", "model": {"name": "plugins:DiagonalNSIModel"},
        "parameters": {"eps_ee": {"prior": "uniform", "min": -1, "max": 1},
                       "eps_mumu": {"prior": "uniform", "min": -1, "max": 1},
                       "mzp": {"value": 1.0, "unit": "GeV"}},
        "likelihoods": {"plugins:GaussianLikelihood": {}},
        "sampler": {"name": "emcee", "walkers": 8, "steps": 10, "burn_in": 2, "seed": 1}}
Z90 = 1.6448536269514722


def test_table_profile_on_a_card_needs_no_run(tmp_path, capsys):
    path = tmp_path / "card.yaml"
    path.write_text(yaml.safe_dump(CARD))
    assert main(["table", str(path), "--profile", "--parameters", "eps_ee", "--format", "csv",
                 "--grid", "21", "--starts", "3"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert table.columns.tolist() == ["parameter", "region", "level", "best_fit", "low", "high"]
    rows = table.set_index("level")
    assert rows.loc["90%", "best_fit"] == pytest.approx(0.3, abs=0.06)  # a grid point
    assert [rows.loc["90%", "low"], rows.loc["90%", "high"]] == pytest.approx(
        [0.3 - Z90 * 0.1, 0.3 + Z90 * 0.1], abs=1e-4)
    assert [rows.loc["3sigma", "low"], rows.loc["3sigma", "high"]] == pytest.approx(
        [0.3 - 0.3, 0.3 + 0.3], abs=1e-4)
    assert not list(tmp_path.glob("chains*"))  # nothing sampled, nothing written


def test_split_and_cores_give_the_same_rows():
    one = profile_card(CARD, split="eps_ee < 0.3", n_grid=13, n_starts=2)
    two = profile_card(CARD, split="eps_ee < 0.3", n_grid=13, n_starts=2, cores=2)
    pd.testing.assert_frame_equal(one, two)
    assert len(set(one["region"])) == 3  # the condition, its complement, their union
    union = one[(one.parameter == "eps_mumu") & (one.level == "90%")
                & (one.region.str.contains("+", regex=False))]
    ((low, high),) = zip(union["low"], union["high"])
    assert (low, high) == pytest.approx((-0.2 - Z90 * 0.2, -0.2 + Z90 * 0.2), abs=1e-4)


def test_outward_sweep_and_point_refinement_give_the_analytic_rows(tmp_path, capsys):
    """The cheap options for expensive likelihoods (``--sweep outward --refine points``): on a
    parabolic profile the interpolation in sqrt(Delta chi^2) between refined points is exact,
    so the rows agree with the analytic ones as root finding does; the split rows too."""
    path = tmp_path / "card.yaml"
    path.write_text(yaml.safe_dump(CARD))
    assert main(["table", str(path), "--profile", "--parameters", "eps_ee", "--format", "csv",
                 "--grid", "9", "--starts", "2", "--sweep", "outward", "--refine", "points"]) == 0
    rows = pd.read_csv(io.StringIO(capsys.readouterr().out)).set_index("level")
    assert [rows.loc["90%", "low"], rows.loc["90%", "high"]] == pytest.approx(
        [0.3 - Z90 * 0.1, 0.3 + Z90 * 0.1], abs=1e-4)
    assert [rows.loc["3sigma", "low"], rows.loc["3sigma", "high"]] == pytest.approx(
        [0.0, 0.6], abs=1e-4)
    split = profile_card(CARD, split="eps_ee < 0.3", parameters=["eps_mumu"], n_grid=9,
                         n_starts=2, sweep="outward", refine="points")
    union = split[(split.level == "90%") & split.region.str.contains("+", regex=False)]
    ((low, high),) = zip(union["low"], union["high"])
    assert (low, high) == pytest.approx((-0.2 - Z90 * 0.2, -0.2 + Z90 * 0.2), abs=1e-4)
    with pytest.raises(ValueError, match="refine"):
        profile_card(CARD, parameters=["eps_mumu"], n_grid=9, n_starts=2, refine="roots")


def test_range_profiles_only_the_zoomed_grid(tmp_path, capsys):
    """``--range LOW HIGH``: the grid spans the range (plus the best fit), so a 90 % range
    inside it comes out as on the full grid, and the 3 sigma range, which reaches past it
    (0.0, 0.6) with no grid point outside, ends at the range's ends; it needs exactly one
    parameter and --profile."""
    path = tmp_path / "card.yaml"
    path.write_text(yaml.safe_dump(CARD))
    assert main(["table", str(path), "--profile", "--parameters", "eps_ee", "--format", "csv",
                 "--grid", "11", "--starts", "2", "--range", "0.1", "0.5"]) == 0
    rows = pd.read_csv(io.StringIO(capsys.readouterr().out)).set_index("level")
    assert [rows.loc["90%", "low"], rows.loc["90%", "high"]] == pytest.approx(
        [0.3 - Z90 * 0.1, 0.3 + Z90 * 0.1], abs=1e-4)
    assert [rows.loc["3sigma", "low"], rows.loc["3sigma", "high"]] == pytest.approx([0.1, 0.5])
    with pytest.raises(ValueError, match="exactly one parameter"):
        profile_card(CARD, n_grid=5, n_starts=2, grid_range=(0.1, 0.5))
    with pytest.raises(ValueError, match="LOW < HIGH"):
        profile_card(CARD, parameters=["eps_ee"], n_grid=5, n_starts=2, grid_range=(0.5, 0.1))
    assert main(["table", str(path), "--range", "0.1", "0.5"]) == 2   # a usage error
    assert "--range" in capsys.readouterr().err
