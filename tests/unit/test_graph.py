from interpbench import graph as g


def test_names_match_acdc_and_interpbench():
    G = g.ComputationalGraph(n_layers=2, n_heads=1)
    senders = [s.name for s in G.senders]
    assert senders == [
        "hook_embed",
        "hook_pos_embed",
        "blocks.0.attn.hook_result[0]",
        "blocks.0.hook_mlp_out",
        "blocks.1.attn.hook_result[0]",
        "blocks.1.hook_mlp_out",
    ]
    receivers = [r.name for r in G.receivers]
    assert receivers[:4] == [
        "blocks.0.hook_q_input[0]",
        "blocks.0.hook_k_input[0]",
        "blocks.0.hook_v_input[0]",
        "blocks.0.hook_mlp_in",
    ]
    assert receivers[-1] == "blocks.1.hook_resid_post"


def test_edges_only_run_downstream():
    G = g.ComputationalGraph(n_layers=2, n_heads=2)
    edges = set(G.edges)
    # A head feeds the MLP of its own layer but not the heads of its own layer.
    assert ("blocks.0.attn.hook_result[1]", "blocks.0.hook_mlp_in") in edges
    assert ("blocks.0.attn.hook_result[0]", "blocks.0.hook_q_input[1]") not in edges
    assert ("blocks.1.hook_mlp_out", "blocks.1.hook_resid_post") in edges
    assert ("blocks.1.hook_mlp_out", "blocks.0.hook_mlp_in") not in edges
    # 2 embeddings + per layer (2 heads + mlp); receivers q/k/v per head, mlp, output.
    expected = (
        2 * 6  # layer-0 q/k/v: embeddings only
        + 4 * 1  # layer-0 mlp: embeddings + 2 heads
        + 5 * 6  # layer-1 q/k/v: embeddings + layer 0
        + 7  # layer-1 mlp
        + 8  # resid_post: everything
    )
    assert len(G.edges) == expected


def test_fold_to_heads_merges_qkv_and_embeddings():
    edges = {
        ("hook_embed", "blocks.0.hook_mlp_in"),
        ("hook_pos_embed", "blocks.1.hook_q_input[0]"),
        ("hook_pos_embed", "blocks.1.hook_k_input[0]"),
        ("blocks.0.hook_mlp_out", "blocks.1.hook_v_input[0]"),
        ("blocks.1.attn.hook_result[0]", "blocks.1.hook_resid_post"),
    }
    assert g.fold_to_heads(edges) == {
        ("blocks.0.hook_resid_pre", "blocks.0.hook_mlp_out"),
        ("blocks.0.hook_resid_pre", "blocks.1.attn.hook_result[0]"),
        ("blocks.0.hook_mlp_out", "blocks.1.attn.hook_result[0]"),
        ("blocks.1.attn.hook_result[0]", "blocks.1.hook_resid_post"),
    }


def test_a_circuit_at_positions_keeps_each_edge_where_it_reaches_a_scored_output():
    """One head reading the token one place back (keys and values at p - 1 for the query at
    p), then an MLP; the output is scored at positions 1 and 2 (not BOS)."""
    graph = g.ComputationalGraph(1, 1, positions=3)
    circuit = {
        ("hook_embed", "blocks.0.hook_v_input[0]"),
        ("hook_pos_embed", "blocks.0.hook_q_input[0]"),
        ("blocks.0.attn.hook_result[0]", "blocks.0.hook_mlp_in"),
        ("blocks.0.hook_mlp_out", "blocks.0.hook_resid_post"),
    }
    previous = [[True, False, False], [True, False, False], [False, True, False]]  # [query][key]
    truth = g.positional_edges(circuit, graph, {(0, 0): previous}, scored=[False, True, True])
    assert truth == {
        ("hook_embed@0", "blocks.0.hook_v_input[0]@0"),
        ("hook_embed@1", "blocks.0.hook_v_input[0]@1"),  # read by the query at 2; nothing reads 2
        ("hook_pos_embed@1", "blocks.0.hook_q_input[0]@1"),
        ("hook_pos_embed@2", "blocks.0.hook_q_input[0]@2"),
        ("blocks.0.attn.hook_result[0]@1", "blocks.0.hook_mlp_in@1"),
        ("blocks.0.attn.hook_result[0]@2", "blocks.0.hook_mlp_in@2"),
        ("blocks.0.hook_mlp_out@1", "blocks.0.hook_resid_post@1"),
        ("blocks.0.hook_mlp_out@2", "blocks.0.hook_resid_post@2"),
    }
    assert len(graph.edges) == 3 * len(graph.pairs) and graph.edges[1] == (
        "hook_embed@1",
        "blocks.0.hook_q_input[0]@1",
    )
    assert g.fold_node("blocks.0.hook_q_input[0]@2") == "blocks.0.attn.hook_result[0]"
