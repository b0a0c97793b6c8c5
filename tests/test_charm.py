"""CHARM nu_e likelihood: SM value, Davidson et al. intervals, off-diagonal NSI, fading."""
from __future__ import annotations

import numpy as np
import pytest

from globalfit.couplings import Couplings
from globalfit.likelihood import Point
from likelihoods.charm import CharmLikelihood


def chiral(quark, chirality, value, a=0, b=0, mzp_gev=None):
    m = np.zeros((3, 3), complex)
    m[a, b] = value
    m[b, a] = np.conj(value)
    return Couplings(eps0_chiral={(quark, chirality): m}, mzp_gev=mzp_gev)


@pytest.fixture(scope="module")
def charm():
    return CharmLikelihood()


def allowed_branch_with_zero(likelihood, make, grid, level=2.71):
    """The connected interval around 0 where chi^2 <= level (chi^2 min is 0 here)."""
    chi2 = np.array([likelihood.chi2(Point({}, make(x))) for x in grid])
    ok = chi2 <= level
    i0 = int(np.argmin(np.abs(grid)))
    assert ok[i0]
    lo = i0
    while lo > 0 and ok[lo - 1]:
        lo -= 1
    hi = i0
    while hi < len(grid) - 1 and ok[hi + 1]:
        hi += 1
    return grid[lo], grid[hi]


def test_standard_model_value(charm):
    assert charm.predict(Point({})) == pytest.approx(0.3042 + 0.0301, abs=1e-12)


@pytest.mark.parametrize(
    "quark, chirality, low, high",
    [("u", "L", -1.0, 0.3), ("u", "R", -0.4, 0.7), ("d", "L", -0.3, 0.3), ("d", "R", -0.6, 0.5)],
)
def test_davidson_charm_intervals(charm, quark, chirality, low, high):
    # Davidson et al., JHEP 0303 (2003) 011, 90 % CL, quoted to one significant figure
    # (FROM MEMORY): agreement within 0.05.
    grid = np.linspace(-1.5, 1.5, 3001)
    lo, hi = allowed_branch_with_zero(charm, lambda x: chiral(quark, chirality, x), grid)
    assert lo == pytest.approx(low, abs=0.05)
    assert hi == pytest.approx(high, abs=0.05)


def test_tau_e_bound(charm):
    # |eps^{qP}_{tau e}| < ~0.5 (Davidson et al.); it enters quadratically: |eps|^2 < 0.30.
    grid = np.linspace(0.0, 1.0, 1001)
    lo, hi = allowed_branch_with_zero(charm, lambda x: chiral("u", "L", x, a=2, b=0), grid)
    assert hi == pytest.approx(np.sqrt(0.406 + 1.645 * 0.140 - 0.3343), abs=0.01)
    assert hi == pytest.approx(0.5, abs=0.07)


def test_muon_flavour_nsi_does_not_enter(charm):
    assert charm.chi2(Point({}, chiral("u", "L", 0.5, a=1, b=1))) == pytest.approx(charm.chi2(Point({})))


def test_light_mediator_fades(charm):
    heavy = charm.predict(Point({}, chiral("d", "L", 0.25))) - charm.predict(Point({}))
    light = charm.predict(Point({}, chiral("d", "L", 0.25, mzp_gev=0.05))) - charm.predict(Point({}))
    # suppression between f(<Q^2>) = 5e-4 and a few times that (the Q^2 average, Jensen)
    assert 0.0025 / 5.0 < light / heavy < 4 * 0.0025 / 5.0
