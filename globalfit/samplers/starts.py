"""Where the frequentist searches of `globalfit.samplers.profile` start.

A local minimiser finds the minimum of the valley it starts in, so a best fit is only as
good as its starting points. Three sources, all of them explicit:

* `latin_hypercube_starts` through `start_unit_cube_map`: random points placed where the
  run card says a search should begin. A parameter with a ``start`` hint is drawn inside
  the hint's range (or held at the hint's value); the others from their priors. The same
  hints place the walkers of the samplers (`globalfit.samplers.emcee_sampler.draw_start`).
* `chain_starts`: the best points of a chain, when a run folder is profiled.
* `image_map`: the images of the minima already found under an exact symmetry of the
  model (``model.degenerate_image``, e.g. the generalised mass-ordering degeneracy of
  `globalfit.models.full_matrix`): the image of a minimum is where the mirrored valley
  lies, which random starts in many dimensions rarely reach.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy import stats

UnitCubeMap = Callable[[np.ndarray], np.ndarray]
"""``u (m, n) -> theta (m, n)``: points of the unit cube to parameter space."""

ImageMap = Callable[[np.ndarray], list[np.ndarray]]
"""``theta -> [theta', ...]``: points with the same oscillation physics as ``theta``."""


def latin_hypercube_starts(bounds: np.ndarray, n: int, seed: int | None = 0,
                           from_unit_cube: UnitCubeMap | None = None) -> np.ndarray:
    """``n`` starting points from a Latin hypercube in the unit cube.

    Mapped linearly onto ``bounds`` (which must then be finite), or through
    ``from_unit_cube`` (`start_unit_cube_map`: ``start`` hints, else the priors' inverse
    CDFs: log-uniform parameters are then spread in the logarithm, unbounded Gaussian ones
    over their prior) and clipped into ``bounds``.
    """
    bounds = np.asarray(bounds, dtype=float)
    if n <= 0:
        return np.empty((0, bounds.shape[0]))
    unit = stats.qmc.LatinHypercube(d=bounds.shape[0], seed=seed).random(n)
    if from_unit_cube is not None:
        return np.clip(from_unit_cube(unit), bounds[:, 0], bounds[:, 1])
    if not np.all(np.isfinite(bounds)):
        bad = np.where(~np.all(np.isfinite(bounds), axis=1))[0].tolist()
        raise ValueError(
            f"bounds: parameters {bad} have infinite bounds, so random starts cannot be "
            "drawn; give finite min/max, a from_unit_cube map or chain samples (starts)"
        )
    return bounds[:, 0] + unit * (bounds[:, 1] - bounds[:, 0])


def start_unit_cube_map(parameters: Sequence[Any], use_hints: bool = True) -> UnitCubeMap | None:
    """``u (m, n) -> theta (m, n)``: where random starts go, one column per parameter.

    A parameter with a ``start`` hint (`globalfit.params.Parameter.start`, internal units)
    is spread uniformly over the hint's ``(low, high)`` or held at its single value;
    another one (every one with ``use_hints=False``: the priors' own map) goes through its
    ``prior.from_unit_cube``. None if some parameter has neither (then the starts come from
    the bounds). Hints and priors only place the *starting points*; they never enter the
    minimised chi^2.
    """
    maps = [_column_map(p, use_hints) for p in parameters]
    if not maps or any(m is None for m in maps):
        return None

    def from_unit_cube(unit: np.ndarray) -> np.ndarray:
        unit = np.atleast_2d(unit)
        return np.column_stack([np.asarray(m(unit[:, i]), dtype=float)
                                for i, m in enumerate(maps)])

    return from_unit_cube


def _column_map(parameter: Any, use_hints: bool) -> Callable[[np.ndarray], np.ndarray] | None:
    hint = getattr(parameter, "start", None) if use_hints else None
    if hint is not None and len(hint) == 2:
        low, high = hint
        return lambda u: low + u * (high - low)
    if hint is not None:
        value = hint[0]
        return lambda u: np.full(np.shape(u), value)
    return getattr(getattr(parameter, "prior", None), "from_unit_cube", None)


def chain_starts(samples: np.ndarray, log_prob: np.ndarray, n: int = 5) -> np.ndarray:
    """The ``n`` highest-``log_prob`` distinct samples (array (n, n_parameters))."""
    samples = np.asarray(samples, dtype=float).reshape(-1, np.shape(samples)[-1])
    log_prob = np.asarray(log_prob, dtype=float).reshape(-1)
    order = np.argsort(-np.where(np.isfinite(log_prob), log_prob, -np.inf))
    unique = []
    for i in order:
        if not any(np.array_equal(samples[i], u) for u in unique):
            unique.append(samples[i])
        if len(unique) == n:
            break
    return np.array(unique).reshape(-1, samples.shape[1])


def image_map(posterior: Any) -> ImageMap | None:
    """``theta -> [image]`` through the posterior's ``model.degenerate_image``; None if the
    model declares no symmetry.

    The image is taken in the sampled parameters only: a fixed parameter keeps the card's
    value even where the symmetry would move it (e.g. ``dcp -> pi - dcp`` with ``dcp``
    fixed), so the image is then a starting point near the mirrored valley, not an exact
    copy of the minimum. Images outside the bounds are dropped.
    """
    degenerate_image = getattr(getattr(posterior, "model", None), "degenerate_image", None)
    if degenerate_image is None:
        return None
    names, bounds = list(posterior.names), np.asarray(posterior.bounds, dtype=float)

    def images(theta: np.ndarray) -> list[np.ndarray]:
        mapped = degenerate_image(posterior.params(theta))
        image = np.array([float(mapped.get(name, value)) for name, value in zip(names, theta)])
        inside = np.all((image >= bounds[:, 0]) & (image <= bounds[:, 1]))
        return [image] if inside and np.all(np.isfinite(image)) else []

    return images
