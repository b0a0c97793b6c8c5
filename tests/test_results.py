"""Results: run folders written with emcee's HDFBackend, summary and profile tables."""
from __future__ import annotations

import json
import math

import emcee
import numpy as np
import pandas as pd
import pytest
import yaml
from chain_files import save_to_hdf
from scipy import stats

from globalfit.profile_tables import LONG_COLUMNS, profile_table
from globalfit.regions import parse_condition
from globalfit.results import DisplayParameter, load_run
from globalfit.statistics import equal_tailed_interval, hpd_interval
from globalfit.summaries import summary_table, write_summary
from globalfit.table_format import profile_rows, summary_rows, to_latex, to_markdown

TH12_MEAN_DEG, TH12_SIGMA_DEG = 44.0, 2.0
EPS_MEAN, EPS_SIGMA = -0.2, 0.1
N_WALKERS, N_STEPS, BURN_IN = 16, 1500, 300


def log_posterior(thetas):
    """Gaussian in th12 (radians) and eps; blobs: chi2.gauss, chi2.total, derived.eps2.

    Vectorised over walkers: one (ln p, blobs...) tuple per walker, as emcee expects.
    """
    th12_deg, eps = np.degrees(thetas[:, 0]), thetas[:, 1]
    chi2 = ((th12_deg - TH12_MEAN_DEG) / TH12_SIGMA_DEG) ** 2 + ((eps - EPS_MEAN) / EPS_SIGMA) ** 2
    return list(zip(-0.5 * chi2, chi2, chi2, 2.0 * eps))


def write_run(folder, name="gauss", regions=None):
    """A run folder as `globalfit run` writes it, from an emcee run on `log_posterior`."""
    folder.mkdir(parents=True, exist_ok=True)
    card = {
        "name": name,
        "parameters": {
            "th13": {"value": 8.58, "unit": "deg"},
            "th12": {"prior": "uniform", "min": 20.0, "max": 70.0, "unit": "deg",
                     "latex": r"\theta_{12}"},
            "eps": {"prior": "uniform", "min": -1.0, "max": 1.0, "latex": r"\varepsilon"},
        },
        "sampler": {"name": "emcee", "walkers": N_WALKERS, "steps": N_STEPS, "burn_in": BURN_IN,
                    "thin": 1, "seed": 1},
        "regions": regions or {},
    }
    (folder / "config.yaml").write_text(yaml.safe_dump(card, sort_keys=False))
    (folder / "provenance.json").write_text(json.dumps({"globalfit": "test"}))
    dtype = [("chi2.gauss", float), ("chi2.total", float), ("derived.eps2", float)]
    sampler = emcee.EnsembleSampler(N_WALKERS, 2, log_posterior, blobs_dtype=dtype,
                                    vectorize=True)
    rng = np.random.default_rng(7)
    start = np.column_stack([np.radians(rng.normal(TH12_MEAN_DEG, 1.0, N_WALKERS)),
                             rng.normal(EPS_MEAN, 0.05, N_WALKERS)])
    sampler._random = np.random.mtrand.RandomState(11)
    sampler.run_mcmc(start, N_STEPS)
    save_to_hdf(sampler, folder / "chain.h5")
    return folder


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return write_run(tmp_path_factory.mktemp("runs") / "gauss",
                     regions={"LMA": "th12 < 45 deg", "LMA_D": "th12 >= 45 deg"})


def test_skewed_distribution_hpd_and_equal_tailed_intervals():
    """Exponential(1): ET 90% = [-ln 0.95, -ln 0.05]; HPD 90% = [0, -ln 0.1]."""
    samples = stats.expon.rvs(size=400_000, random_state=np.random.default_rng(0))
    low, high = equal_tailed_interval(samples, 0.90)
    assert (low, high) == pytest.approx((-math.log(0.95), -math.log(0.05)), abs=0.01)
    low, high = hpd_interval(samples, 0.90)
    assert low == pytest.approx(0.0, abs=1e-3)
    assert high == pytest.approx(-math.log(0.10), abs=0.01)
    # the HPD interval is the shorter one, by the analytic amount
    assert (high - low) < -math.log(0.05) + math.log(0.95) - 0.6


def test_gamma_hpd_has_equal_density_at_both_ends():
    dist = stats.gamma(a=3.0)
    samples = dist.rvs(size=400_000, random_state=np.random.default_rng(1))
    low, high = hpd_interval(samples, 0.68)
    assert dist.cdf(high) - dist.cdf(low) == pytest.approx(0.68, abs=2e-3)
    assert dist.pdf(low) == pytest.approx(dist.pdf(high), rel=0.03)


