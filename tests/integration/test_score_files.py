"""Scoring anyone's scores: interpbench's Scores JSON and the EAP-IG / MIB graph JSON,
read, written, and scored by `interpbench score` exactly as a method's own run."""

import json

import pytest
from click.testing import CliRunner

from interpbench.cli import cli
from interpbench.formats.files import read_scores, write_scores
from interpbench.formats.mib import MIBGraph, read_mib, write_mib
from interpbench.graph import ComputationalGraph
from interpbench.schemas import EdgeScore, RunResult, Scores


def eap_ig_edge_names(n_layers: int, n_heads: int) -> set[str]:
    """Edge names as EAP-IG's Graph.from_model builds them (sequential attention and MLP)."""
    names, residual = set(), ["input"]
    for layer in range(n_layers):
        heads = [f"a{layer}.h{h}" for h in range(n_heads)]
        names |= {f"{node}->{head}<{qkv}>" for node in residual for head in heads for qkv in "qkv"}
        residual += heads
        names |= {f"{node}->m{layer}" for node in residual}
        residual.append(f"m{layer}")
    return names | {f"{node}->logits" for node in residual}


def scores_on(graph: ComputationalGraph) -> Scores:
    return Scores(
        level="edge",
        edges=[EdgeScore(sender=s, receiver=r, score=float(i)) for i, (s, r) in enumerate(graph.edges)],
        selected=[f"{s}->{r}" for s, r in graph.edges[::3]],
    )


def test_our_graph_written_as_mib_has_exactly_eap_ig_edge_names():
    graph = ComputationalGraph(2, 4)
    written = write_mib(scores_on(graph), graph, {})
    assert set(written.edges) == eap_ig_edge_names(2, 4)
    assert written.edges["a0.h1->a1.h2<k>"].score == float(
        graph.edges.index(("blocks.0.attn.hook_result[1]", "blocks.1.hook_k_input[2]"))
    )
    # the two embeddings are one MIB input: the larger score, in the graph when either is
    embed = graph.edges.index(("hook_embed", "blocks.0.hook_mlp_in"))
    pos = graph.edges.index(("hook_pos_embed", "blocks.0.hook_mlp_in"))
    assert written.edges["input->m0"].score == float(max(embed, pos))
    assert written.edges["input->m0"].in_graph == (embed % 3 == 0 or pos % 3 == 0)


def test_a_mib_graph_reads_onto_our_graph():
    graph = ComputationalGraph(2, 4)
    names = sorted(eap_ig_edge_names(2, 4))
    mib = MIBGraph(
        cfg={"n_layers": 2, "n_heads": 4},
        nodes={"input": {"in_graph": True}},
        edges={n: {"score": float(i), "in_graph": n == "a0.h3->m1"} for i, n in enumerate(names)},
    )
    scores = read_mib(mib, graph)
    assert {(e.sender, e.receiver) for e in scores.edges} == set(graph.edges)
    by_edge = {(e.sender, e.receiver): e.score for e in scores.edges}
    assert by_edge[("blocks.0.attn.hook_result[3]", "blocks.1.hook_mlp_in")] == names.index("a0.h3->m1")
    assert by_edge[("hook_pos_embed", "blocks.1.hook_resid_post")] == names.index("input->logits")
    assert by_edge[("hook_embed", "blocks.1.hook_q_input[0]")] == names.index("input->a1.h0<q>")
    assert scores.selected == ["blocks.0.attn.hook_result[3]->blocks.1.hook_mlp_in"]


def test_a_mib_graph_of_another_model_is_refused():
    mib = MIBGraph(cfg={"n_layers": 3, "n_heads": 4}, nodes={}, edges={})
    with pytest.raises(Exception, match="3 layers x 4 heads, not this case's 2 x 4"):
        read_mib(mib, ComputationalGraph(2, 4))


@pytest.mark.parametrize("fmt", ["interpbench", "mib"])
def test_run_export_then_score_gives_the_same_record(tmp_path, fmt):
    exported, record = tmp_path / f"scores.{fmt}.json", tmp_path / "run.json"
    ran = CliRunner().invoke(
        cli, ["run", "--case", "3", "--method", "eap", "--out", str(record), "--export-scores", str(exported),
              "--format", fmt],
    )  # fmt: skip
    assert ran.exit_code == 0, ran.output
    scored = CliRunner().invoke(cli, ["score", "--case", "3", "--scores", str(exported), "--json", "--name", "eap"])
    assert scored.exit_code == 0, scored.output
    original, again = RunResult.model_validate_json(record.read_text()), RunResult.model_validate_json(scored.output)
    assert again.method == "eap" and again.config == {"scores_file": str(exported), "format": "auto"}
    if fmt == "interpbench":
        assert again.metrics == original.metrics
    else:  # the embeddings merged into MIB's one input node: their edges take the larger score
        assert again.metrics["edge_auroc"] == pytest.approx(original.metrics["edge_auroc"], abs=0.05)
        assert again.metrics["node_auroc"] == original.metrics["node_auroc"]


def test_a_bad_scores_file_is_one_line(tmp_path):
    cases = {
        "not json": "{",
        "not scores": json.dumps({"level": "edge", "edges": [{"sender": "a"}]}),
        "missing edges": json.dumps({"level": "edge", "edges": []}),
        "wrong model": json.dumps({"cfg": {"n_layers": 9, "n_heads": 1}, "nodes": {}, "edges": {}}),
        "bad edge name": json.dumps(
            {"cfg": {}, "nodes": {}, "edges": {"input->a0.h0": {"score": 1, "in_graph": True}}}
        ),
    }
    for what, text in cases.items():
        path = tmp_path / f"{what}.json"
        path.write_text(text)
        result = CliRunner().invoke(cli, ["score", "--case", "3", "--scores", str(path)])
        assert result.exit_code == 1, (what, result.output)
        assert result.output.startswith("Error: ") and len(result.output.strip().splitlines()) == 1, (
            what,
            result.output,
        )


def test_read_and_write_agree_on_our_format(tmp_path):
    graph = ComputationalGraph(2, 4)
    scores = scores_on(graph)
    path = write_scores(scores, tmp_path / "s.json", "interpbench")
    assert read_scores(path, graph) == scores
