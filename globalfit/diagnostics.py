"""MCMC convergence diagnostics: split R-hat, autocorrelation time, effective sample size.

Chains are arrays ``(n_steps, n_chains)`` or ``(n_steps, n_chains, n_parameters)``; for
emcee the "chains" are the walkers of one ensemble (``backend.get_chain()``), which are
not independent: R-hat across walkers tests that every walker explores the same
distribution, which is what a sampler stuck in one mode per walker fails.

References
----------
* A. Gelman, D. Rubin, Stat. Sci. 7 (1992) 457 (R-hat); Gelman et al., *Bayesian Data
  Analysis*, 3rd ed. (2013), sec. 11.4 (split R-hat).
* A. Vehtari, A. Gelman, D. Simpson, B. Carpenter, P.-C. Buerkner, Bayesian Anal. 16
  (2021) 667, arXiv:1903.08008 (rank normalisation, folded tail R-hat).
* J. Goodman, J. Weare, CAMCoS 5 (2010) 65; D. Foreman-Mackey et al., PASP 125 (2013) 306
  (integrated autocorrelation time, as in ``emcee.autocorr``).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special, stats

RHAT_GOOD = 1.01
"""Vehtari et al. (2021) recommend R-hat < 1.01 before trusting intervals."""
TAU_MULTIPLE = 50
"""emcee's advice: trust the tau estimate when the chain is longer than 50 tau."""
CONVERGENCE_CRITERION = (
    f"rank-normalised split R-hat < {RHAT_GOOD} for every parameter and a chain after "
    f"burn-in longer than {TAU_MULTIPLE} autocorrelation times"
)
"""The one definition of a converged chain: summary.md, diagnostics.json, the terminal
report and ``sampler.stop_on_convergence`` all use `convergence_summary`."""
RHAT_STEPS_PER_TAU = 2 * TAU_MULTIPLE
"""Steps after burn-in, in autocorrelation times, that a well-mixed chain needs for split
R-hat < 1.01: for a stationary chain E[R-hat^2] ~ 1 + (tau - 1) / n_half, so R-hat < 1.01
needs n_half > ~50 tau, i.e. ~100 tau in all (docs/statistics.md)."""


def _as_3d(chains: np.ndarray) -> np.ndarray:
    chains = np.asarray(chains, dtype=float)
    if chains.ndim == 2:
        chains = chains[:, :, None]
    if chains.ndim != 3:
        raise ValueError(f"chains: expected shape (n_steps, n_chains[, n_parameters]), "
                         f"got {chains.shape}")
    return chains


def _split(chains: np.ndarray) -> np.ndarray:
    """Cut every chain in two halves (dropping a middle step if odd): 2m chains."""
    half = chains.shape[0] // 2
    if half < 2:
        raise ValueError(f"chains: need at least 4 steps for split R-hat, got {chains.shape[0]}")
    return np.concatenate([chains[:half], chains[-half:]], axis=1)


def _rhat_basic(chains: np.ndarray) -> np.ndarray:
    """Gelman-Rubin R-hat of chains (n, m, p) (no splitting); one value per parameter."""
    n = chains.shape[0]
    means = chains.mean(axis=0)
    within = chains.var(axis=0, ddof=1).mean(axis=0)
    between_over_n = means.var(axis=0, ddof=1)
    var_plus = (n - 1) / n * within + between_over_n
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(var_plus / within)


def _rank_normalize(chains: np.ndarray) -> np.ndarray:
    """Vehtari et al. (2021) eq. 14: normal scores of the pooled ranks, per parameter."""
    n, m, p = chains.shape
    flat = chains.reshape(n * m, p)
    ranks = stats.rankdata(flat, axis=0)
    return special.ndtri((ranks - 0.375) / (n * m + 0.25)).reshape(n, m, p)


def split_rhat(chains: np.ndarray, rank_normalize: bool = True) -> np.ndarray:
    """Split R-hat per parameter.

    Parameters
    ----------
    chains : array (n_steps, n_chains[, n_parameters])
        Post-burn-in samples.
    rank_normalize : bool
        If True (default), the Vehtari et al. (2021) version: the larger of the bulk R-hat
        (rank-normalised draws) and the tail R-hat (rank-normalised ``|x - median|``),
        robust to heavy tails. If False, the classic split R-hat of BDA3.

    Returns
    -------
    array (n_parameters,)
        Values near 1 for mixed chains; above `RHAT_GOOD` = 1.01 means "not yet".
    """
    split = _split(_as_3d(chains))
    if not rank_normalize:
        return _rhat_basic(split)
    bulk = _rhat_basic(_rank_normalize(split))
    folded = np.abs(split - np.median(split.reshape(-1, split.shape[2]), axis=0))
    tail = _rhat_basic(_rank_normalize(folded))
    return np.maximum(bulk, tail)


