"""Generate the reference parts of docs/ from the code, so they never drift.

    python -m interpbench.docs_gen      # rewrites docs/cli.md and docs/method-configs.md

A test fails when a generated file is stale.
"""

from __future__ import annotations

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
        "Generated from the commands' own help by `python -m interpbench.docs_gen`;",
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
        "Generated from the methods' config models by `python -m interpbench.docs_gen`.",
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


def render_case_list() -> str:
    """Every registered built-in case, from the registry (no compiling)."""
    from interpbench import registry

    lines = [
        "# Case list",
        "",
        "Generated from the registry by `python -m interpbench.docs_gen`. Sequence length",
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


GENERATED = {"cli.md": render_cli, "method-configs.md": render_method_configs, "case-list.md": render_case_list}


def write(folder: Path) -> None:
    for name, render in GENERATED.items():
        (folder / name).write_text(render())


if __name__ == "__main__":
    write(Path(__file__).resolve().parents[1] / "docs")
