"""Everything that crosses the plugin boundary or leaves the host, as pydantic v2 models.

Every model forbids unknown fields, so a typo in a plugin or a stale result file is
an error, not silently ignored data. JSON Schemas of the public models are exported
to the repository's ``schemas/`` folder (``interpbench schema --write``).
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

#: 2: headline edge metrics at the loader's certified granularity (edge_qkv_*, edge_head_* beside them).
SCHEMA_VERSION = 2

Level = Literal["edge", "node"]
Value = str | int | float | bool


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def validation_summary(e: ValidationError) -> str:
    """``Scores: edges.3.score: Input should be a valid number (got 'x'); 2 more errors``."""
    errors = e.errors()
    first = errors[0]
    where = ".".join(str(p) for p in first["loc"]) or "input"
    got = f" (got {first['input']!r:.60})" if "input" in first and not isinstance(first["input"], dict) else ""
    more = f"; {len(errors) - 1} more error{'s' * (len(errors) > 2)}" if len(errors) > 1 else ""
    return f"{e.title}: {where}: {first['msg']}{got}{more}"


# --- what a method's config builds on -------------------------------------------------

AblationName = Literal["auto", "resample", "mean", "zero", "zero-except-embed"]


class MethodConfig(Strict):
    """The base of a method's config: its defaults are the method's, and an unknown field
    (a misspelt ``--set`` key) is an error."""


class AblationConfig(MethodConfig):
    """A method's config with the ablation its patched edges carry."""

    ablation: AblationName = Field(
        "auto",
        description="What an ablated edge carries: corrupted activations (resample), the clean mean, "
        "zero, zero except a mean-ablated token embedding, or auto (the loader's choice: "
        "zero-except-embed for compiled tracr models, resample otherwise).",
    )


# --- descriptions of what plugins register -------------------------------------------


class CaseInfo(Strict):
    """A benchmark case as listed: the facts a user reads before running it."""

    name: str
    description: str
    vocab: list[Value]
    max_seq_len: int = Field(description="Sequence length including BOS.")
    categorical: bool
    causal: bool = True
    trivial: bool = False
    compilable: bool = True
    not_compilable_reason: str | None = None
    plugin: str = Field("", description="Distribution that registered it.")


class LoaderInfo(Strict):
    """A model loader: turns a case into (model, ground-truth circuit)."""

    name: str
    description: str
    plugin: str = ""
    granularity: Literal["qkv", "head"] = Field(
        "head", description="The level its ground truth is certified at; headline edge metrics are computed there."
    )


class StructureInfo(Strict):
    """A hard-track structure: the roles of its group's members and where they sit."""

    name: str
    description: str
    plugin: str = ""
    roles: list[str]
    layer_offsets: list[int]


class MethodInfo(Strict):
    """A circuit discovery method and the parameters it accepts."""

    name: str
    description: str
    level: Level = Field(description="Whether the method scores edges or nodes.")
    config_schema: dict = Field(description="JSON Schema of the method's config.")
    plugin: str = ""


class MetricInfo(Strict):
    """A metric computed from a method's scores and the ground truth."""

    name: str
    description: str
    plugin: str = ""


class PluginInfo(Strict):
    """One loaded distribution and what it registered."""

    name: str
    version: str | None = None
    module: str
    cases: list[str] = []
    loaders: list[str] = []
    methods: list[str] = []
    metrics: list[str] = []
    structures: list[str] = []
    problems: list[str] = Field([], description="Why it is not (or only partly) loaded; empty when it loaded cleanly.")


# --- circuits and scores ---------------------------------------------------------------


class Edge(Strict):
    sender: str
    receiver: str

    def key(self) -> tuple[str, str]:
        return (self.sender, self.receiver)


class Circuit(Strict):
    """A circuit: nodes and the edges between them, at edge or head (node) level."""

    level: Literal["edge", "head"]
    nodes: list[str]
    edges: list[Edge]

    def edge_set(self) -> set[tuple[str, str]]:
        return {e.key() for e in self.edges}


class EdgeScore(Strict):
    sender: str
    receiver: str
    score: float


