"""NuTeV likelihood and the DIS couplings: SM values, NSI shifts, Davidson et al. bounds,
light-mediator fading."""
from __future__ import annotations

import numpy as np
import pytest

from globalfit.couplings import Couplings
from globalfit.likelihood import Point
from globalfit.physics.dis import (
    Q2Distribution,
    effective_couplings_squared,
    normalised_quark_couplings,
    tree_level_quark_couplings,
)
from likelihoods.nutev import NuTeVLikelihood

MU = 1  # flavour index


def chiral(quark: str, chirality: str, value: float, a: int = MU, b: int = MU, mzp_gev=None) -> Couplings:
    m = np.zeros((3, 3), complex)
    m[a, b] = value
    m[b, a] = np.conj(value)
    return Couplings(eps0_chiral={(quark, chirality): m}, mzp_gev=mzp_gev)


def interval(likelihood, make, grid, level=2.71):
    """Values of a single coupling with Delta chi^2 (to the grid minimum) below ``level``."""
    chi2 = np.array([likelihood.chi2(Point({}, make(x))) for x in grid])
    allowed = grid[chi2 - chi2.min() <= level]
    return allowed.min(), allowed.max()


@pytest.fixture(scope="module")
def nutev():
    return NuTeVLikelihood()


def test_standard_model_point_gives_published_sm_couplings(nutev):
    predicted = nutev.predict(Point({}))
    assert predicted == pytest.approx([0.3042, 0.0301], abs=1e-12)


def test_tree_level_couplings_close_to_published_sm():
    # tree level at the SM sin^2 theta_W: g_L^2 within 0.3 %, g_R^2 within 10 % (radiative
    # corrections, mostly in g_R); a failure means a wrong coupling formula.
    tree = tree_level_quark_couplings(0.2227)
    gl2 = tree["u", "L"] ** 2 + tree["d", "L"] ** 2
    gr2 = tree["u", "R"] ** 2 + tree["d", "R"] ** 2
    assert gl2 == pytest.approx(0.5 - 0.2227 + 5 / 9 * 0.2227**2, rel=1e-12)
    assert gl2 == pytest.approx(0.3042, rel=3e-3)
    assert gr2 == pytest.approx(0.0301, rel=0.1)


def test_nsi_shift_matches_hand_computation():
    q = normalised_quark_couplings(0.2227, 0.3042, 0.0301)
    eps_ul, eps_dr, eps_emu = 0.01, -0.02, 0.05 + 0.03j
    m_u = np.zeros((3, 3), complex)
    m_u[1, 1] = eps_ul
    m_u[0, 1], m_u[1, 0] = eps_emu, np.conj(eps_emu)
    m_d = np.zeros((3, 3), complex)
    m_d[1, 1] = eps_dr
    c = Couplings(eps0_chiral={("u", "L"): m_u, ("d", "R"): m_d})
    g2 = effective_couplings_squared(c, "mu", q)
    hand_l = (q["u", "L"] + eps_ul) ** 2 + abs(eps_emu) ** 2 + q["d", "L"] ** 2
    hand_r = q["u", "R"] ** 2 + (q["d", "R"] + eps_dr) ** 2
    assert g2["L"] == pytest.approx(hand_l, rel=1e-12)
    assert g2["R"] == pytest.approx(hand_r, rel=1e-12)


def test_vector_coupling_splits_equally_into_chiralities():
    q = normalised_quark_couplings(0.2227, 0.3042, 0.0301)
    eps = np.diag([0.0, 0.04, 0.0])
    g2 = effective_couplings_squared(Couplings(eps0={"d": eps}), "mu", q)
    assert g2["L"] == pytest.approx(q["u", "L"] ** 2 + (q["d", "L"] + 0.02) ** 2, rel=1e-12)
    assert g2["R"] == pytest.approx(q["u", "R"] ** 2 + (q["d", "R"] + 0.02) ** 2, rel=1e-12)


@pytest.mark.parametrize(
    "quark, chirality, low, high",
    [("u", "R", -0.008, 0.003), ("d", "R", -0.008, 0.015)],
)
def test_right_handed_bounds_reproduce_davidson(nutev, quark, chirality, low, high):
    # Davidson et al. JHEP 0303 (2003) 011, 90 % CL (FROM MEMORY); they quote one significant
    # figure, so agreement to 0.001 is what can be asked.
    grid = np.linspace(-0.03, 0.03, 6001)
    lo, hi = interval(nutev, lambda x: chiral(quark, chirality, x), grid)
    assert lo == pytest.approx(low, abs=1e-3)
    assert hi == pytest.approx(high, abs=1e-3)


