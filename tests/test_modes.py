"""Region masses from evidences on an analytic bimodal target with known weights."""
import numpy as np
import pytest

from globalfit.config import load_config
from globalfit.likelihood import Likelihood
from globalfit.modes import RegionPosterior, mirror_start, region_evidences, region_masses
from globalfit.posterior import build_posterior
from globalfit.regions import parse_regions

WEIGHT_PLUS = 0.7
SIGMA = 0.1


class BimodalLikelihood(Likelihood):
    """Mixture of two normals in eps^e_ee at +1 (weight 0.7) and -1 (weight 0.3)."""

    name = "bimodal"
    description = "Two separated normal modes with known weights (test double)"

    def loglike(self, point):
        x = point.couplings.eps("e")[0, 0].real
        norm = -np.log(np.sqrt(2 * np.pi) * SIGMA)
        plus = np.log(WEIGHT_PLUS) - 0.5 * ((x - 1) / SIGMA) ** 2
        minus = np.log(1 - WEIGHT_PLUS) - 0.5 * ((x + 1) / SIGMA) ** 2
        return float(np.logaddexp(plus, minus) + norm)


CARD = {
    "name": "bimodal",
    "model": {"name": "plugins:DiagonalNSIModel"},
    "parameters": {
        "eps_ee": {"prior": "uniform", "min": -2.0, "max": 2.0},
        "eps_mumu": {"value": 0.0},
        "mzp": {"value": 1.0, "unit": "GeV"},
    },
    "likelihoods": {"test_modes:BimodalLikelihood": {}},
    "sampler": {"name": "emcee", "walkers": 8, "steps": 20, "burn_in": 5, "seed": 1},
    "regions": {"plus": "eps_ee >= 0", "minus": "eps_ee < 0"},
}


@pytest.fixture(scope="module")
def posterior():
    return build_posterior(load_config(CARD))


def test_region_masses_formula():
    table = region_masses({"a": np.log(0.7), "b": np.log(0.3)}, {"a": 0.1, "b": 0.1})
    assert table["mass"].tolist() == pytest.approx([0.7, 0.3])
    # both masses share one error: d m = m_a m_b sqrt(s_a^2 + s_b^2)
    assert table["mass_err"].tolist() == pytest.approx([0.21 * np.sqrt(0.02)] * 2)
    assert table["ln_bayes_factor_vs_best"].tolist() == pytest.approx([0.0, np.log(0.3 / 0.7)])


def test_evidence_weights_of_bimodal_target(posterior, tmp_path):
    pytest.importorskip("dynesty")
    regions = parse_regions(CARD["regions"], posterior.parameters)
    results = region_evidences(posterior, regions, engine="dynesty", n_live=200, seed=2,
                               output_dir=tmp_path)
    # Z_total = (1/4) int L dx = 1/4 (prior density 1/4 on [-2, 2])
    table = region_masses({k: r.log_evidence for k, r in results.items()},
                          {k: r.log_evidence_err for k, r in results.items()})
    masses = dict(zip(table["region"], table["mass"]))
    assert masses["plus"] == pytest.approx(WEIGHT_PLUS, abs=0.05)
    total = np.logaddexp.reduce(table["log_evidence"])
    assert total == pytest.approx(np.log(0.25), abs=0.15)
    assert (tmp_path / "nested_plus.h5").exists()


def test_region_posterior_is_minus_infinity_outside(posterior):
    plus = parse_regions({"plus": "eps_ee >= 0"}, posterior.parameters)[0]
    restricted = RegionPosterior(posterior, plus)
    assert restricted.log_posterior(np.array([-1.0])) == -np.inf
    assert restricted.log_posterior(np.array([1.0])) == pytest.approx(posterior.log_posterior(np.array([1.0])))
    assert restricted.names == posterior.names


def test_mirror_start_maps_into_the_other_mode(posterior):
    thetas = np.array([[1.0], [0.9], [1.1]])
    mapped = mirror_start(posterior, thetas, lambda p: {"eps_ee": -p["eps_ee"]})
    np.testing.assert_allclose(mapped, -thetas)
