"""COHERENT CEvNS likelihoods: CsI[Na] 2017, CsI[Na] full data set (2021), LAr 2020.

Two modes (``docs/cevns.md``):

* default (``data/<set>/<set>.yaml`` only): a counting likelihood on the published
  measured CEvNS count ``O +- s`` against the prediction ``N(eps)`` of our forward model
  in the same region of interest, with the collaboration's fractional prediction
  uncertainty ``sigma`` as a log-normal normalisation: nuisance ``log_norm`` (prior
  N(0, sigma)), ``chi2 = (O - exp(log_norm) N)^2 / s^2``; profiled when the point does not
  carry ``<name>.log_norm`` (`profile_lognormal_count`). A log-normal (rather than a linear
  pull, whose cost saturates at ``1/sigma^2`` when ``N >> O``) keeps predictions several
  times the SM excluded.
* ``release_path:`` a folder laid out as the official release (``coherent_csi_2017/``,
  ``coherent_csi_2021/``, ``coherent_lar_2020/`` under ``/work/shared/data``): a binned
  Poisson likelihood in energy x time (x F90 for LAr) with steady-state, beam-related
  neutron (and NIN) backgrounds. Nuisances: signal normalisation (flux, 10 %), shape
  nuisances for quenching / efficiency / form-factor radius (linear between +-1 sigma
  forward models) and background normalisations; those the point does not set are
  profiled (Newton iterations, or L-BFGS-B where the steady state is profiled bin by bin
  against the anticoincidence window).
"""
from __future__ import annotations

import math
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar

import numpy as np
import pandas as pd

from globalfit.couplings import STANDARD_MODEL, Couplings
from globalfit.datafile import read_yaml
from globalfit.datafiles import read_table
from globalfit.likelihood import Likelihood, Point
from globalfit.paths import data_path
from globalfit.physics import sns
from globalfit.physics.cevns import CEvNSPredictor, Source, rates_of_predictors
from globalfit.physics.constants import MEV
from globalfit.physics.detector import gamma_bin_matrix, gaussian_bin_matrix, poisson_matrix
from globalfit.physics.nuclei import target_isotopes
from globalfit.releases import release_option
from globalfit.statistics import POISSON_FLOOR, poisson_chi2

KEV_PER_GEV = 1.0e6
RADIUS_SIGMA = 0.05
"""Form-factor radius nuisance in release mode: +-5 % (neutron-skin and model spread;
an assumption, see docs/cevns.md)."""


def sns_sources(exposure: sns.SNSExposure, energy_points: int = 300) -> list[Source]:
    """The three SNS species with their fluences (cm^-2) at the detector."""
    fluence = exposure.fluence_per_flavour_cm2
    energies, weights = sns.delayed_energy_grid(energy_points)
    return [
        Source("nu_mu", "nu_mu", np.array([sns.PROMPT_ENERGY_GEV]), np.array([fluence])),
        Source("nu_e", "nu_e", energies, fluence * weights * sns.michel_nue_pdf(energies)),
        Source("nubar_mu", "nubar_mu", energies,
               fluence * weights * sns.michel_numubar_pdf(energies)),
    ]


def profile_poisson(observed, fixed, templates, sigmas, iterations: int = 30):
    """Profile ``chi2 = 2 sum(mu - n + n ln(n/mu)) + sum (theta_k / sigma_k)^2`` over
    ``theta``, with ``mu = fixed + sum_k theta_k templates[k]`` (Newton iterations).

    Returns ``(chi2_min, theta)``. ``sigmas`` may be ``inf`` (free parameter).
    """
    n = np.asarray(observed, dtype=float).ravel()
    base = np.asarray(fixed, dtype=float).ravel()
    d = np.asarray(templates, dtype=float).reshape(len(templates), -1)
    inv_var = 1.0 / np.asarray(sigmas, dtype=float) ** 2
    theta = np.zeros(len(d))
    trial = base + theta @ d
    prior_curvature = 2.0 * np.diag(inv_var) + 1e-9 * np.eye(len(d))
    for _ in range(iterations):
        mu = np.maximum(trial, 1e-9)
        ratio = n / mu
        grad = 2.0 * d @ (1.0 - ratio) + 2.0 * theta * inv_var
        hess = 2.0 * (d * (ratio / mu)) @ d.T + prior_curvature
        step = np.linalg.solve(hess, grad)
        # keep the expectation positive: shorten the step if needed
        scale = 1.0
        for _ in range(20):
            trial = base + (theta - scale * step) @ d
            if np.all(trial > 0):
                break
            scale *= 0.5
        theta = theta - scale * step
        if np.max(np.abs(scale * step)) < 1e-7:
            break
    return poisson_chi2(n, base + theta @ d, axis=None) + float(np.sum(theta**2 * inv_var)), theta


