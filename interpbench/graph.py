"""The computational graph of a HookedTransformer, named as ACDC and InterpBench name it.

Senders write into the residual stream, receivers read from it; a receiver's input
is the sum of the outputs of every sender before it. Edge level keeps q/k/v apart;
head level folds them into their head (``fold_to_heads``), as InterpBench compares.
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
    def edges(self) -> list[tuple[str, str]]:
        """Every (sender, receiver) pair, ordered by receiver then sender."""
        return [(s.name, r.name) for r in self.receivers for s in self.senders if self.feeds(s, r)]

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
    ``merge_embeddings`` is off) both embeddings to ``blocks.0.hook_resid_pre``."""
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
