"""Built-in likelihoods register themselves: `likelihoods.discover` finds every public class
with a ``name`` in the modules of likelihoods/ (docs/developing.md, "Add a likelihood")."""
from __future__ import annotations

import importlib

import numpy as np
import pytest

import likelihoods
from globalfit.likelihood import Likelihood
from likelihoods import discover


def test_every_discovered_target_is_the_likelihood_of_that_name():
    assert len(likelihoods.BUILTIN) >= 19
    for name, target in likelihoods.BUILTIN.items():
        module, _, attribute = target.partition(":")
        cls = getattr(importlib.import_module(module), attribute)
        assert issubclass(cls, Likelihood) and cls.name == name


def test_discovery_rules(tmp_path):
    (tmp_path / "good.py").write_text(
        '"""A module."""\n'
        "import numpy\n\n\n"
        "class _Base(object):\n"
        '    name = "hidden"\n\n\n'
        "@decorated\n"
        "class First(\n"
        "    _Base,\n"
        "):\n"
        '    """Doc."""\n\n'
        '    name = "first"  # the card key\n'
        '    description = "x"\n\n'
        "    def method(self):\n"
        '        name = "not_a_class_attribute"\n\n\n'
        "class Helper:\n"
        "    def method(self):\n"
        "        return 1\n\n\n"
        "class Second(First):\n"
        "    name: str = 'second'\n"
    )
    (tmp_path / "_private.py").write_text('class Skipped:\n    name = "skipped"\n')
    assert discover(tmp_path, "pkg") == {"first": "pkg.good:First", "second": "pkg.good:Second"}
    (tmp_path / "clash.py").write_text('class Again:\n    name = "first"\n')
    with pytest.raises(ValueError, match="'first': claimed by pkg.clash:Again and pkg.good:First"):
        discover(tmp_path, "pkg")


def test_the_add_a_likelihood_recipe_works_as_written(tmp_path, monkeypatch):
    """docs/developing.md: the three files of the recipe, written to a scratch package and a
    scratch data folder, give a likelihood that discovery finds, whose own test passes and
    that a card can use."""
    import re
    import sys
    import textwrap
    from pathlib import Path

    import globalfit
    from globalfit import paths

    text = (Path(__file__).resolve().parents[1] / "docs" / "developing.md").read_text()
    recipe = text[text.index("## Add a likelihood"):text.index("## Run cards")]
    module, data_card, test = (textwrap.dedent(code) for code in
                               re.findall(r"```(?:python|yaml)\n(.*?)```", recipe, flags=re.S))
    package = tmp_path / "recipe_likelihoods"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "dayabay_theta13.py").write_text(module)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "dayabay_theta13.yaml").write_text(data_card)
    monkeypatch.setattr(paths, "DATA_DIR", tmp_path / "data")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert discover(package, "recipe_likelihoods") == {
        "dayabay_theta13": "recipe_likelihoods.dayabay_theta13:DayaBayTheta13"}
    monkeypatch.setitem(sys.modules, "likelihoods.dayabay_theta13",
                        importlib.import_module("recipe_likelihoods.dayabay_theta13"))
    namespace: dict = {}
    exec(compile(test, "docs/developing.md", "exec"), namespace)  # noqa: S102
    namespace["test_chi2_is_zero_at_the_measurement_and_one_a_sigma_away"]()
    post = globalfit.posterior({
        "name": "recipe", "model": {"name": "standard"},
        "parameters": {"th13": {"prior": "uniform", "min": 7.0, "max": 10.0, "unit": "deg"}},
        "likelihoods": {"recipe_likelihoods.dayabay_theta13:DayaBayTheta13": {}}})
    theta = [post.parameters[0].to_internal(0.5 * np.degrees(np.arcsin(np.sqrt(0.0841))))]
    assert post.log_likelihood(theta)[1] == {"dayabay_theta13": pytest.approx(0.0, abs=1e-12)}
