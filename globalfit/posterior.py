"""Posterior = prior + sum of log-likelihoods, as one picklable callable.

``build_posterior(config)`` instantiates the model and every likelihood once (data loaded
once), collects all parameters (oscillation defaults, model parameters, nuisance parameters
``<likelihood>.<name>``; card specs override defaults) and returns a `Posterior` whose free
parameters form the vector ``theta`` (internal units, in the order of ``names``).

Guard (`Posterior._guarded`, the one place where plug-in code is called, point by point
or in batches): a likelihood (or the model) that returns NaN or +inf, or raises any
exception (``ValueError``, ``FloatingPointError``, a plug-in's ``RuntimeError``,
``KeyError``...), makes the point impossible (``ln L = -inf``) instead of crashing the run;
each such event is counted by reason in ``failure_counts`` and reported at the end of a
run, and the first traceback is kept (``first_traceback``, written to ``diagnostics.json``).
``KeyboardInterrupt`` and ``SystemExit`` are not contained. A likelihood returning ``-inf``
is a legitimate exclusion and is not counted.
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

GUARDED_ERRORS = (Exception,)
"""Exceptions from a likelihood or model that turn a point into ``-inf`` (counted): all of
them but ``KeyboardInterrupt`` / ``SystemExit`` (a plug-in's bug must not end a long run;
it is counted, reported and its first traceback kept)."""

_FAILED = object()
"""What `Posterior._guarded` returns for a failed evaluation."""


def _float_loglike(likelihood: Likelihood, point: Point) -> float:
    return float(likelihood.loglike(point))


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
        self.tracebacks: Counter[str] = Counter()
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
        log_like, chi2 = self.log_likelihood_batch(np.asarray(theta, dtype=float).reshape(1, -1))
        return float(log_like[0]), dict(zip(self.likelihoods, chi2[0].tolist()))

    def log_likelihood_batch(self, thetas) -> tuple[np.ndarray, np.ndarray]:
        """`log_likelihood` of each row of ``thetas`` (n, ndim): ``ln L`` (n,) and chi^2
        (n, n_likelihoods), columns in the order of ``likelihoods``.

        Each likelihood sees all the points still alive at once through its
        ``loglike_batch(points)`` where it has one (its values must not depend on the other
        points of the batch), else point by point. A batch call that raises is repeated
        point by point, so that only the failing points are lost and counted.
        """
        thetas = np.asarray(thetas, dtype=float).reshape(-1, self.ndim)
        log_like = np.zeros(len(thetas))
        chi2 = np.full((len(thetas), len(self.likelihoods)), math.nan)
        alive = []
        for i, theta in enumerate(thetas):
            point = self._guarded("model", self.point, theta)
            if point is _FAILED:
                log_like[i] = -math.inf
            else:
                alive.append((i, point))
        for column, (name, likelihood) in enumerate(self.likelihoods.items()):
            if not alive:
                break
            values = self._loglike_points(name, likelihood, [point for _, point in alive])
            survivors = []
            for (i, point), value in zip(alive, values):
                if value is _FAILED:
                    chi2[i, column] = math.inf
                    log_like[i] = -math.inf
                    continue
                chi2[i, column] = -2.0 * value
                log_like[i] += value
                survivors.append((i, point))
            alive = survivors
        return log_like, chi2

    def _loglike_points(self, name: str, likelihood: Likelihood, points: list[Point]) -> list:
        """``ln L`` of ``likelihood`` at ``points`` (a float or ``_FAILED`` each), timed."""
        started = time.perf_counter()
        try:
            batch = getattr(likelihood, "loglike_batch", None)
            if batch is not None and len(points) > 1:
                values = self._guarded(name, batch, points, count=False)
                if values is not _FAILED:
                    return [self._checked(name, float(v)) for v in values]
            return [self._guarded(name, _float_loglike, likelihood, point) for point in points]
        finally:
            self.seconds[name] += time.perf_counter() - started
            self.calls[name] += len(points)

    def _guarded(self, where: str, function, *args, count: bool = True):
        """The guard: ``function(*args)``, or ``_FAILED`` where it raises one of
        ``GUARDED_ERRORS`` or returns NaN / +inf (counted in ``failure_counts`` by reason
        unless ``count`` is False); ``-inf`` is a legitimate exclusion and passes."""
        try:
            value = function(*args)
        except GUARDED_ERRORS as error:
            if count:
                self._count(where, error)
                if not self.tracebacks:
                    self.tracebacks[_traceback_text(where, error)] += 1
            return _FAILED
        if isinstance(value, (float, int, np.floating)):
            return self._checked(where, float(value))
        return value

    def _checked(self, where: str, value: float):
        if math.isnan(value) or value == math.inf:
            self._count(where, "NaN" if math.isnan(value) else "+inf")
            return _FAILED
        return value

    def log_posterior(self, theta) -> float:
        """``ln prior + ln L`` (unnormalised)."""
        return self.evaluate(theta)[0]

    def evaluate(self, theta) -> tuple[float, tuple[float, ...]]:
        """``(ln posterior, blob)``; ``blob`` holds the values named by ``blob_names``
        (NaN where the point is outside the prior; chi^2 ``inf`` where a likelihood failed)."""
        result = self.evaluate_batch(np.asarray(theta, dtype=float).reshape(1, -1))[0]
        return result[0], result[1:]

    def evaluate_batch(self, thetas) -> list[tuple[float, ...]]:
        """``[self(theta) for theta in thetas]`` with every likelihood evaluated on all the
        points inside the prior at once (`log_likelihood_batch`)."""
        thetas = np.asarray(thetas, dtype=float).reshape(-1, self.ndim)
        log_prior = np.array([self.log_prior(theta) for theta in thetas])
        inside = np.flatnonzero(np.isfinite(log_prior))
        results = [(-math.inf,) + (math.nan,) * len(self.blob_names)] * len(thetas)
        if not len(inside):
            return results
        log_like, chi2 = self.log_likelihood_batch(thetas[inside])
        for k, i in enumerate(inside):
            if log_like[k] == -math.inf:
                total_chi2, derived = math.inf, {}
            else:
                total_chi2, derived = -2.0 * log_like[k], self._derived(thetas[i])
            results[i] = ((float(log_prior[i] + log_like[k]),) + tuple(chi2[k].tolist()) + (total_chi2,)
                          + tuple(float(derived.get(n, math.nan)) for n in self.derived_names))
        return results

    def __call__(self, theta) -> tuple[float, ...]:
        """``(ln posterior, *blob)``: the flat form emcee expects from a function with blobs
        (``blob = result[1:]``, one value per ``blob_names``)."""
        return self.evaluate_batch(np.asarray(theta, dtype=float).reshape(1, -1))[0]

    def derived_value(self, name: str, theta) -> float:
        """The model's derived quantity ``name`` at ``theta`` (internal units); NaN where the
        model fails there."""
        if name not in self.derived_names:
            raise ValueError(f"derived quantity {name!r} is not known (the model derives: "
                             f"{', '.join(self.derived_names) or 'none'})")
        return float(self._derived(theta).get(name, math.nan))

    # --- helpers -------------------------------------------------------------------------
    def _derived(self, theta) -> dict[str, float]:
        derived = self._guarded("model.derived",
                                lambda t: self.model.derived(self.params(t)), theta)
        return {} if derived is _FAILED else derived

    @property
    def first_traceback(self) -> str | None:
        """Traceback of the first contained failure (of this process or, merged through
        `statistics`, of a worker), or None."""
        return next(iter(self.tracebacks), None)

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
                "seconds": self.seconds, "tracebacks": self.tracebacks}

    def timing(self) -> dict[str, dict[str, float]]:
        """Calls and mean milliseconds per call of each likelihood so far."""
        return {name: {"calls": int(self.calls[name]),
                       "ms_per_call": 1e3 * self.seconds[name] / max(self.calls[name], 1)}
                for name in self.likelihoods}

    def _count(self, where: str, reason: Any) -> None:
        if isinstance(reason, BaseException):
            reason = f"{type(reason).__name__}: {str(reason)[:120]}"
        self.failure_counts[f"{where}: {reason}"] += 1


def _traceback_text(where: str, error: BaseException) -> str:
    import traceback

    lines = traceback.format_exception(type(error), error, error.__traceback__)
    return f"{where}:\n" + "".join(lines)[-4000:]


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
        except (TypeError, ValueError, OSError, KeyError) as error:  # options, data files
            errors.append(f"likelihoods.{key}: {error}")
            continue
        except Exception as error:  # a plug-in that fails in its own code: name it
            errors.append(f"likelihoods.{key}: {cls.__name__}({', '.join(options)}) failed: "
                          f"{type(error).__name__}: {error}")
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


def nuisances_profiled_inside(posterior: Posterior) -> Posterior:
    """A copy of ``posterior`` without the nuisance parameters its likelihoods can profile
    themselves, for minimisations (profiles, scans).

    A likelihood that finds none of its nuisance parameters on a point profiles them
    inside, with their priors (e.g. COHERENT's release likelihoods: normalisation, shape
    and background terms by Newton steps); one that raises KeyError needs them on the point,
    and they stay free parameters. Handing them to the likelihood gives the minimum an outer
    minimiser over the physics parameters and eight or more nuisances together may stop
    short of (CsI 2017 release, LMA-Dark at 1 GeV: Delta chi^2 48.7 inside, 74.0 jointly).
    Sampling keeps them as parameters (marginalised), so `build_posterior` is unchanged.
    """
    theta = posterior.reference_theta()
    reference = posterior.point(theta)
    inside = set()
    for name, likelihood in posterior.likelihoods.items():
        own = [p.name for p in posterior.parameters if p.name.startswith(f"{name}.")]
        if not own:
            continue
        params = {k: v for k, v in reference.params.items() if not k.startswith(f"{name}.")}
        try:
            likelihood.loglike(Point(params, reference.couplings))
        except KeyError:  # needs its nuisances on the point: they stay free
            continue
        inside.update(own)
    if not inside:
        return posterior
    kept = [p for p in posterior.all_parameters if p.name not in inside]
    return Posterior(posterior.model, posterior.likelihoods, kept, posterior.config)
