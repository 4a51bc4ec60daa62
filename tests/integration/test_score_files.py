"""Scoring anyone's scores: interpbench's Scores JSON, the EAP-IG / MIB graph JSON and
auto-circuit's prune scores, read, written, and scored by `interpbench score` exactly as a
method's own run."""

import json
from itertools import count

import numpy as np
import pytest
from click.testing import CliRunner

from interpbench.cli import cli
from interpbench.errors import InterpbenchError
from interpbench.formats.auto_circuit import read_prune_scores, write_prune_scores
from interpbench.formats.files import read_scores, write_scores
from interpbench.formats.mib import MIBGraph, read_mib, write_mib
from interpbench.graph import EMBED, POS_EMBED, ComputationalGraph, head_in, head_out, mlp_in, mlp_out, resid_post
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


@pytest.mark.parametrize(
    "fmt, file",
    [
        ("interpbench", "scores.json"),
        ("mib", "scores.mib.json"),
        ("auto-circuit", "prune_scores.safetensors"),
        ("auto-circuit", "prune_scores.json"),
    ],
)
def test_run_export_then_score_gives_the_same_record(tmp_path, fmt, file):
    exported, record = tmp_path / file, tmp_path / "run.json"
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
    else:  # the embeddings merged into one input node (MIB's input, auto-circuit's Resid Start)
        assert again.metrics["edge_auroc"] == pytest.approx(original.metrics["edge_auroc"], abs=0.05)
        assert again.metrics["node_auroc"] == original.metrics["node_auroc"]
        assert set(again.metrics) == set(original.metrics)  # the selected circuit came along
    if fmt == "auto-circuit":  # and exactly: float64 on disk
        assert again.scores == merged_embeddings(original.scores)


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


@pytest.mark.parametrize("fmt, file", [("interpbench", "s.json"), ("mib", "g.json"), ("auto-circuit", "p.safetensors")])
def test_per_position_scores_are_written_only_where_positions_fit(tmp_path, fmt, file):
    graph = ComputationalGraph(2, 4, positions=3)
    scores = scores_on(graph)
    if fmt == "interpbench":
        assert read_scores(write_scores(scores, tmp_path / file, fmt), graph) == scores
    else:
        with pytest.raises(InterpbenchError, match="per token position"):
            write_scores(scores, tmp_path / file, fmt)
        # a pair-level file of that format, read onto the positional graph (its format
        # told by content or named), is refused for what it lacks
        path = write_scores(scores_on(ComputationalGraph(2, 4)), tmp_path / file, fmt)
        for named in ("auto", fmt):
            with pytest.raises(InterpbenchError, match=f"{file}: {fmt} scores have no token positions"):
                read_scores(path, graph, named)


# --- auto-circuit's prune scores ---------------------------------------------------------


def auto_circuit_graph(n_layers: int, n_heads: int, has_mlps: bool = True):
    """auto-circuit 1.0.1's graph of a sequential HookedTransformer with
    ``patchable_model(factorized=True, separate_qkv=True, seq_len=None)``, transcribed from
    its source: nodes from ``auto_circuit/model_utils/transformer_lens_utils.py``
    (``factorized_src_nodes``, ``factorized_dest_nodes``), edges where ``src.layer <
    dest.layer`` and mask shapes ``[heads in the module] + [n_in_src]`` from
    ``auto_circuit/utils/graph_utils.py`` (``graph_edges``, ``make_model_patchable``), an
    edge's index ``[head_idx] + [src_idx]`` from ``Edge.patch_idx`` in ``auto_circuit/types.py``.

    Returns ``{dest module: mask shape}`` and ``{edge name: (dest module, patch_idx)}``."""
    src_layers, dest_layers = count(), count(1)  # as the two factories count them
    srcs, dests = [("Resid Start", next(src_layers))], []  # src_idx is the position in srcs
    for block in range(n_layers):
        src_layer, dest_layer = next(src_layers), next(dest_layers)
        srcs += [(f"A{block}.{h}", src_layer) for h in range(n_heads)]
        dests += [(f"A{block}.{h}.{x}", f"blocks.{block}.hook_{x.lower()}_input", dest_layer, h) for h in range(n_heads) for x in "QKV"]  # fmt: skip
        if has_mlps:
            srcs.append((f"MLP {block}", next(src_layers)))
            dests.append((f"MLP {block}", f"blocks.{block}.hook_mlp_in", next(dest_layers), None))
    dests.append(("Resid End", f"blocks.{n_layers - 1}.hook_resid_post", next(dest_layers), None))
    shapes, edges = {}, {}
    for dest, module, dest_layer, head in dests:
        n_in_src = sum(1 for _, src_layer in srcs if src_layer < dest_layer)
        heads = sum(1 for d in dests if d[1] == module)  # the module's DestNodes
        shapes[module] = (heads, n_in_src) if head is not None else (n_in_src,)
        for src_idx, (src, src_layer) in enumerate(srcs):
            if src_layer < dest_layer:
                edges[f"{src}->{dest}"] = (module, (head, src_idx) if head is not None else (src_idx,))
    return shapes, edges


