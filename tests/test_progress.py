"""globalfit.progress: bars on a terminal, silence in logs, one helper used by the engines."""
from __future__ import annotations

import numpy as np

from globalfit import progress
from globalfit.samplers.profile import profile_1d


def _profile(label):
    chi2 = lambda theta: float((theta[0] - 0.2) ** 2 + (theta[1] + 0.1) ** 2)  # noqa: E731
    bounds = np.array([[-1.0, 1.0], [-1.0, 1.0]])
    return profile_1d(chi2, 0, np.linspace(-1, 1, 5), bounds, [np.zeros(2)], progress=label)


def test_no_bar_when_stderr_is_not_a_terminal(monkeypatch, capsys):
    monkeypatch.delenv("GLOBALFIT_PROGRESS", raising=False)
    assert not progress.enabled()  # pytest captures stderr: not a TTY
    _profile("profile x")
    assert capsys.readouterr().err == ""


def test_bar_drawn_when_forced_and_result_unchanged(monkeypatch, capsys):
    quiet = _profile(None)
    monkeypatch.setenv("GLOBALFIT_PROGRESS", "1")
    assert progress.enabled()
    loud = _profile("profile x")
    err = capsys.readouterr().err
    assert "profile x" in err and "/10 " in err  # both sweeps over the 5 grid points
    np.testing.assert_array_equal(quiet.chi2, loud.chi2)
    np.testing.assert_allclose(loud.chi2, (loud.grid - 0.2) ** 2, atol=1e-8)
    monkeypatch.setenv("GLOBALFIT_PROGRESS", "0")
    assert not progress.enabled()
