"""Training, evaluating and using SIIT models from the command line; the shipped zoo."""

import json
import os
import subprocess
import sys

import pytest

from interpbench.schemas import RunResult
from interpbench.siit import zoo

ZOO_CASES = [e["case"] for e in zoo.entries()]


def interpbench(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "interpbench.cli", *args], capture_output=True, text=True, env={**os.environ, **(env or {})}
    )


def test_the_zoo_holds_at_least_ten_passing_models_under_10_mb():
    rows = zoo.entries()
    assert len(rows) >= 10
    assert all(r["passed"] and min(r["accuracy"], r["iia"], r["strict_accuracy"]) >= 0.995 for r in rows)
    assert sum(r["size_bytes"] for r in rows) < 10 * 2**20


@pytest.mark.parametrize("case", ZOO_CASES)
def test_zoo_models_still_meet_the_thresholds(case):
    from interpbench.siit.store import evaluate_directory

    result = evaluate_directory(case, zoo.zoo_dir(case), node_effects=False)
    assert min(result.accuracy, result.iia, result.strict_accuracy) >= 0.995


def test_zoo_listing_json():
    proc = interpbench("zoo", "--json")
    assert proc.returncode == 0, proc.stderr
    assert {r["case"] for r in json.loads(proc.stdout)} == set(ZOO_CASES)


def test_run_on_the_zoo_needs_no_training(tmp_path):
    proc = interpbench("run", "--case", "3", "--method", "node-ablation", "--loader", "siit", "--json",
                       env={"INTERPBENCH_CACHE": str(tmp_path)})
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
    proc = interpbench("run", "--case", "2", "--method", "acdc", "--loader", "siit", env={"INTERPBENCH_CACHE": str(tmp_path)})
    assert proc.returncode != 0
    assert proc.stderr.strip().count("\n") == 0 and "no trained model for case 2" in proc.stderr


def test_bad_training_setting_is_one_clear_line():
    proc = interpbench("train", "--case", "3", "--set", "lr=fast")
    assert proc.returncode != 0 and "invalid value for lr" in proc.stderr and "Traceback" not in proc.stderr