def ours_of(auto_circuit_edge: str, n_layers: int) -> list[tuple[str, str]]:
    """Our edges behind an auto-circuit edge name (the map of docs/formats.md, written out)."""
    src, dest = auto_circuit_edge.split("->")
    if src == "Resid Start":
        senders = [EMBED, POS_EMBED]
    elif src.startswith("MLP "):
        senders = [mlp_out(int(src[4:]))]
    else:
        layer, head = src[1:].split(".")
        senders = [head_out(int(layer), int(head))]
    if dest == "Resid End":
        receiver = resid_post(n_layers - 1)
    elif dest.startswith("MLP "):
        receiver = mlp_in(int(dest[4:]))
    else:
        layer, head, qkv = dest[1:].split(".")
        receiver = head_in(int(layer), int(head), qkv.lower())
    return [(s, receiver) for s in senders]


def test_the_auto_circuit_graph_transcription_is_auto_circuits():
    # Written out from auto-circuit 1.0.1's make_model_patchable for 2 layers x 4 heads with
    # MLPs: q/k/v masks [n_heads, sources before the layer], MLP and Resid End masks [sources].
    shapes, edges = auto_circuit_graph(2, 4)
    assert shapes == {
        "blocks.0.hook_q_input": (4, 1), "blocks.0.hook_k_input": (4, 1), "blocks.0.hook_v_input": (4, 1),
        "blocks.0.hook_mlp_in": (5,),
        "blocks.1.hook_q_input": (4, 6), "blocks.1.hook_k_input": (4, 6), "blocks.1.hook_v_input": (4, 6),
        "blocks.1.hook_mlp_in": (10,),
        "blocks.1.hook_resid_post": (11,),
    }  # fmt: skip
    assert edges["A0.1->A1.2.K"] == ("blocks.1.hook_k_input", (2, 2))
    assert edges["MLP 0->A1.3.V"] == ("blocks.1.hook_v_input", (3, 5))
    assert edges["A0.3->MLP 0"] == ("blocks.0.hook_mlp_in", (4,))
    assert edges["MLP 1->Resid End"] == ("blocks.1.hook_resid_post", (10,))
    assert "A1.0->A1.0.Q" not in edges and "MLP 0->MLP 0" not in edges
    # case 3's compiled model (2 layers, 1 head): auto-circuit's 23 edges (benchmarks/README.md)
    assert len(auto_circuit_graph(2, 1)[1]) == 23


