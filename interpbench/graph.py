"""The computational graph of a HookedTransformer, named as ACDC and InterpBench name it.

Senders write into the residual stream, receivers read from it; a receiver's input
is the sum of the outputs of every sender before it. Edge level keeps q/k/v apart;
head level folds them into their head (``fold_to_heads``), as InterpBench compares.
With ``positions`` the graph has one edge per token position (auto-circuit's "token
circuits"): ``sender@p -> receiver@p``. The residual stream carries a sender's output at
position p only to receivers at p (positions mix inside attention, after its inputs),
so an edge's two ends share its position.
Pure Python: no torch here, so listing and schema code stay light.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

EMBED = "hook_embed"
POS_EMBED = "hook_pos_embed"
RESID_PRE = "blocks.0.hook_resid_pre"


def head_out(layer: int, head: int) -> str:
    return f"blocks.{layer}.attn.hook_result[{head}]"


def head_in(layer: int, head: int, qkv: str) -> str:
    return f"blocks.{layer}.hook_{qkv}_input[{head}]"


def mlp_out(layer: int) -> str:
    return f"blocks.{layer}.hook_mlp_out"


def mlp_in(layer: int) -> str:
    return f"blocks.{layer}.hook_mlp_in"


def resid_post(layer: int) -> str:
    return f"blocks.{layer}.hook_resid_post"


def at(name: str, position: int) -> str:
    """A node at one token position: ``name@position``."""
    return f"{name}@{position}"


def position_of(name: str) -> tuple[str, int | None]:
    """(node name without position, position or None)."""
    base, sep, position = name.rpartition("@")
    return (base, int(position)) if sep and position.isdigit() else (name, None)


def edge_key(sender: str, receiver: str) -> str:
    return f"{sender}->{receiver}"


def split_edge_key(key: str) -> tuple[str, str]:
    sender, _, receiver = key.partition("->")
    return sender, receiver


@dataclass(frozen=True)
class Sender:
    name: str
    layer: int  # -1 for the embeddings
    kind: str  # "embed" | "pos_embed" | "head" | "mlp"
    head: int | None = None


@dataclass(frozen=True)
class Receiver:
    name: str
    layer: int  # n_layers for the final residual stream
    kind: str  # "q" | "k" | "v" | "mlp" | "resid_post"
    head: int | None = None


@dataclass
class ComputationalGraph:
    """Senders, receivers and edges of a transformer, in topological order."""

    n_layers: int
    n_heads: int
    has_mlps: bool = True
    #: Attention and MLP read the same residual stream (GPT-J, Pythia): no head feeds its
    #: own layer's MLP.
    parallel: bool = False
    #: Token positions of the data, for one edge per position (``None``: one per pair).
    positions: int | None = None
    senders: list[Sender] = field(init=False)
    receivers: list[Receiver] = field(init=False)

    def __post_init__(self) -> None:
        L, H = self.n_layers, self.n_heads
        self.senders = [Sender(EMBED, -1, "embed"), Sender(POS_EMBED, -1, "pos_embed")]
        self.receivers = []
        for layer in range(L):
            for qkv in "qkv":
                self.receivers += [Receiver(head_in(layer, h, qkv), layer, qkv, h) for h in range(H)]
            self.senders += [Sender(head_out(layer, h), layer, "head", h) for h in range(H)]
            if self.has_mlps:
                self.receivers.append(Receiver(mlp_in(layer), layer, "mlp"))
                self.senders.append(Sender(mlp_out(layer), layer, "mlp"))
        self.receivers.append(Receiver(resid_post(L - 1), L, "resid_post"))

    def feeds(self, sender: Sender, receiver: Receiver) -> bool:
        """Whether the sender's output is in the residual stream the receiver reads."""
        if sender.layer < receiver.layer:
            return True
        same_layer = sender.layer == receiver.layer and sender.kind == "head" and receiver.kind == "mlp"
        return same_layer and not self.parallel

    @cached_property
    def pairs(self) -> list[tuple[str, str]]:
        """Every (sender, receiver) pair that the residual stream connects, ordered by
        receiver then sender."""
        return [(s.name, r.name) for r in self.receivers for s in self.senders if self.feeds(s, r)]

    @cached_property
    def edges(self) -> list[tuple[str, str]]:
        """The edges methods score: the pairs, or with ``positions`` each pair at every
        position (``pairs[i // positions]`` at position ``i % positions``)."""
        if self.positions is None:
            return self.pairs
        return [(at(s, p), at(r, p)) for s, r in self.pairs for p in range(self.positions)]

    @cached_property
    def nodes(self) -> list[str]:
        """The nodes a node-level method scores: every head and every MLP."""
        return [s.name for s in self.senders if s.kind in ("head", "mlp")]

    @cached_property
    def sender_index(self) -> dict[str, int]:
        return {s.name: i for i, s in enumerate(self.senders)}

    @cached_property
    def receiver_index(self) -> dict[str, int]:
        return {r.name: i for i, r in enumerate(self.receivers)}


