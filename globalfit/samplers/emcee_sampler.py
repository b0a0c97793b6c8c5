"""emcee ensemble sampling with an HDF5 chain that survives interruptions.

``run_emcee(posterior, config, output_dir)`` runs (or continues) the affine-invariant
ensemble sampler of Foreman-Mackey et al. (PASP 125 (2013) 306, arXiv:1202.3665) with
emcee's ``HDFBackend`` at ``output_dir/chain.h5``. Every step is written as it is made,
together with the sampler's random state, so:

* a seed (``sampler.seed``) gives identical chains: it seeds both the walkers' starting
  positions and emcee's own random generator;
* a run that was stopped (Ctrl-C, SIGTERM, a killed job) continues from its last saved
  step with ``run_emcee`` on the same folder, up to the target number of steps and no
  further, and the continued chain is identical to an uninterrupted one;
* SIGINT / SIGTERM finish the current step, save it and stop (a second signal aborts).

Blobs: for every stored sample, one float field per likelihood (``chi2.<name>``),
``chi2.total`` and the model's derived quantities (``derived.<name>``).

After sampling it reports the acceptance fraction and the integrated autocorrelation time
(``emcee.autocorr.integrated_time``, Goodman & Weare / Sokal windowing) and warns if the
chain is shorter than 50 autocorrelation times; all of it goes to ``diagnostics.json``.
"""
from __future__ import annotations

import json
import math
import os
import signal
import sys
import threading
import time
import warnings
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import emcee
import numpy as np

from globalfit.convergence import ConvergenceMonitor
from globalfit.diagnostics import (
    CONVERGENCE_CRITERION,
    autocorrelation_time,
    convergence_summary,
    stranded_walkers,
)
from globalfit.parallel import PosteriorPool
from globalfit.params import LogUniform
from globalfit.samplers.moves import LogStretchMove, log_columns

CHAIN_FILE = "chain.h5"
DIAGNOSTICS_FILE = "diagnostics.json"
GROUP = "mcmc"
MAX_START_ROUNDS = 100
"""Rounds of redrawing walkers whose starting point has zero posterior."""


class ChainNotConvergedWarning(UserWarning):
    """The chain has not converged (`globalfit.diagnostics.CONVERGENCE_CRITERION`)."""


@dataclass
class EmceeResult:
    """What `run_emcee` did; ``diagnostics`` is also written to ``diagnostics.json``."""

    output_dir: Path
    steps: int
    target_steps: int
    interrupted: bool
    diagnostics: dict[str, Any] = field(default_factory=dict)
    converged: bool = False
    """Stopped before ``target_steps`` because the convergence criterion was met."""

    @property
    def complete(self) -> bool:
        return self.steps >= self.target_steps or self.converged


# --- seeding and starting points ---------------------------------------------------------
def seed_streams(seed: int) -> tuple[np.random.Generator, np.random.RandomState]:
    """Two independent streams from one seed: walker start positions and emcee's moves."""
    start_seq, move_seq = np.random.SeedSequence(int(seed)).spawn(2)
    return (np.random.default_rng(start_seq),
            np.random.RandomState(int(move_seq.generate_state(1)[0])))


def draw_start(posterior, nwalkers: int, rng: np.random.Generator) -> np.ndarray:
    """Walker positions (nwalkers, ndim) from the priors, or from ``start`` hints.

    A hint ``start: x`` puts the walkers in a small ball around ``x`` (1e-3 of the prior
    width, of the Gaussian sigma, or of ``ln(max/min)`` in ``ln x`` for a log-uniform
    prior); ``start: [low, high]`` spreads them uniformly.
    """
    columns = []
    for parameter in posterior.parameters:
        prior, hint = parameter.prior, parameter.start
        if hint is None:
            column = prior.sample(rng, nwalkers)
        elif len(hint) == 2:
            column = rng.uniform(hint[0], hint[1], nwalkers)
        elif isinstance(prior, LogUniform):  # a ball in ln x: stays positive
            low, high = prior.bounds
            spread = 1e-3 * np.log(high / low)
            column = np.clip(hint[0] * np.exp(spread * rng.standard_normal(nwalkers)), low, high)
        else:
            low, high = prior.bounds
            scale = getattr(prior, "sigma", None) or (high - low)
            column = np.clip(hint[0] + 1e-3 * scale * rng.standard_normal(nwalkers), low, high)
        columns.append(np.asarray(column, dtype=float))
    return np.column_stack(columns) if columns else np.zeros((nwalkers, 0))


