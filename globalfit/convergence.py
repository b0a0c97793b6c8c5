"""Stop an emcee run when it has converged instead of after a fixed number of steps.

Converged means what it means everywhere in globalfit
(`globalfit.diagnostics.CONVERGENCE_CRITERION`: rank-normalised split R-hat < 1.01 for
every parameter and a post-burn-in chain longer than 50 autocorrelation times). Every
``check_every`` steps the monitor evaluates that verdict on the chain after burn-in; it
stops the run once the chain has converged and every parameter's integrated
autocorrelation time ``tau`` changed by less than ``rtol`` (relative) since the previous
check (so that the verdict does not rest on a tau estimate still drifting).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from globalfit.diagnostics import autocorrelation_time, convergence_summary


@dataclass
class ConvergenceMonitor:
    """Call `update` with the post-burn-in chain so far; it says whether to stop.

    Parameters
    ----------
    check_every : steps between checks.
    rtol : relative change of every tau between two checks below which tau is stable.
    """

    check_every: int = 100
    rtol: float = 0.01
    history: list[tuple[int, np.ndarray]] = field(default_factory=list)
    verdict: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.check_every < 1 or self.rtol <= 0:
            raise ValueError(
                f"sampler.stop_on_convergence: check_every >= 1 and rtol > 0 required "
                f"(got {self.check_every}, {self.rtol})"
            )

    def due(self, iteration: int) -> bool:
        return iteration > 0 and iteration % self.check_every == 0

    def update(self, chain: np.ndarray) -> bool:
        """``chain``: (n_steps, n_walkers, n_parameters) after burn-in. True to stop."""
        steps = chain.shape[0]
        if steps < 4:
            return False
        tau = autocorrelation_time(chain)
        previous = self.history[-1][1] if self.history else None
        self.history.append((steps, tau))
        self.verdict = convergence_summary(chain, [f"p{k}" for k in range(chain.shape[2])])
        if previous is None or not np.all(np.isfinite(tau)):
            return False
        stable = np.all(np.abs(previous - tau) / tau < self.rtol)
        return bool(self.verdict["converged"] and stable)

    def report(self) -> dict:
        if not self.history:
            return {"checks": 0}
        steps, tau = self.history[-1]
        return {"checks": len(self.history), "steps_after_burn_in": int(steps),
                "tau": tau.tolist(), "max_rhat": self.verdict.get("max_rhat"),
                "steps_over_max_tau": self.verdict.get("steps_over_max_tau")}
