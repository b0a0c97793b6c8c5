"""Exports round-trip: GetDist reads what we write; ArviZ sees every walker."""
import numpy as np
import pytest

from globalfit.cli import main
from globalfit.export import export_run, to_arviz
from globalfit.results import load_run

CARD = """
name: gauss
model: {name: 'plugins:DiagonalNSIModel'}
parameters:
  eps_ee: {prior: uniform, min: -1.0, max: 1.0, latex: '\\varepsilon_{ee}'}
  eps_mumu: {prior: uniform, min: -1.0, max: 1.0}
  mzp: {value: 1.0, unit: GeV}
likelihoods:
  'plugins:GaussianLikelihood': {}
sampler: {name: emcee, walkers: 8, steps: 200, burn_in: 50, seed: 2}
"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runs")
    card = folder / "gauss.yaml"
    card.write_text(CARD)
    output = folder / "gauss"
    assert main(["run", str(card), "--output", str(output)]) == 0
    return output


def test_getdist_round_trip(run_dir):
    getdist = pytest.importorskip("getdist")
    txt, names = export_run(run_dir, formats=("getdist",))
    samples = getdist.loadMCSamples(str(txt.with_suffix("")), settings={"ignore_rows": 0})
    result = load_run(run_dir)
    assert samples.getParamNames().list()[:2] == ["eps_ee", "eps_mumu"]
    assert samples.mean("eps_ee") == pytest.approx(result.samples["eps_ee"].mean(), rel=1e-8)
    assert "derived_eps_ee_minus_mumu" in samples.getParamNames().list()


def test_arviz_has_one_chain_per_walker(run_dir):
    pytest.importorskip("arviz")
    data = to_arviz(load_run(run_dir))
    assert data.posterior.sizes["chain"] == 8
    assert data.posterior.sizes["draw"] == 150
    np.testing.assert_allclose(float(data.posterior["eps_ee"].mean()),
                               load_run(run_dir).samples["eps_ee"].mean())


def test_export_command_writes_getdist_files(run_dir, tmp_path):
    assert main(["export", str(run_dir), "--output", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "gauss.txt").exists()
    assert (tmp_path / "out" / "gauss.paramnames").read_text().startswith("eps_ee")
    with pytest.raises(SystemExit):
        main(["export"])
    assert main(["export", str(run_dir), "--format", "fits"]) == 2
