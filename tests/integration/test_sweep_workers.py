"""Sweeps survive their workers: a dead or hung worker is a failed record and the sweep goes
on; a method's sys.exit fails its run only; a killed sweep takes its workers with it;
resume trusts a record only if it is the run its name says."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from plugin_fixtures import SWEEP_HAZARDS, make_distribution

from interpbench.results.sweep import grid, run_sweep
from interpbench.schemas import RunResult


@pytest.fixture
def hazards(tmp_path, monkeypatch, fresh_registry):
    root = make_distribution(tmp_path / "dist", "sweep-hazards", "sweep_hazards_mod", SWEEP_HAZARDS)
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]))  # for workers
    monkeypatch.setenv("INTERPBENCH_PLUGINS", "sweep-hazards")
    monkeypatch.delitem(sys.modules, "sweep_hazards_mod", raising=False)
    return fresh_registry


def results(folder):
    return {r.method: r for r in (RunResult.model_validate_json(p.read_text()) for p in folder.glob("*.json"))}


def test_dead_and_hung_workers_become_failed_records_and_the_sweep_goes_on(hazards, tmp_path):
    specs = grid(["3"], ["dies", "hangs", "node-ablation"], ["tracr"], [0], n_examples=32)
    summary = run_sweep(specs, tmp_path / "out", jobs=2, timeout=20)
    assert (summary.ran, summary.failed) == (3, 2)
    by_method = results(tmp_path / "out")
    assert "died (killed by signal 9)" in by_method["dies"].error
    assert "took longer than 20 s" in by_method["hangs"].error
    assert by_method["node-ablation"].status == "ok"


def test_a_method_calling_sys_exit_fails_its_run_not_the_sweep(hazards, tmp_path):
    specs = grid(["3"], ["exits", "node-ablation"], ["tracr"], [0], n_examples=32)
    summary = run_sweep(specs, tmp_path)
    assert (summary.ran, summary.failed) == (2, 1)
    by_method = results(tmp_path)
    assert by_method["exits"].status == "failed" and "SystemExit" in by_method["exits"].error
    assert by_method["node-ablation"].status == "ok"


def test_a_method_raising_keyboard_interrupt_fails_its_run_and_is_named(hazards, tmp_path):
    from click.testing import CliRunner

    from interpbench.cli import cli

    summary = run_sweep(grid(["3"], ["interrupts", "node-ablation"], ["tracr"], [0], n_examples=32), tmp_path)
    assert (summary.ran, summary.failed) == (2, 1)
    assert (
        "method 'interrupts' (plugin 'sweep-hazards') failed: KeyboardInterrupt"
        in results(tmp_path)["interrupts"].error
    )
    for method in ("interrupts", "exits"):
        ran = CliRunner().invoke(cli, ["run", "--case", "3", "--method", method, "--examples", "32"])
        assert ran.exit_code == 1, ran.output
        assert (
            ran.output.strip().splitlines()[-1].startswith(f"Error: method {method!r} (plugin 'sweep-hazards') failed")
        )


def test_a_run_that_outlives_its_timeout_fails_in_one_process_too(hazards, tmp_path):
    specs = grid(["3"], ["hangs"], ["tracr"], [0], n_examples=32)
    started = time.monotonic()
    summary = run_sweep(specs, tmp_path, timeout=2)
    assert summary.failed == 1 and time.monotonic() - started < 60
    assert "took longer than 2 s" in results(tmp_path)["hangs"].error


def test_resume_reruns_a_record_that_is_not_the_run_its_name_says(tmp_path):
    specs = grid(["3"], ["eap"], ["tracr"], [0, 1], n_examples=32)
    run_sweep(specs, tmp_path)
    a, b = (tmp_path / s.filename() for s in specs)
    a.write_text(b.read_text())  # seed 1's record under seed 0's name
    stale = json.loads(b.read_text())
    stale["schema_version"] = 1
    b.write_text(json.dumps(stale))  # an older schema: other metric conventions
    summary = run_sweep(specs, tmp_path)
    assert (summary.skipped, summary.ran) == (0, 2)
    assert [RunResult.model_validate_json(p.read_text()).seed for p in (a, b)] == [0, 1]


@pytest.mark.slow
def test_a_killed_sweep_takes_its_workers_with_it(hazards, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "interpbench.cli", "sweep", "--cases", "3", "--methods", "hangs",
         "--seeds", "0,1", "--jobs", "2", "--out", str(out)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy(),
    )  # fmt: skip
    deadline = time.time() + 120
    children: list[int] = []
    while time.time() < deadline and len(children) < 2:
        time.sleep(0.5)
        children = [
            int(p)
            for p in subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        ]
    assert len(children) >= 2, "the workers should be running"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 30
    while time.time() < deadline and any(
        os.path.exists(f"/proc/{pid}") and "Z" not in open(f"/proc/{pid}/stat").read().split()[2] for pid in children
    ):
        time.sleep(0.2)
    alive = [
        pid for pid in children if os.path.exists(f"/proc/{pid}") and open(f"/proc/{pid}/stat").read().split()[2] != "Z"
    ]
    assert not alive, f"workers outlived the sweep: {alive}"
