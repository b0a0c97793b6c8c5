"""Nested sampling against targets with known evidence."""
import numpy as np
import pytest

from globalfit.samplers.nested import NestedResult, run_nested

SIGMA = 0.2
HALF_WIDTH = 2.0


def gaussian_log_likelihood(theta):
    """Unit-normalised Gaussian in 2-D: with a uniform prior on [-2, 2]^2, ln Z = -2 ln 4."""
    return float(-0.5 * np.sum((theta / SIGMA) ** 2) - theta.size * np.log(np.sqrt(2 * np.pi) * SIGMA))


def uniform_prior(u):
    return (2 * np.asarray(u) - 1) * HALF_WIDTH


EXPECTED_LOG_Z = -2 * np.log(2 * HALF_WIDTH)


@pytest.mark.parametrize("engine", ["nautilus", "dynesty"])
def test_gaussian_evidence(engine, tmp_path):
    pytest.importorskip("nautilus" if engine == "nautilus" else "dynesty")
    result = run_nested(gaussian_log_likelihood, uniform_prior, 2, engine=engine, n_live=200, seed=3,
                        n_effective=2000)
    tolerance = max(3 * result.log_evidence_err, 0.05)
    assert abs(result.log_evidence - EXPECTED_LOG_Z) < tolerance
    posterior = result.equal_weight_samples(seed=1, n=4000)
    assert np.allclose(posterior.mean(axis=0), 0.0, atol=0.03)
    assert np.allclose(posterior.std(axis=0), SIGMA, rtol=0.1)
    path = tmp_path / "nested.h5"
    result.save(path)
    again = NestedResult.load(path)
    assert again.log_evidence == result.log_evidence and again.engine == engine
    np.testing.assert_array_equal(again.samples, result.samples)


@pytest.mark.slow
def test_same_seed_same_evidence():
    pytest.importorskip("nautilus")
    a = run_nested(gaussian_log_likelihood, uniform_prior, 2, n_live=200, seed=7)
    b = run_nested(gaussian_log_likelihood, uniform_prior, 2, n_live=200, seed=7)
    assert a.log_evidence == b.log_evidence


def test_resume_from_checkpoint(tmp_path):
    pytest.importorskip("nautilus")
    checkpoint = tmp_path / "checkpoint.h5"
    first = run_nested(gaussian_log_likelihood, uniform_prior, 2, n_live=100, seed=5, checkpoint=checkpoint,
                       n_effective=1000)
    assert checkpoint.exists()
    resumed = run_nested(gaussian_log_likelihood, uniform_prior, 2, n_live=100, seed=5, checkpoint=checkpoint,
                       n_effective=1000)
    # a finished checkpoint is read back rather than recomputed
    assert resumed.log_evidence == pytest.approx(first.log_evidence, abs=1e-12)
    assert resumed.n_calls <= first.n_calls


def test_unknown_engine_is_a_clear_error():
    with pytest.raises(ValueError, match="sampler.engine"):
        run_nested(gaussian_log_likelihood, uniform_prior, 2, engine="multinest")
