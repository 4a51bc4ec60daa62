"""The command line as a user meets it: subprocesses, exit codes, stdout and stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from interpbench.graph import ComputationalGraph
from interpbench.schemas import CaseInfo, MethodInfo, PluginInfo, RunResult

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "transformer_lens", "jax", "tracr")


def interpbench(*args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "interpbench.cli", *args], capture_output=True, text=True, env=full_env
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}: {proc.stderr}")
    return proc


@pytest.mark.parametrize(
    "args",
    [["--help"], ["list", "cases"], ["list", "methods", "--json"], ["list", "loaders"], ["plugins", "--json"]],
)
def test_listing_and_help_do_not_import_heavy_libraries(args):
    code = (
        "import sys\n"
        "from interpbench.cli import cli\n"
        f"try:\n    cli({args!r})\nexcept SystemExit:\n    pass\n"
        f"print('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "HEAVY="


def test_list_json_validates():
    cases = [CaseInfo.model_validate(c) for c in json.loads(interpbench("list", "cases", "--json").stdout)]
    assert "3" in {c.name for c in cases}
    methods = [MethodInfo.model_validate(m) for m in json.loads(interpbench("list", "methods", "--json").stdout)]
    acdc = next(m for m in methods if m.name == "acdc")
    assert acdc.level == "edge" and "threshold" in acdc.config_schema["properties"]
    plugins = [PluginInfo.model_validate(p) for p in json.loads(interpbench("plugins", "--json").stdout)]
    assert plugins[0].name == "interpbench" and "acdc" in plugins[0].methods


def test_list_table_names_provider():
    out = interpbench("list", "methods").stdout
    assert "node-ablation" in out and "interpbench" in out


def test_run_json_is_a_valid_run_result():
    proc = interpbench("run", "--case", "3", "--method", "node-ablation", "--loader", "tracr", "--json")
    result = RunResult.model_validate_json(proc.stdout)
    assert (result.case, result.loader, result.method, result.seed) == ("3", "tracr", "node-ablation", 0)
    assert result.metrics["node_auroc"] == 1.0
    assert {"node_tpr", "node_fpr"} <= set(result.metrics)
    assert result.timings.method_seconds > 0
    assert {"torch", "transformer-lens", "tracr-pypi"} <= set(result.versions)


def test_run_with_positions_scores_each_edge_at_each_position(tmp_path):
    scores = tmp_path / "scores.json"
    proc = interpbench(
        "run", "--case", "3", "--method", "acdc", "--positions", "--examples", "50", "--json",
        "--export-scores", str(scores),
    )  # fmt: skip
    result = RunResult.model_validate_json(proc.stdout)
    from interpbench.runner import make_task

    graph = make_task("3", "tracr", n_examples=2, positions=True).graph  # case 3's compiled model, every position
    assert result.positions and {(e.sender, e.receiver) for e in result.scores.edges} == set(graph.edges)
    assert result.metrics["edge_auroc"] == 1.0  # ACDC finds where each edge is needed
    # the exported per-position scores, scored again by `score --positions`; without it they fit no graph
    again = interpbench("score", "--case", "3", "--scores", str(scores), "--positions", "--examples", "50", "--json")
    assert RunResult.model_validate_json(again.stdout).metrics["edge_auroc"] == 1.0
    refused = interpbench("score", "--case", "3", "--scores", str(scores), "--examples", "50", check=False)
    assert refused.returncode != 0 and "must score every edge" in refused.stderr


def test_run_table_and_set(tmp_path):
    out_file = tmp_path / "r.json"
    proc = interpbench(
        "run", "--case", "3", "--method", "acdc", "--set", "threshold=0.05", "--set", "sweep=[]", "--out", str(out_file)
    )
    assert "edge_tpr" in proc.stdout and "threshold=0.05" in proc.stdout
    assert RunResult.model_validate_json(out_file.read_text()).config["threshold"] == 0.05


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "--case", "999", "--method", "acdc"], "unknown case '999'"),
        (["run", "--case", "3", "--method", "acdcc"], "unknown method 'acdcc'; did you mean acdc?"),
        (["run", "--case", "3", "--method", "acdc", "--loader", "nope"], "unknown loader 'nope'"),
        (["run", "--case", "3", "--method", "acdc", "--set", "threshold"], "malformed --set 'threshold'"),
        (["run", "--case", "3", "--method", "acdc", "--set", "threshold=high"], "invalid value for threshold"),
        (
            ["run", "--case", "3", "--method", "eap", "--positions", "--export-scores", "x.json", "--format", "mib"],
            "--format mib has no token positions",
        ),
        (["run", "--case", "3", "--method", "acdc", "--set", "colour=red"], "invalid value for colour"),
        (["schema", "NoSuchModel"], "unknown schema 'NoSuchModel'"),
        (["run", "--case", "3", "--method", "eap", "--out", ""], "an empty path is not a place to write"),
        (["run", "--case", "3", "--method", "eap", "--seed", "9" * 30], "is not in the range"),
        (["run", "--case", "3", "--method", "eap", "--examples", "1000000000"], "is not in the range"),
        (["sweep", "--cases", "3", "--methods", ",", "--out", "x"], "expected a comma list of method names"),
        (
            ["sweep", "--cases", "3", "--methods", "eap", "--address", "h:1", "--out", "x"],
            "--address is for --executor ray",
        ),
        (["sweep", "--cases", "3", "--methods", "eap", "--seeds", "-1", "--out", "x"], "--seeds must be"),
        (["report", ".", "--metric", "NODE_AUROC"], "unknown metric 'NODE_AUROC'"),
        (["report", "README.md"], "README.md: neither a results folder nor a records file (.jsonl)"),
        (["eval", "--case", "3", "--loader", "nope"], "unknown loader 'nope'"),
        (["run", "--case", "3", "--method", "eap", "--out", "README.md/x.json"], "README.md is not a folder"),
        (
            ["run", "--case", "3", "--method", "eap", "--loader", "tracr", "--model-dir", "docs"],
            "does not read --model-dir",
        ),
        (["compile", "--all", "--case", "999"], "--all and --case exclude each other"),
        (["run", "--case", "3", "--method", "eap-ig", "--set", "steps=true"], "expected a number, not true"),
        (["run", "--case", "3", "--method", "node-sp", "--set", "lambda_reg=Infinity"], "Infinity is not a value"),
        (["run", "--case", "3", "--method", "edge-sp", "--set", "sweep=[NaN]"], "NaN is not a value"),
    ],
)
def test_bad_input_is_one_line_and_nonzero(args, message):
    proc = interpbench(*args, check=False)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert message in lines[0]
    assert "Traceback" not in proc.stderr


def test_strict_plugins_fail_the_command(tmp_path):
    from plugin_fixtures import BROKEN_IMPORT, make_distribution

    root = make_distribution(tmp_path / "d", "broken-plugin", "broken_plugin_mod", BROKEN_IMPORT)
    env = {"PYTHONPATH": str(root), "INTERPBENCH_STRICT_PLUGINS": "1"}
    env_all = {k: v for k, v in os.environ.items() if k != "INTERPBENCH_PLUGINS"}
    proc = subprocess.run(
        [sys.executable, "-m", "interpbench.cli", "list", "methods"],
        capture_output=True,
        text=True,
        env={**env_all, **env},
    )
    assert proc.returncode != 0 and "broken-plugin" in proc.stderr and "Traceback" not in proc.stderr
    relaxed = subprocess.run(
        [sys.executable, "-m", "interpbench.cli", "list", "methods"],
        capture_output=True,
        text=True,
        env={**env_all, "PYTHONPATH": str(root)},
    )
    assert relaxed.returncode == 0 and "acdc" in relaxed.stdout
    assert "warning" in relaxed.stderr and "broken-plugin" in relaxed.stderr


@pytest.fixture(scope="module")
def example_plugin(tmp_path_factory):
    """The example plugin (docs/plugins.md) installed on its own, and an environment that sees it."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(REPO / "examples" / "interpbench-random"),
        ],
        check=True,
        capture_output=True,
    )
    env = {k: v for k, v in os.environ.items() if k != "INTERPBENCH_PLUGINS"}
    env["PYTHONPATH"] = str(target)
    return env


