"""Results as tables: one DataFrame row per run, a leaderboard, per-case tables."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from interpbench.schemas import SCHEMA_VERSION, RunResult

CURVES = ("edge_roc", "node_roc")
SCORE_COLUMNS = ["edge_auroc", "node_auroc", "edge_tpr", "edge_fpr", "node_tpr", "node_fpr", "faithfulness"]


@dataclass
class Loaded:
    frame: pd.DataFrame
    skipped: list[str] = field(default_factory=list)  # "file: why"


def load_results(folder: str | Path) -> Loaded:
    """Every valid record under ``folder``; invalid files and records of another schema version
    (other metric conventions) are skipped by name."""
    rows, skipped = [], []
    for path in sorted(Path(folder).rglob("*.json")):
        try:
            raw = json.loads(path.read_text())
            version = raw.get("schema_version", 0) if isinstance(raw, dict) else 0
            if version != SCHEMA_VERSION:
                age = "newer" if isinstance(version, int) and version > SCHEMA_VERSION else "another"
                skipped.append(f"{path.name}: written by {age} schema (version {version!r}, this is {SCHEMA_VERSION}); rerun the sweep")
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
        row.update({name: result.curves.get(name) for name in CURVES})
        row["constant_circuit_nodes"] = ", ".join(result.sets.get("node_gt_constant", []))
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
    if "constant_circuit_nodes" in ok:
        # Circuit nodes whose output never varies over the data: invisible to ablations.
        constant = ok.groupby("case")["constant_circuit_nodes"].agg(lambda v: max(v, key=len))
        if constant.str.len().any():
            table["constant circuit nodes"] = constant.reindex(table.index)
    return table


def vargha_delaney_a12(xs: list[float], ys: list[float]) -> float:
    """P(X > Y) + 0.5 P(X = Y) for X from xs and Y from ys: 0.5 means no effect."""
    greater = sum((x > y) + 0.5 * (x == y) for x in xs for y in ys)
    return greater / (len(xs) * len(ys))


def pairwise(frame: pd.DataFrame, metric: str = "edge_auroc") -> pd.DataFrame:
    """Every pair of methods (per loader) over the cases both scored: the Wilcoxon
    signed-rank p-value of the paired differences and Vargha–Delaney's A12, as the
    InterpBench paper compares methods."""
    from scipy.stats import wilcoxon

    ok = frame[(frame["status"] == "ok") & frame[metric].notna()]
    rows = []
    for loader, group in ok.groupby("loader"):
        table = group.pivot_table(index="case", columns="method", values=metric, aggfunc="mean")
        methods = sorted(table.columns)
        for i, a in enumerate(methods):
            for b in methods[i + 1 :]:
                both = table[[a, b]].dropna()
                if both.empty:
                    continue
                xs, ys = both[a].tolist(), both[b].tolist()
                differences = [x - y for x, y in zip(xs, ys)]
                p = 1.0 if not any(differences) else float(wilcoxon(xs, ys).pvalue)
                rows.append({
                    "loader": loader, "method_a": a, "method_b": b, "cases": len(both),
                    f"mean_{metric}_a": sum(xs) / len(xs), f"mean_{metric}_b": sum(ys) / len(ys),
                    "wilcoxon_p": p, "a12": vargha_delaney_a12(xs, ys),
                })
    return pd.DataFrame(rows)


def plot_box(frame: pd.DataFrame, path: Path, metric: str = "edge_auroc") -> Path | None:
    """AUROC per method (one box per method and loader)."""
    ok = frame[(frame["status"] == "ok") & frame[metric].notna()]
    if ok.empty:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = sorted(ok.groupby(["method", "loader"])[metric], key=lambda g: -g[1].mean())
    fig, ax = plt.subplots(figsize=(1.6 * len(groups) + 2, 4))
    ax.boxplot([g[1].tolist() for g in groups], tick_labels=[f"{m}\n({l})" for (m, l), _ in groups])
    ax.set_ylabel(metric)
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"{metric} per method over cases")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_roc(frame: pd.DataFrame, case: str, path: Path, curve: str = "edge_roc") -> Path | None:
    """ROC curves of every method on one case."""
    rows = frame[(frame["case"] == case) & (frame["status"] == "ok") & frame[curve].notna()]
    if rows.empty:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from interpbench.scoring import monotone

    fig, ax = plt.subplots(figsize=(4.2, 4))
    for row in rows.itertuples():
        points = monotone([tuple(p) for p in getattr(row, curve)])
        # The pessimistic staircase: TPR rises only once its FPR is reached.
        xs, ys = [0.0], [0.0]
        for x, y in points[1:]:
            xs += [x, x]
            ys += [ys[-1], y]
        ax.plot(xs, ys, label=f"{row.method} ({row.loader})", drawstyle="default")
    ax.plot([0, 1], [0, 1], ":", color="grey")
    ax.set_xlabel("FPR")
    ax.set_ylabel("TPR")
    ax.set_title(f"case {case}: {curve.replace('_', ' ')}")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


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


def _img(path: Path | None) -> str:
    import base64

    if path is None:
        return ""
    return f'<img src="data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()}">'


def render(folder: str | Path, fmt: str = "markdown", metric: str = "edge_auroc") -> tuple[str, list[str]]:
    """The report as text, and the files that were skipped."""
    import tempfile

    loaded = load_results(folder)
    frame = loaded.frame
    board, cases = leaderboard(frame), per_case(frame, metric)
    stats = pairwise(frame, metric) if not frame.empty else pd.DataFrame()
    failed = frame[frame["status"] == "failed"] if not frame.empty else frame
    if fmt == "csv":
        columns = [c for c in frame.columns if c not in CURVES]
        return frame[columns].to_csv(index=False), loaded.skipped
    if fmt == "html":
        with tempfile.TemporaryDirectory() as tmp:
            box = plot_box(frame, Path(tmp) / "box.png", metric) if not frame.empty else None
            rocs = [plot_roc(frame, case, Path(tmp) / f"roc-{case}.png") for case in _case_order(frame["case"].unique())] if not frame.empty else []
            parts = [
                "<html><head><meta charset='utf-8'><title>interpbench report</title></head><body>",
                "<h1>interpbench report</h1>", "<h2>Leaderboard</h2>", board.to_html(index=False, float_format="%.3f"),
                _img(box), "<h2>Pairwise comparisons</h2>", stats.to_html(index=False, float_format="%.4g"),
                f"<h2>Per case: {metric}</h2>", cases.to_html(float_format="%.3f", na_rep="n/a"),
                "<h2>ROC curves</h2>", "".join(_img(p) for p in rocs),
            ]
        if len(failed):
            parts += ["<h2>Failed runs</h2>", failed[["case", "loader", "method", "error"]].to_html(index=False)]
        return "\n".join(parts + ["</body></html>"]), loaded.skipped
    parts = [f"## Leaderboard ({len(frame)} runs)\n", to_markdown(board),
             f"\n## Pairwise comparisons ({metric}; Wilcoxon signed-rank, Vargha–Delaney A12)\n", to_markdown(stats, 4),
             f"\n## Per case: {metric}\n", to_markdown(cases)]
    if len(failed):
        parts += ["\n## Failed runs\n", to_markdown(failed[["case", "loader", "method", "error"]])]
    return "\n".join(parts), loaded.skipped
