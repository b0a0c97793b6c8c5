"""Exclusion planes: the same Delta chi^2 as `globalfit check`, analytic boundaries, the CLI."""
from __future__ import annotations

import numpy as np
import pytest

from globalfit.exclusion import ExclusionResult, PlaneAxis, exclusion_plane, parse_axis
from globalfit.viability import check_card

U1_CARD = {
    "name": "u1",
    "model": {"name": "u1_lepton_baryon"},
    "parameters": {"g_prime": {"value": 4.0e-5}, "a_e": {"value": 0.0},
                   "a_mu": {"value": -1.5}, "a_tau": {"value": -1.5},
                   "mzp": {"value": 10.0, "unit": "MeV"}},
    "likelihoods": {"coherent_csi_2021": {}},
}


def test_axis_ranges_from_the_option_or_the_card_prior():
    card = {"parameters": {"mzp": {"value": 10.0, "unit": "MeV"},
                           "g_prime": {"prior": "log-uniform", "min": 1e-6, "max": 1e-2}}}
    assert parse_axis("mzp:1:1000", card, 5, "--x") == PlaneAxis("mzp", 1.0, 1000.0, "MeV", 5)
    assert parse_axis("g_prime", card, 4, "--y") == PlaneAxis("g_prime", 1e-6, 1e-2, "none", 4)
    with pytest.raises(ValueError, match=r"no range for 'mzp': give it as --x mzp:LOW:HIGH \(in MeV\)"):
        parse_axis("mzp", card, 5, "--x")
    with pytest.raises(ValueError, match="0 < LOW < HIGH"):
        parse_axis("mzp:10:1", card, 5, "--x")
    with pytest.raises(ValueError, match="'g' is not a parameter of the card"):
        parse_axis("g:1:2", card, 5, "--y")


def test_plane_agrees_with_the_viability_card_at_the_benchmark():
    """The grid passes through the benchmark (10 MeV, 4e-5): the plane's Delta chi^2 there
    is `globalfit check`'s, and COHERENT's exclusion grows with the coupling."""
    result = exclusion_plane(U1_CARD, "mzp:1:100", "g_prime:4e-6:4e-4", points=(3, 3))
    check = check_card(U1_CARD).table.set_index("likelihood").loc["coherent_csi_2021"]
    delta = result.delta["coherent_csi_2021"]
    assert delta[1, 1] == pytest.approx(check["delta_chi2"], rel=1e-9)
    assert result.benchmark == pytest.approx((10.0, 4e-5))
    assert np.all(np.diff(delta[:, 0]) > 0)                  # light Z': more coupling, worse fit
    assert result.excluded("coherent_csi_2021")[2].all()     # g' = 4e-4 excluded at every mass
    assert not result.excluded("coherent_csi_2021")[0].any()  # g' = 4e-6 nowhere
    assert result.symbols == {"mzp": "m_{Z'}", "g_prime": "g'"}


def test_boundary_is_the_analytic_crossing():
    """Delta chi^2 = 10 (g / g0(m))^2 with g0 = 1e-4 (m / 10)^(1/2): the 95 % CL (1 dof)
    boundary is g = g0 sqrt(3.84 / 10), found to 1 % on a 40-point log grid."""
    x, y = PlaneAxis("mzp", 1.0, 1000.0, "MeV", 7), PlaneAxis("g_prime", 1e-6, 1e-2, "none", 40)
    g0 = 1e-4 * np.sqrt(x.values() / 10.0)
    delta = 10.0 * (y.values()[:, None] / g0[None, :]) ** 2
    result = ExclusionResult("toy", x, y, {"coherent_csi_2021": delta}, (10.0, 4e-5))
    table = result.boundary()
    assert list(table.columns) == ["likelihood", "along", "mzp [MeV]", "g_prime", "edge"]
    along_g = table[table["along"] == "g_prime"]
    assert len(along_g) == 7 and set(along_g["edge"]) == {"enters"}
    expected = g0 * np.sqrt(result.threshold / 10.0)
    np.testing.assert_allclose(along_g["g_prime"], expected, rtol=0.01)
    np.testing.assert_allclose(along_g["mzp [MeV]"], x.values(), rtol=1e-12)
    # along m_Z' the same boundary is crossed leaving the region (heavier: less excluded)
    along_m = table[table["along"] == "mzp"]
    assert len(along_m) and set(along_m["edge"]) == {"leaves"}
    g_at_m = 1e-4 * np.sqrt(along_m["mzp [MeV]"] / 10.0) * np.sqrt(result.threshold / 10.0)
    np.testing.assert_allclose(along_m["g_prime"], g_at_m, rtol=0.05)


def test_a_mass_bound_at_every_coupling_appears_along_the_mass():
    x, y = PlaneAxis("mzp", 1.0, 100.0, "MeV", 9), PlaneAxis("g_prime", 1e-6, 1e-2, "none", 5)
    veto = np.where(x.values() < 5.0, np.inf, 0.0)[None, :].repeat(5, axis=0)
    table = ExclusionResult("toy", x, y, {"cosmology": veto}, (10.0, 4e-5)).boundary()
    assert set(table["along"]) == {"mzp"} and len(table) == 5
    assert set(table["edge"]) == {"leaves"}
    assert np.all((table["mzp [MeV]"] > 3.16) & (table["mzp [MeV]"] < 5.63))


def test_cli_writes_boundary_csv_and_figure(tmp_path, capsys):
    import yaml

    from globalfit.cli import main

    card = tmp_path / "u1.yaml"
    card.write_text(yaml.safe_dump(U1_CARD))
    plot = tmp_path / "plane.png"
    assert main(["exclusion", str(card), "--x", "mzp:1:100", "--y", "g_prime:1e-6:1e-3",
                 "--points", "3,8", "--plot", str(plot), "--format", "csv",
                 "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("likelihood,along,mzp [MeV],g_prime,edge\ncoherent_csi_2021,g_prime,1,")
    assert plot.read_bytes()[:4] == b"\x89PNG" and plot.with_suffix(".pdf").exists()
    assert main(["exclusion", str(card), "--x", "mzp:1:100", "--y", "g_prime",
                 "--no-progress"]) == 2
    assert "no range for 'g_prime'" in capsys.readouterr().err
