"""NSI helpers and the generalized mass-ordering degeneracy (physics.md section 1)."""
from __future__ import annotations

import numpy as np
import pytest

from globalfit.couplings import Couplings
from globalfit.physics import oscillation as osc
from globalfit.physics.nsi import mass_ordering_degeneracy, matter_eps, nsi_matrix

EPS = nsi_matrix(0.35, -0.25, 0.12 * np.exp(0.4j), 0.2 * np.exp(-1.1j), 0.15 * np.exp(2.0j))


def test_matter_eps_agrees_with_couplings():
    rng = np.random.default_rng(5)

    def hermitian():
        a = rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3))
        return 0.1 * (a + a.conj().T)

    eps_e, eps_u, eps_d = hermitian(), hermitian(), hermitian()
    couplings = Couplings(eps0={"e": eps_e, "u": eps_u, "d": eps_d})
    y_n = np.array([0.5, 1.05, 1.15])
    assert np.allclose(matter_eps(eps_e, eps_u, eps_d, y_n), couplings.eps_matter(y_n), atol=1e-15)
    # up quarks only, Y_n = 1: the familiar factor 3
    assert np.allclose(matter_eps(eps_u=eps_u, neutron_fraction=1.0), 3.0 * eps_u)


def test_nsi_matrix_is_hermitian_with_given_entries():
    assert np.allclose(EPS, EPS.conj().T)
    assert EPS[0, 0] - EPS[1, 1] == pytest.approx(0.35)
    assert EPS[2, 2] - EPS[1, 1] == pytest.approx(-0.25)
    assert EPS[0, 1] == pytest.approx(0.12 * np.exp(0.4j))
    assert EPS[2, 1] == pytest.approx(0.15 * np.exp(-2.0j))
    batch = nsi_matrix(np.linspace(-1, 1, 4), 0.0, 0.1j, 0.0, 0.0)
    assert batch.shape == (4, 3, 3)
    with pytest.raises(ValueError, match="ee_minus_mumu"):
        nsi_matrix(0.3j)


@pytest.mark.parametrize("antineutrino", [False, True])
@pytest.mark.parametrize("density", [0.0, 2.6, 13.0, 150.0])
def test_generalized_mass_ordering_degeneracy(nufit_no, antineutrino, density):
    energy = np.geomspace(0.005, 50.0, 400)
    mapped_params, mapped_eps = mass_ordering_degeneracy(nufit_no, EPS)
    assert mapped_params["dm31"] < 0 and mapped_params["th12"] > np.pi / 4
    for baseline in (295.0, 1300.0, 12742.0):
        original = osc.probabilities(energy, baseline, density, nufit_no, EPS, antineutrino)
        image = osc.probabilities(energy, baseline, density, mapped_params, mapped_eps, antineutrino)
        assert np.abs(original - image).max() < 1e-10


def test_degeneracy_map_entries_and_involution(nufit_no):
    mapped_params, mapped = mass_ordering_degeneracy(nufit_no, EPS)
    assert mapped[0, 0] - mapped[1, 1] == pytest.approx(-(EPS[0, 0] - EPS[1, 1]) - 2)
    assert mapped[2, 2] - mapped[1, 1] == pytest.approx(-(EPS[2, 2] - EPS[1, 1]))
    assert mapped[0, 1] == pytest.approx(np.conj(EPS[0, 1]))
    assert mapped[0, 2] == pytest.approx(np.conj(EPS[0, 2]))
    assert mapped[1, 2] == pytest.approx(-np.conj(EPS[1, 2]))
    back_params, back = mass_ordering_degeneracy(mapped_params, mapped)
    assert np.allclose(back, EPS, atol=1e-15)
    for key in osc.PARAMETER_NAMES:
        assert back_params[key] == pytest.approx(nufit_no[key], abs=1e-15)


def test_a_wrong_map_breaks_the_degeneracy(nufit_no):
    """Sanity of the test above: flipping the eps_mutau rule changes probabilities."""
    mapped_params, mapped = mass_ordering_degeneracy(nufit_no, EPS)
    wrong = mapped.copy()
    wrong[1, 2], wrong[2, 1] = -mapped[1, 2], -mapped[2, 1]
    energy = np.geomspace(0.5, 20.0, 100)
    good = osc.probabilities(energy, 12742.0, 8.0, mapped_params, mapped)
    bad = osc.probabilities(energy, 12742.0, 8.0, mapped_params, wrong)
    assert np.abs(good - bad).max() > 1e-2


def test_batched_degeneracy(nufit_no):
    params = {k: np.full((3, 1), v) for k, v in nufit_no.items()}
    eps = np.stack([EPS, 0.5 * EPS, nsi_matrix(-1.2, 0.3)])[:, None]
    mapped_params, mapped = mass_ordering_degeneracy(params, eps)
    energy = np.geomspace(0.1, 10.0, 50)
    a = osc.probabilities(energy, 1300.0, 2.848, params, eps)
    b = osc.probabilities(energy, 1300.0, 2.848, mapped_params, mapped)
    assert a.shape == (3, 50, 3, 3) and np.abs(a - b).max() < 1e-10


def test_bad_input():
    with pytest.raises(ValueError, match="eps_u"):
        matter_eps(eps_u=np.triu(np.ones((3, 3))))
    with pytest.raises(ValueError, match="neutron_fraction"):
        matter_eps(neutron_fraction=-1.0)
    with pytest.raises(ValueError, match="dm31"):
        mass_ordering_degeneracy({"th12": 0.5}, None)
