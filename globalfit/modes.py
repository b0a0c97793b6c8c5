"""Regions as modes: per-region evidences, posterior masses, and region-restricted sampling.

A run card's ``regions:`` (``LMA: "th12 < 45 deg"``, ``LMA_D: "th12 >= 45 deg"``) name parts
of parameter space that hold separate modes. For well-separated modes the fraction of MCMC
walkers in each says only how the walkers were started; the posterior mass of a region is

    P(r | data) = Z_r / sum_s Z_s,     Z_r = int_r L(theta) pi(theta) dtheta,

with ``Z_r`` from a nested-sampling run whose likelihood is ``-inf`` outside ``r``
(`region_evidences`). Each region can also be sampled on its own by emcee
(`RegionPosterior`), with walkers seeded in the region or mapped into it from another
mode by a degeneracy map (`mirror_start`).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from globalfit.samplers.nested import NestedResult, run_nested


class PriorTransform:
    """Unit hypercube -> parameters, through each sampled parameter's prior (picklable)."""

    def __init__(self, parameters: Sequence):
        self.priors = [p.prior for p in parameters]

    def __call__(self, u) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        return np.array([float(prior.from_unit_cube(x)) for prior, x in zip(self.priors, u)])


class RegionLogLikelihood:
    """``ln L(theta)`` of a posterior inside ``region`` and ``-inf`` outside (picklable)."""

    def __init__(self, posterior, region=None):
        self.posterior = posterior
        self.region = region

    def inside(self, theta) -> bool:
        if self.region is None:
            return True
        return bool(self.region.mask(np.atleast_2d(theta), self.posterior.names)[0])

    def __call__(self, theta) -> float:
        if not self.inside(theta):
            return -np.inf
        return float(self.posterior.log_likelihood(theta)[0])


class RegionPosterior:
    """A posterior restricted to one region, usable wherever a `Posterior` is.

    Outside the region ``ln posterior = -inf``; everything else (names, parameters,
    blobs, point) is the wrapped posterior's.
    """

    def __init__(self, posterior, region):
        self._posterior = posterior
        self.region = region

    def __getattr__(self, name):
        return getattr(self._posterior, name)

    def __getstate__(self):
        return {"_posterior": self._posterior, "region": self.region}

    def __setstate__(self, state):
        self.__dict__.update(state)

    def evaluate(self, theta):
        result = self.evaluate_batch(np.atleast_2d(theta))[0]
        return result[0], result[1:]

    def evaluate_batch(self, thetas) -> list[tuple[float, ...]]:
        """``Posterior.evaluate_batch`` of the points inside the region; ``-inf`` outside."""
        thetas = np.asarray(thetas, dtype=float).reshape(-1, len(self._posterior.names))
        results = [(-np.inf,) + (np.nan,) * len(self._posterior.blob_names)] * len(thetas)
        inside = np.flatnonzero(self.region.mask(thetas, self._posterior.names))
        if len(inside):
            for i, result in zip(inside, self._posterior.evaluate_batch(thetas[inside])):
                results[i] = result
        return results

    def log_posterior(self, theta) -> float:
        return self.evaluate(theta)[0]

    def __call__(self, theta):
        return self.evaluate_batch(np.atleast_2d(theta))[0]


def checkpoint_name(region: str, engine: str) -> str:
    """Resumable state of one region: nautilus writes HDF5 (it requires a ``.h5`` name),
    dynesty a pickle."""
    return f"nested_{region}_checkpoint.h5" if engine == "nautilus" else f"nested_{region}.checkpoint"


def region_evidences(posterior, regions: Sequence | None, *, output_dir: Path | None = None,
                     engine: str = "nautilus", n_live: int | None = None, seed: int | None = None,
                     n_effective: int = 10000, pool=None,
                     progress: bool = False) -> dict[str, NestedResult]:
    """Nested-sampling evidence of each region (or of the whole prior if ``regions`` is empty).

    Region ``i`` uses the seed ``seed + i``. Each result is saved as
    ``output_dir/nested_<region>.h5`` and checkpointed (`checkpoint_name`) so that a killed
    run resumes.
    """
    transform = PriorTransform(posterior.parameters)
    targets = {r.name: r for r in regions} if regions else {"all": None}
    results = {}
    for index, (name, region) in enumerate(targets.items()):
        checkpoint = None
        if output_dir is not None:
            Path(output_dir).mkdir(parents=True, exist_ok=True)
            checkpoint = Path(output_dir) / checkpoint_name(name, engine)
        result = run_nested(
            RegionLogLikelihood(posterior, region), transform, posterior.ndim, engine=engine,
            n_live=n_live, seed=None if seed is None else seed + index, checkpoint=checkpoint,
            pool=pool, progress=progress, names=list(posterior.names), n_effective=n_effective,
        )
        if output_dir is not None:
            result.save(Path(output_dir) / f"nested_{name}.h5")
        results[name] = result
    return results


def region_masses(log_evidence: Mapping[str, float],
                  log_evidence_err: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Posterior mass of each region from its evidence, with propagated errors.

    ``mass_r = Z_r / sum_s Z_s``; ``d mass_r^2 = mass_r^2 [ (1 - mass_r)^2 s_r^2
    + sum_{s != r} mass_s^2 s_s^2 ]`` with ``s`` the ln Z errors (independent runs).
    Also gives ln of the Bayes factor of each region against the most probable one.
    """
    names = list(log_evidence)
    log_z = np.array([log_evidence[n] for n in names], dtype=float)
    errors = np.array([(log_evidence_err or {}).get(n, 0.0) for n in names], dtype=float)
    mass = np.exp(log_z - np.logaddexp.reduce(log_z))
    variance = np.empty_like(mass)
    for r in range(len(names)):
        others = np.delete(mass**2 * errors**2, r)
        variance[r] = mass[r] ** 2 * ((1 - mass[r]) ** 2 * errors[r] ** 2 + others.sum())
    return pd.DataFrame({
        "region": names, "log_evidence": log_z, "log_evidence_err": errors,
        "mass": mass, "mass_err": np.sqrt(variance),
        "ln_bayes_factor_vs_best": log_z - log_z.max(),
    })


def mirror_start(posterior, thetas: np.ndarray, mapping: Callable[[dict], dict]) -> np.ndarray:
    """Map walker positions into the mirror mode of a degeneracy.

    ``mapping`` takes and returns a dict of parameter values (internal units), e.g. the
    generalised mass-ordering degeneracy of physics.md section 1 written for the run's
    parameter names; parameters it does not return keep their value. Points mapped outside
    the prior support are clipped to it.
    """
    thetas = np.atleast_2d(np.asarray(thetas, dtype=float))
    mapped = np.empty_like(thetas)
    for i, theta in enumerate(thetas):
        values = dict(zip(posterior.names, theta))
        values.update(mapping(dict(values)))
        mapped[i] = [values[n] for n in posterior.names]
    low, high = posterior.bounds[:, 0], posterior.bounds[:, 1]
    return np.clip(mapped, low, high)
