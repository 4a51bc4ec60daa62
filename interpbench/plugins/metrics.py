"""Built-in metrics: ROC against the ground truth at edge and node level, faithfulness."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable

from interpbench import (
    MIB_FRACTIONS,
    MetricOutput,
    Scores,
    average_precision,
    circuit_nodes,
    confusion,
    edge_key,
    fold_edges,
    fold_node,
    fold_scores,
    hookimpl,
    mib_areas,
    pessimistic_auc,
    position_of,
    roc_points,
    split_edge_key,
    top_circuits,
    trapezoid_auc,
)

if TYPE_CHECKING:
    from interpbench import DiscoveryTask, Folding


def _edge_scores(scores: Scores) -> dict[str, float]:
    return {edge_key(e.sender, e.receiver): e.score for e in scores.edges}


def node_scores(scores: Scores, nodes: list[str]) -> dict[str, float]:
    """Node scores; for an edge-level method, a node's score is its best edge's."""
    if scores.level == "node":
        return {n: scores.nodes[n] for n in nodes}
    best = {n: float("-inf") for n in nodes}
    for e in scores.edges:
        for end in (fold_node(e.sender), fold_node(e.receiver)):
            if end in best:
                best[end] = max(best[end], e.score)
    return best


def selected_nodes(scores: Scores, nodes: list[str]) -> set[str] | None:
    return None if scores.selected is None else _nodes_of(scores.level, scores.selected, nodes)


def _nodes_of(level: str, selected: list[str], nodes: list[str]) -> set[str]:
    """The nodes of a selection: node names as they are, edges by their endpoints."""
    if level == "node":
        return set(selected)
    return set(circuit_nodes([split_edge_key(k) for k in selected], nodes))


def _roc(
    prefix: str,
    scored: dict[str, float],
    truth: set[str],
    selected: set[str] | None,
    swept: list[set[str]] | None = None,
) -> MetricOutput:
    """ROC from the scores, or from the circuits of a threshold sweep when there is one."""

    universe = list(scored)
    if swept:
        rates = [confusion(kept, truth, universe) for kept in swept]
        points = sorted((c.fpr, c.tpr) for c in rates if c.fpr is not None and c.tpr is not None)
    else:
        points = roc_points(scored, truth)
    # MIB's ROC: the circuits of its sizes by top score, (0, 0) added, trapezoids
    mib = [confusion(kept, truth, universe) for kept in top_circuits(scored)]
    mib_points = [(c.fpr, c.tpr) for c in mib if c.fpr is not None and c.tpr is not None]
    out = MetricOutput(
        values={
            f"{prefix}_auroc": pessimistic_auc(points) if points else None,
            f"{prefix}_auroc_trapezoid": trapezoid_auc(points) if points else None,
            f"{prefix}_auroc_mib": trapezoid_auc(mib_points) if points and mib_points else None,
            f"{prefix}_auprc": average_precision(scored, truth) if points else None,
        },
        curves={f"{prefix}_roc": points},
    )
    if selected is not None:
        c = confusion(selected, truth, universe)
        out.values.update({f"{prefix}_tpr": c.tpr, f"{prefix}_fpr": c.fpr})
        out.sets.update({f"{prefix}_tp": c.tp, f"{prefix}_fp": c.fp, f"{prefix}_fn": c.fn, f"{prefix}_tn": c.tn})
    return out


def edge_roc(scores: Scores, task: DiscoveryTask) -> MetricOutput:
    """Edge ROC at both granularities; the headline ``edge_*`` names carry the one the
    loader certifies (``task.granularity``), the others keep their ``edge_qkv_*`` and
    ``edge_head_*`` names; ``edge_interpbench_*`` is InterpBench's own evaluation (head level,
    the embeddings merged into one sender, nothing left out). Edges out of a sender that the loader's ablation cannot
    change (``unrevealable_senders``) are scored neither as positives nor as negatives.
    Node-level scores are scored too, by the edges their node circuits induce (InterpBench's
    convention for node-level subnetwork probing)."""

    hidden = unrevealable_senders(task)

    def visible(keys):
        return {k for k in keys if position_of(split_edge_key(k)[0])[0] not in hidden}

    truth = {edge_key(e.sender, e.receiver) for e in task.ground_truth.edges}
    if scores.level == "edge":
        fine = _edge_scores(scores)
        selected = set(scores.selected) if scores.selected is not None else None
        swept = [set(c.selected) for c in scores.sweep]
    else:  # InterpBench's convention for node-level methods: a circuit of nodes holds every edge between them
        fine = induced_edge_scores(scores.nodes, task.graph)
        selected = None if scores.selected is None else induced_edges(set(scores.selected), task.graph)
        swept = [induced_edges(set(c.selected), task.graph) for c in scores.sweep]
    shown = visible(fine)
    out = MetricOutput(sets={"edge_unrevealable": sorted(k for k in fine if k not in shown)})
    # InterpBench's own evaluation merges the embeddings and leaves nothing out: kept for comparison.
    levels: tuple[tuple[Folding, Callable[[Iterable[str]], set[str]]], ...] = (
        ("qkv", visible),
        ("head", visible),
        ("interpbench", set),
    )
    for level, keep in levels:
        kept = keep(fine)
        result = _roc(
            f"edge_{level}",
            fold_scores({k: v for k, v in fine.items() if k in kept}, level),
            keep(fold_edges(truth, level)),
            None if selected is None else keep(fold_edges(selected, level)),
            [keep(fold_edges(c, level)) for c in swept],
        )
        out.values.update(result.values)
        out.sets.update(result.sets)
        out.curves.update(result.curves)
    prefix = f"edge_{task.granularity}_"

    def headline(key: str) -> str:
        return "edge_" + key[len(prefix) :]

    out.values.update({headline(k): v for k, v in out.values.items() if k.startswith(prefix)})
    parts: tuple[dict, ...] = (out.sets, out.curves)
    for part in parts:  # the certified level's sets and curve only under the headline names
        for key in [k for k in part if k.startswith(prefix)]:
            part[headline(key)] = part.pop(key)
    return out


def _endpoints(sender: str, receiver: str) -> tuple[str, str]:
    return fold_node(sender, merge_embeddings=False), fold_node(receiver, merge_embeddings=False)


def induced_edge_scores(node_scores: dict[str, float], graph) -> dict[str, float]:
    """Edge scores of a node-level method: an edge is kept at a threshold when both its
    nodes are, so it scores the lower of its two nodes' scores (embeddings and the final
    residual stream are always kept)."""
    always = float("inf")
    out = {}
    for s, r in graph.edges:
        a, b = _endpoints(s, r)
        out[edge_key(s, r)] = min(node_scores.get(a, always), node_scores.get(b, always))
    return out


def induced_edges(nodes: set[str], graph) -> set[str]:
    """The edges between a node circuit's nodes (embeddings and the output always in it)."""
    universe = set(graph.nodes)
    return {edge_key(s, r) for s, r in graph.edges if all(n in nodes or n not in universe for n in _endpoints(s, r))}