@pytest.mark.parametrize("has_mlps", [True, False])
def test_our_graph_written_as_prune_scores_has_auto_circuits_keys_shapes_and_indices(has_mlps):
    graph = ComputationalGraph(2, 4, has_mlps=has_mlps)
    scores = scores_on(graph)
    values, selected = write_prune_scores(scores, graph)
    shapes, edges = auto_circuit_graph(2, 4, has_mlps)
    assert {module: tuple(np.shape(v)) for module, v in values.items()} == shapes
    by_edge = {(e.sender, e.receiver): e.score for e in scores.edges}
    chosen = set(scores.selected or [])
    for name, (module, index) in edges.items():
        ours = ours_of(name, 2)
        assert np.asarray(values[module])[index] == max(by_edge[e] for e in ours), name  # the embeddings: larger
        assert (name in selected) == any(f"{s}->{r}" in chosen for s, r in ours), name
    assert set(selected) <= set(edges)
    assert len(edges) + len(graph.receivers) == len(graph.edges)  # one embedding edge fewer per receiver


def merged_embeddings(scores: Scores) -> Scores:
    """``scores`` as they come back from a format with one input node: both embedding edges
    of a receiver take the larger score, and are selected when either is."""
    by_edge = {(e.sender, e.receiver): e.score for e in scores.edges}
    chosen = set(scores.selected or [])

    def twins(s, r):
        return [(x, r) for x in (EMBED, POS_EMBED)] if s in (EMBED, POS_EMBED) else [(s, r)]

    edges = [EdgeScore(sender=s, receiver=r, score=max(by_edge[t] for t in twins(s, r))) for s, r in by_edge]
    picked = sorted(f"{s}->{r}" for s, r in by_edge if any(f"{a}->{b}" in chosen for a, b in twins(s, r)))
    return Scores(level="edge", edges=edges, selected=picked if scores.selected is not None else None)


@pytest.mark.parametrize("file", ["prune_scores.safetensors", "prune_scores.json"])
def test_prune_scores_round_trip_up_to_the_embedding_merge(tmp_path, file):
    graph = ComputationalGraph(2, 4)
    scores = scores_on(graph)
    path = write_scores(scores, tmp_path / file, "auto-circuit", {"case": "x"})
    assert read_scores(path, graph) == read_scores(path, graph, "auto-circuit") == merged_embeddings(scores)


def test_prune_scores_saved_with_torch_save_read_back(tmp_path):
    """What an auto-circuit user does: ``torch.save(prune_scores, path)``, a dict of tensors."""
    import torch
    from safetensors.torch import load_file

    graph = ComputationalGraph(2, 4)
    scores = scores_on(graph)
    prune_scores = load_file(write_scores(scores, tmp_path / "ps.safetensors", "auto-circuit"))
    torch.save(prune_scores, tmp_path / "ps.pt")
    torch.save(prune_scores, tmp_path / "ps-legacy.pt", _use_new_zipfile_serialization=False)
    torch.save({k: v.float() for k, v in prune_scores.items()}, tmp_path / "ps32.pt")
    expected = merged_embeddings(scores).model_copy(update={"selected": None})
    assert read_scores(tmp_path / "ps.pt", graph) == expected
    assert read_scores(tmp_path / "ps-legacy.pt", graph) == expected
    assert read_scores(tmp_path / "ps32.pt", graph) == expected  # small integers: exact in float32
    # a circuit as auto-circuit's circuit_prune_scores(bool=True) gives it
    torch.save({k: v >= 100 for k, v in prune_scores.items()}, tmp_path / "circuit.pt")
    assert {e.score for e in read_scores(tmp_path / "circuit.pt", graph).edges} == {0.0, 1.0}


def test_prune_scores_are_ranked_by_magnitude_as_auto_circuit_ranks_them():
    graph = ComputationalGraph(2, 1)
    shapes, _ = auto_circuit_graph(2, 1)
    values = {m: (-np.arange(np.prod(s)).reshape(s) - 1.0).tolist() for m, s in shapes.items()}
    assert min(e.score for e in read_prune_scores(values, None, graph).edges) == 1.0  # |score|
    # negative scores of ours are shifted on the way out, so that |score| keeps their order
    signed = Scores(
        level="edge", edges=[EdgeScore(sender=s, receiver=r, score=i - 20.0) for i, (s, r) in enumerate(graph.edges)]
    )
    back = read_prune_scores(*write_prune_scores(signed, graph), graph)
    expected = merged_embeddings(signed)
    lowest = min(e.score for e in expected.edges)
    assert lowest < 0 and [e.score for e in back.edges] == [e.score - lowest for e in expected.edges]