class OnOffTerms:
    """The on/off Poisson chi^2 of one data set, profiled bin by bin over the steady-state
    background (`on_off_chi2`).

    Calling it with a signal ``s`` (bins) returns ``(chi2, d chi2 / d s)``, and with
    ``curvature=True`` also ``d^2 chi2 / d s^2``. The per-bin profile solves
    ``F = 2 b^2 + (2 s - on - off) b - off s = 0``, so ``db/ds = (off - 2 b) /
    sqrt((2 s - on - off)^2 + 8 off s)`` (``-F_s / F_b``) and ``d^2 chi2 / ds^2 =
    2 on (1 + db/ds) / (s + b)^2``. Bins where a linearised shape shift pushes ``s`` below
    zero count as ``s = 0`` (zero derivatives).
    """

    def __init__(self, observed_on, observed_off):
        self.on = np.asarray(observed_on, dtype=float).ravel()
        self.off = np.asarray(observed_off, dtype=float).ravel()

    def __call__(self, signal, curvature: bool = False) -> tuple:
        on, off = self.on, self.off
        raw = np.asarray(signal, dtype=float).ravel()
        s = np.maximum(raw, 0.0)  # a linearised shape shift may push a bin below zero
        linear = 2.0 * s - on - off
        root = np.sqrt(linear * linear + 8.0 * off * s)
        b = np.maximum((root - linear) * 0.25, 0.0)
        mu_on = np.maximum(s + b, POISSON_FLOOR)
        chi2 = poisson_chi2(on, mu_on, axis=None) + poisson_chi2(off, b, axis=None)
        positive = raw > 0.0
        ratio = on / mu_on
        gradient = np.where(positive, 2.0 * (1.0 - ratio), 0.0)
        if not curvature:
            return chi2, gradient
        slope = np.divide(off - 2.0 * b, root, out=np.zeros_like(root), where=(root > 0.0) & (b > 0.0))
        second = np.where(positive, 2.0 * ratio * (1.0 + slope) / mu_on, 0.0)
        return chi2, gradient, second


def on_off_chi2(observed_on, observed_off, signal) -> tuple[float, np.ndarray]:
    """``min_b [chi2_P(on | s + b) + chi2_P(off | b)]`` bin by bin (steady-state ``b``
    measured in an equally long off window), and ``d chi2 / d s`` (see `OnOffTerms`)."""
    return OnOffTerms(observed_on, observed_off)(signal)


def profile_on_off(observed_on, observed_off, fixed, templates, sigmas, lower_bounds=None,
                   iterations: int = 50):
    """Profile ``on_off_chi2 + sum (theta_k/sigma_k)^2`` over ``theta`` with
    ``s = fixed + sum_k theta_k templates[k]``; ``lower_bounds`` (default -1 each: a
    normalisation offset) keeps components non-negative (``None`` entries = unbounded).

    Projected Newton iterations with the exact curvature (`OnOffTerms`), Levenberg damping
    and a backtracking line search (where every signal bin is positive the objective is
    convex in ``theta``: a Poisson deviance of ``s + b`` minimised over ``b``); parameters
    at their lower bound whose gradient points out of the box are held there; steps stay
    where every signal bin is positive. Converged when the Newton decrement is below
    `NEWTON_DECREMENT_TOL`; otherwise (the minimum lies where bins of the signal reach
    zero: kinks, not convex) `profile_on_off_lbfgsb` (the minimiser used before, from
    ``theta = 0``) decides. There the objective can have more than one local minimum, one of
    them only because the linearised shape shifts make bins of the CEvNS template negative:
    the result is the minimum reached from ``theta = 0`` (docs/cevns.md, known limitations).
    Returns ``(chi2_min, theta)``.
    """
    objective = _OnOffObjective(observed_on, observed_off, fixed, templates, sigmas, lower_bounds)
    d, lower = objective.templates, objective.lower
    theta = np.maximum(np.zeros(len(d)), lower)
    if np.all(objective.base + theta @ d > 0.0):
        value, gradient, second = objective(theta, curvature=True)
        damping = 0.0
        for _ in range(iterations):
            free = ~((theta <= lower) & (gradient > 0.0))
            n_free = int(free.sum())
            if n_free == 0:
                return float(value), theta
            hessian = (d[free] * second) @ d[free].T + 2.0 * np.diag(objective.inv_var[free])
            newton = np.linalg.solve(hessian, gradient[free])
            if float(gradient[free] @ newton) < NEWTON_DECREMENT_TOL:       # converged
                return float(value), theta
            scale_h = max(float(np.trace(hessian)) / n_free, 1e-12)
            for _ in range(4):                 # Levenberg damping where Newton does not descend
                step = np.zeros(len(d))
                step[free] = newton if damping == 0.0 else np.linalg.solve(
                    hessian + damping * scale_h * np.eye(n_free), gradient[free])
                trial = _descend(objective, theta, step, value)
                if trial is not None:
                    damping *= 0.1 if damping > 1e-6 else 0.0
                    break
                damping = max(1e-4, 10.0 * damping)
            else:
                break
            theta, value, gradient, second = trial
    # not converged inside the region where every bin of the signal is positive (the
    # minimum sits on its edge, where the objective has kinks and is not convex): the
    # bounded quasi-Newton minimiser used before decides
    return profile_on_off_lbfgsb(observed_on, observed_off, fixed, templates, sigmas, lower_bounds)


NEWTON_DECREMENT_TOL = 1e-10
"""Newton decrement ``g^T H^-1 g`` (twice the expected chi^2 gain of a Newton step) below
which the on/off profile counts as converged."""


def profile_on_off_lbfgsb(observed_on, observed_off, fixed, templates, sigmas, lower_bounds=None,
                          start=None):
    """`profile_on_off` by L-BFGS-B (tight tolerances) from ``start`` (default ``theta = 0``,
    what the profile uses): what decides at points whose fitted signal has bins at or below
    zero, and the reference of the tests."""
    from scipy.optimize import minimize

    objective = _OnOffObjective(observed_on, observed_off, fixed, templates, sigmas, lower_bounds)
    bounds = [(low if np.isfinite(low) else None, None) for low in objective.lower]
    theta0 = np.zeros(len(objective.templates)) if start is None else np.maximum(start, objective.lower)
    result = minimize(lambda t: objective(t)[:2], theta0, jac=True,
                      method="L-BFGS-B", bounds=bounds,
                      options={"ftol": 1e-13, "gtol": 1e-9, "maxiter": 1000})
    return float(result.fun), result.x


