"""The shipped hard track: every structure certified, recomputed from the shipped models
(each member alone, each pair, the whole group), served by its loader, scored by methods."""

import pytest

from interpbench import registry
from interpbench.siit import zoo
from interpbench.siit.hard import TRACK

MODELS = [(e["case"], e["structure"]) for st in TRACK for e in zoo.entries(st) if e["passed"]]
#: one small case per structure, recomputed in the default run; the rest in the slow set
SAMPLE = [(c, st) for c, st in MODELS if c == "13"]


def test_the_hard_track_covers_every_structure_on_eight_cases():
    assert {st for _, st in MODELS} == set(TRACK)
    assert len(MODELS) >= 20 and len({c for c, _ in MODELS}) >= 8


def _recompute(case: str, structure: str):
    from interpbench.siit.store import evaluate_directory, read_meta

    directory = zoo.zoo_dir(case, structure)
    result = evaluate_directory(registry.get_case(case), directory, node_effects=False)
    assert result.passed(0.995, 0.99), (result.accuracy, result.iia, result.strict_accuracy,
                                        result.joint_strict_accuracy, result.structure_per_subset)  # fmt: skip
    group = read_meta(directory)["correspondence"].get("structure")
    if structure == "sparse":
        assert group is None and result.structure_accuracy is None
        return
    members = group["members"]
    subsets = result.structure_per_subset
    assert len(subsets) == 2 ** len(members) - 1  # each alone, each pair, all
    assert all(subsets[m] >= 0.995 for m in members)
    if structure == "cancelling":  # the negative head offsets a positive one: ablated together, nothing changes
        positive, negative = members[0], members[2]
        together = result.structure_effects[f"{positive}+{negative}"]
        assert together < result.structure_effects[positive]


@pytest.mark.parametrize(("case", "structure"), SAMPLE)
def test_hard_models_still_meet_their_certificate(case, structure):
    _recompute(case, structure)


@pytest.mark.slow
@pytest.mark.parametrize(("case", "structure"), [m for m in MODELS if m not in SAMPLE])
def test_every_hard_model_still_meets_its_certificate(case, structure):
    _recompute(case, structure)


def test_a_hard_model_is_served_by_its_loader_with_the_group_in_its_circuit():
    from interpbench.runner import make_task

    case, structure = next(m for m in SAMPLE if m[1] == "redundant")
    task = make_task(case, f"hard-{structure}", n_examples=16)
    (entry,) = [e for e in zoo.entries(structure) if e["case"] == case]
    assert set(entry["group"]["members"]) <= {n for e in task.loaded.circuit.edges for n in (e.sender, e.receiver)}
    assert task.loaded.info["structure"] == "redundant" and task.granularity == "head"


def test_eval_recomputes_a_hard_models_certificate_subset_by_subset():
    import subprocess
    import sys

    case, structure = next(m for m in SAMPLE if m[1] == "backup")
    proc = subprocess.run([sys.executable, "-m", "interpbench.cli", "eval", "--case", case, "--loader", f"hard-{structure}"],
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "structure accuracy" in proc.stdout and "certificate: meets" in proc.stdout
    assert proc.stdout.count("accuracy 0.99") + proc.stdout.count("accuracy 1.0") >= 3  # primary, backup, both


def test_the_hard_listing_names_each_models_group():
    import json
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "interpbench.cli", "zoo", "--hard", "--json"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert {(r["case"], r["structure"]) for r in rows if r["passed"]} == set(MODELS)
    assert all(r["group"]["roles"] == ["primary", "backup"] for r in rows if r["structure"] == "backup")


def test_a_backup_head_fools_one_at_a_time_ablation_where_the_plain_model_does_not():
    import interpbench

    case = next(c for c, st in SAMPLE if st == "backup")
    plain = interpbench.run(case=case, method="node-ablation", loader="siit", n_examples=200)
    hard = interpbench.run(case=case, method="node-ablation", loader="hard-backup", n_examples=200)
    assert "group_found" not in plain.metrics  # no group on a zoo model
    # ablating the primary or the backup alone changes nothing, so neither stands out
    assert hard.metrics["group_found"] < 1 and set(hard.sets["group_missed"])
    assert hard.metrics["node_auroc"] < plain.metrics["node_auroc"]
