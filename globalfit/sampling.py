"""Run a validated card's sampler into a run folder: the orchestration behind
`globalfit.run` and ``globalfit run`` / ``globalfit resume``.

One path for every entry point: `prepare_run` creates the run folder (resolved card and
provenance record), `sample` runs the card's sampler (one emcee ensemble, emcee ensembles
per region, or nested sampling for evidences) and records the session, `scan_card` profiles
a card with a ``scan:`` block. Messages go through a `Reporter`: silent by default (library
use), printed by the command line.
"""
from __future__ import annotations

from pathlib import Path

from globalfit import provenance
from globalfit.config import RunConfig
from globalfit.modes import region_evidences, region_masses
from globalfit.plots import corner_plot
from globalfit.posterior import build_posterior
from globalfit.region_ensembles import run_region_ensembles
from globalfit.regions import parse_regions
from globalfit.reporting import Reporter
from globalfit.runfolder import check_run_dir, prepare_run, stored_steps
from globalfit.runlock import check_output_writable, writing_run
from globalfit.samplers.emcee_sampler import format_diagnostics, run_emcee
from globalfit.scan import format_scan, run_scan, scan_config, write_scan
from globalfit.summaries import write_summary

RUN_SAMPLERS = ("emcee", "nested")
"""``sampler.name`` values that `globalfit.run` runs."""
EVIDENCE_FILES = ("evidence.csv", "evidence.md")


# --- samplers ------------------------------------------------------------------------------
def sample(posterior, config: RunConfig, *, command: str = "run", cores: int = 1,
           progress: bool = False, pool=None, report: Reporter | None = None) -> bool:
    """Run the card's sampler into ``config.output`` (continuing what is stored there) and
    record the session; returns whether it reached its target (False: interrupted)."""
    report = report or Reporter()
    check_runnable(config, posterior)
    options = {"cores": cores, "progress": progress, "pool": pool}
    if config.sampler["name"] == "nested":
        return _nested(posterior, config, command, report, **options)
    if config.sampler.get("ensembles_per_region"):
        return run_region_ensembles(posterior, config, command=command, report=report,
                                    **options)
    return _emcee(posterior, config, command, report, **options)


def check_runnable(config: RunConfig, posterior=None) -> None:
    """Raise a ValueError if the card's sampler is not one a run samples with, or (given the
    posterior) if every parameter is fixed."""
    if config.sampler["name"] not in RUN_SAMPLERS:
        raise ValueError(f"sampler.name: `globalfit run` samples with "
                         f"{' or '.join(RUN_SAMPLERS)}, but {config.source} asks for "
                         f"{config.sampler['name']!r} (see `globalfit --help` for the command "
                         f"that runs it, or set sampler.name: emcee)")
    if posterior is not None and posterior.ndim == 0:
        raise ValueError(f"parameters: every parameter of {config.source} is fixed; give at "
                         f"least one a prior to sample (`globalfit check {config.source}` "
                         f"evaluates a fixed point)")


def _emcee(posterior, config, command, report, *, cores, progress, pool) -> bool:
    run_dir = Path(config.output)
    steps_before = stored_steps(run_dir)
    started = provenance.utc_now()
    result = run_emcee(posterior, config, run_dir, cores=cores, progress=progress, pool=pool)
    status = "complete" if result.complete else "interrupted"
    provenance.add_session(run_dir, command=command, argv=None, started=started,
                           steps_before=steps_before, steps_after=result.steps,
                           target=result.target_steps, status=status, posterior=posterior)
    report.info(format_diagnostics(result.diagnostics))
    report.info(f"wrote {run_dir / 'chain.h5'}, {run_dir / 'diagnostics.json'}, "
                f"{run_dir / 'provenance.json'}")
    if not result.complete:
        report.info(f"stopped at step {result.steps} of {result.target_steps}; continue with "
                    f"`globalfit resume {run_dir}`")
        return False
    write_results(run_dir, report)
    return True


def write_results(run_dir: Path, report: Reporter | None = None) -> None:
    """Summary table (``summary.csv``, ``summary.md``) and corner plot (``corner.png``) of a
    sampled run. A failure there is reported and does not undo the run (the chain is saved).
    """
    report = report or Reporter()
    for step in (write_summary, corner_plot):
        try:
            written = step(run_dir)
        except Exception as error:  # the chain is safe; say what failed and why
            report.warning(f"{step.__module__}.{step.__name__} failed: "
                           f"{type(error).__name__}: {error}")
            continue
        for path in (written if isinstance(written, tuple) else (written,)):
            pdf = Path(path).with_suffix(".pdf")
            report.info(f"wrote {path}" + (f" and {pdf}" if pdf != Path(path) and pdf.exists()
                                           else ""))