class _OnOffObjective:
    """``theta -> (chi2, gradient[, curvature per bin])`` of `profile_on_off`."""

    def __init__(self, observed_on, observed_off, fixed, templates, sigmas, lower_bounds):
        self.terms = OnOffTerms(observed_on, observed_off)
        self.templates = np.asarray(templates, dtype=float).reshape(len(templates), -1)
        self.base = np.asarray(fixed, dtype=float).ravel()
        self.inv_var = 1.0 / np.asarray(sigmas, dtype=float) ** 2
        n = len(self.templates)
        lower = [-1.0 if lower_bounds is None else lower_bounds[k] for k in range(n)]
        self.lower = np.array([-np.inf if v is None else v for v in lower], dtype=float)

    def __call__(self, theta, curvature: bool = False) -> tuple:
        terms = self.terms(self.base + theta @ self.templates, curvature)
        pull = theta * self.inv_var
        value = terms[0] + float(theta @ pull)
        gradient = self.templates @ terms[1] + 2.0 * pull
        return (value, gradient) + terms[2:]


def _descend(objective, theta, step, value, halvings: int = 10):
    """Backtracking along ``-step`` inside the box and inside the region where every bin
    of the signal is positive: ``(theta, value, gradient, curvature)`` at the first point
    that does not increase the objective, or None."""
    scale = 1.0
    for _ in range(halvings):
        trial = np.maximum(theta - scale * step, objective.lower)
        if np.all(objective.base + trial @ objective.templates > 0.0):
            terms = objective(trial, curvature=True)
            if terms[0] <= value:
                return (trial,) + terms
        scale *= 0.5
    return None


def profile_lognormal_count(observed: float, observed_sigma: float, predicted: float,
                            sigma_ln: float) -> float:
    """``min_u [(O - N e^u)^2 / s^2 + (u / sigma_ln)^2]`` (safeguarded Newton in ``u``)."""
    if predicted <= 0.0:
        return observed**2 / observed_sigma**2
    observed, predicted = float(observed), float(predicted)
    inv_s2, inv_v = 1.0 / observed_sigma**2, 1.0 / sigma_ln**2
    u = 0.0
    for _ in range(50):
        scaled = predicted * math.exp(u)
        grad = -2.0 * scaled * (observed - scaled) * inv_s2 + 2.0 * u * inv_v
        hess = 2.0 * scaled * (2.0 * scaled - observed) * inv_s2 + 2.0 * inv_v
        step = grad / max(hess, 2.0 * inv_v)
        step = max(min(step, 1.0), -1.0)
        u -= step
        if abs(step) < 1e-10:
            break
    scaled = predicted * math.exp(u)
    return (observed - scaled) ** 2 * inv_s2 + u * u * inv_v


def counting_chi2(observed: float, observed_sigma: float, predicted: float, sigma_ln: float,
                  nuisances: dict | None = None) -> float:
    """chi^2 of a counting measurement ``O +- s`` against ``N e^u``: at the given
    ``nuisances["log_norm"] = u`` (without its pull, which the prior carries), else with
    ``u`` profiled under its log-normal constraint (`profile_lognormal_count`)."""
    if nuisances is not None and "log_norm" in nuisances:
        return (observed - math.exp(nuisances["log_norm"]) * predicted) ** 2 / observed_sigma**2
    return profile_lognormal_count(observed, observed_sigma, predicted, sigma_ln)


NORMALISATIONS = ("computed", "published")
"""Counting-mode normalisations: ``computed`` (the forward model's count) or ``published``
(the collaboration's SM prediction times the forward model's ``N(model) / N(SM)``)."""


def normalisation_scale(normalisation: str, published_sm: float, computed_sm: float, key: str) -> float:
    """Factor applied to the forward model's counts in counting mode.

    Parameters
    ----------
    normalisation : {"computed", "published"}
        ``computed``: 1 (the forward model's own count). ``published``: ``published_sm /
        computed_sm``, so that the SM point gives the collaboration's prediction and the
        forward model enters only through the ratio ``N(model) / N(SM)`` with one response.
    published_sm, computed_sm : float
        The collaboration's and the forward model's SM counts (events).
    key : str
        Run-card key of the option, for the error message.
    """
    if normalisation not in NORMALISATIONS:
        raise ValueError(f"{key}: {normalisation!r} not allowed (choose from {', '.join(NORMALISATIONS)})")
    if normalisation == "computed":
        return 1.0
    if not computed_sm > 0.0:
        raise ValueError(f"{key}: the forward model's SM count is {computed_sm!r}; cannot normalise to "
                         f"the published {published_sm}")
    return float(published_sm) / float(computed_sm)


def _coefficient_sets(path: Path) -> list[list[float]]:
    """Rows of four numbers in a release coefficient file (comments skipped), in file order."""
    rows = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 4 and not line.lstrip().startswith("#"):
            rows.append([float(x) for x in parts])
    return rows


