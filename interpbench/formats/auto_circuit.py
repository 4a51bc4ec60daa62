"""auto-circuit's prune scores (UFO-101/auto-circuit 1.0.1), as ``patchable_model(model,
factorized=True, separate_qkv=True, seq_len=None)`` lays them out for a HookedTransformer.

``PruneScores`` is a dict from each destination module's name to a tensor with one score per
incoming edge (``auto_circuit/types.py``): ``[n_heads, n_sources]`` for the q/k/v inputs,
``[n_sources]`` for an MLP's input and for ``Resid End``, where ``n_sources`` counts the
sources before that destination. An edge sits at ``[head_idx, src_idx]`` (or ``[src_idx]``),
``src_idx`` numbering the sources in order: ``Resid Start``, then per layer its heads and its
MLP (``auto_circuit/model_utils/transformer_lens_utils.py``, mask shapes in
``make_model_patchable``, ``auto_circuit/utils/graph_utils.py``).

| auto-circuit node (module) | interpbench sender | interpbench receiver |
|---|---|---|
| ``Resid Start`` (``blocks.0.hook_resid_pre``) | ``hook_embed`` and ``hook_pos_embed`` | - |
| ``A{L}.{H}`` (``blocks.L.attn.hook_result``) | ``blocks.L.attn.hook_result[H]`` | - |
| ``A{L}.{H}.Q``/``.K``/``.V`` (``blocks.L.hook_{q,k,v}_input``) | - | ``blocks.L.hook_{q,k,v}_input[H]`` |
| ``MLP {L}`` (``blocks.L.hook_mlp_out`` / ``blocks.L.hook_mlp_in``) | ``blocks.L.hook_mlp_out`` | ``blocks.L.hook_mlp_in`` |
| ``Resid End`` (``blocks.{n_layers-1}.hook_resid_post``) | - | ``blocks.{n_layers-1}.hook_resid_post`` |

auto-circuit ranks edges by ``|score|`` (``prune.py``: ``patch_mask.abs() >= threshold``), so
reading takes the absolute value; writing shifts every score up by the lowest one when any
is negative, which keeps their order under ``|score|``. Reading gives both embedding edges
the ``Resid Start`` edge's score; writing merges them into it with the larger score. The
selected circuit travels beside the tensors as auto-circuit edge names (``Edge.name``,
``"{src}->{dest}"``). Pure Python: the files' containers are read in ``files.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from interpbench.errors import InterpbenchError
from interpbench.graph import EMBED, POS_EMBED, ComputationalGraph, Receiver, Sender, edge_key
from interpbench.schemas import EdgeScore, Scores

RESID_START = "Resid Start"
RESID_END = "Resid End"
SELECTED = "selected"  # the one key beside the destination modules
_NAME_PATTERN = r"^(blocks\.\d+\.hook_([qkv]_input|mlp_in|resid_post)|selected)$"


class AutoCircuitScores(BaseModel):
    """auto-circuit's PruneScores as JSON: each destination module's name (``blocks.L.hook_q_input``,
    ``blocks.L.hook_mlp_in``, ``blocks.{n_layers-1}.hook_resid_post``, ...) to its incoming edges'
    scores, ``[n_heads][n_sources]`` for a q/k/v input and ``[n_sources]`` otherwise."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={"propertyNames": {"pattern": _NAME_PATTERN}},
    )
    __pydantic_extra__: dict[str, list[float] | list[list[float]]] = Field(init=False)
    selected: list[str] | None = Field(
        None, description="The selected circuit, as auto-circuit edge names ('A0.1->A1.0.Q', 'Resid Start->MLP 0')."
    )


@dataclass(frozen=True)
class Slot:
    """One entry of a PruneScores tensor: an auto-circuit edge and the edges of ours it stands for."""

    module: str
    index: tuple[int, ...]
    name: str
    senders: tuple[str, ...]
    receiver: str


def _source_name(sender: Sender) -> str:
    if sender.kind == "head":
        return f"A{sender.layer}.{sender.head}"
    if sender.kind == "mlp":
        return f"MLP {sender.layer}"
    return RESID_START


def _dest(receiver: Receiver) -> tuple[str, str]:
    """auto-circuit's (node name, module name) of a receiver of ours."""
    if receiver.kind in ("q", "k", "v"):
        return (
            f"A{receiver.layer}.{receiver.head}.{receiver.kind.upper()}",
            f"blocks.{receiver.layer}.hook_{receiver.kind}_input",
        )
    if receiver.kind == "mlp":
        return f"MLP {receiver.layer}", receiver.name
    return RESID_END, receiver.name