def test_load_run_applies_burn_in_and_converts_units(run_dir):
    result = load_run(run_dir)
    assert result.names == ["th12", "eps"]  # fixed th13 is not sampled
    assert result.chain.shape == (N_STEPS - BURN_IN, N_WALKERS, 2)
    assert result.samples.columns.tolist() == ["th12", "eps", "chi2.gauss", "chi2.total",
                                               "derived.eps2"]
    assert result.samples["th12"].to_numpy() == pytest.approx(
        np.degrees(result.samples_internal["th12"].to_numpy()))
    assert np.all((result.acceptance_fraction > 0.2) & (result.acceptance_fraction < 0.9))
    thinned = load_run(run_dir, burn_in=0, thin=10)
    assert thinned.chain.shape == (N_STEPS // 10, N_WALKERS, 2)
    with pytest.raises(ValueError, match="burn_in"):
        load_run(run_dir, burn_in=N_STEPS)


def test_summary_matches_the_analytic_gaussian_and_region_masses(run_dir):
    result = load_run(run_dir)
    table = summary_table(result, split="th12 < 45 deg")
    assert table["region"].unique().tolist() == ["LMA", "LMA-D"]
    mass = table.groupby("region")["mass"].first()
    expected_lma = stats.norm.cdf((45.0 - TH12_MEAN_DEG) / TH12_SIGMA_DEG)  # 0.691
    assert mass["LMA"] == pytest.approx(expected_lma, abs=0.05)
    assert mass.sum() == pytest.approx(1.0)
    whole = summary_table(result).set_index("parameter")
    assert whole.loc["th12", "median"] == pytest.approx(TH12_MEAN_DEG, abs=0.3)
    half = stats.norm.ppf(0.95) * TH12_SIGMA_DEG
    assert whole.loc["th12", "et90_low"] == pytest.approx(TH12_MEAN_DEG - half, abs=0.4)
    assert whole.loc["th12", "hpd90_high"] == pytest.approx(TH12_MEAN_DEG + half, abs=0.4)
    assert whole.loc["eps2", "median"] == pytest.approx(2 * EPS_MEAN, abs=0.02)  # derived
    assert whole.loc["th12", "max_posterior"] == pytest.approx(TH12_MEAN_DEG, abs=0.5)
    # the chi2.total blob of the best sample: -2 ln p there (flat priors), small for 2 dof
    assert 0 <= whole.loc["th12", "chi2_at_max_posterior"] == pytest.approx(
        -2 * result.flat_log_prob.max(), abs=1e-9)
    lma = table[(table.region == "LMA") & (table.parameter == "th12")].iloc[0]
    assert lma["hpd95_high"] < 45.0 <= table[(table.region == "LMA-D")
                                             & (table.parameter == "th12")].iloc[0]["hpd95_low"]


def test_one_write_copy_equals_a_step_by_step_hdf_backend(run_dir, tmp_path):
    """`save_to_hdf` (used by the fixtures for speed) writes what emcee itself writes."""
    import shutil

    dtype = [("chi2.gauss", float), ("chi2.total", float), ("derived.eps2", float)]
    rng = np.random.default_rng(2)
    start = np.column_stack([np.radians(rng.normal(44, 1, 8)), rng.normal(-0.2, 0.05, 8)])
    folders = []
    for mode in ("backend", "copy"):
        folder = tmp_path / mode
        shutil.copytree(run_dir, folder, ignore=shutil.ignore_patterns("chain.h5", "summary*"))
        backend = emcee.backends.HDFBackend(str(folder / "chain.h5")) if mode == "backend" else None
        if backend is not None:
            backend.reset(8, 2)
        sampler = emcee.EnsembleSampler(8, 2, log_posterior, blobs_dtype=dtype,
                                        vectorize=True, backend=backend)
        sampler._random = np.random.mtrand.RandomState(5)
        sampler.run_mcmc(start, 40)
        if mode == "copy":
            save_to_hdf(sampler, folder / "chain.h5")
        folders.append(folder)
    first, second = (load_run(f, burn_in=10) for f in folders)
    assert np.array_equal(first.chain, second.chain)
    assert np.array_equal(first.log_prob, second.log_prob)
    assert first.blobs.equals(second.blobs)
    assert np.array_equal(first.acceptance_fraction, second.acceptance_fraction)


def test_parameter_names_attribute_sets_the_chain_order(run_dir, tmp_path):
    """Card order is the fallback; a ``parameter_names`` attribute in chain.h5 wins."""
    import shutil

    import h5py

    folder = tmp_path / "named"
    shutil.copytree(run_dir, folder)
    card = yaml.safe_load((folder / "config.yaml").read_text())
    card["parameters"] = dict(reversed(list(card["parameters"].items())))
    (folder / "config.yaml").write_text(yaml.safe_dump(card, sort_keys=False))
    assert load_run(folder).names == ["eps", "th12"]  # card order: wrong for this chain
    with h5py.File(folder / "chain.h5", "a") as handle:
        handle["mcmc"].attrs["parameter_names"] = ["th12", "eps"]
    result = load_run(folder)
    assert result.names == ["th12", "eps"]
    assert result.samples["th12"].median() == pytest.approx(TH12_MEAN_DEG, abs=0.3)


def test_write_summary_files(run_dir):
    csv_path, md_path = write_summary(run_dir)
    table = pd.read_csv(csv_path)
    assert set(table["region"]) == {"all", "LMA", "LMA-D"}
    assert {"hpd68_low", "et95_high", "mass", "max_posterior"} <= set(table.columns)
    text = md_path.read_text()
    assert "highest-posterior-density" in text and "| LMA-D |" in text
    assert "## Convergence" in text and "| th12 | 1.0" in text  # split R-hat ~ 1


def test_missing_run_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.yaml"):
        load_run(tmp_path / "nothing")


# --- frequentist table ----------------------------------------------------------------------
class BimodalPosterior:
    """Stand-in `Posterior`: chi2 with an LMA-like and an LMA-D-like valley in th12.

    th12 valley at 34 deg (chi2 0) and at 56 deg (chi2 2.0); eps follows th12.
    """

    names = ["th12", "eps"]
    parameters = [DisplayParameter("th12", r"\theta_{12}", "deg", math.pi / 180.0),
                  DisplayParameter("eps", r"\varepsilon", "none", 1.0)]
    bounds = np.array([[math.radians(20.0), math.radians(70.0)], [-2.0, 2.0]])

    def log_likelihood(self, theta):
        th12 = math.degrees(theta[0])
        lma = ((th12 - 34.0) / 1.5) ** 2 + ((theta[1] - 0.1) / 0.2) ** 2
        dark = ((th12 - 56.0) / 1.5) ** 2 + ((theta[1] + 1.0) / 0.2) ** 2 + 2.0
        chi2 = min(lma, dark)
        return -0.5 * chi2, {"solar": chi2}


def test_profile_table_long_format_regions_and_union():
    posterior = BimodalPosterior()
    regions = [parse_condition("th12 < 45 deg", posterior.parameters, "LMA"),
               parse_condition("th12 >= 45 deg", posterior.parameters, "LMA_D")]
    table = profile_table(posterior, ["eps"], regions, n_grid=41, n_starts=6)
    assert table.columns.tolist() == LONG_COLUMNS
    assert set(table["region"]) == {"LMA", "LMA-D", "LMA+LMA-D"}
    assert set(table["level"]) == {"90%", "3sigma"}
    lma90 = table[(table.region == "LMA") & (table.level == "90%")]
    assert len(lma90) == 1
    half = math.sqrt(2.7055) * 0.2
    assert lma90[["low", "high"]].iloc[0].tolist() == pytest.approx([0.1 - half, 0.1 + half],
                                                                     abs=1e-3)
    union90 = table[(table.region == "LMA+LMA-D") & (table.level == "90%")]
    assert len(union90) == 2  # two disjoint intervals: two rows
    dark_half = math.sqrt(2.7055 - 2.0) * 0.2
    assert union90["low"].min() == pytest.approx(-1.0 - dark_half, abs=1e-3)
    assert table.attrs["chi2_min"]["LMA-D"] == pytest.approx(2.0, abs=1e-6)
    assert table.attrs["chi2_min_global"] == pytest.approx(0.0, abs=1e-6)
    wide = profile_rows(table)
    assert wide.set_index("region").loc["LMA+LMA-D", "90% range"].count("] + [") == 1
    th12 = profile_table(posterior, ["th12"], regions, n_grid=41, n_starts=6)
    best = th12[(th12.region == "LMA-D") & (th12.level == "3sigma")]["best_fit"].iloc[0]
    assert best == pytest.approx(56.0, abs=1e-3)  # display unit: degrees


def test_markdown_and_latex_output(run_dir):
    rows = summary_rows(summary_table(load_run(run_dir)))
    markdown = to_markdown(rows, "Title")
    assert markdown.splitlines()[2].startswith("| region | mass | parameter")
    latex = to_latex(rows, caption="90% HPD", labels={"th12": r"\theta_{12}"})
    assert r"$\theta_{12}$" in latex and r"90\% HPD" in latex and r"\toprule" in latex


# --- the `globalfit table` command ----------------------------------------------------------
def test_cli_table_posterior_formats(run_dir, tmp_path, capsys):
    from globalfit.cli import main

    assert main(["table", str(run_dir), "--split", "th12 < 45 deg", "--parameters", "th12"]) == 0
    text = capsys.readouterr().out
    assert "| LMA | " in text and "| LMA-D | " in text and "| eps |" not in text
    out = tmp_path / "table.csv"
    assert main(["table", str(run_dir), "--format", "csv", "--output", str(out)]) == 0
    assert {"all", "LMA", "LMA-D"} == set(pd.read_csv(out)["region"])
    assert main(["table", str(run_dir), "--format", "latex", "--intervals", "et"]) == 0
    assert r"$\theta_{12}$" in capsys.readouterr().out
    assert main(["table", str(run_dir), "--parameters", "th13"]) == 2  # not sampled
    assert "--parameters: unknown ['th13']" in capsys.readouterr().err


def test_cli_table_profile_names_regions_from_the_card(monkeypatch, capsys):
    """`--profile --split` with a stand-in posterior: rows LMA, LMA-D and LMA+LMA-D."""
    from types import SimpleNamespace

    from globalfit import frequentist
    from globalfit.cli import main

    card = SimpleNamespace(regions={"LMA": "th12 < 45 deg", "LMA_D": "th12 >= 45 deg"})
    monkeypatch.setattr(frequentist, "load_posterior",
                        lambda run_dir: (BimodalPosterior(), card, None))
    assert main(["table", "no-chain-here", "--profile", "--split", "th12 < 45 deg",
                 "--parameters", "eps", "--format", "csv", "--grid", "21"]) == 0
    table = pd.read_csv(__import__("io").StringIO(capsys.readouterr().out))
    assert table.columns.tolist() == LONG_COLUMNS
    assert list(dict.fromkeys(table["region"])) == ["LMA", "LMA-D", "LMA+LMA-D"]
    union = table[(table.region == "LMA+LMA-D") & (table.level == "90%")]
    assert len(union) == 2


def test_default_grid_is_logarithmic_for_a_log_uniform_prior():
    from types import SimpleNamespace

    from globalfit.profile_tables import default_grid

    log_parameter = SimpleNamespace(name="g", prior=SimpleNamespace(kind="log-uniform"))
    grid = default_grid(log_parameter, (1e-4, 1.0), 5)
    assert grid == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1, 1.0])
    flat = SimpleNamespace(name="x", prior=SimpleNamespace(kind="uniform"))
    assert default_grid(flat, (-1.0, 1.0), 3) == pytest.approx([-1.0, 0.0, 1.0])
    with pytest.raises(ValueError, match="infinite bounds"):
        default_grid(flat, (-np.inf, 1.0))
    from scipy import special

    gaussian = SimpleNamespace(name="norm", prior=SimpleNamespace(
        kind="gaussian", from_unit_cube=lambda u: 1.0 + 0.04 * special.ndtri(u)))
    grid = default_grid(gaussian, (-np.inf, np.inf), 11)
    assert (grid[0], grid[-1]) == pytest.approx((1.0 - 5 * 0.04, 1.0 + 5 * 0.04), rel=1e-9)


