"""Viability cards: thresholds, the benchmark points' verdicts, the check command."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml

from globalfit.likelihood import Point
from globalfit.paths import CONFIG_DIR
from globalfit.viability import (
    _point_from_config_layer,
    _point_without_config_layer,
    check_card,
    format_card,
    pull,
    split_available,
    thresholds,
    verdict,
)

U1_CARD = CONFIG_DIR / "check_u1_benchmark.yaml"
LFV_CARD = CONFIG_DIR / "check_lfv_benchmark.yaml"
MINE = ("nutev", "charm", "borexino_nue", "cosmology", "unitarity", "higgs_invisible")


def card_with(path, likelihoods=MINE, **parameters):
    card = yaml.safe_load(path.read_text())
    card["likelihoods"] = {name: {} for name in likelihoods}
    for key, value in parameters.items():
        card["parameters"][key] = value
    return card


def rows(result):
    return result.table.set_index("likelihood")


def test_thresholds_and_verdicts():
    assert thresholds(1)[0.95] == pytest.approx(3.841, abs=1e-3)
    assert thresholds(1)[0.9973] == pytest.approx(9.0, abs=0.01)
    assert thresholds(2)[0.95] == pytest.approx(5.991, abs=1e-3)
    assert verdict(3.8) == "allowed"
    assert verdict(3.9) == "excluded at 95% CL"
    assert verdict(9.1) == "excluded at 99.7% CL"
    assert verdict(5.0, dof=2) == "allowed"
    assert verdict(math.inf) == "excluded at 99.7% CL"
    assert pull(-4.0) == -2.0 and pull(9.0) == 3.0
    with pytest.raises(ValueError, match="dof"):
        thresholds(0)


@pytest.fixture(scope="module")
def u1_result():
    return check_card(card_with(U1_CARD))


def test_u1_benchmark_survives_scattering_and_cosmology(u1_result):
    # g' = 4e-5, m_Z' = 10 MeV, a_mu = a_tau = -3/2: eps^q_mumu = -0.24 faded at NuTeV
    # (<f> ~ 1e-5), no electron coupling (Borexino), thermalised but above 5 MeV (cosmology),
    # no heavy leptons (unitarity, Higgs).
    table = rows(u1_result)
    for name in MINE:
        assert table.loc[name, "verdict"] == "allowed", name
        assert table.loc[name, "status"] == "ok"
    assert table.loc["nutev", "delta_chi2"] < 0.01
    assert table.loc["borexino_nue", "delta_chi2"] == 0.0
    eps_u = u1_result.point.couplings.eps("u")
    assert eps_u[1, 1].real == pytest.approx(-0.242, abs=0.002)


def test_same_couplings_with_a_heavy_mediator_are_excluded_by_nutev():
    # same eps^q_mumu(0) = -0.24 with m_Z' = 10 GeV (g' x 1000): NuTeV sees it
    heavy = check_card(card_with(U1_CARD, g_prime={"value": 4.0e-2}, mzp={"value": 10.0, "unit": "GeV"}))
    table = rows(heavy)
    assert table.loc["nutev", "verdict"] == "excluded at 99.7% CL"
    assert table.loc["cosmology", "verdict"] == "allowed"
    assert "nutev" in heavy.excluded_by and heavy.verdict == "excluded"


def test_u1_below_cosmological_mass_bound_is_vetoed():
    light = check_card(card_with(U1_CARD, mzp={"value": 3.0, "unit": "MeV"}))
    assert rows(light).loc["cosmology", "delta_chi2"] == math.inf
    assert rows(light).loc["cosmology", "verdict"] == "excluded at 99.7% CL"


def test_lfv_benchmark_verdicts():
    result = check_card(card_with(LFV_CARD))
    table = rows(result)
    # sin(alpha) sin(beta) = 1e-3 at best splits into |kappa_e|^2 = 2.38e-3, |kappa_mu|^2 = 4.19e-4:
    # each at 1.9 sigma, Delta chi^2 = 2 (2.384e-3 / 1.25e-3)^2 = 7.27
    assert table.loc["unitarity", "delta_chi2"] == pytest.approx(7.27, abs=0.02)
    assert table.loc["unitarity", "verdict"] == "excluded at 95% CL"
    for name in ("nutev", "charm", "borexino_nue", "cosmology", "higgs_invisible"):
        assert table.loc[name, "verdict"] == "allowed", name
    assert result.point.couplings.eps("u")[0, 1].real == pytest.approx(0.12, rel=0.02)


def test_fallback_resolution_matches_config_layer():
    card = card_with(U1_CARD)
    _, likelihoods_a, point_a, _ = _point_from_config_layer(dict(card))
    _, likelihoods_b, point_b, _ = _point_without_config_layer(dict(card))
    assert point_b.couplings.mzp_gev == pytest.approx(point_a.couplings.mzp_gev)
    for name in MINE:
        assert likelihoods_b[name].chi2(point_b) == pytest.approx(likelihoods_a[name].chi2(point_a))


def test_missing_likelihood_module_is_listed_not_fatal():
    card = card_with(U1_CARD, likelihoods=("nutev", "likelihoods.not_written_yet:Missing"))
    available, missing = split_available(card)
    assert missing == ["likelihoods.not_written_yet:Missing"]
    result = check_card(card)
    assert rows(result).loc["likelihoods.not_written_yet:Missing", "status"].startswith("not available")


def test_free_parameter_is_rejected():
    card = card_with(U1_CARD, g_prime={"prior": "log-uniform", "min": 1e-6, "max": 1e-3})
    with pytest.raises(ValueError, match="g_prime"):
        check_card(card)


def test_card_text_and_cli(tmp_path, u1_result):
    text = format_card(u1_result)
    assert "# Viability card: check_u1_benchmark" in text
    assert "| nutev |" in text and "Verdict: ALLOWED" in text
    from globalfit.cli import main

    card = tmp_path / "card.yaml"
    card.write_text(yaml.safe_dump(card_with(U1_CARD, likelihoods=("nutev", "unitarity"))))
    out = tmp_path / "table.csv"
    assert main(["check", str(card), "--format", "csv", "--output", str(out)]) == 0
    table = pd.read_csv(out)
    assert list(table["likelihood"]) == ["nutev", "unitarity"]
    assert np.all(table["verdict"] == "allowed")


def test_effective_chiral_model_card_at_davidson_edge():
    # effective_nsi with chiral couplings: eps^{uR}_mumu = +0.004 sits just outside the 90 % CL
    # NuTeV interval [-0.0076, 0.0039] and inside 95 % (1 dof). Resolved without the config
    # layer, which (2026-11-30) reads a model's class-level parameters and so does not see the
    # option-dependent eps_uR_* names (reported to its author).
    card = {
        "name": "davidson_edge",
        "model": {"name": "effective_nsi", "options": {"fermions": ["u"], "chiral": True}},
        "parameters": {"eps_uR_mumu": {"value": 0.004}},
        "likelihoods": {"nutev": {}, "charm": {}},
    }
    _, likelihoods, point, _ = _point_without_config_layer(card)
    sm = Point(point.params)
    nutev_delta = likelihoods["nutev"].chi2(point) - likelihoods["nutev"].chi2(sm)
    # chi^2 at the 90 % edge is chi^2_min + 2.71; the SM is 0.30 above chi^2_min (R part)
    assert nutev_delta == pytest.approx(2.71 - 0.30, abs=0.1)
    assert verdict(nutev_delta) == "allowed"
    assert likelihoods["charm"].chi2(point) == likelihoods["charm"].chi2(sm)
    card["parameters"]["eps_uR_mumu"]["value"] = 0.02
    _, likelihoods, point, _ = _point_without_config_layer(card)
    assert verdict(likelihoods["nutev"].chi2(point) - likelihoods["nutev"].chi2(sm)) == "excluded at 99.7% CL"


@pytest.mark.parametrize("path", [
    "nutev/nutev_couplings.yaml", "charm/charm_nue.yaml", "borexino_nue/borexino_7be.yaml",
    "unitarity/kappa_bounds.yaml", "higgs/higgs_invisible.yaml", "cosmology/neff.yaml",
])
def test_data_files_carry_provenance(path):
    from globalfit.paths import data_path

    content = yaml.safe_load(data_path(*path.split("/")).read_text())
    blocks = content["provenance"]
    blocks = blocks.values() if "status" not in blocks else [blocks]
    for block in blocks:
        assert block["source"] and block["status"].split()[0] in (
            "VERIFIED", "VERIFIED-3P", "DERIVED", "FROM")