def layout(graph: ComputationalGraph) -> tuple[dict[str, tuple[int, ...]], list[Slot]]:
    """The shape of each destination module's tensor, and every entry's edges."""
    shapes: dict[str, tuple[int, ...]] = {}
    slots = []
    for receiver in graph.receivers:
        dest, module = _dest(receiver)
        # Resid Start first, then ours in order: auto-circuit numbers its sources the same way
        sources = [s for s in graph.senders if s.kind not in ("embed", "pos_embed") and graph.feeds(s, receiver)]
        head = () if receiver.head is None else (receiver.head,)
        shapes[module] = (graph.n_heads, len(sources) + 1) if head else (len(sources) + 1,)
        slots.append(Slot(module, (*head, 0), f"{RESID_START}->{dest}", (EMBED, POS_EMBED), receiver.name))
        for src_idx, sender in enumerate(sources, start=1):
            slots.append(
                Slot(module, (*head, src_idx), f"{_source_name(sender)}->{dest}", (sender.name,), receiver.name)
            )
    return shapes, slots


def shape_of(value: Any) -> tuple[int, ...]:
    """The shape of a nested list of numbers (``ValueError`` when it is ragged)."""
    if not isinstance(value, list):
        return ()
    shapes = {shape_of(v) for v in value}
    if len(shapes) > 1:
        raise ValueError("rows of different lengths")
    return (len(value), *(shapes.pop() if shapes else ()))


def _at(value: Any, index: tuple[int, ...]) -> Any:
    for i in index:
        value = value[i]
    return value


def _brackets(shape: tuple[int, ...]) -> str:
    return "[" + ", ".join(map(str, shape)) + "]"


def read_prune_scores(values: dict[str, Any], selected: list[str] | None, graph: ComputationalGraph) -> Scores:
    """Edge ``Scores`` on ``graph`` from prune scores (module name to nested lists of numbers)
    and optionally the selected circuit's auto-circuit edge names."""
    shapes, slots = layout(graph)
    modules = list(shapes)
    expected = f"this model has {len(modules)} destination modules, {modules[0]} to {modules[-1]}"
    if unknown := sorted(set(values) - set(shapes)):
        raise InterpbenchError(f"auto-circuit prune scores: unknown key {unknown[0]!r} ({expected})")
    if missing := sorted(set(shapes) - set(values)):
        raise InterpbenchError(f"auto-circuit prune scores: no scores for {missing[0]!r} ({expected})")
    for module, shape in shapes.items():
        try:
            got = shape_of(values[module])
        except ValueError as e:
            raise InterpbenchError(f"auto-circuit prune scores: {module}: {e}") from None
        if got != shape:
            what = "heads x sources before it" if len(shape) == 2 else "sources before it"
            raise InterpbenchError(
                f"auto-circuit prune scores: {module} has shape {_brackets(got)}, expected {_brackets(shape)} ({what})"
            )
    scored: dict[tuple[str, str], float] = {}
    for slot in slots:
        value = _at(values[slot.module], slot.index)
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InterpbenchError(f"auto-circuit prune scores: {slot.module}{list(slot.index)} is {value!r}")
        for sender in slot.senders:
            scored[(sender, slot.receiver)] = abs(float(value))
    chosen = None
    if selected is not None:
        by_name = {slot.name: slot for slot in slots}
        if unknown := sorted(set(selected) - set(by_name)):
            raise InterpbenchError(f"auto-circuit prune scores: the selected edge {unknown[0]!r} is not in this model")
        chosen = sorted(edge_key(s, by_name[n].receiver) for n in set(selected) for s in by_name[n].senders)
    edges = [EdgeScore(sender=s, receiver=r, score=scored[(s, r)]) for s, r in graph.edges]
    return Scores(level="edge", edges=edges, selected=chosen)


def write_prune_scores(scores: Scores, graph: ComputationalGraph) -> tuple[dict[str, list], list[str] | None]:
    """Prune scores (module name to nested lists) of edge ``scores`` on ``graph``, and the
    selected circuit's auto-circuit edge names (``None`` when the scores select none)."""
    if scores.level != "edge":
        raise InterpbenchError("auto-circuit prune scores hold edge scores: this run has node scores")
    by_edge = {(e.sender, e.receiver): e.score for e in scores.edges}
    chosen = None if scores.selected is None else set(scores.selected)
    shapes, slots = layout(graph)
    merged = {slot: max(by_edge[(s, slot.receiver)] for s in slot.senders) for slot in slots}
    shift = -min(0.0, *merged.values())  # auto-circuit ranks by |score|: keep the order
    values: dict[str, list] = {
        module: [[0.0] * shape[1] for _ in range(shape[0])] if len(shape) == 2 else [0.0] * shape[0]
        for module, shape in shapes.items()
    }
    for slot, score in merged.items():
        row = _at(values[slot.module], slot.index[:-1])
        row[slot.index[-1]] = score + shift
    if chosen is None:
        return values, None
    names = [slot.name for slot in slots if any(edge_key(s, slot.receiver) in chosen for s in slot.senders)]
    return values, names
