"""Log-uniform parameters sampled in log space: the move keeps the target and mixes faster."""
import emcee
import numpy as np
import pytest

from globalfit.diagnostics import autocorrelation_time
from globalfit.samplers.moves import LogStretchMove

LOW, HIGH = 1e-6, 1e-2
MEAN, SIGMA = -4.0, 0.5  # posterior of log10 x: Gaussian, far from the prior edges


def log_posterior(theta):
    """Log-uniform prior on x in [1e-6, 1e-2] (density 1/x) times a Gaussian likelihood in
    log10 x; a second, standard-normal parameter y sampled linearly."""
    x, y = theta[:, 0], theta[:, 1]
    out = np.full(len(theta), -np.inf)
    inside = (x > LOW) & (x < HIGH)
    log10x = np.log10(x[inside])
    out[inside] = -np.log(x[inside]) - 0.5 * ((log10x - MEAN) / SIGMA) ** 2 - 0.5 * y[inside] ** 2
    return out


def run(move, steps=4000, seed=3):
    rng = np.random.default_rng(seed)
    start = np.column_stack([10 ** rng.uniform(-6, -2, 24), rng.normal(size=24)])
    sampler = emcee.EnsembleSampler(24, 2, log_posterior, moves=move, vectorize=True)
    sampler._random = np.random.mtrand.RandomState(seed)
    sampler.run_mcmc(start, steps)
    return sampler.get_chain(discard=500)


def test_without_log_columns_it_is_emcees_stretch_move():
    a = run(emcee.moves.StretchMove(), steps=50)
    b = run(LogStretchMove([]), steps=50)
    assert np.array_equal(a, b)


def test_samples_the_target_in_x():
    chain = run(LogStretchMove([0]))
    log10x = np.log10(chain[..., 0])
    (tau,) = autocorrelation_time(log10x)
    error = SIGMA * np.sqrt(tau / log10x.size)
    assert log10x.mean() == pytest.approx(MEAN, abs=5 * error)
    assert log10x.std() == pytest.approx(SIGMA, rel=0.05)
    assert chain[..., 1].std() == pytest.approx(1.0, rel=0.05)


def log_posterior_limit(theta):
    """The shape of an upper limit on a coupling: flat in log10 x up to -4, then a Gaussian
    fall-off of width 0.3 (95 % upper limit at log10 x = -3.699)."""
    x, y = theta[:, 0], theta[:, 1]
    out = np.full(len(theta), -np.inf)
    inside = (x > LOW) & (x < HIGH)
    log10x = np.log10(x[inside])
    out[inside] = (-np.log(x[inside]) - 0.5 * (np.maximum(log10x + 4, 0) / 0.3) ** 2
                   - 0.5 * y[inside] ** 2)
    return out


def test_mixes_faster_than_the_stretch_move_in_x_for_a_limit():
    """Measured here: tau(log10 x) 35 in log space against 77-79 in x."""
    def chain(move):
        rng = np.random.default_rng(1)
        start = np.column_stack([10 ** rng.uniform(-6, -3, 24), rng.normal(size=24)])
        sampler = emcee.EnsembleSampler(24, 2, log_posterior_limit, moves=move, vectorize=True)
        sampler._random = np.random.mtrand.RandomState(1)
        sampler.run_mcmc(start, 4000)
        return np.log10(sampler.get_chain(discard=500)[..., :1])

    in_log, in_x = chain(LogStretchMove([0])), chain(emcee.moves.StretchMove())
    assert np.quantile(in_log, 0.95) == pytest.approx(-4 + 0.3006, abs=0.03)
    assert autocorrelation_time(in_log)[0] < 0.6 * autocorrelation_time(in_x)[0]
