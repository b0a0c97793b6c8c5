"""CONUS+ likelihood: SM prediction, quenching, light-mediator behaviour."""
from __future__ import annotations

import numpy as np
import pytest

from globalfit.couplings import Couplings
from globalfit.likelihood import Point
from globalfit.registry import likelihood_class
from likelihoods.conus import ConusLikelihood


@pytest.fixture(scope="module")
def conus():
    return ConusLikelihood()


def test_registered():
    assert likelihood_class("conus") is ConusLikelihood


def test_sm_prediction_against_published(conus):
    """CONUS+ Run-1 predicts 347 +- 59 (arXiv:2501.05206). Our one-threshold model (170 eVee,
    sigma 20 eVee) is compared within the published prediction uncertainty plus 3 %; the
    default likelihood is normalised to 347 (issue #20)."""
    assert conus.computed_sm == pytest.approx(347.0, rel=59.0 / 347.0 + 0.03)
    assert conus.predicted_counts() == pytest.approx(347.0, rel=1e-12)


def test_published_normalisation_keeps_the_forward_model_ratio(conus):
    computed = ConusLikelihood(normalisation="computed")
    assert computed.predicted_counts() == pytest.approx(conus.computed_sm, rel=1e-12)
    for couplings in (Couplings(eps0={"u": np.diag([0.1, 0.0, 0.0])}),
                      Couplings(eps0={"d": np.diag([-0.2, 0.0, 0.0])}, mzp_gev=0.01)):
        assert conus.predicted_counts(couplings) / conus.predicted_counts() == pytest.approx(
            computed.predicted_counts(couplings) / computed.predicted_counts(), rel=1e-12)


def test_sm_point_pull_matches_the_published_numbers(conus):
    """(395 - 347) / sqrt(106^2 + 59^2) = 0.40 sigma from the published numbers alone."""
    assert np.sqrt(conus.chi2_couplings()) == pytest.approx(48.0 / np.hypot(106.0, 59.0), abs=0.02)


def test_bad_normalisation_is_an_error():
    with pytest.raises(ValueError, match="likelihoods.conus.normalisation"):
        ConusLikelihood(normalisation="fitted")


def test_reactor_sees_light_mediator_only_below_about_10_mev(conus):
    eps = np.diag([0.1, 0.0, 0.0])
    contact = conus.predicted_counts(Couplings(eps0={"u": eps}))
    heavy = conus.predicted_counts(Couplings(eps0={"u": eps}, mzp_gev=1.0))
    light = conus.predicted_counts(Couplings(eps0={"u": eps}, mzp_gev=1e-3))
    sm = conus.predicted_counts()
    assert heavy == pytest.approx(contact, rel=1e-3)  # q ~ 12 MeV << 1 GeV
    assert abs(light - sm) < 0.5 * abs(contact - sm)


def test_mu_flavour_nsi_invisible_at_reactor(conus):
    eps = np.diag([0.0, 0.5, 0.5])
    assert conus.predicted_counts(Couplings(eps0={"d": eps})) == pytest.approx(
        conus.predicted_counts(), rel=1e-12)


def test_loglike_with_and_without_norm(conus):
    n = conus.predicted_counts()
    # profiled log-normal norm: close to the linear-pull formula near the minimum
    assert conus.loglike(Point({}, Couplings())) == pytest.approx(
        -0.5 * (395 - n) ** 2 / (106**2 + (59 / 347 * n) ** 2), rel=0.2)
    assert conus.loglike(Point({"conus.log_norm": np.log(1.1)}, Couplings())) == pytest.approx(
        -0.5 * (395 - 1.1 * n) ** 2 / 106**2)
def test_class_level_norm_prior(conus):
    assert ConusLikelihood.nuisance_parameters["log_norm"]["sigma"] == pytest.approx(conus.norm_sigma)
