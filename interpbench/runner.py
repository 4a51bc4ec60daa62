"""One run: case -> loader -> (model, ground truth, data) -> method -> scores -> metrics."""

from __future__ import annotations

import contextlib
import sys
import time
from datetime import datetime, timezone
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from interpbench import registry
from interpbench.errors import ConfigError, InterpbenchError, PluginFailed, UserInterrupt, user_interrupts_apart
from interpbench.schemas import EdgeScore, MetricOutput, RunResult, Scores, Timings, validation_summary
from interpbench.versions import versions

DEFAULT_EXAMPLES = 500
Config = TypeVar("Config", bound=BaseModel)


def make_config(config_type: type[Config], values: dict[str, Any]) -> Config:
    for key, value in values.items():  # pydantic would read true as 1: a typo, not a number
        declared = config_type.model_fields.get(key)
        if isinstance(value, bool) and declared is not None and declared.annotation in (int, float):
            raise ConfigError(f"invalid value for {key}: expected a number, not {str(value).lower()}")
    try:
        return config_type(**values)
    except ValidationError as e:
        first = e.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "config"
        raise ConfigError(f"invalid value for {field}: {first['msg']}") from None


def make_task(
    case_name: str,
    loader: str,
    seed: int = 0,
    n_examples: int = DEFAULT_EXAMPLES,
    options: dict | None = None,
    positions: bool = False,
):
    """Load the model and draw the data: the DiscoveryTask every method receives (with one
    edge per token position when ``positions``)."""
    from interpbench.cases.data import clean_and_corrupted, encode
    from interpbench.task import DiscoveryTask

    case = registry.get_case(case_name)
    loaded = load_model(case_name, loader, seed, options)
    clean, corrupted = clean_and_corrupted(case, n_examples, seed)
    return DiscoveryTask(
        case=case,
        loaded=loaded,
        clean=encode(clean, loaded.input_encoding),
        corrupted=encode(corrupted, loaded.input_encoding),
        seed=seed,
        granularity=registry.get_loader(loader).granularity,
        positions=positions,
    )


def load_model(case_name: str, loader: str, seed: int = 0, options: dict | None = None):
    """The loader's ``LoadedModel`` for a case; a loader that declares its options refuses others."""
    case = registry.get_case(case_name)
    loader_spec = registry.get_loader(loader)
    unread = [] if loader_spec.options is None else sorted(set(options or {}) - set(loader_spec.options))
    if unread:
        flags = ", ".join("--model-dir" if o == "model_dir" else o for o in unread)
        raise InterpbenchError(f"loader {loader!r} does not read {flags}")
    return calling(loader_spec, "loader", loader_spec.load, case, seed=seed, options=options or {})


def evaluate_model(case_name: str, loader: str, options: dict | None = None):
    """A loader's model checked against the case's compiled (HL) model: the ``EvalResult``
    (accuracy, IIA, strict and joint strict accuracy, node effects). A trained model is
    evaluated on its own validation pairs with its recorded correspondence; the compiled
    model (``tracr``) against itself, as a baseline."""
    from interpbench.siit.store import evaluate_compiled, evaluate_directory, evaluate_loaded

    case = registry.get_case(case_name)
    if loader == "tracr":
        return evaluate_compiled(case)
    loaded = load_model(case_name, loader, 0, options)
    if loaded.info.get("siit_dir"):
        return evaluate_directory(case, loaded.info["siit_dir"])
    return evaluate_loaded(case, loaded)


def calling(spec, kind: str, fn, *args, **kwargs):
    """Call plugin code; what it raises is reported with the plugin's name, and what it
    prints goes to stderr (stdout may be carrying ``--json``)."""
    try:
        with user_interrupts_apart(), contextlib.redirect_stdout(sys.stderr):
            return fn(*args, **kwargs)
    except UserInterrupt:  # the user's Ctrl-C: stop
        raise KeyboardInterrupt from None
    except InterpbenchError:
        raise
    except ValidationError as e:  # a schema the plugin built wrongly: say where, in one line
        raise PluginFailed(
            f"{kind} {spec.name!r} (plugin {spec.plugin!r}) built an invalid {validation_summary(e)}"
        ) from e
    except (Exception, SystemExit, KeyboardInterrupt) as e:  # noqa: BLE001 - any plugin bug ends up here, named
        raise PluginFailed(f"{kind} {spec.name!r} (plugin {spec.plugin!r}) failed: {type(e).__name__}: {e}") from e


