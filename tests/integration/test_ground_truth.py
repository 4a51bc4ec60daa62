"""Ground-truth circuits of structurally different cases, reasoned out from their RASP.

How tracr lays a program out (read with ``interpbench show case N``): every layer has
an attention sub-layer and an MLP sub-layer; a Map / SequenceMap is an MLP, an
Aggregate is a head (query and key read the Select's queries and keys, the value reads
the aggregated SOp), and a SelectorWidth is a head (q/k from the Select; its value
reads only BOS, which the ground truth ignores) followed by an MLP in the same layer
that reads the head's output. Sub-layers with nothing to do are left empty and are
not in the circuit. ``tokens`` come from ``hook_embed``, ``indices`` from
``hook_pos_embed``; whatever writes the program's output feeds the last
``hook_resid_post``.
"""

from __future__ import annotations

import pytest

from interpbench import graph as g
from interpbench.compiler.ground_truth import head_circuit

EMBED, POS = "hook_embed", "hook_pos_embed"
RESID_PRE = "blocks.0.hook_resid_pre"


def q(layer, head=0):
    return g.head_in(layer, head, "q")


def k(layer, head=0):
    return g.head_in(layer, head, "k")


def v(layer, head=0):
    return g.head_in(layer, head, "v")


def head(layer, h=0):
    return g.head_out(layer, h)


def test_case_8_single_map_is_one_mlp(compiled):
    """Case 8: ``Map(lambda x: x, tokens)``.

    One Map is one MLP: MLP 0 reads the token embedding and writes the output, which the
    final residual stream reads. The model has one layer; its head is empty.
    Expected: {embed -> mlp_in 0, mlp_out 0 -> resid_post 0}.
    """
    c = compiled("8")
    assert c.model.cfg.n_layers == 1
    assert c.circuit.edge_set() == {
        (EMBED, g.mlp_in(0)),
        (g.mlp_out(0), g.resid_post(0)),
    }
    assert head_circuit(c.circuit).edge_set() == {
        (RESID_PRE, g.mlp_out(0)),
        (g.mlp_out(0), g.resid_post(0)),
    }


def test_case_7_histogram_is_selector_width(compiled):
    """Case 7: ``SelectorWidth(Select(tokens, tokens, EQ))``.

    The SelectorWidth is head 0.0 plus MLP 0: the head's query and key read the tokens
    (the Select compares token with token); its value reads only the BOS direction
    (ignored), so there is no value edge. MLP 0 turns the head's output (1/(w+1)
    attention to BOS) into the categorical count, and that is the output.
    Expected: {embed -> q 0.0, embed -> k 0.0, head 0.0 -> mlp_in 0, mlp_out 0 -> resid_post 0}.
    """
    c = compiled("7")
    assert (c.model.cfg.n_layers, c.model.cfg.n_heads) == (1, 1)
    assert c.circuit.edge_set() == {
        (EMBED, q(0)),
        (EMBED, k(0)),
        (head(0), g.mlp_in(0)),
        (g.mlp_out(0), g.resid_post(0)),
    }
    assert head_circuit(c.circuit).edge_set() == {
        (RESID_PRE, head(0)),
        (head(0), g.mlp_out(0)),
        (g.mlp_out(0), g.resid_post(0)),
    }


def test_case_32_previous_token_then_sequence_map(compiled):
    """Case 32: ``prev = shift_by(1, tokens)`` then ``SequenceMap(x != prev, tokens, prev)``.

    shift_by(1) is ``Aggregate(Select(indices, indices, q == k + 1), tokens)``: head 0.0
    with query and key reading positions and value reading tokens. The SequenceMap is
    MLP 0 in the same layer and reads both of its arguments: the tokens (embedding) and
    the shifted tokens (head 0.0). Its output is the program's output.
    Expected: {pos -> q 0.0, pos -> k 0.0, embed -> v 0.0, embed -> mlp_in 0,
    head 0.0 -> mlp_in 0, mlp_out 0 -> resid_post 0}.
    """
    c = compiled("32")
    assert c.circuit.edge_set() == {
        (POS, q(0)),
        (POS, k(0)),
        (EMBED, v(0)),
        (EMBED, g.mlp_in(0)),
        (head(0), g.mlp_in(0)),
        (g.mlp_out(0), g.resid_post(0)),
    }


