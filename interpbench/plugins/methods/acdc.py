"""ACDC: Automatic Circuit DisCovery (Conmy et al. 2023).

Receivers are visited from the output backwards. For each incoming edge, in order,
the edge is removed for good when the validation metric moves by less than the
threshold; the metric of the current circuit is then updated. A receiver whose node
no longer reaches the output is dropped with all its inputs, as ACDC never visits it.

Speed without changing the algorithm: a batched pass tries a tree of bets on how the
next edges into a receiver go, each node the circuit ACDC tests next if the decisions
on its path come true; the decisions are read down the tree for as long as it holds
ACDC's path. How many bets a pass makes follows what a pass costs (``PassCost``): many
where a pass is mostly fixed overhead (small models), one per threshold where each
circuit's arithmetic dominates (a GPT-2-sized unembedding). All thresholds of the sweep
run in lockstep in the same passes, and the candidates of a pass share every activation
upstream of the receiver (the engine computes each distinct one once).

The ROC comes from a sweep of thresholds, as InterpBench computes it. On a graph with
token positions each sender's edge into a receiver is tried at every position, and a
receiver is visited at the positions where its node still reaches the output.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from interpbench import AblationConfig, Scores, SweptCircuit, edge_key

if TYPE_CHECKING:
    from interpbench import Ablation, DiscoveryTask

DEFAULT_SWEEP = [1e-5, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0]


class ACDCConfig(AblationConfig):
    """Args:
    threshold: remove an edge when the metric moves by less than this.
    metric: "kl" (categorical cases), "l2" (numerical) or "auto" (the case's own).
    sweep: further thresholds for the ROC; empty to run only ``threshold``.
    """

    threshold: float = Field(0.01, ge=0, description="Remove an edge when the metric moves by less than this.")
    metric: Literal["auto", "kl", "l2"] = Field(
        "auto", description="Validation metric; auto picks the case's (KL or L2)."
    )
    sweep: list[float] = Field(DEFAULT_SWEEP, description="Thresholds swept for the ROC (besides `threshold`).")


def _metric(task: DiscoveryTask, name: str):
    from interpbench import kl_from_baseline, l2_from_baseline

    if name == "auto":
        return task.metric
    if name == "kl" and not task.categorical:
        raise ValueError("the kl metric needs a categorical case; use l2 or auto")
    return (kl_from_baseline if name == "kl" else l2_from_baseline)(task.clean_logits)


def acdc(
    task: DiscoveryTask, thresholds: list[float], metric, ablation: Ablation, receivers: int | None = None
) -> tuple[list[set[int]], int]:
    """The edges (indices into ``task.graph.edges``) ACDC keeps at each threshold, and
    the number of batched passes made. The thresholds run in lockstep: one pass tries
    candidates for all of them. ``receivers`` stops after visiting that many (the first
    from the output; benchmarks time the start of a run too long to finish)."""
    import torch

    engine, graph = task.engine, task.graph
    T, P = len(thresholds), engine.positions or 1
    limit = torch.tensor(thresholds)
    # [T, R, S, P], 1 = edge present; viewed [T, R, S*P] (an input of a receiver is a sender at a position)
    present = engine.valid[None, :, :, None].repeat(T, 1, 1, P)
    masks = present.view(T, engine.R, engine.S * P)

    def values_of(circuits):
        circuits = circuits.view(-1, engine.R, engine.S, P) if engine.positions else circuits
        return engine.run(circuits, ablation, reduce=metric)

    passes, cost = 0, PassCost()
    n_kept, n_decided = [0] * T, [0] * T  # per threshold, over the receivers visited so far
    with torch.no_grad():
        current = values_of(masks[:1]).repeat(T)  # the full model, for every t
        for r in list(reversed(range(engine.R)))[:receivers]:
            todo: list[list[int]] = []
            for t in range(T):
                cut_off = ~_reaches_output(graph, present[t], r, engine.causal)
                present[t, r, :, cut_off] = 0.0  # ACDC never visits a node cut off from the output
                todo.append([i for i in reversed(range(engine.S * P)) if masks[t, r, i] > 0])
            while any(todo):
                # Each pass tries, per threshold, a tree of bets on how the next edges go,
                # the likeliest first (by how its edges went so far): exact ACDC is read
                # down the tree for as long as it holds the path ACDC takes.
                trees = _trees([len(edges) for edges in todo], [(k + 1) / (d + 2) for k, d in zip(n_kept, n_decided)],
                               cost.overhead_in_circuits())  # fmt: skip
                candidates, owners = _candidates(masks, r, todo, trees)
                started = time.perf_counter()
                values = values_of(candidates)
                cost.add(len(candidates), time.perf_counter() - started)
                passes += 1
                for t, first in owners.items():
                    node, removed = 0, []
                    while node is not None:
                        depth, children = trees[t][node]
                        value = values[first + node]
                        if value - current[t] < limit[t]:  # the edge goes
                            removed.append(todo[t][depth])
                            current[t] = value
                            node = children[False]
                        else:
                            n_kept[t] += 1
                            node = children[True]
                    n_decided[t] += depth + 1
                    masks[t, r, removed] = 0.0
                    todo[t] = todo[t][depth + 1 :]
    per_pair = present if engine.positions else present[..., 0]
    kept = [set((engine.per_edge(per_pair[t]) > 0).nonzero().flatten().tolist()) for t in range(T)]
    return kept, passes


class PassCost:
    """What a batched pass costs, fitted to the last passes: seconds = overhead +
    per_circuit * circuits (least squares). Their ratio, a pass's overhead counted in
    circuits, is how much a pass is worth filling with bets: on a small model a pass is
    mostly fixed cost, on a GPT-2-sized one each circuit (its unembedding) dwarfs it."""

    def __init__(self, window: int = 16, prior: float = 8.0):
        self.samples: deque[tuple[int, float]] = deque(maxlen=window)
        self.prior = prior  # before the passes tell: about what a small model's pass is worth

    def add(self, circuits: int, seconds: float) -> None:
        self.samples.append((circuits, seconds))

    def overhead_in_circuits(self) -> float:
        n = [float(c) for c, _ in self.samples]
        if len(set(n)) < 2:
            return self.prior
        t = [s for _, s in self.samples]
        mean_n, mean_t = sum(n) / len(n), sum(t) / len(t)
        slope = sum((a - mean_n) * (b - mean_t) for a, b in zip(n, t)) / sum((a - mean_n) ** 2 for a in n)
        if slope <= 0:  # circuits cost nothing measurable: a pass is all overhead
            return MAX_BETS
        return min(MAX_BETS, max(0.0, mean_t - slope * mean_n) / slope)


#: At most this many circuits' worth of overhead is assumed per pass (bets beyond it
#: waste work on circuits ACDC never reaches).
MAX_BETS = 64.0


def _trees(todo: list[int], p_kept: list[float], overhead: float) -> list[list[tuple[int, dict[bool, int | None]]]]:
    """Which decisions a pass tries, per threshold with ``todo[t]`` edges left: trees of
    bets (each node the edge it tests, by depth, and its child per outcome, True = kept;
    each a candidate circuit), grown best first by how likely a node is to be on ACDC's
    path (``p_kept[t]``: how its edges went so far) over all thresholds together. A node
    is one decision when on the path; it is added while it lowers the expected cost per
    decision, (overhead + circuits) / expected decisions, the pass's overhead counted in
    circuits (``PassCost``). Every threshold with edges left tries its next edge."""
    import heapq

    trees: list[list[tuple[int, dict[bool, int | None]]]] = [[] for _ in todo]
    frontier = [(-1.0, t, 0, -1, False) for t, n in enumerate(todo) if n]  # (-p, threshold, depth, parent, outcome)
    heapq.heapify(frontier)
    circuits, decisions = 0, 0.0
    while frontier:
        negative_p, t, depth, parent, outcome = frontier[0]
        p = -negative_p
        if p < 1.0 and p * (overhead + circuits) <= decisions:  # it would not pay for itself
            break
        heapq.heappop(frontier)
        tree = trees[t]
        tree.append((depth, {True: None, False: None}))
        if parent >= 0:
            tree[parent][1][outcome] = len(tree) - 1
        circuits, decisions = circuits + 1, decisions + p
        if depth + 1 < todo[t]:
            for kept, q in ((True, p_kept[t]), (False, 1 - p_kept[t])):
                heapq.heappush(frontier, (-p * q, t, depth + 1, len(tree) - 1, kept))
    return trees


def _candidates(masks, r: int, todo: list[list[int]], trees):
    """The circuits of every threshold's tree: a node's circuit has the edges removed on
    the path to it gone, and the edge it tests."""
    import torch

    blocks, owners, first = [], {}, 0
    for t, senders in enumerate(todo):
        if not senders:
            continue
        tree = trees[t]
        circuits = masks[t][None].repeat(len(tree), 1, 1)
        gone: list[list[int]] = [[] for _ in tree]  # removed on the path to each node
        for i, (depth, children) in enumerate(tree):
            circuits[i, r, gone[i] + [senders[depth]]] = 0.0
            for kept, child in children.items():
                if child is not None:
                    gone[child] = gone[i] + ([] if kept else [senders[depth]])
        blocks.append(circuits)
        owners[t] = first
        first += len(tree)
    return torch.cat(blocks), owners


def _reaches_output(graph, mask, r: int, causal: bool = True):
    """Per position: whether receiver r's node still sends to a present edge (the output
    always does), from a circuit's mask [R, S, P]. A head's key or value at p reaches the
    output through the head's output at every query position that can attend to p."""
    import torch

    receiver = graph.receivers[r]
    if receiver.kind == "resid_post":
        return torch.ones(mask.shape[-1], dtype=torch.bool)
    own = receiver.layer, receiver.head if receiver.kind in "qkv" else None
    for s, sender in enumerate(graph.senders):
        kind_matches = sender.kind == ("head" if receiver.kind in "qkv" else "mlp")
        if kind_matches and (sender.layer, sender.head) == own:
            reaches = (mask[:, s] > 0).any(0)
            if receiver.kind in "kv" and causal:  # through the queries at p and later
                reaches = reaches.flip(0).int().cummax(0).values.flip(0).bool()
            elif receiver.kind in "kv":  # through every query
                reaches = reaches.any().expand_as(reaches)
            return reaches
    return torch.zeros(mask.shape[-1], dtype=torch.bool)


def run(task: DiscoveryTask, config: ACDCConfig) -> Scores:
    metric = _metric(task, config.metric)
    thresholds = sorted({config.threshold, *config.sweep})
    kept, _ = acdc(task, thresholds, metric, task.ablation(config.ablation))
    kept_at = dict(zip(thresholds, kept))
    # An edge's score is the largest threshold at which ACDC still keeps it.
    scores = [0.0] * len(task.graph.edges)
    for t in thresholds:
        for i in kept_at[t]:
            scores[i] = max(scores[i], t)
    keys = [edge_key(s, r) for s, r in task.graph.edges]
    return Scores(
        level="edge",
        edges=task.edge_scores(scores),
        selected=[keys[i] for i in sorted(kept_at[config.threshold])],
        sweep=[SweptCircuit(threshold=t, selected=[keys[i] for i in sorted(kept_at[t])]) for t in thresholds],
    )


METHODS = [
    dict(
        name="acdc",
        description="ACDC (Conmy et al. 2023): prune edges whose removal moves the metric less than a threshold.",
        level="edge",
        config=ACDCConfig,
        run=run,
    )
]
