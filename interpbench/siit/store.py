"""A trained LL model on disk, and back.

Directory layout (written by ``interpbench.siit.train.train``):

- ``model.safetensors``: the LL HookedTransformer's state dict;
- ``config.json``: the HookedTransformerConfig fields needed to rebuild it;
- ``circuit.json``: the LL ground-truth circuit (``Circuit.model_dump``, edge level);
- ``meta.json``: case, seed, hyperparameters, final metrics, history, versions,
  ``passed``, the correspondence, and the input encoding / output values;
- ``checkpoint.pt``: the last training checkpoint (not needed to load the model).

Nothing here unpickles: weights come from safetensors and everything else from JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from interpbench.errors import InterpbenchError
from interpbench.formats.model_files import build_config, check_regular, read_regular


def _read_json(path: Path) -> Any:
    try:
        return json.loads(read_regular(path, limit=16 * 2**20))
    except ValueError as e:
        raise InterpbenchError(f"{path}: not JSON ({e})") from None


def read_meta(directory: str | Path) -> dict[str, Any]:
    return _read_json(Path(directory) / "meta.json")


def read_config(directory: str | Path):
    """The model's ``HookedTransformerConfig``, built from ``config.json`` without running anything."""
    path = Path(directory) / "config.json"
    cfg, _ = build_config(_read_json(path), source=str(path))
    return cfg


def load_model(directory: str | Path):
    """The LL HookedTransformer saved in ``directory`` (eval mode)."""
    from safetensors.torch import load_file
    from transformer_lens import HookedTransformer

    directory = Path(directory)
    model = HookedTransformer(read_config(directory))
    model.load_state_dict(load_file(str(check_regular(directory / "model.safetensors"))))
    model.eval()
    return model


def load_circuit(directory: str | Path):
    from interpbench.schemas import Circuit

    return Circuit.model_validate_json((Path(directory) / "circuit.json").read_text())


def load_correspondence(directory: str | Path):
    """The HL -> LL correspondence recorded in ``meta.json``."""
    from interpbench.siit.correspondence import Correspondence, Structure, all_nodes

    meta = read_meta(directory)
    cfg = read_config(directory)

    hl = meta["hl_shape"]
    saved = meta["correspondence"]
    structure = saved.get("structure")
    return Correspondence(
        mapping=dict(saved["mapping"]),
        ll_nodes=all_nodes(cfg),
        hl_resid_post=f"blocks.{hl['n_layers'] - 1}.hook_resid_post",
        ll_resid_post=f"blocks.{cfg.n_layers - 1}.hook_resid_post",
        layer_stride=int(saved.get("layer_stride", 1)),
        structure=Structure(structure["kind"], structure["hl_node"], tuple(structure["members"]))
        if structure
        else None,
    )


def load_trained(case, directory: str | Path):
    """A trained SIIT model directory as a ``LoadedModel`` (what the ``siit`` loader returns).

    ``case`` is the ``CaseSpec`` (or its name) the model is expected to be for; a
    directory trained for another case is refused.
    """
    from interpbench.task import LoadedModel

    directory = Path(directory)
    meta = read_meta(directory)
    name = str(getattr(case, "name", case))
    if str(meta["case"]) != name:
        raise ValueError(f"{directory} holds a model for case {meta['case']}, not case {name}")
    if not meta.get("passed"):
        print(f"interpbench: warning: the model in {directory} did not meet its certificate; its circuit is not certain",
              file=sys.stderr)  # fmt: skip
    model = load_model(directory)
    metrics = meta.get("metrics", {})
    return LoadedModel(
        model=model,
        circuit=load_circuit(directory),
        input_encoding={token: i for token, i in meta["input_encoding"]},
        categorical=bool(meta["categorical"]),
        output_values=meta.get("output_values"),
        default_ablation="resample",
        info={
            "origin": f"SIIT-trained ({directory})",
            "siit_dir": str(directory),
            "structure": (meta["correspondence"].get("structure") or {}).get("kind"),
            "group": (meta["correspondence"].get("structure") or {}).get("members"),
            "passed": meta.get("passed"),
            "seed": meta.get("seed"),
            "steps": meta.get("steps"),
            "train_seconds": meta.get("seconds"),
            "accuracy": metrics.get("accuracy"),
            "iia": metrics.get("iia"),
            "strict_accuracy": metrics.get("strict_accuracy"),
        },
    )


