"""Training, evaluating and using SIIT models from the command line; the shipped zoo."""

import json
import os
import subprocess
import sys

import pytest

from interpbench.schemas import RunResult
from interpbench.siit import zoo


def interpbench(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "interpbench.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )


CERTIFIED = [e["case"] for e in zoo.entries() if e["passed"]]
SAMPLE = [c for c in ("3", "7", "13", "14") if c in CERTIFIED]  # the cases whose joint strict accuracy once failed


def test_the_zoo_is_certified_and_small():
    rows = zoo.entries()
    assert len(CERTIFIED) >= 16
    for r in rows:
        if r["passed"]:
            assert min(r["accuracy"], r["iia"], r["strict_accuracy"]) >= r["threshold"]
            assert r["joint_strict_accuracy"] >= r["joint_threshold"], r["case"]
        else:  # an uncertified model is listed with its numbers, and no loader serves it
            assert zoo.find(r["case"]) is None or zoo.find(r["case"]) != zoo.zoo_dir(r["case"])
    assert sum(r["size_bytes"] for r in rows) < 50 * 2**20


def _meets_its_certificate(case):
    from interpbench.siit.store import evaluate_directory

    result = evaluate_directory(case, zoo.zoo_dir(case), node_effects=False)
    assert result.passed(0.995, 0.99), (
        result.accuracy,
        result.iia,
        result.strict_accuracy,
        result.joint_strict_accuracy,
    )


@pytest.mark.parametrize("case", SAMPLE)
def test_zoo_models_still_meet_their_certificate(case):
    _meets_its_certificate(case)


@pytest.mark.slow
@pytest.mark.parametrize("case", [c for c in CERTIFIED if c not in SAMPLE])
def test_every_zoo_model_still_meets_its_certificate(case):
    _meets_its_certificate(case)


def test_zoo_listing_json():
    proc = interpbench("zoo", "--json")
    assert proc.returncode == 0, proc.stderr
    assert {r["case"] for r in json.loads(proc.stdout)} == {e["case"] for e in zoo.entries()}


def test_run_on_the_zoo_needs_no_training(tmp_path):
    proc = interpbench(
        "run",
        "--case",
        "3",
        "--method",
        "node-ablation",
        "--loader",
        "siit",
        "--json",
        env={"INTERPBENCH_CACHE": str(tmp_path)},
    )
    assert proc.returncode == 0, proc.stderr
    result = RunResult.model_validate_json(proc.stdout)
    assert result.loader == "siit" and result.metrics["node_auroc"] == 1.0


def test_eval_prints_the_node_effects_table():
    proc = interpbench("eval", "--case", "3")
    assert proc.returncode == 0, proc.stderr
    assert "IIA 1.0000" in proc.stdout or "IIA 0.99" in proc.stdout
    assert "in_circuit" in proc.stdout and "not_in_circuit" in proc.stdout


def test_train_then_use_the_model(tmp_path):
    out = tmp_path / "case3"
    proc = interpbench("train", "--case", "3", "--set", "max_steps=1500", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "PASSED" in proc.stdout
    assert {"model.safetensors", "config.json", "circuit.json", "meta.json"} <= {p.name for p in out.iterdir()}
    ran = interpbench("run", "--case", "3", "--method", "eap", "--loader", "siit", "--model-dir", str(out), "--json")
    assert ran.returncode == 0, ran.stderr
    assert RunResult.model_validate_json(ran.stdout).loader == "siit"


def test_missing_model_is_one_clear_line(tmp_path):
    from interpbench import registry

    # a compilable case the zoo has no model for (the zoo grows, so none is named here)
    in_zoo = {e["case"] for e in zoo.entries()}
    untrained = [c.name for c in registry.case_specs() if not c.not_compilable and c.name not in in_zoo]
    if not untrained:
        pytest.skip("the zoo has a model for every compilable case")
    case = untrained[0]
    proc = interpbench(
        "run", "--case", case, "--method", "acdc", "--loader", "siit", env={"INTERPBENCH_CACHE": str(tmp_path)}
    )
    assert proc.returncode != 0
    assert proc.stderr.strip().count("\n") == 0 and f"no trained model for case {case}" in proc.stderr


def test_bad_training_setting_is_one_clear_line():
    proc = interpbench("train", "--case", "3", "--set", "lr=fast")
    assert proc.returncode != 0 and "invalid value for lr" in proc.stderr and "Traceback" not in proc.stderr


def test_eval_gives_a_verdict_and_fails_on_a_model_that_misses_its_certificate(tmp_path):
    import shutil

    from safetensors.torch import load_file, save_file

    broken = tmp_path / "broken-3"
    shutil.copytree(zoo.zoo_dir("3"), broken)
    state = load_file(str(broken / "model.safetensors"))
    state["unembed.W_U"] = state["unembed.W_U"] * 0.0  # the output no longer depends on anything
    save_file(state, str(broken / "model.safetensors"))
    proc = interpbench("eval", "--case", "3", "--model-dir", str(broken))
    assert proc.returncode == 1
    assert "certificate: does NOT meet" in proc.stdout and "joint strict accuracy" in proc.stdout
    ok = interpbench("eval", "--case", "3")
    assert ok.returncode == 0 and "certificate: meets" in ok.stdout


def test_eval_works_for_a_third_party_loader(fresh_registry):
    """eval is not limited to the built-in loaders: any loader's model is compared with
    the compiled one, and a crashing loader is one line naming its plugin."""
    from click.testing import CliRunner

    from interpbench import hookimpl
    from interpbench.cli import cli
    from interpbench.siit.store import load_trained

    class Plugin:
        @hookimpl
        def register_loaders(self, register):
            register(
                name="my-zoo",
                description="The zoo, through a plugin.",
                load=lambda case, **kw: load_trained(case, zoo.zoo_dir(case.name)),
            )
            register(name="crashing", description="Raises.", load=lambda case, **kw: 1 / 0)

    fresh_registry.add_plugin(Plugin(), name="my-plugin")
    ok = CliRunner().invoke(cli, ["eval", "--case", "3", "--loader", "my-zoo"])
    assert ok.exit_code == 0, ok.output
    assert "case 3 (my-zoo)" in ok.output and "certificate: meets" in ok.output
    bad = CliRunner().invoke(cli, ["eval", "--case", "3", "--loader", "crashing"])
    assert bad.exit_code != 0 and "'my-plugin'" in bad.output and "ZeroDivisionError" in bad.output
    shown = CliRunner().invoke(cli, ["show", "case", "3", "--loader", "crashing"])
    assert shown.exit_code != 0 and "Traceback" not in shown.output and "'my-plugin'" in shown.output


def test_a_run_on_an_uncertified_model_warns_and_compile_of_a_refused_case_fails(tmp_path, fresh_registry):
    import shutil

    from click.testing import CliRunner

    from interpbench import hookimpl
    from interpbench.cli import cli

    uncertified = tmp_path / "uncertified-3"
    shutil.copytree(zoo.zoo_dir("3"), uncertified)
    meta = json.loads((uncertified / "meta.json").read_text())
    (uncertified / "meta.json").write_text(json.dumps({**meta, "passed": False}))
    result = CliRunner().invoke(
        cli, ["run", "--case", "3", "--method", "eap", "--loader", "siit", "--model-dir", str(uncertified)]
    )
    assert result.exit_code == 0 and "did not meet its certificate" in result.output

    class Refused:
        @hookimpl
        def register_cases(self, register):
            register(name="refused", description="tracr cannot.", vocab={"a"}, max_seq_len=3, program=None,
                     categorical=True, not_compilable="uses an unsupported operation")  # fmt: skip

    fresh_registry.add_plugin(Refused(), name="refused-case")
    assert CliRunner().invoke(cli, ["compile", "--case", "refused"]).exit_code == 1
