"""Sweeps: many runs (cases × loaders × methods × configs × seeds), one record each.

Every run's ``RunResult`` is written atomically to its own file, named by a hash of
what defines the run, so rerunning a sweep skips what is finished and a run killed
mid-write leaves no file that could pass for a finished one. A run that fails is
recorded as failed, with its error, and the sweep goes on.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from pydantic import ValidationError

from interpbench import registry
from interpbench.formats.atomic import write_json_atomic
from interpbench.runner import DEFAULT_EXAMPLES, make_config
from interpbench.schemas import SCHEMA_VERSION, RunResult
from interpbench.versions import versions


@dataclass(frozen=True)
class RunSpec:
    """What defines one run; its hash names the record file."""

    case: str
    loader: str
    method: str
    config: tuple[tuple[str, Any], ...]  # the full config, defaults included, sorted
    seed: int
    n_examples: int = DEFAULT_EXAMPLES
    positions: bool = False  # edges per token position

    @property
    def config_dict(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self.config}

    def key(self) -> str:
        fields = [self.case, self.loader, self.method, self.config, self.seed, self.n_examples]
        blob = json.dumps(fields + [True] * self.positions)  # (a pair-level run keeps its old name)
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
    positions: bool = False,
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
                specs.append(RunSpec(case, loader, method, frozen, seed, n_examples, positions))
    return specs


def is_finished(path: Path, spec: RunSpec | None = None, retry_failed: bool = False) -> bool:
    """A record of the current schema that exists, validates and is the run its name says
    (case, loader, method, config and seed of ``spec``); a half-written or foreign file, a
    record copied over another run's name, or one written with other metric conventions
    (another schema version) does not count."""
    try:
        record = RunResult.model_validate_json(path.read_text())
    except (OSError, ValidationError, ValueError):
        return False
    if record.schema_version != SCHEMA_VERSION or (retry_failed and record.status == "failed"):
        return False
    if spec is None:
        return True
    ours = (record.case, record.loader, record.method, record.seed, record.positions)
    same = ours == (spec.case, spec.loader, spec.method, spec.seed, spec.positions)
    return same and record.config == spec.config_dict


def failed_record(spec: RunSpec, error: str) -> dict[str, Any]:
    return RunResult(
        case=spec.case, method=spec.method, loader=spec.loader, config=spec.config_dict, seed=spec.seed,
        positions=spec.positions, status="failed", error=error[:2000], versions=versions(),
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    ).model_dump(mode="json")  # fmt: skip


@contextlib.contextmanager
def time_limit(timeout: float | None):
    """Raise ``TimeoutError`` in the code inside once ``timeout`` seconds have passed (the
    main thread only, between Python bytecodes; elsewhere no limit)."""
    if timeout is None or not hasattr(signal, "SIGALRM") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def too_long(signum, frame):
        raise TimeoutError(f"the run took longer than {timeout:g} s (--timeout)")

    previous = signal.signal(signal.SIGALRM, too_long)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def execute(spec: RunSpec, timeout: float | None = None) -> dict[str, Any]:
    """Run one spec; never raises: a failure becomes a failed record. A method that calls
    ``sys.exit`` fails its run, not the sweep; with ``timeout`` (seconds) a run that takes
    longer fails as timed out."""
    from interpbench.runner import run

    try:
        with time_limit(timeout):
            return run(
                case=spec.case, method=spec.method, loader=spec.loader, config=spec.config_dict, seed=spec.seed,
                n_examples=spec.n_examples, positions=spec.positions,
            ).model_dump(mode="json")  # fmt: skip
    except (Exception, SystemExit) as e:  # noqa: BLE001 - recorded, and the sweep goes on
        return failed_record(spec, f"{type(e).__name__}: {e}")


def run_sweep(
    specs: list[RunSpec],
    out: str | Path,
    jobs: int = 1,
    progress: Callable[[Iterator, int], Iterator] | None = None,
    executor: str = "local",
    address: str | None = None,
    timeout: float | None = None,
    retry_failed: bool = False,
) -> SweepSummary:
    """Run what is missing from ``out``; report skipped, ran and failed counts.

    ``executor``: "local" (``jobs`` worker processes on this machine; with one job, this
    process) or "ray" (one Ray task per run, on the cluster at ``address`` or a local
    instance). Workers return records and this process writes them, so the store needs no
    shared file system. A worker that dies or outlives ``timeout`` makes a failed record
    and is replaced; the sweep goes on. Failed records count as finished unless
    ``retry_failed``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with _only_sweep_in(out):
        return _run_sweep(specs, out, jobs, progress, executor, address, timeout, retry_failed)


LOCK = ".interpbench-sweep.lock"