class StraddlingPosterior:
    """chi2 = ((th12 - 44 deg) / 2 deg)^2: allowed sets of LMA and LMA-D touch at 45 deg."""

    names = ["th12"]
    parameters = [DisplayParameter("th12", r"\theta_{12}", "deg", math.pi / 180.0)]
    bounds = np.array([[math.radians(20.0), math.radians(70.0)]])

    def log_likelihood(self, theta):
        chi2 = ((math.degrees(theta[0]) - 44.0) / 2.0) ** 2
        return -0.5 * chi2, {"gauss": chi2}


def test_union_row_merges_regions_that_touch_at_their_border():
    posterior = StraddlingPosterior()
    regions = [parse_condition("th12 < 45 deg", posterior.parameters, "LMA"),
               parse_condition("th12 >= 45 deg", posterior.parameters, "LMA_D")]
    table = profile_table(posterior, None, regions, n_grid=26, n_starts=2)
    half = math.sqrt(2.7055) * 2.0
    rows = table[table.level == "90%"].set_index("region")
    assert rows.loc["LMA", "high"] == pytest.approx(45.0)  # cut by the region
    assert rows.loc["LMA-D", "low"] == pytest.approx(45.0)
    assert [rows.loc["LMA+LMA-D", "low"], rows.loc["LMA+LMA-D", "high"]] == pytest.approx(
        [44.0 - half, 44.0 + half], abs=1e-4)
    assert rows.loc["LMA-D", "best_fit"] == pytest.approx(45.0)
    assert table.attrs["chi2_min"]["LMA-D"] == pytest.approx(0.25, abs=1e-6)


