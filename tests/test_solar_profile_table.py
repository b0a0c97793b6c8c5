"""The LMA / LMA-Dark profile table of solar + KamLAND data, straight from the run card
(`globalfit.frequentist.profile_card`, i.e. ``globalfit table CARD --profile --split``),
against the published up-quark rows of Esteban et al., JHEP 08 (2018) 180 (issue #8).
Several minutes per table on one core: marked slow."""
from __future__ import annotations

import copy

import pytest
import yaml

from globalfit.paths import CONFIG_DIR

SPLIT = "th12 < 45 deg"
ESTEBAN_U = {
    "eps_D": {"90% LMA": [(-0.24, -0.01)], "90% LMA+LMA-D": [(-0.24, -0.01), (0.40, 0.58)]},
    "eps_N": {"90% LMA": [(-0.14, 0.13)]},
}
"""Published up-quark 90 % rows (Esteban et al. 2018, as quoted in issue #8)."""


def _card(shared_data, full: bool) -> dict:
    """configs/lma_vs_lmad_u.yaml with its data paths pointed at ``shared_data``; without
    ``full``: no SK-IV spectrum, SNO's polynomial at built-in weights (the baseline)."""
    card = yaml.safe_load((CONFIG_DIR / "lma_vs_lmad_u.yaml").read_text())
    card = copy.deepcopy(card)
    card["likelihoods"] = {
        "solar": {"sno_table": str(shared_data / "sno" / "sno_sensitivity.csv")} if full else {},
        **({"superk_iv_spectrum": {"release_path": str(shared_data / "superk")}} if full else {}),
        "kamland": {"release_path": str(shared_data / "kamland"),
                    "reactors_path": str(shared_data / "reactors")},
    }
    return card


def _rows(table, parameter: str, key: str) -> list[tuple[float, float]]:
    level, region = key.split(" ", 1)
    rows = table[(table.parameter == parameter) & (table.level == level) & (table.region == region)]
    return sorted(zip(rows["low"], rows["high"]))


def _table(shared_data, full: bool):
    from globalfit.frequentist import profile_card

    return profile_card(_card(shared_data, full), split=SPLIT, parameters=["eps_D", "eps_N"],
                        cores=2)


@pytest.fixture(scope="module")
def baseline_table(shared_data):
    return _table(shared_data, full=False)


@pytest.mark.slow
def test_up_quark_table_reproduces_esteban_eps_d_rows(baseline_table):
    """Issue #8 reproduction: the eps_D^u 90 % ranges of Esteban et al. 2018 (LMA and LMA-Dark)
    are reproduced to within 0.1 at every endpoint, LMA-Dark appears as its own, nearly
    degenerate mode, and eps_N^u's 90 % range agrees to within 0.05. (The 3 sigma ranges are
    wider than theirs without atmospheric data: docs/reproductions/solar.md.)"""
    minima = baseline_table.attrs["chi2_min"]
    assert abs(minima["LMA-D"] - minima["LMA"]) < 2.0
    for key in ("90% LMA", "90% LMA+LMA-D"):
        ours, theirs = _rows(baseline_table, "eps_D", key), sorted(ESTEBAN_U["eps_D"][key])
        assert len(ours) == len(theirs)
        for (a, b), (c, d) in zip(ours, theirs):
            assert abs(a - c) < 0.1 and abs(b - d) < 0.1
    ((low, high),) = _rows(baseline_table, "eps_N", "90% LMA")
    assert abs(low - (-0.14)) < 0.05 and abs(high - 0.13) < 0.05


@pytest.mark.slow
def test_sk_spectrum_and_sno_table_narrow_the_outer_3sigma_ends(shared_data, baseline_table):
    """With the SK-IV recoil spectrum and SNO's Table XXVI weights (closer to Esteban et al.'s
    solar data set) the outer 3 sigma ends of eps_D^u move towards theirs (measured with the
    former script: LMA lower end -0.52 -> -0.44, theirs -0.34; LMA-Dark upper end 0.91 -> 0.80,
    theirs 0.67), while the 90 % endpoints stay within 0.12 of theirs and LMA-Dark stays
    degenerate."""
    full = _table(shared_data, full=True)
    minima = full.attrs["chi2_min"]
    assert abs(minima["LMA-D"] - minima["LMA"]) < 2.0
    lma_low = lambda table: min(a for a, _ in _rows(table, "eps_D", "3sigma LMA"))  # noqa: E731
    dark_high = lambda table: max(b for _, b in _rows(table, "eps_D", "3sigma LMA+LMA-D"))  # noqa: E731
    assert lma_low(full) > lma_low(baseline_table) + 0.05
    assert dark_high(full) < dark_high(baseline_table) - 0.05
    for key in ("90% LMA", "90% LMA+LMA-D"):
        for (a, b), (c, d) in zip(_rows(full, "eps_D", key), sorted(ESTEBAN_U["eps_D"][key])):
            assert abs(a - c) < 0.12 and abs(b - d) < 0.12
