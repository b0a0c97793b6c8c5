"""The compiled kernel (``kernel="numba"``, the default) against the numpy reference kernel:
same probabilities, same fallback points, same errors; the choice is explicit and a missing
numba is an error that names the fix."""
from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import globalfit.physics
from globalfit.physics import oscillation as osc
from globalfit.physics import oscillation_numba
from globalfit.physics.nsi import nsi_matrix

EPS_COMPLEX = nsi_matrix(0.4, -0.3, 0.2 * np.exp(0.7j), 0.15 * np.exp(-2.1j), 0.3 * np.exp(1.3j))
TOLERANCE = 1e-12


def phase_tolerance(params, baseline_km, energy_gev):
    """1e-12 plus 1e-14 per radian of the largest vacuum phase: both kernels round the phases
    (eigenvalue x baseline, up to ~800 rad here) in double precision (seen: 3.3e-12 at 809 rad,
    where the numpy kernel differs from eigh by as much)."""
    return TOLERANCE + 1e-14 * 1.267 * abs(params["dm31"]) * baseline_km / np.min(energy_gev)


def both(*args, **kwargs):
    return (osc.probabilities(*args, kernel="numba", **kwargs),
            osc.probabilities(*args, kernel="numpy", **kwargs))


@pytest.mark.parametrize("n_energies", [1, 7, oscillation_numba.HYBRID_MIN_SIZE - 1,
                                        oscillation_numba.HYBRID_MIN_SIZE,
                                        oscillation_numba.HYBRID_BLOCK_SIZE + 5, 10_000])
@pytest.mark.parametrize("antineutrino", [False, True])
def test_single_point_kernels_agree(nufit_no, n_energies, antineutrino):
    """Scalar loop below HYBRID_MIN_SIZE, hybrid blocks above (a partial last block too)."""
    energy = np.geomspace(0.05, 20.0, n_energies)
    for eps in (None, EPS_COMPLEX):
        for baseline, density in ((1300.0, 2.848), (12742.0, 8.0), (295.0, 0.0)):
            fast, reference = both(energy, baseline, density, nufit_no, eps, antineutrino)
            assert fast.shape == reference.shape == (n_energies, 3, 3)
            assert np.abs(fast - reference).max() < phase_tolerance(nufit_no, baseline, energy)


def test_coefficient_table_of_one_point_equals_the_numpy_table(nufit_no):
    point = tuple(nufit_no[k] for k in osc.PARAMETER_NAMES)
    for antineutrino in (False, True):
        table = np.empty((10, 4))
        oscillation_numba.point_table(*point, EPS_COMPLEX, antineutrino, 7.3, table)
        k, m = osc._point_matrices(point, EPS_COMPLEX, antineutrino, 7.3)
        expected = osc._coefficient_table(k, m)
        assert np.abs(table - expected).max() < 1e-15 * np.abs(expected).max()


def test_batches_and_arrays_of_matter_agree(nufit_no):
    """Points with their own leading axes, a density per energy, a scalar energy."""
    rng = np.random.default_rng(5)
    n_points, energy = 6, np.geomspace(0.3, 8.0, 150)
    params = {k: v * (1 + 0.03 * rng.normal(size=(n_points, 1))) for k, v in nufit_no.items()}
    eps = np.stack([nsi_matrix(0.2 * i, -0.1 * i, 0.05j * i, 0.03, 0.1 * np.exp(1j * i))
                    for i in range(n_points)])[:, None]
    for antineutrino in (False, True):
        fast, reference = both(energy, 1300.0, 2.848, params, eps, antineutrino)
        assert fast.shape == (n_points, 150, 3, 3)
        assert np.abs(fast - reference).max() < TOLERANCE
    grid = np.geomspace(0.5, 5.0, 12).reshape(3, 4)
    fast, reference = both(grid, 700.0, np.linspace(1.0, 5.0, 4), nufit_no, EPS_COMPLEX, electron_fraction=0.47)
    assert fast.shape == (3, 4, 3, 3) and np.abs(fast - reference).max() < TOLERANCE
    fast, reference = both(2.0, 700.0, np.array([1.0, 3.0]), nufit_no)
    assert fast.shape == (2, 3, 3) and np.abs(fast - reference).max() < TOLERANCE
    fast, reference = both(2.0, 700.0, 3.0, nufit_no)
    assert fast.shape == (3, 3) and np.abs(fast - reference).max() < TOLERANCE


@pytest.mark.parametrize("n_energies", [5, 500])
def test_degenerate_points_go_to_eigh_in_both_kernels(n_energies):
    """dm21 = 0 in vacuum (two equal eigenvalues) and zero baseline (T = 0)."""
    params = {"th12": 0.6, "th13": 0.15, "th23": 0.8, "dcp": 2.0, "dm21": 0.0, "dm31": 2.5e-3}
    energy = np.geomspace(0.2, 5.0, n_energies)
    for baseline, density in ((1300.0, 0.0), (0.0, 3.0)):
        fast, reference = both(energy, baseline, density, params, EPS_COMPLEX if density else None)
        oracle = osc.probabilities_eigh(energy, baseline, density, params, EPS_COMPLEX if density else None)
        assert np.all(np.isfinite(fast))
        assert np.abs(fast - reference).max() < TOLERANCE and np.abs(fast - oracle).max() < TOLERANCE
    batch = {k: np.array([[v], [v]]) for k, v in params.items()}
    fast, reference = both(energy, 1300.0, 0.0, batch)
    assert np.all(np.isfinite(fast)) and np.abs(fast - reference).max() < TOLERANCE


