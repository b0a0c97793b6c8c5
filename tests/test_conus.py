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
    sigma 20 eVee) is compared within the published prediction uncertainty plus 3 %."""
    assert conus.predicted_counts() == pytest.approx(347.0, rel=59.0 / 347.0 + 0.03)


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
