"""Pieces the built-in methods share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from interpbench.graph import edge_key
from interpbench.schemas import EdgeScore, Scores

if TYPE_CHECKING:
    from interpbench.task import DiscoveryTask

AblationName = Literal["auto", "resample", "mean", "zero", "zero-except-embed"]


class MethodConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AblationConfig(MethodConfig):
    ablation: AblationName = Field(
        "auto",
        description="What an ablated edge carries: corrupted activations (resample), the clean mean, "
        "zero, zero except a mean-ablated token embedding, or auto (the loader's choice: "
        "zero-except-embed for compiled tracr models, resample otherwise).",
    )


def edge_scores(task: DiscoveryTask, values) -> list[EdgeScore]:
    """EdgeScores in graph order from a sequence of floats aligned with task.graph.edges."""
    return [EdgeScore(sender=s, receiver=r, score=float(v)) for (s, r), v in zip(task.graph.edges, values)]


def select_edges(task: DiscoveryTask, values, threshold: float) -> list[str]:
    return [edge_key(s, r) for (s, r), v in zip(task.graph.edges, values) if v >= threshold]


def relative_selection(task: DiscoveryTask, values, relative_threshold: float) -> Scores:
    """Edge scores with the edges whose score is at least ``relative_threshold`` × the best."""
    values = [float(v) for v in values]
    top = max(values, default=0.0)
    cut = relative_threshold * top if top > 0 else float("inf")
    return Scores(level="edge", edges=edge_scores(task, values), selected=select_edges(task, values, cut))
