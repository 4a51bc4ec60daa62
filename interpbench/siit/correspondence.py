"""Which LL node implements which HL node, and the LL ground-truth circuit.

Each HL head or MLP in the HL ground-truth circuit maps to the LL head or MLP at the
same layer and index (the LL model has at least as many layers and heads). Every
other LL head and MLP is unmapped: SIIT trains it to be irrelevant. Node names are
``interpbench.graph``'s (``blocks.L.attn.hook_result[H]``, ``blocks.L.hook_mlp_out``);
they are patched through ``blocks.L.attn.hook_z`` (head H) and ``blocks.L.hook_mlp_out``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from interpbench import graph as g
from interpbench.schemas import Circuit

_HEAD = re.compile(r"^blocks\.(\d+)\.attn\.hook_result\[(\d+)\]$")
_MLP = re.compile(r"^blocks\.(\d+)\.hook_mlp_out$")


@dataclass(frozen=True)
class NodeHook:
    """Where a node's output is read and written: a hook name and, for heads, its index."""

    node: str
    hook: str
    head: int | None  # None for an MLP
    layer: int


def node_hook(node: str) -> NodeHook:
    """The patching site of a head or MLP node name."""
    if m := _HEAD.match(node):
        layer, head = int(m[1]), int(m[2])
        return NodeHook(node, f"blocks.{layer}.attn.hook_z", head, layer)
    if m := _MLP.match(node):
        layer = int(m[1])
        return NodeHook(node, f"blocks.{layer}.hook_mlp_out", None, layer)
    raise ValueError(f"{node!r} is not a head or MLP node")


def all_nodes(cfg) -> list[str]:
    """Every head and MLP of a model, in the graph's order."""
    return g.ComputationalGraph(cfg.n_layers, cfg.n_heads, has_mlps=not cfg.attn_only).nodes


@dataclass
class Correspondence:
    """HL node -> LL node (identity on names), and the LL nodes nothing maps to."""

    mapping: dict[str, str]
    ll_nodes: list[str]
    hl_resid_post: str = ""
    ll_resid_post: str = ""
    unmapped: list[str] = field(init=False)

    def __post_init__(self) -> None:
        mapped = set(self.mapping.values())
        self.unmapped = [n for n in self.ll_nodes if n not in mapped]

    @property
    def hl_nodes(self) -> list[str]:
        return list(self.mapping)

    def to_dict(self) -> dict:
        return {"mapping": dict(self.mapping), "unmapped": list(self.unmapped)}

    def ll_circuit(self, hl_circuit: Circuit) -> Circuit:
        """The HL circuit under the mapping: same names, except the final residual stream."""
        from interpbench.compiler.ground_truth import make_circuit

        def rename(name: str) -> str:
            return self.ll_resid_post if name == self.hl_resid_post else name

        edges = {(rename(e.sender), rename(e.receiver)) for e in hl_circuit.edges}
        return make_circuit(edges, hl_circuit.level)


def build_correspondence(hl_model, hl_circuit: Circuit, ll_cfg) -> Correspondence:
    """Map each HL head/MLP of the HL ground-truth circuit to the LL node of the same name."""
    hl_cfg = hl_model.cfg
    if ll_cfg.n_layers < hl_cfg.n_layers or ll_cfg.n_heads < hl_cfg.n_heads:
        raise ValueError("the LL model must have at least the HL model's layers and heads")
    in_circuit = g.circuit_nodes(hl_circuit.edge_set(), all_nodes(hl_cfg))
    ll_nodes = all_nodes(ll_cfg)
    missing = [n for n in in_circuit if n not in ll_nodes]
    if missing:
        raise ValueError(f"HL nodes without an LL counterpart: {missing}")
    return Correspondence(
        mapping={n: n for n in in_circuit},
        ll_nodes=ll_nodes,
        hl_resid_post=g.resid_post(hl_cfg.n_layers - 1),
        ll_resid_post=g.resid_post(ll_cfg.n_layers - 1),
    )