def as_scores(raw: Any, method: str, task) -> Scores:
    """Validate what a method returned: every edge (or node) of the graph, scored."""
    from interpbench.graph import split_edge_key

    spec = registry.get_method(method)
    who = f"method {method!r} (plugin {spec.plugin!r})"
    if isinstance(raw, dict):  # the plain form: {"sender->receiver": score} or {node: score}
        try:
            if spec.level == "node":
                raw = Scores(level="node", nodes=raw)
            else:
                edges = [(split_edge_key(k) if isinstance(k, str) else k, v) for k, v in raw.items()]
                raw = Scores(level="edge", edges=[EdgeScore(sender=s, receiver=r, score=v) for (s, r), v in edges])
        except ValidationError as e:
            raise InterpbenchError(f"{who} returned invalid scores: {validation_summary(e)}") from None
        except (ValueError, TypeError) as e:
            raise InterpbenchError(f"{who} returned invalid scores: {str(e).splitlines()[0]}") from None
    if not isinstance(raw, Scores):
        raise InterpbenchError(f"{who} returned {type(raw).__name__}, not Scores")
    if raw.level != spec.level:
        raise InterpbenchError(f"{who} is declared {spec.level}-level but returned {raw.level} scores")
    return check_coverage(raw, task, who)


def check_coverage(raw: Scores, task, who: str) -> Scores:
    """``raw`` if it scores every edge (or node) of the task's graph and nothing else."""
    from interpbench.graph import edge_key

    expected = set(task.graph.edges) if raw.level == "edge" else set(task.graph.nodes)
    got = {(e.sender, e.receiver) for e in raw.edges} if raw.level == "edge" else set(raw.nodes)
    if got != expected:
        missing, extra = expected - got, got - expected

        def name(item) -> str:
            return edge_key(*item) if isinstance(item, tuple) else str(item)

        examples = ", ".join(sorted(map(name, missing))[:2] or sorted(map(name, extra))[:2])
        raise InterpbenchError(
            f"{who} must score every {raw.level} of the graph: {len(missing)} missing, {len(extra)} unknown "
            f"(e.g. {examples})"
        )
    return raw


def compute_metrics(scores: Scores, task) -> tuple[MetricOutput, dict[str, str]]:
    """Every registered metric on a method's validated scores, merged, and what went wrong.

    The built-in metrics run first. A third-party metric that raises, or that returns a
    name another metric already set, fails alone: its error is returned and the others
    stand (a built-in metric that raises is a bug and ends the run). A value that is not
    finite is stored as null, with the reason.
    """
    import math

    from interpbench.registry import BUILTIN_DISTRIBUTION

    merged, errors = MetricOutput(), {}
    specs = sorted(registry.metric_specs(), key=lambda m: m.plugin != BUILTIN_DISTRIBUTION)
    for metric in specs:
        try:
            out = calling(metric, "metric", metric.compute, scores, task)
            out = out if isinstance(out, MetricOutput) else MetricOutput(values=out)
        except InterpbenchError as e:  # PluginFailed included: the metric's own code raised
            if metric.plugin == BUILTIN_DISTRIBUTION:
                raise
            errors[metric.name] = str(e)
            continue
        except ValidationError as e:
            errors[metric.name] = f"metric {metric.name!r} returned invalid values: {str(e).splitlines()[0]}"
            continue
        taken = sorted(
            (set(out.values) & set(merged.values))
            | (set(out.sets) & set(merged.sets))
            | (set(out.curves) & set(merged.curves))
        )
        if taken:
            errors[metric.name] = (
                f"metric {metric.name!r} (plugin {metric.plugin!r}) returned names another metric set: {', '.join(taken)}"
            )
            continue
        for name, value in out.values.items():
            if value is not None and not math.isfinite(value):
                errors[name] = f"{name} was {value} (metric {metric.name!r})"
                value = None
            merged.values[name] = value
        merged.sets.update(out.sets)
        merged.curves.update(out.curves)
    return merged, errors


