"""Region conditions: parsing, unit conversion, masks, complements, box bounds."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from globalfit.regions import parse_condition, parse_regions, split_regions


@dataclass
class StandInParameter:
    """The attributes of ``globalfit.params.Parameter`` that regions use.

    ``scale`` converts the display unit to internal units; ``log10`` samples log10 of it.
    """

    name: str
    unit: str | None
    scale: float = 1.0
    log10: bool = False

    def to_internal(self, x):
        value = np.asarray(x, dtype=float) * self.scale
        return np.log10(value) if self.log10 else value

    def from_internal(self, x):
        value = 10.0 ** np.asarray(x, dtype=float) if self.log10 else np.asarray(x, dtype=float)
        return value / self.scale


PARAMETERS = [
    StandInParameter("th12", "deg", math.pi / 180.0),
    StandInParameter("dm21", "eV2"),
    StandInParameter("mzp", "MeV", 1e-3, log10=True),  # displayed in MeV, sampled log10(GeV)
    StandInParameter("eps_u_ee", None),
    StandInParameter("kamland.norm", ""),
]
NAMES = [p.name for p in PARAMETERS]


def test_angle_in_degrees_and_radians_give_the_same_cut():
    deg = parse_condition("th12 < 45 deg", PARAMETERS)
    rad = parse_condition(f"th12 < {math.pi / 4!r} rad", PARAMETERS)
    assert deg.boxes[0][0].value_internal == pytest.approx(math.pi / 4, rel=1e-14)
    assert rad.boxes[0][0].value_internal == pytest.approx(math.pi / 4, rel=1e-14)
    samples = {"th12": np.radians([30.0, 44.999, 45.001, 60.0])}
    assert deg.mask(samples).tolist() == [True, True, False, False]


def test_energy_units_and_log_internal_transform():
    region = parse_condition("mzp < 100 MeV", PARAMETERS)
    assert region.boxes[0][0].value_internal == pytest.approx(math.log10(0.1))
    region_gev = parse_condition("mzp < 0.1 GeV", PARAMETERS)
    assert region_gev.boxes[0][0].value_internal == pytest.approx(math.log10(0.1))
    internal = np.log10([0.05, 0.2])  # 50 MeV, 200 MeV
    assert region.mask({"mzp": internal}).tolist() == [True, False]


def test_decreasing_transform_flips_the_operator():
    inverse = StandInParameter("x", None)
    inverse.to_internal = lambda v: -np.asarray(v, dtype=float)  # type: ignore[method-assign]
    inverse.from_internal = lambda v: -np.asarray(v, dtype=float)  # type: ignore[method-assign]
    region = parse_condition("x < 2", [inverse])
    assert region.mask({"x": np.array([-1.0, -3.0])}).tolist() == [True, False]


def test_negative_numbers_and_and_and_reversed_form():
    region = parse_condition("eps_u_ee > -0.5 and 30 deg <= th12 and th12 < 45 deg", PARAMETERS)
    assert len(region.boxes) == 1 and len(region.boxes[0]) == 3
    samples = np.array([
        [np.radians(35.0), 7e-5, -1.0, -0.4, 1.0],   # inside
        [np.radians(35.0), 7e-5, -1.0, -0.6, 1.0],   # eps too small
        [np.radians(25.0), 7e-5, -1.0, 0.0, 1.0],    # th12 too small
        [np.radians(30.0), 7e-5, -1.0, 0.0, 1.0],    # on the closed edge
    ])
    assert region.mask(samples, NAMES).tolist() == [True, False, False, True]


def test_dotted_nuisance_names_and_scientific_numbers():
    region = parse_condition("kamland.norm >= 1.02 and dm21 < 7.5e-5 eV2", PARAMETERS)
    samples = {"kamland.norm": np.array([1.03, 1.0]), "dm21": np.array([7.4e-5, 7.4e-5])}
    assert region.mask(samples).tolist() == [True, False]


def test_or_and_not_give_unions_of_boxes():
    either = parse_condition("th12 < 30 deg or th12 > 60 deg and eps_u_ee > 0", PARAMETERS)
    assert [len(box) for box in either.boxes] == [1, 2]  # 'and' binds tighter than 'or'
    samples = {"th12": np.radians([20.0, 70.0, 70.0, 45.0]),
               "eps_u_ee": np.array([-1.0, 1.0, -1.0, 1.0])}
    assert either.mask(samples).tolist() == [True, True, False, False]
    dark = parse_condition("not th12 < 45 deg", PARAMETERS)
    assert dark.same_set(parse_condition("th12 >= 45 deg", PARAMETERS))


def test_derived_quantities_mask_samples_but_do_not_bound_a_profile():
    region = parse_condition("chi2.total < 100", PARAMETERS, derived=["chi2.total"])
    assert region.mask({"chi2.total": np.array([50.0, 150.0])}).tolist() == [True, False]
    with pytest.raises(ValueError, match="not sampled"):
        region.box_bounds(NAMES, np.zeros((len(NAMES), 2)))


def test_complement_partitions_the_samples():
    rng = np.random.default_rng(1)
    samples = {"th12": rng.uniform(0, np.pi / 2, 500), "eps_u_ee": rng.normal(0, 1, 500)}
    region = parse_condition("th12 < 45 deg and eps_u_ee > 0", PARAMETERS)
    outside = region.complement()
    assert len(outside.boxes) == 2
    inside_mask, outside_mask = region.mask(samples), outside.mask(samples)
    assert np.all(inside_mask ^ outside_mask)


def test_box_bounds_intersect_the_parameter_bounds():
    region = parse_condition("th12 >= 45 deg", PARAMETERS)
    bounds = np.array([[0.0, np.pi / 2], [6e-5, 9e-5], [-2, 0], [-1, 1], [0.8, 1.2]])
    (box,) = region.box_bounds(NAMES, bounds)
    assert box[0].tolist() == pytest.approx([np.pi / 4, np.pi / 2])
    assert np.array_equal(box[1:], bounds[1:])
    empty = parse_condition("th12 > 100 deg", PARAMETERS)
    assert empty.box_bounds(NAMES, bounds) == []


def test_split_takes_the_names_of_the_run_card():
    card = {"LMA": "th12 < 45 deg", "LMA_D": "th12 >= 45 deg"}
    lma, dark = split_regions("th12 < 45 deg", card, PARAMETERS)
    assert (lma.name, dark.name, dark.label) == ("LMA", "LMA_D", "LMA-D")
    inside, outside = split_regions("eps_u_ee > 0", card, PARAMETERS)
    assert (inside.name, outside.name) == ("eps_u_ee > 0", "not eps_u_ee > 0")


def test_parse_regions_of_a_card():
    regions = parse_regions({"LMA": "th12 < 45 deg", "LMA_D": "th12 >= 45 deg"}, PARAMETERS)
    assert [r.label for r in regions] == ["LMA", "LMA-D"]
    assert parse_regions(None, PARAMETERS) == []


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("th13 < 10 deg", "unknown parameter 'th13'"),
        ("th12 < 45", "write the unit"),
        ("th12 < 45 MeV", "unit 'MeV' does not fit th12"),
        ("th12 < 45 furlong", "unit 'furlong' is not known"),
        ("th12 == 45 deg", "cannot read"),
        ("th12 < 45 deg or", "'or' needs a comparison on each side"),
        ("abs(eps_u_ee) < 0.1", "cannot read"),
        ("eps_u_ee > 1 deg", "does not fit eps_u_ee"),
        ("th12 < __import__('os') deg", "cannot read"),
        ("", "non-empty"),
    ],
)
def test_errors_name_the_bad_token(condition, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        parse_condition(condition, PARAMETERS)


def test_unknown_parameter_error_lists_the_sampled_ones():
    with pytest.raises(ValueError, match="sampled parameters: th12, dm21"):
        parse_condition("th13 < 10 deg", PARAMETERS)