class _CoherentBase(Likelihood):
    """Shared machinery; subclasses define the detector response and release loader."""

    dataset: ClassVar[str] = ""
    reads = ()
    options_allowed = ("release", "release_path", "form_factor", "recoil_points", "normalisation")
    nuisance_parameters = MappingProxyType({})
    default_normalisation: ClassVar[str] = "computed"
    """Counting mode: the response is rebuilt from the release (docs/cevns.md), so the forward
    model's own count is used; ``normalisation: published`` scales it to the published SM count."""

    def __init__(self, **options):
        super().__init__(**options)
        self._config_file = data_path(self.dataset, f"{self.dataset}.yaml")
        self.config = read_yaml(self._config_file)
        ff = options.get("form_factor", self.config["detector"]["form_factor"])
        if ff not in ("helm", "klein_nystrand"):
            raise ValueError(
                f"likelihoods.{self.name}.form_factor: {ff!r} not allowed "
                "(choose 'helm' or 'klein_nystrand')"
            )
        self.form_factor = ff
        self.recoil_points = int(options.get("recoil_points", 400))
        source = self.config["source"]
        self.exposure = sns.SNSExposure(source["protons_on_target"],
                                        source["nu_per_flavour_per_pot"], source["distance_m"])
        detector = self.config["detector"]
        self.targets = target_isotopes(detector["composition"], detector["mass_kg"])
        self.sources = sns_sources(self.exposure)
        result = self.config["result"]
        self.observed = float(result["observed_cevns"])
        self.observed_sigma = float(result["observed_sigma"])
        self.norm_sigma = float(result["sm_prediction_sigma"]) / float(result["sm_prediction"])
        self.published_sm = float(result["sm_prediction"])
        self.normalisation = options.get("normalisation", self.default_normalisation)
        self.release_path = release_option(options, f"likelihoods.{self.name}")
        if self.release_path is not None and "normalisation" in options:
            raise ValueError(f"likelihoods.{self.name}.normalisation: applies to the counting mode only; "
                             "drop it or drop release/release_path")
        self._release_files: list[Path] = []
        self._variants: list = []
        self._scale = 1.0          # counting mode may rescale to the published SM count
        if self.release_path is None:
            self._setup_counting()
        else:
            path = Path(self.release_path)
            if not path.is_dir():
                raise ValueError(
                    f"likelihoods.{self.name}.release_path: {str(path)!r} is not a folder"
                )
            self._setup_release(path)

    # --- subclasses ---------------------------------------------------------------------
    def _energy_response(self, edges_or_roi, recoil_gev, isotope) -> np.ndarray:
        raise NotImplementedError

    def _time_weights(self, time_edges_us) -> np.ndarray:
        """``[source, time bin]``: fraction of each species arriving in each bin."""
        src = self.config["source"]
        fractions = sns.time_bin_fractions(time_edges_us, src["pot_mean_ns"], src["pot_sigma_ns"])
        return np.stack([fractions[sns.TIMING_GROUP[s.label]] for s in self.sources])

    def _setup_release(self, path: Path) -> None:
        raise NotImplementedError

    # --- counting mode ------------------------------------------------------------------
    def _counting_bins(self):
        """``(energy_bins, time_edges_us)`` of the counting region (one energy bin)."""
        raise NotImplementedError

    def _setup_counting(self) -> None:
        energy_bins, time_edges = self._counting_bins()
        self.predictor = CEvNSPredictor(
            self.targets, self.sources,
            lambda t, iso: self._energy_response(energy_bins, t, iso),
            form_factor=self.form_factor, recoil_points=self.recoil_points,
        )
        self.time_weights = self._time_weights(time_edges)  # [source, t]
        self._time_totals = self.time_weights.sum(axis=1)
        self.computed_sm = self.predicted_counts()
        self._scale = normalisation_scale(self.normalisation, self.published_sm, self.computed_sm,
                                          f"likelihoods.{self.name}.normalisation")

    # --- predictions --------------------------------------------------------------------
    def signal_by_source(self, couplings: Couplings = STANDARD_MODEL, g_p: float | None = None,
                         g_n: float | None = None) -> np.ndarray:
        """Expected CEvNS events ``[source, energy bin, time bin]``."""
        rates = self.predictor.rates(couplings, g_p, g_n)
        return rates[:, :, None] * self.time_weights[:, None, :]

    def predicted_counts(self, couplings: Couplings = STANDARD_MODEL, g_p: float | None = None,
                         g_n: float | None = None) -> float:
        """Total expected CEvNS events in the analysis region (counting mode; scaled to the
        published SM count when ``normalisation: published``)."""
        return self._scale * float(np.dot(self.predictor.rates(couplings, g_p, g_n).sum(axis=1),
                                          self._time_totals))

    def chi2_couplings(self, couplings: Couplings = STANDARD_MODEL, g_p: float | None = None,
                       g_n: float | None = None, nuisances: dict | None = None) -> float:
        """``-2 ln L`` at these couplings; nuisances profiled unless given."""
        if self.release_path is None:
            return counting_chi2(self.observed, self.observed_sigma,
                                 self.predicted_counts(couplings, g_p, g_n), self.norm_sigma, nuisances)
        return self._release_chi2(couplings, g_p, g_n, nuisances)

    def loglike(self, point: Point) -> float:
        """``-chi2/2``; nuisances the point carries are used as given, the others profiled."""
        prefix = f"{self.instance_name}."
        nuisances = {n: float(point.params[prefix + n]) for n in self.nuisance_parameters
                     if prefix + n in point.params}
        return -0.5 * self.chi2_couplings(point.couplings, nuisances=nuisances or None)

    def observables(self, point: Point) -> pd.DataFrame:
        """Predicted CEvNS events (nominal normalisation) beside the published fit."""
        predicted = self.predicted_counts(point.couplings)
        return pd.DataFrame({
            "observable": [f"{self.name} CEvNS events"],
            "predicted": [predicted],
            "measured": [self.observed],
            "uncertainty": [float(np.hypot(self.observed_sigma, self.norm_sigma * predicted))],
        })

    def data_files(self) -> list[Path]:
        return [self._config_file, *self._release_files]

    def approximations(self) -> list[str]:
        notes = [
            f"{self.name}: form factor {self.form_factor} with the radii of globalfit.physics.nuclei",
            f"{self.name}: SNS timing from a Gaussian proton pulse (440 ns, 150 ns) convolved "
            "with pion and muon lifetimes",
        ]
        if self.release_path is None:
            notes.append(f"{self.name}: counting likelihood on the published measured CEvNS "
                         "count; no spectral or timing information")
        else:
            notes.append(f"{self.name}: release likelihood; shape nuisances "
                         f"({', '.join(n for n, _, _ in self._variants)}) interpolated linearly "
                         "between +-1 sigma forward models; signal normalisation prior 10 % (flux)")
            if getattr(self, "release_anticoincidence", None) is not None:
                notes.append(f"{self.name}: steady-state background profiled bin by bin from the "
                             "anticoincidence window")
        return notes

    # --- release mode, shared part ----------------------------------------------------
    RELEASE_NORM_SIGMA = 0.10
    """Signal normalisation prior in release mode: the neutrino flux (10 %, inputs.md 3b);
    quenching, efficiency and form factor are separate shape nuisances there."""
    SHAPE_SIGMA_LIMIT = 5.0

    def _release_components(self, couplings, g_p, g_n):
        """``(names, templates, sigmas, defaults, lower bounds of the offset)``."""
        predictors = [self.predictor] + [p for _, plus, minus in self._variants for p in (plus, minus)]
        signals = [self._signal_of_rates(rates)
                   for rates in rates_of_predictors(predictors, couplings, g_p, g_n)]
        names, templates = ["log_norm"], [signals[0]]
        sigmas, defaults, lowers = [self.RELEASE_NORM_SIGMA], [1.0], [-1.0]
        for k, (name, _, _) in enumerate(self._variants):
            names.append(name)
            templates.append(0.5 * (signals[1 + 2 * k] - signals[2 + 2 * k]))
            sigmas.append(1.0)
            defaults.append(0.0)
            lowers.append(-self.SHAPE_SIGMA_LIMIT)
        names += self.background_names
        templates += self.background_templates
        sigmas += self.background_sigmas
        defaults += [1.0] * len(self.background_names)
        lowers += [-1.0] * len(self.background_names)
        return names, templates, sigmas, defaults, lowers

    def _release_chi2(self, couplings, g_p, g_n, nuisances) -> float:
        """Nuisances given in ``nuisances`` are fixed (their priors are the sampler's
        business); the others are profiled with their Gaussian priors. The signal is
        ``S0 + (norm - 1) S0 + sum_k z_k (S_k+ - S_k-)/2`` (first order in the nuisances)."""
        names, templates, sigmas, defaults, lowers = self._release_components(couplings, g_p, g_n)
        given = dict(nuisances or {})
        if "log_norm" in given:  # the signal multiplier; profiled to first order below
            given["log_norm"] = float(np.exp(given["log_norm"]))
        fixed = sum(given.get(k, d) * t for k, d, t in zip(names, defaults, templates))
        free = [i for i, k in enumerate(names) if k not in given]
        off = getattr(self, "release_anticoincidence", None)
        if not free:
            if off is not None:
                return on_off_chi2(self.release_observed, off, fixed)[0]
            return poisson_chi2(self.release_observed, fixed, axis=None)
        free_templates = [templates[i] for i in free]
        free_sigmas = [sigmas[i] for i in free]
        if off is not None:
            return profile_on_off(self.release_observed, off, fixed, free_templates, free_sigmas,
                                  [lowers[i] for i in free])[0]
        return profile_poisson(self.release_observed, fixed, free_templates, free_sigmas)[0]

    def release_fit_signal(self, couplings: Couplings = STANDARD_MODEL, free_norm: bool = True,
                           g_p: float | None = None, g_n: float | None = None) -> tuple[float, float]:
        """Profile all nuisances (signal normalisation free if ``free_norm``) and return
        ``(fitted CEvNS events, chi2)``; the fitted signal includes the shape shifts."""
        _, templates, sigmas, defaults, lowers = self._release_components(couplings, g_p, g_n)
        if free_norm:
            sigmas = [np.inf, *sigmas[1:]]
        fixed = sum(d * t for d, t in zip(defaults, templates))
        off = getattr(self, "release_anticoincidence", None)
        if off is not None:
            chi2, theta = profile_on_off(self.release_observed, off, fixed, templates, sigmas, lowers)
        else:
            chi2, theta = profile_poisson(self.release_observed, fixed, templates, sigmas)
        n_signal = 1 + len(self._variants)
        signal = templates[0] + sum(theta[k] * templates[k] for k in range(n_signal))
        return float(np.sum(signal)), float(chi2)

    def _signal_from(self, predictor, couplings, g_p, g_n) -> np.ndarray:
        return self._signal_of_rates(predictor.rates(couplings, g_p, g_n))

    def _signal_of_rates(self, rates: np.ndarray) -> np.ndarray:
        """Rates ``[source, energy]`` onto the release grid (timing, then `_map_signal`)."""
        return self._map_signal(np.einsum("se,st->et", rates, self.time_weights))

    def _map_signal(self, energy_time: np.ndarray) -> np.ndarray:
        """Energy x time signal onto the release grid (identity; LAr adds F90)."""
        return energy_time

    def release_signal(self, couplings: Couplings = STANDARD_MODEL, g_p: float | None = None,
                       g_n: float | None = None) -> np.ndarray:
        """Expected CEvNS counts on the release grid (nominal detector response)."""
        return self._signal_from(self.predictor, couplings, g_p, g_n)

    def _make_predictor(self, response, radius_scale: float = 1.0) -> CEvNSPredictor:
        return CEvNSPredictor(self.targets, self.sources, response, form_factor=self.form_factor,
                              radius_scale=radius_scale, recoil_points=self.recoil_points)

    def _add_variant(self, name: str, response_plus, response_minus, radius_plus: float = 1.0,
                     radius_minus: float = 1.0) -> None:
        """A +-1 sigma pair of detector responses (or form-factor radii): a shape nuisance."""
        self._variants.append((name, self._make_predictor(response_plus, radius_plus),
                               self._make_predictor(response_minus, radius_minus)))

    def _add_radius_variant(self, response, fraction: float = RADIUS_SIGMA) -> None:
        self._add_variant("ff_radius", response, response, 1.0 + fraction, 1.0 - fraction)

    def _declare_release_nuisances(self) -> None:
        """Release mode adds shape and background nuisances to the class-level ``norm`` (an
        instance attribute: a run card that does not list them gets them profiled)."""
        table = dict(type(self).nuisance_parameters)
        table["log_norm"] = {**table["log_norm"], "sigma": self.RELEASE_NORM_SIGMA}
        for name, _, _ in self._variants:
            table[name] = {"prior": "gaussian", "mean": 0.0, "sigma": 1.0,
                           "min": -self.SHAPE_SIGMA_LIMIT, "max": self.SHAPE_SIGMA_LIMIT}
        for name, sigma in zip(self.background_names, self.background_sigmas):
            if np.isfinite(sigma):
                table[name] = {"prior": "gaussian", "mean": 1.0, "sigma": float(sigma), "min": 0.0}
            else:
                table[name] = {"prior": "uniform", "min": 0.0, "max": 20.0}
        self.nuisance_parameters = MappingProxyType(table)

    def _release_file(self, path: Path, name: str) -> Path:
        file = path / name
        if not file.exists():
            raise ValueError(
                f"likelihoods.{self.name}.release_path: {str(path)!r} lacks {name!r} "
                "(expected the layout of the official COHERENT release)"
            )
        self._release_files.append(file)
        return file


