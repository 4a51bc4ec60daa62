"""The declared plugin-author API (``interpbench.__all__``) is what plugins use: the built-in
plugins, the example plugin and the code in the plugin docs import nothing else of
interpbench, so a third-party author who copies any of them stays on the stable surface."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import interpbench

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ROOT / "interpbench" / "plugins"

#: Modules a plugin may import from besides the package root (each is also in __all__).
PUBLIC_MODULES = {
    "interpbench.errors",
    "interpbench.registry",
    "interpbench.cases.rasp_lib",
    "interpbench.cases.vocabs",
}

#: Built-ins that are the host's own machinery behind a plugin, and what they may reach:
#: the loaders serve the host's trained-model stores; the catalogue declares the built-in cases.
HOST_SIDE = {
    "loaders.py": {"interpbench.siit", "interpbench.siit.zoo", "interpbench.siit.store", "interpbench.siit.hard",
                   "interpbench.siit.published"},
    "cases": {"interpbench.cases.catalogue"},
}  # fmt: skip


def violations(source: str, own_package: str | None = None, allowed: frozenset = frozenset()) -> list[str]:
    """The interpbench imports of ``source`` outside the public API."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [(a.name, None) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [(node.module, a.name) for a in node.names]
        else:
            continue
        for module, name in targets:
            if module != "interpbench" and not module.startswith("interpbench."):
                continue
            if own_package and (module == own_package or module.startswith(own_package + ".")):
                continue  # a plugin's own modules
            if module == "interpbench" and (name is None or name in interpbench.__all__):
                continue
            if module in PUBLIC_MODULES or f"{module}.{name}" in PUBLIC_MODULES or module in allowed:
                continue
            found.append(f"line {node.lineno}: {module}" + (f" import {name}" if name else ""))
    return found


BUILT_INS = sorted(PLUGINS.rglob("*.py"))


@pytest.mark.parametrize("path", BUILT_INS, ids=lambda p: str(p.relative_to(PLUGINS)))
def test_built_in_plugins_use_only_the_public_api(path):
    part = path.relative_to(PLUGINS).parts[0]
    own = "interpbench.plugins." + part.removesuffix(".py") if len(path.relative_to(PLUGINS).parts) > 1 else None
    assert not violations(path.read_text(), own, frozenset(HOST_SIDE.get(part, ())))


def test_the_example_plugin_uses_only_the_public_api():
    sources = [p for p in (ROOT / "examples").rglob("*.py") if "build" not in p.parts]  # not pip's copies
    assert sources
    for path in sources:
        assert not violations(path.read_text()), path


def test_the_plugin_docs_use_only_the_public_api():
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "plugins.md").read_text(), re.S)
    code = [b for b in blocks if not re.fullmatch(r"def [^\n]*-> None\n", b)]  # hook signatures
    assert code
    for block in code:
        assert not violations(block), block


def test_a_reach_into_internals_is_caught():
    assert violations("from interpbench.graph import edge_key")
    assert violations("from interpbench import PatchingEngine")
    assert not violations("from interpbench import edge_key, DiscoveryTask")


def test_every_public_name_resolves_without_loading_heavy_libraries_until_used():
    script = (
        "import sys, interpbench\n"
        "light = [n for n in interpbench.__all__ if n not in interpbench._LAZY]\n"
        "for n in light: getattr(interpbench, n)\n"
        "assert not {'torch', 'transformer_lens', 'jax', 'tracr'} & set(sys.modules), 'heavy import'\n"
        "for n in interpbench.__all__: getattr(interpbench, n)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
