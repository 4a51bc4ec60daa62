"""Generate the reference parts of docs/ from the code, so they never drift.

    python tools/docs_gen.py      # rewrites docs/cli.md, method-configs.md, case-list.md
    python tools/docs_gen.py zoo  # rewrites docs/zoo.md (re-evaluates every zoo model)
    python tools/docs_gen.py hard # rewrites docs/hard-track-zoo.md

A test fails when a generated file is stale.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from interpbench.cli import cli


def _commands(group: click.Group, prefix: str) -> list[tuple[str, click.Command]]:
    found = []
    for name in sorted(group.commands):
        command = group.commands[name]
        path = f"{prefix} {name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found += _commands(command, path)
    return found


def render_cli() -> str:
    lines = [
        "# Command-line reference",
        "",
        "Generated from the commands' own help by `python tools/docs_gen.py`;",
        "a test fails when this file is stale.",
        "",
    ]
    for path, command in [("interpbench", cli)] + _commands(cli, "interpbench"):
        ctx = click.Context(command, info_name=path, terminal_width=88, max_content_width=88)
        lines += [f"## {path}", "", "```", command.get_help(ctx), "```", ""]
    return "\n".join(lines)


def render_method_configs() -> str:
    """Every built-in method's parameters, from its pydantic config."""
    from interpbench import registry

    lines = [
        "# Method parameters",
        "",
        "Generated from the methods' config models by `python tools/docs_gen.py`.",
        "Set them with `interpbench run --set key=value` (values are read as JSON).",
        "",
    ]
    for info in registry.methods():
        if info.plugin != "interpbench":
            continue
        lines += [f"## {info.name}", "", info.description, "", f"Level: {info.level}.", ""]
        props = info.config_schema.get("properties", {})
        if not props:
            lines += ["No parameters.", ""]
            continue
        lines += ["| parameter | default | description |", "|---|---|---|"]
        for name, prop in props.items():
            default = prop.get("default", "")
            lines.append(f"| `{name}` | `{default}` | {prop.get('description', '')} |")
        lines.append("")
    return "\n".join(lines)


def render_siit_config() -> str:
    """Every SIIT training setting, from ``SIITConfig``."""
    from interpbench.siit.config import SIITConfig

    lines = [
        "# SIIT training settings",
        "",
        "Generated from `interpbench.siit.config.SIITConfig` by `python tools/docs_gen.py`.",
        "Set them with `interpbench train --set key=value` or `interpbench zoo build --set key=value`",
        "(values are read as JSON). See [siit.md](siit.md) for what training does with them.",
        "",
        "| setting | default | description |",
        "|---|---|---|",
    ]
    for name, field in SIITConfig.model_fields.items():
        default = json.dumps(field.default) if not callable(field.default) else ""
        lines.append(f"| `{name}` | `{default}` | {field.description or ''} |")
    return "\n".join(lines) + "\n"


