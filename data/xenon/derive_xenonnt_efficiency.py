"""Derive the XENONnT 8B-CEvNS detection efficiency of ``xenonnt_8b.yaml`` from the public release.

Usage::

    git clone https://github.com/XENONnT/light_wimp_data_release   # commit a09cd8f
    python data/xenon/derive_xenonnt_efficiency.py light_wimp_data_release/light_wimp_data_release/data

The release ships, per science run, templates of mono-energetic nuclear recoils (recoil energy
``E`` on its basis grid, light yield ``ly`` and charge yield ``qy`` from 1 to 10 quanta/keV) in
the analysis space; the sum of a template is the probability that a recoil of energy ``E``
enters the analysis. This script takes that sum at the median YBe yields (linear interpolation
in ``ly``, ``qy`` as the release's own ``Template.interpolator``), weights SR0 and SR1 by their
exposures, and prints the table. It also folds the release's own 8B recoil spectrum
(``signal/cevns_spectrum.json``) with it: 11.89 events against the 11.92 of the release's 8B
templates (Monte-Carlo noise of the release's sampling and of the linear interpolation).
Needs h5py and scipy.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import h5py
import numpy as np
from scipy.interpolate import RegularGridInterpolator, interp1d

BASIS_E_R = np.concatenate([[0.51, 0.6, 0.7, 0.8, 0.9], np.arange(1, 2, 0.25), np.arange(2, 5.5, 0.5)])
YIELDS = np.arange(1, 11)
EXPOSURE_T_YR = {"sr0": 1.174398, "sr1": 2.342593}  # statistical_model_base.yaml


def mono_efficiency(data: Path, run: str) -> RegularGridInterpolator:
    table = np.zeros((len(BASIS_E_R), len(YIELDS), len(YIELDS)))
    for i, energy in enumerate(BASIS_E_R):
        tag = str(energy).replace(".", "_")
        for j, ly in enumerate(YIELDS):
            for k, qy in enumerate(YIELDS):
                name = data / "orthonormal_basis" / (
                    f"template_XENONnT_{run}_recasting_mono_{tag}_cevns_tly_{ly}_tqy_{qy}.h5")
                with h5py.File(name) as handle:
                    table[i, j, k] = handle["templates/template"][()].sum()
    return RegularGridInterpolator([BASIS_E_R, YIELDS, YIELDS], table)


def median_yield(data: Path, kind: str):
    content = json.loads((data / "signal" / f"{kind}_ybe_model_median.json").read_text())
    return interp1d(content["coordinate_system"], content["map"])


def main(data: Path) -> None:
    ly, qy = median_yield(data, "ly"), median_yield(data, "qy")
    total = sum(EXPOSURE_T_YR.values())
    combined = np.zeros(len(BASIS_E_R))
    for run, exposure in EXPOSURE_T_YR.items():
        interpolator = mono_efficiency(data, run)
        combined += exposure / total * np.array([interpolator([e, ly(e), qy(e)])[0] for e in BASIS_E_R])
    spectrum = json.loads((data / "signal" / "cevns_spectrum.json").read_text())
    recoil = interp1d(spectrum["coordinate_system"], spectrum["map"])((np.arange(200000) + 0.5) / 200000)
    inside = (recoil > BASIS_E_R[0]) & (recoil < BASIS_E_R[-1])
    expected = np.interp(recoil[inside], BASIS_E_R, combined).sum() / recoil.size * spectrum["rate"] * total
    print("recoil_kev:", [round(float(e), 3) for e in BASIS_E_R])
    print("probability:", [float(f"{p:.5g}") for p in combined])
    print(f"release 8B spectrum folded: {expected:.2f} events in {total:.3f} t yr")
    print(f"release 8B spectrum above {BASIS_E_R[0]} keV: {np.mean(recoil > BASIS_E_R[0]) * spectrum['rate']:.1f} "
          f"events / (t yr)")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