def unrevealable_senders(task: DiscoveryTask) -> set[str]:
    """Senders with an output that the loader's default ablation leaves unchanged on every
    input (``hook_pos_embed`` under resample ablation: every input has the same positions;
    a node computing only the sequence length on full-length data): no ablation of the run
    can show that a circuit needs their edges. A sender whose output is zero everywhere
    (an unused head of a compiled model) is not among them: it is plainly not needed, and
    its edges stay negatives, as InterpBench counts them."""
    engine = task.engine
    clean = engine.clean_out.flatten(1)  # [S, B*P*D]
    ablated = engine.ablated_outputs(task.ablation("auto")).expand_as(engine.clean_out).flatten(1)
    size = clean.abs().amax(1)
    unchanged = (clean - ablated).abs().amax(1) <= 1e-6 * size.clamp(min=1.0)
    hidden = unchanged & (size > 1e-6)
    return {s.name for s, h in zip(task.graph.senders, hidden.tolist()) if h}


def node_roc(scores: Scores, task: DiscoveryTask) -> MetricOutput:
    nodes = task.graph.nodes
    truth = set(circuit_nodes(task.ground_truth.edge_set(), nodes))
    swept = [_nodes_of(scores.level, c.selected, nodes) for c in scores.sweep]
    out = _roc("node", node_scores(scores, nodes), truth, selected_nodes(scores, nodes), swept)
    out.sets["node_gt_constant"] = constant_nodes(task, truth)
    return out


def constant_nodes(task: DiscoveryTask, truth: set[str]) -> list[str]:
    """Circuit nodes whose output is the same on every input of the data (e.g. the
    sequence length when all inputs have full length): no resample or mean ablation
    can show them, so a method missing them is not necessarily wrong."""
    clean = task.engine.clean_out  # [S, B, P, D]
    index = task.graph.sender_index
    return [n for n in task.graph.nodes if n in truth and float(clean[index[n]].var(dim=0).max()) < 1e-12]


