"""Nuisance parameters that several likelihoods share (`Likelihood.shared_nuisance_parameters`).

``shared.flux_8b``: the solar 8B flux in units of the B16-GS98 standard-solar-model flux
(``data/solar/fluxes_b16_gs98.yaml``), with that model's Gaussian uncertainty as its default
prior. The xenon CEvNS likelihoods (`likelihoods.xenon_8b`) scale their 8B signal with it; the
`solar` likelihood, which otherwise profiles its 8B normalisation freely (fixed by SNO's NC
flux), uses this parameter instead whenever a card has it, so that a card with both fits one
8B flux.
"""
from __future__ import annotations

from globalfit.datafile import read_yaml
from globalfit.paths import data_path

FLUX_8B = "shared.flux_8b"
"""Name of the shared 8B flux normalisation (dimensionless, 1 = B16-GS98)."""
B16_FILE = data_path("solar", "fluxes_b16_gs98.yaml")


def flux_8b_prior() -> dict:
    """Default prior of `FLUX_8B`: Gaussian, mean 1, sigma the B16-GS98 fractional uncertainty."""
    sigma = float(read_yaml(B16_FILE)["fractional_uncertainty"]["8B"])
    return {"prior": "gaussian", "mean": 1.0, "sigma": sigma, "min": 0.0, "max": 3.0,
            "latex": r"\phi_{^8\mathrm{B}} / \phi_{\mathrm{B16}}"}
