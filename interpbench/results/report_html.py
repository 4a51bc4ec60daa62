"""The HTML report: a leaderboard people read, tables they can sort, circuits they can see.

One self-contained page (no network, no external script): the leaderboard with 95 %
intervals, the AUROC box plot, the pairwise statistics, the per-case table (``n/a``
with its reason on hover), and per case its ROC curves and, for each method, the
ground-truth circuit with the method's true positives, false positives and misses
drawn in. Every string that reaches the page is escaped.
"""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import pandas as pd

_SORT_SCRIPT = """
document.querySelectorAll('table.sortable th').forEach(function (th, col) {
  th.addEventListener('click', function () {
    var table = th.closest('table'), body = table.tBodies[0];
    var rows = Array.from(body.rows), asc = th.dataset.order !== 'asc';
    table.querySelectorAll('th').forEach(function (h) { delete h.dataset.order; });
    th.dataset.order = asc ? 'asc' : 'desc';
    rows.sort(function (a, b) {
      var x = a.cells[col].dataset.sort || a.cells[col].textContent;
      var y = b.cells[col].dataset.sort || b.cells[col].textContent;
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y, undefined, {numeric: true});
      return asc ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
});
"""

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
h1 { margin-bottom: 0.2em; } .lede { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.8em 0 1.6em; font-size: 0.9em; }
th, td { padding: 0.3em 0.7em; border-bottom: 1px solid #ddd; text-align: right; }
th { background: #f4f4f4; cursor: pointer; user-select: none; }
th[data-order=asc]::after { content: ' ▲'; } th[data-order=desc]::after { content: ' ▼'; }
td:first-child, th:first-child { text-align: left; }
td.na { color: #999; } td.best { font-weight: 600; background: #eef7ee; }
details { margin: 0.3em 0 1em; } summary { cursor: pointer; font-weight: 600; }
.case { border-top: 1px solid #ccc; padding-top: 0.6em; }
.circuits { display: flex; flex-wrap: wrap; gap: 1em; }
.circuit { border: 1px solid #ddd; padding: 0.3em; } .circuit p { margin: 0.2em; font-size: 0.85em; }
.legend span { margin-right: 1.2em; font-size: 0.85em; }
"""

_COLOURS = {"tp": "#2e7d32", "fp": "#ef6c00", "fn": "#c62828"}


def _cell(value, reason: str = "", column: str = "") -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return f'<td class="na" title="{html.escape(reason or "not defined for this run")}">n/a</td>'
    if isinstance(value, float):
        shown = f"{value:.2g}" if column.endswith("_p") else f"{value:.3f}"  # p-values span magnitudes
        return f'<td data-sort="{value:.6g}">{shown}</td>'
    text = str(value)
    sort = re.match(r"^(-?\d+(\.\d+)?)", text)
    attr = f' data-sort="{html.escape(sort.group(1))}"' if sort else ""
    return f"<td{attr}>{html.escape(text)}</td>"


def table(frame: pd.DataFrame, reasons: dict[str, str] | None = None, index: bool = False) -> str:
    """A sortable HTML table; ``reasons`` explains ``n/a`` per column."""
    if frame.empty:
        return "<p><em>no results</em></p>"
    frame = frame.reset_index() if index else frame
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for row in frame.itertuples(index=False):
        cells = "".join(_cell(v, (reasons or {}).get(str(c), ""), str(c)) for c, v in zip(frame.columns, row))
        rows.append(f"<tr>{cells}</tr>")
    return f'<table class="sortable"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def image(path: Path | None, alt: str) -> str:
    if path is None:
        return ""
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


# --- circuits as SVG -----------------------------------------------------------------------

_HEAD = re.compile(r"^blocks\.(\d+)\.attn\.hook_result\[(\d+)\]$")
_HEAD_IN = re.compile(r"^blocks\.(\d+)\.hook_([qkv])_input\[(\d+)\]$")
_MLP = re.compile(r"^blocks\.(\d+)\.hook_mlp_(in|out)$")
_OUT = re.compile(r"^blocks\.(\d+)\.hook_resid_post$")


def _node(name: str) -> tuple[str, tuple]:
    """The drawn node of a graph name (q/k/v inputs drawn at their head), and its place."""
    if m := _HEAD.match(name):
        return f"{m[1]}.{m[2]}", ("head", int(m[1]), int(m[2]))
    if m := _HEAD_IN.match(name):
        return f"{m[1]}.{m[3]}", ("head", int(m[1]), int(m[3]))
    if m := _MLP.match(name):
        return f"MLP {m[1]}", ("mlp", int(m[1]), 0)
    if _OUT.match(name):
        return "output", ("out", 0, 0)
    if name == "hook_pos_embed":
        return "pos", ("embed", -1, 1)
    return "embed", ("embed", -1, 0)


def circuit_svg(sets: dict[str, list[str]], n_layers: int, n_heads: int, title: str = "") -> str:
    """The ground truth with a method's hits: true positives green, false positives
    orange, misses red and dashed; every edge drawn at head level."""
    width, row, col = 70 + 64 * max(n_heads, 2), 78, 64
    height = row * (2 * n_layers + 2) + 20

    def place(kind: str, layer: int, index: int) -> tuple[float, float]:
        centre = width / 2
        if kind == "embed":
            return centre + (index - 0.5) * col * 1.6, height - 24
        if kind == "out":
            return centre, 22
        y = height - 24 - row * (2 * layer + (1 if kind == "head" else 2))
        x = 40 + col * index if kind == "head" else centre
        return x, y

    nodes: dict[str, tuple[float, float]] = {}
    lines = []
    for kind in ("tp", "fn", "fp"):
        for edge in sets.get(kind, []):
            s, _, r = edge.partition("->")
            (a, pa), (b, pb) = _node(s), _node(r)
            nodes[a], nodes[b] = place(*pa), place(*pb)
            (x1, y1), (x2, y2) = nodes[a], nodes[b]
            dash = ' stroke-dasharray="5,4"' if kind == "fn" else ""
            lines.append(
                f'<line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" stroke="{_COLOURS[kind]}" '
                f'stroke-width="2.2" marker-end="url(#arrow-{kind})"{dash}><title>{html.escape(edge)} ({kind})</title></line>'
            )
    circles = [
        f'<g><rect x="{x - 24:.0f}" y="{y - 11:.0f}" width="48" height="22" rx="6" fill="#f7f7f7" stroke="#888"/>'
        f'<text x="{x:.0f}" y="{y + 4:.0f}" font-size="11" text-anchor="middle">{html.escape(n)}</text></g>'
        for n, (x, y) in nodes.items()
    ]
    markers = "".join(
        f'<marker id="arrow-{k}" viewBox="0 0 10 10" refX="24" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{c}"/></marker>'
        for k, c in _COLOURS.items()
    )
    caption = f"<p>{html.escape(title)}</p>" if title else ""
    return (
        f'<div class="circuit">{caption}<svg width="{width:.0f}" height="{height:.0f}" role="img">'
        f"<defs>{markers}</defs>{''.join(lines)}{''.join(circles)}</svg></div>"
    )


def legend() -> str:
    return (
        '<p class="legend"><span style="color:#2e7d32">━ found (true positive)</span>'
        '<span style="color:#ef6c00">━ false positive</span>'
        '<span style="color:#c62828">╌ missed (false negative)</span></p>'
    )


def _shape(frame: pd.DataFrame) -> tuple[int, int]:
    """Layers and heads, from the node names a case's sets mention."""
    layers, heads = 1, 1
    for column in ("edge_tp", "edge_fp", "edge_fn"):
        for items in frame.get(column, pd.Series(dtype=object)).dropna():
            for name in (n for e in items for n in e.split("->")):
                if m := re.match(r"^blocks\.(\d+)\.", name):
                    layers = max(layers, int(m[1]) + 1)
                if m := re.search(r"\[(\d+)\]$", name):
                    heads = max(heads, int(m[1]) + 1)
    return layers, heads


def case_section(frame: pd.DataFrame, case: str, roc_png: Path | None) -> str:
    rows = frame[(frame["case"] == case) & (frame["status"] == "ok")]
    layers, heads = _shape(rows)
    pictures = []
    for row in rows.sort_values("variant").itertuples():
        sets = {
            k: list(getattr(row, f"edge_{k}"))
            for k in ("tp", "fp", "fn")
            if isinstance(getattr(row, f"edge_{k}", None), list)
        }
        if not sets:
            continue
        auroc = row.edge_auroc
        score = "n/a" if auroc is None or pd.isna(auroc) else f"{auroc:.3f}"
        title = f"{row.variant} ({row.loader}): edge AUROC {score}, {len(sets.get('tp', []))} found, " \
                f"{len(sets.get('fp', []))} false, {len(sets.get('fn', []))} missed at its threshold"  # fmt: skip
        pictures.append(circuit_svg(sets, layers, heads, title))
    roc = image(roc_png, f"ROC curves of case {case}")
    circuits = (
        f"<details open><summary>ground truth and the circuit each method selected</summary>{legend()}"
        f'<div class="circuits">{"".join(pictures)}</div></details>'
        if pictures
        else ""
    )
    return f'<div class="case"><h3>case {html.escape(str(case))}</h3>{roc}{circuits}</div>'


def page(title: str, lede: str, sections: list[tuple[str, str]]) -> str:
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1><p class='lede'>{html.escape(lede)}</p>",
    ]
    for heading, body in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>{body}")
    parts.append(f"<script>{_SORT_SCRIPT}</script></body></html>")
    return "\n".join(parts)
