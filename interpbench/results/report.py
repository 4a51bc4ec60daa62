"""Results as tables: one DataFrame row per run, a leaderboard, per-case tables.

Records come from a sweep's folder (one JSON file per run) or from a records file
(``.jsonl``, one run per line), which ``archive`` writes: every record with what the
report reads (metrics, timings, the curves it plots and circuit sets it draws) and
without the per-edge scores and other curves, small enough to commit beside the report
it reproduces.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import pandas as pd
from pydantic import ValidationError

from interpbench.schemas import SCHEMA_VERSION, RunResult

CURVES = ("edge_roc", "node_roc")
SCORE_COLUMNS = [
    "edge_auroc", "node_auroc", "edge_tpr", "edge_fpr", "node_tpr", "node_fpr", "faithfulness",
    "edge_qkv_auroc", "edge_head_auroc", "edge_interpbench_auroc", "group_found", "group_selected",
]  # fmt: skip
BOOTSTRAP_RESAMPLES = 10_000
CIRCUIT_SETS = ("edge_tp", "edge_fp", "edge_fn")


@dataclass
class Loaded:
    frame: pd.DataFrame
    skipped: list[str] = field(default_factory=list)  # "file: why"


RECORDS_SUFFIX = ".jsonl"
#: the sets a records file keeps: what the report draws and lists (and of the curves, ``CURVES``)
ARCHIVED_SETS = (*CIRCUIT_SETS, "node_gt_constant")


def _raw_records(source: Path) -> Iterator[tuple[str, str | Exception]]:
    """(name, text) of every record in a results folder (its ``*.json`` files, by file) or a
    records file (one per line, named ``file:line``); an unreadable one comes as its error."""
    if source.is_dir():
        for path in sorted(source.rglob("*.json")):
            try:
                yield path.name, path.read_text()
            except OSError as e:
                yield path.name, e
        return
    if source.suffix != RECORDS_SUFFIX:
        raise ValueError(f"{source}: neither a results folder nor a records file ({RECORDS_SUFFIX})")
    for number, line in enumerate(source.read_text().splitlines(), 1):
        if line.strip():
            yield f"{source.name}:{number}", line


def _results(sources: Iterable[str | Path]) -> tuple[list[tuple[str, RunResult]], list[str]]:
    """Every valid record of ``sources`` by name, and the skipped ones ("name: why"): invalid
    text, and records of another schema version (other metric conventions). A run found
    twice (an archive and the sweep that adds to it) counts once, as its last source has it."""
    found: dict[tuple, tuple[str, RunResult]] = {}
    skipped = []
    for source in sources:
        for name, text in _raw_records(Path(source)):
            try:
                if isinstance(text, Exception):
                    raise text
                raw = json.loads(text)
                version = raw.get("schema_version", 0) if isinstance(raw, dict) else 0
                if version != SCHEMA_VERSION:
                    age = "newer" if isinstance(version, int) and version > SCHEMA_VERSION else "another"
                    skipped.append(
                        f"{name}: written by {age} schema (version {version!r}, this is {SCHEMA_VERSION}); "
                        "rerun the sweep"
                    )
                    continue
                result = RunResult.model_validate(raw)
            except (OSError, ValueError, ValidationError, RecursionError) as e:
                skipped.append(f"{name}: {(str(e).splitlines() or [type(e).__name__])[0]}")
                continue
            run = (result.case, result.loader, result.method, json.dumps(result.config, sort_keys=True),
                   result.seed, result.n_examples, result.positions)  # fmt: skip
            found.pop(run, None)  # re-inserted: the order is the last source's
            found[run] = (name, result)
    return list(found.values()), skipped


def archive(sources: Iterable[str | Path]) -> tuple[str, list[str]]:
    """The records of ``sources`` as a records file's text (one slim record per line, in a
    stable order), and the skipped ones. Per-edge scores are left out, so ``rescore`` cannot
    run on it: a new scoring convention needs the sweep's folder or a new sweep."""
    results, skipped = _results(sources)
    lines = sorted(
        r.model_copy(
            update={
                "scores": None,
                "sets": {k: v for k, v in r.sets.items() if k in ARCHIVED_SETS},
                "curves": {k: v for k, v in r.curves.items() if k in CURVES},
            }
        ).model_dump_json()
        for _, r in results
    )
    return "".join(line + "\n" for line in lines), skipped


