"""Tables as text: compact rows of the Bayesian and profile tables, Markdown and LaTeX."""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd


# --- formatting ----------------------------------------------------------------------------
def _number(value: float, digits: int = 3) -> str:
    return "nan" if not np.isfinite(value) else f"{value:.{digits}g}"


def _ranges(group: pd.DataFrame, digits: int) -> str:
    if group["low"].isna().all():
        return "none"
    return " + ".join(f"[{_number(lo, digits)}, {_number(hi, digits)}]"
                      for lo, hi in zip(group["low"], group["high"]))


def profile_rows(table: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """Wide form of the long profile table: one row per parameter and region."""
    rows = []
    for (parameter, region), group in table.groupby(["parameter", "region"], sort=False):
        row = {"parameter": parameter, "region": region,
               "best fit": _number(group["best_fit"].iloc[0], digits)}
        for level, level_group in group.groupby("level", sort=False):
            row[f"{level} range"] = _ranges(level_group, digits)
        rows.append(row)
    return pd.DataFrame(rows)


def summary_rows(table: pd.DataFrame, digits: int = 3, kind: str = "hpd") -> pd.DataFrame:
    """Readable form of `summary_table`: intervals as ``[a, b]``, one kind (hpd or et)."""
    levels = sorted({c[len(kind):-4] for c in table.columns
                     if c.startswith(kind) and c.endswith("_low")}, key=int)
    rows = []
    for _, row in table.iterrows():
        out = {"region": row["region"], "mass": f"{row['mass']:.3f}" if math.isfinite(row["mass"]) else "-",
               "parameter": row["parameter"], "unit": row["unit"],
               "max posterior": _number(row["max_posterior"], digits),
               "median": _number(row["median"], digits)}
        if "profile_best_fit" in row:
            out["profile best fit"] = _number(row["profile_best_fit"], digits)
        for level in levels:
            low, high = row[f"{kind}{level}_low"], row[f"{kind}{level}_high"]
            text = f"[{_number(low, digits)}, {_number(high, digits)}]"
            limit_kind = row.get(f"limit{level}_kind", "two-sided")
            if limit_kind == "upper":
                text = f"< {_number(row[f'limit{level}'], digits)}"
            elif limit_kind == "lower":
                text = f"> {_number(row[f'limit{level}'], digits)}"
            out[f"{level}% {kind.upper()}"] = text
        rows.append(out)
    return pd.DataFrame(rows)


def to_markdown(table: pd.DataFrame, title: str | None = None) -> str:
    """A Markdown pipe table (no optional dependency)."""
    header = "| " + " | ".join(map(str, table.columns)) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    body = ["| " + " | ".join(map(str, row)) + " |" for row in table.itertuples(index=False)]
    lines = ([f"{title}", ""] if title else []) + [header, rule, *body]
    return "\n".join(lines) + "\n"


_LATEX_ESCAPES = {"_": r"\_", "%": r"\%", "&": r"\&", "#": r"\#"}


def _latex_cell(text: Any) -> str:
    text = str(text)
    if text.startswith("$") and text.endswith("$"):
        return text
    return "".join(_LATEX_ESCAPES.get(ch, ch) for ch in text)


def to_latex(table: pd.DataFrame, caption: str | None = None,
             labels: dict[str, str] | None = None) -> str:
    """A ``tabular`` (booktabs) of ``table``; ``labels`` maps parameter names to LaTeX."""
    labels = labels or {}
    lines = [r"\begin{table}", r"\centering"]
    if caption:
        lines.append(rf"\caption{{{_latex_cell(caption)}}}")
    lines += [r"\begin{tabular}{" + "l" * len(table.columns) + "}", r"\toprule",
              " & ".join(_latex_cell(c) for c in table.columns) + r" \\", r"\midrule"]
    for row in table.itertuples(index=False):
        cells = [f"${labels[v]}$" if isinstance(v, str) and v in labels else _latex_cell(v)
                 for v in row]
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


SUMMARY_HEADER = (
    "Bayesian summary: maximum-posterior sample, posterior median and highest-posterior-"
    "density (HPD, shortest) credible intervals; summary.csv also has equal-tailed (ET) "
    "intervals. A parameter whose posterior runs into a bound of its prior gets a one-sided "
    "limit instead (`< x`: x is the upper limit at that credibility). `mass` is the fraction "
    "of samples in the region (a posterior mass only if the sampler moved between regions)."
)
PROFILE_HEADER = (
    "Frequentist profile likelihood: best fit and 1-dof ranges where Delta chi^2 < 2.71 "
    "(90% CL) and < 9 (3 sigma), minimised over all other parameters; Delta chi^2 is "
    "counted from the global minimum."
)