def evaluate_directory(case, directory: str | Path, *, n_pairs: int | None = None, seed: int | None = None,
                       node_effects: bool = True):  # fmt: skip
    """Re-evaluate a saved model on the validation pairs its training used (same seed and data settings).

    ``seed``/``n_pairs`` override the meta's seed and validation size (fresh pairs).
    """
    from interpbench.siit.config import SIITConfig
    from interpbench.siit.evaluate import evaluate
    from interpbench.siit.train import prepare

    meta = read_meta(directory)
    config = SIITConfig(**meta["hyperparameters"])
    updates = {}
    if seed is not None:
        updates["seed"] = seed
    if n_pairs is not None:
        updates["max_val"] = n_pairs
    if updates:
        config = config.model_copy(update=updates)
    s = prepare(case, config)
    model = load_model(directory)
    corr = load_correspondence(directory)  # what training recorded, structure included
    return evaluate(s.hl, model, corr, s.case, s.eval_data, atol=config.atol, node_effects=node_effects)


def _pairs(case, encoding, n_pairs: int, seed: int):
    """(base, source) validation pairs: ``n_pairs`` inputs and a permutation of them."""
    import torch

    from interpbench.cases.data import encode, generate_inputs

    base = encode(generate_inputs(case, min_samples=1, max_samples=n_pairs, seed=seed), encoding)
    return base, base[torch.randperm(len(base), generator=torch.Generator().manual_seed(seed))]


def evaluate_compiled(case, *, n_pairs: int = 2000, seed: int = 0, node_effects: bool = True):
    """The compiled (tracr) model checked against itself: the baseline every trained
    model is compared with (accuracy, IIA and strict accuracy are 1 by construction;
    the node effects show which nodes the circuit needs)."""
    from interpbench.compiler import load_compiled
    from interpbench.siit.correspondence import build_correspondence
    from interpbench.siit.evaluate import evaluate

    compiled = load_compiled(case)
    hl = compiled.model
    correspondence = build_correspondence(hl, compiled.circuit, hl.cfg)
    pairs = _pairs(case, compiled.input_encoding, n_pairs, seed)
    return evaluate(hl, hl, correspondence, case, pairs, node_effects=node_effects)


def evaluate_loaded(case, loaded, *, n_pairs: int = 2000, seed: int = 0, node_effects: bool = True, source: str = ""):
    """Any loader's model (a ``LoadedModel``) against the case's compiled (HL) model, with
    the correspondence of same-named heads and MLPs; ``source`` names it in errors."""
    from interpbench.compiler import load_compiled
    from interpbench.errors import InterpbenchError
    from interpbench.siit.correspondence import build_correspondence
    from interpbench.siit.evaluate import evaluate

    compiled = load_compiled(case)
    where = source or loaded.info.get("origin", "the model")
    if dict(loaded.input_encoding) != dict(compiled.input_encoding):
        raise InterpbenchError(
            f"{where}: the model's token ids differ from the compiled case's, so the HL model cannot be compared"
        )
    try:
        correspondence = build_correspondence(compiled.model, compiled.circuit, loaded.model.cfg)
    except ValueError as e:
        raise InterpbenchError(f"{where}: {e}") from None
    pairs = _pairs(case, compiled.input_encoding, n_pairs, seed)
    return evaluate(compiled.model, loaded.model, correspondence, case, pairs, node_effects=node_effects)
