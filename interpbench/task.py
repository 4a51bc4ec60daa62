"""What a loader returns and what a discovery method receives."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable, Iterable, cast

from interpbench.graph import ComputationalGraph, edge_key, positional_edges
from interpbench.schemas import Circuit, Edge, EdgeScore, Scores

if TYPE_CHECKING:
    import torch

    from interpbench.engine import Ablation, PatchingEngine
    from interpbench.registry.specs import CaseSpec


@dataclass
class LoadedModel:
    """A model ready for circuit discovery.

    Args:
        model: a ``HookedTransformer``.
        circuit: its ground-truth circuit at edge level (``interpbench.graph`` names).
        input_encoding: token -> id, including ``BOS``.
        categorical: whether outputs are classes (else one number per position).
        output_values: class index -> value, for categorical outputs.
        default_ablation: what ablated edges carry when a method's ablation is
            "auto". Trained models resample. Compiled tracr models cannot: positions,
            and values computed from positions alone, are the same in every input,
            so resampling or averaging never removes them. Their loader asks for
            "zero-except-embed": zero (as ACDC's tracr experiments did), except the
            token embedding, which is mean-ablated so that the BOS and `one`
            directions that the ground-truth convention ignores stay intact.
        info: free-form facts shown by ``interpbench show`` (origin, sizes, ...).
    """

    model: Any
    circuit: Circuit
    input_encoding: dict[Any, int]
    categorical: bool
    output_values: list[Any] | None = None
    default_ablation: str = "resample"
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """The model's shape joins ``info`` (what ``show`` prints), so no loader has to list it."""
        cfg = getattr(self.model, "cfg", None)
        if cfg is not None:
            shape = {k: getattr(cfg, k, None) for k in ("n_layers", "n_heads", "d_model", "d_head", "d_mlp")}
            shape["parameters"] = sum(p.numel() for p in self.model.parameters())
            self.info = {**self.info, **{k: v for k, v in shape.items() if k not in self.info}}


#: An attention weight above this counts as attending (tracr's patterns are saturated: 0 or 1/k).
ATTENDS = 1e-3


@dataclass
class DiscoveryTask:
    """Everything a method needs: the model, its graph, data and the validation metric.

    ``clean`` and ``corrupted`` are token ids ``[batch, pos]`` with BOS at position 0.
    ``metric(logits)`` scores outputs against the full model's outputs on ``clean``
    (KL for categorical cases, L2 for numerical ones; BOS excluded): 0 means
    "behaves like the full model", larger means worse. ``granularity`` is the level
    the loader certifies its ground truth at (``qkv`` or ``head``), where the headline
    edge metrics are computed. With ``positions`` the graph has one edge per token
    position, and so has the ground truth (``graph.positional_edges``).
    """

    case: "CaseSpec"
    loaded: LoadedModel
    clean: "torch.Tensor"
    corrupted: "torch.Tensor"
    seed: int
    granularity: str = "qkv"
    positions: bool = False

    @property
    def model(self) -> Any:
        return self.loaded.model

    @property
    def categorical(self) -> bool:
        return self.loaded.categorical

    @cached_property
    def ground_truth(self) -> Circuit:
        if not self.positions:
            return self.loaded.circuit
        import torch

        # Where each head attends on the data (clean and corrupted), from the model itself.
        names = {f"blocks.{layer}.attn.hook_pattern" for layer in range(self.graph.n_layers)}
        with torch.no_grad():
            _, cache = self.model.run_with_cache(
                torch.cat([self.clean, self.corrupted]), names_filter=lambda n: n in names
            )
        attends = {
            (layer, head): (cache[f"blocks.{layer}.attn.hook_pattern"][:, head] > ATTENDS).any(0).tolist()
            for layer in range(self.graph.n_layers)
            for head in range(self.graph.n_heads)
        }
        scored = [p > 0 for p in range(self.clean.shape[1])]  # the metric leaves BOS out
        edges = sorted(positional_edges(self.loaded.circuit.edge_set(), self.graph, attends, scored))
        return Circuit(
            level="edge", nodes=self.loaded.circuit.nodes, edges=[Edge(sender=s, receiver=r) for s, r in edges]
        )

    @cached_property
    def graph(self) -> ComputationalGraph:
        cfg = self.model.cfg
        positions = self.clean.shape[1] if self.positions else None
        return ComputationalGraph(
            cfg.n_layers, cfg.n_heads, has_mlps=not cfg.attn_only, parallel=cfg.parallel_attn_mlp, positions=positions
        )

    @cached_property
    def engine(self) -> "PatchingEngine":
        from interpbench.engine import PatchingEngine

        return PatchingEngine(self.model, self.graph, self.clean, self.corrupted)

    def rows(self, index: "torch.Tensor") -> "DiscoveryTask":
        """The same task on the examples ``index`` of its data (its own engine, and a metric
        against the full model's outputs on those examples): minibatched methods. Mean
        ablation still carries the whole data's means, as in the full-batch task."""
        from interpbench.engine import PatchingEngine

        task = replace(self, clean=self.clean[index], corrupted=self.corrupted[index])
        task.__dict__["engine"] = PatchingEngine(
            self.model, self.graph, task.clean, task.corrupted, clean_mean=self.engine.clean_mean
        )
        return task

    def edge_scores(self, values: Iterable[float]) -> list[EdgeScore]:
        """One ``EdgeScore`` per edge of ``graph.edges``, from one float per edge in that order."""
        return [EdgeScore(sender=s, receiver=r, score=float(v)) for (s, r), v in zip(self.graph.edges, values)]

    def relative_selection(self, values: Iterable[float], relative_threshold: float) -> Scores:
        """Edge scores (one float per edge of ``graph.edges``) with the edges scoring at least
        ``relative_threshold`` × the best selected (none when no score is positive)."""
        edges = self.edge_scores(values)
        top = max((e.score for e in edges), default=0.0)
        cut = relative_threshold * top if top > 0 else float("inf")
        return Scores(
            level="edge", edges=edges, selected=[edge_key(e.sender, e.receiver) for e in edges if e.score >= cut]
        )

    def ablation(self, name: str) -> "Ablation":
        """Resolve a method's ablation setting ("auto" means the loader's default)."""
        return cast("Ablation", self.loaded.default_ablation if name == "auto" else name)

    @cached_property
    def clean_logits(self) -> "torch.Tensor":
        """The full model's logits, from the engine's cached clean pass (no extra forward)."""
        return self.engine.run(self.engine.valid[None], "zero")[0]

    @cached_property
    def metric(self) -> Callable[["torch.Tensor"], "torch.Tensor"]:
        from interpbench.engine.validation import validation_metric

        return validation_metric(self.clean_logits, self.categorical)
