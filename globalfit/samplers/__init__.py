"""Samplers: they see a `globalfit.posterior.Posterior` and nothing of the physics.

* `globalfit.samplers.emcee_sampler`: affine-invariant ensemble MCMC (emcee) with a
  resumable HDF5 chain (``run_emcee``);
* `globalfit.samplers.profile`: best fit and profile likelihoods (minimiser).

Modules are imported on use, so a missing optional dependency of one sampler does not
stop the others.
"""
