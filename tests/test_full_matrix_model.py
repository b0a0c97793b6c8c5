"""Model `nsi_matrix` (`globalfit.models.full_matrix.FullMatrixNSI`): the matrix it builds and
the generalised mass-ordering degeneracy it maps points with (what the LMA-Dark rows of
configs/full_matrix_u.yaml rest on)."""
from __future__ import annotations

import numpy as np
import pytest

from globalfit.models.full_matrix import FERMIONS, FullMatrixNSI, fermion_weight
from globalfit.physics import oscillation as osc

DEG = np.pi / 180.0
POINT = dict(th12=33.5 * DEG, th13=8.5 * DEG, th23=47.0 * DEG, dcp=1.2, dm21=7.4e-5, dm31=2.45e-3,
             eps_ee_minus_mumu=0.2, eps_tautau_minus_mumu=0.03, eps_emu_re=-0.05, eps_emu_im=0.02,
             eps_etau_re=0.08, eps_etau_im=-0.01, eps_mutau_re=0.006, eps_mutau_im=-0.003)


@pytest.mark.parametrize("fermion", FERMIONS)
def test_matrix_is_hermitian_with_eps_mumu_zero(fermion):
    eps = FullMatrixNSI(fermion=fermion).matrix(POINT)
    assert np.allclose(eps, eps.conj().T, atol=0)
    assert eps[1, 1] == 0 and eps[0, 0] == 0.2 and eps[2, 2] == 0.03
    assert eps[0, 1] == complex(-0.05, 0.02) and eps[1, 2] == complex(0.006, -0.003)


@pytest.mark.parametrize("fermion", FERMIONS)
def test_degenerate_image_is_an_involution_with_the_published_rules(fermion):
    model = FullMatrixNSI(fermion=fermion)
    image = model.degenerate_image(POINT)
    weight = fermion_weight(fermion)
    assert image["th12"] == pytest.approx(np.pi / 2 - POINT["th12"], abs=1e-15)
    assert image["dm31"] == pytest.approx(-POINT["dm31"] + POINT["dm21"], rel=1e-12)
    assert image["eps_ee_minus_mumu"] == pytest.approx(-0.2 - 2.0 / weight, abs=1e-14)
    assert image["eps_tautau_minus_mumu"] == pytest.approx(-0.03, abs=1e-14)
    assert (image["eps_emu_re"], image["eps_emu_im"]) == pytest.approx((-0.05, -0.02), abs=1e-14)
    assert (image["eps_etau_re"], image["eps_etau_im"]) == pytest.approx((0.08, 0.01), abs=1e-14)
    assert (image["eps_mutau_re"], image["eps_mutau_im"]) == pytest.approx((-0.006, -0.003), abs=1e-14)
    back = model.degenerate_image(image)
    for key, value in POINT.items():
        assert back[key] == pytest.approx(value, abs=1e-13), key


@pytest.mark.parametrize("antineutrino", [False, True])
def test_degenerate_image_has_the_same_earth_probabilities(antineutrino):
    """Through the Earth (its Y_n, `fermion_weight("u")` = 2 + Y_n) a point and its image give
    the same P(nu_a -> nu_b) to 1e-10 at every energy and baseline, and a wrong weight does not."""
    model = FullMatrixNSI(fermion="u")
    image = model.degenerate_image(POINT)
    weight = fermion_weight("u")
    energy = np.geomspace(1.0, 100.0, 200)
    for baseline, density in ((1300.0, 2.85), (6000.0, 4.5), (12742.0, 8.0)):
        original = osc.probabilities(energy, baseline, density, POINT, weight * model.matrix(POINT),
                                     antineutrino)
        mapped = osc.probabilities(energy, baseline, density, image, weight * model.matrix(image),
                                   antineutrino)
        assert np.abs(original - mapped).max() < 1e-10
        wrong = osc.probabilities(energy, baseline, density, image, 3.0 * model.matrix(image),
                                  antineutrino)
        assert np.abs(original - wrong).max() > 1e-3
