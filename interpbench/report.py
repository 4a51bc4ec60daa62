"""Results as tables: one DataFrame row per run, a leaderboard, per-case tables."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from interpbench.schemas import SCHEMA_VERSION, RunResult

SCORE_COLUMNS = ["edge_auroc", "node_auroc", "edge_tpr", "edge_fpr", "node_tpr", "node_fpr", "faithfulness"]


@dataclass
class Loaded:
    frame: pd.DataFrame
    skipped: list[str] = field(default_factory=list)  # "file: why"


def load_results(folder: str | Path) -> Loaded:
    """Every valid record under ``folder``; invalid or newer-schema files are skipped by name."""
    rows, skipped = [], []
    for path in sorted(Path(folder).rglob("*.json")):
        try:
            raw = json.loads(path.read_text())
            version = raw.get("schema_version", 0) if isinstance(raw, dict) else 0
            if version > SCHEMA_VERSION:
                skipped.append(f"{path.name}: written by a newer schema (version {version})")
                continue
            result = RunResult.model_validate(raw)
        except (OSError, ValueError, ValidationError) as e:
            skipped.append(f"{path.name}: {str(e).splitlines()[0]}")
            continue
        row = {
            "file": path.name,
            "case": result.case,
            "loader": result.loader,
            "method": result.method,
            "seed": result.seed,
            "status": result.status,
            "error": result.error,
            "n_examples": result.n_examples,
            "method_seconds": result.timings.method_seconds if result.timings else None,
            "config": json.dumps(result.config, sort_keys=True),
        }
        row.update({name: result.metrics.get(name) for name in SCORE_COLUMNS})
        rows.append(row)
    frame = pd.DataFrame(rows, columns=None if rows else ["case", "loader", "method", "status", *SCORE_COLUMNS])
    return Loaded(frame, skipped)


def _case_order(cases) -> list:
    return sorted(cases, key=lambda c: (not str(c).isdigit(), int(c) if str(c).isdigit() else 0, str(c)))


def leaderboard(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean and median AUROC per method and loader, over cases, with the case count."""
    ok = frame[frame["status"] == "ok"]
    if ok.empty:
        return pd.DataFrame()
    per_case = ok.groupby(["method", "loader", "case"])[["edge_auroc", "node_auroc"]].mean().reset_index()
    table = per_case.groupby(["method", "loader"]).agg(
        cases=("case", "nunique"),
        edge_auroc_mean=("edge_auroc", "mean"),
        edge_auroc_median=("edge_auroc", "median"),
        node_auroc_mean=("node_auroc", "mean"),
        node_auroc_median=("node_auroc", "median"),
    )
    return table.sort_values(["edge_auroc_mean", "node_auroc_mean"], ascending=False).reset_index()


def per_case(frame: pd.DataFrame, metric: str = "edge_auroc") -> pd.DataFrame:
    """Cases as rows, methods (per loader) as columns, the metric averaged over seeds."""
    ok = frame[frame["status"] == "ok"]
    if ok.empty:
        return pd.DataFrame()
    table = ok.pivot_table(index="case", columns=["loader", "method"], values=metric, aggfunc="mean")
    table = table.reindex(_case_order(table.index))
    table.columns = [f"{method} ({loader})" for loader, method in table.columns]
    return table


def to_markdown(table: pd.DataFrame, digits: int = 3) -> str:
    """A GitHub table, without the optional `tabulate` dependency."""
    if table.empty:
        return "_no results_\n"
    frame = table.reset_index() if table.index.name else table
    header = [str(c) for c in frame.columns]

    def fmt(value) -> str:
        if isinstance(value, float):
            return "n/a" if pd.isna(value) else f"{value:.{digits}f}"
        return str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def render(folder: str | Path, fmt: str = "markdown", metric: str = "edge_auroc") -> tuple[str, list[str]]:
    """The report as text, and the files that were skipped."""
    loaded = load_results(folder)
    frame = loaded.frame
    board, cases = leaderboard(frame), per_case(frame, metric)
    failed = frame[frame["status"] == "failed"] if not frame.empty else frame
    if fmt == "csv":
        return frame.to_csv(index=False), loaded.skipped
    if fmt == "html":
        parts = ["<h1>interpbench report</h1>", "<h2>Leaderboard</h2>", board.to_html(index=False, float_format="%.3f"),
                 f"<h2>Per case: {metric}</h2>", cases.to_html(float_format="%.3f", na_rep="n/a")]
        if len(failed):
            parts += ["<h2>Failed runs</h2>", failed[["case", "loader", "method", "error"]].to_html(index=False)]
        return "\n".join(parts), loaded.skipped
    parts = [f"## Leaderboard ({len(frame)} runs)\n", to_markdown(board), f"\n## Per case: {metric}\n", to_markdown(cases)]
    if len(failed):
        parts += ["\n## Failed runs\n", to_markdown(failed[["case", "loader", "method", "error"]])]
    return "\n".join(parts), loaded.skipped