@pytest.mark.parametrize("quark", ["u", "d"])
def test_left_handed_bounds_reproduce_davidson_when_centred_on_sm(quark):
    # |eps^{qL}_mumu| < 0.003 (Davidson et al.) corresponds to g_L^2 centred on its SM value
    # (the NuTeV anomaly set aside); with the measured centre zero is excluded (test below).
    sm_centred = NuTeVLikelihood(centre="standard_model")
    grid = np.linspace(-0.02, 0.02, 4001)
    lo, hi = interval(sm_centred, lambda x: chiral(quark, "L", x), grid)
    assert lo == pytest.approx(-0.003, abs=6e-4)
    assert hi == pytest.approx(0.003, abs=6e-4)


def test_measured_gl2_prefers_nonzero_left_handed_nsi(nutev):
    # g_L^2 is 3 sigma below the SM: only eps^{uL}_mumu < 0 lowers it.
    grid = np.linspace(-0.02, 0.02, 4001)
    lo, hi = interval(nutev, lambda x: chiral("u", "L", x), grid)
    assert hi < 0.0
    zl, zr, rho = (0.3042 - 0.30005) / 0.00137, (0.0301 - 0.03076) / 0.00110, -0.017
    hand = (zl**2 + zr**2 - 2 * rho * zl * zr) / (1 - rho**2)
    assert nutev.chi2(Point({})) == pytest.approx(hand, rel=1e-10)


def test_light_mediator_suppression_factor_in_mean_mode():
    # With a single Q^2 every NSI amplitude is multiplied by m^2 / (m^2 + Q^2).
    lk = NuTeVLikelihood(q2_mode="mean")
    eps, q2 = 0.01, 20.0
    heavy = lk.predict(Point({}, chiral("u", "L", eps)))
    sm = lk.predict(Point({}))
    for mzp in (0.1, 1.0, 4.47, 30.0):
        factor = mzp**2 / (mzp**2 + q2)
        light = lk.predict(Point({}, chiral("u", "L", eps, mzp_gev=mzp)))
        equivalent = lk.predict(Point({}, chiral("u", "L", eps * factor)))
        assert light == pytest.approx(equivalent, rel=1e-12)
        assert abs(light[0] - sm[0]) < abs(heavy[0] - sm[0])


def test_bound_fades_for_light_mediator(nutev):
    grid = np.linspace(-0.05, 0.05, 2001)
    heavy = interval(nutev, lambda x: chiral("d", "R", x), grid)
    light = interval(nutev, lambda x: chiral("d", "R", x, mzp_gev=0.3), np.linspace(-50, 50, 2001))
    # at m_Z' = 300 MeV the Q^2-averaged suppression is ~1e-2: the bound weakens by ~100
    assert (light[1] - light[0]) / (heavy[1] - heavy[0]) > 30


def test_distribution_average_exceeds_mean_value_suppression():
    # f(Q^2) is convex: <f> >= f(<Q^2>) (Jensen); equality for a single Q^2.
    dist = Q2Distribution.parton_model_with_mean(20.0, 20.0)
    assert dist.mean_q2("L") == pytest.approx(20.0, rel=1e-8)
    for mzp in (0.01, 0.3, 3.0):
        f1, f2 = dist.propagator_moments(mzp, "L")
        assert f1 >= mzp**2 / (mzp**2 + 20.0)
        assert f1**2 <= f2 <= f1
    assert dist.propagator_moments(None, "R") == (1.0, 1.0)


def test_bad_options_raise():
    with pytest.raises(ValueError, match="q2_mode"):
        NuTeVLikelihood(q2_mode="median")
    with pytest.raises(ValueError, match="centre"):
        NuTeVLikelihood(centre="elsewhere")
    with pytest.raises(ValueError, match="sin2_theta_w"):
        tree_level_quark_couplings(1.5)


def test_log_bin_compression_keeps_propagator_averages():
    from globalfit.physics.dis import compress_log_bins

    rng = np.random.default_rng(3)
    q2 = np.exp(rng.uniform(np.log(1.0), np.log(300.0), 50000))
    w = rng.uniform(0, 1, q2.size)
    w /= w.sum()
    q2_c, w_c = compress_log_bins(q2, w)
    assert np.dot(w_c, q2_c) == pytest.approx(np.dot(w, q2), rel=1e-12)
    for mzp in (0.01, 0.3, 3.0, 30.0):
        m2 = mzp**2
        assert np.dot(w_c, m2 / (m2 + q2_c)) == pytest.approx(np.dot(w, m2 / (m2 + q2)), rel=1e-4)