def run_cli(env, *args):
    return subprocess.run([sys.executable, "-m", "interpbench.cli", *args], capture_output=True, text=True, env=env)


def test_example_plugin_installs_and_runs(example_plugin):
    listed = run_cli(example_plugin, "list", "methods")
    assert "random-example" in listed.stdout and "interpbench-random" in listed.stdout
    ran = run_cli(example_plugin, "run", "--case", "3", "--method", "random-example", "--json")
    assert ran.returncode == 0, ran.stderr
    result = RunResult.model_validate_json(ran.stdout)
    assert result.method == "random-example" and result.level == "edge"
    assert 0.0 <= result.metrics["edge_auroc"] <= 1.0


def gpt2_shaped_run(env, loader: str) -> RunResult:
    ran = run_cli(env, "run", "--case", "3", "--loader", loader, "--method", "eap", "--examples", "32", "--json")
    assert ran.returncode == 0, ran.stderr
    result = RunResult.model_validate_json(ran.stdout)
    assert result.status == "ok" and result.metrics["edge_auroc"] is None  # a random model: no ground truth
    assert 0.0 <= result.metrics["faithfulness"] <= 1.0 + 1e-6
    return result


def test_a_plugin_loader_brings_a_layernorm_model_that_eap_runs_on(example_plugin):
    result = gpt2_shaped_run(example_plugin, "gpt2-tiny-random")
    assert len(result.scores.edges) == len(ComputationalGraph(2, 4).edges)


@pytest.mark.slow
def test_eap_runs_through_the_cli_on_a_gpt2_small_shaped_model(example_plugin):
    result = gpt2_shaped_run(example_plugin, "gpt2-small-random")
    assert len(result.scores.edges) == len(ComputationalGraph(12, 12).edges)  # GPT-2 small's graph


def test_schema_files_are_current():
    from interpbench.schemas.export import EXPORTED, schema_text

    for name in EXPORTED:
        path = REPO / "schemas" / f"{name}.json"
        assert path.exists(), f"run `interpbench schema --write schemas` ({name} missing)"
        assert path.read_text() == schema_text(name), (
            f"schemas/{name}.json is stale: run `interpbench schema --write schemas`"
        )


def test_out_writes_through_a_symlink_and_leaves_a_readable_file(tmp_path):
    target, link = tmp_path / "target.json", tmp_path / "link.json"
    link.symlink_to(target)
    proc = interpbench("run", "--case", "3", "--method", "eap", "--examples", "16", "--out", str(link))
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and RunResult.model_validate_json(target.read_text()).method == "eap"
    assert target.stat().st_mode & 0o044  # group/others may read it, as any file the user writes