def fold_node(name: str, *, merge_embeddings: bool = True) -> str:
    """Map an edge-level node name to its head-level node (InterpBench's granularity):
    a head's q/k/v inputs to the head, an MLP's input to the MLP, and (unless
    ``merge_embeddings`` is off) both embeddings to ``blocks.0.hook_resid_pre``. A node at
    a token position folds to the node itself: heads and MLPs span every position."""
    name, _ = position_of(name)
    if name in (EMBED, POS_EMBED):
        return RESID_PRE if merge_embeddings else name
    if "_input[" in name:  # blocks.L.hook_q_input[H] -> blocks.L.attn.hook_result[H]
        prefix, _, rest = name.partition(".hook_")
        head = rest[rest.index("[") :]
        return f"{prefix}.attn.hook_result{head}"
    if name.endswith(".hook_mlp_in"):
        return name[: -len("hook_mlp_in")] + "hook_mlp_out"
    return name


def fold_to_heads(edges: set[tuple[str, str]] | list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Fold edge-level edges to head level: q/k/v into heads, embeddings into resid_pre."""
    folded = {(fold_node(s), fold_node(r)) for s, r in edges}
    return {(s, r) for s, r in folded if s != r}


def circuit_nodes(edges: set[tuple[str, str]] | list[tuple[str, str]], node_universe: list[str]) -> list[str]:
    """The heads and MLPs (from ``node_universe``) that an edge set touches."""
    touched = {fold_node(n) for e in edges for n in e}
    return [n for n in node_universe if n in touched]


def positional_edges(
    circuit: set[tuple[str, str]] | list[tuple[str, str]],
    graph: ComputationalGraph,
    attends: dict[tuple[int, int], list[list[bool]]],
    scored: list[bool],
) -> set[tuple[str, str]]:
    """A circuit's edges at the token positions where they matter: the ground truth of a
    graph with ``positions``.

    Edge (s, r) of the circuit is in it at position p when receiver r's value at p can
    reach a scored output position along the circuit: the output at the ``scored``
    positions (not BOS); an MLP's input, or a head's query, at p when the node's output
    at p reaches one; a head's key or value at p when the node's output reaches one at a
    query position that attends to p (``attends[(layer, head)][query][key]``: the model's
    own attention on the data, so a tracr head selecting the token two places back
    needs its keys and values there, and BOS where it attends to BOS).
    """
    P = len(scored)
    circuit = set(circuit)
    out_of: dict[str, list[tuple[str, str]]] = {}
    for s, r in circuit:
        out_of.setdefault(s, []).append((s, r))
    matters: dict[str, list[bool]] = {graph.receivers[-1].name: list(scored)}

    def node_matters(sender: str) -> list[bool]:
        reached = [False] * P
        for _, r in out_of.get(sender, []):
            reached = [a or b for a, b in zip(reached, matters.get(r, [False] * P))]
        return reached

    # Receivers from the output backwards: a node's output is needed once all its readers are known.
    by_node: dict[tuple[int, int | None], list[Receiver]] = {}
    for receiver in graph.receivers[:-1]:
        by_node.setdefault((receiver.layer, receiver.head if receiver.kind in "qkv" else None), []).append(receiver)
    senders = {
        (s.layer, s.head if s.kind == "head" else None): s.name for s in graph.senders if s.kind in ("head", "mlp")
    }
    for (layer, head), receivers in sorted(by_node.items(), key=lambda kv: (kv[0][0], kv[0][1] is None), reverse=True):
        needed = node_matters(senders[(layer, head)])
        for receiver in receivers:
            if receiver.kind in ("k", "v"):
                pattern = attends[(layer, head)]  # type: ignore[index]
                matters[receiver.name] = [any(needed[q] and pattern[q][k] for q in range(P)) for k in range(P)]
            else:
                matters[receiver.name] = needed
    return {(at(s, p), at(r, p)) for s, r in circuit for p in range(P) if matters.get(r, [False] * P)[p]}
