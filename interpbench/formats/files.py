"""Reading and writing a file of scores, in either format, with one clear line for a bad file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from interpbench.errors import InterpbenchError
from interpbench.formats.mib import MIBGraph, read_mib, write_mib
from interpbench.graph import ComputationalGraph
from interpbench.model_files import read_regular
from interpbench.schemas import Scores, validation_summary
from interpbench.store import write_atomic

ScoresFormat = Literal["interpbench", "mib"]
MAX_SCORES_BYTES = 512 * 2**20


def read_scores(path: str | Path, graph: ComputationalGraph, fmt: str = "auto") -> Scores:
    """The ``Scores`` in a file: interpbench's ``Scores`` JSON or a MIB graph (``auto``: a
    JSON object with ``cfg`` and ``edges`` is a MIB graph)."""
    try:
        data = json.loads(read_regular(path, limit=MAX_SCORES_BYTES))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InterpbenchError(f"{path}: not JSON ({e})") from None
    if fmt == "auto":
        fmt = "mib" if isinstance(data, dict) and {"cfg", "edges"} <= set(data) else "interpbench"
    try:
        if fmt == "mib":
            return read_mib(MIBGraph.model_validate(data), graph)
        return Scores.model_validate(data)
    except ValidationError as e:
        raise InterpbenchError(f"{path}: not a {fmt} scores file: {validation_summary(e)}") from None


def graph_of(scores: Scores) -> ComputationalGraph:
    """The graph that edge ``scores`` of every edge cover (layers, heads, MLPs read off the names)."""
    names = [n for e in scores.edges for n in (e.sender, e.receiver)]
    layers = [int(m[1]) for n in names if (m := re.match(r"^blocks\.(\d+)\.", n))]
    heads = [int(m[1]) for n in names if (m := re.search(r"\[(\d+)\]$", n))]
    graph = ComputationalGraph(max(layers) + 1, max(heads) + 1, has_mlps=any(n.endswith("hook_mlp_out") for n in names))
    if {(e.sender, e.receiver) for e in scores.edges} != set(graph.edges):
        raise InterpbenchError("these scores do not cover one model's whole graph: cannot export them")
    return graph


def write_scores(scores: Scores, path: str | Path, fmt: ScoresFormat, cfg: dict[str, Any] | None = None) -> Path:
    """Write ``scores`` as interpbench's ``Scores`` JSON or as a MIB graph, atomically."""
    model = write_mib(scores, graph_of(scores), cfg or {}) if fmt == "mib" else scores
    text = model.model_dump_json(indent=1, exclude_none=fmt == "mib") + "\n"
    return write_atomic(path, lambda p: p.write_text(text))
