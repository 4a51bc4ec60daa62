"""Reading a published directory as a ``LoadedModel``, running nothing it names."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

from interpbench.errors import InterpbenchError
from interpbench.formats.model_files import build_config, check_regular, read_regular
from interpbench.interpbench_dir.edges import edges_to_circuit
from interpbench.interpbench_dir.layout import CFG_FILE, EDGES_FILE, META_FILE, PICKLE_LIMIT, WEIGHTS_FILE
from interpbench.interpbench_dir.unpickle import _PickledConfig, safe_unpickle


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


def read_dir(directory: str | Path, case):
    """A published InterpBench case directory as a ``LoadedModel`` for ``case``."""
    from transformer_lens import HookedTransformer

    from interpbench.compiler import load_compiled
    from interpbench.task import LoadedModel

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
    name = str(getattr(case, "name", case))
    if "case" in meta and str(meta["case"]) != name:
        raise InterpbenchError(f"{directory} holds a model for case {meta['case']}, not case {name}")

    cfg, ignored = build_config(read_config(directory / CFG_FILE), source=str(directory / CFG_FILE))
    state = read_weights(directory / WEIGHTS_FILE)
    model = HookedTransformer(cfg)
    own = model.state_dict()
    buffers = {k for k in set(own) ^ set(state) if k.endswith((".mask", ".IGNORE"))}
    state = {k: v for k, v in state.items() if k not in buffers or k in own}
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as e:
        raise InterpbenchError(f"{directory / WEIGHTS_FILE} does not fit its config: {e}") from None
    bad = [k for k in result.missing_keys + result.unexpected_keys if k not in buffers]
    if bad:
        raise InterpbenchError(f"{directory / WEIGHTS_FILE} does not fit its config: keys {', '.join(bad[:6])}")
    model.eval()

    edges = safe_unpickle(directory / EDGES_FILE)
    circuit, expanded = edges_to_circuit(edges, cfg.n_layers, source=str(directory / EDGES_FILE))

    # Token ids: an export from here records them; for a published model they are the case's
    # compiled encoding (InterpBench's tracr encoder may number tokens differently).
    if "input_encoding" in meta:
        encoding = {token: i for token, i in meta["input_encoding"]}
        output_values = meta.get("output_values")
        categorical = bool(meta.get("categorical", output_values is not None))
    else:
        compiled = load_compiled(case)
        encoding = compiled.input_encoding
        output_values = compiled.output_values
        categorical = bool(getattr(case, "categorical", output_values is not None))
    return LoadedModel(
        model=model,
        circuit=circuit,
        input_encoding=encoding,
        categorical=categorical,
        output_values=output_values,
        default_ablation="resample",
        info={
            "origin": f"InterpBench directory ({directory})",
            "edges_expanded": expanded,
            **({"ignored_config_fields": ignored} if ignored else {}),
        },
    )