def faithfulness(scores: Scores, task: DiscoveryTask) -> MetricOutput:
    """The selected circuit's validation metric, against the empty circuit's.

    ``faithfulness`` = 1 - metric(circuit) / metric(empty circuit): 1 means the circuit
    alone reproduces the full model, 0 means it is no better than nothing.
    """
    import torch

    if scores.selected is None:
        return MetricOutput()
    engine, graph = task.engine, task.graph
    chosen = set(scores.selected)
    if scores.level == "edge":
        kept = torch.tensor([[edge_key(s, r) in chosen for s, r in graph.edges]], dtype=torch.float)
        mask = engine.edge_mask(torch.cat([kept, torch.zeros_like(kept)]))
    else:
        kept = torch.tensor([[n in chosen for n in graph.nodes]], dtype=torch.float)
        mask = engine.node_mask(torch.cat([kept, torch.zeros_like(kept)]))
    with torch.no_grad():
        circuit_metric, empty_metric = engine.run(mask, "resample", reduce=task.metric).tolist()
    value = 1.0 - circuit_metric / empty_metric if empty_metric > 0 else None
    return MetricOutput(values={"circuit_metric": circuit_metric, "empty_metric": empty_metric, "faithfulness": value})


def mib_faithfulness(scores: Scores, task: DiscoveryTask) -> MetricOutput:
    """MIB's circuit-track faithfulness (Mueller et al. 2025): the circuits of its sizes
    (0.1 % ... 100 % of edges by top score; a node method's edges score as in edge-roc),
    each scored f(k) = (m(C_k) - m(empty)) / (m(full) - m(empty)); ``mib_cpr`` is the area
    under f over the sizes, ``mib_cmd`` the area under |1 - f|. m is the case's validation
    metric (KL or L2 to the full model, so m(full) = 0) under the loader's ablation."""
    import torch

    if scores.level == "edge":
        fine = _edge_scores(scores)
    else:
        fine = induced_edge_scores(scores.nodes, task.graph)
    keys = [edge_key(s, r) for s, r in task.graph.edges]
    kept = torch.tensor([[k in circuit for k in keys] for circuit in top_circuits(fine)], dtype=torch.float)
    engine = task.engine
    with torch.no_grad():
        with_empty = engine.edge_mask(torch.cat([kept, torch.zeros(1, len(keys))]))
        *circuits, empty = engine.run(with_empty, task.ablation("auto"), reduce=task.metric).tolist()
    if empty <= 0:  # ablating everything changes nothing: no faithfulness to measure
        return MetricOutput()
    f = [(m - empty) / (0.0 - empty) + 0.0 for m in circuits]  # + 0.0: no -0.0
    cpr, cmd = mib_areas(f)
    return MetricOutput(
        values={"mib_cpr": cpr, "mib_cmd": cmd}, curves={"mib_faithfulness": list(zip(MIB_FRACTIONS, f))}
    )


def group_found(scores: Scores, task: DiscoveryTask) -> MetricOutput:
    """On a hard-track model: how much of its structured group the method sees.
    ``group_found`` is the share of the group's members scored above every node outside
    the circuit (node scores; an edge method's node score is its best edge's), and
    ``group_selected`` the share in the method's own circuit. Empty on other models."""
    members = task.loaded.info.get("group") or []
    if not members:
        return MetricOutput()
    nodes = task.graph.nodes
    truth = set(circuit_nodes(task.ground_truth.edge_set(), nodes))
    scored = node_scores(scores, nodes)
    best_outside = max((scored[n] for n in nodes if n not in truth), default=float("-inf"))
    found = [m for m in members if scored[m] > best_outside]
    out = MetricOutput(
        values={"group_found": len(found) / len(members)},
        sets={"group_missed": [m for m in members if m not in found]},
    )
    selected = selected_nodes(scores, nodes)
    if selected is not None:
        out.values["group_selected"] = sum(m in selected for m in members) / len(members)
    return out


@hookimpl
def register_metrics(register):
    register(
        name="edge-roc",
        description="Edge TPR/FPR at the method's threshold (with TP/FP/FN/TN sets) and edge AUROC, at the certified granularity.",
        compute=edge_roc,
    )
    register(
        name="node-roc",
        description="Node TPR/FPR at the method's threshold (with TP/FP/FN/TN sets) and node AUROC.",
        compute=node_roc,
    )
    register(
        name="faithfulness",
        description="The found circuit's metric against the full model (0) and the empty circuit.",
        compute=faithfulness,
    )
    register(
        name="mib",
        description="MIB's faithfulness curve over circuits of 0.1-100 % of edges by top score: CPR (area under it) and CMD.",
        compute=mib_faithfulness,
    )
    register(
        name="group-found",
        description="Hard track: the share of the structured group a method ranks above every node outside the circuit.",
        compute=group_found,
    )