def rescore(result: RunResult) -> RunResult:
    """A finished run's metrics recomputed from its stored scores with today's metrics
    (after a change of scoring conventions, without running the method again).

    The task is rebuilt from the record (case, loader, seed, examples); the run's stored
    empty-circuit metric must come out the same, or the model or data have changed since
    and the scores no longer describe them: that is refused.
    """
    import math

    from interpbench.schemas import SCHEMA_VERSION

    if result.status != "ok" or result.scores is None:
        raise InterpbenchError("only a finished run that kept its scores can be rescored")
    task = make_task(result.case, result.loader, seed=result.seed, n_examples=result.n_examples,
                     positions=result.positions)  # fmt: skip
    merged, errors = compute_metrics(result.scores, task)
    before, after = result.metrics.get("empty_metric"), merged.values.get("empty_metric")
    if before is not None and after is not None and not math.isclose(before, after, rel_tol=1e-4, abs_tol=1e-9):
        raise InterpbenchError(
            f"case {result.case} ({result.loader}): the model or data changed since this run "
            f"(empty-circuit metric {before:.6g}, now {after:.6g}); run it again instead"
        )
    return result.model_copy(
        update=dict(
            schema_version=SCHEMA_VERSION,
            granularity=task.granularity,
            metrics=merged.values,
            metric_errors=errors,
            sets=merged.sets,
            curves=merged.curves,
        )  # fmt: skip
    )


def score_file(
    case: str,
    path: str,
    loader: str = "tracr",
    fmt: str = "auto",
    name: str = "external",
    seed: int = 0,
    n_examples: int = DEFAULT_EXAMPLES,
    loader_options: dict | None = None,
    positions: bool = False,
) -> RunResult:
    """Score a file of edge or node scores made by any tool (interpbench's ``Scores`` JSON, a
    MIB graph or auto-circuit prune scores) with every metric, as if a method called ``name``
    had returned them (per token position, when ``positions``: interpbench's JSON only)."""
    from interpbench.formats.files import read_scores

    t0 = time.perf_counter()
    task = make_task(case, loader, seed=seed, n_examples=n_examples, options=loader_options, positions=positions)
    t1 = time.perf_counter()
    scores = check_coverage(read_scores(path, task.graph, fmt), task, f"the scores in {path}")
    t2 = time.perf_counter()
    merged, errors = compute_metrics(scores, task)
    t3 = time.perf_counter()
    return _record(task, case, loader, name, {"scores_file": str(path), "format": fmt}, seed, scores, merged, errors,
                   Timings(load_seconds=t1 - t0, method_seconds=t2 - t1, metrics_seconds=t3 - t2, total_seconds=t3 - t0))  # fmt: skip


def _record(task, case, loader, method, config, seed, scores, merged, errors, timings, keep_scores=True) -> RunResult:
    return RunResult(
        case=case,
        loader=loader,
        method=method,
        config=config,
        seed=seed,
        n_examples=int(task.clean.shape[0]),
        level=scores.level,
        granularity=task.granularity,
        positions=task.positions,
        thresholds=[c.threshold for c in scores.sweep],
        versions=versions(),
        timings=timings,
        metrics=merged.values,
        metric_errors=errors,
        sets=merged.sets,
        curves=merged.curves,
        scores=scores if keep_scores else None,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )


def run(
    case: str,
    method: str,
    loader: str = "tracr",
    config: dict[str, Any] | None = None,
    seed: int = 0,
    n_examples: int = DEFAULT_EXAMPLES,
    loader_options: dict | None = None,
    keep_scores: bool = True,
    positions: bool = False,
) -> RunResult:
    """Run one method on one case and return the validated ``RunResult`` (edges per token
    position when ``positions``)."""
    import torch

    spec = registry.get_method(method)
    registry.get_case(case), registry.get_loader(loader)  # fail fast on unknown names
    cfg = make_config(spec.config, config or {})
    torch.manual_seed(seed)
    t0 = time.perf_counter()
    task = make_task(case, loader, seed=seed, n_examples=n_examples, options=loader_options, positions=positions)
    t1 = time.perf_counter()
    loaded, truth = task.loaded, task.loaded.circuit.model_copy(deep=True)
    scores = as_scores(calling(spec, "method", spec.run, task, cfg), method, task)
    task.loaded, loaded.circuit = loaded, truth  # what a method did to the ground truth is undone
    task.__dict__.pop("ground_truth", None)  # (and to the per-position one derived from it)
    t2 = time.perf_counter()
    merged, errors = compute_metrics(scores, task)
    t3 = time.perf_counter()
    timings = Timings(load_seconds=t1 - t0, method_seconds=t2 - t1, metrics_seconds=t3 - t2, total_seconds=t3 - t0)
    return _record(task, case, loader, method, cfg.model_dump(mode="json"), seed, scores, merged, errors, timings,
                   keep_scores)  # fmt: skip