def autocorrelation_time(chains: np.ndarray, c: float = 5.0) -> np.ndarray:
    """Integrated autocorrelation time per parameter, in steps (``emcee.autocorr``).

    The normalised autocorrelation function is averaged over chains and summed up to the
    first window ``M >= c tau`` (Sokal's automatic windowing). The estimator is undefined
    for a chain that never moved in a parameter: such chains are left out of that
    parameter, and a parameter in which no chain moved gets ``inf``.
    """
    from emcee.autocorr import integrated_time

    chains = _as_3d(chains)
    moved = np.ptp(chains, axis=0) > 0  # (chains, parameters)
    taus = np.full(chains.shape[2], np.inf)
    for k in range(chains.shape[2]):
        columns = chains[:, moved[:, k], k]
        if columns.shape[1]:
            taus[k] = integrated_time(columns[:, :, None], c=c, tol=0, quiet=True)[0]
    return taus


def effective_sample_size(chains: np.ndarray, method: str = "bulk") -> np.ndarray:
    """Effective sample size per parameter (Vehtari et al. 2021, sec. 3.2).

    The chains are split in halves (and, for ``method="bulk"``, rank-normalised as for
    R-hat); the autocorrelation of the split chains, combined over chains with the
    between-chain variance, is summed with Geyer's initial monotone sequence estimator.
    ``method="mean"`` skips the rank normalisation (ESS for the posterior mean).

    Returns
    -------
    array (n_parameters,)
        At most ``n_draws * log10(n_draws)`` (antithetic chains), ``n_draws`` for a
        constant parameter.
    """
    if method not in ("bulk", "mean"):
        raise ValueError(f"method: 'bulk' or 'mean', got {method!r}")
    split = _split(_as_3d(chains))
    if method == "bulk":
        split = _rank_normalize(split)
    return np.array([_geyer_ess(split[:, :, k]) for k in range(split.shape[2])])


def _geyer_ess(draws: np.ndarray) -> float:
    """ESS of ``draws`` (n_steps, n_chains) by Geyer's initial monotone sequence."""
    n, m = draws.shape
    total = n * m
    if np.ptp(draws) < np.finfo(float).resolution:
        return float(total)
    centred = draws - draws.mean(axis=0)
    spectrum = np.fft.rfft(centred, n=2 * n, axis=0)
    autocovariance = np.fft.irfft(spectrum * np.conj(spectrum), n=2 * n, axis=0)[:n] / n
    within = autocovariance[0].mean() * n / (n - 1.0)
    var_plus = within * (n - 1.0) / n + (draws.mean(axis=0).var(ddof=1) if m > 1 else 0.0)
    rho = 1.0 - (within - autocovariance.mean(axis=1)) / var_plus
    rho[0] = 1.0
    usable = n - 3  # lags summed at most (as Stan and ArviZ do)
    pairs = rho[0:usable - 1:2] + rho[1:usable:2]
    negative = np.flatnonzero(pairs[1:] < 0.0)
    stop = negative[0] + 1 if negative.size else pairs.size
    monotone = np.minimum.accumulate(pairs[:stop])
    tail = rho[2 * stop] if 2 * stop < n and rho[2 * stop] > 0.0 else 0.0
    tau = max(-1.0 + 2.0 * monotone.sum() + tail, 1.0 / np.log10(total))
    return float(total / tau)


def acceptance_summary(acceptance_fraction: Sequence[float]) -> dict[str, float]:
    """Mean, min, max of the walkers' acceptance fractions and how many look stuck.

    For emcee's stretch move a fraction between about 0.2 and 0.5 is healthy; walkers
    below 0.05 are counted as ``stuck`` (they hardly move and bias the sample).
    """
    fractions = np.asarray(acceptance_fraction, dtype=float)
    if fractions.size == 0:
        raise ValueError("acceptance_fraction: empty")
    return {
        "mean": float(fractions.mean()),
        "min": float(fractions.min()),
        "max": float(fractions.max()),
        "stuck": int(np.sum(fractions < 0.05)),
        "walkers": int(fractions.size),
    }


STRANDED_WALKER_LN_POSTERIOR = 20.0
"""A walker whose median ln posterior after burn-in lies more than this below the median
over all walkers is stranded (`stranded_walkers`)."""