class Exec:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


@pytest.mark.parametrize("zipped", [True, False])
def test_a_torch_save_file_with_code_is_refused_without_running_it(tmp_path, zipped):
    import torch

    marker, path = tmp_path / "pwned", tmp_path / "evil.pt"
    torch.save({"blocks.1.hook_resid_post": Exec(marker)}, path, _use_new_zipfile_serialization=zipped)
    with pytest.raises(InterpbenchError, match="refused to load .*evil.pt"):
        read_scores(path, ComputationalGraph(2, 1))
    result = CliRunner().invoke(cli, ["score", "--case", "3", "--scores", str(path)])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1, result.output
    assert "refused to load" in result.output and str(path) in result.output
    assert not marker.exists()
    torch.load(path, weights_only=False)  # the payload is live: an unsafe load runs it
    assert marker.exists()


def test_a_bad_prune_scores_file_is_one_line(tmp_path):
    import torch
    from safetensors.torch import save_file

    graph = ComputationalGraph(2, 1)  # case 3's compiled model
    good, _ = write_prune_scores(scores_on(graph), graph)
    tensors = {k: torch.tensor(v) for k, v in good.items()}
    wider = {**good, "blocks.0.hook_mlp_in": [1.0, 2.0, 3.0]}
    cases = {
        "wrong shape.json": json.dumps(wider),
        "unknown key.json": json.dumps({**good, "blocks.2.hook_mlp_in": [1.0]}),
        "missing key.json": json.dumps({k: v for k, v in good.items() if k != "blocks.1.hook_resid_post"}),
        "ragged.json": json.dumps({**good, "blocks.1.hook_q_input": [[1.0, 2.0]]}),
        "not a number.json": json.dumps({**good, "blocks.0.hook_mlp_in": ["a", 1.0]}),
        "nan.json": json.dumps({**good, "blocks.0.hook_mlp_in": [float("nan"), 1.0]}),
        "unknown selected edge.json": json.dumps({**good, "selected": ["A1.0->A0.0.Q"]}),
        "garbage zip.pt": b"PK\x03\x04 not really a zip",
    }
    save_file({**tensors, "blocks.0.hook_mlp_in": torch.zeros(3)}, tmp_path / "wrong shape.safetensors")
    torch.save({**tensors, "blocks.0.hook_mlp_in": "text"}, tmp_path / "not a tensor.pt")
    torch.save([1, 2], tmp_path / "not a dict.pt")
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    files = sorted(tmp_path.iterdir())
    assert len(files) == len(cases) + 3
    for path in files:
        result = CliRunner().invoke(cli, ["score", "--case", "3", "--scores", str(path)])
        assert result.exit_code == 1, (path.name, result.output)
        lines = result.output.strip().splitlines()
        assert result.output.startswith("Error: ") and len(lines) == 1 and str(path) in lines[0], (
            path.name,
            result.output,
        )
    wrong = CliRunner().invoke(cli, ["score", "--case", "3", "--scores", str(tmp_path / "wrong shape.json")])
    assert "blocks.0.hook_mlp_in has shape [3], expected [2]" in wrong.output
    unknown = CliRunner().invoke(cli, ["score", "--case", "3", "--scores", str(tmp_path / "unknown key.json")])
    assert "unknown key 'blocks.2.hook_mlp_in'" in unknown.output
    # a binary file asked for as JSON
    forced = CliRunner().invoke(
        cli, ["score", "--case", "3", "--scores", str(tmp_path / "wrong shape.safetensors"), "--format", "mib"]
    )
    assert forced.exit_code == 1 and "a safetensors file, not mib JSON" in forced.output
