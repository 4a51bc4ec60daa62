"""Published edge names (ACDC hooks, head-level and head-internal edges) to our circuit, and back."""

from __future__ import annotations

import re
from typing import Any

from interpbench import graph as g
from interpbench.errors import InterpbenchError
from interpbench.formats.interpbench_dir.layout import EDGES_FILE

_HEAD_INTERNAL = re.compile(r"^blocks\.(\d+)\.attn\.hook_(q|k|v|z|result|pattern|attn_scores)\[(\d+)\]$")
_QKV_IN = re.compile(r"^blocks\.(\d+)\.hook_(q|k|v)_input\[(\d+)\]$")
_HEAD_OUT = re.compile(r"^blocks\.(\d+)\.attn\.hook_result\[(\d+)\]$")
_MLP_OUT = re.compile(r"^blocks\.(\d+)\.hook_mlp_out$")
_MLP_IN = re.compile(r"^blocks\.(\d+)\.(hook_mlp_in|mlp\.hook_pre)$")
_RESID_POST = re.compile(r"^blocks\.(\d+)\.hook_resid_post$")
_RESID_PRE0 = "blocks.0.hook_resid_pre"


def _component(name: str) -> tuple | None:
    """The head or MLP a node belongs to (to recognise head/MLP-internal edges)."""
    for pattern in (_QKV_IN, _HEAD_INTERNAL):
        if m := pattern.match(name):
            return ("head", int(m[1]), int(m[3]))
    if m := (_MLP_OUT.match(name) or _MLP_IN.match(name)):
        return ("mlp", int(m[1]))
    if m := re.match(r"^blocks\.(\d+)\.mlp\.hook_post$", name):
        return ("mlp", int(m[1]))
    return None


def _senders(name: str) -> list[str]:
    if name in (g.EMBED, g.POS_EMBED):
        return [name]
    if name == _RESID_PRE0:  # ACDC without use_pos_embed: both embeddings
        return [g.EMBED, g.POS_EMBED]
    if _HEAD_OUT.match(name) or _MLP_OUT.match(name):
        return [name]
    if m := re.match(r"^blocks\.(\d+)\.mlp\.hook_post$", name):
        return [g.mlp_out(int(m[1]))]
    raise ValueError(f"unknown sender node {name!r}")


def _receivers(name: str, last_layer: int) -> list[str]:
    if _QKV_IN.match(name):
        return [name]
    if m := _MLP_IN.match(name):
        return [g.mlp_in(int(m[1]))]
    if m := _HEAD_OUT.match(name):  # head-level edge: the head reads through q, k and v
        return [g.head_in(int(m[1]), int(m[2]), x) for x in "qkv"]
    if m := _MLP_OUT.match(name):  # head-level edge into an MLP
        return [g.mlp_in(int(m[1]))]
    if _RESID_POST.match(name):  # the final residual stream (HL edges name the HL's last layer)
        return [g.resid_post(last_layer)]
    raise ValueError(f"unknown receiver node {name!r}")


def published_to_edges(edges: Any, n_layers: int, *, source: str = EDGES_FILE) -> tuple[set[tuple[str, str]], bool]:
    """Published edges -> our edge set, and whether any published edge stood for several of ours.

    Head-internal edges (``hook_q_input[H] -> attn.hook_q[H]``, ``hook_mlp_in -> hook_mlp_out``)
    are dropped: our graph's receivers already are the heads' q/k/v inputs. Head-level
    edges (into ``attn.hook_result[H]``) expand to the head's q, k and v inputs;
    ``blocks.0.hook_resid_pre`` expands to ``hook_embed`` and ``hook_pos_embed``;
    ``blocks.L.hook_resid_post`` becomes the last layer's.
    """
    if not isinstance(edges, (list, tuple, set, frozenset)):
        raise InterpbenchError(f"{source}: expected a list of (sender, receiver) edges, got {type(edges).__name__}")
    out: set[tuple[str, str]] = set()
    expanded = False
    for edge in edges:
        if not (isinstance(edge, (tuple, list)) and len(edge) == 2 and all(isinstance(n, str) for n in edge)):
            raise InterpbenchError(f"{source}: an edge is not a (sender, receiver) pair of strings: {edge!r}")
        s, r = edge
        cs, cr = _component(s), _component(r)
        if cs is not None and cs == cr:
            continue  # internal to one head or MLP
        try:
            senders, receivers = _senders(s), _receivers(r, n_layers - 1)
        except ValueError as e:
            raise InterpbenchError(f"{source}: {e}") from None
        expanded |= len(senders) > 1 or len(receivers) > 1
        out |= {(a, b) for a in senders for b in receivers}
    return out, expanded


def edges_to_published(edge_set: set[tuple[str, str]]) -> list[tuple[str, str]]:
    """Our edge set -> InterpBench's edge list (with the q/k/v-internal edges it lists)."""
    edges = sorted(edge_set)
    internal = sorted({(r, f"blocks.{m[1]}.attn.hook_{m[2]}[{m[3]}]") for _, r in edges if (m := _QKV_IN.match(r))})
    return [(s, r) for s, r in edges] + internal
