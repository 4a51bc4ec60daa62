"""Write the JSON Schemas of the public models, for tools that do not speak Python."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from interpbench.formats.auto_circuit import AutoCircuitScores
from interpbench.formats.mib import MIBGraph
from interpbench.schemas import PUBLIC_MODELS

#: Every schema written: the boundary's models and the file formats other tools write.
EXPORTED: dict[str, type[BaseModel]] = {**PUBLIC_MODELS, "MIBGraph": MIBGraph, "AutoCircuitScores": AutoCircuitScores}


def schema_text(name: str) -> str:
    return json.dumps(EXPORTED[name].model_json_schema(), indent=2, sort_keys=True) + "\n"


def write_schemas(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in sorted(EXPORTED):
        path = folder / f"{name}.json"
        path.write_text(schema_text(name))
        written.append(path)
    return written
