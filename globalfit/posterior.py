"""Posterior = prior + sum of log-likelihoods, as one picklable callable.

``build_posterior(config)`` instantiates the model and every likelihood once (data loaded
once), collects all parameters (oscillation defaults, model parameters, nuisance parameters
``<likelihood>.<name>``; card specs override defaults) and returns a `Posterior` whose free
parameters form the vector ``theta`` (internal units, in the order of ``names``).

Guard: a likelihood (or the model) that returns NaN or +inf, or raises an arithmetic /
value error, makes the point impossible (``ln L = -inf``) instead of crashing the run; each
such event is counted by reason in ``failure_counts`` and reported at the end of a run.
A likelihood returning ``-inf`` is a legitimate exclusion and is not counted.
"""
from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np

from globalfit.config import (
    ConfigError,
    RunConfig,
    parameter_sources,
    resolve_classes,
    resolve_parameters,
)
from globalfit.likelihood import Likelihood, Point
from globalfit.models.base import Model
from globalfit.params import Parameter

GUARDED_ERRORS = (ArithmeticError, ValueError, np.linalg.LinAlgError)
"""Exceptions from a likelihood or model that turn a point into ``-inf`` (counted)."""


class Posterior:
    """Log-posterior over the free parameters of a run.

    Attributes
    ----------
    names : list of str
        Sampled parameter names, in the order of ``theta``.
    parameters : list of Parameter
        The sampled parameters (same order); ``all_parameters`` includes fixed ones.
    fixed : dict
        Fixed parameter values (internal units).
    bounds : ndarray, shape (n, 2)
        Prior support of each sampled parameter, internal units (may be infinite).
    model : Model
    likelihoods : dict
        Instance name -> `Likelihood`.
    blob_names : list of str
        ``chi2.<likelihood>`` ..., ``chi2.total``, ``derived.<name>`` ...: the per-point
        record ``__call__`` returns beside ``ln posterior``.
    failure_counts : collections.Counter
        ``"<likelihood or model>: <reason>"`` -> number of points where it failed.
    seconds : collections.Counter
        Likelihood name -> total wall time spent in its ``loglike`` (``calls`` counts them).
    """

    def __init__(self, model: Model, likelihoods: Mapping[str, Likelihood],
                 parameters: list[Parameter], config: RunConfig | None = None):
        self.model = model
        self.likelihoods = dict(likelihoods)
        self.all_parameters = list(parameters)
        self.parameters = [p for p in parameters if not p.fixed]
        self.names = [p.name for p in self.parameters]
        self.fixed = {p.name: float(p.prior.value) for p in parameters if p.fixed}
        self.bounds = np.array([p.prior.bounds for p in self.parameters],
                               dtype=float).reshape(-1, 2)
        self.config = config
        self.failure_counts: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.derived_names = self._discover_derived()
        self.blob_names = ([f"chi2.{n}" for n in self.likelihoods] + ["chi2.total"]
                           + [f"derived.{n}" for n in self.derived_names])

    # --- parameter vectors --------------------------------------------------------------
    @property
    def ndim(self) -> int:
        return len(self.names)

    def params(self, theta) -> dict[str, float]:
        """Every parameter by name (fixed and sampled), internal units."""
        theta = np.asarray(theta, dtype=float).reshape(-1)
        if theta.size != self.ndim:
            raise ValueError(f"theta: expected {self.ndim} values ({', '.join(self.names)}), "
                             f"got {theta.size}")
        values = dict(self.fixed)
        values.update(zip(self.names, theta.tolist()))
        return values

    def point(self, theta) -> Point:
        """The `Point` every likelihood sees at ``theta`` (model couplings included)."""
        params = self.params(theta)
        return Point(params, self.model.couplings(params))

    def reference_theta(self) -> np.ndarray:
        """Prior median of every sampled parameter (a deterministic interior point)."""
        return np.array([float(p.prior.from_unit_cube(0.5)) for p in self.parameters])

    def prior_transform(self, u) -> np.ndarray:
        """Unit cube -> parameter space (each prior's inverse CDF): the map nested samplers
        (dynesty, UltraNest) need. ``u`` has shape (..., ndim)."""
        u = np.asarray(u, dtype=float)
        return np.stack([p.prior.from_unit_cube(u[..., i]) for i, p in enumerate(self.parameters)],
                        axis=-1)

    def to_display(self, theta) -> np.ndarray:
        """``theta`` (..., n) in each parameter's display unit (degrees, MeV, ...)."""
        factors = np.array([p.factor for p in self.parameters])
        return np.asarray(theta, dtype=float) / factors

    # --- densities -----------------------------------------------------------------------
    def log_prior(self, theta) -> float:
        """Sum of the sampled parameters' normalised log-prior densities."""
        theta = np.asarray(theta, dtype=float).reshape(-1)
        total = 0.0
        for parameter, value in zip(self.parameters, theta):
            total += float(parameter.prior.log_prob(value))
            if total == -math.inf:
                break
        return total

    def log_likelihood(self, theta) -> tuple[float, dict[str, float]]:
        """Total ``ln L`` and each likelihood's ``chi^2 = -2 ln L`` at ``theta``.

        A failure (see the module docstring) gives ``-inf``; the failing likelihood's
        chi^2 is ``inf`` and the ones not evaluated after it are NaN.
        """
        chi2 = {name: math.nan for name in self.likelihoods}
        try:
            point = self.point(theta)
        except GUARDED_ERRORS as error:
            self._count("model", error)
            return -math.inf, chi2
        total = 0.0
        for name, likelihood in self.likelihoods.items():
            started = time.perf_counter()
            try:
                value = float(likelihood.loglike(point))
            except GUARDED_ERRORS as error:
                self._count(name, error)
                chi2[name] = math.inf
                return -math.inf, chi2
            finally:
                self.seconds[name] += time.perf_counter() - started
                self.calls[name] += 1
            if math.isnan(value) or value == math.inf:
                self._count(name, "NaN" if math.isnan(value) else "+inf")
                chi2[name] = math.inf
                return -math.inf, chi2
            chi2[name] = -2.0 * value
            total += value
        return total, chi2

    def log_posterior(self, theta) -> float:
        """``ln prior + ln L`` (unnormalised)."""
        return self.evaluate(theta)[0]

    def evaluate(self, theta) -> tuple[float, tuple[float, ...]]:
        """``(ln posterior, blob)``; ``blob`` holds the values named by ``blob_names``
        (NaN where the point is outside the prior; chi^2 ``inf`` where a likelihood failed)."""
        log_prior = self.log_prior(theta)
        if not math.isfinite(log_prior):
            return -math.inf, (math.nan,) * len(self.blob_names)
        log_like, chi2 = self.log_likelihood(theta)
        if log_like == -math.inf:
            total_chi2 = math.inf
            derived = {}
        else:
            total_chi2 = -2.0 * log_like
            derived = self._derived(theta)
        blob = (tuple(chi2.values()) + (total_chi2,)
                + tuple(float(derived.get(n, math.nan)) for n in self.derived_names))
        return log_prior + log_like, blob

    def __call__(self, theta) -> tuple[float, ...]:
        """``(ln posterior, *blob)``: the flat form emcee expects from a function with blobs
        (``blob = result[1:]``, one value per ``blob_names``)."""
        log_post, blob = self.evaluate(theta)
        return (log_post,) + blob

    def derived_value(self, name: str, theta) -> float:
        """The model's derived quantity ``name`` at ``theta`` (internal units); NaN where the
        model fails there."""
        if name not in self.derived_names:
            raise ValueError(f"derived quantity {name!r} is not known (the model derives: "
                             f"{', '.join(self.derived_names) or 'none'})")
        return float(self._derived(theta).get(name, math.nan))

    # --- helpers -------------------------------------------------------------------------
    def _derived(self, theta) -> dict[str, float]:
        try:
            return self.model.derived(self.params(theta))
        except GUARDED_ERRORS as error:
            self._count("model.derived", error)
            return {}

    def _discover_derived(self) -> list[str]:
        """Names of the model's derived quantities, from a point inside the priors (the
        prior median, else up to 20 prior draws where the model fails there)."""
        if not self.names:
            return list(self.model.derived(dict(self.fixed)))
        rng = np.random.default_rng(0)
        candidates = [self.reference_theta()] + [
            np.array([float(p.prior.sample(rng)) for p in self.parameters]) for _ in range(20)]
        for theta in candidates:
            try:
                return list(self.model.derived(self.params(theta)))
            except GUARDED_ERRORS:
                continue
        return []

    def statistics(self) -> dict[str, Counter]:
        """Counters to merge across processes: failures, calls and seconds per likelihood."""
        return {"failure_counts": self.failure_counts, "calls": self.calls,
                "seconds": self.seconds}

    def timing(self) -> dict[str, dict[str, float]]:
        """Calls and mean milliseconds per call of each likelihood so far."""
        return {name: {"calls": int(self.calls[name]),
                       "ms_per_call": 1e3 * self.seconds[name] / max(self.calls[name], 1)}
                for name in self.likelihoods}

    def _count(self, where: str, reason: Any) -> None:
        if isinstance(reason, BaseException):
            reason = f"{type(reason).__name__}: {str(reason)[:120]}"
        self.failure_counts[f"{where}: {reason}"] += 1


def build_posterior(config: RunConfig) -> Posterior:
    """Instantiate the model and likelihoods of ``config`` (data loaded once).

    Raises
    ------
    ConfigError
        If the card does not validate, or a likelihood/model rejects its options.
    """
    model = config.model_instance()  # validates the card unless done already
    errors: list[str] = []
    _, classes = resolve_classes(config, errors)
    if model is None:
        raise ConfigError(errors or [f"model: {config.model.name!r} could not be built"],
                          config.source)
    likelihoods = {}
    for (key, options), (instance, cls) in zip(config.likelihoods.items(), classes.items()):
        try:
            likelihood = cls(**options)
        except (TypeError, ValueError, FileNotFoundError) as error:
            errors.append(f"likelihoods.{key}: {error}")
            continue
        likelihood.instance_name = instance
        likelihoods[instance] = likelihood
    if errors:
        raise ConfigError(errors, config.source)
    # the instances' parameters and nuisances, which may depend on their options
    parameters = resolve_parameters(config, parameter_sources(model, likelihoods), errors)
    if errors:
        raise ConfigError(errors, config.source)
    return Posterior(model, likelihoods, parameters, config)