def test_chain_is_ignored_for_starts_when_the_posterior_changed(run_dir, capsys):
    from types import SimpleNamespace

    from globalfit.frequentist import chain_for_starts

    same = SimpleNamespace(names=["th12", "eps"])
    assert chain_for_starts(run_dir, same).names == ["th12", "eps"]
    grown = SimpleNamespace(names=["th12", "eps", "coherent.log_norm"])
    assert chain_for_starts(run_dir, grown) is None
    assert "chain not used for starting points" in capsys.readouterr().err


def test_profile_table_of_a_derived_quantity_per_region():
    """The test model's derived eps_ee - eps_mumu with the bivariate Gaussian measurement:
    profile centred on 0.3 - (-0.2) = 0.5 with sigma^2 = 0.1^2 + 0.2^2 - 2 (0.5) 0.1 0.2 = 0.03;
    split at eps_ee < 0.3 the two halves share the minimum."""
    from globalfit.config import load_config
    from globalfit.posterior import build_posterior
    from globalfit.regions import split_regions

    card = {"name": "derived", "model": {"name": "plugins:DiagonalNSIModel"},
            "parameters": {"eps_ee": {"prior": "uniform", "min": -1, "max": 1},
                           "eps_mumu": {"prior": "uniform", "min": -1, "max": 1},
                           "mzp": {"value": 1.0, "unit": "GeV"}},
            "likelihoods": {"plugins:GaussianLikelihood": {}},
            "sampler": {"name": "emcee", "walkers": 8, "steps": 10, "burn_in": 2, "seed": 1}}
    posterior = build_posterior(load_config(card))
    regions = list(split_regions("eps_ee < 0.3", {}, posterior.parameters, posterior.derived_names))
    table = profile_table(posterior, ["eps_ee_minus_mumu"], regions, n_grid=13, n_starts=2)
    sigma = math.sqrt(0.1**2 + 0.2**2 - 2 * 0.5 * 0.1 * 0.2)
    union = table[(table.level == "90%") & (table.region.str.contains(r"\+"))]
    assert len(union) == 1
    half = math.sqrt(2.7055) * sigma
    assert union[["low", "high"]].iloc[0].tolist() == pytest.approx([0.5 - half, 0.5 + half], abs=2e-3)
    assert union["best_fit"].iloc[0] == pytest.approx(0.5, abs=0.02)


