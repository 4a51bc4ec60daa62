"""Where trained models live: the embedded zoo, its hard track, and the user's own trainings.

The zoo holds one model per case (``zoo/case-N``); the hard track one per case and
structure (``zoo/hard/STRUCTURE/case-N``, see ``interpbench.siit.hard``).
"""

from __future__ import annotations

import json
from pathlib import Path

ZOO = Path(__file__).resolve().parents[1] / "zoo"


def user_dir(case: str, structure: str | None = None) -> Path:
    from interpbench.compiler.cache import cache_root

    root = cache_root() / "siit"
    return (root / "hard" / structure if structure else root) / f"case-{case}"


def zoo_dir(case: str, structure: str | None = None) -> Path:
    return folder(structure) / f"case-{case}"


def folder(structure: str | None = None) -> Path:
    return ZOO / "hard" / structure if structure else ZOO


def find(case: str, structure: str | None = None) -> Path | None:
    """The user's passing model for the case (and hard-track structure) if there is one, else the zoo's."""
    for directory in (user_dir(case, structure), zoo_dir(case, structure)):
        meta = directory / "meta.json"
        if meta.exists() and json.loads(meta.read_text()).get("passed"):
            return directory
    return None


def certified_cases(structure: str | None = None) -> list[str]:
    return [e["case"] for e in entries(structure) if e["passed"]]


def entries(structure: str | None = None) -> list[dict]:
    """The zoo's models (or one hard-track structure's) with their recorded training and
    evaluation numbers."""
    from interpbench import registry

    trivial = {c.name: c.trivial for c in registry.case_specs()}
    rows = []
    for meta_file in sorted(folder(structure).glob("case-*/meta.json"), key=lambda p: int(p.parent.name.split("-")[1])):
        meta = json.loads(meta_file.read_text())
        metrics = meta.get("metrics", {})
        shape = meta.get("ll_shape", {})
        group = meta.get("correspondence", {}).get("structure")
        rows.append(
            {
                "case": str(meta["case"]),
                "structure": structure,
                "passed": bool(meta.get("passed")),
                "accuracy": metrics.get("accuracy"),
                "iia": metrics.get("iia"),
                "strict_accuracy": metrics.get("strict_accuracy"),
                "joint_strict_accuracy": metrics.get("joint_strict_accuracy"),
                "joint_strict_sequences": metrics.get("joint_strict_sequences"),
                "structure_accuracy": metrics.get("structure_accuracy"),
                "structure_contrast": metrics.get("structure_contrast"),
                "structure_hidden_effect": metrics.get("structure_hidden_effect"),
                "group": group,
                "threshold": meta.get("threshold", 0.995),
                "joint_threshold": meta.get(
                    "joint_threshold", meta.get("hyperparameters", {}).get("joint_threshold", 0.99)
                ),
                "weakest_iia": _weakest(metrics.get("iia_per_node")),
                "weakest_strict": _weakest(metrics.get("strict_per_node")),
                "trivial": trivial.get(str(meta["case"]), False),
                "steps": meta.get("steps"),
                "train_seconds": meta.get("seconds"),
                "seed": meta.get("seed"),
                "shape": {k: shape.get(k) for k in ("n_layers", "n_heads", "d_model", "d_head", "d_mlp")},
                "size_bytes": (meta_file.parent / "model.safetensors").stat().st_size,
            }
        )
    return rows


def _weakest(per_node: dict[str, float] | None) -> list | None:
    """The node with the lowest value, as [name, value]."""
    if not per_node:
        return None
    node = min(per_node, key=per_node.__getitem__)
    return [node, per_node[node]]


def shortfall(row: dict) -> str:
    """Why a zoo model (an ``entries`` row) is not certified, empty when it is: each number
    below its threshold, and for IIA and strict accuracy the node that pulls it down."""
    from interpbench.siit.hard import HIDDEN_EFFECT

    if row["passed"]:
        return ""
    limits = {"accuracy": row["threshold"], "iia": row["threshold"], "strict_accuracy": row["threshold"],
              "joint_strict_accuracy": row["joint_threshold"], "structure_accuracy": row["threshold"]}  # fmt: skip
    weakest = {"iia": row.get("weakest_iia"), "strict_accuracy": row.get("weakest_strict")}
    low = []
    for key, limit in limits.items():
        if row.get(key) is not None and row[key] < limit:
            node = weakest.get(key)
            at = f" (lowest: {node[0]} {node[1]:.4f})" if node else ""
            low.append(f"{key.replace('_', ' ')} {row[key]:.4f} < {limit}{at}")
    if (row.get("structure_hidden_effect") or 0) > HIDDEN_EFFECT:
        low.append(f"hidden effect {row['structure_hidden_effect']:.2g} > {HIDDEN_EFFECT:g}")
    return "; ".join(low) or "not certified"
