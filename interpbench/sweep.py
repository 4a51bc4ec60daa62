"""Sweeps: many runs (cases × loaders × methods × configs × seeds), one record each.

Every run's ``RunResult`` is written atomically to its own file, named by a hash of
what defines the run, so rerunning a sweep skips what is finished and a run killed
mid-write leaves no file that could pass for a finished one. A run that fails is
recorded as failed, with its error, and the sweep goes on.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from pydantic import ValidationError

from interpbench import registry
from interpbench.runner import DEFAULT_EXAMPLES, make_config
from interpbench.versions import versions
from interpbench.schemas import SCHEMA_VERSION, RunResult
from interpbench.store import write_json_atomic


@dataclass(frozen=True)
class RunSpec:
    """What defines one run; its hash names the record file."""

    case: str
    loader: str
    method: str
    config: tuple[tuple[str, Any], ...]  # the full config, defaults included, sorted
    seed: int
    n_examples: int = DEFAULT_EXAMPLES

    @property
    def config_dict(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self.config}

    def key(self) -> str:
        blob = json.dumps([self.case, self.loader, self.method, self.config, self.seed, self.n_examples])
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    def filename(self) -> str:
        return f"case{self.case}__{self.loader}__{self.method}__seed{self.seed}__{self.key()}.json"


@dataclass
class SweepSummary:
    skipped: int = 0
    ran: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)


def grid(
    cases: list[str],
    methods: list[str],
    loaders: list[str],
    seeds: list[int],
    settings: dict[str, dict[str, list[Any]]] | None = None,
    n_examples: int = DEFAULT_EXAMPLES,
) -> list[RunSpec]:
    """Every combination; ``settings[method][key]`` lists the values to sweep."""
    settings = settings or {}
    for method in settings:
        if method not in methods:
            raise ValueError(f"--set names method {method!r}, which is not in --methods")
    specs = []
    for method in methods:
        spec = registry.get_method(method)
        keys = sorted(settings.get(method, {}))
        for values in itertools.product(*(settings[method][k] for k in keys)) if keys else [()]:
            config = make_config(spec.config, dict(zip(keys, values))).model_dump(mode="json")
            frozen = tuple(sorted((k, json.dumps(v, sort_keys=True)) for k, v in config.items()))
            for case, loader, seed in itertools.product(cases, loaders, seeds):
                specs.append(RunSpec(case, loader, method, frozen, seed, n_examples))
    return specs


def is_finished(path: Path) -> bool:
    """A record of the current schema that exists and validates; a half-written or foreign
    file, or one written with other metric conventions (another schema version), does not count."""
    try:
        return RunResult.model_validate_json(path.read_text()).schema_version == SCHEMA_VERSION
    except (OSError, ValidationError, ValueError):
        return False


def execute(spec: RunSpec) -> dict[str, Any]:
    """Run one spec; never raises: a failure becomes a failed record."""
    from interpbench.runner import run

    run_fields = dict(case=spec.case, method=spec.method, loader=spec.loader, config=spec.config_dict, seed=spec.seed)
    try:
        result = run(**run_fields, n_examples=spec.n_examples)
    except Exception as e:  # noqa: BLE001 - recorded, and the sweep goes on
        result = RunResult(
            **run_fields,
            status="failed",
            error=f"{type(e).__name__}: {e}"[:2000],
            versions=versions(),
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
    return result.model_dump(mode="json")


def run_sweep(
    specs: list[RunSpec],
    out: str | Path,
    jobs: int = 1,
    progress: Callable[[Iterator, int], Iterator] | None = None,
    executor: str = "local",
    address: str | None = None,
) -> SweepSummary:
    """Run what is missing from ``out``; report skipped, ran and failed counts.

    ``executor``: "local" (``jobs`` worker processes on this machine) or "ray" (one Ray
    task per run, on the cluster at ``address`` or a local instance). Workers return
    records and this process writes them, so the store needs no shared file system.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    summary = SweepSummary()
    todo = []
    for spec in specs:
        if is_finished(out / spec.filename()):
            summary.skipped += 1
        else:
            todo.append(spec)
    wrap = progress or (lambda it, total: it)
    for spec, record in wrap(_execute_all(todo, jobs, executor, address), len(todo)):
        write_json_atomic(out / spec.filename(), record)
        summary.ran += 1
        if record["status"] != "ok":
            summary.failed += 1
            summary.failures.append(f"case {spec.case} {spec.method}: {record.get('error')}")
    return summary


def _execute_all(todo: list[RunSpec], jobs: int, executor: str, address: str | None) -> Iterator[tuple[RunSpec, dict]]:
    """Yield (spec, record) as runs finish, in whatever order they finish."""
    if executor == "ray":
        yield from _execute_on_ray(todo, address)
    elif executor != "local":
        raise ValueError(f"unknown executor {executor!r}; choose local or ray")
    elif jobs <= 1:
        for spec in todo:
            yield spec, execute(spec)
    else:
        import multiprocessing

        # Fresh interpreters: forking a process that already holds torch threads can hang.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_worker_init) as pool:
            futures = {pool.submit(execute, spec): spec for spec in todo}
            for future in as_completed(futures):
                yield futures[future], future.result()


def _execute_on_ray(todo: list[RunSpec], address: str | None) -> Iterator[tuple[RunSpec, dict]]:
    try:
        import ray
    except ImportError:
        raise ValueError("the ray executor needs Ray: pip install 'interpbench[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    try:
        remote = ray.remote(num_cpus=1)(_execute_in_worker)
        pending = {remote.remote(spec): spec for spec in todo}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            spec = pending.pop(done[0])
            yield spec, ray.get(done[0])
    finally:
        if started_here:
            ray.shutdown()


def _execute_in_worker(spec: RunSpec) -> dict[str, Any]:
    _worker_init()
    return execute(spec)


def _worker_init() -> None:
    import torch

    # Each worker takes one core; together they use the machine.
    torch.set_num_threads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
