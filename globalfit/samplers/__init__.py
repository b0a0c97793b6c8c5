"""Samplers: they see a `globalfit.posterior.Posterior` and nothing of the physics.

* `globalfit.samplers.emcee_sampler`: affine-invariant ensemble MCMC (emcee) with a
  resumable HDF5 chain (``run_emcee``);
* `globalfit.samplers.minimize`: the chi^2 objective, local minimisation and the best fit;
* `globalfit.samplers.starts`: where the minimisations start (hints, chains, symmetries);
* `globalfit.samplers.profile`: 1-D profile likelihoods;
* `globalfit.samplers.region_profiles`: profiles restricted to regions (LMA, LMA-Dark).

Modules are imported on use, so a missing optional dependency of one sampler does not
stop the others.
"""
