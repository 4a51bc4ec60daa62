"""The ``interpbench`` command. Heavy libraries load only inside the commands that need them."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any, Iterable, cast

import click

from interpbench import registry
from interpbench.errors import InterpbenchError
from interpbench.siit.hard import TRACK

KINDS = ("cases", "loaders", "methods", "metrics", "structures")


class OneLineUsageError(click.ClickException):
    """A usage error shown as one line, with click's usage exit status."""

    exit_code = click.UsageError.exit_code


class Group(click.Group):
    """Turns errors a user can cause into one line on stderr and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InterpbenchError as e:
            raise click.ClickException(str(e)) from None
        except click.UsageError as e:  # a bad option: one line too, with where to look
            hint = f" (see '{e.ctx.command_path} --help')" if e.ctx else ""
            raise OneLineUsageError(e.format_message() + hint) from None
        except KeyboardInterrupt as e:  # a training stopped by a signal says where its checkpoint is
            click.echo(f"interrupted: {e}" if str(e) else "interrupted", err=True)
            sys.exit(130)


@click.group(cls=Group)
@click.version_option(package_name="interpbench")
@click.option(
    "--threads",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    envvar="INTERPBENCH_THREADS",
    help="torch threads per process. The models are small: one thread avoids oversubscribing "
    "the cores; use sweep --jobs to use more of them.",
)
def cli(threads: int) -> None:
    """interpbench: does your circuit discovery method find the circuit?

    Cases are RASP programs compiled by tracr, so their circuits are known; methods
    (ACDC, EAP, ...) score the model's edges or nodes, and metrics compare those
    scores with the truth.
    """
    import os

    # Read by torch when it is first imported (later, inside the commands that need it).
    os.environ["OMP_NUM_THREADS"] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


class OutPath(click.Path):
    """A path to write to. An empty value (an unset shell variable) is refused rather than
    taken as the current directory."""

    def convert(self, value, param, ctx):
        if isinstance(value, str) and not value.strip():
            self.fail("an empty path is not a place to write (is a shell variable unset?)", param, ctx)
        return super().convert(value, param, ctx)


def _check_writable(path: str) -> None:
    """Refuse, in one line, an output path that cannot be written (under a regular file, in
    a folder we may not write): before the work whose result would be lost."""
    import os

    target = Path(path)
    if target.exists() and target.is_dir():
        raise InterpbenchError(f"cannot write {path}: it is a folder")
    ancestor = target.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise InterpbenchError(f"cannot write {path}: {ancestor} is not a folder")
    if not os.access(ancestor, os.W_OK):
        raise InterpbenchError(f"cannot write {path}: {ancestor} is not writable")


SEED = click.IntRange(0, 2**32 - 1)
EXAMPLES = click.IntRange(2, 1_000_000)


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def _table(rows: list[list[Any]], headers: list[str]) -> str:
    cells = [headers] + [[("" if c is None else str(c)) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _short(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# --- listing -----------------------------------------------------------------------------


@cli.command("list")
@click.argument("kind", type=click.Choice(KINDS), default="methods")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_(kind: str, as_json: bool) -> None:
    """List registered cases, loaders, methods, metrics or hard-track structures."""
    items = getattr(registry, kind)()
    if as_json:
        _echo_json([i.model_dump(mode="json") for i in items])
        return
    if kind == "cases":
        rows = [
            [
                c.name,
                "categorical" if c.categorical else "numerical",
                len(c.vocab),
                c.max_seq_len,
                "yes" if c.compilable else "NO",
                c.plugin,
                _short(c.description, 60),
            ]
            for c in items
        ]
        click.echo(_table(rows, ["case", "output", "vocab", "seq_len", "compiles", "plugin", "description"]))
    elif kind == "methods":
        rows = [[m.name, m.level, m.plugin, _short(m.description)] for m in items]
        click.echo(_table(rows, ["method", "level", "plugin", "description"]))
    elif kind == "structures":
        rows = [[s.name, ", ".join(f"{r} (+{o})" for r, o in zip(s.roles, s.layer_offsets)), s.plugin,
                 _short(s.description)] for s in items]  # fmt: skip
        click.echo(_table(rows, ["structure", "roles (layer offset)", "plugin", "description"]))
    else:
        rows = [[i.name, i.plugin, _short(i.description)] for i in items]
        click.echo(_table(rows, [kind[:-1], "plugin", "description"]))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins(as_json: bool) -> None:
    """List plugin distributions, what each registered, and what went wrong with any that
    failed to load (they are listed too, with the reason)."""
    items = registry.plugins()
    if as_json:
        _echo_json([p.model_dump(mode="json") for p in items])
        return
    rows = [
        [p.name, p.version or "", len(p.cases), ", ".join(p.loaders), ", ".join(p.methods), ", ".join(p.metrics),
         ", ".join(p.structures), _short("; ".join(p.problems), 80) if p.problems else "ok"]
        for p in items
    ]  # fmt: skip
    click.echo(_table(rows, ["plugin", "version", "cases", "loaders", "methods", "metrics", "structures", "status"]))


# --- running -----------------------------------------------------------------------------


def parse_settings(pairs: Iterable[str]) -> dict[str, Any]:
    """``key=value`` pairs; values are read as JSON when they parse, else as strings.
    NaN and infinities are refused: no setting means them."""

    def not_finite(name: str) -> Any:
        raise InterpbenchError(f"--set {pair!r}: {name} is not a value a setting can take")

    settings: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise InterpbenchError(f"malformed --set {pair!r}: expected key=value")
        try:
            value = json.loads(raw, parse_constant=not_finite)
        except json.JSONDecodeError:
            value = raw
        settings[key.strip()] = value
    return settings


@cli.command()
@click.option("--case", "case", required=True, help="Case name, e.g. 3.")
@click.option("--method", required=True, help="Discovery method, e.g. acdc.")
@click.option("--loader", default="tracr", show_default=True, help="Model loader.")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE", help="Method config value (repeatable).")
@click.option("--seed", default=0, show_default=True, type=SEED)
@click.option("--examples", default=500, show_default=True, type=EXAMPLES, help="Clean/corrupted examples.")
@click.option(
    "--model-dir",
    type=click.Path(exists=True, file_okay=False),
    help="Model directory (siit or interpbench-dir loader).",
)
@click.option(
    "--positions", is_flag=True,
    help="One edge per token position (sender@p -> receiver@p), scored against a per-position ground truth.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the RunResult as JSON.")
@click.option("--out", type=OutPath(dir_okay=False, writable=True), help="Also write the RunResult JSON here.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), help="Give up after this many seconds.")
@click.option(
    "--export-scores", type=OutPath(dir_okay=False, writable=True), help="Also write the method's scores here."
)
@click.option(
    "--format", "fmt", type=click.Choice(["interpbench", "mib", "auto-circuit"]), default="interpbench",
    show_default=True,
    help="Format of --export-scores: interpbench's Scores JSON, the EAP-IG/MIB graph JSON, or auto-circuit's "
    "prune scores (safetensors; JSON when FILE ends in .json).",
)  # fmt: skip
def run(
    case: str,
    method: str,
    loader: str,
    settings: tuple[str, ...],
    seed: int,
    examples: int,
    model_dir: str | None,
    positions: bool,
    as_json: bool,
    out: str | None,
    timeout: float | None,
    export_scores: str | None,
    fmt: str,
) -> None:
    """Run one discovery method on one case and score it against the ground truth."""
    from interpbench.results.sweep import time_limit
    from interpbench.runner import run as run_once

    config = parse_settings(settings)
    options = {"model_dir": model_dir} if model_dir else None
    if positions and export_scores and fmt != "interpbench":
        raise InterpbenchError(f"--format {fmt} has no token positions: export --positions scores as interpbench")
    for path in (out, export_scores):
        if path:
            _check_writable(path)  # before the run, not after it
    try:
        with time_limit(timeout):
            result = run_once(
                case=case, method=method, loader=loader, config=config, seed=seed, n_examples=examples,
                loader_options=options, positions=positions,
            )  # fmt: skip
    except TimeoutError as e:
        raise InterpbenchError(str(e)) from None
    if out:
        from interpbench.formats.atomic import write_json_atomic

        write_json_atomic(out, result.model_dump(mode="json"))
    if export_scores and result.scores is not None:
        from interpbench.formats.files import ScoresFormat, write_scores

        info = {"case": case, "loader": loader, "method": method}
        write_scores(result.scores, export_scores, cast(ScoresFormat, fmt), info)
    if as_json:
        click.echo(result.model_dump_json(indent=2))
        return
    click.echo(format_result(result))


@cli.command()
@click.option("--case", "case", required=True, help="Case name, e.g. 3.")
@click.option(
    "--scores", "path", required=True, type=click.Path(exists=True, dir_okay=False), help="The file to score."
)
@click.option("--loader", default="tracr", show_default=True, help="Model loader (the model the scores are of).")
@click.option(
    "--format", "fmt", type=click.Choice(["auto", "interpbench", "mib", "auto-circuit"]), default="auto",
    show_default=True,
    help="interpbench's Scores JSON (schemas/Scores.json), the EAP-IG/MIB graph JSON (schemas/MIBGraph.json), or "
    "auto-circuit's prune scores (safetensors, torch.save or schemas/AutoCircuitScores.json); auto tells them apart.",
)  # fmt: skip
@click.option("--name", default="external", show_default=True, help="The method name the record carries.")
@click.option("--seed", default=0, show_default=True, type=SEED, help="Seed of the data the metrics use.")
@click.option("--examples", default=500, show_default=True, type=EXAMPLES, help="Clean/corrupted examples.")
@click.option("--model-dir", type=click.Path(exists=True, file_okay=False), help="Model directory.")
@click.option(
    "--positions", is_flag=True, help="The file scores each edge at each token position (as run --positions)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the RunResult as JSON.")
@click.option("--out", type=OutPath(dir_okay=False, writable=True), help="Also write the RunResult JSON here.")
def score(
    case: str, path: str, loader: str, fmt: str, name: str, seed: int, examples: int, model_dir: str | None,
    positions: bool, as_json: bool, out: str | None,
) -> None:  # fmt: skip
    """Score edge or node scores made by any tool, in any language, with every metric.

    The file holds a score for every edge (or node) of the case's model graph: interpbench's
    Scores JSON, an EAP-IG/MIB graph (its in_graph edges are the selected circuit), or
    auto-circuit's prune scores (docs/formats.md). The record is the RunResult a method run
    writes."""
    from interpbench.runner import score_file

    if out:
        _check_writable(out)
    options = {"model_dir": model_dir} if model_dir else None
    result = score_file(case, path, loader, fmt, name, seed, examples, options, positions)
    if out:
        from interpbench.formats.atomic import write_json_atomic

        write_json_atomic(out, result.model_dump(mode="json"))
    click.echo(result.model_dump_json(indent=2) if as_json else format_result(result))


def format_result(result) -> str:
    t = result.timings
    head = (
        f"case {result.case} · loader {result.loader} · method {result.method} · seed {result.seed} · "
        f"{result.n_examples} examples · method {t.method_seconds:.2f}s (total {t.total_seconds:.2f}s)"
    )
    config = ", ".join(f"{k}={v}" for k, v in result.config.items() if k != "sweep")

    def finer(name: str) -> bool:  # the per-level copies go after the headline numbers
        return name.startswith(("edge_qkv_", "edge_head_"))

    ordered = sorted(result.metrics.items(), key=lambda kv: finer(kv[0]))
    rows = [[name, "n/a" if v is None else f"{v:.4f}"] for name, v in ordered]
    level = [f"edge metrics at {result.granularity} level (the loader's certified granularity); "
             "edge_qkv_* and edge_head_* at each level"] if result.granularity else []  # fmt: skip
    sets = []
    for name, items in result.sets.items():
        if name.endswith("_tn"):
            continue
        shown = ", ".join(items[:8]) + (f", ... ({len(items)} in all)" if len(items) > 8 else "")
        sets.append(f"{name}: {shown or '-'}")
    return "\n".join([head, f"config: {config}", *level, "", _table(rows, ["metric", "value"]), "", *sets])


# --- sweeps and reports --------------------------------------------------------------------


def _names(raw: str, available: list[str], kind: str) -> list[str]:
    if raw == "all":
        return available
    names = [n.strip() for n in raw.split(",") if n.strip()]
    if not names:
        raise InterpbenchError(f"expected a comma list of {kind} names (or all), not {raw!r}")
    for name in names:
        if name not in available:
            from interpbench.errors import UnknownName

            raise UnknownName(kind, name, available)
    return names


def parse_sweep_settings(pairs: Iterable[str]) -> dict[str, dict[str, list[Any]]]:
    """``method.key=v1,v2`` pairs -> {method: {key: [v1, v2]}} (values read as JSON)."""
    settings: dict[str, dict[str, list[Any]]] = {}
    for pair in pairs:
        target, sep, raw = pair.partition("=")
        method, dot, key = target.partition(".")
        if not sep or not dot or not method or not key:
            raise InterpbenchError(f"malformed --set {pair!r}: expected method.key=value[,value...]")
        try:
            values = json.loads(f"[{raw}]")
        except json.JSONDecodeError:
            values = [v.strip() for v in raw.split(",")]
        settings.setdefault(method, {})[key] = values
    return settings


def _available(loader, compilable: list[str]) -> list[str]:
    """The cases a loader has a model for (every compilable one when it does not say)."""
    return compilable if loader.cases is None else [c for c in loader.cases() if c in set(compilable)]


@cli.command()
@click.option(
    "--cases",
    required=True,
    help="Comma list of cases, all (every compilable case), zoo (every case with a certified zoo model), "
    "or available (for each loader, every case it has a model for: the hard track's loaders their own).",
)
@click.option("--methods", required=True, help="Comma list of methods, or all.")
@click.option("--loaders", default="tracr", show_default=True, help="Comma list of loaders.")
@click.option(
    "--set", "settings", multiple=True, metavar="METHOD.KEY=V1,V2", help="Config values to sweep (repeatable)."
)
@click.option("--seeds", default="0", show_default=True, help="Comma list of seeds.")
@click.option("--examples", default=500, show_default=True, type=EXAMPLES)
@click.option("--positions", is_flag=True, help="One edge per token position in every run (as run --positions).")
@click.option("--out", required=True, type=OutPath(file_okay=False), help="Folder for the run records.")
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(1), help="Parallel worker processes.")
@click.option(
    "--executor",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="Where runs execute: worker processes here, or one Ray task per run.",
)
@click.option("--address", help="Ray cluster address (default: start a local Ray instance).")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    help="Seconds a run may take; a run that takes longer is recorded as failed (and its worker replaced).",
)
@click.option(
    "--retry-failed", is_flag=True, help="Run the failed runs of --out again (they count as finished otherwise)."
)
def sweep(
    cases: str,
    methods: str,
    loaders: str,
    settings: tuple[str, ...],
    seeds: str,
    examples: int,
    positions: bool,
    out: str,
    jobs: int,
    executor: str,
    address: str | None,
    timeout: float | None,
    retry_failed: bool,
) -> None:
    """Run a grid of runs; finished records in --out are skipped, so a sweep resumes."""
    from tqdm import tqdm

    from interpbench.results.sweep import grid, run_sweep

    compilable = [c.name for c in registry.cases() if c.compilable]
    if cases == "zoo":
        from interpbench.siit.zoo import entries

        case_names = [e["case"] for e in entries() if e["passed"]]
    elif cases == "available":
        case_names = []
    else:
        case_names = _names(cases, compilable if cases == "all" else [c.name for c in registry.cases()], "case")
    method_names = _names(methods, [m.name for m in registry.methods()], "method")
    loader_names = _names(loaders, [l.name for l in registry.loaders()], "loader")
    try:
        seed_list = [int(s) for s in seeds.split(",")]
        if any(not 0 <= s < 2**32 for s in seed_list):
            raise ValueError
    except ValueError:
        raise InterpbenchError(f"--seeds must be a comma list of integers in 0..2**32-1, not {seeds!r}") from None
    if executor == "local" and address:
        raise InterpbenchError("--address is for --executor ray")
    if not case_names and cases == "zoo":
        raise InterpbenchError("--cases zoo: the zoo has no certified model")
    try:
        if cases == "available":  # each loader with its own cases
            specs = [spec for name in loader_names for spec in grid(
                _available(registry.get_loader(name), compilable), method_names, [name], seed_list,
                parse_sweep_settings(settings), examples, positions)]  # fmt: skip
        else:
            specs = grid(
                case_names, method_names, loader_names, seed_list, parse_sweep_settings(settings), examples, positions
            )
    except ValueError as e:
        raise InterpbenchError(str(e)) from None

    def progress(it, total):
        return tqdm(it, total=total, desc="sweep", unit="run", file=sys.stderr)

    try:
        summary = run_sweep(specs, out, jobs=jobs, progress=progress, executor=executor, address=address, timeout=timeout,
                            retry_failed=retry_failed)  # fmt: skip
    except ValueError as e:
        raise InterpbenchError(str(e)) from None
    click.echo(
        f"{len(specs)} runs: {summary.skipped} skipped (already finished), {summary.ran} ran, {summary.failed} failed"
    )
    for line in summary.failures[:20]:
        click.echo(f"  failed: {_short(line, 150)}", err=True)
    if summary.failed:
        sys.exit(1)


@cli.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--format", "fmt", type=click.Choice(["markdown", "csv", "html", "records"]), default="markdown", show_default=True,
    help="records: every run in one .jsonl file, without per-edge scores (to commit beside a report).",
)  # fmt: skip
@click.option("--metric", default="edge_auroc", show_default=True, help="Metric of the per-case table.")
@click.option("--out", type=OutPath(dir_okay=False), help="Write the report here instead of stdout.")
def report(sources: tuple[str, ...], fmt: str, metric: str, out: str | None) -> None:
    """Tables of results: leaderboard and per-case scores.

    SOURCES are sweep folders and records files (.jsonl, written by --format records); a run
    in several of them counts once, as the last one has it.
    """
    from interpbench.results.report import archive, render

    try:
        text, skipped = archive(sources) if fmt == "records" else render(sources, fmt, metric)
    except ValueError as e:
        raise InterpbenchError(str(e)) from None
    for line in skipped:
        click.echo(f"interpbench: skipped {line}", err=True)
    if out:
        Path(out).write_text(text)
        click.echo(f"wrote {out}")
    else:
        click.echo(text, nl=fmt != "records")


@cli.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
def rescore(folder: str) -> None:
    """Recompute the metrics of a results folder's records from their stored scores.

    For when the scoring conventions change (a new schema version): no method runs
    again. Each record is rewritten in place, atomically; one whose model or data have
    changed since it was made (its empty-circuit metric differs) is left as it is and named.
    """

    from pydantic import ValidationError
    from tqdm import tqdm

    from interpbench.formats.atomic import write_json_atomic
    from interpbench.runner import rescore as rescore_one
    from interpbench.schemas import RunResult

    files = sorted(Path(folder).rglob("*.json"))
    counts = {"rescored": 0, "skipped": 0, "refused": 0}
    for path in tqdm(files, desc="rescore", unit="record", file=sys.stderr):
        try:
            record = RunResult.model_validate_json(path.read_text())
        except (OSError, ValueError, ValidationError):
            counts["skipped"] += 1
            continue
        if record.status != "ok" or record.scores is None:
            counts["skipped"] += 1
            continue
        try:
            write_json_atomic(path, rescore_one(record).model_dump(mode="json"))
            counts["rescored"] += 1
        except InterpbenchError as e:
            counts["refused"] += 1
            tqdm.write(f"{path.name}: {e}", file=sys.stderr)
    click.echo(", ".join(f"{n} {k}" for k, n in counts.items()))
    if counts["refused"]:
        sys.exit(1)


# --- cases -------------------------------------------------------------------------------


@cli.command("compile")
@click.option("--case", "cases", multiple=True, help="Case to compile (repeatable).")
@click.option("--all", "all_cases", is_flag=True, help="Every compilable case.")
@click.option("--force", is_flag=True, help="Recompile even when the cache holds the case.")
def compile_(cases: tuple[str, ...], all_cases: bool, force: bool) -> None:
    """Compile cases with tracr and fill the on-disk cache."""
    from tqdm import tqdm

    from interpbench.compiler import cache, load_compiled
    from interpbench.errors import CaseNotCompilable

    if not cases and not all_cases:
        raise InterpbenchError("say which cases: --case N (repeatable) or --all")
    if cases and all_cases:
        raise InterpbenchError("--all and --case exclude each other")
    specs = registry.case_specs() if all_cases else [registry.get_case(c) for c in cases]
    counts = {"compiled": 0, "cached": 0, "not compilable": 0}
    bar = tqdm(specs, desc="compiling", unit="case", file=sys.stderr)
    for spec in bar:
        bar.set_postfix_str(f"case {spec.name}")
        if spec.not_compilable:
            counts["not compilable"] += 1
            continue
        hit = not force and cache.read(spec) is not None
        if force:
            cache.remove(spec)
        try:
            load_compiled(spec)
        except CaseNotCompilable as e:
            counts["not compilable"] += 1
            tqdm.write(str(e), file=sys.stderr)
            continue
        counts["cached" if hit else "compiled"] += 1
    click.echo(", ".join(f"{n} {k}" for k, n in counts.items()) + f"; cache: {cache.cache_root()}")
    if cases and counts["not compilable"]:  # asked for by name, and not there
        sys.exit(1)


@cli.group()
def show() -> None:
    """Look at one thing closely."""


@show.command("case")
@click.argument("name")
@click.option("--loader", default="tracr", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--image", type=OutPath(dir_okay=False), help="Draw the circuit into this PNG.")
@click.option(
    "--level", type=click.Choice(["edge", "head"]), default="head", show_default=True, help="Circuit level to draw."
)
def show_case(name: str, loader: str, as_json: bool, image: str | None, level: str) -> None:
    """Describe case NAME: task, vocabulary, model size and ground-truth circuit."""
    from interpbench.compiler.ground_truth import head_circuit
    from interpbench.runner import load_model

    spec = registry.get_case(name)
    info = spec.info()
    loaded = load_model(spec.name, loader)
    circuits = {"edge": loaded.circuit, "head": head_circuit(loaded.circuit)}
    if image:
        from interpbench.results.plotting import draw_circuit

        draw_circuit(circuits[level], image, title=f"case {name} ({loader}): {info.description}")
    if as_json:
        _echo_json(
            {
                "case": info.model_dump(mode="json"),
                "model": loaded.info,
                "circuit": {lvl: c.model_dump(mode="json") for lvl, c in circuits.items()},
            }
        )
        return
    vocab = ", ".join(map(str, info.vocab))
    lines = [
        f"case {info.name}: {info.description}",
        f"  output: {'categorical' if info.categorical else 'numerical'}; "
        f"attention: {'causal' if info.causal else 'bidirectional'}; trivial: {'yes' if info.trivial else 'no'}",
        f"  vocab ({len(info.vocab)}): {_short(vocab, 90)}",
        f"  sequence length: {info.max_seq_len} including BOS",
        "  model: " + ", ".join(f"{k} {v}" for k, v in loaded.info.items()),
    ]
    for lvl, circuit in circuits.items():
        lines.append(f"  {lvl}-level circuit: {len(circuit.nodes)} nodes, {len(circuit.edges)} edges")
        lines += [f"    {e.sender} -> {e.receiver}" for e in circuit.edges]
    if image:
        lines.append(f"  picture: {image}")
    click.echo("\n".join(lines))


# --- SIIT --------------------------------------------------------------------------------


@cli.command()
@click.option("--case", "case_name", required=True, help="Case to train a low-level model for.")
@click.option("--seed", default=0, show_default=True, type=SEED)
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE", help="SIIT config value (repeatable).")
@click.option("--out", type=OutPath(file_okay=False), help="Output folder (default: the user's model store).")
@click.option("--resume", is_flag=True, help="Continue from the folder's last checkpoint.")
@click.option(
    "--hard",
    "structure",
    metavar="STRUCTURE",
    help=f"Train a hard-track model of this structure ({', '.join(TRACK)}, or any registered one; "
    "its preset under your --set values).",
)
def train(case_name: str, seed: int, settings: tuple[str, ...], out: str | None, resume: bool,
          structure: str | None) -> None:  # fmt: skip
    """Train a low-level model with Strict Interchange Intervention Training (SIIT).

    Stops early once validation accuracy, IIA and strict accuracy all reach the
    threshold (99.5%) and the joint strict accuracy (every unmapped node resampled at
    once) 99%; a run that does not reach them says so and exits with 1.
    """

    from tqdm import tqdm

    from interpbench.runner import make_config
    from interpbench.siit import zoo
    from interpbench.siit.config import SIITConfig
    from interpbench.siit.hard import names, preset
    from interpbench.siit.train import train as train_siit

    case = registry.get_case(case_name)
    if structure is not None and structure not in names():  # one structure, by its name
        from interpbench.errors import UnknownName

        raise UnknownName("structure", structure, names())
    config = make_config(
        SIITConfig, {"seed": seed, **(preset(structure) if structure else {}), **parse_settings(settings)}
    )
    folder = Path(out) if out else zoo.user_dir(case.name, structure)
    if resume and not (folder / "checkpoint.pt").exists():
        raise InterpbenchError(f"nothing to resume in {folder}: no checkpoint.pt")
    bar = tqdm(total=config.max_steps, desc=f"SIIT case {case.name}", unit="step", file=sys.stderr, mininterval=0.5)

    try:
        result = train_siit(case, config, folder, progress=functools.partial(_show_training, bar), resume=resume)
    except ValueError as e:
        raise InterpbenchError(str(e)) from None
    finally:
        bar.close()
    m = result.metrics
    click.echo(
        f"case {case.name}: {'PASSED' if result.passed else 'did NOT reach'} {config.threshold:.1%} after "
        f"{result.steps} steps, {result.seconds:.1f}s: accuracy {m.accuracy:.4f}, IIA {m.iia:.4f}, "
        f"strict accuracy {m.strict_accuracy:.4f}, joint strict accuracy {m.joint_strict_accuracy:.4f} "
        f"(threshold {config.joint_threshold:.0%})"
        + (f", structure accuracy {m.structure_accuracy:.4f}" if m.structure_accuracy is not None else "")
        + f"; saved in {folder}"
    )
    if result.meta.get("stopped") == "stuck":
        click.echo(
            "the accuracy did not move: the model is probably too small for the case, or the learning rate wrong; "
            "try --set width_factor=2 (or d_head=..., d_model=...), lr=..., max_steps=... (docs/siit-config.md)",
            err=True,
        )
    if not result.passed:
        sys.exit(1)


def _show_training(bar, p) -> None:
    """A SIIT progress callback: the step on ``bar``; the loss and metrics of the last evaluation beside it."""
    bar.total = p.max_steps
    bar.update(p.step - bar.n)  # redrawn at tqdm's pace (mininterval)
    if p.metrics is None:
        return
    shown = {"loss": f"{p.loss['total']:.3g}"} if "total" in p.loss else {}  # the weighted total, as meta.json
    shown.update(
        acc=f"{p.metrics.accuracy:.3f}",
        iia=f"{p.metrics.iia:.3f}",
        strict=f"{p.metrics.strict_accuracy:.3f}",
        joint=f"{p.metrics.joint_strict_accuracy:.3f}",
    )
    if p.metrics.structure_accuracy is not None:
        shown["structure"] = f"{p.metrics.structure_accuracy:.3f}"
    bar.set_postfix(shown, refresh=True)


@cli.command("eval")
@click.option("--case", "case_name", required=True)
@click.option("--loader", default="siit", show_default=True, help="Any registered loader (list loaders).")
@click.option("--model-dir", type=click.Path(exists=True, file_okay=False), help="Trained model directory.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def eval_(case_name: str, loader: str, model_dir: str | None, as_json: bool) -> None:
    """Check a model: accuracy, IIA, strict accuracy, joint strict accuracy, and every
    node's ablation effect; exits with 1 when the model misses its certificate.

    In-circuit nodes must matter and out-of-circuit nodes must not. The model is
    compared with the case's compiled (HL) model, node by node of the same name; a
    trained zoo or --model-dir model on its own validation pairs. With --loader tracr
    the compiled model is checked against itself (a baseline: everything 1.0).
    """
    from interpbench.runner import evaluate_model

    case = registry.get_case(case_name)
    result = evaluate_model(case.name, loader, {"model_dir": model_dir} if model_dir else {})
    certified = result.passed()
    if as_json:
        _echo_json({**result.to_dict(), "certified": certified})
    else:
        click.echo(
            f"case {case.name} ({loader}): accuracy {result.accuracy:.4f}, IIA {result.iia:.4f}, "
            f"strict accuracy {result.strict_accuracy:.4f}, joint strict accuracy {result.joint_strict_accuracy:.4f} "
            f"({result.joint_strict_sequences:.1%} of sequences) on {result.n_pairs} pairs; "
            f"effects in {result.metric.upper()}"
        )
        click.echo(result.table())
        if result.structure_accuracy is not None:
            click.echo(f"structure accuracy {result.structure_accuracy:.4f} (the two targets differ at "
                       f"{result.structure_contrast:.1%} of positions); per resampled subset:")  # fmt: skip
            for subset, acc in result.structure_per_subset.items():
                click.echo(
                    f"  {subset:70} accuracy {acc:.4f}  {result.metric.upper()} {result.structure_effects[subset]:.4g}"
                )
        verdict = "meets" if certified else "does NOT meet"
        also = ", structure accuracy" if result.structure_accuracy is not None else ""
        click.echo(
            f"certificate: {verdict} accuracy, IIA, strict accuracy{also} >= 99.5% and joint strict accuracy >= 99%"
        )
    if not certified:
        sys.exit(1)


@cli.command()
@click.option("--case", "case_name", required=True)
@click.option("--format", "fmt", type=click.Choice(["interpbench"]), default="interpbench", show_default=True)
@click.option("--out", required=True, type=OutPath(file_okay=False), help="Folder to write.")
@click.option("--model-dir", type=click.Path(exists=True, file_okay=False), help="Trained model (default: the case's).")
def export(case_name: str, fmt: str, out: str, model_dir: str | None) -> None:
    """Write a trained model in the published InterpBench layout (ll_model_cfg.pkl,
    ll_model.pth, edges.pkl, meta.json)."""
    from interpbench.siit import zoo as siit_zoo
    from interpbench.siit.published import export_published

    case = registry.get_case(case_name)
    directory = model_dir or siit_zoo.find(case.name)
    if directory is None:
        raise InterpbenchError(f"no trained model for case {case.name}: run `interpbench train --case {case.name}`")
    click.echo(export_published(case, directory, out))


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option(
    "--hard", is_flag=True, help="The hard track: models with redundant, backup, cancelling and sparse circuits."
)
@click.option(
    "--work",
    type=click.Path(file_okay=False),
    help="The work folder of a zoo build, whose trainings in progress are listed after the table "
    "(default: the cache's zoo-build/).",
)
@click.pass_context
def zoo(ctx: click.Context, as_json: bool, hard: bool, work: str | None) -> None:
    """The trained models shipped with interpbench: their certificates and training figures.

    A model is certified when accuracy, IIA and strict accuracy reach 99.5 % and the
    joint strict accuracy (every unmapped node resampled at once) 99 %; uncertified ones
    are listed with the reason and served by no loader. Trainings a zoo build left in
    progress follow the table.
    """
    if ctx.invoked_subcommand is not None:
        return
    from interpbench.siit.correspondence import node_hook
    from interpbench.siit.hard import names as hard_names
    from interpbench.siit.zoo import entries, shortfall

    rows = [r for st in hard_names() for r in entries(st)] if hard else entries()
    if as_json:
        _echo_json(rows)
        return

    def num(v: Any) -> str:
        return "n/a" if v is None else f"{v:.4f}"

    def shape(r: dict[str, Any]) -> str:
        return "×".join(str(r["shape"][k]) for k in ("n_layers", "n_heads", "d_model"))

    def group(r: dict[str, Any]) -> str:
        members = zip(r["group"]["members"], r["group"]["roles"]) if r["group"] else []
        return ", ".join(f"L{node_hook(m).layer}H{node_hook(m).head} ({role})" for m, role in members)

    if hard:
        table = [
            [
                r["case"],
                r["structure"],
                "yes" if r["passed"] else "NO",
                num(r["accuracy"]),
                num(r["iia"]),
                num(r["strict_accuracy"]),
                num(r["joint_strict_accuracy"]),
                num(r["structure_accuracy"]),
                num(r["structure_contrast"]),
                f"{r['train_seconds']:.0f}s",
                shape(r),
                group(r),
                shortfall(r),
            ]
            for r in rows
        ]
        headers = [
            "case",
            "structure",
            "certified",
            "accuracy",
            "IIA",
            "strict",
            "joint strict",
            "structure",
            "contrast",
            "training",
            "layers×heads×d_model",
            "group",
            "why not",
        ]
    else:
        table = [
            [
                r["case"],
                "yes" if r["passed"] else "NO",
                num(r["accuracy"]),
                num(r["iia"]),
                num(r["strict_accuracy"]),
                num(r["joint_strict_accuracy"]),
                r["steps"],
                f"{r['train_seconds']:.0f}s",
                shape(r),
                "yes" if r["trivial"] else "",
                shortfall(r),
            ]
            for r in rows
        ]
        headers = [
            "case",
            "certified",
            "accuracy",
            "IIA",
            "strict",
            "joint strict",
            "steps",
            "training",
            "layers×heads×d_model",
            "trivial",
            "why not",
        ]
    click.echo(_table(table, headers))  # fmt: skip
    certified = sum(r["passed"] for r in rows)
    total = sum(r["size_bytes"] for r in rows)
    click.echo(f"{certified} of {len(rows)} models certified; {total / 2**20:.1f} MiB of weights")
    from interpbench.siit.zoo_build import describe, in_progress, work_root

    folder = Path(work) if work else work_root()
    for training in [] if hard else in_progress(folder):
        click.echo(f"in training ({folder}): {describe(training)}")


@zoo.command("build")
@click.option("--cases", "cases_arg", default="all", show_default=True, help="Comma-separated case names, or all.")
@click.option("--set", "settings", multiple=True, metavar="KEY=VALUE", help="SIIT config value (repeatable).")
@click.option("--retry", is_flag=True, help="Train uncertified cases again, with the next rung of stronger settings.")
@click.option(
    "--hard",
    "structures",
    help=f"Build the hard track for these structures (comma list, or all: {', '.join(TRACK)}) instead of the zoo.",
)
@click.option(
    "--work",
    type=OutPath(file_okay=False),
    help="Folder for the trainings in progress (default: the cache's zoo-build/). One you keep, such as a "
    "committed folder, lets a build resume on another machine.",
)
def zoo_build(cases_arg: str, settings: tuple[str, ...], retry: bool, structures: str | None, work: str | None) -> None:
    """Train and certify a model for every case into the zoo (cheapest case first).

    Resumable: a zoo model that meets the certificate is kept, one already tried with
    the same settings is not tried again, and an interrupted training continues from
    its checkpoint. Each finished case is installed in the zoo at once.
    """
    from tqdm import tqdm

    from interpbench.runner import make_config
    from interpbench.siit.config import SIITConfig
    from interpbench.siit.zoo_build import build

    config = make_config(SIITConfig, parse_settings(settings))
    available = [c.name for c in registry.case_specs() if not c.not_compilable]
    names = available if cases_arg == "all" else _names(cases_arg, available, "case")
    cases = [registry.get_case(n) for n in names]
    chosen: tuple[str | None, ...] = (None,)
    if structures is not None:
        from interpbench.siit.hard import names as hard_names

        chosen = tuple(TRACK if structures == "all" else _names(structures, hard_names(), "structure"))
    quiet = 1 if sys.stderr.isatty() else 60  # seconds between updates; a log file gets a line a minute
    bar = tqdm(total=len(cases) * len(chosen), desc="zoo", unit="model", file=sys.stderr, mininterval=quiet)
    steps = tqdm(desc="training", unit="step", file=sys.stderr, mininterval=quiet, leave=False)

    def start(case: str, structure: str | None) -> None:
        steps.reset()
        steps.set_description(f"case {case}" + (f" ({structure})" if structure else ""))

    def done(o) -> None:
        bar.update(1)
        state = "certified" if o.passed else ("FAILED" if o.action == "failed" else "not certified")
        which = f"case {o.case}" + (f" ({o.structure})" if o.structure else "")
        tqdm.write(f"{which}: {o.action}, {state} ({o.detail}; {o.seconds:.0f}s)", file=sys.stderr)

    try:
        outcomes = build(
            cases, config, on_outcome=done, retry=retry, structures=chosen, work=Path(work) if work else None,
            progress=functools.partial(_show_training, steps), on_start=start,
        )  # fmt: skip
    finally:
        steps.close()
        bar.close()
    certified = sum(o.passed for o in outcomes)
    click.echo(
        f"{certified} of {len(outcomes)} models certified; see `interpbench zoo{' --hard' if structures else ''}`"
    )


# --- schemas -----------------------------------------------------------------------------


@cli.command()
@click.argument("name", required=False)
@click.option("--write", "write_dir", type=OutPath(file_okay=False), help="Write every schema into this folder.")
def schema(name: str | None, write_dir: str | None) -> None:
    """Print the JSON Schema of one result model, or write them all with --write.

    NAME is a model such as RunResult or Scores; without it, the names are listed.
    """
    from interpbench.schemas.export import EXPORTED, write_schemas

    if write_dir:
        for path in write_schemas(write_dir):
            click.echo(path)
        return
    if not name:
        click.echo("\n".join(sorted(EXPORTED)))
        return
    if name not in EXPORTED:
        from interpbench.errors import UnknownName

        raise UnknownName("schema", name, sorted(EXPORTED))
    _echo_json(EXPORTED[name].model_json_schema())


def main() -> None:  # pragma: no cover - console entry point
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()
