"""Writing the published layout (InterpBench's loader reads it)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

from interpbench.formats.interpbench_dir.layout import CFG_FILE, EDGES_FILE, META_FILE, WEIGHTS_FILE, WRITE_FIELDS


def config_fields(cfg) -> dict[str, Any]:
    """The config as InterpBench pickles it, restricted to fields every TransformerLens accepts."""
    d = cfg.to_dict() if hasattr(cfg, "to_dict") else dict(cfg.__dict__)
    out: dict[str, Any] = {}
    for k in WRITE_FIELDS:
        if k not in d:
            continue
        v = d[k]
        if k == "device":
            v = "cpu"
        elif hasattr(v, "item") and not hasattr(v, "is_floating_point"):  # NumPy scalars -> Python
            v = v.item()
        out[k] = v
    return out


def write_files(
    out: str | Path,
    *,
    config: dict[str, Any],
    state: dict[str, Any],
    edges: list[tuple[str, str]],
    meta: dict[str, Any],
) -> Path:
    """Write the four files of the published layout into ``out``."""
    import torch

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / CFG_FILE, "wb") as f:
        pickle.dump(config, f, protocol=4)
    torch.save(state, out / WEIGHTS_FILE)
    with open(out / EDGES_FILE, "wb") as f:
        pickle.dump(edges, f, protocol=4)
    (out / META_FILE).write_text(json.dumps(meta, indent=2, default=str) + "\n")
    return out