def load_results(*sources: str | Path) -> Loaded:
    """Every valid record of ``sources`` (results folders and records files); invalid ones
    and records of another schema version (other metric conventions) are skipped by name."""
    rows = []
    results, skipped = _results(sources)
    for label, result in results:
        row = {
            "file": label,
            "case": result.case,
            "loader": result.loader,
            "method": result.method,
            "seed": result.seed,
            "status": result.status,
            "error": result.error,
            "n_examples": result.n_examples,
            "method_seconds": result.timings.method_seconds if result.timings else None,
            # per-position runs are a variant of their own ("acdc [positions=true]")
            "config": json.dumps({**result.config, "positions": result.positions}, sort_keys=True),
        }
        row.update({name: result.metrics.get(name) for name in SCORE_COLUMNS})
        row.update({name: result.curves.get(name) for name in CURVES})
        row["constant_circuit_nodes"] = ", ".join(result.sets.get("node_gt_constant", []))
        row.update({name: result.sets.get(name) for name in CIRCUIT_SETS})
        row["granularity"] = result.granularity
        rows.append(row)
    frame = pd.DataFrame(rows, columns=None if rows else ["case", "loader", "method", "status", *SCORE_COLUMNS])
    frame["variant"] = variants(frame)
    return Loaded(frame, skipped)


def variants(frame: pd.DataFrame) -> pd.Series:
    """Each run's method, and where the folder holds several configurations of it, the
    settings that tell them apart: ``acdc [ablation=resample]``. Different
    configurations of one method are never averaged together."""
    labels = frame["method"].astype(str).copy() if "method" in frame else pd.Series(dtype=str)
    if frame.empty or "config" not in frame:
        return labels
    for method, group in frame.groupby("method"):
        configs = {c: json.loads(c) for c in group["config"].unique()}
        if len(configs) < 2:
            continue
        keys = sorted({k for cfg in configs.values() for k in cfg})
        differing = [k for k in keys if len({json.dumps(cfg.get(k), sort_keys=True) for cfg in configs.values()}) > 1]
        if not differing:  # a record from before a setting existed: missing means its default, none
            continue
        for raw, cfg in configs.items():
            settings = ", ".join(
                f"{k}={json.dumps(cfg.get(k)) if not isinstance(cfg.get(k), str) else cfg[k]}" for k in differing
            )
            labels[(frame["method"] == method) & (frame["config"] == raw)] = f"{method} [{settings}]"
    return labels


