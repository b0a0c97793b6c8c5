"""Oscillation engine: limits, symmetries, unitarity, oracle agreement, bad input."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm

from globalfit.physics import oscillation as osc
from globalfit.physics.constants import MATTER_POTENTIAL_EV_PER_GCC, OSCILLATION_PHASE_KM_GEV
from globalfit.physics.nsi import nsi_matrix

EPS_COMPLEX = nsi_matrix(0.4, -0.3, 0.2 * np.exp(0.7j), 0.15 * np.exp(-2.1j), 0.3 * np.exp(1.3j))


def inverted(params):
    out = dict(params)
    out["dm31"] = -params["dm31"] + params["dm21"]
    return out


def analytic_vacuum(energy_gev, baseline_km, params, antineutrino=False):
    """Textbook vacuum formula P = delta - 4 sum Re(..) sin^2 + 2 sum Im(..) sin."""
    u = osc.pmns_matrix(params["th12"], params["th13"], params["th23"], params["dcp"])
    if antineutrino:
        u = np.conj(u)
    masses = np.array([0.0, params["dm21"], params["dm31"]])
    energy = np.asarray(energy_gev, float)[..., None, None]
    p = np.broadcast_to(np.eye(3), energy.shape[:-2] + (3, 3)).copy()
    for i in range(3):
        for j in range(i + 1, 3):
            x = OSCILLATION_PHASE_KM_GEV * (masses[j] - masses[i]) * baseline_km / energy
            # PDG, heavier state j: quartic[a, b] = conj(U_aj) U_bj U_ai conj(U_bi)
            quartic = np.conj(u[:, j])[:, None] * u[:, j][None, :] * u[:, i][:, None] * np.conj(u[:, i])[None, :]
            p = p - 4 * quartic.real * np.sin(x) ** 2 + 2 * quartic.imag * np.sin(2 * x)
    return p


def test_pmns_matrix_entries_follow_pdg(nufit_no):
    p = nufit_no
    u = osc.pmns_matrix(p["th12"], p["th13"], p["th23"], p["dcp"])
    assert np.allclose(u @ np.conj(u.T), np.eye(3), atol=1e-14)
    assert u[0, 2] == pytest.approx(np.sin(p["th13"]) * np.exp(-1j * p["dcp"]), abs=1e-15)
    assert abs(u[0, 1]) == pytest.approx(np.sin(p["th12"]) * np.cos(p["th13"]), abs=1e-15)
    assert abs(u[1, 2]) == pytest.approx(np.sin(p["th23"]) * np.cos(p["th13"]), abs=1e-15)


@pytest.mark.parametrize("antineutrino", [False, True])
@pytest.mark.parametrize("ordering", ["normal", "inverted"])
def test_vacuum_limit_matches_analytic_formula(nufit_no, antineutrino, ordering):
    params = nufit_no if ordering == "normal" else inverted(nufit_no)
    energy = np.geomspace(0.05, 20.0, 400)
    for baseline in (1.0, 295.0, 1300.0, 12742.0):
        p = osc.probabilities(energy, baseline, 0.0, params, antineutrino=antineutrino)
        expected = analytic_vacuum(energy, baseline, params, antineutrino)
        assert np.abs(p - expected).max() < 1e-10


def test_cp_phase_sign_convention(nufit_no):
    """delta = -pi/2 enhances nu_mu -> nu_e (the T2K preference), suppresses nubar."""
    lo, hi = dict(nufit_no, dcp=-np.pi / 2), dict(nufit_no, dcp=np.pi / 2)
    p_lo = osc.probabilities(0.6, 295.0, 2.6, lo)[1, 0]
    p_hi = osc.probabilities(0.6, 295.0, 2.6, hi)[1, 0]
    assert p_lo > 1.3 * p_hi
    pb_lo = osc.probabilities(0.6, 295.0, 2.6, lo, antineutrino=True)[1, 0]
    pb_hi = osc.probabilities(0.6, 295.0, 2.6, hi, antineutrino=True)[1, 0]
    assert pb_lo < pb_hi


@pytest.mark.parametrize("antineutrino", [False, True])
def test_closed_form_matches_eigh_oracle(nufit_no, antineutrino):
    energy = np.geomspace(0.01, 100.0, 300)
    for params in (nufit_no, inverted(nufit_no)):
        for eps in (None, EPS_COMPLEX):
            for baseline, density in ((1.0, 2.6), (295.0, 2.6), (1300.0, 2.848), (12742.0, 13.0), (500.0, 150.0)):
                fast = osc.probabilities(energy, baseline, density, params, eps, antineutrino)
                oracle = osc.probabilities_eigh(energy, baseline, density, params, eps, antineutrino)
                assert np.abs(fast - oracle).max() < 1e-10


def test_unitarity_of_probabilities_and_operator(nufit_no):
    energy = np.geomspace(0.1, 10.0, 200)
    p = osc.probabilities(energy, 1300.0, 2.848, nufit_no, EPS_COMPLEX)
    assert np.allclose(p.sum(axis=-1), 1.0, atol=1e-13)
    assert np.allclose(p.sum(axis=-2), 1.0, atol=1e-13)
    assert p.min() > -1e-13
    # the full operator is a genuine check: no entry is completed by unitarity there
    s = osc.evolution_operator(energy, [(1300.0, 2.848, 0.5)], nufit_no, EPS_COMPLEX)
    identity = s @ np.conj(np.swapaxes(s, -1, -2))
    assert np.abs(identity - np.eye(3)).max() < 1e-12


@pytest.mark.parametrize("antineutrino", [False, True])
def test_operator_matches_matrix_exponential(nufit_no, antineutrino):
    """S = expm(-i H L) including the overall phase (scipy as an independent oracle)."""
    energy = np.array([0.3, 2.0, 7.0])
    baseline, density, y_e = 2000.0, 4.0, 0.48
    s = osc.evolution_operator(energy, [(baseline, density, y_e)], nufit_no, EPS_COMPLEX, antineutrino)
    h = osc.hamiltonian_ev(energy, density, nufit_no, EPS_COMPLEX, antineutrino, y_e)
    for i in range(len(energy)):
        expected = expm(-1j * h[i] * baseline * osc.LENGTH_EV_INV_PER_KM)
        assert np.abs(s[i] - expected).max() < 1e-11


def test_antineutrino_is_conjugate_hamiltonian(nufit_no):
    """nubar: H -> conj(H_vac - H_mat); check through expm, and CPT in vacuum."""
    energy = np.geomspace(0.2, 5.0, 50)
    p_bar = osc.probabilities(energy, 810.0, 2.8, nufit_no, EPS_COMPLEX, antineutrino=True)
    h = osc.hamiltonian_ev(energy, 2.8, nufit_no, EPS_COMPLEX, antineutrino=False)
    h_vac = osc.hamiltonian_ev(energy, 0.0, nufit_no)
    h_bar = np.conj(h_vac - (h - h_vac))
    for i in range(0, len(energy), 7):
        s = expm(-1j * h_bar[i] * 810.0 * osc.LENGTH_EV_INV_PER_KM)
        assert np.abs(np.abs(s.T) ** 2 - p_bar[i]).max() < 1e-10
    # CPT in vacuum: P(nubar_b -> nubar_a) = P(nu_a -> nu_b)
    p = osc.probabilities(energy, 810.0, 0.0, nufit_no)
    p_bar_vac = osc.probabilities(energy, 810.0, 0.0, nufit_no, antineutrino=True)
    assert np.abs(p - np.swapaxes(p_bar_vac, -1, -2)).max() < 1e-12
    # and matter breaks the nu / nubar symmetry at DUNE energies
    assert np.abs(p_bar[:, 1, 0] - osc.probabilities(energy, 810.0, 2.8, nufit_no, EPS_COMPLEX)[:, 1, 0]).max() > 1e-2


def test_zero_and_identity_eps_equal_standard(nufit_no):
    energy = np.geomspace(0.1, 10.0, 100)
    standard = osc.probabilities(energy, 1300.0, 2.848, nufit_no)
    assert np.abs(osc.probabilities(energy, 1300.0, 2.848, nufit_no, np.zeros((3, 3))) - standard).max() < 1e-14
    universal = 0.7 * np.eye(3)          # flavour-universal NSI only shifts a global phase
    assert np.abs(osc.probabilities(energy, 1300.0, 2.848, nufit_no, universal) - standard).max() < 1e-11


@pytest.mark.parametrize("eps_ee", [-0.6, 0.5, 2.0])
def test_eps_ee_acts_like_rescaled_density(nufit_no, eps_ee):
    energy = np.geomspace(0.1, 30.0, 200)
    eps = np.diag([eps_ee, 0.0, 0.0]).astype(complex)
    with_nsi = osc.probabilities(energy, 3000.0, 3.3, nufit_no, eps)
    rescaled = osc.probabilities(energy, 3000.0, 3.3 * (1.0 + eps_ee), nufit_no)
    assert np.abs(with_nsi - rescaled).max() < 1e-11


def test_two_flavour_msw_resonance():
    """th13 = 0: nu_e lives in a two-state system; maximal mixing at the MSW resonance
    V = (dm21 / 2E) cos 2 th12, and P_ee follows the two-flavour matter formula."""
    th12, dm21 = 0.5, 8.0e-5
    params = {"th12": th12, "th13": 0.0, "th23": 0.7, "dcp": 1.0, "dm21": dm21, "dm31": 2.5e-3}
    density = 100.0
    v_ev = MATTER_POTENTIAL_EV_PER_GCC * 0.5 * density
    energy_res_gev = dm21 * np.cos(2 * th12) / (2 * v_ev) * 1e-9
    energy = energy_res_gev * np.linspace(0.3, 3.0, 271)
    k = dm21 / (2 * energy * 1e9)                       # eV
    sin2, cos2 = k * np.sin(2 * th12), k * np.cos(2 * th12) - v_ev
    split = np.hypot(sin2, cos2)                        # eigenvalue difference, eV
    sin2_2theta_m = (sin2 / split) ** 2
    baseline = 5000.0
    phase = split * baseline * osc.LENGTH_EV_INV_PER_KM / 2
    expected = 1.0 - sin2_2theta_m * np.sin(phase) ** 2
    p = osc.probabilities(energy, baseline, density, params)
    assert np.abs(p[:, 0, 0] - expected).max() < 1e-10
    # resonance: mixing maximal at E_res; a baseline of half an oscillation empties nu_e
    assert np.argmax(sin2_2theta_m) == 70
    half_period_km = np.pi / (dm21 * np.sin(2 * th12) / (2 * energy_res_gev * 1e9) * osc.LENGTH_EV_INV_PER_KM)
    assert osc.probabilities(energy_res_gev, half_period_km, density, params)[0, 0] < 1e-12
    # antineutrinos have no resonance in the normal 1-2 ordering
    pbar = osc.probabilities(energy_res_gev, half_period_km, density, params, antineutrino=True)
    assert pbar[0, 0] > 0.5


def test_degenerate_vacuum_uses_fallback():
    """dm21 = 0 in vacuum: two equal eigenvalues (closed form invalid, eigh fallback)."""
    params = {"th12": 0.6, "th13": 0.15, "th23": 0.8, "dcp": 2.0, "dm21": 0.0, "dm31": 2.5e-3}
    energy = np.geomspace(0.2, 5.0, 64)
    p = osc.probabilities(energy, 1300.0, 0.0, params)
    sin2_2th13 = np.sin(2 * 0.15) ** 2
    expected_ee = 1 - sin2_2th13 * np.sin(OSCILLATION_PHASE_KM_GEV * 2.5e-3 * 1300.0 / energy) ** 2
    assert np.abs(p[:, 0, 0] - expected_ee).max() < 1e-12
    assert np.abs(p - analytic_vacuum(energy, 1300.0, params)).max() < 1e-12
    s = osc.evolution_operator(energy, [(1300.0, 0.0, 0.5)], params)
    assert np.abs(np.abs(np.swapaxes(s, -1, -2)) ** 2 - p).max() < 1e-12


def test_zero_baseline_is_identity(nufit_no):
    p = osc.probabilities([0.5, 5.0], 0.0, 3.0, nufit_no, EPS_COMPLEX)
    assert np.abs(p - np.eye(3)).max() < 1e-15


def test_batched_parameters_broadcast_against_energies(nufit_no):
    rng = np.random.default_rng(3)
    n_points, energy = 5, np.geomspace(0.5, 5.0, 40)
    params = {k: v + 0.02 * rng.normal(size=(n_points, 1)) * (abs(v) if k.startswith("dm") else 1)
              for k, v in nufit_no.items()}
    eps = np.stack([nsi_matrix(0.1 * i, -0.05 * i, 0.05j * i, 0.02, 0.1 * np.exp(1j * i)) for i in range(n_points)])
    p = osc.probabilities(energy, 1300.0, 2.848, params, eps[:, None])
    assert p.shape == (n_points, len(energy), 3, 3)
    for i in range(n_points):   # one point takes the compact kernel: same closed form, other rounding
        single = {k: float(v[i, 0]) for k, v in params.items()}
        assert np.abs(p[i] - osc.probabilities(energy, 1300.0, 2.848, single, eps[i])).max() < 1e-13
    # energies of any shape; density per energy
    grid = np.geomspace(0.5, 5.0, 12).reshape(3, 4)
    density = np.linspace(1.0, 5.0, 4)
    q = osc.probabilities(grid, 700.0, density, nufit_no, EPS_COMPLEX, electron_fraction=0.47)
    assert q.shape == (3, 4, 3, 3)
    oracle = osc.probabilities_eigh(grid, 700.0, density, nufit_no, EPS_COMPLEX, electron_fraction=0.47)
    assert np.abs(q - oracle).max() < 1e-12


@pytest.mark.parametrize("kernel", osc.KERNELS)
def test_large_batches_cross_block_boundaries(nufit_no, kernel):
    energy = np.geomspace(0.1, 10.0, osc.BLOCK_SIZE + 123)
    p = osc.probabilities(energy, 1300.0, 2.848, nufit_no, EPS_COMPLEX, kernel=kernel)
    oracle = osc.probabilities_eigh(energy, 1300.0, 2.848, nufit_no, EPS_COMPLEX)
    assert np.abs(p - oracle).max() < 1e-11


def test_two_half_layers_equal_one_layer(nufit_no):
    energy = np.geomspace(0.1, 10.0, 60)
    one = osc.evolution_operator(energy, [(1300.0, 2.848, 0.5)], nufit_no, EPS_COMPLEX)
    two = osc.evolution_operator(energy, [(650.0, 2.848, 0.5), (650.0, 2.848, 0.5)], nufit_no, EPS_COMPLEX)
    assert np.abs(one - two).max() < 1e-12
    p = osc.probabilities_layers(energy, [(650.0, 2.848, 0.5)] * 2, nufit_no, EPS_COMPLEX)
    assert np.abs(p - osc.probabilities(energy, 1300.0, 2.848, nufit_no, EPS_COMPLEX)).max() < 1e-12


def test_layer_order_matters_and_is_product(nufit_no):
    energy = np.array([0.05, 0.3, 3.0])
    layers = [(3000.0, 3.0, 0.494), (2000.0, 11.0, 0.466)]
    forward = osc.evolution_operator(energy, layers, nufit_no, EPS_COMPLEX)
    single = [osc.evolution_operator(energy, [layer], nufit_no, EPS_COMPLEX) for layer in layers]
    assert np.abs(forward - single[1] @ single[0]).max() < 1e-13
    backward = osc.evolution_operator(energy, layers[::-1], nufit_no, EPS_COMPLEX)
    assert np.abs(np.abs(forward) - np.abs(backward)).max() > 1e-3


@pytest.mark.parametrize("call, message", [
    (lambda p: osc.probabilities(-1.0, 1300.0, 2.8, p), "energy_gev"),
    (lambda p: osc.probabilities(np.nan, 1300.0, 2.8, p), "energy_gev"),
    (lambda p: osc.probabilities(1.0, -5.0, 2.8, p), "baseline_km"),
    (lambda p: osc.probabilities(1.0, 1300.0, -2.8, p), "density_gcc"),
    (lambda p: osc.probabilities(1.0, 1300.0, 2.8, p, electron_fraction=1.5), "electron_fraction"),
    (lambda p: osc.probabilities(1.0, 1300.0, 2.8, p, eps=np.zeros((2, 2))), "eps"),
    (lambda p: osc.probabilities(1.0, 1300.0, 2.8, p, eps=np.triu(np.ones((3, 3)))), "Hermitian"),
    (lambda p: osc.probabilities(1.0, 1300.0, 2.8, p, eps=np.full((3, 3), np.nan)), "eps"),
    (lambda p: osc.probabilities(1.0, 1300.0, 2.8, {k: v for k, v in p.items() if k != "dm31"}), "dm31"),
    (lambda p: osc.probabilities(1.0, 1300.0, 2.8, dict(p, th12=np.nan)), "th12"),
    (lambda p: osc.evolution_operator(1.0, [], p), "layers"),
    (lambda p: osc.evolution_operator(1.0, [(100.0, 2.0)], p), "layers"),
])
def test_bad_input_raises_value_error(nufit_no, call, message):
    with pytest.raises(ValueError, match=message):
        call(nufit_no)


def test_incompatible_shapes_raise(nufit_no):
    params = dict(nufit_no, th12=np.full(3, 0.58))
    with pytest.raises(ValueError):
        osc.probabilities(np.ones(4), 1300.0, 2.8, params)


@pytest.mark.parametrize("kernel", osc.KERNELS)
@pytest.mark.parametrize("ratio", [1e-2, 1e-3, 5e-4, 3e-4, 2e-4, 1e-4, 1e-6, 0.0])
def test_accuracy_across_the_fallback_threshold(ratio, kernel):
    """dm21 -> 0: closed form down to the threshold, eigh below it; error stays < 2e-10."""
    params = {"th12": 0.58, "th13": 0.15, "th23": 0.74, "dcp": 4.0, "dm21": 2.5e-3 * ratio, "dm31": 2.5e-3}
    energy = np.geomspace(0.1, 10.0, 500)
    for density in (0.0, 1e-3, 3.0):
        for baseline in (1300.0, 12742.0):
            fast = osc.probabilities(energy, baseline, density, params, kernel=kernel)
            oracle = osc.probabilities_eigh(energy, baseline, density, params)
            assert np.abs(fast - oracle).max() < 2e-10


def test_large_and_small_batches_of_layers_agree(nufit_no):
    """Large batches multiply layer by layer, small ones pairwise: same operator."""
    layers = [(300.0, 3.0, 0.5), (0.0, 3.0, 0.5), (500.0, 10.0, 0.47), (200.0, 0.0, 0.5), (120.0, 2.6, 0.49)]
    energy = np.geomspace(0.01, 10.0, 1500)
    large = osc.evolution_operator(energy, layers, nufit_no, EPS_COMPLEX)
    small = osc.evolution_operator(energy[::100], layers, nufit_no, EPS_COMPLEX)
    assert np.abs(large[::100] - small).max() < 1e-12
    product = np.eye(3)
    for layer in layers:
        product = osc.evolution_operator(energy, [layer], nufit_no, EPS_COMPLEX) @ product
    assert np.abs(large - product).max() < 1e-12
    for i in (0, 700, 1499):
        expected = np.eye(3)
        for length, density, y_e in layers:
            h = osc.hamiltonian_ev(energy[i], density, nufit_no, EPS_COMPLEX, False, y_e)
            expected = expm(-1j * h * length * osc.LENGTH_EV_INV_PER_KM) @ expected
        assert np.abs(large[i] - expected).max() < 1e-10


def test_out_argument_is_reused(nufit_no):
    energy = np.geomspace(0.1, 10.0, 300)
    first = osc.probabilities(energy, 1300.0, 2.848, nufit_no, EPS_COMPLEX)
    expected = osc.probabilities(energy, 810.0, 2.8, nufit_no, EPS_COMPLEX, True)
    again = osc.probabilities(energy, 810.0, 2.8, nufit_no, EPS_COMPLEX, True, out=first)
    assert again is first and np.array_equal(first, expected)
    plain = np.zeros((300, 3, 3))                      # a C-ordered array works too
    osc.probabilities(energy, 810.0, 2.8, nufit_no, EPS_COMPLEX, True, out=plain)
    assert np.array_equal(plain, expected)
    scalar = np.zeros((3, 3))
    osc.probabilities(1.0, 810.0, 2.8, nufit_no, out=scalar)
    assert np.allclose(scalar, osc.probabilities_eigh(1.0, 810.0, 2.8, nufit_no), atol=1e-12)
    with pytest.raises(ValueError, match="out"):
        osc.probabilities(energy, 810.0, 2.8, nufit_no, out=np.zeros((299, 3, 3)))


@pytest.mark.parametrize("kernel", osc.KERNELS)
@pytest.mark.parametrize("n_energies", [1, 7, osc.COMPACT_MAX_SIZE, osc.COMPACT_MAX_SIZE + 1])
@pytest.mark.parametrize("antineutrino", [False, True])
def test_single_point_paths_match_eigh_and_batched_kernel(nufit_no, n_energies, antineutrino, kernel):
    """One point (numpy kernel: compact up to COMPACT_MAX_SIZE energies, blocked above; numba:
    scalar loop, then hybrid blocks) equals the eigh oracle and the batched path of the same
    kernel; a ConstantDensityPath reused across points too."""
    energy = np.geomspace(0.05, 20.0, n_energies)
    path = osc.ConstantDensityPath(energy, 1300.0, 2.848, kernel=kernel)
    for params in (nufit_no, inverted(nufit_no)):
        for eps in (None, EPS_COMPLEX):
            fast = path.probabilities(params, eps, antineutrino)
            oracle = osc.probabilities_eigh(energy, 1300.0, 2.848, params, eps, antineutrino)
            assert np.abs(fast - oracle).max() < 1e-10
            batch = {k: np.array([[v]]) for k, v in params.items()}
            batched = path.probabilities(batch, None if eps is None else eps[None, None], antineutrino)[0]
            assert np.abs(fast - batched).max() < 1e-12
            assert np.array_equal(fast, osc.probabilities(energy, 1300.0, 2.848, params, eps, antineutrino,
                                                          kernel=kernel))
