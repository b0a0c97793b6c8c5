"""Experiment plug-ins for globalfit: one module per experiment family.

Each module owns its data (under ``data/<experiment>/``, with provenance) and its forward
model, uses the engines in ``globalfit.physics``, and knows nothing of samplers.
``BUILTIN`` maps the names used in run cards to ``module:Class``.
"""

BUILTIN = {
    "clfv": "likelihoods.clfv:CLFVLikelihood",
    "mesons": "likelihoods.mesons:MesonDecayLikelihood",
    "coherent_csi_2017": "likelihoods.coherent:CoherentCsI2017",
    "coherent_csi_2021": "likelihoods.coherent:CoherentCsI2021",
    "coherent_lar_2020": "likelihoods.coherent:CoherentLAr2020",
    "conus": "likelihoods.conus:ConusLikelihood",
    "solar": "likelihoods.solar:SolarLikelihood",
    "kamland": "likelihoods.kamland:KamLANDLikelihood",
    "superk_iv_spectrum": "likelihoods.superk_spectrum:SuperKSpectrumLikelihood",
    "t2k": "likelihoods.long_baseline:T2K",
    "nova": "likelihoods.long_baseline:NOvA",
    "dune": "likelihoods.long_baseline:DUNE",
    "nutev": "likelihoods.nutev:NuTeVLikelihood",
    "charm": "likelihoods.charm:CharmLikelihood",
    "borexino_nue": "likelihoods.borexino_nue:BorexinoNuELikelihood",
    "unitarity": "likelihoods.unitarity:UnitarityLikelihood",
    "higgs_invisible": "likelihoods.higgs_invisible:HiggsInvisibleLikelihood",
    "cosmology": "likelihoods.cosmology:CosmologyLikelihood",
    "deepcore_3y": "likelihoods.deepcore_3y:DeepCore3y",
}