def _nested(posterior, config, command, report, *, cores, progress, pool) -> bool:
    """Evidence of each card region (or of the whole prior) by nested sampling; writes
    ``nested_<region>.h5``, ``evidence.csv`` and ``evidence.md``. A checkpoint
    ``nested_<region>.checkpoint`` per region lets a killed run continue."""
    del cores  # nested sampling parallelises through ``pool`` only
    run_dir = Path(config.output)
    started = provenance.utc_now()
    settings = config.sampler
    results = region_evidences(
        posterior, parse_regions(config.regions, posterior.parameters), output_dir=run_dir,
        engine=settings["engine"], n_live=settings["live_points"], seed=int(settings["seed"]),
        n_effective=settings["n_effective"], pool=pool, progress=progress)
    table = evidence_table(results)
    table.to_csv(run_dir / EVIDENCE_FILES[0], index=False, float_format="%.6g")
    text = evidence_markdown(table, config)
    (run_dir / EVIDENCE_FILES[1]).write_text(text)
    calls = sum(max(r.n_calls, 0) for r in results.values())
    provenance.add_session(run_dir, command=command, argv=None, started=started,
                           steps_before=0, steps_after=calls, target=calls, status="complete",
                           posterior=posterior)
    report.info(text)
    report.info("wrote " + ", ".join(str(run_dir / f"nested_{n}.h5") for n in results)
                + f", {run_dir / EVIDENCE_FILES[0]}, {run_dir / EVIDENCE_FILES[1]}")
    return True


def evidence_table(results: dict):
    """`globalfit.modes.region_masses` of nested results, with engine and calls."""
    table = region_masses({k: r.log_evidence for k, r in results.items()},
                          {k: r.log_evidence_err for k, r in results.items()})
    table["likelihood_calls"] = [results[k].n_calls for k in table["region"]]
    table["engine"] = [results[k].engine for k in table["region"]]
    return table


def evidence_markdown(table, config: RunConfig) -> str:
    """The evidence table as Markdown, with the regions' conditions."""
    lines = [f"# Evidence of run {config.name}", "",
             f"Nested sampling ({config.sampler['engine']}); posterior mass of a region "
             f"= Z_region / sum Z.", "",
             "| region | condition | ln Z | mass | ln B vs best |",
             "|---|---|---|---|---|"]
    for row in table.itertuples():
        condition = config.regions.get(row.region, "whole prior")
        lines.append(f"| {row.region} | {condition} | {row.log_evidence:.3f} +- "
                     f"{row.log_evidence_err:.3f} | {row.mass:.4f} +- {row.mass_err:.4f} | "
                     f"{row.ln_bayes_factor_vs_best:.3f} |")
    return "\n".join(lines) + "\n"


# --- scans ---------------------------------------------------------------------------------
def scan_card(config: RunConfig, *, force: bool = False, arguments: dict | None = None,
              report: Reporter | None = None) -> bool:
    """A card with ``scan:``: the profile chi^2 along the scanned parameter
    (`globalfit.scan`) instead of sampling; writes ``scan.csv``, ``config.yaml`` and
    ``provenance.json`` into the run folder."""
    report = report or Reporter()
    check_run_dir(config.output, force=force)
    check_output_writable(config.output)
    posterior = build_posterior(scan_config(config))
    with writing_run(config.output, "globalfit run", new=True):
        _scan_locked(config, posterior, force, arguments, report)
    return True


def _scan_locked(config, posterior, force, arguments, report) -> None:
    prepare_run(config, posterior, force=force, arguments=arguments)
    scan = config.scan
    others = [n for n in posterior.names if n != scan["parameter"]]
    report.info(f"globalfit run: {config.name}: scan of {scan['parameter']} from "
                f"{scan['from']:g} to {scan['to']:g} {scan['unit']} ({scan['points']} points, "
                f"{scan['spacing']}), profiling {', '.join(others) or 'nothing'}; "
                f"output {config.output}")
    started = provenance.utc_now()
    result = run_scan(config, seed=int(config.sampler.get("seed") or 0) % 2**32,
                      progress=f"scan {scan['parameter']}", posterior=posterior)
    path = write_scan(result, config.output)
    provenance.add_session(config.output, command="run", argv=None, started=started,
                           steps_before=0, steps_after=result.calls, target=result.calls,
                           status="complete", posterior=posterior)
    report.info(format_scan(result))
    report.info(f"wrote {path}, {config.output / 'config.yaml'}, "
                f"{config.output / 'provenance.json'}")
