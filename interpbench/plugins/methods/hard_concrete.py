"""The hard-concrete distribution (Louizos et al. 2018), the relaxed on/off mask that
subnetwork probing and edge pruning learn: a binary concrete of location ``log_alpha`` and
temperature ``BETA``, stretched to ``(GAMMA, ZETA)`` and clamped to ``[0, 1]``, so that a
mask is exactly 0 or 1 with positive probability and differentiable in between."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

# Temperature and stretch, as Louizos et al. and both methods' reference code use them.
BETA, GAMMA, ZETA = 2 / 3, -0.1, 1.1


def sample(log_alpha: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One mask per item, drawn by reparametrisation (differentiable in ``log_alpha``)."""
    import torch

    u = torch.rand(log_alpha.shape, generator=generator).clamp(1e-6, 1 - 1e-6)
    s = torch.sigmoid((u.log() - (1 - u).log() + log_alpha) / BETA)
    return (s * (ZETA - GAMMA) + GAMMA).clamp(0.0, 1.0)


def keep_probability(log_alpha: torch.Tensor) -> torch.Tensor:
    """P(mask > 0) per item: its expected L0 norm."""
    import torch

    return torch.sigmoid(log_alpha - BETA * math.log(-GAMMA / ZETA))
