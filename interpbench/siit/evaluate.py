"""How well an LL model implements its HL model: accuracy, IIA, strict accuracy, node effects.

All over positions 1.. (BOS excluded), on (base, source) input pairs:

- accuracy: the LL output matches the HL output on the base input;
- IIA (interchange-intervention accuracy), per mapped HL node: with that node's output
  taken from the source input in both models, the LL output matches the HL output;
  the reported IIA is the mean over nodes (InterpBench samples one node per batch);
- strict accuracy, per unmapped LL node: with that node resampled from the source
  input, the LL output still matches the HL output on the *base* input; mean over nodes;
- joint strict accuracy: the same with *every* unmapped node resampled at once, as a
  discovery method ablates them (over positions, and over whole sequences);
- structure accuracy (hard-track models): for every non-empty subset of the structured
  group resampled together, the LL output matches the HL output with the node from the
  source where the structure's rule says it follows the source, else the HL output on
  the base input; the smallest over subsets. With it, each subset's validation metric
  (its effect) and the structure's contrast (the share of positions where the two
  targets differ: how much a subset's effect can show at all);
- node effects: for every LL head and MLP, the validation metric (KL from the
  unablated LL outputs for categorical cases, mean squared difference for numerical
  ones) under resample ablation (output from the source input) and mean ablation
  (output averaged over the base inputs, per position), with the share of positions
  whose prediction changes (top-1 for categorical, by ``atol`` or more for numerical).

"Match" is top-1 equality for categorical outputs and ``|LL - HL| < atol`` for numerical.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import torch

from interpbench.siit.correspondence import Correspondence
from interpbench.siit.hard import HIDDEN_EFFECT
from interpbench.siit.patching import collect, hooks_for, patched_forward


@dataclass
class EvalData:
    """Validation pairs with the HL model's answers precomputed."""

    base: torch.Tensor  # [N, pos] token ids
    source: torch.Tensor  # [N, pos]
    categorical: bool
    hl_base: torch.Tensor  # [N, pos] class ids (long) or values (float)
    hl_iit: dict[str, torch.Tensor]  # HL node -> HL output with that node from the source


def hl_labels(out: torch.Tensor, categorical: bool) -> torch.Tensor:
    return out.argmax(-1) if categorical else out[..., 0].float()


def matches(ll_out: torch.Tensor, labels: torch.Tensor, categorical: bool, atol: float = 0.05) -> torch.Tensor:
    """Per-position agreement (bool ``[batch, pos-1]``), BOS excluded."""
    if categorical:
        return ll_out[:, 1:].argmax(-1) == labels[:, 1:]
    return (ll_out[:, 1:, 0] - labels[:, 1:]).abs() < atol


@torch.no_grad()
def make_eval_data(hl_model, correspondence: Correspondence, base, source, categorical: bool) -> EvalData:
    """Run the HL model once per mapped node to get the labels every metric needs."""
    hl_model.eval()
    hl_base = hl_labels(hl_model(base), categorical)
    sites = hooks_for(correspondence.hl_nodes)
    src_acts = collect(hl_model, source, sites)
    hl_iit = {s.node: hl_labels(patched_forward(hl_model, base, [s], src_acts), categorical) for s in sites}
    return EvalData(base=base, source=source, categorical=categorical, hl_base=hl_base, hl_iit=hl_iit)


@dataclass
class NodeEffect:
    node: str
    in_circuit: bool
    resample_effect: float  # validation metric (KL or L2) under resample ablation
    mean_effect: float  # ... under mean ablation
    resample_changed: float  # share of positions whose prediction changes
    mean_changed: float


SCORE_KEYS = ("accuracy", "iia", "strict_accuracy", "joint_strict_accuracy", "structure_accuracy")


def headline_score(numbers: dict[str, Any]) -> float:
    """The smallest of the headline numbers of an evaluation (or of a training history
    entry); one not measured counts as met, and a hidden subset's effect over the bound
    counts against the score directly."""
    hidden = 1.0 - max(0.0, (numbers.get("structure_hidden_effect") or 0.0) - HIDDEN_EFFECT)
    return min([1.0 if numbers.get(k) is None else numbers[k] for k in SCORE_KEYS] + [hidden])