def stranded_walkers(log_prob: np.ndarray, threshold: float = STRANDED_WALKER_LN_POSTERIOR) -> np.ndarray:
    """Indices of walkers stranded in a region of negligible posterior.

    An ensemble walker started in a secondary local maximum far below the posterior's bulk
    can stay there for the whole run: the stretch move proposes along lines towards other
    walkers, which cross regions of even lower posterior. Its samples are then not draws
    from the target (a median ln posterior 20 below the others means a relative density of
    e^-20) and bias every marginal. A walker is stranded if its median ln posterior is more
    than ``threshold`` below the median of all walkers' medians, or not finite.

    Parameters
    ----------
    log_prob : array (n_steps, n_walkers)
        ln posterior after burn-in.
    threshold : float
        In units of ln posterior (20 = Delta chi^2 of 40).
    """
    log_prob = np.asarray(log_prob, dtype=float)
    if log_prob.ndim != 2 or log_prob.shape[0] == 0:
        raise ValueError(f"log_prob: expected shape (n_steps, n_walkers), got {log_prob.shape}")
    medians = np.median(log_prob, axis=0)
    finite = np.isfinite(medians)
    if not finite.any():
        return np.arange(medians.size)
    reference = np.median(medians[finite])
    return np.flatnonzero(~finite | (medians < reference - threshold))


def chain_diagnostics(chains: np.ndarray, names: Sequence[str]) -> pd.DataFrame:
    """Table of split R-hat, tau, ESS and a verdict per parameter.

    Columns: ``parameter, rhat, tau_steps, ess, tau_reliable, converged`` where
    ``tau_reliable`` is ``n_steps > 50 tau`` and ``converged`` is ``rhat < 1.01`` and a
    reliable tau.
    """
    chains = _as_3d(chains)
    if len(names) != chains.shape[2]:
        raise ValueError(f"names: {len(names)} names for {chains.shape[2]} parameters")
    rhat = split_rhat(chains)
    tau = autocorrelation_time(chains)
    reliable = chains.shape[0] > TAU_MULTIPLE * tau
    return pd.DataFrame({
        "parameter": list(names),
        "rhat": rhat,
        "tau_steps": tau,
        "ess": effective_sample_size(chains),
        "tau_reliable": reliable,
        "converged": (rhat < RHAT_GOOD) & reliable,
    })


def diagnostics_report(
    chains: np.ndarray, names: Sequence[str], acceptance_fraction: Sequence[float] | None = None
) -> dict:
    """JSON-ready summary: per-parameter table, acceptance, and an overall verdict."""
    table = chain_diagnostics(chains, names)
    report = {
        "n_steps": int(np.shape(chains)[0]),
        "n_chains": int(np.shape(chains)[1]),
        "parameters": table.to_dict(orient="records"),
        "max_rhat": float(table["rhat"].max()),
        "min_ess": float(table["ess"].min()),
        "converged": bool(table["converged"].all()),
    }
    if acceptance_fraction is not None:
        report["acceptance"] = acceptance_summary(acceptance_fraction)
    return _plain(report)


def convergence_summary(chains: np.ndarray, names: Sequence[str]) -> dict:
    """The verdict of `CONVERGENCE_CRITERION` on post-burn-in ``chains`` (JSON-ready).

    Keys: ``converged``, ``criterion``, ``steps_after_burn_in``, ``max_rhat``,
    ``steps_over_max_tau``, ``min_ess``, and ``steps_needed_after_burn_in``: what a chain
    mixing at the measured rate needs, the larger of `RHAT_STEPS_PER_TAU` tau_max and the
    length at which the measured R-hat would fall to 1.01 (``R-hat^2 - 1 ~ 1/n``, 25 %
    margin).
    """
    chains = _as_3d(chains)
    steps = chains.shape[0]
    if steps < 4:
        return {"converged": False, "criterion": CONVERGENCE_CRITERION,
                "steps_after_burn_in": int(steps), "max_rhat": None,
                "steps_over_max_tau": None, "min_ess": None,
                "steps_needed_after_burn_in": None}
    table = chain_diagnostics(chains, names)
    tau_max = float(table["tau_steps"].max())
    finite = np.isfinite(tau_max) and tau_max > 0
    needed = None
    if finite:
        # ~100 tau for a well-mixed chain; more where R-hat says so: R-hat^2 - 1 falls as
        # 1 / n, so n (R-hat^2 - 1) / (1.01^2 - 1) steps bring it to 1.01 (25 % margin)
        rhat_max = float(table["rhat"].max())
        by_rhat = steps * (rhat_max**2 - 1.0) / (RHAT_GOOD**2 - 1.0) * 1.25
        needed = int(np.ceil(max(RHAT_STEPS_PER_TAU * tau_max,
                                 by_rhat if np.isfinite(by_rhat) else 0.0)))
    return _plain({
        "converged": bool(table["converged"].all()),
        "criterion": CONVERGENCE_CRITERION,
        "steps_after_burn_in": int(steps),
        "max_rhat": _finite_or_none(table["rhat"].max()),
        "steps_over_max_tau": steps / tau_max if finite else None,
        "min_ess": _finite_or_none(table["ess"].min()),
        "steps_needed_after_burn_in": needed,
    })


def _finite_or_none(value) -> float | None:
    return float(value) if np.isfinite(value) else None


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.generic):
        return value.item()
    return value
