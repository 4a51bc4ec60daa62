"""Where trained models live: the embedded zoo, and the user's own trainings."""

from __future__ import annotations

import json
from pathlib import Path

ZOO = Path(__file__).resolve().parents[1] / "zoo"


def user_dir(case: str) -> Path:
    from interpbench.compiler.cache import cache_root

    return cache_root() / "siit" / f"case-{case}"


def zoo_dir(case: str) -> Path:
    return ZOO / f"case-{case}"


def find(case: str) -> Path | None:
    """The user's passing model for the case if there is one, else the zoo's."""
    for directory in (user_dir(case), zoo_dir(case)):
        meta = directory / "meta.json"
        if meta.exists() and json.loads(meta.read_text()).get("passed"):
            return directory
    return None


def entries() -> list[dict]:
    """The zoo's models with their recorded training and evaluation numbers."""
    from interpbench import registry

    trivial = {c.name: c.trivial for c in registry.case_specs()}
    rows = []
    for meta_file in sorted(ZOO.glob("case-*/meta.json"), key=lambda p: int(p.parent.name.split("-")[1])):
        meta = json.loads(meta_file.read_text())
        metrics = meta.get("metrics", {})
        shape = meta.get("ll_shape", {})
        rows.append({
            "case": str(meta["case"]),
            "passed": bool(meta.get("passed")),
            "accuracy": metrics.get("accuracy"),
            "iia": metrics.get("iia"),
            "strict_accuracy": metrics.get("strict_accuracy"),
            "joint_strict_accuracy": metrics.get("joint_strict_accuracy"),
            "joint_strict_sequences": metrics.get("joint_strict_sequences"),
            "threshold": meta.get("threshold", 0.995),
            "joint_threshold": meta.get("joint_threshold", meta.get("hyperparameters", {}).get("joint_threshold", 0.99)),
            "trivial": trivial.get(str(meta["case"]), False),
            "steps": meta.get("steps"),
            "train_seconds": meta.get("seconds"),
            "seed": meta.get("seed"),
            "shape": {k: shape.get(k) for k in ("n_layers", "n_heads", "d_model", "d_head", "d_mlp")},
            "size_bytes": (meta_file.parent / "model.safetensors").stat().st_size,
        })
    return rows