# --- CsI[Na] 2017 ---------------------------------------------------------------------------
class CoherentCsI2017(_CoherentBase):
    """COHERENT CsI[Na] first observation (Science 2017)."""

    name = "coherent_csi_2017"
    title = "COHERENT CsI 2017"
    description = "COHERENT CsI[Na] 2017: CEvNS on Cs and I at the SNS (counting or release 2D)"
    dataset = "coherent_csi_2017"
    nuisance_parameters = MappingProxyType({"log_norm": {
        "prior": "gaussian", "mean": 0.0, "sigma": 48.0 / 173.0,
        "latex": r"\ln\mathcal{N}_{\rm CsI17}"}})

    def _efficiency(self, pe) -> np.ndarray:
        eff = self.config["detector"]["efficiency"]
        pe = np.asarray(pe, dtype=float)
        value = eff["a"] / (1.0 + np.exp(-eff["k"] * (pe - eff["x0"])))
        value = np.where(pe < 5, 0.0, value)
        return np.where((pe >= 5) & (pe < 6), 0.5 * value, value)

    def _mean_pe(self, recoil_gev, quenching_factor: float | None = None) -> np.ndarray:
        det = self.config["detector"]
        qf = det["quenching_factor"] if quenching_factor is None else quenching_factor
        return recoil_gev * KEV_PER_GEV * qf * det["light_yield_pe_per_kevee"]

    def _energy_response(self, pe_bins, recoil_gev, isotope,
                         quenching_factor: float | None = None) -> np.ndarray:
        """Poisson photo-statistics in integer PE, acceptance, then grouping in PE bins.

        ``pe_bins``: list of (first, last) integer PE of each bin.
        """
        n_max = max(last for _, last in pe_bins)
        counts = np.arange(n_max + 1)
        mean = self._mean_pe(recoil_gev, quenching_factor)
        prob = poisson_matrix(mean, n_max) * self._efficiency(counts)
        return np.stack([prob[:, first:last + 1].sum(axis=1) for first, last in pe_bins], axis=1)

    def _counting_bins(self):
        roi = self.config["analysis"]
        return [(int(roi["pe_min"]), int(roi["pe_max"]) - 1)], [0.0, roi["time_max_us"]]

    def _setup_release(self, path: Path) -> None:
        roi = self.config["analysis"]

        def histogram(name):
            table = read_table(self._release_file(path, name), columns=3, delimiter=",")
            pe, t = np.unique(table[:, 0]), np.unique(table[:, 1])
            return pe, t, table[:, 2].reshape(len(pe), len(t))

        pe, t, on_c = histogram("data_coincidence_beamOn.txt")
        _, _, on_ac = histogram("data_anticoincidence_beamOn.txt")
        prompt_n = read_table(self._release_file(path, "arrivalTimePDF_promptNeutrons.txt"),
                              delimiter=",")
        keep_pe = (pe - 1 >= roi["pe_min"]) & (pe + 1 <= roi["pe_max"])
        keep_t = t + 0.25 <= roi["time_max_us"]
        pe_bins = [(int(c - 1), int(c)) for c in pe[keep_pe]]  # 2-PE bins [c-1, c+1)
        time_edges = np.append(t[keep_t] - 0.25, t[keep_t][-1] + 0.25)
        self.time_weights = self._time_weights(time_edges)
        self._time_totals = self.time_weights.sum(axis=1)
        det = self.config["detector"]
        qf, dqf = det["quenching_factor"], det["quenching_factor_sigma"]

        def response(qf_value):
            return lambda r, iso: self._energy_response(pe_bins, r, iso, qf_value)

        self.predictor = self._make_predictor(response(qf))
        self._add_variant("qf", response(qf + dqf), response(qf - dqf))
        self._add_radius_variant(response(qf))
        self.release_observed = on_c[np.ix_(keep_pe, keep_t)]
        # steady state: measured bin by bin in the anticoincidence (beam-on) window of equal
        # length and profiled per bin (it falls with time in the window: no flat shape)
        self.release_anticoincidence = on_ac[np.ix_(keep_pe, keep_t)]
        # prompt beam-related neutrons: release arrival-time PDF, flat in PE, normalised to 1
        brn_time = prompt_n[:, 1][keep_t]
        brn_template = np.outer(np.full(keep_pe.sum(), 1.0 / keep_pe.sum()), brn_time)
        self.background_names = ["brn_events"]
        self.background_templates = [brn_template]
        self.background_sigmas = [np.inf]
        self._declare_release_nuisances()