@dataclass
class EvalResult:
    accuracy: float
    iia: float
    strict_accuracy: float
    iia_per_node: dict[str, float]
    strict_per_node: dict[str, float]
    metric: str  # "kl" or "l2"
    n_pairs: int
    node_effects: list[NodeEffect] = field(default_factory=list)
    joint_strict_accuracy: float | None = None  # None: not measured (models certified before it existed)
    joint_strict_sequences: float | None = None
    structure_accuracy: float | None = None  # None: no structured group
    structure_per_subset: dict[str, float] = field(default_factory=dict)  # "a+b" -> accuracy
    structure_effects: dict[str, float] = field(default_factory=dict)  # "a+b" -> validation metric
    structure_contrast: float | None = None
    structure_hidden_effect: float | None = None  # the largest effect of a subset that must not follow the source

    def score(self) -> float:
        """The smallest of the headline numbers (what training keeps its best state by)."""
        return headline_score(asdict(self))

    def passed(
        self, threshold: float = 0.995, joint_threshold: float = 0.99, hidden_threshold: float = HIDDEN_EFFECT
    ) -> bool:
        """The certificate: accuracy, IIA, strict accuracy (and structure accuracy) at least
        ``threshold``, joint strict accuracy (positions) at least ``joint_threshold``, and no
        subset of a structured group that must not follow the source with an effect above
        ``hidden_threshold``."""
        joint_ok = self.joint_strict_accuracy is None or self.joint_strict_accuracy >= joint_threshold
        hidden_ok = self.structure_hidden_effect is None or self.structure_hidden_effect <= hidden_threshold
        structure = 1.0 if self.structure_accuracy is None else self.structure_accuracy
        return min(self.accuracy, self.iia, self.strict_accuracy, structure) >= threshold and joint_ok and hidden_ok

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "EvalResult":
        d = dict(d)
        d["node_effects"] = [NodeEffect(**e) for e in d.get("node_effects", [])]
        return cls(**d)

    def table(self) -> str:
        """The node-effects table as text, InterpBench style."""
        name = self.metric.upper()
        rows = [
            f"{'node':34} {'status':15} {'resample ' + name:>14} {'mean ' + name:>12} {'resample Δ%':>12} {'mean Δ%':>9}"
        ]
        for e in self.node_effects:
            status = "in_circuit" if e.in_circuit else "not_in_circuit"
            rows.append(
                f"{e.node:34} {status:15} {e.resample_effect:14.4g} {e.mean_effect:12.4g} "
                f"{100 * e.resample_changed:12.1f} {100 * e.mean_changed:9.1f}"
            )
        return "\n".join(rows)


def _categorical(case: Any, hl_model) -> bool:
    cat = getattr(case, "categorical", None)
    return bool(cat) if cat is not None else hl_model.cfg.d_vocab_out > 1


@torch.no_grad()
def evaluate(
    hl_model,
    ll_model,
    correspondence: Correspondence,
    case: Any,
    data: EvalData | tuple[torch.Tensor, torch.Tensor],
    *,
    atol: float = 0.05,
    node_effects: bool = True,
) -> EvalResult:
    """Accuracy, IIA, strict accuracy and (optionally) the node-effects table.

    Args:
        hl_model, ll_model: the HL (tracr) and LL (trained) HookedTransformers.
        correspondence: from ``build_correspondence`` (or ``store.load_correspondence``).
        case: the ``CaseSpec`` (only ``.categorical`` is read; a name works too).
        data: an ``EvalData`` or a ``(base, source)`` pair of token tensors.
    """
    if not isinstance(data, EvalData):
        base, source = data
        data = make_eval_data(hl_model, correspondence, base, source, _categorical(case, hl_model))
    cat = data.categorical
    was_training = ll_model.training
    ll_model.eval()
    try:
        ll_base = ll_model(data.base)
        accuracy = matches(ll_base, data.hl_base, cat, atol).float().mean().item()
        ll_sites = hooks_for(correspondence.ll_nodes)
        src = collect(ll_model, data.source, ll_sites)
        iia = {}
        for hl_node in correspondence.mapping:
            out = patched_forward(ll_model, data.base, hooks_for(correspondence.group(hl_node)), src)
            iia[hl_node] = matches(out, data.hl_iit[hl_node], cat, atol).float().mean().item()
        structure = _structure(ll_model, correspondence, data, ll_base, src, atol)
        strict = {}
        for node in correspondence.unmapped:
            out = patched_forward(ll_model, data.base, hooks_for([node]), src)
            strict[node] = matches(out, data.hl_base, cat, atol).float().mean().item()
        joint = torch.ones_like(data.hl_base[:, 1:], dtype=torch.bool)
        if correspondence.unmapped:
            out = patched_forward(ll_model, data.base, hooks_for(correspondence.unmapped), src)
            joint = matches(out, data.hl_base, cat, atol)
        effects = _node_effects(ll_model, correspondence, data, ll_base, src, atol) if node_effects else []
    finally:
        ll_model.train(was_training)
    return EvalResult(
        accuracy=accuracy,
        iia=sum(iia.values()) / len(iia) if iia else 1.0,
        strict_accuracy=sum(strict.values()) / len(strict) if strict else 1.0,
        iia_per_node=iia,
        strict_per_node=strict,
        metric="kl" if cat else "l2",
        n_pairs=int(data.base.shape[0]),
        node_effects=effects,
        joint_strict_accuracy=joint.float().mean().item(),
        joint_strict_sequences=joint.all(-1).float().mean().item(),
        **structure,
    )