def test_out_argument_with_the_compiled_kernel(nufit_no):
    energy = np.geomspace(0.1, 10.0, 300)
    expected = osc.probabilities(energy, 810.0, 2.8, nufit_no, EPS_COMPLEX, True, kernel="numpy")
    planes_view = osc.probabilities(energy, 1300.0, 2.848, nufit_no)     # (3, 3) planes moved last
    plain = np.zeros((300, 3, 3))                                         # C-ordered
    for out in (planes_view, plain):
        again = osc.probabilities(energy, 810.0, 2.8, nufit_no, EPS_COMPLEX, True, out=out)
        assert again is out and np.abs(out - expected).max() < TOLERANCE


def test_kernel_is_explicit_and_recorded():
    path = osc.ConstantDensityPath(1.0, 1300.0, 2.8)
    assert path.kernel == osc.DEFAULT_KERNEL == "numba"
    assert osc.ConstantDensityPath(1.0, 1300.0, 2.8, kernel="numpy").kernel == "numpy"
    with pytest.raises(ValueError, match="kernel: expected one of"):
        osc.ConstantDensityPath(1.0, 1300.0, 2.8, kernel="fortran")


def test_missing_numba_is_an_error_naming_the_fix(monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)                     # import numba fails
    monkeypatch.delitem(sys.modules, "globalfit.physics.oscillation_numba")
    monkeypatch.delattr(globalfit.physics, "oscillation_numba")
    with pytest.raises(ImportError, match=r"pip install 'numba>=0.59'.*kernel='numpy'"):
        osc.probabilities(1.0, 1300.0, 2.8, {"th12": 0.6, "th13": 0.15, "th23": 0.8, "dcp": 2.0,
                                              "dm21": 7e-5, "dm31": 2.5e-3})


@pytest.mark.parametrize("eps, message", [
    (np.triu(np.ones((3, 3))), "Hermitian"),
    (np.full((3, 3), np.nan), "finite"),
    (np.zeros((2, 2)), r"shape \(\.\.\., 3, 3\)"),
])
def test_compiled_kernel_validates_eps_like_the_reference(nufit_no, eps, message):
    for kernel in osc.KERNELS:
        with pytest.raises(ValueError, match=message):
            osc.probabilities(np.ones(3), 1300.0, 2.8, nufit_no, eps, kernel=kernel)


angle = st.floats(0.0, np.pi / 2)
modulus = st.floats(0.0, 1.0)
phase = st.floats(0.0, 2 * np.pi)


@settings(max_examples=60, deadline=None)
@example(th=(0.0, 0.0, 0.0, 0.0), dm21=1e-6, dm31=2.5e-3, nsi=(0.0,) * 8, energy=1.0, baseline=1.0,
         density=0.0, n_energies=1, antineutrino=False)       # found by hypothesis: no mixing at all
@given(th=st.tuples(angle, angle, angle, phase), dm21=st.floats(1e-6, 1e-3),
       dm31=st.one_of(st.floats(-4e-3, -1e-3), st.floats(1e-3, 4e-3)),
       nsi=st.tuples(st.floats(-2.5, 1.0), st.floats(-1.0, 1.0), modulus, phase, modulus, phase, modulus, phase),
       energy=st.floats(0.01, 100.0), baseline=st.floats(0.0, 13000.0), density=st.floats(0.0, 20.0),
       n_energies=st.sampled_from([1, 3, 100]), antineutrino=st.booleans())
def test_kernels_agree_on_random_points(th, dm21, dm31, nsi, energy, baseline, density, n_energies, antineutrino):
    params = dict(zip(("th12", "th13", "th23", "dcp"), th), dm21=dm21, dm31=dm31)
    dee, dtt, m1, p1, m2, p2, m3, p3 = nsi
    eps = nsi_matrix(dee, dtt, m1 * np.exp(1j * p1), m2 * np.exp(1j * p2), m3 * np.exp(1j * p3))
    energies = energy * np.geomspace(1.0, 3.0, n_energies)
    fast, reference = both(energies, baseline, density, params, eps, antineutrino)
    # both round the phases (eigenvalue x baseline, up to thousands of rad) in double precision;
    # the numpy kernel alone is good to 2e-12 where there is no mixing at all (see below)
    max_phase = 1.267 * max(abs(dm31), dm21) * baseline / energies.min()
    assert np.abs(fast - reference).max() < 2e-12 + 1e-13 * max_phase


def test_kernels_without_mixing_give_the_identity():
    """Zero angles, no NSI, vacuum: P = 1 exactly; measured 1.5e-12 off for the numpy kernel
    and 1.7e-13 for the compiled one (the closed form's rounding at a fully degenerate
    mixing), hence the 2e-12 floor of the random-point comparison above."""
    params = {"th12": 0.0, "th13": 0.0, "th23": 0.0, "dcp": 0.0, "dm21": 1e-6, "dm31": 2.5e-3}
    for kernel in osc.KERNELS:
        p = osc.probabilities(np.array([1.0, 3.0]), 1.0, 0.0, params, np.zeros((3, 3)), kernel=kernel)
        assert np.abs(p - np.eye(3)).max() < 2e-12
