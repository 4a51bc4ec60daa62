"""The architecture's layering: the import-linter contracts in pyproject.toml (run by
`make lint`) check every import, lazy ones too; this checks that they cover the tree and
that their layers are the ones docs/architecture.md describes."""

import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "interpbench"
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
LAYERS = next(c for c in CONTRACTS if c["type"] == "layers")["layers"]  # highest first


def rooms_of(layer: str) -> set[str]:
    return {room.strip() for room in layer.split(":")}


def test_every_room_has_a_layer():
    rooms = {p.name.removesuffix(".py") for p in PACKAGE.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    rooms -= {"__init__", "__main__"}
    layered = set().union(*map(rooms_of, LAYERS))
    assert rooms <= layered, f"rooms in no layer of the import-linter contract: {sorted(rooms - layered)}"
    assert layered <= rooms, f"layers name rooms that do not exist: {sorted(layered - rooms)}"


def test_the_architecture_doc_lists_the_same_layers():
    doc = (ROOT / "docs" / "architecture.md").read_text().split("## Layering", 1)[1].split("\n## ", 1)[0]
    listed = [set(re.findall(r"`(\w+)`", line)) for line in doc.splitlines() if re.match(r"\d+\. ", line)]
    assert listed == [rooms_of(layer) for layer in reversed(LAYERS)]
