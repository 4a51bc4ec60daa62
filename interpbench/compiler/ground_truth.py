"""The ground-truth circuit of a compiled case, read off tracr's craft model.

Each craft block reads some labelled residual directions and writes others. An edge
runs from whatever writes a variable (an embedding, a head or an MLP) to every
receiver that reads it: for a head, the selector's queries feed q, its keys feed k
and the aggregated variable feeds v. The block writing the program's output feeds
the final ``hook_resid_post``.

Following InterpBench's builder, the ``one`` direction and the BOS token direction
are ignored: every head reads them (BOS is the default attention target), so they
carry no information about the circuit.
"""

from __future__ import annotations

from typing import Any

from interpbench import graph as g
from interpbench.schemas import Circuit, Edge

IGNORED_VARIABLES = {"one"}


def _reads(space: Any, bos: str) -> set[str]:
    """Variables (SOp labels) a vector space touches, minus the ignored directions."""
    names = set()
    for direction in space.basis:
        if direction.name in IGNORED_VARIABLES:
            continue
        if direction.name == "tokens" and direction.value == bos:
            continue
        names.add(direction.name)
    return names


def block_io(craft_model: Any, module_names: list[str], bos: str = "BOS") -> list[dict]:
    """One record per head or MLP: its graph names and the variables it reads/writes."""
    from tracr.craft import transformers

    records = []
    for module_name, block in zip(module_names, craft_model.blocks):
        layer = int(module_name.split("/")[1].split("_")[1])
        if isinstance(block, transformers.MLP):
            records.append(
                {
                    "sender": g.mlp_out(layer),
                    "reads": {g.mlp_in(layer): _reads(block.fst.input_space, bos)},
                    "writes": _reads(block.snd.output_space, bos),
                }
            )
            continue
        for h, head in enumerate(block.as_multi().heads()):
            records.append(
                {
                    "sender": g.head_out(layer, h),
                    "reads": {
                        g.head_in(layer, h, "q"): _reads(head.w_qk.left_space, bos),
                        g.head_in(layer, h, "k"): _reads(head.w_qk.right_space, bos),
                        g.head_in(layer, h, "v"): _reads(head.w_ov.input_space, bos),
                    },
                    "writes": _reads(head.w_ov.output_space, bos),
                }
            )
    return records


def edge_circuit(craft_model: Any, module_names: list[str], sink_label: str, n_layers: int) -> Circuit:
    """The edge-level ground truth: writer of each variable -> each reader of it.

    Blocks are visited in order and a reader takes the latest writer before it: some
    blocks also write a direction another block wrote (a SelectorWidth MLP cleans up
    the hidden direction its head wrote), and only the earlier write is read.
    """
    writer = {"tokens": g.EMBED, "indices": g.POS_EMBED}
    edges: set[tuple[str, str]] = set()
    for rec in block_io(craft_model, module_names):
        for receiver, variables in rec["reads"].items():
            for var in variables:
                if var not in writer:
                    raise ValueError(f"{receiver} reads {var!r}, which nothing writes before it")
                edges.add((writer[var], receiver))
        for var in rec["writes"]:
            writer[var] = rec["sender"]
    edges.add((writer[sink_label], g.resid_post(n_layers - 1)))
    return make_circuit(edges, "edge")


def make_circuit(edges: set[tuple[str, str]], level: str) -> Circuit:
    ordered = sorted(edges)
    nodes = sorted({n for e in ordered for n in e})
    return Circuit(level=level, nodes=nodes, edges=[Edge(sender=s, receiver=r) for s, r in ordered])


def head_circuit(circuit: Circuit) -> Circuit:
    """Fold an edge-level circuit to InterpBench's head level."""
    return make_circuit(g.fold_to_heads(circuit.edge_set()), "head")
