"""``sampler.ensembles_per_region: K``: K independent emcee ensembles in each card region.

Each ensemble samples `globalfit.modes.RegionPosterior` (``-inf`` outside its region) into
``<output>/<region>/ensemble_<k>/`` (a run folder with ``config.yaml``, ``chain.h5``,
``diagnostics.json``), with a seed derived from the card seed, region and ensemble index.
The split R-hat of each region across its K ensembles goes to ``<output>/diagnostics.json``.
"""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from globalfit import provenance
from globalfit.chainfile import ChainReader
from globalfit.config import RunConfig
from globalfit.diagnostics import RHAT_GOOD, split_rhat
from globalfit.modes import RegionPosterior
from globalfit.regions import parse_regions
from globalfit.reporting import Reporter
from globalfit.runfolder import stored_steps
from globalfit.samplers.emcee_sampler import (
    draw_start,
    run_emcee,
    write_json,
)
from globalfit.samplers.starts import image_map

MAX_REGION_START_ROUNDS = 1000
"""Rounds of prior draws when seeding walkers inside a region by rejection."""


def run_region_ensembles(posterior, config: RunConfig, *, command: str, cores: int = 1,
                         progress: bool = False, pool=None,
                         report: Reporter | None = None) -> bool:
    """Sample every region with its ensembles (continuing stored ones); returns whether all
    reached their target."""
    report = report or Reporter()
    run_dir = Path(config.output)
    ensembles = int(config.sampler["ensembles_per_region"])
    started = provenance.utc_now()
    results = {}
    for index, region in enumerate(parse_regions(config.regions, posterior.parameters)):
        restricted = RegionPosterior(posterior, region)
        for k in range(ensembles):
            sub = copy.deepcopy(config)
            sub.sampler = {key: value for key, value in config.sampler.items()
                           if key != "ensembles_per_region"}
            sub.sampler["seed"] = ensemble_seed(config.sampler["seed"], index, k)
            sub.output = run_dir / region.name / f"ensemble_{k}"
            sub.output.mkdir(parents=True, exist_ok=True)
            sub.write(sub.output / "config.yaml")
            start = None
            if stored_steps(sub.output) == 0:
                start = region_start(posterior, region, int(sub.sampler["walkers"]),
                                     np.random.default_rng(sub.sampler["seed"]))
            report.info(f"region {region.name!r} ({region.condition}), ensemble {k}: "
                        f"{sub.output}")
            # each ensemble's own convergence warning shows (one line per ensemble); the
            # R-hat across a region's ensembles follows below
            results[(region.name, k)] = run_emcee(
                restricted, sub, sub.output, cores=cores, pool=pool, progress=progress,
                start_positions=start)
    summary = region_rhat_summary(config, results, posterior.names)
    write_json(run_dir / "diagnostics.json", summary)
    complete = all(r.complete for r in results.values())
    provenance.add_session(run_dir, command=command, argv=None, started=started,
                           steps_before=0, steps_after=sum(r.steps for r in results.values()),
                           target=sum(r.target_steps for r in results.values()),
                           status="complete" if complete else "interrupted", posterior=posterior)
    report.info(format_region_rhat(summary))
    report.info(f"wrote {run_dir / 'diagnostics.json'}")
    if not complete:
        report.info(f"stopped before the target; continue with `globalfit resume {run_dir}`")
    return complete


def ensemble_seed(card_seed: int, region_index: int, ensemble: int) -> int:
    """Seed of ensemble ``ensemble`` of region number ``region_index`` (independent streams
    from the card seed, `numpy.random.SeedSequence`)."""
    sequence = np.random.SeedSequence([int(card_seed), int(region_index), int(ensemble)])
    return int(sequence.generate_state(1)[0])


def region_start(posterior, region, nwalkers: int, rng) -> np.ndarray:
    """Starting walkers inside ``region``: draws from the priors (or the card's ``start``
    hints) kept only where they lie in the region. With a model symmetry
    (``model.degenerate_image``, `globalfit.samplers.starts.image_map`) each draw's image is
    a candidate too, so that e.g. an LMA-Dark ensemble starts in both mass orderings even
    where the hints name one.

    Raises
    ------
    ValueError
        If fewer than ``nwalkers`` points fall in the region in `MAX_REGION_START_ROUNDS`
        rounds (a region of tiny prior mass: give ``start`` hints inside it).
    """
    kept = []
    count = 0
    images = image_map(posterior)
    for _ in range(MAX_REGION_START_ROUNDS):
        draws = draw_start(posterior, nwalkers, rng)
        if images is not None:
            mirrored = [image for theta in draws for image in images(theta)]
            draws = np.vstack([draws, *mirrored])[rng.permutation(len(draws) + len(mirrored))]
        inside = draws[region.mask(draws, posterior.names)]
        kept.append(inside)
        count += len(inside)
        if count >= nwalkers:
            return np.concatenate(kept)[:nwalkers]
    raise ValueError(f"regions.{region.name}: only {count} of {nwalkers} starting walkers fell "
                     f"in {region.condition!r} in {MAX_REGION_START_ROUNDS} rounds of prior "
                     f"draws; give parameters 'start' hints inside the region")


def region_rhat_summary(config: RunConfig, results: dict, names: list[str]) -> dict:
    """Split R-hat (`globalfit.diagnostics.split_rhat`, rank-normalised) of each region
    across its ensembles: each ensemble's post-burn-in samples, walkers interleaved step by
    step, are one chain."""
    burn_in = int(config.sampler["burn_in"])
    summary = {"ensembles_per_region": int(config.sampler["ensembles_per_region"]),
               "burn_in": burn_in, "rhat_good_below": RHAT_GOOD, "regions": {}}
    for region in config.regions:
        runs = [r for (name, _), r in sorted(results.items()) if name == region]
        chains = [ensemble_samples(r.output_dir, burn_in) for r in runs]
        length = min(len(c) for c in chains)
        entry = {"condition": config.regions[region],
                 "steps": [r.steps for r in runs],
                 "folders": [str(r.output_dir) for r in runs]}
        if length >= 4:
            rhat = split_rhat(np.stack([c[:length] for c in chains], axis=1))
            entry["rhat"] = {n: float(v) for n, v in zip(names, rhat)}
            entry["rhat_max"] = float(np.max(rhat))
            entry["mixed"] = bool(np.max(rhat) < RHAT_GOOD)
        else:
            entry.update(rhat=None, rhat_max=None, mixed=False)
        summary["regions"][region] = entry
    return summary


def ensemble_samples(run_dir: Path, burn_in: int) -> np.ndarray:
    """Post-burn-in samples of one ensemble, shape (steps * walkers, ndim), step-major."""
    backend = ChainReader(Path(run_dir) / "chain.h5")
    chain = backend.get_chain(discard=min(burn_in, max(backend.iteration - 1, 0)))
    return chain.reshape(-1, chain.shape[-1])


def format_region_rhat(summary: dict) -> str:
    lines = [f"split R-hat across {summary['ensembles_per_region']} ensembles per region "
             f"(< {summary['rhat_good_below']} is mixed):"]
    for region, entry in summary["regions"].items():
        if entry["rhat"] is None:
            lines.append(f"  {region}: chains too short for R-hat")
            continue
        values = ", ".join(f"{n} {v:.4f}" for n, v in entry["rhat"].items())
        lines.append(f"  {region} ({entry['condition']}): {values}"
                     + ("" if entry["mixed"] else "  <- not mixed: run longer"))
    return "\n".join(lines)