def initial_state(posterior, nwalkers: int, rng, evaluate, coords=None) -> emcee.State:
    """Starting walkers with finite posterior, evaluated (``evaluate`` = a map function).

    ``coords`` (nwalkers, ndim), if given, are the starting positions (e.g. from a mode
    finder); otherwise they are drawn by `draw_start`. Walkers that land on
    ``ln p = -inf`` are redrawn from the priors (up to ``MAX_START_ROUNDS`` rounds).

    Raises
    ------
    ValueError
        If no finite starting point is found for some walkers (with the failure counts).
    """
    if coords is None:
        coords = draw_start(posterior, nwalkers, rng)
    else:
        coords = np.array(coords, dtype=float)
        if coords.shape != (nwalkers, posterior.ndim):
            raise ValueError(f"start_positions: expected shape {(nwalkers, posterior.ndim)}, "
                             f"got {coords.shape}")
    results = list(evaluate(posterior, coords))
    for _ in range(MAX_START_ROUNDS):
        bad = [i for i, result in enumerate(results) if not np.isfinite(result[0])]
        if not bad:
            break
        coords[bad] = draw_start(posterior, nwalkers, rng)[: len(bad)]
        for i, result in zip(bad, evaluate(posterior, coords[bad])):
            results[i] = result
    else:
        failures = dict(posterior.failure_counts) or "none recorded (zero likelihood or prior)"
        raise ValueError(
            f"sampler: {len(bad)} of {nwalkers} walkers found no starting point with finite "
            f"posterior in {MAX_START_ROUNDS} rounds of draws from the priors; failures: "
            f"{failures}. Narrow the priors or give 'start' hints."
        )
    dtype = blob_dtype(posterior)
    log_prob = np.array([result[0] for result in results], dtype=float)
    blobs = np.array([tuple(result[1:]) for result in results], dtype=dtype)
    return emcee.State(coords, log_prob=log_prob, blobs=blobs)


def blob_dtype(posterior) -> np.dtype:
    """Structured dtype of the per-sample record: one float64 field per ``blob_names``."""
    return np.dtype([(name, np.float64) for name in posterior.blob_names])


