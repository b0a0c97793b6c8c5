"""SolarNSI model: eps_D, eps_N -> 3x3 matrix reproduces them; derived quantity; options."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from globalfit.models.solar_nsi import SolarNSI
from globalfit.physics.solar import effective_nsi


@settings(max_examples=50, deadline=None)
@given(eps_d=st.floats(-1.5, 1.5), eps_n=st.floats(-1.0, 1.0), th13=st.floats(0.0, 0.3),
       th23=st.floats(0.5, 1.1), dcp=st.floats(0.0, 2 * np.pi))
def test_mapping_reproduces_eps_d_and_eps_n(eps_d, eps_n, th13, th23, dcp):
    model = SolarNSI(fermion="u")
    params = {"eps_D": eps_d, "eps_N": eps_n, "th13": th13, "th23": th23, "dcp": dcp}
    couplings = model.couplings(params)
    got_d, got_n = effective_nsi(couplings.eps0["u"], th13, th23, dcp)
    assert got_d == pytest.approx(eps_d, abs=1e-12)
    assert got_n == pytest.approx(eps_n, abs=1e-12)


def test_fermion_option_and_derived():
    params = {"eps_D": -0.14, "eps_N": -0.03, "th13": np.radians(8.6), "th23": np.radians(45)}
    d = SolarNSI(fermion="d").couplings(params)
    assert set(d.eps0) == {"d"}
    derived = SolarNSI().derived(params)["eps_ee_minus_mumu"]
    # Esteban et al. 2018 best fit eps_D^u = -0.140 goes with eps_ee - eps_mumu = +0.298 there
    assert derived == pytest.approx(0.287, abs=0.005)
    with pytest.raises(ValueError, match="fermion"):
        SolarNSI(fermion="s")


def test_zero_parameters_give_no_nsi():
    assert not SolarNSI().couplings({"eps_D": 0.0, "eps_N": 0.0, "th13": 0.15, "th23": 0.74}).has_nsi


def test_missing_mixing_angle_is_an_error():
    """No default for th13 / th23 (the mapping to eps^f depends on them): the error names the
    parameter and the model."""
    with pytest.raises(KeyError, match="model solar_nsi needs 'th23'"):
        SolarNSI().couplings({"eps_D": 0.1, "eps_N": 0.0, "th13": 0.15})
