"""Test helper: write an in-memory emcee run as a run folder's ``chain.h5``."""
import emcee


def save_to_hdf(sampler, path, name="mcmc"):
    """Copy an in-memory emcee run into an emcee ``HDFBackend`` file in one write.

    The layout is emcee's own (``reset`` and ``grow`` create it); writing step by step
    through the backend gives the same file but costs one file opening per step.
    """
    chain = sampler.get_chain()
    blobs = sampler.get_blobs()
    backend = emcee.backends.HDFBackend(str(path), name=name)
    backend.reset(chain.shape[1], chain.shape[2])
    backend.grow(chain.shape[0], blobs[0])
    with backend.open("a") as handle:
        group = handle[name]
        group["chain"][...] = chain
        group["log_prob"][...] = sampler.get_log_prob()
        group["blobs"][...] = blobs
        group["accepted"][...] = sampler.backend.accepted
        group.attrs["iteration"] = chain.shape[0]
    return backend
