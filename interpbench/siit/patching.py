"""Read node outputs and patch them in, per sample, with TransformerLens hooks.

A head's output is patched through ``blocks.L.attn.hook_z`` at its head index (the
head's result is ``z @ W_O[h]``, so patching z patches the result), an MLP's through
``blocks.L.hook_mlp_out``. ``patched_forward`` takes one assignment per sample
(which node, if any, is replaced in that sample), so one forward pass serves a whole
batch of different interventions.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable

import torch

from interpbench.siit.correspondence import NodeHook, node_hook


def hooks_for(nodes: Iterable[str]) -> list[NodeHook]:
    return [node_hook(n) for n in nodes]


def _read(act: torch.Tensor, site: NodeHook) -> torch.Tensor:
    return act[:, :, site.head, :] if site.head is not None else act


@torch.no_grad()
def collect(model, tokens: torch.Tensor, sites: list[NodeHook]) -> dict[str, torch.Tensor]:
    """Each site's output on ``tokens`` (detached): ``[batch, pos, d_head]`` or ``[batch, pos, d_model]``."""
    out: dict[str, torch.Tensor] = {}
    by_hook: dict[str, list[NodeHook]] = defaultdict(list)
    for s in sites:
        by_hook[s.hook].append(s)

    def make(hook_sites: list[NodeHook]):
        def fn(act, hook):
            for s in hook_sites:
                out[s.node] = _read(act, s).detach().clone()
            return act

        return fn

    model.run_with_hooks(tokens, fwd_hooks=[(h, make(ss)) for h, ss in by_hook.items()])
    return out


def patched_forward(
    model,
    tokens: torch.Tensor,
    sites: list[NodeHook],
    acts: dict[str, torch.Tensor],
    assign: torch.Tensor | None = None,
) -> torch.Tensor:
    """Forward pass where sample b has node ``sites[assign[b]]`` replaced by ``acts[node][b]``.

    ``assign`` holds an index into ``sites`` per sample, or -1 for "no patch"; None
    patches every site in every sample. ``acts[node]`` broadcasts against
    ``[batch, pos, d]`` (a mean over the batch, ``[1, pos, d]``, works).
    """
    by_hook: dict[str, list[tuple[int, NodeHook]]] = defaultdict(list)
    for i, s in enumerate(sites):
        by_hook[s.hook].append((i, s))

    def make(hook_sites: list[tuple[int, NodeHook]]):
        def fn(act, hook):
            act = act.clone()
            for i, s in hook_sites:
                new = acts[s.node].to(act.dtype)
                cur = _read(act, s)
                if assign is None:
                    val = new.expand_as(cur)
                else:
                    mask = (assign == i).view(-1, 1, 1)
                    val = torch.where(mask, new, cur)
                if s.head is not None:
                    act[:, :, s.head, :] = val
                else:
                    act = val
            return act

        return fn

    return model.run_with_hooks(tokens, fwd_hooks=[(h, make(ss)) for h, ss in by_hook.items()])
