"""Where the frequentist searches start (`globalfit.samplers.starts`): the card's ``start``
hints, and a model symmetry's images as seeds of the region fits."""
from __future__ import annotations

import numpy as np
import pytest

from globalfit.config import load_config, run_parameters
from globalfit.models.full_matrix import FullMatrixNSI
from globalfit.posterior import Posterior
from globalfit.regions import Comparison, Region, parse_regions
from globalfit.samplers.minimize import best_fit
from globalfit.samplers.region_profiles import fit_regions, posterior_minima, search_minima
from globalfit.samplers.starts import image_map, latin_hypercube_starts, start_unit_cube_map

DEG = np.pi / 180.0


def full_matrix_posterior() -> Posterior:
    """The parameters of configs/full_matrix_u.yaml with the model and no likelihood:
    enough for the starts, which never evaluate chi^2."""
    card = {"name": "starts", "model": {"name": "nsi_matrix", "options": {"fermion": "u"}},
            "parameters": {
                "th12": {"prior": "uniform", "min": 20.0, "max": 75.0, "unit": "deg"},
                "dm21": {"prior": "uniform", "min": 3e-5, "max": 1.2e-4, "unit": "eV2",
                         "start": [6.5e-5, 8.5e-5]},
                "th13": {"value": 8.58, "unit": "deg"},
                "th23": {"prior": "uniform", "min": 35.0, "max": 55.0, "unit": "deg"},
                "dcp": {"value": 232.0, "unit": "deg"},
                "dm31": {"prior": "uniform", "min": -2.8e-3, "max": 2.8e-3, "unit": "eV2",
                         "start": [2.2e-3, 2.7e-3]},
                "eps_ee_minus_mumu": {"prior": "uniform", "min": -1.8, "max": 1.2, "start": 0.3},
                "eps_tautau_minus_mumu": {"prior": "uniform", "min": -0.3, "max": 0.3},
                "eps_emu_re": {"value": 0.0}, "eps_etau_re": {"value": 0.0},
                "eps_mutau_re": {"value": 0.0}, "eps_emu_im": {"value": 0.0},
                "eps_etau_im": {"value": 0.0}, "eps_mutau_im": {"value": 0.0}},
            "likelihoods": {"kamland": {}},
            "regions": {"LMA": "th12 < 45 deg", "LMA_D": "th12 >= 45 deg"}}
    config = load_config(card)
    return Posterior(FullMatrixNSI(fermion="u"), {}, run_parameters(config), config), config


def test_random_starts_honour_the_start_hints_and_the_priors_elsewhere():
    posterior, _ = full_matrix_posterior()
    names = posterior.names
    starts = latin_hypercube_starts(posterior.bounds, 400, 1, start_unit_cube_map(posterior.parameters))
    dm31, dm21 = starts[:, names.index("dm31")], starts[:, names.index("dm21")]
    assert dm31.min() >= 2.2e-3 and dm31.max() <= 2.7e-3
    assert dm21.min() >= 6.5e-5 and dm21.max() <= 8.5e-5
    assert np.all(starts[:, names.index("eps_ee_minus_mumu")] == 0.3)          # a value hint
    th12 = np.degrees(starts[:, names.index("th12")])                          # no hint: prior
    assert th12.min() < 22.0 and th12.max() > 73.0
    prior_only = latin_hypercube_starts(posterior.bounds, 400, 1,
                                        start_unit_cube_map(posterior.parameters, use_hints=False))
    assert prior_only[:, names.index("dm31")].min() < -2.6e-3


def test_image_map_is_the_models_degeneracy_in_the_sampled_parameters():
    posterior, _ = full_matrix_posterior()
    names = posterior.names
    theta = np.array([{"th12": 33.5 * DEG, "dm21": 7.4e-5, "th23": 47.0 * DEG, "dm31": 2.45e-3,
                       "eps_ee_minus_mumu": 0.2, "eps_tautau_minus_mumu": 0.03}[n] for n in names])
    (image,) = image_map(posterior)(theta)
    expected = FullMatrixNSI(fermion="u").degenerate_image(posterior.params(theta))
    assert image == pytest.approx([expected[n] for n in names], abs=1e-15)
    assert image[names.index("dm31")] < 0 and image[names.index("th12")] > 45 * DEG
    # an image outside the bounds is dropped: eps_ee - eps_mumu = 0.2 -> -0.2 - 2/3.05 = -0.86
    # lies inside [-1.8, 1.2]; +1.2 -> -1.86 does not
    theta[names.index("eps_ee_minus_mumu")] = 1.2
    assert image_map(posterior)(theta) == []


