"""Run cards: every kind of error names its key path, the bad value and the fix."""
from __future__ import annotations

import copy
import math

import pytest
import yaml
from conftest import NUFIT52_NO
from hypothesis import given, settings
from hypothesis import strategies as st

from globalfit.config import ConfigError, load_config, run_parameters

CARD = {
    "name": "tiny",
    "description": "Test card: Gaussian measurement of two electron NSI couplings",
    "model": {"name": "plugins:DiagonalNSIModel"},
    "parameters": {
        "eps_ee": {"prior": "uniform", "min": -2, "max": 2},
        "eps_mumu": {"prior": "uniform", "min": -2, "max": 2},
        "mzp": {"value": 20, "unit": "MeV"},
    },
    "likelihoods": {"plugins:ShiftedGaussianLikelihood": {"sigma": [0.1, 0.2]}},
    "sampler": {"walkers": 12, "steps": 50, "burn_in": 10, "seed": 7},
}


def card(**changes):
    out = copy.deepcopy(CARD)
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = out
        for key in parents:
            node = node.setdefault(key, {})
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return out


def errors_of(raw) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(raw)
    return info.value.errors


def one_error(raw) -> str:
    errors = errors_of(raw)
    assert len(errors) == 1, errors
    return errors[0]


def test_valid_card_resolves_defaults():
    config = load_config(CARD)
    assert config.output.as_posix() == "chains/tiny"
    assert config.sampler == {"name": "emcee", "walkers": 12, "steps": 50, "burn_in": 10,
                              "thin": 1, "seed": 7}
    parameters = {p.name: p for p in run_parameters(config)}
    # oscillation defaults: NuFIT 5.2 NO with SK-atm (inputs.md, VERIFIED-3P), fixed
    for name, value in NUFIT52_NO.items():
        assert parameters[name].fixed
        assert parameters[name].prior.value == pytest.approx(value, rel=1e-12)
    assert parameters["mzp"].prior.value == pytest.approx(0.020)        # MeV -> GeV
    nuisance = parameters["shifted.shift"]                              # declared default
    assert (nuisance.prior.mean, nuisance.prior.sigma) == (0.0, 1.0)


def test_resolved_card_round_trips():
    config = load_config(CARD)
    again = load_config(config.to_dict())
    first = {p.name: p.prior for p in run_parameters(config)}
    second = {p.name: p.prior for p in run_parameters(again)}
    assert first == second
    assert again.to_dict() == config.to_dict()


