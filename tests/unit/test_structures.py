"""The hard track's structures: when a resampled subset of a group follows the source, and
the ground-truth circuit each structure's correspondence gives (reasoned out by hand)."""

from types import SimpleNamespace

import pytest

from interpbench import graph as g
from interpbench.compiler.ground_truth import make_circuit
from interpbench.siit.correspondence import Structure, build_correspondence

H0, H1, H2 = (g.head_out(0, h) for h in range(3))


def follows_table(kind: str, members: tuple[str, ...]) -> dict[tuple[str, ...], bool]:
    st = Structure(kind, "hl", members)
    return {subset: st.follows(set(subset)) for subset in st.subsets()}


def test_redundant_copies_follow_the_source_only_when_two_of_three_are_resampled():
    table = follows_table("redundant", ("a", "b", "c"))
    assert table == {("a",): False, ("b",): False, ("c",): False,
                     ("a", "b"): True, ("a", "c"): True, ("b", "c"): True, ("a", "b", "c"): True}  # fmt: skip


def test_a_backup_pair_follows_the_source_only_when_both_are_resampled():
    assert follows_table("backup", ("primary", "backup")) == {
        ("primary",): False, ("backup",): False, ("primary", "backup"): True}  # fmt: skip


def test_the_negative_head_cancels_one_positive_head():
    # votes: two positive heads for the value they carry, one negative head against it
    table = follows_table("cancelling", ("p1", "p2", "n"))
    assert table == {("p1",): True, ("p2",): True, ("n",): False,
                     ("p1", "p2"): True, ("p1", "n"): False, ("p2", "n"): False, ("p1", "p2", "n"): True}  # fmt: skip


def cfg(n_layers: int, n_heads: int):
    return SimpleNamespace(n_layers=n_layers, n_heads=n_heads, attn_only=False)


# HL: 1 layer, 1 head; the embedding feeds the head's value, the head feeds the MLP, the MLP the output.
HL = SimpleNamespace(cfg=cfg(1, 1))
HL_CIRCUIT = make_circuit(
    {(g.EMBED, g.head_in(0, 0, "v")), (g.head_out(0, 0), g.mlp_in(0)), (g.mlp_out(0), g.resid_post(0))}, "edge"
)


def test_redundant_copies_each_get_the_hl_heads_edges():
    corr = build_correspondence(HL, HL_CIRCUIT, cfg(2, 4), structure="redundant", structure_node=H0)
    assert corr.structure.members == (H0, H1, H2)
    assert corr.ll_circuit(HL_CIRCUIT).edge_set() == {
        (g.EMBED, g.head_in(0, 0, "v")), (g.EMBED, g.head_in(0, 1, "v")), (g.EMBED, g.head_in(0, 2, "v")),
        (H0, g.mlp_in(0)), (H1, g.mlp_in(0)), (H2, g.mlp_in(0)), (g.mlp_out(0), g.resid_post(1)),
    }  # fmt: skip
    assert set(corr.in_circuit) == {H0, H1, H2, g.mlp_out(0)}
    assert H1 not in corr.unmapped and g.head_out(0, 3) in corr.unmapped


def test_a_backup_head_sits_in_the_free_layer_and_reads_its_primary():
    corr = build_correspondence(HL, HL_CIRCUIT, cfg(2, 4), layer_stride=2, structure="backup", structure_node=H0)
    backup = g.head_out(1, 0)
    assert corr.structure.members == (H0, backup)
    assert corr.mapping == {H0: H0, g.mlp_out(0): g.mlp_out(1)}  # the MLP moves to the layer after the backup
    assert corr.ll_circuit(HL_CIRCUIT).edge_set() == {
        (g.EMBED, g.head_in(0, 0, "v")), (g.EMBED, g.head_in(1, 0, "v")),
        (H0, g.mlp_in(1)), (backup, g.mlp_in(1)), (g.mlp_out(1), g.resid_post(1)),
        *((H0, g.head_in(1, 0, qkv)) for qkv in "qkv"),
    }  # fmt: skip


def test_a_sparse_model_keeps_the_circuit_and_leaves_the_rest_out():
    corr = build_correspondence(HL, HL_CIRCUIT, cfg(2, 8), layer_stride=2)
    assert corr.ll_circuit(HL_CIRCUIT).edge_set() == {
        (g.EMBED, g.head_in(0, 0, "v")), (H0, g.mlp_in(1)), (g.mlp_out(1), g.resid_post(1))}  # fmt: skip
    assert len(corr.unmapped) == 2 * 8 + 2 - 2


def test_impossible_placements_are_refused():
    with pytest.raises(ValueError, match="layer_stride 2"):
        build_correspondence(HL, HL_CIRCUIT, cfg(2, 4), structure="backup", structure_node=H0)
    with pytest.raises(ValueError, match="no free head"):
        build_correspondence(HL, HL_CIRCUIT, cfg(2, 2), structure="redundant", structure_node=H0)
    with pytest.raises(ValueError, match="must be a head"):
        build_correspondence(HL, HL_CIRCUIT, cfg(2, 4), structure="redundant", structure_node=g.mlp_out(0))


def test_a_third_party_structure_is_registered_placed_and_scored(fresh_registry):
    from interpbench import hookimpl

    class FourCopies:
        @hookimpl
        def register_structures(self, register):
            register(name="three-of-four", description="Four copies; any three carry the head.",
                     roles=("copy",) * 4, layer_offsets=(0, 0, 0, 1), follows=lambda r: sum(r) >= 3)  # fmt: skip
            register(name="never", description="Broken: the whole group does not follow the source.",
                     roles=("a", "b"), layer_offsets=(0, 0), follows=lambda r: False)  # fmt: skip

    fresh_registry.add_plugin(FourCopies(), name="four-copies")
    assert "never" not in [s.name for s in fresh_registry.structures()]
    assert any("never" in p and "every member resampled" in p for p in fresh_registry.problems())
    corr = build_correspondence(HL, HL_CIRCUIT, cfg(2, 4), layer_stride=2, structure="three-of-four", structure_node=H0)
    assert corr.structure.members == (H0, H1, H2, g.head_out(1, 0))
    assert corr.structure.follows({H0, H1, H2}) and not corr.structure.follows({H0, H1})
    # the member in the next layer reads the three before it
    edges = corr.ll_circuit(HL_CIRCUIT).edge_set()
    assert {(m, g.head_in(1, 0, "q")) for m in (H0, H1, H2)} <= edges
    from interpbench.siit.hard import preset

    assert preset("three-of-four")["layer_stride"] == 2


def test_a_structure_is_refused_on_a_head_whose_interchange_changes_nothing():
    import torch

    from interpbench.siit.evaluate import EvalData
    from interpbench.siit.train import most_decisive_head

    corr = build_correspondence(HL, HL_CIRCUIT, cfg(2, 4))
    labels = torch.randint(3, (8, 5))
    same = EvalData(base=labels, source=labels, categorical=True, hl_base=labels, hl_iit={H0: labels.clone(),
                    g.mlp_out(0): labels.clone()})  # fmt: skip
    with pytest.raises(ValueError, match="could not be seen"):  # case 67: its only head is constant over the data
        most_decisive_head(same, corr)
    changed = labels.clone()
    changed[:, 1:] = (labels[:, 1:] + 1) % 3
    same.hl_iit[H0] = changed
    assert most_decisive_head(same, corr) == H0
