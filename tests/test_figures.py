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
from globalfit.statistics import hpd_interval

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


class _IndependentDraws:
    """What `save_to_hdf` reads from an emcee sampler, for i.i.d. draws of a known target."""

    def __init__(self, chain, log_prob):
        self.chain, self.log_prob = chain, log_prob
        self.backend = type("B", (), {"accepted": np.full(chain.shape[1], chain.shape[0])})()

    def get_chain(self):
        return self.chain

    def get_log_prob(self):
        return self.log_prob

    def get_blobs(self):
        blobs = np.zeros(self.chain.shape[:2], dtype=[("chi2.total", float)])
        blobs["chi2.total"] = -2 * self.log_prob
        return blobs


def _limit_run(folder):
    """g' log-uniform on [1e-6, 1e-2]; posterior flat in log10 g' up to -4, then a
    Gaussian fall-off of width 0.3: 95 % upper limit at log10 g' = -4 + 0.3006."""
    rng = np.random.default_rng(8)
    n_steps, n_walkers = 2000, 10
    flat_mass, tail_mass = 2.0, 0.3 * np.sqrt(np.pi / 2)
    u = rng.uniform(size=(n_steps, n_walkers)) * (flat_mass + tail_mass)
    log_g = np.where(u < flat_mass, -6.0 + u,
                     -4.0 + 0.3 * np.abs(rng.standard_normal((n_steps, n_walkers))))
    x = rng.normal(0.0, 1.0, (n_steps, n_walkers))
    chain = np.stack([10 ** log_g, x], axis=-1)
    log_prob = -0.5 * x**2 - 0.5 * (np.maximum(log_g + 4, 0) / 0.3) ** 2
    card = {"name": "limit",
            "parameters": {"g_prime": {"prior": "log-uniform", "min": 1e-6, "max": 1e-2,
                                       "latex": "g'"},
                           "x": {"prior": "uniform", "min": -10, "max": 10}},
            "sampler": {"name": "emcee", "walkers": n_walkers, "steps": n_steps,
                        "burn_in": 0, "thin": 1}}
    folder.mkdir()
    (folder / "config.yaml").write_text(yaml.safe_dump(card, sort_keys=False))
    save_to_hdf(_IndependentDraws(chain, log_prob), folder / "chain.h5")
    return folder


def test_posterior_at_a_prior_edge_gets_a_one_sided_limit(tmp_path):
    from globalfit.results import load_run
    from globalfit.summaries import summary_table
    from globalfit.table_format import summary_rows

    table = summary_table(load_run(_limit_run(tmp_path / "limit")))
    g = table.set_index("parameter").loc["g_prime"]
    assert g["limit95_kind"] == "upper"
    assert np.log10(g["limit95"]) == pytest.approx(-4 + 0.3006, abs=0.03)   # g' < 2.0e-4
    x = table.set_index("parameter").loc["x"]
    assert x["limit95_kind"] == "two-sided" and np.isnan(x["limit95"])
    rows = summary_rows(table).set_index("parameter")
    assert rows.loc["g_prime", "95% HPD"] == f"< {g['limit95']:.3g}"
    assert rows.loc["x", "95% HPD"].startswith("[")


def test_one_sided_limit_needs_the_edge():
    from globalfit.statistics import PriorEdges, hpd_interval, one_sided_limit

    rng = np.random.default_rng(1)
    edges = PriorEdges(-1.0, 1.0)
    centred = rng.normal(0.0, 0.2, 20000)
    assert one_sided_limit(centred, 0.95, hpd_interval(centred, 0.95), edges)[0] == "two-sided"
    falling = 1.0 - np.abs(rng.normal(0.0, 0.3, 20000))        # piles up at the upper edge
    falling = falling[falling > -1.0]
    kind, limit = one_sided_limit(falling, 0.9, hpd_interval(falling, 0.9), edges)
    assert kind == "lower" and limit == pytest.approx(1.0 - 0.3 * 1.6449, abs=0.02)
    assert one_sided_limit(centred, 0.95, hpd_interval(centred, 0.95), None)[0] == "two-sided"


def _two_valley_profiles(n_grid):
    from globalfit.regions import Comparison, Region
    from globalfit.samplers.region_profiles import profile_regions

    def chi2(theta):
        return float(min(((theta[0] - 1) / 0.2) ** 2, ((theta[0] + 1) / 0.3) ** 2 + 1)
                     + theta[1] ** 2)

    left = Region("L", "x < 0", ((Comparison("x", "<", 0.0),),))
    return profile_regions(chi2, ["x", "y"], np.array([[-2, 2], [-3, 3.0]]), "x",
                           [left, left.complement("R")], n_grid=n_grid)


def _analytic_delta(x):
    return np.minimum(((x - 1) / 0.2) ** 2, ((x + 1) / 0.3) ** 2 + 1)


def test_refined_profile_is_smooth_where_a_reader_looks():
    """A coarse 11-point profile drawn with straight segments misses the parabolas by up to
    ~1 in Delta chi^2 below 3 sigma; after refinement the drawn curve is within 0.12."""
    from globalfit.samplers.profile import refine_profile

    coarse = _two_valley_profiles(11)["L+R"]
    fine = refine_profile(coarse)
    assert fine.grid.size > coarse.grid.size and np.all(np.diff(fine.grid) > 0)
    # the new points are true profile values
    assert np.allclose(fine.delta_chi2, _analytic_delta(fine.grid), atol=1e-6)
    x = np.linspace(-2, 2, 4001)
    truth = _analytic_delta(x)
    shown = truth < 9

    def drawn_error(profile):
        return np.max(np.abs(np.interp(x, profile.grid, profile.delta_chi2) - truth)[shown])

    assert drawn_error(coarse) > 0.8 and drawn_error(fine) < 0.12
    # both minima and the 90 % / 3 sigma crossings are bracketed by refined points
    for crossing in (1 - 0.2 * np.sqrt(2.706), 1 + 0.6, -1 + 0.3 * np.sqrt(2.0)):
        assert np.min(np.abs(fine.grid - crossing)) < 0.05


def test_profile_figure_shades_the_allowed_intervals(tmp_path):
    from globalfit.plots import profile_figure, profile_plot
    from globalfit.results import DisplayParameter

    profiles = _two_valley_profiles(21)
    parameter = DisplayParameter("x", r"\varepsilon", "none")
    figure = profile_figure(profiles, parameter)
    axis = figure.axes[0]
    assert axis.get_xlabel() == r"$\varepsilon$"
    shaded = [p for p in axis.patches]
    # one 90 % CL band per allowed interval of each curve: L (1), R (1), L+R (2)
    assert len(shaded) == sum(len(p.intervals(2.706)) for p in profiles.values()) == 4
    labels = [t.get_text() for t in axis.texts]
    assert labels == ["90% CL", r"3$\sigma$"]
    plt.close(figure)
    path = profile_plot(profiles, parameter, tmp_path / "profile.png")
    assert path.exists() and (tmp_path / "profile.pdf").exists()