# --- CsI[Na] full data set (2021) -----------------------------------------------------------
class CoherentCsI2021(_CoherentBase):
    """COHERENT CsI[Na] full data set (PRL 2022)."""

    name = "coherent_csi_2021"
    title = "COHERENT CsI 2021"
    description = "COHERENT CsI[Na] full data set: CEvNS on Cs and I (counting or release 2D)"
    dataset = "coherent_csi_2021"
    nuisance_parameters = MappingProxyType({"log_norm": {
        "prior": "gaussian", "mean": 0.0, "sigma": 43.4 / 341.0,
        "latex": r"\ln\mathcal{N}_{\rm CsI21}"}})

    PE_EDGES = np.arange(6.0, 62.0, 4.0)
    TIME_EDGES_US = np.arange(0.0, 6.01, 0.5)

    def _electron_equivalent_kev(self, recoil_gev, coefficients=None) -> np.ndarray:
        if coefficients is None:
            coefficients = self.config["detector"]["quenching_polynomial_mevee"]["coefficients"]
        a, b, c, d = coefficients
        t_mev = np.asarray(recoil_gev) / MEV
        return np.maximum(a * t_mev + b * t_mev**2 + c * t_mev**3 + d * t_mev**4, 0.0) * 1e3

    def _efficiency(self, pe, coefficients=None) -> np.ndarray:
        if coefficients is None:
            coefficients = self.config["detector"]["efficiency"]["coefficients"]
        a, b, c, d = coefficients
        return np.maximum(a / (1.0 + np.exp(-b * (np.asarray(pe) - c))) + d, 0.0)

    def _energy_response(self, pe_edges, recoil_gev, isotope, quenching=None,
                         efficiency=None) -> np.ndarray:
        """Gamma-distributed PE around ``LY x E_ee``, acceptance at the bin centre
        (each bin subdivided in 1-PE steps for the acceptance). ``quenching`` and
        ``efficiency`` override the nominal coefficient sets."""
        res = self.config["detector"]["resolution_gamma"]
        eee = np.maximum(self._electron_equivalent_kev(recoil_gev, quenching), 1e-6)
        a = res["a0"] / eee
        b = res["b0"] * eee
        fine = np.arange(pe_edges[0], pe_edges[-1] + 0.5, 1.0)
        prob = gamma_bin_matrix(1.0 + b, 1.0 / (a * (1.0 + b)), fine)
        prob = prob * self._efficiency(0.5 * (fine[1:] + fine[:-1]), efficiency)
        index = np.searchsorted(pe_edges, fine[:-1], side="right") - 1
        out = np.zeros((len(recoil_gev), len(pe_edges) - 1))
        for k in range(len(pe_edges) - 1):
            out[:, k] = prob[:, index == k].sum(axis=1)
        return out

    def _timing_efficiency(self, t_us) -> np.ndarray:
        """``1`` for ``t < a``, ``exp(-b (t - a))`` after (release documentation)."""
        te = self.config["detector"]["timing_efficiency"]
        t_us = np.asarray(t_us, dtype=float)
        return np.where(t_us < te["a_us"], 1.0, np.exp(-te["b_per_us"] * (t_us - te["a_us"])))

    def _time_weights(self, time_edges_us) -> np.ndarray:
        """Arrival-time fractions folded with the timing efficiency on a 10 ns grid."""
        edges = np.asarray(time_edges_us, dtype=float)
        fine = np.unique(np.concatenate([np.arange(edges[0], edges[-1], 0.01), edges]))
        fine_weights = super()._time_weights(fine)
        fine_weights = fine_weights * self._timing_efficiency(0.5 * (fine[1:] + fine[:-1]))
        index = np.searchsorted(edges, fine[:-1], side="right") - 1
        return np.stack([fine_weights[:, index == k].sum(axis=1) for k in range(len(edges) - 1)],
                        axis=1)

    def _counting_bins(self):
        roi = self.config["analysis"]
        return np.array([max(roi["pe_min"], 0.0), roi["pe_max"]]), [0.0, roi["time_max_us"]]

    def _setup_release(self, path: Path) -> None:
        pe_edges, time_edges = self.PE_EDGES, self.TIME_EDGES_US
        self.time_weights = self._time_weights(time_edges)
        self._time_totals = self.time_weights.sum(axis=1)

        def response(quenching=None, efficiency=None):
            return lambda r, iso: self._energy_response(pe_edges, r, iso, quenching, efficiency)

        self.predictor = self._make_predictor(response())
        # release systematics: two quenching models (+-1 sigma each) and the efficiency band
        qf_sets = _coefficient_sets(self._release_file(path, "scintRespCoefficients.txt"))
        eff_sets = _coefficient_sets(self._release_file(path, "effCoefficients.txt"))
        if len(qf_sets) >= 5:
            self._add_variant("qf0", response(quenching=qf_sets[1]), response(quenching=qf_sets[2]))
            self._add_variant("qf1", response(quenching=qf_sets[3]), response(quenching=qf_sets[4]))
        if len(eff_sets) >= 3:
            self._add_variant("eff", response(efficiency=eff_sets[1]),
                              response(efficiency=eff_sets[2]))
        self._add_radius_variant(response())

        def events(name):
            return read_table(self._release_file(path, name), comments="#")

        on_c, on_ac = events("dataBeamOnC.txt"), events("dataBeamOnAC.txt")
        self.release_observed = np.histogram2d(on_c[:, 0], on_c[:, 1], [pe_edges, time_edges])[0]
        # steady state: the anticoincidence window, profiled bin by bin
        self.release_anticoincidence = np.histogram2d(on_ac[:, 0], on_ac[:, 1],
                                                      [pe_edges, time_edges])[0]
        templates = []
        for pe_file, t_file in (("brnPE.txt", "brnTrec.txt"), ("ninPE.txt", "ninTrec.txt")):
            pe_pdf = events(pe_file)
            t_pdf = events(t_file)
            pe_all = pe_pdf[:, 1] / pe_pdf[:, 1].sum()
            pe_binned = np.histogram(pe_pdf[:, 0], pe_edges, weights=pe_all)[0]
            # the time PDFs exclude the timing efficiency; the PE PDFs include the PE one
            t_weights = t_pdf[:, 1] * self._timing_efficiency(t_pdf[:, 0])
            t_binned = np.histogram(t_pdf[:, 0], time_edges, weights=t_weights)[0]
            templates.append(np.outer(pe_binned, t_binned))
        self.background_names = ["brn_norm", "nin_norm"]
        self.background_templates = templates
        # BRN 25 %, NIN 36 % (VERIFIED-3P, Newtrinos priors)
        self.background_sigmas = [0.25, 0.36]
        self._declare_release_nuisances()