def test_yaml_file_and_safe_load(tmp_path):
    path = tmp_path / "card.yaml"
    path.write_text(yaml.safe_dump(CARD))
    assert load_config(path).name == "tiny"
    evil = tmp_path / "evil.yaml"
    evil.write_text("name: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(evil)
    with pytest.raises(FileNotFoundError, match="missing.yaml"):
        load_config(tmp_path / "missing.yaml")


def test_nuisance_override_and_likelihood_list_shorthand():
    raw = card(parameters__shifted_shift=None)
    raw["parameters"]["shifted.shift"] = {"prior": "uniform", "min": -1, "max": 1}
    raw["likelihoods"] = ["plugins:ShiftedGaussianLikelihood"]
    parameters = {p.name: p for p in run_parameters(load_config(raw))}
    assert parameters["shifted.shift"].prior.bounds == (-1.0, 1.0)


def test_unknown_likelihood_suggests_closest():
    raw = card()
    raw["likelihoods"]["kamlnd"] = {}
    message = one_error(raw)
    assert message.startswith("likelihoods.kamlnd: unknown likelihood 'kamlnd'")
    assert "did you mean 'kamland'?" in message


def test_unknown_parameter_suggests_closest():
    raw = card()
    raw["parameters"]["eps_e"] = {"prior": "uniform", "min": 0, "max": 1}
    message = one_error(raw)
    assert message.startswith("parameters.eps_e: no parameter 'eps_e'")
    assert "did you mean 'eps_ee'?" in message


def test_parameter_the_model_does_not_have():
    raw = card()
    raw["parameters"]["g_psi"] = {"prior": "log-uniform", "min": 1e-3, "max": 1}
    message = one_error(raw)
    assert message.startswith("parameters.g_psi: no parameter 'g_psi' in this run")
    assert "eps_ee" in message  # lists what the run has


def test_unknown_prior_suggests_closest():
    message = one_error(card(parameters__eps_ee__prior="log-unifrom"))
    assert message.startswith("parameters.eps_ee.prior: unknown prior 'log-unifrom'")
    assert "did you mean 'log-uniform'?" in message


def test_min_not_below_max():
    raw = card(parameters__eps_ee={"prior": "uniform", "min": 3, "max": 1})
    assert one_error(raw) == "parameters.eps_ee.min: min (3) must be smaller than max (1)"


def test_prior_outside_the_models_physical_range():
    raw = card(parameters__eps_ee={"prior": "uniform", "min": -20, "max": 1})
    assert one_error(raw) == ("parameters.eps_ee.min: -20 is below the physical minimum -10 "
                              "of model 'plugins:DiagonalNSIModel'")
    raw = card(parameters__mzp={"prior": "gaussian", "mean": 20, "sigma": 5, "unit": "MeV",
                                "max": 100})
    assert one_error(raw) == ("parameters.mzp: the prior extends below the physical minimum "
                              "0.001 MeV of model 'plugins:DiagonalNSIModel'; truncate it "
                              "with 'min:'")
    raw = card(parameters__mzp={"value": 2, "unit": "TeV"})
    assert one_error(raw).startswith("parameters.mzp.unit: unknown unit 'TeV'")
    raw = card(parameters__mzp={"value": 2000, "unit": "GeV"})
    assert one_error(raw) == ("parameters.mzp.value: 2000 GeV is above the physical maximum "
                              "1000 GeV of model 'plugins:DiagonalNSIModel'")


def test_likelihood_reads_a_parameter_nobody_provides():
    raw = card()
    raw["likelihoods"]["plugins:NeedsGPsiLikelihood"] = {}
    message = one_error(raw)
    assert message.startswith("likelihoods.needs_g_psi: reads parameter 'g_psi'")
    assert "plugins:DiagonalNSIModel" in message


def test_model_reads_a_parameter_nobody_provides():
    """A model that declares in ``reads`` a parameter the run lacks is a card error naming it
    and the fix (the code has no default for it)."""
    message = one_error(card(model__name="plugins:NeedsGPsiModel"))
    assert message.startswith("model: reads parameter 'g_psi'")
    assert "add 'g_psi' to the card's parameters:" in message


def test_solar_nsi_reads_only_what_every_run_has():
    """solar_nsi reads th13, th23: always parameters of a run (fixed at NuFIT 5.2 unless the
    card frees them), so the check passes."""
    raw = card(model__name="solar_nsi", model__options={"fermion": "u"}, parameters__eps_ee=None,
               parameters__eps_mumu=None, parameters__mzp=None)
    raw["parameters"]["eps_D"] = {"prior": "uniform", "min": -1.0, "max": 1.0}
    load_config(raw)


def test_negative_sigma_in_card_units():
    raw = card(parameters__th13={"prior": "gaussian", "mean": 8.58, "sigma": -0.11, "unit": "deg"})
    assert one_error(raw) == "parameters.th13.sigma: sigma must be positive, got -0.11"


def test_unknown_unit_suggests_closest():
    message = one_error(card(parameters__mzp={"value": 20, "unit": "Mev"}))
    assert message.startswith("parameters.mzp.unit: unknown unit 'Mev'; did you mean 'MeV'?")


def test_unit_of_the_wrong_dimension():
    message = one_error(card(parameters__mzp={"value": 20, "unit": "deg"}))
    assert message == "parameters.mzp.unit: unit 'deg' is not a unit of energy (allowed: GeV, MeV, keV, eV)"


def test_options_top_level_and_sampler_typos():
    raw = card(sampler__walker=10, likelihoods__plugins_x=None)
    raw["likelihoods"]["plugins:ShiftedGaussianLikelihood"]["sigmaa"] = 1
    raw["modle"] = "x"
    errors = errors_of(raw)
    assert any(e.startswith("modle: unknown top-level key 'modle'; did you mean 'model'?") for e in errors)
    assert any(e.startswith("sampler.walker: unknown emcee setting 'walker'; did you mean 'walkers'?")
               for e in errors)
    assert any(e.startswith("likelihoods.plugins:ShiftedGaussianLikelihood.sigmaa: unknown option "
                            "'sigmaa'; did you mean 'sigma'?") for e in errors)


def test_all_errors_are_collected_in_one_exception():
    raw = card(parameters__eps_ee__prior="unifrom", parameters__mzp={"value": 1, "unit": "degs"},
               name="bad name")
    raw["likelihoods"]["clvf"] = {}
    errors = errors_of(raw)
    assert len(errors) == 4
    assert {e.split(":")[0] for e in errors} == {"name", "parameters.eps_ee.prior",
                                                 "parameters.mzp.unit", "likelihoods.clvf"}
    with pytest.raises(ValueError, match=r"^4 errors in run card:"):
        load_config(raw)


def test_missing_module_is_a_clear_error():
    message = one_error(card(model={"name": "likelihoods.not_written_yet:Model"}))
    assert message.startswith("model.name: cannot import 'likelihoods.not_written_yet'")
    assert "ModuleNotFoundError" in message


def test_regions_are_checked():
    raw = card(regions={"positive": "eps_ee > 0", "typo": "eps_e > 0"})
    message = one_error(raw)
    assert message.startswith("regions.typo:") and "did you mean 'eps_ee'?" in message


def test_walkers_must_cover_the_free_parameters():
    message = one_error(card(sampler__walkers=4))
    assert message == "sampler.walkers: emcee needs at least 2 x (free parameters) = 6 walkers, got 4"


def test_unit_conversion_in_the_card():
    raw = card(parameters__th12={"prior": "uniform", "min": 30, "max": 36, "unit": "deg"})
    th12 = {p.name: p for p in run_parameters(load_config(raw))}["th12"]
    assert th12.prior.bounds == pytest.approx((math.radians(30), math.radians(36)))
    assert th12.unit == "deg" and th12.internal_unit == "rad"


def test_entry_point_plugins_resolve_by_name(monkeypatch):
    """Third-party packages register models/likelihoods under entry-point groups."""
    from importlib import metadata

    import globalfit.likelihood
    import globalfit.registry

    entries = {
        "globalfit.models": [metadata.EntryPoint("third_party_nsi", "plugins:DiagonalNSIModel",
                                                 "globalfit.models")],
        "globalfit.likelihoods": [metadata.EntryPoint("third_party_gauss",
                                                      "plugins:GaussianLikelihood",
                                                      "globalfit.likelihoods")],
    }

    def entry_points(group):
        return entries.get(group, [])

    monkeypatch.setattr(globalfit.registry.metadata, "entry_points", entry_points)
    raw = card(model={"name": "third_party_nsi"}, likelihoods={"third_party_gauss": {}})
    names = [p.name for p in run_parameters(load_config(raw)) if not p.fixed]
    assert names == ["eps_ee", "eps_mumu"]
    assert "third_party_nsi" in globalfit.registry.available_models()


_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5),
                     st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=6),
                     st.sampled_from(["uniform", "gaussian", "deg", "MeV", "eps_ee", "th12"]))
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["prior", "min", "max", "mean", "sigma", "value", "unit",
                                     "start", "name", "options", "walkers", "seed", "x"]),
                    inner, max_size=4)), max_leaves=8)


@given(top=st.dictionaries(st.sampled_from(["name", "model", "parameters", "likelihoods",
                                            "sampler", "regions", "output", "descr"]),
                           _values, max_size=5),
       parameter=_values)
@settings(max_examples=150, deadline=None)
def test_malformed_cards_give_config_errors_not_crashes(top, parameter):
    raw = card()
    raw.update(top)
    if isinstance(raw.get("parameters"), dict):
        raw["parameters"]["eps_ee"] = parameter
    try:
        load_config(raw)
    except ConfigError as error:
        assert error.errors and all(isinstance(e, str) and ":" in e for e in error.errors)
