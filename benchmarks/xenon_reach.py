"""Figure of docs/reproductions/xenon.md: the eps^u_ee profiles of three card scans, drawn by
`globalfit.plots.profile_plot` from the runs' scan.csv (the product's output, no recomputation).

    globalfit run configs/xenon_8b_eps_u_ee.yaml
    globalfit run configs/xenon_projection.yaml
    globalfit run configs/coherent_eps_u_ee.yaml
    python benchmarks/xenon_reach.py docs/figures/xenon_eps_u_ee.png
"""
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd

from globalfit.plots import profile_figure, save_figure
from globalfit.samplers.profile import Profile

RUNS = {"COHERENT (CsI 2017, CsI 2021, LAr)": "chains/coherent_eps_u_ee",
        "XENONnT + PandaX-4T 8B": "chains/xenon_8b_eps_u_ee",
        "projection, 200 t yr, 10 %": "chains/xenon_projection"}


def main(output: str) -> None:
    profiles = {}
    for label, run in RUNS.items():
        table = pd.read_csv(f"{run}/scan.csv")
        grid = table["eps_u_ee"].to_numpy()
        chi2 = table["delta_chi2"].to_numpy()
        profiles[label] = Profile("eps_u_ee", grid, chi2, np.empty((len(grid), 0)), 0.0)
    parameter = SimpleNamespace(name="eps_u_ee", latex=r"\varepsilon^u_{ee}", unit="none",
                                from_internal=lambda x: np.asarray(x))
    figure = profile_figure(profiles, parameter)
    axis = figure.axes[0]
    axis.set_xlim(-0.45, 0.95)      # the scans run from -1 to 1.5; every 3 sigma crossing lies inside
    axis.legend(frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize=8)
    figure.tight_layout()
    print("wrote", save_figure(figure, output))


if __name__ == "__main__":
    main(sys.argv[1])
