"""Two minima of the CsI 2017 release profile at one NSI point (docs/cevns.md, known limitations).

Run from the repository root with GLOBALFIT_DATA pointing at the data folder:
``OMP_NUM_THREADS=1 python docs/snippets/cevns_release_minima.py``.
"""
import numpy as np

import likelihoods.coherent as co
from globalfit.couplings import Couplings

lk = co.CoherentCsI2017(release="coherent_csi_2017")
rng = np.random.default_rng(5)
for _ in range(38):  # the 38th random complex eps^u of size 0.05 (eps^d = 0.7 eps^u)
    m = rng.normal(scale=0.05, size=(3, 3)) + 1j * rng.normal(scale=0.0125, size=(3, 3))
    m = 0.5 * (m + m.conj().T)
point = Couplings(eps0={"u": m, "d": 0.7 * m})
sm, profile = lk.chi2_couplings(Couplings()), lk.chi2_couplings(point)
from_zero = co.profile_on_off_lbfgsb
co.profile_on_off_lbfgsb = lambda *a: from_zero(*a, start=np.array([0.0, 0.0, 0.0, 36.0]))
co.profile_on_off = lambda *a: co.profile_on_off_lbfgsb(*a)
print(f"chi2: SM {sm:.2f}; profile {profile:.2f}; started at 36 prompt neutrons {lk.chi2_couplings(point):.2f}")
