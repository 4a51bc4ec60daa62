"""EAP-IG over activations (``eap-ig-activations``): on a case whose circuit is known by
construction, against its definition computed with plain TransformerLens hooks, and
against ``eap-ig``, whose passes are its input node's."""

import pytest
import torch
from hooks_reference import receiver_gradients_reference, sender_activations

import interpbench
from interpbench.plugins.methods.eap import EAPIGActivationsConfig, EAPIGConfig, run_eap_ig, run_eap_ig_activations
from interpbench.runner import make_task


@pytest.mark.parametrize("config", [{}, {"gradients": "own-node"}, {"score": "interpbench"}])
def test_finds_the_compiled_circuit(config):
    result = interpbench.run(case="3", method="eap-ig-activations", config=config)
    assert result.status == "ok"
    assert result.metrics["edge_auroc"] == 1.0 and result.metrics["edge_tpr"] == 1.0


def node_groups(graph) -> list[list[str]]:
    """EAP-IG's nodes, by sender name: the input, each layer's attention, each MLP."""
    groups = [["hook_embed", "hook_pos_embed"]]
    for layer in range(graph.n_layers):
        groups.append([f"blocks.{layer}.attn.hook_result[{h}]" for h in range(graph.n_heads)])
        groups += [[f"blocks.{layer}.hook_mlp_out"]] if graph.has_mlps else []
    return groups


def hooked_scores(task, ablation: str, steps: int, gradients: str, score: str) -> list[float]:
    """The definition, with TransformerLens hooks: for each node and k = 1..steps, the clean
    run with the node's outputs overwritten by ablated + k/steps (clean - ablated), and the
    gradient of the target at every receiver; an edge's attribution per example is
    (clean_s - ablated_s) · that gradient averaged over every pass (all-nodes) or over its
    sender's node's passes (own-node)."""
    model, graph = task.model, task.graph
    clean = sender_activations(model, graph, task.clean)
    if ablation == "resample":
        ablated = sender_activations(model, graph, task.corrupted)
    else:  # zero-except-embed: the token embedding mean-ablated, every other output zero
        ablated = {s: torch.zeros_like(a) for s, a in clean.items()}
        ablated["hook_embed"] = clean["hook_embed"].mean(0, keepdim=True).expand_as(clean["hook_embed"])
    with torch.no_grad():
        answer = model(task.clean).argmax(-1)[:, 1:]  # the full model's classes (case 18 is categorical)

    def target(logits):
        chosen = logits[:, 1:].log_softmax(-1).gather(-1, answer[..., None]).sum()
        return chosen / len(logits) if score == "interpbench" else chosen  # InterpBench's batch mean

    groups = node_groups(graph)
    averaged = {}  # node index -> receiver name -> gradient averaged over the node's passes
    for i, group in enumerate(groups):
        passes = []
        for k in range(1, steps + 1):
            fixed = {s: ablated[s] + k / steps * (clean[s] - ablated[s]) for s in group}
            passes.append(receiver_gradients_reference(model, graph, task.clean, target, fixed)[1])
        averaged[i] = {r: sum(p[r] for p in passes) / steps for r in passes[0]}
    everywhere = {r: sum(averaged[i][r] for i in averaged) / len(groups) for r in averaged[0]}
    node_of = {s: i for i, group in enumerate(groups) for s in group}
    values = []
    for s, r in graph.edges:
        grad = averaged[node_of[s]][r] if gradients == "own-node" else everywhere[r]
        per_example = ((clean[s] - ablated[s]) * grad).sum((1, 2))  # [B]
        values.append(float(per_example.sum().abs() if score == "interpbench" else per_example.abs().mean()))
    return values


@pytest.fixture(scope="module")
def task18():
    return make_task("18", "tracr", seed=0, n_examples=24)  # two heads and an MLP in each of two layers


@pytest.mark.parametrize(
    "ablation, gradients, score",
    [
        ("resample", "all-nodes", "abs-mean"),
        ("zero-except-embed", "own-node", "abs-mean"),
        ("zero-except-embed", "all-nodes", "interpbench"),
    ],
)
def test_scores_are_the_definition_computed_with_hooks(task18, ablation, gradients, score):
    config = EAPIGActivationsConfig(ablation=ablation, steps=3, gradients=gradients, score=score)
    ours = torch.tensor([e.score for e in run_eap_ig_activations(task18, config).edges])
    expected = torch.tensor(hooked_scores(task18, ablation, 3, gradients, score))
    assert expected.max() > 0
    assert torch.allclose(ours, expected, rtol=1e-4, atol=1e-6 * float(expected.max()))


def test_the_two_readings_differ_and_the_input_node_is_eap_ig(task3):
    """With own-node gradients, the edges out of the embeddings see only the input node's
    passes, which are EAP-IG's (the input embeddings interpolated, the rest computed freely):
    their scores are eap-ig's. Every-node averaging mixes in the other nodes' passes."""
    common = dict(steps=4, ablation="zero-except-embed")
    own = run_eap_ig_activations(task3, EAPIGActivationsConfig(gradients="own-node", **common)).edges
    every = run_eap_ig_activations(task3, EAPIGActivationsConfig(**common)).edges
    eap_ig = run_eap_ig(task3, EAPIGConfig(**common)).edges
    from_input = [i for i, e in enumerate(own) if e.sender in ("hook_embed", "hook_pos_embed")]
    assert [own[i].score for i in from_input] == pytest.approx([eap_ig[i].score for i in from_input], rel=1e-5)
    assert max(own[i].score for i in from_input) > 0
    assert [e.score for e in own] != pytest.approx([e.score for e in every], rel=1e-3)