def test_case_4_numerical_two_layer_composition(compiled):
    """Case 4: ``opens = frac_prevs(tokens == "(")``, ``closes = frac_prevs(tokens == ")")``,
    output ``LinearSequenceMap(opens, closes, 1, -1)`` (all numerical).

    - Layer 0: the two numerical Maps ``tokens == "("`` / ``tokens == ")"`` run in
      parallel in MLP 0, reading the token embedding. Head 0.x is empty.
    - Layer 1: the two prefix-mean Aggregates over ``Select(indices, indices, LEQ)`` are
      heads 1.0 and 1.1: q and k read positions, v reads the Maps' outputs (MLP 0).
    - MLP 1 is the LinearSequenceMap, reading both heads; it writes the output.
    Which head computes opens and which closes is tracr's choice; both have the same
    edges, so the set below does not depend on it.
    Expected: {embed -> mlp_in 0} + {pos -> q 1.h, pos -> k 1.h, mlp_out 0 -> v 1.h,
    head 1.h -> mlp_in 1 : h = 0, 1} + {mlp_out 1 -> resid_post 1}.
    """
    c = compiled("4")
    assert (c.model.cfg.n_layers, c.model.cfg.n_heads) == (2, 2)
    expected = {(EMBED, g.mlp_in(0)), (g.mlp_out(1), g.resid_post(1))}
    for h in (0, 1):
        expected |= {
            (POS, q(1, h)),
            (POS, k(1, h)),
            (g.mlp_out(0), v(1, h)),
            (head(1, h), g.mlp_in(1)),
        }
    assert c.circuit.edge_set() == expected
    # Head level: the embeddings fold into resid_pre; q/k/v fold into their head.
    assert head_circuit(c.circuit).edge_set() == {
        (RESID_PRE, g.mlp_out(0)),
        (RESID_PRE, head(1, 0)),
        (RESID_PRE, head(1, 1)),
        (g.mlp_out(0), head(1, 0)),
        (g.mlp_out(0), head(1, 1)),
        (head(1, 0), g.mlp_out(1)),
        (head(1, 1), g.mlp_out(1)),
        (g.mlp_out(1), g.resid_post(1)),
    }


def test_case_18_two_selector_widths_in_one_layer(compiled):
    """Case 18: ``hist = SelectorWidth(Select(tokens, tokens, EQ))``,
    ``length = SelectorWidth(Select(tokens, tokens, TRUE))``, output
    ``SequenceMap(classify, hist, length)``.

    - Layer 0: both SelectorWidths are independent, so they share the layer: heads 0.0
      and 0.1, each with q and k reading tokens (both Selects are over tokens; for the
      TRUE selector this is the structural read the craft graph records, although its
      pattern does not depend on the tokens), then MLP 0 holding both width MLPs,
      reading both heads.
    - Layer 1: the SequenceMap is MLP 1, reading hist and length (both written by MLP 0);
      it writes the output. The layer-1 head is empty.
    Expected: {embed -> q 0.h, embed -> k 0.h, head 0.h -> mlp_in 0 : h = 0, 1}
    + {mlp_out 0 -> mlp_in 1, mlp_out 1 -> resid_post 1}.
    """
    c = compiled("18")
    assert (c.model.cfg.n_layers, c.model.cfg.n_heads) == (2, 2)
    expected = {(g.mlp_out(0), g.mlp_in(1)), (g.mlp_out(1), g.resid_post(1))}
    for h in (0, 1):
        expected |= {(EMBED, q(0, h)), (EMBED, k(0, h)), (head(0, h), g.mlp_in(0))}
    assert c.circuit.edge_set() == expected
    assert head_circuit(c.circuit).edge_set() == {
        (RESID_PRE, head(0, 0)),
        (RESID_PRE, head(0, 1)),
        (head(0, 0), g.mlp_out(0)),
        (head(0, 1), g.mlp_out(0)),
        (g.mlp_out(0), g.mlp_out(1)),
        (g.mlp_out(1), g.resid_post(1)),
    }