def render_case_list() -> str:
    """Every registered built-in case, from the registry (no compiling)."""
    from interpbench import registry

    lines = [
        "# Case list",
        "",
        "Generated from the registry by `python tools/docs_gen.py`. Sequence length",
        "counts BOS. `interpbench show case N` prints a case's model and circuit.",
        "",
        "| case | task | output | vocab | seq len | attention | trivial | compiles |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for c in registry.cases():
        if c.plugin != "interpbench":
            continue
        compiles = "yes" if c.compilable else f"no: {c.not_compilable_reason}"
        lines.append(
            f"| {c.name} | {c.description.replace('|', '/')} | {'categorical' if c.categorical else 'numerical'} "
            f"| {len(c.vocab)} | {c.max_seq_len} | {'causal' if c.causal else 'bidirectional'} "
            f"| {'yes' if c.trivial else ''} | {compiles} |"
        )
    return "\n".join(lines) + "\n"


GENERATED = {
    "cli.md": render_cli,
    "method-configs.md": render_method_configs,
    "siit-config.md": render_siit_config,
    "case-list.md": render_case_list,
}


def render_zoo() -> str:
    """The zoo: every compilable case, its model's certificate and training figures, and each
    model's node-effects table (from the evaluation recorded when the model was certified)."""
    from interpbench import registry
    from interpbench.siit import zoo, zoo_build
    from interpbench.siit.config import SIITConfig
    from interpbench.siit.evaluate import EvalResult
    from interpbench.siit.store import read_meta

    entries = zoo.entries()
    have = {e["case"] for e in entries}
    compilable = [c for c in registry.case_specs() if not c.not_compilable]
    missing = [c.name for c in compilable if c.name not in have]
    certified = [e for e in entries if e["passed"]]
    size = sum(e["size_bytes"] for e in entries)

    def num(v) -> str:
        return "n/a" if v is None else f"{v:.4f}"

    defaults = SIITConfig().model_dump(mode="json")
    rung_keys = sorted({k for ladder in zoo_build.RETRIES.values() for rung in ladder for k in rung})

    def retried_with(case: str) -> str:
        """The retry-rung settings a model was trained with (empty: the defaults)."""
        recorded = read_meta(zoo.zoo_dir(case)).get("hyperparameters", {})
        return ", ".join(f"{k}={recorded[k]}" for k in rung_keys if recorded.get(k, defaults[k]) != defaults[k])

    lines = [
        "# The model zoo",
        "",
        "Generated by `python tools/docs_gen.py zoo` from the models in `interpbench/zoo/`, which",
        "`interpbench zoo build` trains with SIIT on this project's 2-core machine (one torch thread, other",
        "jobs sharing the machine), cheapest case first, resuming where it stopped.",
        "",
        "A model is **certified** when, on its own validation pairs, accuracy, IIA and strict accuracy",
        "reach 99.5 % and the **joint strict accuracy** (every unmapped node resample-ablated at once, as a",
        "discovery method ablates them; over positions) reaches 99 %. Uncertified models are listed with",
        "their numbers and served by no loader. The `trivial` column is InterpBench's flag; `retry settings`",
        "names what a model that missed its certificate was trained again with (`interpbench zoo build",
        "--retry`, [siit.md](siit.md)).",
        "",
        f"**{len(certified)} of {len(compilable)} compilable cases have a certified model**; "
        f"{len(entries) - len(certified)} trained but not certified; {len(missing)} not trained yet. "
        f"Weights: {size / 2**20:.1f} MiB in all.",
        "",
        "| case | certified | accuracy | IIA | strict | joint strict (positions) | joint strict (sequences) "
        "| steps | training s | LL layers×heads×d_model | trivial | size | retry settings |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in entries:
        shape = "×".join(str(e["shape"][k]) for k in ("n_layers", "n_heads", "d_model"))
        lines.append(
            f"| {e['case']} | {'yes' if e['passed'] else '**no**'} | {num(e['accuracy'])} | {num(e['iia'])} "
            f"| {num(e['strict_accuracy'])} | {num(e['joint_strict_accuracy'])} | {num(e['joint_strict_sequences'])} "
            f"| {e['steps']} | {e['train_seconds']:.0f} | {shape} | {'yes' if e['trivial'] else ''} "
            f"| {e['size_bytes'] / 1024:.0f} KiB | {retried_with(e['case'])} |"
        )
    seconds = sorted(e["train_seconds"] for e in entries)
    if seconds:
        lines += ["", f"Median training time: {seconds[len(seconds) // 2]:.0f} s; longest: {seconds[-1]:.0f} s."]
    failed = [e for e in entries if not e["passed"]]
    if failed:
        lines += ["", "Why the uncertified ones are not certified (`interpbench zoo` says the same):", ""]
        lines += [f"- case {e['case']}: {zoo.shortfall(e)}" for e in failed]
    if missing:
        lines += ["", f"Not trained yet: {', '.join(missing)}."]
    training = zoo_build.in_progress(Path(__file__).resolve().parents[1] / "zoo-work")
    if training:
        lines += [
            "",
            "In training, with checkpoints in `zoo-work/` (`interpbench zoo build --work zoo-work` goes on):",
            "",
        ]
        lines += [f"- {zoo_build.describe(t)}" for t in training]
    lines += ["", "## Node effects", "", "In-circuit nodes must matter, out-of-circuit nodes must not.", ""]
    for e in entries:
        recorded = EvalResult.from_dict(read_meta(zoo.zoo_dir(e["case"]))["metrics"])
        lines += [f"### case {e['case']}", "", "```", recorded.table(), "```", ""]
    return "\n".join(lines)


#: What each hardening test file attacks (the counts are collected from the tests themselves).
ATTACKS = {
    "tests/acceptance/test_cli_bad_input.py": "malformed command lines over every command: one line on stderr, "
    "non-zero exit, nothing written",
    "tests/acceptance/test_cli_fuzz.py": "seeded random command lines (commands, options and values, valid and not): "
    "output and exit 0, or one error line and a non-zero exit, never a traceback",
    "tests/integration/test_model_config_safety.py": "model configs that would run code (tokenizer, remote code), "
    "absurd sizes, pickle bombs, special files, for every loader and the compile cache",
    "tests/integration/test_interpbench_dir.py": "hostile published directories: pickles of every protocol and "
    "reconstructor trick, code in weights files, name translation",
    "tests/integration/test_cache.py": "compile-cache entries swapped, truncated, replaced by links, FIFOs or files, "
    "killed mid-write",
    "tests/integration/test_sweep_workers.py": "workers killed, hung, exiting or interrupted; sweeps SIGKILLed and "
    "resumed; records that are not the run their name says",
    "tests/integration/test_sweep.py": "sweep resume, one sweep per folder, stale temporaries, failed records",
    "tests/integration/test_host_owns_scoring.py": "methods that edit the ground truth, metrics that overwrite "
    "others or raise, non-finite numbers",
    "tests/integration/test_plugin_hooks.py": "broken plugins: import errors, bad registrations, duplicates, "
    "misnamed hook arguments, unknown hooks, hooks that raise",
    "tests/integration/test_score_files.py": "bad score files for `interpbench score`: malformed JSON, "
    "safetensors and torch.save files, wrong shapes and names, torch.save pickles that would run code",
}


def render_hardening() -> str:
    """The attacks the test suite makes, counted from the collected tests."""
    import collections
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    listed = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "", *ATTACKS],
        cwd=root, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    counts = collections.Counter(line.split("::")[0] for line in listed.splitlines() if "::" in line)
    lines = [
        "# Hardening: what the tests attack",
        "",
        "Generated by `python tools/docs_gen.py hardening` from the collected tests (a test that",
        "loops over several attacks counts once; parametrized ones count per case). Every one of",
        "them runs in CI (`make test`, `make test-slow`).",
        "",
        "| tests | attack | count |",
        "|---|---|---|",
    ]
    lines += [f"| `{path}` | {what} | {counts[path]} |" for path, what in ATTACKS.items()]
    lines += ["", f"**{sum(counts[p] for p in ATTACKS)} tests** in all.", ""]
    return "\n".join(lines)


def render_hard_track() -> str:
    """The hard track's models: certificates, groups and every subset's measured effect."""
    from interpbench.siit import zoo
    from interpbench.siit.correspondence import Structure, node_hook
    from interpbench.siit.hard import TRACK
    from interpbench.siit.store import read_meta

    rows = [e for st in TRACK for e in zoo.entries(st)]
    certified = [e for e in rows if e["passed"]]

    def num(v) -> str:
        return "n/a" if v is None else f"{v:.4f}"

    def short(node: str) -> str:
        site = node_hook(node)
        return f"L{site.layer}H{site.head}" if site.head is not None else f"MLP{site.layer}"

    lines = [
        "# The hard track's models",
        "",
        "Generated by `python tools/docs_gen.py hard` from the models in `interpbench/zoo/hard/`, which",
        "`interpbench zoo build --hard all --cases ...` trains (see [hard-track.md](hard-track.md) for the",
        "structures and what their certificates mean). A model is certified when accuracy, IIA, strict",
        "accuracy and the **structure accuracy** (every non-empty subset of the structured group resampled",
        "together behaves as the structure's rule says) reach 99.5 % and the joint strict accuracy 99 %.",
        "*Contrast*: the share of positions where the two targets of a subset differ (what a subset's",
        "effect can show at all). *Hidden effect*: the largest effect (KL from the unablated outputs) of a",
        "subset that must leave the output unchanged; certified at most 0.001, about an unmapped node's",
        "(the next column), so that ablating it alone is as invisible as ablating a node outside the circuit.",
        "",
        f"**{len(certified)} of {len(rows)} models certified**, over "
        f"{len({e['case'] for e in certified})} cases and {len({e['structure'] for e in certified})} structures.",
        "",
        "| case | structure | certified | accuracy | IIA | strict | joint strict | structure | contrast "
        "| hidden effect | largest unmapped effect | training s | LL layers×heads×d_model |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]

    def effect(v) -> str:
        return "n/a" if v is None else f"{v:.2g}"

    for e in rows:
        shape = "×".join(str(e["shape"][k]) for k in ("n_layers", "n_heads", "d_model"))
        effects = read_meta(zoo.zoo_dir(e["case"], e["structure"]))["metrics"].get("node_effects", [])
        unmapped = max((n["resample_effect"] for n in effects if not n["in_circuit"]), default=None)
        lines.append(
            f"| {e['case']} | {e['structure']} | {'yes' if e['passed'] else '**no**'} | {num(e['accuracy'])} "
            f"| {num(e['iia'])} | {num(e['strict_accuracy'])} | {num(e['joint_strict_accuracy'])} "
            f"| {num(e['structure_accuracy'])} | {num(e['structure_contrast'])} | {effect(e['structure_hidden_effect'])} "
            f"| {effect(unmapped)} | {e['train_seconds']:.0f} | {shape} |"
        )
    lines += ["", "## Each group, subset by subset", "",
              "Accuracy against the structure's target with the subset resampled, and the subset's effect",
              "(KL from the unablated outputs).", ""]  # fmt: skip
    for e in rows:
        if not e["group"]:
            continue
        metrics = read_meta(zoo.zoo_dir(e["case"], e["structure"]))["metrics"]
        members = ", ".join(f"{short(m)} ({r})" for m, r in zip(e["group"]["members"], e["group"]["roles"]))
        lines += [f"### case {e['case']}, {e['structure']}: {members}", "",
                  "| resampled | follows the source | accuracy | KL |", "|---|---|---|---|"]  # fmt: skip
        st = Structure(e["group"]["kind"], e["group"]["hl_node"], tuple(e["group"]["members"]))
        for subset in st.subsets():
            key = "+".join(subset)
            lines.append(f"| {' + '.join(map(short, subset))} | {'yes' if st.follows(set(subset)) else 'no'} "
                         f"| {num(metrics['structure_per_subset'].get(key))} | {metrics['structure_effects'].get(key, 0):.4g} |")  # fmt: skip
        lines.append("")
    return "\n".join(lines)


def write(folder: Path, names: list[str]) -> None:
    renderers = {
        **GENERATED,
        "zoo.md": render_zoo,
        "hard-track-zoo.md": render_hard_track,
        "hardening.md": render_hardening,
    }
    for name in names:
        (folder / name).write_text(renderers[name]())


if __name__ == "__main__":
    import sys

    targets = {"zoo": ["zoo.md"], "hard": ["hard-track-zoo.md"], "hardening": ["hardening.md"]}.get(
        " ".join(sys.argv[1:]), list(GENERATED)
    )
    write(Path(__file__).resolve().parents[1] / "docs", targets)
