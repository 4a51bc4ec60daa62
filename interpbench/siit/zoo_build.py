"""Train and certify the whole zoo: one command, resumable, every case accounted for.

For each case (cheapest first, by the size of its compiled model) the build either
keeps the zoo's model, when re-evaluation shows it meets the full certificate (joint
strict accuracy included), or trains one with SIIT in a work folder (checkpointed, so
an interrupted build resumes mid-training) and installs the result in the zoo. A model
that misses the certificate is installed too, with ``"passed": false`` and its numbers:
it is listed by ``interpbench zoo`` with the reason, and no loader serves it. Every
finished case is in the zoo at once, so nothing done is lost when the build stops.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from interpbench.formats.atomic import write_atomic
from interpbench.siit import zoo


@dataclass
class Outcome:
    case: str
    action: str  # "kept" | "trained" | "failed" (an error, not an uncertified model)
    passed: bool
    seconds: float
    detail: str = ""
    structure: str | None = None  # the hard track's structure; None: the zoo's model


def work_root() -> Path:
    """Where trainings in progress keep their checkpoints unless told otherwise."""
    from interpbench.compiler.cache import cache_root

    return cache_root() / "zoo-build"


def in_progress(work: Path) -> list[dict[str, Any]]:
    """The unfinished trainings in a work folder: case, step, max_steps and the last
    evaluation's numbers (None before the first), read from each checkpoint; one that
    cannot be read is listed with ``error`` (the build fails that case until it is removed)."""
    import torch

    from interpbench.siit.train import CHECKPOINT

    found: list[dict[str, Any]] = []
    for path in sorted(work.glob(f"case-*/{CHECKPOINT}")):
        case = path.parent.name.removeprefix("case-")
        try:
            saved = torch.load(path, weights_only=True)
            history = json.loads(saved["history"])
            entry: dict[str, Any] = {
                "case": case,
                "step": int(saved["step"]),
                "max_steps": json.loads(saved["config"])["max_steps"],
            }
        except Exception as e:  # noqa: BLE001 - whatever is wrong with the file, the listing goes on
            found.append({"case": case, "error": type(e).__name__})
            continue
        found.append({**entry, "last": history[-1] if history else None})
    return found


def describe(training: dict) -> str:
    """One line for an ``in_progress`` entry: where it is, and how its last evaluation went."""
    if "error" in training:
        return f"case {training['case']}: unreadable checkpoint ({training['error']}); remove it to start over"
    last = training["last"]
    scores = (
        f"; IIA {last['iia']:.4f}, joint strict {last['joint_strict_accuracy']:.4f} at its last evaluation"
        if last
        else ""
    )
    return f"case {training['case']}: step {training['step']:,} of {training['max_steps']:,}{scores}"


def build_order(cases: list) -> list:
    """Cheapest first: the compiled model's parameter count, then the case number."""
    from interpbench.compiler import load_compiled

    def cost(case) -> tuple[int, str]:
        return sum(p.numel() for p in load_compiled(case).model.parameters()), case.name

    return sorted(cases, key=cost)


def certify_in_place(case, directory: Path) -> bool:
    """Re-evaluate a zoo model (on its own validation pairs) and record the full certificate
    in its ``meta.json``; returns whether it passes."""
    from interpbench.siit.config import SIITConfig
    from interpbench.siit.store import evaluate_directory, read_meta

    meta = read_meta(directory)
    config = SIITConfig(**{k: v for k, v in meta["hyperparameters"].items() if k in SIITConfig.model_fields})
    result = evaluate_directory(case, directory)
    passed = result.passed(config.threshold, config.joint_threshold, config.hidden_threshold)
    meta.update(metrics=result.to_dict(), passed=passed, joint_threshold=config.joint_threshold)
    write_atomic(directory / "meta.json", lambda p: p.write_text(json.dumps(meta, indent=2) + "\n"))
    return passed


def install(source: Path, case_name: str, structure: str | None = None) -> Path:
    """Copy a finished training's files into the zoo, replacing what was there atomically."""
    from interpbench.siit.train import FILES

    target = zoo.zoo_dir(case_name, structure)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in FILES:
        shutil.copy2(source / name, tmp / name)
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)
    return target


#: What a case that missed its certificate is trained with next, one rung per ``--retry``
#: build, by what it missed. Joint strict accuracy (cases 44, 47 and 78 at 6,000 steps:
#: 0.955-0.990; SelectorWidth counts, whose decoder must tell 1/9 from 1/10 while every
#: unmapped node adds a little of another input): more strict samples resample every
#: unmapped node at once, then a wider model (case 44 sat at 0.96 from step 9,000 to 12,000
#: at d_model 24, and passed at 1,900 steps with width_factor 2), then more steps. IIA (case
#: 59, the sort with a SelectorWidth count: IIA 0.86, its counting head's 0.44, after 6,000
#: steps at InterpBench's default size, d_head-compressed, d_model 200): a compressed
#: residual stream, as InterpBench sizes the sorts of cases 9 and 22 (case 59: IIA 0.97 at
#: 1,000 steps, d_model 72), then more steps.
RETRIES: dict[str, tuple[dict, ...]] = {
    "joint_strict_accuracy": (
        {"strict_joint_share": 0.5, "max_steps": 12_000},
        {"strict_joint_share": 0.5, "max_steps": 12_000, "width_factor": 2.0},
        {"strict_joint_share": 0.75, "max_steps": 20_000, "width_factor": 2.0},
    ),
    "iia": ({"compress_resid": True}, {"compress_resid": True, "max_steps": 12_000}),
}


