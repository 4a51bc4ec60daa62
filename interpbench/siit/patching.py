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

    ``assign`` holds an index into ``sites`` per sample, or -1 for "no patch"; or a
    boolean ``[batch, len(sites)]`` mask (several nodes per sample); None patches
    every site in every sample. ``acts[node]`` broadcasts against
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
                    mask = assign[:, i] if assign.dim() == 2 else assign == i
                    val = torch.where(mask.view(-1, 1, 1), new, cur)
                if s.head is not None:
                    act[:, :, s.head, :] = val
                else:
                    act = val
            return act

        return fn

    return model.run_with_hooks(tokens, fwd_hooks=[(h, make(ss)) for h, ss in by_hook.items()])


def joint_forward(
    model, source: torch.Tensor, bases: torch.Tensor, sites: list[NodeHook], mask: torch.Tensor
) -> torch.Tensor:
    """One pass over ``[source; bases]``: base row r takes node ``sites[i]`` from source row
    ``r % len(source)`` wherever ``mask[r, i]``. Gradients flow through the source rows too,
    so an unmapped node is pushed towards an output that does not depend on its input.
    Returns the outputs of the base rows.
    """
    n = source.shape[0]
    k = bases.shape[0] // n
    by_hook: dict[str, list[tuple[int, NodeHook]]] = defaultdict(list)
    for i, s in enumerate(sites):
        by_hook[s.hook].append((i, s))

    def make(hook_sites: list[tuple[int, NodeHook]]):
        def fn(act, hook):
            src, rest = act[:n], act[n:]
            rest = rest.clone()
            for i, s in hook_sites:
                new = _read(src, s).repeat(k, *([1] * (src.dim() - 2 if s.head is not None else src.dim() - 1)))
                cur = _read(rest, s)
                val = torch.where(mask[:, i].view(-1, 1, 1), new, cur)
                if s.head is not None:
                    rest[:, :, s.head, :] = val
                else:
                    rest = val
            return torch.cat([src, rest])

        return fn

    out = model.run_with_hooks(torch.cat([source, bases]), fwd_hooks=[(h, make(ss)) for h, ss in by_hook.items()])
    return out[n:]