def bootstrap_ci(
    values: list[float], statistic: str = "mean", level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean (or median) over ``values`` (cases
    resampled with replacement, ``BOOTSTRAP_RESAMPLES`` times, a fixed seed)."""
    import numpy as np

    xs = np.asarray([v for v in values if v is not None and not pd.isna(v)], dtype=float)
    if len(xs) == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    samples = xs[rng.integers(0, len(xs), size=(BOOTSTRAP_RESAMPLES, len(xs)))]
    stats = samples.mean(1) if statistic == "mean" else np.median(samples, 1)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(stats, [tail, 100 - tail])
    return float(low), float(high)


def _case_order(cases) -> list:
    return sorted(cases, key=lambda c: (not str(c).isdigit(), int(c) if str(c).isdigit() else 0, str(c)))


def leaderboard(frame: pd.DataFrame, metrics: tuple[str, ...] = ("edge_auroc", "node_auroc")) -> pd.DataFrame:
    """Per method variant and loader, over cases (seeds averaged first): the case count and,
    for each metric, mean and median with 95 % bootstrap intervals. Best mean first."""
    ok = frame[frame["status"] == "ok"]
    if ok.empty:
        return pd.DataFrame()
    keys = ["variant", "loader"]
    per_case = ok.groupby([*keys, "method", "case"])[list(metrics)].mean().reset_index()
    rows = []
    for (variant, loader, method), group in per_case.groupby([*keys, "method"]):
        row = {"method": method, "variant": variant, "loader": loader, "cases": group["case"].nunique()}
        for metric in metrics:
            values = group[metric].dropna().tolist()
            row[f"{metric}_mean"] = sum(values) / len(values) if values else float("nan")
            row[f"{metric}_mean_ci_low"], row[f"{metric}_mean_ci_high"] = bootstrap_ci(values, "mean")
            row[f"{metric}_median"] = float(pd.Series(values).median()) if values else float("nan")
            row[f"{metric}_median_ci_low"], row[f"{metric}_median_ci_high"] = bootstrap_ci(values, "median")
        rows.append(row)
    table = pd.DataFrame(rows)
    return table.sort_values([f"{m}_mean" for m in metrics], ascending=False, na_position="last").reset_index(drop=True)


def leaderboard_table(board: pd.DataFrame) -> pd.DataFrame:
    """The leaderboard for reading: each number with its interval, ``n/a`` where a metric
    does not apply (a node-level method has no edge AUROC)."""
    if board.empty:
        return board
    out = board[["variant", "loader", "cases"]].rename(columns={"variant": "method"})
    metrics = [c[: -len("_mean")] for c in board.columns if c.endswith("_mean")]
    for metric in metrics:
        for stat in ("mean", "median"):
            value, low, high = (board[f"{metric}_{stat}{suffix}"] for suffix in ("", "_ci_low", "_ci_high"))
            out[f"{metric.replace('_', ' ')} {stat} [95% CI]"] = [
                None if pd.isna(v) else f"{v:.3f} [{lo:.3f}, {hi:.3f}]" for v, lo, hi in zip(value, low, high)
            ]
    return out


CONVENTIONS = {
    "edge_auroc": "certified (headline)",
    "edge_qkv_auroc": "q/k/v level",
    "edge_head_auroc": "head level",
    "edge_interpbench_auroc": "InterpBench's evaluation",
}


def conventions(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean edge AUROC of each method variant under every scoring convention the records
    carry: how much of a ranking is the ruler rather than the method."""
    present = [c for c in CONVENTIONS if c in frame and frame[c].notna().any()]
    board = leaderboard(frame, tuple(present)) if present else pd.DataFrame()
    if board.empty:
        return board
    out = board[["variant", "loader", "cases"]].rename(columns={"variant": "method"})
    for c in present:
        out[f"{CONVENTIONS[c]} mean"] = board[f"{c}_mean"]
    return out


def per_case(frame: pd.DataFrame, metric: str = "edge_auroc") -> pd.DataFrame:
    """Cases as rows, methods (per loader) as columns, the metric averaged over seeds."""
    ok = frame[frame["status"] == "ok"]
    if ok.empty:
        return pd.DataFrame()
    table = ok.pivot_table(index="case", columns=["loader", "variant"], values=metric, aggfunc="mean")
    table = table.reindex(_case_order(table.index))
    table.columns = [f"{variant} ({loader})" for loader, variant in table.columns]
    if "edge_tp" in ok:  # the scored ground truth's size: found plus missed, at the certified level
        size = ok.apply(
            lambda r: len(r["edge_tp"]) + len(r["edge_fn"]) if isinstance(r["edge_tp"], list) else None, axis=1
        )
        table.insert(0, "circuit edges", size.groupby(ok["case"]).max().reindex(table.index))
    if "constant_circuit_nodes" in ok:
        # Circuit nodes whose output never varies over the data: invisible to ablations.
        constant = ok.groupby("case")["constant_circuit_nodes"].agg(lambda v: max(v, key=len))
        if constant.str.len().any():
            table["constant circuit nodes"] = constant.reindex(table.index)
    return table


def by_loader(frame: pd.DataFrame, metric: str = "edge_auroc") -> pd.DataFrame:
    """Each method variant's mean under every loader, over the cases that all of the folder's
    loaders have (paired): how a method fares on the hard track's models against the zoo's.
    Empty with fewer than two loaders."""
    ok = frame[frame["status"] == "ok"] if not frame.empty else frame
    if ok.empty or ok["loader"].nunique() < 2:
        return pd.DataFrame()
    per_case = ok.groupby(["variant", "loader", "case"])[metric].mean().dropna().reset_index()
    loaders = sorted(per_case["loader"].unique())
    shared = set.intersection(*(set(per_case.loc[per_case["loader"] == l, "case"]) for l in loaders))
    if not shared:
        return pd.DataFrame()
    table = per_case[per_case["case"].isin(shared)].pivot_table(
        index="variant", columns="loader", values=metric, aggfunc="mean"
    )
    table = table.reindex(columns=loaders)
    table.insert(0, "cases", len(shared))
    return table.sort_values(loaders[0], ascending=False).rename_axis("method").reset_index()


def loader_effects(frame: pd.DataFrame, metric: str = "edge_auroc", reference: str = "siit") -> pd.DataFrame:
    """Per method variant and loader other than ``reference``: how much the loader's models
    change the method's score against the reference loader's model of the same case (the
    hard track's structures against the zoo's plain model), over the cases both have: the
    mean change, the Wilcoxon signed-rank p of the paired differences and Vargha–Delaney's
    A12 (below 0.5: the structure's models score lower). Empty without the reference loader."""
    from scipy.stats import wilcoxon

    ok = frame[(frame["status"] == "ok") & frame[metric].notna()] if not frame.empty else frame
    if ok.empty or reference not in set(ok["loader"]) or ok["loader"].nunique() < 2:
        return pd.DataFrame()
    per_case = ok.groupby(["variant", "loader", "case"])[metric].mean()
    scored = set(per_case.index.droplevel(2))  # the (variant, loader) pairs with a score
    rows = []
    for variant in sorted(ok["variant"].unique()):
        if (variant, reference) not in scored:
            continue
        base = per_case.loc[(variant, reference)]
        for loader in sorted(set(ok["loader"]) - {reference}):
            if (variant, loader) not in scored:
                continue
            both = pd.concat([base, per_case.loc[(variant, loader)]], axis=1, keys=["ref", "other"]).dropna()
            if both.empty:
                continue
            xs, ys = both["other"].tolist(), both["ref"].tolist()
            differences = [x - y for x, y in zip(xs, ys)]
            rows.append(
                {
                    "method": variant,
                    "loader": loader,
                    "cases": len(both),
                    f"mean ({reference})": sum(ys) / len(ys),
                    "mean (loader)": sum(xs) / len(xs),
                    "mean change": sum(differences) / len(differences),
                    "wilcoxon_p": 1.0 if not any(differences) else float(wilcoxon(xs, ys).pvalue),
                    "a12": vargha_delaney_a12(xs, ys),
                }
            )
    return pd.DataFrame(rows)


def group_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Hard track: per method variant and loader, the mean share of the structured group
    ranked above every node outside the circuit (``group_found``) and in the method's own
    circuit (``group_selected``), over the models that have a group."""
    ok = frame[frame["status"] == "ok"] if not frame.empty else frame
    if ok.empty or "group_found" not in ok or ok["group_found"].isna().all():
        return pd.DataFrame()
    ok = ok[ok["group_found"].notna()]
    per_case = ok.groupby(["variant", "loader", "case"])[["group_found", "group_selected"]].mean().reset_index()
    table = per_case.pivot_table(
        index="variant", columns="loader", values=["group_found", "group_selected"], aggfunc="mean"
    )
    table.columns = [
        f"{'ranked' if stat == 'group_found' else 'selected'} ({loader})" for stat, loader in table.columns
    ]
    table.insert(0, "models", per_case.groupby("variant")["case"].count())
    return table.sort_index().rename_axis("method").reset_index()


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
        table = group.pivot_table(index="case", columns="variant", values=metric, aggfunc="mean")
        methods = sorted(table.columns)
        for i, a in enumerate(methods):
            for b in methods[i + 1 :]:
                both = table[[a, b]].dropna()
                if both.empty:
                    continue
                xs, ys = both[a].tolist(), both[b].tolist()
                differences = [x - y for x, y in zip(xs, ys)]
                p = 1.0 if not any(differences) else float(wilcoxon(xs, ys).pvalue)
                rows.append(
                    {
                        "loader": loader,
                        "method_a": a,
                        "method_b": b,
                        "cases": len(both),
                        f"mean_{metric}_a": sum(xs) / len(xs),
                        f"mean_{metric}_b": sum(ys) / len(ys),
                        "wilcoxon_p": p,
                        "a12": vargha_delaney_a12(xs, ys),
                    }
                )
    return pd.DataFrame(rows)


def plot_box(frame: pd.DataFrame, path: Path, metric: str = "edge_auroc") -> Path | None:
    """AUROC per method (one box per method and loader)."""
    ok = frame[(frame["status"] == "ok") & frame[metric].notna()]
    if ok.empty:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = sorted(ok.groupby(["variant", "loader"])[metric], key=lambda g: -g[1].mean())
    fig, ax = plt.subplots(figsize=(min(12.0, 1.2 * len(groups) + 2), 4.4))
    ax.boxplot([g[1].tolist() for g in groups], tick_labels=[f"{m}\n({l})" for (m, l), _ in groups])
    ax.tick_params(axis="x", labelrotation=25, labelsize=8)
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

    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    colours = [plt.get_cmap("tab20")(i) for i in range(20)]  # a dozen variants, none sharing a colour
    area = curve.replace("_roc", "_auroc")
    for i, row in enumerate(rows.itertuples()):
        points = monotone([tuple(p) for p in getattr(row, curve)])
        # The pessimistic staircase: TPR rises only once its FPR is reached.
        xs, ys = [0.0], [0.0]
        for x, y in points[1:]:
            xs += [x, x]
            ys += [ys[-1], y]
        auroc = getattr(row, area, None)
        label = f"{row.variant} ({row.loader})" + ("" if auroc is None or pd.isna(auroc) else f" {auroc:.3f}")
        style = ("-", "--", ":")[i // len(colours) % 3]
        ax.plot(xs, ys, style, color=colours[i % len(colours)], label=label)
    ax.plot([0, 1], [0, 1], ":", color="grey")
    ax.set_xlabel("FPR")
    ax.set_ylabel("TPR")
    ax.set_title(f"case {case}: {curve.replace('_', ' ')}")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)  # beside, not over, the curves
    fig.tight_layout()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def to_markdown(table: pd.DataFrame, digits: int = 3) -> str:
    """A GitHub table, without the optional `tabulate` dependency."""
    if table.empty:
        return "_no results_\n"
    frame = table.reset_index() if table.index.name else table
    header = [str(c) for c in frame.columns]

    def fmt(value, column: str) -> str:
        if value is None:
            return "n/a"
        if isinstance(value, float):
            if pd.isna(value):
                return "n/a"
            return f"{value:.2g}" if column.endswith("_p") else f"{value:.{digits}f}"  # p-values span magnitudes
        # a cell stays one cell: no pipe, no line break, no raw HTML
        text = " ".join(str(value).split()).replace("|", "\\|")
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(fmt(v, c) for v, c in zip(row, header)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def render(
    sources: str | Path | Sequence[str | Path], fmt: str = "markdown", metric: str = "edge_auroc"
) -> tuple[str, list[str]]:
    """The report of ``sources`` (results folders and records files) as text, and the
    records that were skipped."""
    loaded = load_results(*([sources] if isinstance(sources, (str, Path)) else sources))
    frame = loaded.frame
    if metric not in SCORE_COLUMNS:
        from interpbench.errors import UnknownName

        raise UnknownName("metric", metric, SCORE_COLUMNS)
    board, cases = leaderboard_table(leaderboard(frame)), per_case(frame, metric)
    rulers = conventions(frame) if not frame.empty else pd.DataFrame()
    stats = pairwise(frame, metric) if not frame.empty else pd.DataFrame()
    loaders = by_loader(frame, metric)
    effects = loader_effects(frame, metric)
    groups = group_table(frame)
    failed = frame[frame["status"] == "failed"] if not frame.empty else frame
    if fmt == "csv":
        columns = [c for c in frame.columns if c not in (*CURVES, *CIRCUIT_SETS)]
        return frame[columns].to_csv(index=False), loaded.skipped
    if fmt == "html":
        return _html(frame, board, rulers, stats, cases, failed, metric, loaders, groups, effects), loaded.skipped
    parts = [f"## Leaderboard ({len(frame)} runs)\n", to_markdown(board)]
    if not loaders.empty:
        parts += [f"\n## {metric} per loader, on the cases every loader has\n", to_markdown(loaders)]
    if not effects.empty:
        parts += [f"\n## What each loader's models change against siit's, case by case ({metric}; "
                  "Wilcoxon signed-rank p of the paired differences, Vargha–Delaney A12)\n", to_markdown(effects, 4)]  # fmt: skip
    if not groups.empty:
        parts += ["\n## Structured groups found (share of members ranked above every node outside the circuit; "
                  "share in the method's own circuit)\n", to_markdown(groups)]  # fmt: skip
    parts += [
        "\n## Edge AUROC under each scoring convention\n",
        to_markdown(rulers),
        f"\n## Pairwise comparisons ({metric}; Wilcoxon signed-rank, Vargha–Delaney A12)\n",
        to_markdown(stats, 4),
        f"\n## Per case: {metric}\n",
        to_markdown(cases),
    ]
    if len(failed):
        parts += ["\n## Failed runs\n", to_markdown(failed[["case", "loader", "method", "error"]])]
    return "\n".join(parts), loaded.skipped


def _html(frame, board, rulers, stats, cases, failed, metric: str, loaders=None, groups=None, effects=None) -> str:
    import tempfile

    from interpbench.results import report_html as h

    if frame.empty:
        return h.page("interpbench report", "No results in this folder.", [])
    levels = sorted({str(g) for g in frame.get("granularity", pd.Series(dtype=object)).dropna()})
    lede = (
        f"{len(frame)} runs over {frame['case'].nunique()} cases; loaders {', '.join(sorted(frame['loader'].unique()))}. "
        f"Edge metrics at each loader's certified granularity ({', '.join(levels) or 'n/a'}); "
        "intervals are 95 % bootstrap intervals over cases. Click a column to sort."
    )
    na = "no run, or not defined for it (a node-level method has no node-free edge score; no positives or negatives left)"
    with tempfile.TemporaryDirectory() as tmp:
        box = plot_box(frame, Path(tmp) / "box.png", metric)
        case_parts = [
            h.case_section(frame, case, plot_roc(frame, case, Path(tmp) / f"roc-{case}.png"))
            for case in _case_order(frame["case"].unique())
        ]
        sections = [
            ("Leaderboard", h.table(board, {c: na for c in board.columns}) + h.image(box, f"{metric} per method")),
            *(
                [(f"{metric} per loader, on the cases every loader has", h.table(loaders))]
                if loaders is not None and not loaders.empty
                else []
            ),
            *(
                [(f"What each loader's models change against siit's ({metric}: Wilcoxon p, A12)", h.table(effects))]
                if effects is not None and not effects.empty
                else []
            ),
            *([("Structured groups found", h.table(groups))] if groups is not None and not groups.empty else []),
            ("Edge AUROC under each scoring convention", h.table(rulers, {c: na for c in rulers.columns})),
            (f"Pairwise comparisons ({metric}: Wilcoxon signed-rank p, Vargha–Delaney A12)", h.table(stats)),
            (f"Per case: {metric}", h.table(cases, {c: na for c in cases.columns}, index=True)),
            ("Cases: ROC curves and the circuits found", "".join(case_parts)),
        ]
    if len(failed):
        sections.append(("Failed runs", h.table(failed[["case", "loader", "method", "error"]])))
    return h.page("interpbench report", lede, sections)
