"""ACDC: Automatic Circuit DisCovery (Conmy et al. 2023).

Receivers are visited from the output backwards. For each incoming edge, in order,
the edge is removed for good when the validation metric moves by less than the
threshold; the metric of the current circuit is then updated. A receiver whose node
no longer reaches the output is dropped with all its inputs, as ACDC never visits it.

Speed without changing the algorithm: all still-present edges into a receiver are
tried in one batched pass, each removed alone from the current circuit. Reading the
results in order, every rejection leaves the circuit unchanged, so the next result
is still exact; after an acceptance the remaining edges are re-tried from the new
circuit. Passes start at the receiver's layer from cached clean activations.

The ROC comes from a sweep of thresholds, as InterpBench computes it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from interpbench.graph import edge_key
from interpbench.plugins.methods.common import AblationConfig
from interpbench.schemas import Scores, SweptCircuit

DEFAULT_SWEEP = [10.0**e for e in (-5, -4, -3, -2.5, -2, -1.5, -1, -0.5, 0)]


class ACDCConfig(AblationConfig):
    """Args:
    threshold: remove an edge when the metric moves by less than this.
    metric: "kl" (categorical cases), "l2" (numerical) or "auto" (the case's own).
    sweep: further thresholds for the ROC; empty to run only ``threshold``.
    """

    threshold: float = Field(0.01, ge=0, description="Remove an edge when the metric moves by less than this.")
    metric: Literal["auto", "kl", "l2"] = Field("auto", description="Validation metric; auto picks the case's (KL or L2).")
    sweep: list[float] = Field(DEFAULT_SWEEP, description="Thresholds swept for the ROC (besides `threshold`).")


def _metric(task, name: str):
    from interpbench.engine.metrics import kl_from_baseline, l2_from_baseline

    if name == "auto":
        return task.metric
    if name == "kl" and not task.categorical:
        raise ValueError("the kl metric needs a categorical case; use l2 or auto")
    return (kl_from_baseline if name == "kl" else l2_from_baseline)(task.clean_logits)


def acdc(task, threshold: float, metric, ablation: str) -> tuple[set[int], int]:
    """The edges (indices into ``task.graph.edges``) ACDC keeps, and the passes it made."""
    import torch

    engine, graph = task.engine, task.graph
    mask = engine.valid.clone()[None]  # [1, R, S], 1 = edge present
    passes = 0
    with torch.no_grad():
        current = float(metric(engine.run(mask, ablation))[0])
        for r in reversed(range(engine.R)):
            if not _reaches_output(graph, mask[0], r):
                mask[0, r] = 0.0
                continue
            todo = [s for s in reversed(range(engine.S)) if mask[0, r, s] > 0]
            while todo:
                candidates = mask.repeat(len(todo), 1, 1)
                candidates[torch.arange(len(todo)), r, torch.tensor(todo)] = 0.0
                values = metric(engine.run(candidates, ablation)).tolist()
                passes += 1
                for i, (s, value) in enumerate(zip(todo, values)):
                    if value - current < threshold:
                        mask[0, r, s] = 0.0
                        current = value
                        todo = todo[i + 1 :]
                        break
                else:
                    todo = []
    kept = {i for i, (s, r) in enumerate(graph.edges) if mask[0, graph.receiver_index[r], graph.sender_index[s]] > 0}
    return kept, passes


def _reaches_output(graph, mask, r: int) -> bool:
    """Whether receiver r's node still sends to a present edge (the output always does)."""
    receiver = graph.receivers[r]
    if receiver.kind == "resid_post":
        return True
    own = receiver.layer, receiver.head if receiver.kind in "qkv" else None
    for s, sender in enumerate(graph.senders):
        kind_matches = sender.kind == ("head" if receiver.kind in "qkv" else "mlp")
        if kind_matches and (sender.layer, sender.head) == own:
            return bool((mask[:, s] > 0).any())
    return False


def run(task, config: ACDCConfig) -> Scores:
    metric = _metric(task, config.metric)
    thresholds = sorted({config.threshold, *config.sweep})
    ablation = task.ablation(config.ablation)
    kept_at = {t: acdc(task, t, metric, ablation)[0] for t in thresholds}
    # An edge's score is the largest threshold at which ACDC still keeps it.
    scores = [0.0] * len(task.graph.edges)
    for t in thresholds:
        for i in kept_at[t]:
            scores[i] = max(scores[i], t)
    keys = [edge_key(s, r) for s, r in task.graph.edges]
    from interpbench.plugins.methods.common import edge_scores

    return Scores(
        level="edge",
        edges=edge_scores(task, scores),
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