class SweptCircuit(Strict):
    """The items a method kept at one value of its sweep (ACDC's threshold, subnetwork
    probing's lambda_reg)."""

    threshold: float = Field(description="The swept parameter's value.")
    selected: list[str]


class Scores(Strict):
    """What a discovery method returns: one score per edge, or one per node.

    Higher means "more likely in the circuit". Methods that make a hard decision at
    their own threshold (ACDC) also say which items they kept.
    """

    level: Level
    edges: list[EdgeScore] = []
    nodes: dict[str, float] = {}
    selected: list[str] | None = Field(
        None, description="Items (edge 'a->b' keys or node names) the method itself kept."
    )
    sweep: list[SweptCircuit] = Field(
        [],
        description="Circuits found at each value of a swept parameter (ACDC's threshold, subnetwork "
        "probing's lambda_reg); the ROC uses them.",
    )
    details: dict[str, dict[str, float]] = Field(
        {}, description="Other per-item numbers a method reports (e.g. each ablation's effect)."
    )

    @field_validator("edges")
    @classmethod
    def _finite_edges(cls, edges: list[EdgeScore]) -> list[EdgeScore]:
        for e in edges:
            if not math.isfinite(e.score):
                raise ValueError(f"edge {e.sender}->{e.receiver} has a score of {e.score} (scores must be finite)")
        return edges

    @field_validator("nodes")
    @classmethod
    def _finite_nodes(cls, nodes: dict[str, float]) -> dict[str, float]:
        for name, s in nodes.items():
            if not math.isfinite(s):
                raise ValueError(f"node {name} has a score of {s} (scores must be finite)")
        return nodes


class MetricOutput(Strict):
    """What a metric returns: scalar values, named sets, and curves."""

    values: dict[str, float | None] = {}
    sets: dict[str, list[str]] = {}
    curves: dict[str, list[tuple[float, float]]] = {}


# --- results ----------------------------------------------------------------------------


class Timings(Strict):
    load_seconds: float
    method_seconds: float
    metrics_seconds: float
    total_seconds: float


class RunResult(Strict):
    """The validated record of one run: case × loader × method × config × seed."""

    schema_version: int = SCHEMA_VERSION
    case: str
    loader: str
    method: str
    config: dict
    seed: int
    status: Literal["ok", "failed"] = "ok"
    error: str | None = None
    n_examples: int = 0
    level: Level | None = None
    granularity: Literal["qkv", "head"] | None = Field(
        None,
        description="The level of the headline edge metrics (edge_auroc, edge_tpr, ...): the loader's certified "
        "granularity. edge_qkv_* and edge_head_* hold both levels.",
    )
    positions: bool = Field(False, description="Whether edges (and the ground truth) were per token position.")
    thresholds: list[float] = []
    versions: dict[str, str]
    timings: Timings | None = None
    metrics: dict[str, float | None] = Field(
        {}, description="Every value finite, or null: a metric that is undefined for the run (see metric_errors)."
    )
    metric_errors: dict[str, str] = Field(
        {}, description="Why a metric is missing or null: a plugin metric that failed, or a value that was not finite."
    )
    sets: dict[str, list[str]] = {}
    curves: dict[str, list[tuple[float, float]]] = {}
    scores: Scores | None = None
    created: str

    @field_validator("metrics")
    @classmethod
    def _finite_metrics(cls, metrics: dict[str, float | None]) -> dict[str, float | None]:
        bad = [k for k, v in metrics.items() if v is not None and not math.isfinite(v)]
        if bad:
            raise ValueError(f"metric values must be finite or null: {', '.join(bad)}")
        return metrics


#: The models whose JSON Schemas are exported and printable with ``interpbench schema``.
PUBLIC_MODELS: dict[str, type[BaseModel]] = {
    m.__name__: m
    for m in (
        CaseInfo,
        LoaderInfo,
        StructureInfo,
        MethodInfo,
        MetricInfo,
        PluginInfo,
        Circuit,
        Scores,
        MetricOutput,
        RunResult,
    )
}