# --- LAr 2020 -----------------------------------------------------------------------------
class CoherentLAr2020(_CoherentBase):
    """COHERENT CENNS-10 liquid argon, Analysis A (PRL 2021)."""

    name = "coherent_lar_2020"
    title = "COHERENT LAr 2020"
    description = "COHERENT LAr (CENNS-10 Analysis A): CEvNS on Ar (counting or release 3D)"
    dataset = "coherent_lar_2020"
    nuisance_parameters = MappingProxyType({"log_norm": {
        "prior": "gaussian", "mean": 0.0, "sigma": 17.0 / 128.0,
        "latex": r"\ln\mathcal{N}_{\rm LAr}"}})

    def _electron_equivalent_kev(self, recoil_gev, shift_a: float = 0.0,
                                 shift_b: float = 0.0) -> np.ndarray:
        """``T (a + b T)``; ``shift_a``, ``shift_b`` in units of their release uncertainties."""
        q = self.config["detector"]["quenching"]
        a = q["a"] + shift_a * q["a_sigma"]
        b = q["b_per_kevnr"] + shift_b * q["b_sigma"]
        t_kev = np.asarray(recoil_gev) * KEV_PER_GEV
        return t_kev * (a + b * t_kev)

    def _efficiency(self, e_kevee) -> np.ndarray:
        eff = self.config["detector"]["efficiency"]
        x = np.clip((np.asarray(e_kevee) - eff["e0_kevee"]) / eff["lambda_kevee"], 0.0, None)
        return eff["a"] * (1.0 - np.exp(-x ** eff["k"]))

    def _energy_response(self, edges, recoil_gev, isotope, shift_a: float = 0.0,
                         shift_b: float = 0.0) -> np.ndarray:
        """Gaussian resolution ``0.58 sqrt(E)`` in keVee, acceptance in 0.5-keVee steps."""
        a = self.config["detector"]["resolution_a_sqrt_kevee"]
        eee = self._electron_equivalent_kev(recoil_gev, shift_a, shift_b)
        fine = np.arange(edges[0], edges[-1] + 0.25, 0.5)
        prob = gaussian_bin_matrix(eee, a * np.sqrt(np.maximum(eee, 1e-9)), fine)
        prob = prob * self._efficiency(0.5 * (fine[1:] + fine[:-1]))
        index = np.searchsorted(edges, fine[:-1], side="right") - 1
        return np.stack([prob[:, index == k].sum(axis=1) for k in range(len(edges) - 1)], axis=1)

    def _counting_bins(self):
        roi = self.config["analysis"]
        return np.asarray(roi["energy_edges_kevee"], dtype=float), roi["time_edges_us"]

    def _setup_release(self, path: Path) -> None:
        def grid(name):
            table = read_table(self._release_file(path, name), columns=4)
            e, f, t = (np.unique(table[:, i]) for i in range(3))
            return e, f, t, table[:, 3].reshape(len(e), len(f), len(t))

        e, f, t, observed = grid("datanobkgsub.txt")
        _, _, _, cevns_pdf = grid("cevnspdf.txt")
        _, _, _, brn = grid("brnpdf.txt")
        _, _, _, delayed_brn = grid("delbrnpdf.txt")
        _, _, _, steady = grid("bkgpdf.txt")
        e_edges = np.append(e - 5.0, e[-1] + 5.0)
        t_edges = np.append(t - 0.25, t[-1] + 0.25)
        self.time_weights = self._time_weights(t_edges)
        self._time_totals = self.time_weights.sum(axis=1)

        def response(shift_a=0.0, shift_b=0.0):
            return lambda r, iso: self._energy_response(e_edges, r, iso, shift_a, shift_b)

        self.predictor = self._make_predictor(response())
        self._add_variant("qf_a", response(shift_a=1.0), response(shift_a=-1.0))
        self._add_variant("qf_b", response(shift_b=1.0), response(shift_b=-1.0))
        self._add_radius_variant(response())
        # F90 distribution of CEvNS in each (energy, time) bin from the release PDF
        totals = cevns_pdf.sum(axis=1, keepdims=True)
        self._f90_fraction = np.where(totals > 0, cevns_pdf / np.where(totals > 0, totals, 1), 1 / len(f))
        self.release_observed = observed
        self.background_names = ["brn_norm", "delayed_brn_norm", "ss_norm"]
        self.background_templates = [brn, delayed_brn, steady]
        # predicted normalisations of the release yaml: 497 +- 160, 33 +- 33, 3154 +- 25
        self.background_sigmas = [160.0 / 497.0, 1.0, 25.0 / 3154.0]
        self._declare_release_nuisances()

    def _map_signal(self, energy_time: np.ndarray) -> np.ndarray:
        """Spread each (energy, time) bin over F90 like the release CEvNS PDF."""
        return energy_time[:, None, :] * self._f90_fraction
