"""Viability scans (``scan:`` block, `globalfit.scan`, ``globalfit plot RUN --scan``) on the
analytic test doubles: the profile of a bivariate normal is the marginal normal."""
from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import yaml
from plugins import gaussian_card

from globalfit.cli import main
from globalfit.config import ConfigError, load_config
from globalfit.scan import run_scan, scan_grid
from globalfit.statistics import level_crossings

MEAN, SIGMA = (0.3, -0.2), (0.1, 0.2)
CARD = gaussian_card(
    "tiny_scan", {"name": "emcee", "walkers": 8, "steps": 20, "burn_in": 5, "seed": 3},
    scan={"parameter": "eps_mumu", "from": -0.6, "to": 0.2, "points": 9, "spacing": "linear"})


def card_with(**scan):
    card = copy.deepcopy(CARD)
    card["scan"] = {**card["scan"], **scan}
    return card


def errors_of(card) -> str:
    with pytest.raises(ConfigError) as error:
        load_config(card)
    return str(error.value)


def test_profile_equals_marginal_gaussian():
    """Profiling eps_ee out of the bivariate normal leaves (x - mean)^2 / sigma^2 of eps_mumu."""
    result = run_scan(load_config(CARD))
    x = result.table["eps_mumu"].to_numpy()
    expected = (x - MEAN[1]) ** 2 / SIGMA[1] ** 2
    np.testing.assert_allclose(result.table["delta_chi2"], expected, atol=1e-4)
    # the profiled eps_ee follows the conditional mean mu_ee + rho s_ee / s_mumu (x - mu_mumu)
    conditional = MEAN[0] + 0.5 * SIGMA[0] / SIGMA[1] * (x - MEAN[1])
    np.testing.assert_allclose(result.table["eps_ee"], conditional, atol=1e-3)
    np.testing.assert_allclose(result.table["chi2.gauss"], result.table["chi2_min"], atol=1e-9)
    # crossings of 2.71 and 3.84 at mean -+ sigma sqrt(level), within linear interpolation
    for label, level in {"90% CL": 2.7055, "95% CL": 3.8415}.items():
        found = result.crossings[label]
        exact = [MEAN[1] - SIGMA[1] * np.sqrt(level), MEAN[1] + SIGMA[1] * np.sqrt(level)]
        assert len(found) == 2 and np.allclose(found, exact, atol=0.02), (label, found)


def test_log_grid_includes_endpoints_and_is_geometric():
    grid = scan_grid({"from": 1.0, "to": 1000.0, "points": 25, "spacing": "log"})
    assert grid[0] == 1.0 and grid[-1] == 1000.0 and grid.size == 25
    np.testing.assert_allclose(np.diff(np.log(grid)), np.log(1000.0) / 24, rtol=1e-12)
    assert load_config(card_with(**{"from": -0.2, "to": 0.2})).scan["spacing"] == "linear"
    card = copy.deepcopy(CARD)
    card["scan"] = {"parameter": "eps_mumu", "from": 0.01, "to": 0.2, "points": 5}
    assert load_config(card).scan["spacing"] == "log"  # default for a positive range


def test_level_crossings_log_interpolation():
    grid = np.array([1.0, 10.0, 100.0])
    # delta chi2 linear in log10(x): 0, 2, 4 -> 2.71 at 10^1.355
    assert level_crossings(grid, np.array([0.0, 2.0, 4.0]), 2.71) == pytest.approx([10**1.355])
    assert level_crossings(grid, np.array([0.0, 1.0, 2.0]), 2.71) == []


@pytest.mark.parametrize("scan, words", [
    ({"paramter": "eps_mumu"}, ["scan.paramter", "parameter"]),
    ({"points": 1}, ["scan.points", "integer >= 2", "1"]),
    ({"spacing": "logarithmic"}, ["scan.spacing", "logarithmic", "log", "linear"]),
    ({"spacing": "log"}, ["scan.spacing", "positive range"]),
    ({"parameter": "eps_mumo"}, ["scan.parameter", "eps_mumo", "eps_mumu"]),
    ({"to": 3.0}, ["scan.to", "3", "outside the prior", "[-2, 2]"]),
    ({"unit": "MeV"}, ["scan.unit", "MeV"]),
])
def test_bad_scan_blocks_are_clear_errors(scan, words):
    card = card_with(**scan)
    if "paramter" in scan:
        del card["scan"]["parameter"]
    text = errors_of(card)
    for word in words:
        assert word in text, (word, text)


def test_fixed_model_parameter_is_freed_and_checked_against_physical_range():
    """mzp (GeV in the model) is fixed by default: scanning it in MeV frees it; the scan must
    stay inside the model's physical range [1e-6, 1e3] GeV."""
    card = copy.deepcopy(CARD)
    card["scan"] = {"parameter": "mzp", "from": 1.0, "to": 100.0, "points": 3, "unit": "MeV"}
    result = run_scan(load_config(card))
    assert list(result.table["mzp [MeV]"]) == pytest.approx([1.0, 10.0, 100.0])
    # the Gaussian does not depend on mzp: flat profile at the global minimum
    np.testing.assert_allclose(result.table["delta_chi2"], 0.0, atol=1e-6)
    card["scan"]["to"] = 2e6
    assert "outside the physical range" in errors_of(card)


