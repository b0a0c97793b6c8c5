"""emcee moves that sample log-uniform parameters in log space.

A parameter with a log-uniform prior spanning decades (a coupling from 1e-6 to 1e-2) is
badly served by emcee's stretch move in the parameter itself: the move is affine invariant,
and a density that is flat in ``ln x`` is anything but affine in ``x``. `LogStretchMove`
performs the Goodman & Weare stretch move in the coordinates ``u = ln x`` for those
parameters (and ``x`` for the rest), and corrects the acceptance for the change of
variables, so the chain still samples the posterior in ``x`` and stores ``x``:

    target in u:  pi_u(u) = p(x(u)) * prod_log x_i
    accept with   Z^(d-1) * pi_u(u') / pi_u(u)
                = Z^(d-1) * p(x') / p(x) * prod_log (x'_i / x_i)

(Z is the stretch factor; Goodman & Weare 2010, Foreman-Mackey et al. 2013). With no
log-uniform parameter it is emcee's `StretchMove`, draw for draw.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from emcee.moves import StretchMove

from globalfit.params import LogUniform


class LogStretchMove(StretchMove):
    """Stretch move in ``ln x`` for the columns in ``log_columns``.

    Parameters
    ----------
    log_columns : sequence of int
        Indices of the parameters sampled in ``ln x`` (their values must be positive).
    a : float
        Stretch scale (emcee's default 2).
    """

    def __init__(self, log_columns: Sequence[int], a: float = 2.0, **kwargs):
        super().__init__(a=a, **kwargs)
        self.log_columns = np.asarray(list(log_columns), dtype=int)

    def _to_sampling(self, x: np.ndarray) -> np.ndarray:
        u = np.array(x, dtype=float, copy=True)
        u[:, self.log_columns] = np.log(u[:, self.log_columns])
        return u

    def _from_sampling(self, u: np.ndarray) -> np.ndarray:
        x = np.array(u, dtype=float, copy=True)
        x[:, self.log_columns] = np.exp(x[:, self.log_columns])
        return x

    def get_proposal(self, s, c, random):
        if self.log_columns.size == 0:
            return super().get_proposal(s, c, random)
        s_u = self._to_sampling(s)
        c_u = [self._to_sampling(block) for block in c]
        proposal_u, factors = super().get_proposal(s_u, c_u, random)
        jacobian = np.sum(proposal_u[:, self.log_columns] - s_u[:, self.log_columns], axis=1)
        return self._from_sampling(proposal_u), factors + jacobian


def log_columns(parameters) -> list[int]:
    """Indices of the sampled parameters whose prior is log-uniform."""
    return [k for k, p in enumerate(parameters) if isinstance(p.prior, LogUniform)]
