"""Writing one of our trained models in the published layout (InterpBench's loader reads it)."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

from interpbench.errors import InterpbenchError
from interpbench.interpbench_dir.edges import circuit_to_edges
from interpbench.interpbench_dir.layout import CFG_FILE, EDGES_FILE, META_FILE, WEIGHTS_FILE, WRITE_FIELDS


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


def write_dir(case, loaded_or_directory, out: str | Path) -> Path:
    """Write the published layout for ``case`` from one of our trained directories
    (or a ``LoadedModel``) into ``out``."""
    import torch

    from interpbench.siit.store import load_circuit, load_model, read_meta
    from interpbench.task import LoadedModel

    name = str(getattr(case, "name", case))
    out = Path(out)
    source_meta: dict[str, Any] = {}
    if isinstance(loaded_or_directory, LoadedModel):
        loaded = loaded_or_directory
        model, circuit = loaded.model, loaded.circuit
        encoding, output_values, categorical = loaded.input_encoding, loaded.output_values, loaded.categorical
        origin = loaded.info.get("origin")
    else:
        directory = Path(loaded_or_directory)
        try:
            source_meta = read_meta(directory)
            model, circuit = load_model(directory), load_circuit(directory)
        except (OSError, KeyError, ValueError) as e:
            raise InterpbenchError(f"cannot read a trained model from {directory}: {e}") from None
        if "case" in source_meta and str(source_meta["case"]) != name:
            raise InterpbenchError(f"{directory} holds a model for case {source_meta['case']}, not case {name}")
        encoding = {t: i for t, i in source_meta["input_encoding"]}
        output_values = source_meta.get("output_values")
        categorical = bool(source_meta.get("categorical"))
        origin = str(directory)
    if circuit.level != "edge":
        raise InterpbenchError("only edge-level circuits can be exported")

    out.mkdir(parents=True, exist_ok=True)
    with open(out / CFG_FILE, "wb") as f:
        pickle.dump(config_fields(model.cfg), f, protocol=4)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    torch.save(state, out / WEIGHTS_FILE)
    with open(out / EDGES_FILE, "wb") as f:
        pickle.dump(circuit_to_edges(circuit), f, protocol=4)

    hp = source_meta.get("hyperparameters", {})
    meta = {
        # InterpBench's own keys (its training arguments), where we have an equivalent.
        "atol": hp.get("atol", 0.05),
        "lr": hp.get("lr"),
        "iit_weight": hp.get("iit_weight"),
        "behavior_weight": hp.get("behavior_weight"),
        "strict_weight": hp.get("strict_weight"),
        "batch_size": hp.get("batch_size"),
        "act_fn": model.cfg.act_fn,
        "seed": source_meta.get("seed", hp.get("seed")),
        "same_size": False,
        # What we know besides.
        "case": name,
        "exported_by": "interpbench",
        "source": origin,
        "categorical": categorical,
        "input_encoding": [[t, i] for t, i in encoding.items()],
        "output_values": output_values,
        "passed": source_meta.get("passed"),
        "metrics": {
            k: v for k, v in source_meta.get("metrics", {}).items() if k in ("accuracy", "iia", "strict_accuracy")
        },
        "hyperparameters": hp,
    }
    (out / META_FILE).write_text(json.dumps(meta, indent=2, default=str) + "\n")
    return out