def test_run_writes_scan_csv_and_plot(tmp_path, capsys):
    path = tmp_path / "card.yaml"
    path.write_text(yaml.safe_dump(CARD))
    run_dir = tmp_path / "run"
    assert main(["run", str(path), "--output", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "crossed at eps_mumu" in out
    table = pd.read_csv(run_dir / "scan.csv")
    assert list(table.columns) == ["eps_mumu", "chi2_min", "delta_chi2", "chi2.gauss", "eps_ee"]
    assert (run_dir / "config.yaml").exists() and (run_dir / "provenance.json").exists()
    assert load_config(run_dir / "config.yaml").scan["parameter"] == "eps_mumu"
    assert main(["plot", str(run_dir), "--scan"]) == 0
    png = run_dir / "scan.png"
    assert png.exists() and png.read_bytes()[:4] == b"\x89PNG"
    capsys.readouterr()
    assert main(["run", str(path), "--output", str(run_dir)]) != 0
    assert "already holds a run" in capsys.readouterr().err


def _x_profile(likelihoods, mzp_mev):
    """Independent reference: min over x of sum chi2 on a 201-point x grid refined by Brent,
    each likelihood profiling its own nuisances (``chi2_couplings``), minus the same at the
    SM (no NSI)."""
    from scipy.optimize import minimize_scalar

    from globalfit.couplings import Couplings
    from globalfit.models.lma_dark import LMADarkX

    model = LMADarkX(solution="dark")
    sm = sum(lk.chi2_couplings(Couplings()) for lk in likelihoods)
    out = []
    for m in mzp_mev:
        def chi2(x, m=m):
            couplings = model.couplings({"x": x, "mzp": m * 1e-3, "g_q": 1e-4})
            return sum(lk.chi2_couplings(couplings) for lk in likelihoods)
        grid = np.linspace(-10.0, 10.0, 201)
        values = [chi2(x) for x in grid]
        k = int(np.argmin(values))
        refined = minimize_scalar(chi2, bounds=(grid[max(k - 1, 0)], grid[min(k + 1, 200)]),
                                  method="bounded", options={"xatol": 1e-6})
        out.append(min(values[k], refined.fun) - sm)
    return np.array(out)


def test_lma_dark_card_matches_independent_x_profile():
    """configs/lmad_scan.yaml (scan.reference: standard-model) on a coarser grid against an
    independent x-profile built from the model layer and each likelihood's own nuisance
    profiling: the curves agree point by point (Delta chi2 counted from the SM in both)."""
    from globalfit import registry
    from globalfit.paths import CONFIG_DIR

    config = load_config(CONFIG_DIR / "lmad_scan.yaml")
    config.scan["points"] = 7  # 1, 3.16, 10, 31.6, 100, 316, 1000 MeV
    result = run_scan(config)
    assert result.reference == "standard-model"
    mzp = result.table["mzp [MeV]"].to_numpy()
    names = ("coherent_csi_2017", "coherent_csi_2021", "coherent_lar_2020")
    reference = _x_profile([registry.likelihood_class(n)() for n in names], mzp)
    np.testing.assert_allclose(result.table["delta_chi2"].to_numpy(), reference, atol=1e-3)
    # LMA-Dark is excluded in the contact limit and allowed for a light Z'
    assert result.table["delta_chi2"].iloc[-1] > 100 and result.table["delta_chi2"].iloc[0] < 3


def test_release_nuisances_are_profiled_by_the_likelihood_in_a_scan(shared_data):
    """A card scan hands COHERENT's release nuisances (normalisation, shape, backgrounds) to
    the likelihood's own profile: LMA-Dark at 1 GeV against CsI 2017 (release) gives the
    Delta chi^2 of that profile with x minimised by hand (48.74), not the 74.0 a joint
    minimisation over x and the nuisances stopped at."""
    from scipy.optimize import minimize_scalar

    from globalfit.config import load_config
    from globalfit.couplings import STANDARD_MODEL
    from globalfit.registry import likelihood_class, model_class
    from globalfit.scan import lma_dark_card, run_scan

    card = lma_dark_card(datasets=["coherent_csi_2017"], mzp_min_mev=1000.0,
                         mzp_max_mev=1001.0, points=2, release_root=shared_data)
    scanned = float(run_scan(load_config(card)).table["delta_chi2"].iloc[0])
    likelihood = likelihood_class("coherent_csi_2017")(
        release_path=str(shared_data / "coherent_csi_2017"))
    model = model_class("lma_dark_x")(solution="dark")

    def chi2(x):
        return likelihood.chi2_couplings(model.couplings({"x": x, "g_q": 1e-4, "mzp": 1.0}))

    best = minimize_scalar(chi2, bounds=(0.5, 1.5), method="bounded", options={"xatol": 1e-9})
    by_hand = best.fun - likelihood.chi2_couplings(STANDARD_MODEL)
    assert by_hand == pytest.approx(48.74, abs=0.01)
    assert scanned == pytest.approx(by_hand, abs=1e-4)
