"""Reading a published directory, running nothing it names."""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interpbench.errors import InterpbenchError
from interpbench.formats.interpbench_dir.edges import published_to_edges
from interpbench.formats.interpbench_dir.layout import CFG_FILE, EDGES_FILE, META_FILE, PICKLE_LIMIT, WEIGHTS_FILE
from interpbench.formats.interpbench_dir.unpickle import _PickledConfig, safe_unpickle
from interpbench.formats.model_files import check_regular, read_regular


def read_config(path: str | Path) -> dict[str, Any]:
    """``ll_model_cfg.pkl`` as a plain dict of HookedTransformerConfig fields."""
    obj = safe_unpickle(path, allow_config_object=True)
    if isinstance(obj, _PickledConfig):
        obj = getattr(obj, "fields", None)
    if not isinstance(obj, dict) or not all(isinstance(k, str) for k in obj):
        raise InterpbenchError(f"{path}: expected a dict of HookedTransformerConfig fields")
    return obj


def read_weights(path: str | Path) -> dict[str, Any]:
    import torch

    path = check_regular(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise InterpbenchError(
            f"refused to load {path}: it holds objects other than tensors (torch.load weights_only=True: {first})"
        ) from None
    except (OSError, RuntimeError, EOFError) as e:
        raise InterpbenchError(f"cannot read weights {path}: {e}") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InterpbenchError(f"{path}: expected a state dict of tensors")
    return state


@dataclass(frozen=True)
class PublishedFiles:
    """What a published directory holds, read safely: nothing in it has been run or built."""

    directory: Path
    config: dict[str, Any]  # HookedTransformerConfig fields, unchecked (``build_config`` checks them)
    state: dict[str, Any]  # tensors only
    edges: list[tuple[str, str]]  # our edge names (``published_to_edges``)
    edges_expanded: bool
    meta: dict[str, Any]


def read_files(directory: str | Path) -> PublishedFiles:
    """Every file of a published case directory; ``meta.json`` is optional."""
    directory = Path(directory)
    missing = [f for f in (CFG_FILE, WEIGHTS_FILE, EDGES_FILE) if not (directory / f).exists()]
    if missing:
        raise InterpbenchError(f"{directory} is not an InterpBench model directory: missing {', '.join(missing)}")
    meta: dict[str, Any] = {}
    if (directory / META_FILE).exists():
        try:
            meta = json.loads(read_regular(directory / META_FILE, limit=PICKLE_LIMIT))
        except ValueError as e:
            raise InterpbenchError(f"{directory / META_FILE}: {e}") from None
        if not isinstance(meta, dict):
            raise InterpbenchError(f"{directory / META_FILE}: expected a JSON object")
    config = read_config(directory / CFG_FILE)
    state = read_weights(directory / WEIGHTS_FILE)
    n_layers = config.get("n_layers")
    if not isinstance(n_layers, int) or isinstance(n_layers, bool) or n_layers < 1:
        raise InterpbenchError(f"{directory / CFG_FILE}: n_layers must be a positive integer, got {n_layers!r}")
    edges, expanded = published_to_edges(
        safe_unpickle(directory / EDGES_FILE), n_layers, source=str(directory / EDGES_FILE)
    )
    return PublishedFiles(directory, config, state, sorted(edges), expanded, meta)
