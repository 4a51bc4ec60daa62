"""Generate docs/cli.md from the click commands, so the reference never drifts.

    python -m interpbench.cli_reference > docs/cli.md
"""

from __future__ import annotations

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


def render() -> str:
    lines = [
        "# Command-line reference",
        "",
        "Generated from the commands' own help by `python -m interpbench.cli_reference`;",
        "a test fails when this file is stale.",
        "",
    ]
    for path, command in [("interpbench", cli)] + _commands(cli, "interpbench"):
        ctx = click.Context(command, info_name=path, terminal_width=88, max_content_width=88)
        lines += [f"## {path}", "", "```", command.get_help(ctx), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(), end="")
