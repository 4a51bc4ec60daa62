"""SIIT hyperparameters and the low-level (LL) model's shape.

The LL shape follows InterpBench's ``make_ll_cfg_for_case`` (CASES.md §2):
``n_layers = max(2, HL layers)``, ``n_heads = max(4, HL heads)``, GELU, no LayerNorm,
``d_mlp = 4 * d_model``; either ``d_head = HL d_head // ratio`` and
``d_model = n_heads * d_head``, or, for the cases listed in ``RESID_COMPRESSED``, a
compressed residual stream ``d_model = HL d_model // ratio`` with
``d_head = d_model // n_heads``.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field, model_validator

from interpbench.siit.hard import HIDDEN_EFFECT

#: per-case compression ratios (CASES.md §2); every other case uses ``DEFAULT_RATIO``.
COMPRESSION_RATIO: dict[str, float] = {
    "5": 1.8, "6": 1.2, "7": 1.5, "9": 2, "18": 1.6, "21": 1.3, "23": 1.5, "24": 1.2,
    "25": 1.5, "34": 1.5, "35": 3, "36": 2.5, "37": 2.2,
}  # fmt: skip
DEFAULT_RATIO = 2.0
#: cases whose residual stream itself is compressed (CASES.md §2).
RESID_COMPRESSED = frozenset("5 7 9 18 21 22 23 25 26 28 29 34 35 36 37".split())


class SIITConfig(BaseModel):
    """How to train one LL model with Strict Interchange Intervention Training.

    Defaults are the ones measured to work on a 2-core CPU (cases 3, 7, 8, 13, 14, 18
    and 24 pass in 100-500 steps): batch 256, Adam(W) with lr decaying exponentially
    from 1e-2 to 1e-4 over ``max_steps``, clip 0.1, losses 1:1:1 in one step, gradients
    through the source pass, strict resampling of random subsets of unmapped nodes.
    InterpBench's own are lr 1e-3 constant, strict weight 0.4, one optimiser step per
    loss term, one unmapped node per strict sample and detached source activations.
    """

    model_config = ConfigDict(extra="forbid")

    seed: int = Field(0, description="Seeds the weights, the data and every sampled intervention.")
    # data
    n_data: int = Field(20_000, ge=16, description="Inputs drawn (all of them when fewer exist).")
    val_fraction: float = Field(0.2, gt=0, lt=1, description="Share held out for validation.")
    max_val: int = Field(2_000, ge=16, description="At most this many validation pairs are evaluated.")
    full_domain_below: int = Field(
        4_096,
        ge=0,
        description="When the case has at most this many distinct inputs, train and validate on all of them.",
    )
    # optimisation
    batch_size: int = Field(256, ge=1, description="(base, source) pairs per step.")
    lr: float = Field(1e-2, gt=0, description="Initial learning rate (AdamW).")
    lr_end: float = Field(1e-4, gt=0, description="Final learning rate of the schedule.")
    lr_schedule: Literal["constant", "linear", "cosine", "exponential"] = Field(
        "exponential", description="How the learning rate goes from lr to lr_end over max_steps."
    )
    warmup_steps: int = Field(0, ge=0, description="Steps of linear warm-up to lr.")
    betas: tuple[float, float] = Field((0.9, 0.999), description="AdamW's betas.")
    weight_decay: float = Field(0.0, ge=0, description="AdamW's weight decay.")
    grad_clip: float | None = Field(0.1, gt=0, description="Gradient-norm clip; None disables it.")
    separate_steps: bool = Field(
        False, description="One optimiser step per loss term (InterpBench's default) instead of one on their sum."
    )
    strict_sampling: Literal["individual", "subset", "all"] = Field(
        "subset",
        description="Unmapped nodes resampled per strict sample: one at random (InterpBench's default), "
        "each independently with probability strict_p (at least one), or all of them.",
    )
    source_grad: bool = Field(
        True,
        description="Backpropagate through the source pass too (InterpBench detaches it); this is what lets "
        "the strict loss shrink an unmapped node's input dependence directly.",
    )
    strict_p: float = Field(
        0.5, gt=0, le=1, description="With strict_sampling=subset: each unmapped node's chance to be resampled."
    )
    strict_joint_share: float = Field(
        0.25,
        ge=0,
        le=1,
        description="Share of strict samples that resample every unmapped node at once, as a discovery method "
        "ablates them (what the joint strict accuracy certifies); 0 before it existed.",
    )
    iit_weight: float = Field(1.0, ge=0, description="Weight of the interchange-intervention loss.")
    strict_weight: float = Field(1.0, ge=0, description="Weight of the strict loss (unmapped nodes resampled).")
    behavior_weight: float = Field(1.0, ge=0, description="Weight of the behaviour loss (the plain input).")
    max_steps: int = Field(6_000, ge=1, description="Optimisation steps at most.")
    # evaluation, early stopping, recovery
    eval_every: int = Field(100, ge=1, description="Steps between validation evaluations (and early-stop checks).")
    threshold: float = Field(0.995, gt=0, le=1, description="Accuracy, IIA and strict accuracy must reach it.")
    joint_threshold: float = Field(
        0.99, gt=0, le=1, description="Joint strict accuracy (every unmapped node resampled at once) must reach it."
    )
    hidden_threshold: float = Field(
        HIDDEN_EFFECT,
        gt=0,
        description="Hard track: the largest effect (KL, or mean squared difference) a subset of the "
        "structured group may have where it must leave the output unchanged.",
    )
    early_stop: bool = Field(True, description="Stop as soon as the threshold is reached.")
    give_up_after: int = Field(
        2_000,
        ge=0,
        description="Stop a training whose accuracy has not moved (by 0.02) after this many steps; 0: never.",
    )
    atol: float = Field(0.05, gt=0, description="Numerical outputs match when |LL - HL| < atol.")
    restore_best_after: int = Field(
        5,
        ge=0,
        description="Evaluations without a new best score after which training restarts from the best state "
        "(with its optimiser state); 0 disables restarts.",
    )
    checkpoint_every: int = Field(500, ge=1, description="Steps between checkpoints (what --resume continues from).")
    # the hard track (docs/hard-track.md)
    structure: str | None = Field(
        None,
        description="Implement one HL head by a group of LL heads with this registered structure "
        "(interpbench list structures; None: one head each).",
    )
    structure_node: str | None = Field(
        None,
        description="The HL head the structure implements; None: the head whose interchange changes the HL "
        "output at the most positions.",
    )
    structure_share: float = Field(0.5, ge=0, le=1, description="Share of IIT samples spent on the structured group.")
    structure_match_weight: float = Field(
        0.0,
        ge=0,
        description="Weight of a loss that makes a subset of the group that does not follow the source "
        "leave the whole output distribution unchanged (KL to the clean output), not only its argmax, so that its "
        "effect is as small as an unmapped node's; needs separate_steps off.",
    )
    layer_stride: int = Field(
        1, ge=1, le=4, description="HL layer l's heads go to LL layer k·l, its MLP to LL layer k·l+k-1 (1: same layer)."
    )
    # LL shape
    n_layers: int | None = Field(
        None, ge=1, description="LL layers at least (the model gets at least layer_stride x the HL model's layers)."
    )
    n_heads: int | None = Field(None, ge=1, description="Override of the LL heads per layer.")
    compression_ratio: float | None = Field(None, gt=0, description="Override of the case's ratio.")
    compress_resid: bool | None = Field(None, description="Override of whether the residual stream is compressed.")
    width_factor: float = Field(1.0, gt=0, description="Multiplies d_head (or the compressed d_model).")
    d_head: int | None = Field(None, ge=1, description="Override of the LL d_head (d_model follows unless given).")
    d_model: int | None = Field(None, ge=1, description="Override of the LL d_model.")

    @model_validator(mode="after")
    def _check(self) -> "SIITConfig":
        if self.lr_end > self.lr:
            raise ValueError("lr_end must not exceed lr")
        if self.structure_match_weight > 0 and self.separate_steps:
            raise ValueError("structure_match_weight needs separate_steps off (it compares outputs of one pass)")
        return self


class LLShape(TypedDict):
    n_layers: int
    n_heads: int
    d_head: int
    d_model: int
    d_mlp: int


def ll_shape(hl_cfg: Any, case: str, config: SIITConfig | None = None) -> LLShape:
    """``n_layers, n_heads, d_head, d_model, d_mlp`` of the LL model for a case."""
    config = config or SIITConfig()
    name = str(getattr(case, "name", case))
    ratio = config.compression_ratio or COMPRESSION_RATIO.get(name, DEFAULT_RATIO)
    compress = name in RESID_COMPRESSED if config.compress_resid is None else config.compress_resid
    n_heads = config.n_heads or max(4, hl_cfg.n_heads)
    if compress:
        d_model = max(2, int(hl_cfg.d_model * config.width_factor // ratio))
        d_head = max(1, d_model // n_heads)
    else:
        d_head = max(1, int(hl_cfg.d_head * config.width_factor // ratio))
        d_model = n_heads * d_head
    if config.d_head is not None:
        d_head = config.d_head
        d_model = n_heads * d_head
    if config.d_model is not None:
        d_model = config.d_model
    return {
        "n_layers": max(config.n_layers or 2, config.layer_stride * hl_cfg.n_layers),
        "n_heads": n_heads,
        "d_head": d_head,
        "d_model": d_model,
        "d_mlp": 4 * d_model,
    }


def ll_config(hl_cfg: Any, case: Any, config: SIITConfig | None = None):
    """The LL ``HookedTransformerConfig`` for a case (``case``: a ``CaseSpec`` or its name).

    Same vocabulary, output size, context and attention direction as the HL model;
    GELU, no LayerNorm, and the hooks circuit discovery needs (``use_attn_result``,
    ``use_split_qkv_input``, ``use_hook_mlp_in``).
    """
    from transformer_lens import HookedTransformerConfig

    return HookedTransformerConfig(
        **ll_shape(hl_cfg, case, config),
        d_vocab=hl_cfg.d_vocab,
        d_vocab_out=hl_cfg.d_vocab_out,
        n_ctx=hl_cfg.n_ctx,
        attention_dir=hl_cfg.attention_dir,
        act_fn="gelu",
        normalization_type=None,
        default_prepend_bos=False,
        use_attn_result=True,
        use_split_qkv_input=True,
        use_hook_mlp_in=True,
    )