def attempts(config, missed: str = "joint_strict_accuracy") -> list:
    """The settings a case is tried with, in order: ``config``, then each retry rung for
    what it ``missed`` (a key of ``RETRIES``)."""
    return [config, *(config.model_copy(update=rung) for rung in RETRIES[missed])]


def ladder_of(config, meta: dict) -> tuple[list, int | None]:
    """The ladder an uncertified model is on, and its rung there (None: trained with other
    settings). A model trained with ``config`` itself climbs the ladder of what it missed:
    IIA's when IIA is under the threshold, the joint strict accuracy's otherwise."""
    recorded = meta.get("hyperparameters", {})
    for missed in RETRIES:
        ladder = attempts(config, missed)
        rung = _rung(recorded, ladder)
        if rung:  # a retry rung names its ladder
            return ladder, rung
    iia, threshold = meta.get("metrics", {}).get("iia"), meta.get("threshold", config.threshold)
    ladder = attempts(config, "iia" if iia is not None and iia < threshold else "joint_strict_accuracy")
    return ladder, _rung(recorded, ladder)


def _rung(recorded: dict, ladder: list) -> int | None:
    """Which of the ladder's settings a model was trained with: every recorded value equal,
    and every setting newer than the recording at its default (it did not exist then)."""
    for i, config in enumerate(ladder):
        values = config.model_dump(mode="json")
        defaults = type(config)().model_dump(mode="json")
        if all(recorded.get(k, defaults[k]) == v for k, v in values.items()):
            return i
    return None


def build_case(
    case, config, *, progress=None, retry: bool = False, structure: str | None = None, work: Path | None = None
) -> Outcome:
    """Keep, or train and install, the zoo's model for ``case`` (with ``structure``: the hard
    track's model of that structure, trained with its preset on top of ``config``). The
    training runs in a folder under ``work`` (default ``work_root()``), removed once its
    model is installed."""
    from interpbench.siit.hard import preset
    from interpbench.siit.store import read_meta
    from interpbench.siit.train import CHECKPOINT, train

    t0 = time.perf_counter()
    if structure is not None:
        config = config.model_copy(update=preset(structure))
    existing = zoo.zoo_dir(case.name, structure)
    if (existing / "meta.json").exists():
        meta = read_meta(existing)
        ladder, rung = ladder_of(config, meta)
        if meta.get("metrics", {}).get("joint_strict_accuracy") is None:
            if certify_in_place(case, existing):
                return Outcome(case.name, "kept", True, time.perf_counter() - t0, "re-certified")
        elif meta.get("passed"):
            return Outcome(case.name, "kept", True, 0.0, "already built")
        elif rung is not None:
            # tried with these settings: a rerun would give the same model
            if not retry or rung + 1 == len(ladder):
                return Outcome(
                    case.name, "kept", False, 0.0, f"not certified after attempt {rung + 1} of {len(ladder)}"
                )
            config = ladder[rung + 1]
    folder = (work or work_root()) / (f"hard-{structure}" if structure else "") / f"case-{case.name}"
    try:
        result = train(case, config, folder, progress=progress, resume=(folder / CHECKPOINT).exists())
    except ValueError as e:  # a checkpoint of other settings (a retry with new ones): start over
        if "cannot resume" not in str(e):
            raise
        shutil.rmtree(folder)
        result = train(case, config, folder, progress=progress)
    install(folder, case.name, structure)
    shutil.rmtree(
        folder, ignore_errors=True
    )  # the zoo has the model and its settings: a rerun keeps it, a retry starts afresh
    return Outcome(case.name, "trained", result.passed, time.perf_counter() - t0, f"{result.steps} steps")


def build(
    cases: list, config, *, on_outcome: Callable[[Outcome], None] | None = None, progress=None, retry: bool = False,
    structures: tuple[str | None, ...] = (None,), work: Path | None = None,
    on_start: Callable[[str, str | None], None] | None = None,
) -> list[Outcome]:  # fmt: skip
    """Build the zoo for ``cases`` (cheapest first; ``structures``: the hard track's, None
    the zoo's own); a case whose training raises is reported and the build goes on. With
    ``retry``, a case that missed its certificate is trained again with the next rung of
    ``RETRIES`` for what it missed. ``work`` holds the trainings in progress (a folder one
    keeps, such as a committed one, lets a build outlive the machine)."""
    outcomes = []
    for case, structure in itertools.product(build_order(cases), structures):
        if on_start is not None:
            on_start(case.name, structure)
        try:
            outcome = build_case(
                case, config.model_copy(), progress=progress, retry=retry, structure=structure, work=work
            )
        except Exception as e:  # one case's failure must not stop the rest of a long build
            outcome = Outcome(case.name, "failed", False, 0.0, f"{type(e).__name__}: {e}")
        outcome.structure = structure
        outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return outcomes