def subset_name(members: tuple[str, ...] | list[str]) -> str:
    return "+".join(members)


def _structure(ll_model, correspondence: Correspondence, data: EvalData, ll_base, src, atol) -> dict[str, Any]:
    """Every non-empty subset of the structured group resampled: accuracy against the
    structure's target and the validation metric (each alone, each pair, all)."""
    from interpbench.engine.validation import validation_metric

    st = correspondence.structure
    if st is None:
        return {}
    metric = validation_metric(ll_base, data.categorical)
    follow_target, base_target = data.hl_iit[st.hl_node], data.hl_base
    accuracy, effects, hidden = {}, {}, []
    for subset in st.subsets():
        out = patched_forward(ll_model, data.base, hooks_for(subset), src)
        follows, name = st.follows(set(subset)), subset_name(subset)
        accuracy[name] = (
            matches(out, follow_target if follows else base_target, data.categorical, atol).float().mean().item()
        )
        effects[name] = float(metric(out))
        if not follows:
            hidden.append(effects[name])
    return {
        "structure_accuracy": min(accuracy.values()),
        "structure_per_subset": accuracy,
        "structure_effects": effects,
        "structure_hidden_effect": max(hidden, default=0.0),
        "structure_contrast": contrast_of(data, st.hl_node, atol),
    }


def contrast_of(data: EvalData, hl_node: str, atol: float = 0.05) -> float:
    """The share of positions where taking the node from the source changes the HL output."""
    new, old = data.hl_iit[hl_node], data.hl_base
    differs = new != old if data.categorical else (new - old).abs() >= atol
    return differs[:, 1:].float().mean().item()


def _changed(new: torch.Tensor, old: torch.Tensor, categorical: bool, atol: float) -> float:
    if categorical:
        return (new[:, 1:].argmax(-1) != old[:, 1:].argmax(-1)).float().mean().item()
    return ((new[:, 1:, 0] - old[:, 1:, 0]).abs() >= atol).float().mean().item()


def _node_effects(ll_model, correspondence, data: EvalData, ll_base, src, atol) -> list[NodeEffect]:
    from interpbench.engine.validation import validation_metric

    metric = validation_metric(ll_base, data.categorical)
    sites = hooks_for(correspondence.ll_nodes)
    base_acts = collect(ll_model, data.base, sites)
    mean_acts = {n: a.mean(0, keepdim=True) for n, a in base_acts.items()}
    in_circuit = set(correspondence.in_circuit)
    rows = []
    for site in sites:
        resampled = patched_forward(ll_model, data.base, [site], src)
        averaged = patched_forward(ll_model, data.base, [site], mean_acts)
        rows.append(
            NodeEffect(
                node=site.node,
                in_circuit=site.node in in_circuit,
                resample_effect=float(metric(resampled)),
                mean_effect=float(metric(averaged)),
                resample_changed=_changed(resampled, ll_base, data.categorical, atol),
                mean_changed=_changed(averaged, ll_base, data.categorical, atol),
            )
        )
    return rows