# --- reproduction: the bound as a function of m_Z' (docs/reproductions/scattering.md) -----------
def bound_versus_mass(likelihood, quark, flavour, masses_gev, width, n=801):
    """Upper and lower 90 % CL edges (Delta chi^2 <= 2.71 to the scan minimum) of a vector
    eps^q_aa at each mediator mass; the scan range is scaled by 1 / <f>."""
    dist = likelihood.q2_distribution
    edges = []
    for mzp in masses_gev:
        f1 = 1.0 if mzp is None else dist.propagator_moments(mzp, "L")[0]
        grid = np.linspace(-width / f1, width / f1, n)

        def make(x, mzp=mzp):
            m = np.zeros((3, 3))
            m[flavour, flavour] = x
            return Couplings(eps0={quark: m}, mzp_gev=mzp)

        edges.append(interval(likelihood, make, grid))
    return np.array(edges)


@pytest.mark.slow
def test_reproduce_bounds_fade_with_mediator_mass(tmp_path):
    import os

    from likelihoods.charm import CharmLikelihood

    masses = np.geomspace(1e-3, 100.0, 21)
    cases = {
        # label: (likelihood, quark, flavour, scan half-width at f = 1, tolerance of 1/<f> scaling)
        r"NuTeV $\epsilon^u_{\mu\mu}$": (NuTeVLikelihood(centre="standard_model"), "u", 1, 0.02, 0.1),
        r"NuTeV $\epsilon^d_{\mu\mu}$": (NuTeVLikelihood(centre="standard_model"), "d", 1, 0.02, 0.1),
        r"CHARM $\epsilon^u_{ee}$": (CharmLikelihood(), "u", 0, 3.0, 0.5),
        r"CHARM $\epsilon^d_{ee}$": (CharmLikelihood(), "d", 0, 3.0, 0.5),
    }
    results = {}
    for label, (lk, quark, flavour, width, tolerance) in cases.items():
        heavy = bound_versus_mass(lk, quark, flavour, [None], width)[0]
        edges = bound_versus_mass(lk, quark, flavour, masses, width)
        results[label] = (heavy, edges)
        upper = edges[:, 1]
        # heavy limit recovered at 100 GeV (f ~ 0.998); below sqrt(<Q^2>) the bound grows as
        # 1/<f>: exactly where the linear term dominates (NuTeV), only roughly where the
        # quadratic term with <f^2> != <f>^2 matters (CHARM, |eps| ~ 1)
        assert upper[-1] == pytest.approx(heavy[1], rel=0.03)
        f1 = np.array([lk.q2_distribution.propagator_moments(m, "L")[0] for m in masses])
        light = masses < 0.1
        assert np.allclose(upper[light] * f1[light], heavy[1], rtol=tolerance)
        assert np.all(np.diff(upper) <= 1e-12 * np.abs(upper[:-1]) + 1e-9)
    if os.environ.get("GLOBALFIT_WRITE_FIGURES"):
        write_bound_figure(masses, results, os.environ["GLOBALFIT_WRITE_FIGURES"])


def write_bound_figure(masses, results, folder):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for (label, (heavy, edges)), colour in zip(results.items(), ("C0", "C1", "C2", "C3")):
        ax.plot(masses * 1e3, edges[:, 1], color=colour, label=label + " (upper)")
        ax.plot(masses * 1e3, -edges[:, 0], color=colour, ls="--", lw=1)
        ax.axhline(heavy[1], color=colour, ls=":", lw=0.8)
    ax.axvline(10.0, color="grey", lw=0.8)
    ax.axhline(0.24, color="k", lw=0.8, ls="-.")
    ax.text(11, 2e-3, "U(1) benchmark\n$m_{Z'}$ = 10 MeV", fontsize=8)
    ax.text(1.2, 0.3, r"$|\epsilon^q_{\mu\mu}|$ = 0.24", fontsize=8)
    ax.set(xscale="log", yscale="log", xlabel=r"$m_{Z'}$ [MeV]", ylim=(1e-3, 1e6),
           ylabel=r"90% CL bound on vector $\epsilon$ (solid: upper, dashed: |lower|)",
           title="NuTeV and CHARM bounds fade for a light mediator")
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(f"{folder}/scattering_bound_vs_mzp.png", dpi=130)
    plt.close(fig)
