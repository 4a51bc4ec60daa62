"""A layer's q, k and v from one residual stream, with a gradient for each receiver.

In an unpatched pass every q, k and v input of a layer is the same residual stream, yet
EAP needs the gradient at each of them separately. Giving each its own copy (normalized
and projected on its own) costs 3H normalizations and copies per layer, about as much
again as the whole forward and backward at GPT-2 size. Here the stream is normalized and
projected once, as the model does it; backward turns each head's query, key and value
gradient into the gradient at that receiver's input (the projection's and the
normalization's transposes, batched over receivers), hands them to the pass, and returns
their sum to the stream.
"""

from __future__ import annotations

import torch


class Deferred:
    """Stands in a pass's record for a receiver group whose gradients backward computes
    itself: ``register_hook`` keeps the function that receives them."""

    def __init__(self, n: int) -> None:
        self.shape = (1, n)
        self.hook = None

    def register_hook(self, fn) -> None:
        self.hook = fn


def _normalize(kind: str | None, x, weight, bias, eps):
    """The normalization and what its backward needs: (y, x_hat, rstd)."""
    if kind is None:
        return x, None, None
    if kind in ("LN", "LNPre"):
        centred = x - x.mean(-1, keepdim=True)
        rstd = (centred.pow(2).mean(-1, keepdim=True) + eps).rsqrt()
        x_hat = centred * rstd
    else:  # RMS, RMSPre
        rstd = (x.pow(2).mean(-1, keepdim=True) + eps).rsqrt()
        x_hat = x * rstd
    y = x_hat if weight is None else x_hat * weight
    return (y if bias is None else y + bias), x_hat, rstd


def _normalize_backward(kind: str | None, u, x_hat, rstd, weight):
    """Gradient at the input from gradients u [n, B, P, D] at the output, each alone,
    computed in u's memory: a fresh temporary of that size costs more than the arithmetic."""
    if kind is None:
        return u
    g = u if weight is None else u.mul_(weight)
    along = torch.einsum("nbpd,bpd->nbp", g, x_hat)[..., None] / g.shape[-1]  # mean of g * x_hat
    if kind in ("LN", "LNPre"):
        g.sub_(g.mean(-1, keepdim=True))
    return g.addcmul_(x_hat, along, value=-1).mul_(rstd)


def project(y: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Every head's query, key and value from one normalized stream y [C, B, P, D] and the
    layer's stacked W_Q|W_K|W_V [3H, E, D] and biases [3H, E, 1]: one matmul with the
    bias fused. Each [C*H, B, P, E], circuit-major."""
    C, B, P, D = y.shape
    projected = torch.addmm(b.flatten()[:, None], w.flatten(0, 1), y.reshape(-1, D).T)  # [3H*E, C*B*P]
    q, key, v = projected.view(3, w.shape[0] // 3, -1, C, B, P).permute(0, 3, 1, 4, 5, 2).flatten(1, 2).unbind(0)
    return q, key, v


class SharedQKV(torch.autograd.Function):
    """(x [B, P, D], norm, w [3H, E, D], b [3H, E, 1], deferred) -> q, k, v [H, B, P, E]."""

    @staticmethod
    def forward(ctx, x, kind, weight, bias, eps, w, b, deferred):  # noqa: PLR0913
        y, x_hat, rstd = _normalize(kind, x, weight, bias, eps)
        q, key, v = project(y[None], w, b)
        ctx.save_for_backward(x_hat, rstd, weight, w)
        ctx.kind, ctx.deferred = kind, deferred
        return q, key, v

    @staticmethod
    def backward(ctx, dq, dk, dv):
        x_hat, rstd, weight, w = ctx.saved_tensors
        H, B, P, E = dq.shape
        u = w.new_empty(3 * H, B * P, w.shape[-1])  # at each receiver's normalized input, q, k, v per head
        for i, grad in enumerate((dq, dk, dv)):
            torch.bmm(grad.reshape(H, B * P, E), w[i * H : (i + 1) * H], out=u[i * H : (i + 1) * H])
        u = u.view(3 * H, B, P, -1)
        per_receiver = _normalize_backward(ctx.kind, u, x_hat, rstd, weight)  # [3H, B, P, D]
        if ctx.deferred.hook is not None:
            ctx.deferred.hook(per_receiver[None])
        return per_receiver.sum(0), None, None, None, None, None, None, None
