"""Figures as a reader sees them: units, scales, log axes, legends, titles, PNG and PDF."""
from __future__ import annotations

import emcee
import matplotlib.pyplot as plt
import numpy as np
import pytest
import yaml
from chain_files import save_to_hdf

from globalfit.display import axis_format, scale_exponent, unit_latex, value_with_errors
from globalfit.plots import corner_figure, corner_plot
from globalfit.results import hpd_interval

N_WALKERS, N_STEPS = 16, 600
DM21_MEAN, DM21_SIGMA = 7.5e-5, 0.2e-5
LOG_G_MEAN, LOG_G_SIGMA = -4.0, 0.6


def log_posterior(thetas):
    """dm21 Gaussian in eV^2; g' log-normal (log-uniform prior -> density 1/g in g)."""
    dm21, g = thetas[:, 0], thetas[:, 1]
    out = np.full(len(thetas), -np.inf)
    ok = (g > 1e-6) & (g < 1e-2)
    chi2 = ((dm21 - DM21_MEAN) / DM21_SIGMA) ** 2
    chi2[ok] += ((np.log10(g[ok]) - LOG_G_MEAN) / LOG_G_SIGMA) ** 2
    out[ok] = -0.5 * chi2[ok] - np.log(g[ok])
    return list(zip(out, chi2))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("figures") / "run"
    folder.mkdir()
    card = {"name": "run",
            "parameters": {"dm21": {"prior": "uniform", "min": 1e-5, "max": 2e-4, "unit": "eV2",
                                    "latex": r"\Delta m^2_{21}"},
                           "g_prime": {"prior": "log-uniform", "min": 1e-6, "max": 1e-2,
                                       "latex": "g'"}},
            "sampler": {"name": "emcee", "walkers": N_WALKERS, "steps": N_STEPS,
                        "burn_in": 200, "thin": 1}}
    (folder / "config.yaml").write_text(yaml.safe_dump(card, sort_keys=False))
    sampler = emcee.EnsembleSampler(N_WALKERS, 2, log_posterior,
                                    blobs_dtype=[("chi2.total", float)], vectorize=True)
    sampler._random = np.random.mtrand.RandomState(5)
    rng = np.random.default_rng(5)
    start = np.column_stack([rng.normal(DM21_MEAN, DM21_SIGMA, N_WALKERS),
                             10 ** rng.normal(LOG_G_MEAN, LOG_G_SIGMA, N_WALKERS)])
    sampler.run_mcmc(start, N_STEPS)
    save_to_hdf(sampler, folder / "chain.h5")
    return folder


def test_unit_latex_and_scale():
    assert unit_latex("eV2") == r"\mathrm{eV}^2"
    assert scale_exponent([7.4e-5, 7.6e-5]) == -5
    assert scale_exponent([33.0, 34.0]) == 0          # order one: no scale
    assert scale_exponent([0.0, 0.0]) == 0
    fmt = axis_format(r"\Delta m^2_{21}", "eV2", [7.5e-5])
    assert fmt.label() == r"$\Delta m^2_{21}\ [10^{-5}\,\mathrm{eV}^2]$"
    assert axis_format("g'", "none", [1e-4], log=True).exponent == 0


@pytest.mark.parametrize(("centre", "low", "high", "text"), [
    (7.5612, 7.3601, 7.7523, "7.56^{+0.19}_{-0.20}"),
    (33.24, 32.36, 34.12, "33.24^{+0.88}_{-0.88}"),
    (120.0, 80.0, 150.0, "120^{+30}_{-40}"),
])
def test_value_with_errors_rounds_to_two_significant_digits(centre, low, high, text):
    assert value_with_errors(centre, low, high) == text


def test_corner_figure_units_log_axis_titles(run_dir):
    figure = corner_figure(run_dir)
    axes = np.asarray(figure.axes).reshape(2, 2)
    # Delta m^2_21 shown in units of 1e-5 eV^2, on a linear axis with no offset text
    assert axes[1, 0].get_xlabel() == r"$\Delta m^2_{21}\ [10^{-5}\,\mathrm{eV}^2]$"
    assert axes[1, 0].get_xscale() == "linear"
    figure.canvas.draw()
    assert axes[1, 0].xaxis.get_offset_text().get_text() == ""
    low, high = axes[1, 0].get_xlim()
    assert 6.0 < low < DM21_MEAN * 1e5 < high < 9.0
    # g' spans more than a decade with a log-uniform prior -> log axis, unscaled
    assert axes[1, 1].get_xscale() == "log" and axes[1, 0].get_yscale() == "log"
    assert axes[1, 1].get_xlabel() == "$g'$"
    # title = median and 68 % HPD of the samples, in the axis' units
    title = axes[0, 0].get_title()
    from globalfit.results import load_run
    values = load_run(run_dir).samples["dm21"].to_numpy() * 1e5
    lo, hi = hpd_interval(values, 0.68)
    assert title == f"$\\Delta m^2_{{21}} = {value_with_errors(np.median(values), lo, hi)}" \
                    r"\ [10^{-5}\,\mathrm{eV}^2]$"
    assert abs(np.median(values) - 7.5) < 0.1 and abs((hi - lo) / 2 - 0.2) < 0.03
    assert axes[1, 1].get_title().startswith(r"$\log_{10} g' = -4.0")
    labels = [t.get_text() for t in figure.legends[0].get_texts()]
    assert labels == ["68% credible region", "95% credible region", "maximum posterior"]
    plt.close(figure)


def test_corner_plot_writes_png_and_pdf(run_dir, tmp_path):
    path = corner_plot(run_dir, tmp_path / "corner.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "corner.pdf").read_bytes()[:5] == b"%PDF-"