def test_stranded_walkers_are_left_out_of_the_results(tmp_path):
    """A walker whose ln posterior sits 60 below the others (stranded in a far local mode)
    is left out of samples, blobs and summaries, with a warning; keep_stranded keeps it."""
    import h5py

    folder = write_run(tmp_path / "stranded")
    with h5py.File(folder / "chain.h5", "a") as handle:
        handle["mcmc"]["log_prob"][:, 3] -= 60.0
        handle["mcmc"]["chain"][:, 3, 1] = 0.9                 # eps far from the bulk
    with pytest.warns(UserWarning, match=r"walkers \[3\] are stranded"):
        result = load_run(folder)
    assert result.chain.shape[1] == N_WALKERS - 1 and list(result.excluded_walkers) == [3]
    assert result.excluded_walkers[3] == pytest.approx(60.0, abs=2.0)
    assert len(result.blobs) == result.flat_chain.shape[0]
    assert result.flat_chain[:, 1].max() < 0.5
    kept = load_run(folder, keep_stranded=True)
    assert kept.chain.shape[1] == N_WALKERS and kept.flat_chain[:, 1].max() == pytest.approx(0.9)
    with pytest.warns(UserWarning):
        write_summary(folder)
    assert "stranded walker(s) [3]" in (folder / "summary.md").read_text()
