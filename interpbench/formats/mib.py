"""The EAP-IG / MIB circuit-track graph JSON, as EAP-IG's ``Graph.to_json`` writes it.

    {"cfg": {"n_layers": 2, "n_heads": 4, ...},
     "nodes": {"input": {"in_graph": true}, "a0.h1": {"in_graph": true, "score": 0.3}, ...},
     "edges": {"input->a0.h1<q>": {"score": 0.7, "in_graph": true}, "a0.h1->m0": {...}, ...}}

Node names and ours:

| MIB | interpbench sender | interpbench receiver |
|---|---|---|
| ``input`` | ``hook_embed`` and ``hook_pos_embed`` (MIB has one input node: the embeddings' sum) | - |
| ``a{L}.h{H}`` | ``blocks.L.attn.hook_result[H]`` | ``blocks.L.hook_{q,k,v}_input[H]`` (edge suffix ``<q>``, ``<k>``, ``<v>``) |
| ``m{L}`` | ``blocks.L.hook_mlp_out`` | ``blocks.L.hook_mlp_in`` |
| ``logits`` | - | ``blocks.{n_layers-1}.hook_resid_post`` |

Reading gives an edge from ``input`` to both embedding senders (same score, same
``in_graph``); writing merges them into one ``input`` edge with the larger score, in the
graph when either is.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from interpbench.errors import InterpbenchError
from interpbench.graph import EMBED, POS_EMBED, ComputationalGraph, edge_key, head_in, head_out, mlp_in, mlp_out
from interpbench.graph import resid_post as resid_post_of
from interpbench.schemas import EdgeScore, Scores, Strict

_HEAD = re.compile(r"^a(\d+)\.h(\d+)$")
_MLP = re.compile(r"^m(\d+)$")
_EDGE = re.compile(r"^(?P<parent>[^>]+)->(?P<child>[^<]+)(?:<(?P<qkv>[qkv])>)?$")


class MIBNode(Strict):
    in_graph: bool
    score: float | None = None
    neurons: list[bool] | None = None  # neuron-level circuits: read, not used
    neurons_scores: list[float | None] | None = None


class MIBEdge(Strict):
    score: float
    in_graph: bool


class MIBGraph(Strict):
    """A circuit (or a method's scores) in the EAP-IG / MIB graph JSON."""

    cfg: dict[str, Any] = Field(description="The model's configuration (n_layers, n_heads, ...).")
    nodes: dict[str, MIBNode]
    edges: dict[str, MIBEdge] = Field(description="'parent->child' or 'parent->a{L}.h{H}<q|k|v>' edge names.")


def _senders(name: str) -> list[str]:
    if name == "input":
        return [EMBED, POS_EMBED]
    if m := _HEAD.match(name):
        return [head_out(int(m[1]), int(m[2]))]
    if m := _MLP.match(name):
        return [mlp_out(int(m[1]))]
    raise ValueError(f"unknown sender node {name!r}")


def _receiver(name: str, qkv: str | None, n_layers: int) -> str:
    if name == "logits" and qkv is None:
        return resid_post_of(n_layers - 1)
    if (m := _HEAD.match(name)) and qkv:
        return head_in(int(m[1]), int(m[2]), qkv)
    if (m := _MLP.match(name)) and qkv is None:
        return mlp_in(int(m[1]))
    raise ValueError(f"unknown receiver {name!r}" + (f" with <{qkv}>" if qkv else ""))


def read_mib(graph_json: MIBGraph, graph: ComputationalGraph) -> Scores:
    """Edge ``Scores`` on ``graph`` from a MIB graph; its ``in_graph`` edges are ``selected``."""
    if (graph_json.cfg.get("n_layers"), graph_json.cfg.get("n_heads")) not in (
        (graph.n_layers, graph.n_heads),
        (None, None),
    ):
        raise InterpbenchError(
            f"the MIB graph is of a model with {graph_json.cfg.get('n_layers')} layers x {graph_json.cfg.get('n_heads')} "
            f"heads, not this case's {graph.n_layers} x {graph.n_heads}"
        )
    scored: dict[str, float] = {}
    selected = set()
    for name, edge in graph_json.edges.items():
        m = _EDGE.match(name)
        try:
            if m is None:
                raise ValueError("not 'parent->child' or 'parent->child<q|k|v>'")
            receiver = _receiver(m["child"], m["qkv"], graph.n_layers)
            for sender in _senders(m["parent"]):
                scored[edge_key(sender, receiver)] = edge.score
                if edge.in_graph:
                    selected.add(edge_key(sender, receiver))
        except ValueError as e:
            raise InterpbenchError(f"MIB edge {name!r}: {e}") from None
    known = {edge_key(s, r): (s, r) for s, r in graph.edges}
    unknown = set(scored) - set(known)
    if unknown:
        raise InterpbenchError(f"the MIB graph has {len(unknown)} edges this model's graph lacks (e.g. {min(unknown)})")
    edges = [EdgeScore(sender=s, receiver=r, score=scored[key]) for key, (s, r) in known.items() if key in scored]
    return Scores(level="edge", edges=edges, selected=sorted(selected))


def _mib_name(node: str) -> str:
    if node in (EMBED, POS_EMBED):
        return "input"
    if m := re.match(r"^blocks\.(\d+)\.attn\.hook_result\[(\d+)\]$", node):
        return f"a{m[1]}.h{m[2]}"
    if m := re.match(r"^blocks\.(\d+)\.hook_(?P<qkv>[qkv])_input\[(\d+)\]$", node):
        return f"a{m[1]}.h{m[3]}<{m['qkv']}>"
    if m := re.match(r"^blocks\.(\d+)\.hook_mlp_(in|out)$", node):
        return f"m{m[1]}"
    if node.endswith("hook_resid_post"):
        return "logits"
    raise ValueError(f"no MIB name for {node!r}")


def write_mib(scores: Scores, graph: ComputationalGraph, cfg: dict[str, Any]) -> MIBGraph:
    """A MIB graph of edge ``scores`` (``selected``, when given, is ``in_graph``; otherwise
    every edge is)."""
    if scores.level != "edge":
        raise InterpbenchError("the MIB graph format holds edge scores: this run has node scores")
    chosen = None if scores.selected is None else set(scores.selected)
    edges: dict[str, MIBEdge] = {}
    for e in scores.edges:
        receiver = _mib_name(e.receiver)
        head, _, qkv = receiver.partition("<")
        name = f"{_mib_name(e.sender)}->{head}" + (f"<{qkv}" if qkv else "")
        in_graph = chosen is None or edge_key(e.sender, e.receiver) in chosen
        if name in edges:  # the two embeddings: one MIB input node
            in_graph = in_graph or edges[name].in_graph
            edges[name] = MIBEdge(score=max(edges[name].score, e.score), in_graph=in_graph)
        else:
            edges[name] = MIBEdge(score=e.score, in_graph=in_graph)
    used = {n for name in edges if edges[name].in_graph for n in re.split(r"->|<", name)[:2]}
    names = ["input"] + [_mib_name(n) for n in graph.nodes] + ["logits"]
    nodes = {n: MIBNode(in_graph=n in used or n == "logits") for n in names}
    return MIBGraph(cfg={"n_layers": graph.n_layers, "n_heads": graph.n_heads, **cfg}, nodes=nodes, edges=edges)
