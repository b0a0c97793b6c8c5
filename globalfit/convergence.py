"""Stop an emcee run when it has converged instead of after a fixed number of steps.

Criterion (emcee documentation's recommendation, Foreman-Mackey et al.): every
parameter's integrated autocorrelation time ``tau`` is estimated every ``check_every``
steps; the chain has converged when it is longer than ``n_tau`` times the largest ``tau``
and each ``tau`` changed by less than ``rtol`` (relative) since the previous check.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from emcee.autocorr import integrated_time


@dataclass
class ConvergenceMonitor:
    """Call `update` with the chain so far; it says whether to stop.

    Parameters
    ----------
    check_every : steps between checks.
    n_tau : the chain must be longer than ``n_tau * max(tau)``.
    rtol : relative change of every tau between two checks below which tau is stable.
    """

    check_every: int = 100
    n_tau: float = 50.0
    rtol: float = 0.01
    history: list[tuple[int, np.ndarray]] = field(default_factory=list)

    def __post_init__(self):
        if self.check_every < 1 or self.n_tau <= 0 or self.rtol <= 0:
            raise ValueError(
                f"sampler.convergence: check_every >= 1, n_tau > 0 and rtol > 0 required "
                f"(got {self.check_every}, {self.n_tau}, {self.rtol})"
            )

    def due(self, iteration: int) -> bool:
        return iteration > 0 and iteration % self.check_every == 0

    def update(self, chain: np.ndarray) -> bool:
        """``chain``: (n_steps, n_walkers, n_parameters). True when converged."""
        steps = chain.shape[0]
        tau = integrated_time(chain, quiet=True)
        previous = self.history[-1][1] if self.history else None
        self.history.append((steps, tau))
        if previous is None or not np.all(np.isfinite(tau)):
            return False
        long_enough = steps > self.n_tau * np.max(tau)
        stable = np.all(np.abs(previous - tau) / tau < self.rtol)
        return bool(long_enough and stable)

    def report(self) -> dict:
        if not self.history:
            return {"checks": 0}
        steps, tau = self.history[-1]
        return {"checks": len(self.history), "steps": int(steps), "tau": tau.tolist(),
                "steps_over_max_tau": float(steps / np.max(tau))}
