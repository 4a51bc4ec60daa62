"""Models in the published InterpBench layout: read as a ``LoadedModel``, and ours written out.

The bytes on disk are ``formats.interpbench_dir``'s business (nothing there runs what a
file names); this module builds the model and its circuit from what it read, and
gathers what it writes from one of our trained directories.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from interpbench.errors import InterpbenchError
from interpbench.formats.interpbench_dir import config_fields, edges_to_published, read_files, write_files
from interpbench.formats.interpbench_dir.layout import CFG_FILE, WEIGHTS_FILE
from interpbench.formats.model_files import build_config


def load_published(directory: str | Path, case):
    """A published InterpBench case directory as a ``LoadedModel`` for ``case``."""
    from transformer_lens import HookedTransformer

    from interpbench.compiler import load_compiled
    from interpbench.compiler.ground_truth import make_circuit
    from interpbench.task import LoadedModel

    files = read_files(directory)
    meta = files.meta
    name = str(getattr(case, "name", case))
    if "case" in meta and str(meta["case"]) != name:
        raise InterpbenchError(f"{files.directory} holds a model for case {meta['case']}, not case {name}")

    cfg, ignored = build_config(files.config, source=str(files.directory / CFG_FILE))
    model = HookedTransformer(cfg)
    own = model.state_dict()
    buffers = {k for k in set(own) ^ set(files.state) if k.endswith((".mask", ".IGNORE"))}
    state = {k: v for k, v in files.state.items() if k not in buffers or k in own}
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as e:
        raise InterpbenchError(f"{files.directory / WEIGHTS_FILE} does not fit its config: {e}") from None
    bad = [k for k in result.missing_keys + result.unexpected_keys if k not in buffers]
    if bad:
        raise InterpbenchError(f"{files.directory / WEIGHTS_FILE} does not fit its config: keys {', '.join(bad[:6])}")
    model.eval()

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
        circuit=make_circuit(set(files.edges), "edge"),
        input_encoding=encoding,
        categorical=categorical,
        output_values=output_values,
        default_ablation="resample",
        info={
            "origin": f"InterpBench directory ({files.directory})",
            "edges_expanded": files.edges_expanded,
            **({"ignored_config_fields": ignored} if ignored else {}),
        },
    )


def export_published(case, loaded_or_directory, out: str | Path) -> Path:
    """Write the published layout for ``case`` from one of our trained directories
    (or a ``LoadedModel``) into ``out``."""
    from interpbench.siit.store import load_circuit, load_model, read_meta
    from interpbench.task import LoadedModel

    name = str(getattr(case, "name", case))
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
    return write_files(
        out,
        config=config_fields(model.cfg),
        state={k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()},
        edges=edges_to_published(circuit.edge_set()),
        meta=meta,
    )
