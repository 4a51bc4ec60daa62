"""Validation metrics: how far a (patched) model's outputs are from the full model's.

Both accept any number of leading dimensions (one per batched circuit) before
``[batch, pos, vocab]`` and return one value per leading index. Position 0 (BOS)
is excluded, as everywhere in InterpBench.
"""

from __future__ import annotations

from typing import Callable

import torch


def kl_from_baseline(baseline_logits: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """KL(softmax(baseline) || softmax(new)) per token, averaged over batch and positions."""
    base_logp = baseline_logits[..., 1:, :].log_softmax(-1)
    base_p = base_logp.exp()

    def metric(logits: torch.Tensor) -> torch.Tensor:
        logp = logits[..., 1:, :].log_softmax(-1)
        kl = (base_p * (base_logp - logp)).sum(-1)  # [..., batch, pos]
        return kl.mean(dim=(-1, -2))

    return metric


def l2_from_baseline(baseline_logits: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """Mean squared difference of output channel 0, over batch and positions."""
    base = baseline_logits[..., 1:, 0]

    def metric(logits: torch.Tensor) -> torch.Tensor:
        return ((logits[..., 1:, 0] - base) ** 2).mean(dim=(-1, -2))

    return metric


def validation_metric(baseline_logits: torch.Tensor, categorical: bool) -> Callable[[torch.Tensor], torch.Tensor]:
    return (kl_from_baseline if categorical else l2_from_baseline)(baseline_logits.detach())