def mirrored_valleys(theta: np.ndarray) -> float:
    """Two valleys mirrored through the origin, the one at x < 0 higher by 0.5."""
    x, y = theta
    return float(min(10 * ((x - 1) ** 2 + (y - 2) ** 2), 10 * ((x + 1) ** 2 + (y + 2) ** 2) + 0.5))


def test_images_seed_the_region_where_the_mirrored_valley_lies():
    """Without images, the x < 0 region starts only from the global minimum clipped into it,
    (0, 2), and stops on the region's edge (chi2 10: the first valley's wall); the image
    (-1, -2) finds the mirrored minimum (chi2 0.5). `search_minima` keeps both."""
    bounds = np.array([[-3.0, 3.0], [-4.0, 4.0]])
    regions = [Region("left", "x < 0", ((Comparison("x", "<", 0.0),),)),
               Region("right", "x >= 0", ((Comparison("x", ">=", 0.0),),))]
    best = best_fit(mirrored_valleys, bounds, n_starts=0, starts=np.array([[1.2, 1.5]]), names=["x", "y"])
    assert best.chi2_min == pytest.approx(0.0, abs=1e-8)
    plain = fit_regions(mirrored_valleys, ["x", "y"], bounds, regions, best, n_starts=0)
    assert plain["left"][0].chi2_min == pytest.approx(10.0, abs=1e-6)
    mirror = lambda theta: [-theta]  # noqa: E731
    seeded = fit_regions(mirrored_valleys, ["x", "y"], bounds, regions, best, n_starts=0, images=mirror)
    assert seeded["left"][0].chi2_min == pytest.approx(0.5, abs=1e-6)
    assert seeded["left"][0].theta == pytest.approx([-1.0, -2.0], abs=1e-4)
    merged, _ = search_minima(mirrored_valleys, ["x", "y"], bounds, regions, np.array([[1.2, 1.5]]),
                              n_starts=0, images=mirror)
    assert [round(m.chi2, 6) for m in merged.minima[:2]] == [0.0, 0.5]


def test_region_ensembles_of_lma_dark_start_in_both_mass_orderings():
    """The start hint puts dm31 > 0; the LMA-Dark walkers include the images of LMA draws,
    i.e. the inverted ordering where the dark solution's valley lies."""
    from globalfit.region_ensembles import region_start

    posterior, config = full_matrix_posterior()
    (lma, dark) = parse_regions(config.regions, posterior.parameters)
    walkers = region_start(posterior, dark, 64, np.random.default_rng(3))
    assert walkers.shape == (64, posterior.ndim)
    assert np.all(walkers[:, posterior.names.index("th12")] >= 45 * DEG)
    dm31 = walkers[:, posterior.names.index("dm31")]
    assert (dm31 < 0).sum() >= 10 and (dm31 > 0).sum() >= 10


@pytest.mark.slow
def test_full_matrix_search_finds_lma_dark_in_the_inverted_ordering(shared_data):
    """On configs/full_matrix_u.yaml (solar + KamLAND + SK-IV + DeepCore) the table's search
    for minima finds LMA (th12 ~ 34 deg, normal ordering) and LMA-Dark (th12 ~ 57 deg,
    inverted ordering, eps_ee - eps_mumu near -2/3.05 - 0.2) within 1 unit of chi^2 of each
    other: the generalised mass-ordering degeneracy is exact for DeepCore and broken only by
    the Sun's neutron fraction (and dcp held fixed). docs/reproductions/atmospheric.md quotes
    247.636 and 248.037 (`benchmarks/full_matrix_table.py --minima`); 73 s on one core."""
    from globalfit.frequentist import load_posterior, profile_regions_for
    from globalfit.samplers.minimize import posterior_chi2

    posterior, config, _ = load_posterior("configs/full_matrix_u.yaml")
    regions = profile_regions_for(posterior, config.regions, None)
    best, fits = posterior_minima(posterior, posterior_chi2(posterior), regions, None, 6)
    (lma,), (dark,) = fits["LMA"], fits["LMA-D"]
    names = posterior.names
    assert 30 * DEG < lma.theta[names.index("th12")] < 37 * DEG and lma.theta[names.index("dm31")] > 0
    assert 53 * DEG < dark.theta[names.index("th12")] < 61 * DEG and dark.theta[names.index("dm31")] < 0
    assert -1.2 < dark.theta[names.index("eps_ee_minus_mumu")] < -0.6
    assert 0.0 <= dark.chi2_min - lma.chi2_min < 1.0
    assert best.chi2_min == pytest.approx(min(lma.chi2_min, dark.chi2_min), abs=1e-9)
