"""Models: the only place where parameters become `Couplings` (physics.md section 9).

``BUILTIN`` maps the names used in run cards to ``module:Class``; third-party models
register under the entry-point group ``globalfit.models`` or are named as
``package.module:Class`` in a card.
"""
from globalfit.models.base import Model

BUILTIN = {
    "standard": "globalfit.models.effective:StandardOscillations",
    "effective_nsi": "globalfit.models.effective:EffectiveNSI",
    "u1_lepton_baryon": "globalfit.models.u1:LeptonBaryonU1",
    "b_minus_l": "globalfit.models.u1:BMinusLeptonU1",
    "psi_mixing": "globalfit.models.psi_mixing:PsiMixing",
    "neutrinophilic": "globalfit.models.neutrinophilic:Neutrinophilic",
    "lfv_nsi": "globalfit.models.lfv:LFVNSI",
    "lfv_nsi_log": "globalfit.models.lfv:LFVNSILog",
    "kinetic_mixing": "globalfit.models.kinetic_mixing:KineticMixing",
    "lma_dark_x": "globalfit.models.lma_dark:LMADarkX",
    "solar_nsi": "globalfit.models.solar_nsi:SolarNSI",
    "nsi_matrix": "globalfit.models.full_matrix:FullMatrixNSI",
}

__all__ = ["Model", "BUILTIN"]