# --- the chain file --------------------------------------------------------------------------
class ChainBackend(emcee.backends.HDFBackend):
    """emcee's HDF5 backend with buffered steps, written at checkpoints, and a wait for a
    file lock held by a reader.

    Steps are kept in memory and written together at a checkpoint: when ``checkpoint_s``
    seconds have passed since the last one, at every read of the chain through this
    object, and when sampling ends or stops (`checkpoint`). A checkpoint opens the file
    once, writes the buffered steps, the sampler's random state after the last of them and
    finally the step count (``iteration``), closes the file and ``fsync``s it. A process
    killed at any moment (SIGKILL included) therefore leaves every checkpointed step as it
    was written; it loses at most the steps of the last ``checkpoint_s`` seconds, which a
    resumed run recomputes identically from the saved random state. Before this, every
    step opened and closed the file about five times (+35 % of the sampling time of the
    default card).

    One process writes a run folder (`globalfit.runlock`) and readers open chains without
    HDF5's file lock (`globalfit.chainfile.ChainReader`), so a locking ``OSError`` here
    means another program holds the file open: the run refuses at once
    (`globalfit.chainfile.ChainFileError`) instead of waiting. Before each checkpoint the
    disk's room is checked (`globalfit.runlock.check_room_for_step`): HDF5 cannot survive a
    failed write, so a full disk stops the run with the chain intact.
    """

    checkpoint_s = 1.0
    """Seconds of sampling between checkpoints (the most a hard kill can lose)."""
    checkpoint_steps = 1000
    """Buffered steps that trigger a checkpoint whatever the time (bounds the memory)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._buffer: list[tuple] = []
        self._saved: tuple[int, int, int] | None = None     # (iteration, nwalkers, ndim) on disk
        self._last_checkpoint = time.monotonic()

    def open(self, mode="r"):
        try:
            return super().open(mode)
        except OSError as error:
            if "lock" not in str(error).lower():
                raise
            from globalfit.chainfile import ChainFileError

            raise ChainFileError(
                f"{self.filename}: another program holds the chain file open (HDF5 file "
                f"lock); close it (an HDF5 viewer, a notebook) and retry") from None

    # -- write path: buffer, then checkpoint -------------------------------------------------
    def reset(self, nwalkers, ndim):
        """A new, empty chain; a pending record of an earlier chain in the file goes too."""
        self._buffer, self._saved = [], None
        self.pending_path.unlink(missing_ok=True)
        super().reset(nwalkers, ndim)

    def grow(self, ngrow, blobs):
        self.checkpoint()
        super().grow(ngrow, blobs)
        self._saved = None

    def save_step(self, state, accepted):
        """Keep the step (copies) for the next checkpoint; checkpoint when it is due."""
        iteration, nwalkers, ndim = self._disk_state()
        if state.coords.shape != (nwalkers, ndim) or np.shape(state.log_prob) != (nwalkers,) \
                or np.shape(accepted) != (nwalkers,) \
                or (state.blobs is not None and len(state.blobs) != nwalkers):
            raise ValueError(f"chain step: expected {nwalkers} walkers x {ndim} parameters, got "
                             f"coords {state.coords.shape}, log_prob {np.shape(state.log_prob)}")
        self._buffer.append((np.array(state.coords), np.array(state.log_prob),
                             None if state.blobs is None else np.array(state.blobs),
                             np.array(accepted), tuple(state.random_state)))
        if (len(self._buffer) >= self.checkpoint_steps
                or time.monotonic() - self._last_checkpoint >= self.checkpoint_s):
            self.checkpoint()

    def checkpoint(self) -> None:
        """Write the buffered steps and ``fsync``, in three phases.

        1. Rows ``n ... n + k`` beyond the saved count ``iteration = n`` (flush, ``fsync``),
           then the acceptance counts and random state after them with their step count
           ``n + k`` to ``chain.h5.pending.npz`` (temporary file, ``fsync``, rename).
        2. The commit: ``iteration = n + k`` (flush).
        3. emcee's ``accepted`` and ``random_state_*`` from the pending record (flush,
           ``fsync``).
        A kill before the commit leaves the file at ``n`` steps (the rows beyond them and an
        older pending record are ignored); a kill after it is completed by `recover`, which
        `open_backend` calls before a run is resumed.
        """
        self._last_checkpoint = time.monotonic()
        if not self._buffer:
            return
        from globalfit.runlock import check_room_for_step

        check_room_for_step(self.filename, self._disk_state()[0] + 1)
        steps, self._buffer = self._buffer, []
        with self.open("a") as handle:
            group = handle[self.name]
            start = int(group.attrs["iteration"])
            stop = start + len(steps)
            if group["chain"].shape[0] < stop:
                raise ValueError(f"{self.filename}: {len(steps)} buffered steps do not fit the "
                                 f"chain of {group['chain'].shape[0]} rows at step {start}")
            self._write_rows(group, start, steps)
            handle.flush()
            self._fsync()
            accepted = group["accepted"][...] + np.sum([step[3] for step in steps], axis=0)
            pending = {"iteration": stop, "accepted": accepted}
            pending.update({f"random_state_{i}": v for i, v in enumerate(steps[-1][4])})
            self._write_pending(pending)
            group.attrs["iteration"] = stop
            handle.flush()
            self._apply(group, pending)
            handle.flush()
        self._fsync()
        if self._saved is not None:
            self._saved = (stop,) + self._saved[1:]

    @staticmethod
    def _write_rows(group, start: int, steps: list) -> None:
        """Rows ``start ...`` of chain, log_prob and blobs."""
        stop = start + len(steps)
        group["chain"][start:stop] = np.stack([step[0] for step in steps])
        group["log_prob"][start:stop] = np.stack([step[1] for step in steps])
        if steps[0][2] is not None:
            group["blobs"][start:stop] = np.stack([step[2] for step in steps])

    @staticmethod
    def _apply(group, pending: dict) -> None:
        """emcee's ``accepted`` and ``random_state_*`` from a pending record."""
        group["accepted"][...] = pending["accepted"]
        for key, value in pending.items():
            if key.startswith("random_state_"):
                group.attrs[key] = value

    @property
    def pending_path(self) -> Path:
        return Path(f"{self.filename}.pending.npz")

    def _write_pending(self, pending: dict) -> None:
        temporary = self.pending_path.with_name(self.pending_path.name + ".tmp")
        with open(temporary, "wb") as stream:
            np.savez(stream, **{k: np.asarray(v) for k, v in pending.items()})
            stream.flush()
            os.fsync(stream.fileno())
        temporary.replace(self.pending_path)

    def recover(self) -> None:
        """Finish a checkpoint that was killed after its commit (see `checkpoint`)."""
        if not self.pending_path.is_file():
            return
        with np.load(self.pending_path, allow_pickle=False) as stored:
            pending = {k: (stored[k].item() if stored[k].ndim == 0 else stored[k]) for k in stored.files}
        with self.open("a") as handle:
            group = handle[self.name]
            if pending["iteration"] == group.attrs["iteration"]:
                self._apply(group, pending)
                handle.flush()
        self._fsync()

    def _fsync(self) -> None:
        descriptor = os.open(self.filename, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    def _disk_state(self) -> tuple[int, int, int]:
        if self._saved is None:
            with self.open() as handle:
                attrs = handle[self.name].attrs
                self._saved = (int(attrs["iteration"]), int(attrs["nwalkers"]), int(attrs["ndim"]))
        return self._saved

    # -- reads through this object see the buffered steps -------------------------------------
    @property
    def iteration(self):
        return self._disk_state()[0] + len(self._buffer)

    def get_value(self, name, flat=False, thin=1, discard=0):
        self.checkpoint()
        return super().get_value(name, flat=flat, thin=thin, discard=discard)

    @property
    def accepted(self):
        self.checkpoint()
        return super().accepted


# --- signals -------------------------------------------------------------------------------
class GracefulStop:
    """Turns the first SIGINT/SIGTERM into a request to stop after the current step.

    A second signal raises ``KeyboardInterrupt`` at once. Outside the main thread (where
    handlers cannot be installed) this does nothing.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.requested = False
        self._previous = {}

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        name = signal.Signals(signum).name
        print(f"\nglobalfit: {name} received: finishing the current step, saving, stopping "
              f"(send it again to abort at once)", file=sys.stderr, flush=True)

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        return False


# --- the run -------------------------------------------------------------------------------
def _serial_map(posterior, coords):
    return posterior.evaluate_batch(coords)


class BatchEvaluator:
    """emcee's ``log_prob_fn`` with ``vectorize=True``: the walkers of a half-step as one
    batch (``Posterior.evaluate_batch``), or split over ``pool`` (one chunk per worker,
    each evaluated as a batch there). Per-point results do not depend on the batch, so
    serial, pool and MPI runs give the same chain."""

    def __init__(self, posterior, pool=None):
        self.posterior = posterior
        self.pool = pool

    def __call__(self, coords) -> list:
        if self.pool is None:
            return self.posterior.evaluate_batch(coords)
        return self.pool.map(self.posterior, list(coords))


def open_backend(output_dir: Path, posterior, nwalkers: int) -> tuple[ChainBackend, bool]:
    """The HDF5 backend, and whether it already holds steps of this same run.

    Raises
    ------
    ValueError
        If ``chain.h5`` holds a chain of other shape or other parameters.
    """
    from globalfit.chainfile import saved_steps

    path = Path(output_dir) / CHAIN_FILE
    saved_steps(output_dir)  # a damaged chain.h5 is refused here, never overwritten
    backend = ChainBackend(str(path), name=GROUP)
    if backend.initialized and backend.iteration > 0:
        stored_walkers, stored_ndim = backend.shape
        with backend.open() as handle:
            names = [n.decode() if isinstance(n, bytes) else str(n)
                     for n in handle[GROUP].attrs.get("parameter_names", [])]
        if (stored_walkers, stored_ndim) != (nwalkers, posterior.ndim) or names != posterior.names:
            raise ValueError(
                f"{path}: holds a chain with {stored_walkers} walkers over {names}, but the run "
                f"has {nwalkers} walkers over {posterior.names}; use --force to start afresh"
            )
        backend.recover()
        return backend, True
    backend.reset(nwalkers, posterior.ndim)
    with backend.open("a") as handle:
        attrs = handle[GROUP].attrs
        attrs["parameter_names"] = np.array(posterior.names, dtype="S")
        attrs["blob_names"] = np.array(posterior.blob_names, dtype="S")
    return backend, False


def convergence_monitor(settings: dict) -> ConvergenceMonitor | None:
    """The monitor of ``sampler.stop_on_convergence`` (a mapping of ``check_every``,
    ``n_tau``, ``rtol`` after validation, or ``true``), or None where it is off."""
    setting = settings.get("stop_on_convergence")
    if not setting:
        return None
    if setting is True:
        return ConvergenceMonitor()
    return ConvergenceMonitor(check_every=int(setting["check_every"]),
                              rtol=float(setting["rtol"]))


def run_emcee(posterior, config, output_dir, cores: int = 1, progress: bool = True,
              target_steps: int | None = None, start_positions=None, pool=None) -> EmceeResult:
    """Run emcee on ``posterior`` into ``output_dir/chain.h5``, or continue it.

    Parameters
    ----------
    posterior : globalfit.posterior.Posterior
    config : globalfit.config.RunConfig
        ``config.sampler``: ``walkers``, ``steps`` (target total), ``seed``.
    output_dir : path
        Run folder; created if needed. An existing chain of the same run is continued.
    cores : int
        Worker processes (1 = serial).
    progress : bool
        Show a progress bar.
    target_steps : int, optional
        Total number of steps to reach (default ``config.sampler["steps"]``).
    start_positions : array (walkers, ndim), optional
        Starting walkers of a new run, internal units (a hook for mode/region seeding);
        default: drawn from the priors or the cards' ``start`` hints. Ignored on resume.
    pool : object with ``map``, optional
        An already running pool (e.g. `globalfit.mpi.MPIPool`) used instead of a process
        pool (``cores`` is then ignored); the caller closes it.

    With ``sampler.stop_on_convergence`` a `globalfit.convergence.ConvergenceMonitor`
    checks the stored chain every ``check_every`` steps and sampling stops early once it
    says converged; its report goes to ``diagnostics.json`` under ``convergence``.

    Returns
    -------
    EmceeResult
    """
    settings = config.sampler
    if posterior.ndim == 0:
        raise ValueError("parameters: every parameter is fixed; emcee needs at least one prior")
    if isinstance(cores, bool) or not isinstance(cores, (int, np.integer)) or cores < 1:
        raise ValueError(f"cores: expected a whole number >= 1, got {cores!r}")
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    nwalkers = int(settings["walkers"])
    target = int(target_steps or settings["steps"])
    if settings.get("seed") is None:
        raise ValueError("sampler.seed: a seed is needed (globalfit run draws one if the card "
                         "has none)")
    backend, resuming = open_backend(output_dir, posterior, nwalkers)
    if not (output_dir / "config.yaml").exists():  # a run folder `globalfit.load` can read
        config.write(output_dir / "config.yaml")
    previous_failures = _previous_failures(output_dir) if resuming else {}
    started = time.time()
    if pool is not None:
        pool_context = nullcontext(pool)
    else:
        pool_context = PosteriorPool(posterior, cores) if cores > 1 else nullcontext(None)
    monitor = convergence_monitor(settings)
    burn_in, thin = int(settings.get("burn_in", 0)), int(settings.get("thin", 1))
    converged = False
    with pool_context as pool, GracefulStop() as stop:
        sampler = emcee.EnsembleSampler(nwalkers, posterior.ndim, BatchEvaluator(posterior, pool),
                                        vectorize=True, backend=backend,
                                        moves=LogStretchMove(log_columns(posterior.parameters)),
                                        blobs_dtype=blob_dtype(posterior))
        if resuming:
            state = backend.get_last_sample()
            state.random_state = tuple(state.random_state)
        else:
            start_rng, move_random = seed_streams(settings["seed"])
            evaluate = (lambda post, coords: pool.map(post, list(coords))) if pool else _serial_map
            state = initial_state(posterior, nwalkers, start_rng, evaluate, start_positions)
            state.random_state = move_random.get_state()
        remaining = target - backend.iteration
        if remaining > 0 and not stop.requested:
            steps = sampler.sample(state, iterations=remaining, progress=progress)
            try:
                for _ in steps:
                    if stop.requested:
                        break
                    if (monitor is not None and monitor.due(backend.iteration)
                            and backend.iteration > burn_in):
                        converged = monitor.update(backend.get_chain(discard=burn_in, thin=thin))
                        if converged:
                            break
            finally:
                steps.close()  # closes the progress bar
                backend.checkpoint()
    elapsed = time.time() - started
    diagnostics = chain_diagnostics(backend, posterior, target, burn_in, thin, output_dir)
    diagnostics["interrupted"] = bool(backend.iteration < target and not converged)
    if monitor is not None:
        diagnostics["stop_on_convergence"] = {"stopped": converged, **monitor.report(),
                                              "check_every": monitor.check_every,
                                              "rtol": monitor.rtol}
    diagnostics["seconds_this_session"] = round(elapsed, 2)
    diagnostics["failure_counts"] = _merge(previous_failures, posterior.failure_counts)
    diagnostics["failure_counts_this_session"] = dict(posterior.failure_counts)
    diagnostics["likelihood_timing_this_session"] = posterior.timing()
    diagnostics["first_failure_traceback"] = (
        (_previous_diagnostics(output_dir) if resuming else {}).get("first_failure_traceback")
        or getattr(posterior, "first_traceback", None))
    write_json(output_dir / DIAGNOSTICS_FILE, diagnostics)
    return EmceeResult(output_dir, int(backend.iteration), target,
                       bool(diagnostics["interrupted"]), diagnostics, converged)


def chain_diagnostics(backend, posterior, target: int, burn_in: int = 0,
                      thin: int = 1, run_dir: Path | str = "RUN_DIR") -> dict[str, Any]:
    """Acceptance fractions, autocorrelation times and the convergence verdict.

    The verdict (`globalfit.diagnostics.convergence_summary`) is taken on the chain as
    `globalfit.results.load_run` reads it: after ``burn_in``, thinned by ``thin``, without
    stranded walkers; summary.md shows the same numbers. Non-finite values (a chain too
    short to estimate them) are written as ``None``.
    """
    steps = int(backend.iteration)
    out: dict[str, Any] = {"steps": steps, "target_steps": int(target),
                           "walkers": int(backend.shape[0]), "parameters": list(posterior.names)}
    if steps == 0:
        return out
    acceptance = np.asarray(backend.accepted, dtype=float) / steps
    tau = autocorrelation_time(backend.get_chain())
    tau_max = float(np.max(tau))
    per_tau = steps / tau_max if tau_max > 0 else math.inf
    out.update({
        "acceptance_fraction_mean": float(np.mean(acceptance)),
        "acceptance_fraction": acceptance.round(4).tolist(),
        "autocorr_time": {n: _finite(t) for n, t in zip(posterior.names, tau)},
        "steps_per_autocorr_time": _finite(per_tau),
        "suggested_burn_in": int(math.ceil(2 * tau_max)) if np.isfinite(tau_max) else None,
        "suggested_thin": max(1, int(0.5 * float(np.min(tau)))) if np.all(np.isfinite(tau)) else 1,
        "convergence": _verdict(backend, posterior.names, burn_in, thin),
    })
    verdict = out["convergence"]
    if not verdict["converged"]:
        needed = verdict["steps_needed_after_burn_in"]
        advice = (f"--steps {burn_in + needed * thin}" if needed else "--steps N")
        warnings.warn(
            f"chain of {steps} steps has not converged ({CONVERGENCE_CRITERION}): "
            f"max R-hat {_text(verdict['max_rhat'], '.3f')}, chain after burn-in / tau_max = "
            f"{_text(verdict['steps_over_max_tau'], '.1f')}; continue it with "
            f"`globalfit resume {run_dir} {advice}`", ChainNotConvergedWarning, stacklevel=2)
    return out


def _verdict(backend, names, burn_in: int, thin: int) -> dict[str, Any]:
    """`convergence_summary` of the post-burn-in chain without stranded walkers."""
    if backend.iteration <= burn_in:
        return convergence_summary(np.empty((0, backend.shape[0], len(names))), names)
    chain = backend.get_chain(discard=burn_in, thin=thin)
    log_prob = backend.get_log_prob(discard=burn_in, thin=thin)
    keep = np.setdiff1d(np.arange(chain.shape[1]), stranded_walkers(log_prob))
    return convergence_summary(chain[:, keep], names)


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def format_diagnostics(diagnostics: dict[str, Any]) -> str:
    """A few lines for the terminal."""
    lines = [f"steps: {diagnostics['steps']} of {diagnostics['target_steps']} "
             f"({diagnostics['walkers']} walkers)"]
    if "acceptance_fraction_mean" in diagnostics:
        lines.append(f"mean acceptance fraction: {diagnostics['acceptance_fraction_mean']:.3f}")
        taus = ", ".join(f"{n} {_text(t, '.1f')}"
                         for n, t in diagnostics["autocorr_time"].items())
        lines.append(f"autocorrelation time [steps]: {taus}")
        verdict = diagnostics["convergence"]
        lines.append(f"converged: {'yes' if verdict['converged'] else 'no'} (max split R-hat "
                     f"{_text(verdict['max_rhat'], '.3f')}, chain after burn-in / tau_max "
                     f"{_text(verdict['steps_over_max_tau'], '.1f')}; {CONVERGENCE_CRITERION})")
    stop = diagnostics.get("stop_on_convergence")
    if stop:
        lines.append(("stopped early" if stop["stopped"] else "ran to the target")
                     + f" after {stop['checks']} convergence checks (every "
                     f"{stop['check_every']} steps)")
    timing = diagnostics.get("likelihood_timing_this_session") or {}
    if any(t["calls"] for t in timing.values()):
        lines.append("time per likelihood call [ms]: " + ", ".join(
            f"{name} {t['ms_per_call']:.3g}" for name, t in timing.items()))
    failures = diagnostics.get("failure_counts") or {}
    if failures:
        lines.append("points rejected because a likelihood failed:")
        lines += [f"  {count:>8d}  {reason}" for reason, count in failures.items()]
    return "\n".join(lines)


def _text(value, spec: str) -> str:
    return "n/a (chain too short)" if value is None else format(value, spec)


def _previous_failures(output_dir: Path) -> dict[str, int]:
    return dict(_previous_diagnostics(output_dir).get("failure_counts", {}))


def _previous_diagnostics(output_dir: Path) -> dict:
    path = output_dir / DIAGNOSTICS_FILE
    if not path.is_file():
        return {}
    try:
        return dict(json.loads(path.read_text()))
    except (ValueError, AttributeError, TypeError) as error:
        raise ValueError(f"{path}: damaged ({error}); delete it (it holds only diagnostics, "
                         f"rewritten at the end of the run) and resume again") from None


def _merge(first: dict, second) -> dict[str, int]:
    total = dict(first)
    for key, value in dict(second).items():
        total[key] = total.get(key, 0) + int(value)
    return total


def write_json(path: Path, data: dict) -> None:
    """Write ``data`` as indented, strict JSON (NaN/inf become ``null``), atomically
    (temporary file, then rename)."""
    path = Path(path)
    temporary = path.with_suffix(path.suffix + ".tmp")
    text = json.dumps(_strict(data), indent=2, default=_json_default, allow_nan=False)
    temporary.write_text(text + "\n")
    temporary.replace(path)


def _strict(value):
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(v) for v in value]
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return None
    return value


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")
