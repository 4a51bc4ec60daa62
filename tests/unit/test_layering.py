"""The architecture's layering, enforced: no module imports from a layer above its own.

Every import counts, those inside functions too (a lazy import is still a dependency).
A layer may use its own layer and those below it. The top-level package (the public
API a plugin author imports) may reach anything.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "interpbench"

LAYERS = [  # lowest first
    {"errors", "schemas", "graph", "hookspecs", "model_files", "scoring", "store", "versions", "plotting"},
    {"registry"},
    {"cases", "engine"},
    {"compiler", "task"},
    {"siit", "interpbench_dir"},
    {"plugins", "runner"},
    {"sweep", "report", "report_html"},
    {"cli", "docs_gen"},
]
LAYER = {room: i for i, rooms in enumerate(LAYERS) for room in rooms}


def room(module: str) -> str | None:
    """The top-level room of ``interpbench.X.Y`` (``X``), or None for the package itself."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "interpbench" else None


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "interpbench":
                found |= {f"interpbench.{a.name}" for a in node.names}
            elif node.module.startswith("interpbench."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("interpbench.")}
    return found


SOURCES = sorted(p for p in PACKAGE.rglob("*.py") if p.parent != PACKAGE or p.name != "__init__.py")


def test_every_room_has_a_layer():
    rooms = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in SOURCES} - {"zoo", "__main__"}
    assert rooms <= set(LAYER), f"rooms without a layer: {sorted(rooms - set(LAYER))}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_upwards(path):
    own = room("interpbench." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts))
    upward = sorted(
        target
        for target in imports(path)
        if room(target) in LAYER and room(target) != own and LAYER[room(target)] > LAYER[own]
    )
    assert not upward, f"{path.relative_to(PACKAGE)} (layer {LAYER[own]}) imports from above: {upward}"
