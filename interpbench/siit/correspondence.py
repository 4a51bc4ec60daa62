"""Which LL nodes implement which HL node, and the LL ground-truth circuit.

Each HL head or MLP in the HL ground-truth circuit maps to the LL node of the same
index, at the LL layer the layer map gives it: with ``layer_stride`` k, HL layer l's
heads sit in LL layer k·l and its MLP in LL layer k·l + k - 1 (k = 1: the same layer;
k = 2 leaves a free layer between, which the hard track's ``sparse`` and ``backup``
models use). Every other LL head and MLP is unmapped: SIIT trains it to be irrelevant.

A hard-track model maps one HL head to a *group* of LL heads with a ``Structure``:
which subsets of the group, resampled together from the source input, make the LL
output follow the HL node's source value (the rule SIIT trains and the certificate
measures). The whole group patched always follows it (that is the IIT intervention),
and every member is in the ground-truth circuit.

Node names are ``interpbench.graph``'s (``blocks.L.attn.hook_result[H]``,
``blocks.L.hook_mlp_out``); they are patched through ``blocks.L.attn.hook_z`` (head H)
and ``blocks.L.hook_mlp_out``.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from interpbench import graph as g
from interpbench.schemas import Circuit

_HEAD = re.compile(r"^blocks\.(\d+)\.attn\.hook_result\[(\d+)\]$")
_MLP = re.compile(r"^blocks\.(\d+)\.hook_mlp_out$")
_HEAD_IN = re.compile(r"^blocks\.(\d+)\.hook_([qkv])_input\[(\d+)\]$")
_MLP_IN = re.compile(r"^blocks\.(\d+)\.hook_mlp_in$")


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


def _layer_head(node: str) -> tuple[int, int]:
    """Layer and index of a head node (a structure's members are heads)."""
    site = node_hook(node)
    if site.head is None:
        raise ValueError(f"{node!r} is not a head")
    return site.layer, site.head


def all_nodes(cfg) -> list[str]:
    """Every head and MLP of a model, in the graph's order."""
    return g.ComputationalGraph(cfg.n_layers, cfg.n_heads, has_mlps=not cfg.attn_only).nodes


@dataclass(frozen=True)
class Structure:
    """One HL head implemented by a group of LL heads (``members``, the HL head's own LL
    head first), with the rule of a registered structure (``interpbench.registry``;
    the built-ins are in ``interpbench.plugins.structures``) for which subsets of members,
    resampled together, make the output follow the source."""

    kind: str
    hl_node: str
    members: tuple[str, ...]

    @property
    def spec(self):
        from interpbench import registry

        return registry.get_structure(self.kind)

    @property
    def roles(self) -> tuple[str, ...]:
        return self.spec.roles

    def follows(self, subset: frozenset[str] | set[str]) -> bool:
        return bool(self.spec.follows(tuple(m in subset for m in self.members)))

    def subsets(self) -> list[tuple[str, ...]]:
        """Every non-empty subset of the members (what the certificate measures)."""
        return [s for k in range(1, len(self.members) + 1) for s in itertools.combinations(self.members, k)]

    def reads(self) -> list[tuple[str, str]]:
        """(earlier member, later member) for members in different layers: a later member
        reads the earlier ones (a backup reads its primary)."""
        layer = {m: node_hook(m).layer for m in self.members}
        return [(a, b) for a in self.members for b in self.members if layer[a] < layer[b]]

    def to_dict(self) -> dict:
        return {"kind": self.kind, "hl_node": self.hl_node, "members": list(self.members), "roles": list(self.roles)}


@dataclass
class Correspondence:
    """HL node -> LL node, the LL nodes nothing maps to, and an optional structured group."""

    mapping: dict[str, str]  # HL node -> its (primary) LL node
    ll_nodes: list[str]
    hl_resid_post: str = ""
    ll_resid_post: str = ""
    layer_stride: int = 1
    structure: Structure | None = None

    @property
    def unmapped(self) -> list[str]:
        """The LL nodes outside the circuit (SIIT trains them to be irrelevant)."""
        in_circuit = set(self.in_circuit)
        return [n for n in self.ll_nodes if n not in in_circuit]

    @property
    def hl_nodes(self) -> list[str]:
        return list(self.mapping)

    def group(self, hl_node: str) -> list[str]:
        """The LL nodes that implement an HL node (patched together for its IIT)."""
        if self.structure is not None and self.structure.hl_node == hl_node:
            return list(self.structure.members)
        return [self.mapping[hl_node]]

    @property
    def in_circuit(self) -> list[str]:
        return [n for hl in self.mapping for n in self.group(hl)]

    def to_dict(self) -> dict:
        d = {"mapping": dict(self.mapping), "unmapped": list(self.unmapped), "layer_stride": self.layer_stride}
        if self.structure is not None:
            d["structure"] = self.structure.to_dict()
        return d

    def ll_name(self, name: str) -> str:
        """An HL sender or receiver name under the layer map (embeddings keep theirs)."""
        k = self.layer_stride
        if name == self.hl_resid_post:
            return self.ll_resid_post
        if m := _HEAD.match(name):
            return g.head_out(k * int(m[1]), int(m[2]))
        if m := _HEAD_IN.match(name):
            return g.head_in(k * int(m[1]), int(m[3]), m[2])
        if m := _MLP.match(name):
            return g.mlp_out(k * int(m[1]) + k - 1)
        if m := _MLP_IN.match(name):
            return g.mlp_in(k * int(m[1]) + k - 1)
        return name

    def ll_circuit(self, hl_circuit: Circuit) -> Circuit:
        """The HL circuit under the mapping. Every member of a group gets its HL node's
        input and output edges (at the same q/k/v input), and a backup head reads its
        primary (on all three inputs: SIIT does not say which carries it)."""
        from interpbench.compiler.ground_truth import make_circuit

        def senders(name: str) -> list[str]:
            return self.group(name) if name in self.mapping else [self.ll_name(name)]

        def receivers(name: str) -> list[str]:
            m = _HEAD_IN.match(name)
            if m is None or self.structure is None or g.head_out(int(m[1]), int(m[3])) != self.structure.hl_node:
                return [self.ll_name(name)]
            return [g.head_in(*_layer_head(n), m[2]) for n in self.structure.members]

        edges = {(s, r) for e in hl_circuit.edges for s in senders(e.sender) for r in receivers(e.receiver)}
        for earlier, later in self.structure.reads() if self.structure is not None else []:
            edges |= {(earlier, g.head_in(*_layer_head(later), qkv)) for qkv in "qkv"}
        return make_circuit(edges, hl_circuit.level)


def build_correspondence(
    hl_model, hl_circuit: Circuit, ll_cfg, *, layer_stride: int = 1, structure: str | None = None,
    structure_node: str | None = None,
) -> Correspondence:  # fmt: skip
    """Map each HL head/MLP of the HL ground-truth circuit to its LL node under the layer map,
    and, with ``structure``, the HL head ``structure_node`` to a group of LL heads."""
    hl_cfg = hl_model.cfg
    if ll_cfg.n_layers < layer_stride * hl_cfg.n_layers or ll_cfg.n_heads < hl_cfg.n_heads:
        raise ValueError(f"the LL model must have at least {layer_stride}x the HL model's layers and its heads")
    in_circuit = g.circuit_nodes(hl_circuit.edge_set(), all_nodes(hl_cfg))
    corr = Correspondence(
        mapping={},
        ll_nodes=all_nodes(ll_cfg),
        hl_resid_post=g.resid_post(hl_cfg.n_layers - 1),
        ll_resid_post=g.resid_post(ll_cfg.n_layers - 1),
        layer_stride=layer_stride,
    )
    corr.mapping = {n: corr.ll_name(n) for n in in_circuit}
    missing = [n for n in corr.mapping.values() if n not in corr.ll_nodes]
    if missing:
        raise ValueError(f"HL nodes without an LL counterpart: {missing}")
    if structure is not None:
        corr.structure = place_structure(corr, structure, structure_node, ll_cfg)
    return corr


def place_structure(corr: Correspondence, kind: str, hl_node: str | None, ll_cfg) -> Structure:
    """The group for ``hl_node``: its own LL head first, then for each further member the
    lowest free head of the LL layer its ``layer_offset`` names (0: the same layer)."""
    from interpbench import registry
    from interpbench.errors import UnknownName

    try:
        spec = registry.get_structure(kind)
    except UnknownName as e:
        raise ValueError(str(e)) from None
    if hl_node not in corr.mapping or not _HEAD.match(hl_node or ""):
        raise ValueError(f"the structure's node must be a head of the HL circuit, not {hl_node!r}")
    if corr.layer_stride < spec.layer_stride:
        raise ValueError(
            f"the {kind} structure puts a member {spec.layer_stride - 1} layer(s) after its HL head: "
            f"use layer_stride {spec.layer_stride}"
        )
    primary = node_hook(corr.mapping[hl_node])
    taken = set(corr.mapping.values())
    members = [primary.node]
    for offset in spec.layer_offsets[1:]:
        layer = primary.layer + offset
        free = [g.head_out(layer, h) for h in range(ll_cfg.n_heads) if g.head_out(layer, h) not in taken | set(members)]
        if not free:
            raise ValueError(f"LL layer {layer} has no free head left for the {kind} structure")
        members.append(free[0])
    return Structure(kind, hl_node, tuple(members))
