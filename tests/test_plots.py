"""Plots are written from a real (small) emcee run folder and from analytic profiles."""
from __future__ import annotations

import math
from pathlib import Path

import emcee
import numpy as np
import pytest
import yaml
from chain_files import save_to_hdf

from globalfit.plots import corner_plot, profile_plot, trace_plot
from globalfit.results import DisplayParameter
from globalfit.samplers.region_profiles import profile_regions

N_WALKERS, N_STEPS = 12, 400


def log_posterior(thetas):
    """Two-parameter Gaussian straddling th12 = 45 deg; blobs chi2.a, chi2.b, chi2.total."""
    chi2_a = ((np.degrees(thetas[:, 0]) - 45.0) / 3.0) ** 2
    chi2_b = (thetas[:, 1] / 0.2) ** 2
    return list(zip(-0.5 * (chi2_a + chi2_b), chi2_a, chi2_b, chi2_a + chi2_b))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plots") / "run"
    folder.mkdir()
    card = {"name": "run",
            "parameters": {"th12": {"prior": "uniform", "min": 20, "max": 70, "unit": "deg",
                                    "latex": r"\theta_{12}"},
                           "eps_u_ee": {"prior": "uniform", "min": -1, "max": 1,
                                        "latex": r"\varepsilon^u_{ee}"}},
            "sampler": {"name": "emcee", "walkers": N_WALKERS, "steps": N_STEPS,
                        "burn_in": 100, "thin": 1},
            "regions": {"LMA": "th12 < 45 deg", "LMA_D": "th12 >= 45 deg"}}
    (folder / "config.yaml").write_text(yaml.safe_dump(card, sort_keys=False))
    dtype = [("chi2.a", float), ("chi2.b", float), ("chi2.total", float)]
    sampler = emcee.EnsembleSampler(N_WALKERS, 2, log_posterior, blobs_dtype=dtype,
                                    vectorize=True)
    rng = np.random.default_rng(3)
    sampler._random = np.random.mtrand.RandomState(3)
    start = np.column_stack([np.radians(rng.normal(45, 2, N_WALKERS)),
                             rng.normal(0, 0.1, N_WALKERS)])
    sampler.run_mcmc(start, N_STEPS)
    save_to_hdf(sampler, folder / "chain.h5")
    return folder


def _is_png(path):
    return path.exists() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_corner_plot_per_region(run_dir):
    path = corner_plot(run_dir)
    assert path == run_dir / "corner.png" and _is_png(path)


def test_corner_plot_subset_and_bad_name(run_dir, tmp_path):
    assert _is_png(corner_plot(run_dir, tmp_path / "c.png", split=None, parameters=["th12"]))
    with pytest.raises(ValueError, match="not sampled"):
        corner_plot(run_dir, tmp_path / "c.png", parameters=["th13"])


def test_trace_plot(run_dir):
    assert _is_png(trace_plot(run_dir))


def test_profile_plot(tmp_path):
    parameter = DisplayParameter("x", r"\varepsilon", "none")

    def chi2(theta):
        return float(min(((theta[0] - 1) / 0.2) ** 2, ((theta[0] + 1) / 0.3) ** 2 + 1)
                     + theta[1] ** 2)

    from globalfit.regions import Comparison, Region

    left = Region("L", "x < 0", ((Comparison("x", "<", 0.0),),))
    profiles = profile_regions(chi2, ["x", "y"], np.array([[-2, 2], [-3, 3.0]]), "x",
                               [left, left.complement("R")], n_grid=21)
    assert _is_png(profile_plot(profiles, parameter, tmp_path / "p.png"))
    assert math.isfinite(profiles["L+R"].chi2_min)


def test_cli_plot_corner_traces_and_profile(run_dir, tmp_path, monkeypatch, capsys):
    from types import SimpleNamespace

    from globalfit import frequentist
    from globalfit.cli import main

    assert main(["plot", str(run_dir), "--corner", "--traces", "--output-dir",
                 str(tmp_path)]) == 0
    assert _is_png(tmp_path / "corner.png") and _is_png(tmp_path / "traces.png")

    class Posterior:
        names = ["th12", "eps_u_ee"]
        parameters = [DisplayParameter("th12", r"\theta_{12}", "deg", math.pi / 180),
                      DisplayParameter("eps_u_ee", r"\varepsilon", "none")]
        bounds = np.array([[math.radians(20), math.radians(70)], [-1.0, 1.0]])

        def log_likelihood(self, theta):
            chi2 = float(log_posterior(np.atleast_2d(theta))[0][-1])
            return -0.5 * chi2, {"total": chi2}

    card = SimpleNamespace(regions={"LMA": "th12 < 45 deg", "LMA_D": "th12 >= 45 deg"})
    monkeypatch.setattr(frequentist, "load_posterior",
                        lambda run: (Posterior(), card, Path(run)))
    assert main(["plot", str(run_dir), "--profile", "eps_u_ee", "--grid", "11",
                 "--output-dir", str(tmp_path)]) == 0
    assert _is_png(tmp_path / "profile_eps_u_ee.png")
    import pandas as pd

    table = pd.read_csv(tmp_path / "profile_eps_u_ee.csv")
    assert set(table["region"]) == {"LMA", "LMA-D", "LMA+LMA-D"}
    union = table[table.region == "LMA+LMA-D"]
    # chi2 = (eps / 0.2)^2 + th12 term profiled away: the analytic profile
    assert np.allclose(union["delta_chi2"], (union["value"] / 0.2) ** 2, atol=1e-5)
    assert main(["plot", str(run_dir), "--profile", "th13"]) == 2
    assert "--profile: ['th13'] not sampled" in capsys.readouterr().err


def test_intervals_figure_draws_every_piece_at_its_ends(tmp_path):
    """One bar per allowed piece and level, at the table's ends; a source without the
    parameter leaves its line empty; a two-piece range gives two bars."""
    import pandas as pd

    from globalfit.plots import intervals_figure, save_figure
    from globalfit.plots.intervals import LEVEL_WIDTHS

    columns = ["parameter", "region", "level", "best_fit", "low", "high"]
    ours = pd.DataFrame([["a", "R", "90%", 0.1, -0.2, 0.3], ["a", "R", "3sigma", 0.1, -0.5, 0.6],
                         ["b", "R", "90%", 1.0, 0.5, 1.5], ["b", "R", "3sigma", 1.0, math.nan, math.nan]],
                        columns=columns)
    theirs = pd.DataFrame([["a", "R", "90%", 0.0, -0.9, -0.7], ["a", "R", "90%", 0.0, 0.1, 0.2]],
                          columns=columns)
    figure = intervals_figure({"ours": ours, "theirs": theirs}, ["a", "b"], ["R"])
    top, bottom = figure.axes
    def bars(axis):
        return sorted(tuple(map(float, line.get_xdata())) for line in axis.lines
                      if line.get_linewidth() in LEVEL_WIDTHS.values())

    assert bars(top) == [(-0.9, -0.7), (-0.5, 0.6), (-0.2, 0.3), (0.1, 0.2)]
    assert bars(bottom) == [(0.5, 1.5)]                  # b: the 3 sigma row is NaN
    assert save_figure(figure, tmp_path / "intervals").exists()
