"""Every Python snippet in the README and docs/ runs as written, so the docs cannot drift
from the code: plugin snippets register without a problem, the others execute."""

import re
import sys
import types

import pytest
from conftest import REPO

from interpbench import hookspecs

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BLOCK = re.compile(r"```python\n(.*?)```", re.S)
SIGNATURE = re.compile(r"^def (register_\w+)\(register: Callable\[\.\.\., None\]\) -> None$")


def snippets(page):
    return [m.group(1) for m in BLOCK.finditer(page.read_text())]


def test_the_docs_have_snippets():
    assert sum(len(snippets(p)) for p in PAGES) >= 10


@pytest.fixture
def builtins_only(fresh_registry, monkeypatch):
    monkeypatch.setenv("INTERPBENCH_PLUGINS", "")  # an installed example plugin must not clash
    return fresh_registry


@pytest.mark.parametrize("page", [p for p in PAGES if snippets(p)], ids=lambda p: p.name)
def test_every_snippet_of_a_page_runs_in_order(page, builtins_only, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for i, code in enumerate(snippets(page)):
        if m := SIGNATURE.match(code.strip()):  # a hook's signature, as the hookspecs declare it
            assert hasattr(hookspecs, m[1]), f"{page.name} documents a hook that does not exist: {m[1]}"
            continue
        if "load_results(" in code:  # the sweeps page reads a results folder: make one
            import interpbench
            from interpbench.formats.atomic import write_json_atomic

            record = interpbench.run(case="3", method="node-ablation", n_examples=16)
            write_json_atomic(tmp_path / "results" / "full" / "r.json", record.model_dump(mode="json"))
        if "@case(" in code:  # a catalogue entry: declared into a scratch list, not the real catalogue
            from interpbench.cases import catalogue

            monkeypatch.setattr(catalogue, "DECLARED", [])
        module = types.ModuleType(f"snippet_{page.stem}_{i}")
        exec(compile(code, f"{page.name} snippet {i + 1}", "exec"), module.__dict__)  # noqa: S102 - the docs' own code
        first_line = code.splitlines()[0]
        if first_line.startswith("# ") and first_line.endswith("/__init__.py"):  # a package a later snippet
            monkeypatch.setitem(sys.modules, first_line[2:].split("/")[0], module)  # imports and registers
        elif "@hookimpl" in code:
            name = f"docs-{page.stem}-{i}"
            builtins_only.add_plugin(module, name=name)
            assert builtins_only.problems() == [], builtins_only.problems()
            (plugin,) = [p for p in builtins_only.plugins() if p.name == name]
            provided = plugin.cases + plugin.loaders + plugin.methods + plugin.metrics + plugin.structures
            assert provided, f"snippet {i + 1} of {page.name} registered nothing"
