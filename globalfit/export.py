"""Export a run's chain for other tools: GetDist text chains and ArviZ ``InferenceData``.

GetDist (Lewis, arXiv:1910.13970) reads ``<root>.txt`` (columns: weight, ``-ln posterior``,
then the parameters) with ``<root>.paramnames`` (name and LaTeX label per line; derived
quantities marked with a trailing ``*``). Values are written in display units (degrees,
MeV, ...) as in the run card. ArviZ receives one chain per walker, internal and display
units both recorded.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from globalfit.results import RunResult, load_run


def _getdist_name(name: str) -> str:
    """GetDist names allow letters, digits and underscores."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def write_getdist(result: RunResult, root: str | Path) -> tuple[Path, Path]:
    """Write ``root.txt`` and ``root.paramnames``; return both paths."""
    root = Path(root)
    root.parent.mkdir(parents=True, exist_ok=True)
    samples = result.samples
    derived = [c for c in samples.columns if c.startswith("derived.")]
    names = result.names + derived
    columns = [np.ones(len(samples)), -result.flat_log_prob] + [samples[n].to_numpy() for n in names]
    table = np.column_stack(columns)
    keep = np.all(np.isfinite(table), axis=1)
    np.savetxt(root.with_suffix(".txt"), table[keep], fmt="%.10e")
    latex = {p.name: p.latex or p.name for p in result.parameters}
    lines = [f"{_getdist_name(n)}\t{latex[n]}" for n in result.names]
    lines += [f"{_getdist_name(n)}*\t{n.removeprefix('derived.')}" for n in derived]
    root.with_suffix(".paramnames").write_text("\n".join(lines) + "\n")
    return root.with_suffix(".txt"), root.with_suffix(".paramnames")


def to_arviz(result: RunResult):
    """ArviZ ``InferenceData``: posterior (display units), log posterior and chi^2 blobs in
    ``sample_stats``; chains = walkers. Needs ``pip install arviz``."""
    try:
        import arviz
    except ImportError as error:
        raise ImportError("ArviZ export needs `pip install arviz`") from error
    chain = np.swapaxes(result.chain, 0, 1)  # (walkers, steps, parameters)
    posterior = {p.name: p.from_internal(chain[..., i]) for i, p in enumerate(result.parameters)}
    n_walkers, n_steps = chain.shape[:2]
    stats = {"lp": np.swapaxes(result.log_prob, 0, 1)}
    for column in result.blobs.columns:
        values = result.blobs[column].to_numpy().reshape(n_steps, n_walkers)
        stats[column.replace(".", "_")] = values.T
    return arviz.from_dict(posterior=posterior, sample_stats=stats,
                           attrs={"run": str(result.run_dir), "units": "display units of the run card"})


def export_run(run_dir: str | Path, formats=("getdist",), output: str | Path | None = None) -> list[Path]:
    """Export ``run_dir`` in the given formats (``getdist``, ``arviz`` (NetCDF))."""
    result = load_run(run_dir)
    out = Path(output) if output else Path(run_dir) / "export"
    written = []
    for fmt in formats:
        if fmt == "getdist":
            written += write_getdist(result, out / Path(run_dir).name)
        elif fmt == "arviz":
            out.mkdir(parents=True, exist_ok=True)
            path = out / f"{Path(run_dir).name}.nc"
            to_arviz(result).to_netcdf(str(path))
            written.append(path)
        else:
            raise ValueError(f"--export: unknown format {fmt!r}; allowed: getdist, arviz")
    return written
