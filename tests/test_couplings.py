"""The `Couplings` contract: light-mediator factor, matter combination, chiral split, errors."""
import numpy as np
import pytest

from globalfit.couplings import STANDARD_MODEL, Couplings

EPS_U = np.array([[0.3, 0.1 - 0.2j, 0.0], [0.1 + 0.2j, -0.1, 0.05], [0.0, 0.05, 0.2]])
EPS_D = np.diag([0.1, 0.0, -0.2]).astype(complex)


def test_light_mediator_factor_and_contact_limit():
    light = Couplings(eps0={"u": EPS_U}, mzp_gev=0.01)
    q2 = np.array([0.0, 1e-4, 1.0])
    np.testing.assert_allclose(light.propagator_factor(q2), [1.0, 0.5, 1e-4 / (1e-4 + 1.0)])
    np.testing.assert_allclose(light.eps("u", 1e-4), 0.5 * EPS_U)
    assert light.eps("u", q2).shape == (3, 3, 3)
    contact = Couplings(eps0={"u": EPS_U})
    np.testing.assert_allclose(contact.eps("u", 1e6), EPS_U)


def test_matter_combination_and_neutral_charge_coupling():
    c = Couplings(eps0={"u": EPS_U, "d": EPS_D})
    np.testing.assert_allclose(c.eps_matter(1.05), 3.05 * EPS_U + 3.1 * EPS_D)
    # a Z' coupled to electric charge: e, u, d in ratio -1 : 2/3 : -1/3 cancels in neutral matter
    charge = Couplings(eps0={"e": -EPS_U, "u": 2 / 3 * EPS_U, "d": -1 / 3 * EPS_U})
    for y_n in (0.0, 0.5, 1.05):
        np.testing.assert_allclose(charge.eps_matter(y_n), 0.0, atol=1e-15)


def test_chiral_pieces_default_to_half_the_vector():
    c = Couplings(eps0={"u": EPS_U})
    np.testing.assert_allclose(c.eps_chiral("u", "L") + c.eps_chiral("u", "R"), EPS_U)
    chiral = Couplings(eps0={"u": EPS_U}, eps0_chiral={("u", "L"): EPS_U})
    np.testing.assert_allclose(chiral.eps_chiral("u", "R"), 0.0)


@pytest.mark.parametrize("bad, message", [
    (EPS_U + 0.1j * np.eye(3), "Hermitian"),
    (np.full((3, 3), np.nan), "NaN"),
    (np.zeros((2, 2)), "3x3"),
])
def test_bad_matrices_are_clear_errors(bad, message):
    with pytest.raises(ValueError, match=message):
        Couplings(eps0={"u": bad})


def test_bad_keys_and_masses():
    with pytest.raises(ValueError, match="unknown fermion"):
        Couplings(eps0={"s": EPS_U})
    with pytest.raises(ValueError, match="mzp_gev"):
        Couplings(mzp_gev=-1.0)
    assert not STANDARD_MODEL.has_nsi and Couplings(eps0={"d": EPS_D}).has_nsi