def test_case_9_sort(compiled):
    """Case 9 (sort): ``keys = SequenceMap(t + i/10, tokens, indices)``;
    ``target = SelectorWidth(Select(keys, keys, LT))``;
    output ``Aggregate(Select(target, indices, EQ), tokens)`` (keys = target, queries = indices).

    - MLP 0: the SequenceMap, reading tokens and indices (both embeddings).
    - Layer 1: the SelectorWidth: head 1.0 with q and k reading the keys (MLP 0), and
      MLP 1 reading the head and writing ``target``.
    - Layer 2: the Aggregate is head 2.0: query reads indices (pos embedding), key reads
      ``target`` (MLP 1), value reads tokens (embedding). It writes the output.
    Empty: head 0.0, MLP 2.
    Expected: {embed -> mlp_in 0, pos -> mlp_in 0, mlp_out 0 -> q 1.0, mlp_out 0 -> k 1.0,
    head 1.0 -> mlp_in 1, pos -> q 2.0, mlp_out 1 -> k 2.0, embed -> v 2.0,
    head 2.0 -> resid_post 2}.
    """
    c = compiled("9")
    assert (c.model.cfg.n_layers, c.model.cfg.n_heads) == (3, 1)
    assert c.circuit.edge_set() == {
        (EMBED, g.mlp_in(0)),
        (POS, g.mlp_in(0)),
        (g.mlp_out(0), q(1)),
        (g.mlp_out(0), k(1)),
        (head(1), g.mlp_in(1)),
        (POS, q(2)),
        (g.mlp_out(1), k(2)),
        (EMBED, v(2)),
        (head(2), g.resid_post(2)),
    }
    assert head_circuit(c.circuit).edge_set() == {
        (RESID_PRE, g.mlp_out(0)),
        (g.mlp_out(0), head(1)),
        (head(1), g.mlp_out(1)),
        (RESID_PRE, head(2)),
        (g.mlp_out(1), head(2)),
        (head(2), g.resid_post(2)),
    }


def test_case_109_two_gathers_from_computed_indices(compiled):
    """Case 109: ``length = SelectorWidth(Select(tokens, tokens, TRUE))``;
    ``last = Map(n - 1, length)``, ``second = Map(n - 2, length)``;
    ``token_at(i) = Aggregate(Select(indices, i, EQ), tokens)`` for both (keys = indices,
    queries = the computed index); output ``SequenceMap(equal, last_tok, second_tok)``.

    - Layer 0: the length SelectorWidth: head 0.0 (q, k read tokens) and MLP 0.
    - Layer 1: the two Maps of ``length`` in MLP 1 (reading MLP 0). Heads empty.
    - Layer 2: the two gathers are heads 2.0 and 2.1: q reads the computed index (MLP 1),
      k reads positions, v reads tokens. MLP 2 is the SequenceMap reading both heads.
    Head 0.1 and heads 1.x are empty.
    """
    c = compiled("109")
    assert (c.model.cfg.n_layers, c.model.cfg.n_heads) == (3, 2)
    expected = {
        (EMBED, q(0)),
        (EMBED, k(0)),
        (head(0), g.mlp_in(0)),
        (g.mlp_out(0), g.mlp_in(1)),
        (g.mlp_out(2), g.resid_post(2)),
    }
    for h in (0, 1):
        expected |= {(g.mlp_out(1), q(2, h)), (POS, k(2, h)), (EMBED, v(2, h)), (head(2, h), g.mlp_in(2))}
    assert c.circuit.edge_set() == expected


@pytest.mark.parametrize("name", ["3", "4", "7", "8", "9", "18", "32", "109"])
def test_circuit_is_a_subgraph_of_the_model_graph(compiled, name):
    """Every ground-truth edge is an edge of the model's computational graph (it flows
    forward), the circuit's node list is exactly the nodes its edges touch, and exactly
    one edge reaches the final residual stream."""
    c = compiled(name)
    cfg = c.model.cfg
    model_graph = g.ComputationalGraph(cfg.n_layers, cfg.n_heads)
    edges = c.circuit.edge_set()
    assert edges <= set(model_graph.edges)
    assert set(c.circuit.nodes) == {n for e in edges for n in e}
    assert len([e for e in edges if e[1] == g.resid_post(cfg.n_layers - 1)]) == 1
    folded = head_circuit(c.circuit)
    assert folded.level == "head" and folded.edge_set() == g.fold_to_heads(edges)
