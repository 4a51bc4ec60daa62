"""Sweeps: resumable after a kill at any moment, failures recorded, nothing repeated."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pydantic import BaseModel

from interpbench import hookimpl
from interpbench.results import sweep as sweep_module
from interpbench.results.sweep import grid, run_sweep
from interpbench.schemas import RunResult

ARGS = ["--cases", "3", "--methods", "node-ablation,eap", "--seeds", "0,1,2", "--examples", "64"]


def sweep(out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "interpbench.cli", "sweep", *ARGS, "--out", str(out), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def records(out: Path) -> list[Path]:
    return sorted(p for p in out.glob("*.json"))


def test_killed_sweep_resumes_with_every_record_exactly_once(tmp_path):
    out = tmp_path / "results"
    proc = sweep(out)
    deadline = time.time() + 120
    while time.time() < deadline and len(records(out)) < 2 and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished_before = len(records(out))
    assert 0 < finished_before < 6, "the kill should land mid-sweep"
    # A half-written record for a run that has not finished must not count as finished.
    specs = grid(["3"], ["node-ablation", "eap"], ["tracr"], [0, 1, 2], n_examples=64)
    missing = next(s for s in specs if not (out / s.filename()).exists())
    (out / missing.filename()).write_text('{"schema_version": 1, "case": "3", "lo')

    resumed = sweep(out)
    stdout, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr
    assert f"6 runs: {finished_before} skipped (already finished), {6 - finished_before} ran, 0 failed" in stdout
    files = records(out)
    assert len(files) == 6
    assert {f.name for f in files} == {s.filename() for s in specs}
    results = [RunResult.model_validate_json(f.read_text()) for f in files]
    assert sorted((r.method, r.seed) for r in results) == sorted(
        (m, s) for m in ("eap", "node-ablation") for s in (0, 1, 2)
    )
    leftovers = [p for p in out.iterdir() if p.name.startswith(".") and p.name != sweep_module.LOCK]
    assert not leftovers, "no temporary files left behind"

    again = sweep(out)
    stdout, _ = again.communicate(timeout=120)
    assert "6 skipped (already finished), 0 ran" in stdout


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path, fresh_registry):
    class Config(BaseModel):
        model_config = {"extra": "forbid"}

    class Broken:
        @hookimpl
        def register_methods(self, register):
            def explode(task, config):
                raise RuntimeError("the method fell over")

            register(name="explodes", description="Always raises.", level="edge", config=Config, run=explode)

    fresh_registry.add_plugin(Broken(), name="broken-method")
    specs = grid(["3"], ["explodes", "node-ablation"], ["tracr"], [0], n_examples=32)
    summary = run_sweep(specs, tmp_path)
    assert (summary.ran, summary.failed) == (2, 1)
    assert "the method fell over" in summary.failures[0]
    by_method = {r.method: r for r in (RunResult.model_validate_json(p.read_text()) for p in tmp_path.glob("*.json"))}
    assert by_method["explodes"].status == "failed" and "RuntimeError" in by_method["explodes"].error
    assert by_method["node-ablation"].status == "ok"
    # Failed runs are finished too: a rerun skips them, unless asked to retry them.
    assert run_sweep(specs, tmp_path).skipped == 2
    again = run_sweep(specs, tmp_path, retry_failed=True)
    assert (again.skipped, again.ran, again.failed) == (1, 1, 1)


def test_sweeping_config_values_makes_one_run_per_value():
    specs = grid(["3"], ["acdc"], ["tracr"], [0], {"acdc": {"threshold": [0.01, 0.1]}})
    assert sorted(s.config_dict["threshold"] for s in specs) == [0.01, 0.1]
    assert len({s.filename() for s in specs}) == 2


def test_a_per_position_sweep_is_its_own_run_and_its_own_report_variant(tmp_path):
    """Pair-level records keep their names (a finished sweep stays finished); per-position
    runs get their own records, which a pair-level spec does not take for its own, and
    the report shows them as a variant of the method."""
    from interpbench.results.report import load_results

    pairs = grid(["3"], ["eap"], ["tracr"], [0], n_examples=24)
    at_positions = grid(["3"], ["eap"], ["tracr"], [0], n_examples=24, positions=True)
    assert pairs[0].filename() != at_positions[0].filename()
    # the name a pair-level run had before positions existed: the hash of these fields alone
    p = pairs[0]
    before = json.dumps([p.case, p.loader, p.method, p.config, p.seed, p.n_examples])
    assert p.key() == hashlib.sha256(before.encode()).hexdigest()[:12]
    run_sweep(pairs + at_positions, tmp_path)
    record = tmp_path / at_positions[0].filename()
    assert RunResult.model_validate_json(record.read_text()).positions
    assert not sweep_module.is_finished(record, pairs[0])
    assert sorted(load_results(tmp_path).frame["variant"]) == ["eap [positions=false]", "eap [positions=true]"]


def test_parallel_jobs_write_the_same_records_as_one_process(tmp_path):
    specs = grid(["3"], ["node-ablation", "eap"], ["tracr"], [0], n_examples=32)
    one, two = tmp_path / "one", tmp_path / "two"
    run_sweep(specs, one)
    summary = run_sweep(specs, two, jobs=2)
    assert (summary.ran, summary.failed) == (2, 0)
    for spec in specs:
        a = RunResult.model_validate_json((one / spec.filename()).read_text())
        b = RunResult.model_validate_json((two / spec.filename()).read_text())
        assert a.metrics == b.metrics and a.scores == b.scores


@pytest.mark.slow  # starting Ray takes a minute or more on 2 busy cores; CI runs it
def test_ray_executor_writes_the_same_records_as_the_local_one(tmp_path):
    pytest.importorskip("ray")
    specs = grid(["3"], ["node-ablation", "eap"], ["tracr"], [0, 1], n_examples=32)
    local, on_ray = tmp_path / "local", tmp_path / "ray"
    run_sweep(specs, local)
    summary = run_sweep(specs, on_ray, executor="ray")
    assert (summary.ran, summary.failed) == (4, 0)
    assert sorted(p.name for p in local.glob("*.json")) == sorted(p.name for p in on_ray.glob("*.json"))
    for spec in specs:
        a = RunResult.model_validate_json((local / spec.filename()).read_text())
        b = RunResult.model_validate_json((on_ray / spec.filename()).read_text())
        assert a.metrics == b.metrics and a.scores == b.scores


def test_a_killed_writers_temporary_file_is_removed_and_a_live_one_kept(tmp_path):
    from interpbench.results.sweep import _remove_stale_temporaries

    spec = grid(["3"], ["eap"], ["tracr"], [0], n_examples=64)[0]
    stale = tmp_path / f".{spec.filename()}.abc123.tmp"
    live = tmp_path / f".{spec.filename()}.def456.tmp"
    other = tmp_path / ".someone-elses.json.x.tmp"
    for p in (stale, live, other):
        p.write_text("{")
    os.utime(stale, (time.time() - 600, time.time() - 600))
    os.utime(other, (time.time() - 600, time.time() - 600))
    _remove_stale_temporaries(tmp_path, [spec], before=time.time() - 60)
    assert not stale.exists(), "a temporary file older than the sweep has no writer left"
    assert live.exists(), "a temporary file written during the sweep may belong to a live writer"
    assert other.exists(), "files that are not this grid's records are not the sweep's to remove"


def test_cases_available_runs_each_loader_on_the_cases_it_has_models_for(tmp_path, fresh_registry):
    from click.testing import CliRunner

    from interpbench.cli import cli
    from interpbench.plugins.loaders import load_tracr

    class TwoCases:
        @hookimpl
        def register_loaders(self, register):
            register(name="only-3-and-8", description="Compiled models of two cases only.", load=load_tracr,
                     granularity="qkv", cases=lambda: ["8", "3", "not-a-case"])  # fmt: skip

    fresh_registry.add_plugin(TwoCases(), name="two-cases")
    result = CliRunner().invoke(cli, ["sweep", "--cases", "available", "--loaders", "only-3-and-8", "--methods",
                                      "node-ablation", "--examples", "16", "--out", str(tmp_path)])  # fmt: skip
    assert result.exit_code == 0, result.output
    records = [RunResult.model_validate_json(p.read_text()) for p in tmp_path.glob("*.json")]
    assert sorted(r.case for r in records) == ["3", "8"]  # a name that is not a compilable case is left out


def test_a_second_sweep_on_the_same_folder_is_refused_in_one_line(tmp_path):
    import fcntl

    from interpbench.results.sweep import LOCK

    tmp_path.mkdir(exist_ok=True)
    with open(tmp_path / LOCK, "a+") as held:  # as a running sweep holds it
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("12345")
        held.flush()
        proc = subprocess.run(
            [sys.executable, "-m", "interpbench.cli", "sweep", "--cases", "3", "--methods", "node-ablation",
             "--examples", "16", "--out", str(tmp_path)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert proc.returncode != 0
    assert "another sweep (pid 12345) is writing to" in proc.stderr and "Traceback" not in proc.stderr
    assert not list(tmp_path.glob("*.json"))
    # once it is released (the sweep ended or was killed), the folder is free again
    summary = run_sweep(grid(["3"], ["node-ablation"], ["tracr"], [0], n_examples=16), tmp_path)
    assert summary.ran == 1


@pytest.mark.slow
def test_a_sweep_killed_at_random_moments_many_times_ends_with_every_record_once(tmp_path):
    import random

    out, rng = tmp_path / "results", random.Random(11)
    specs = grid(["3"], ["node-ablation", "eap"], ["tracr"], [0, 1, 2], n_examples=64)
    kills = 0
    for _ in range(8):
        proc = sweep(out, "--jobs", "2")
        time.sleep(rng.uniform(0.5, 4.0))
        if proc.poll() is not None:
            break  # finished before this kill
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
    final = sweep(out)
    stdout, stderr = final.communicate(timeout=600)
    assert final.returncode == 0, stderr
    assert kills >= 1, "at least one kill should land mid-sweep"
    assert {f.name for f in records(out)} == {s.filename() for s in specs}
    for f in records(out):
        RunResult.model_validate_json(f.read_text())  # complete, valid records only
    leftovers = [p for p in out.iterdir() if p.name.startswith(".") and p.name != sweep_module.LOCK]
    assert not leftovers, "no temporary files left behind"