@contextlib.contextmanager
def _only_sweep_in(out: Path):
    """One sweep per folder at a time: a second one would repeat the first one's runs. The
    lock is the kernel's (``flock``), so a sweep that is killed leaves none behind."""
    import fcntl

    with open(out / LOCK, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "?"
            raise ValueError(
                f"another sweep (pid {holder}) is writing to {out}; wait for it, or use another --out"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        yield


def _run_sweep(specs, out: Path, jobs, progress, executor, address, timeout, retry_failed) -> SweepSummary:
    started = time.time()
    summary = SweepSummary()
    todo = []
    for spec in specs:
        if is_finished(out / spec.filename(), spec, retry_failed):
            summary.skipped += 1
        else:
            todo.append(spec)
    wrap = progress or (lambda it, total: it)
    for spec, record in wrap(_execute_all(todo, jobs, executor, address, timeout), len(todo)):
        write_json_atomic(out / spec.filename(), record)
        summary.ran += 1
        if record["status"] != "ok":
            summary.failed += 1
            summary.failures.append(f"case {spec.case} {spec.method}: {record.get('error')}")
    _remove_stale_temporaries(out, specs, started)
    return summary


def _remove_stale_temporaries(out: Path, specs: list[RunSpec], before: float) -> None:
    """A sweep killed while writing a record leaves its temporary file (``.NAME.*.tmp``).
    One older than this sweep's start that is still there at its end has no live writer:
    writing a record takes milliseconds."""
    for spec in specs:
        for tmp in out.glob(f".{spec.filename()}.*.tmp"):
            with contextlib.suppress(OSError):
                if tmp.is_file() and not tmp.is_symlink() and tmp.stat().st_mtime < before:
                    tmp.unlink()


def _execute_all(
    todo: list[RunSpec], jobs: int, executor: str, address: str | None, timeout: float | None = None
) -> Iterator[tuple[RunSpec, dict]]:
    """Yield (spec, record) as runs finish, in whatever order they finish."""
    if executor == "ray":
        yield from _execute_on_ray(todo, address)
    elif executor != "local":
        raise ValueError(f"unknown executor {executor!r}; choose local or ray")
    elif jobs <= 1:
        for spec in todo:
            yield spec, execute(spec, timeout)
    else:
        yield from _execute_in_workers(todo, jobs, timeout)


def _execute_in_workers(todo: list[RunSpec], jobs: int, timeout: float | None) -> Iterator[tuple[RunSpec, dict]]:
    """Supervised worker processes, one run at a time each: a worker that dies (killed, out
    of memory, a crash) or outlives ``timeout`` turns its run into a failed record and is
    replaced. Workers die with this process, even when it is killed (Linux)."""
    import multiprocessing
    from multiprocessing.connection import wait

    # Fresh interpreters: forking a process that already holds torch threads can hang.
    context = multiprocessing.get_context("spawn")
    pending = list(reversed(todo))
    workers: list[_Worker] = []
    try:
        while pending or any(w.spec for w in workers):
            for w in [w for w in workers if w.spec is None and not w.process.is_alive()]:
                workers.remove(w)  # died between runs
                w.stop()
            while len(workers) < min(jobs, len(pending) + sum(1 for w in workers if w.spec)):
                workers.append(_Worker(context))
            for w in workers:
                if w.spec is None and pending:
                    w.start(pending.pop())
            busy = [w for w in workers if w.spec]
            deadline = None if timeout is None else min(w.started + timeout for w in busy)
            ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy],
                         timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))  # fmt: skip
            for w in busy:
                done = w.poll(ready, timeout)
                if done is not None:
                    w.spec = None
                    if not w.process.is_alive():
                        workers.remove(w)
                    yield done
    finally:
        for w in workers:
            w.stop()


class _Worker:
    """One worker process and the run it is doing."""

    def __init__(self, context) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_loop, args=(child, os.getpid()), daemon=True)
        self.process.start()
        child.close()
        self.spec: RunSpec | None = None
        self.started = 0.0

    def start(self, spec: RunSpec) -> None:
        self.spec, self.started = spec, time.monotonic()
        try:
            self.conn.send(spec)
        except OSError:  # it died just now: poll() reports the run as failed
            pass

    def poll(self, ready, timeout: float | None) -> tuple[RunSpec, dict[str, Any]] | None:
        """The current run and its record if it is over: done, dead or out of time."""
        spec = self.spec
        assert spec is not None, "only a busy worker is polled"
        if self.conn in ready:
            try:
                return spec, self.conn.recv()
            except (EOFError, OSError):
                pass  # it died while answering: below
        if not self.process.is_alive() or self.process.sentinel in ready:
            self.process.join(1)
            code = self.process.exitcode
            how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit status {code}"
            return spec, failed_record(spec, f"the worker running this run died ({how})")
        if timeout is not None and time.monotonic() >= self.started + timeout:
            self.stop()
            return spec, failed_record(
                spec, f"the run took longer than {timeout:g} s (--timeout); its worker was stopped"
            )
        return None

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()


def _worker_loop(conn, parent: int) -> None:
    _die_with_parent(parent)
    _worker_init()
    while True:
        try:
            spec = conn.recv()
        except (EOFError, OSError):  # the sweep is gone
            return
        conn.send(execute(spec))


def _die_with_parent(parent: int) -> None:
    """Ask Linux to kill this worker when the sweep process dies, even by SIGKILL; and if
    it died already (before the request was made), go now."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # elsewhere, workers notice the closed pipe after their current run
    if os.getppid() != parent:
        os._exit(1)


def _execute_on_ray(todo: list[RunSpec], address: str | None) -> Iterator[tuple[RunSpec, dict]]:
    try:
        import ray
    except ImportError:
        raise ValueError("the ray executor needs Ray: pip install 'interpbench[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
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
