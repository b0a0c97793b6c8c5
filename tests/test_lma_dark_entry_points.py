"""Every entry point to "LMA-Dark versus m_Z'" gives the same curve, counted from the same
reference (the Standard Model, nuisance parameters profiled):

* the card scan (``globalfit run configs/lmad_scan.yaml``, ``scan:`` block),
* ``globalfit scan lma-dark`` (its ``combined`` curve),
* ``globalfit check CARD --scan mzp`` (a point with x fixed) against the card scan of the
  same point.
"""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import yaml

from globalfit.cli import main
from globalfit.paths import CONFIG_DIR

POINTS = 7  # 1, 3.16, 10, 31.6, 100, 316, 1000 MeV


def _card_scan(tmp_path, card: dict, name: str) -> pd.DataFrame:
    path = tmp_path / f"{name}.yaml"
    card = dict(card, output=str(tmp_path / name))
    path.write_text(yaml.safe_dump(card))
    assert main(["run", str(path)]) == 0
    return pd.read_csv(tmp_path / name / "scan.csv")


@pytest.fixture(scope="module")
def lmad_card():
    card = yaml.safe_load((CONFIG_DIR / "lmad_scan.yaml").read_text())
    card["scan"]["points"] = POINTS
    return card


def test_card_scan_and_scan_lma_dark_give_the_same_curve(tmp_path, capsys, lmad_card):
    card = _card_scan(tmp_path, lmad_card, "card")
    capsys.readouterr()
    assert main(["scan", "lma-dark", "--points", str(POINTS), "--format", "csv"]) == 0
    curves, _ = capsys.readouterr().out.strip().split("\n\n")
    command = pd.read_csv(io.StringIO(curves))
    combined = command[command["dataset"] == "combined"]
    np.testing.assert_allclose(combined["mzp_mev"], card["mzp [MeV]"], rtol=1e-5)
    np.testing.assert_allclose(combined["delta_chi2"], card["delta_chi2"], rtol=1e-5, atol=1e-4)  # CSV: 6 digits
    # the SM reference: LMA-Dark fits as well as the SM (Delta chi2 <= 0) for a light Z'
    assert card["delta_chi2"].iloc[0] < 0.0 < 100.0 < card["delta_chi2"].iloc[-1]


def test_check_scan_and_card_scan_of_the_same_point_agree(tmp_path, capsys, lmad_card):
    """x fixed (the check card's x = 1): ``globalfit check --scan mzp`` (each likelihood at
    the point minus at the SM, nuisances profiled) equals the card scan's
    ``delta_chi2.<likelihood>`` and its total the card scan's ``delta_chi2``."""
    names = ["coherent_csi_2021", "coherent_lar_2020"]
    fixed = dict(lmad_card, likelihoods={n: {} for n in names})
    fixed["parameters"] = dict(lmad_card["parameters"], x={"value": 1.0})
    card = _card_scan(tmp_path, fixed, "fixed")
    check = yaml.safe_load((CONFIG_DIR / "check_lma_dark_benchmark.yaml").read_text())
    assert check["parameters"]["x"] == {"value": 1.0}
    check["likelihoods"] = {n: {} for n in names}
    path = tmp_path / "check.yaml"
    path.write_text(yaml.safe_dump(check))
    capsys.readouterr()
    assert main(["check", str(path), "--scan", "mzp", "--from", "1", "--to", "1000",
                 "--points", str(POINTS), "--unit", "MeV", "--format", "csv"]) == 0
    long = pd.read_csv(io.StringIO(capsys.readouterr().out))
    for name in names:
        rows = long[long["likelihood"] == name]
        np.testing.assert_allclose(rows["mzp_mev"], card["mzp [MeV]"], rtol=1e-5)
        np.testing.assert_allclose(rows["delta_chi2"], card[f"delta_chi2.{name}"], atol=1e-4)
    total = long[long["likelihood"] == "total"]["delta_chi2"].to_numpy()
    np.testing.assert_allclose(total, card["delta_chi2"], atol=1e-4)
