"""The oracle: edge patching with plain TransformerLens hooks, slow and obvious.

For every receiver hook, the input is rebuilt as "what the model computed" minus, for
each ablated edge, (the sender's output in this run - the sender's ablated output).
"""

from __future__ import annotations

import torch

from interpbench.graph import ComputationalGraph


def sender_hook(name: str) -> tuple[str, int | None]:
    if "[" in name:
        base, head = name[:-1].split("[")
        return base, int(head)
    return name, None


def receiver_hook(name: str, n_layers: int) -> tuple[str, int | None]:
    if "[" in name:
        base, head = name[:-1].split("[")
        return base, int(head)
    return name, None


def run_reference(
    model, graph: ComputationalGraph, tokens, ablated: dict[str, torch.Tensor], kept: dict[tuple[str, str], bool]
):
    """Logits with edges (s, r) where kept[(s, r)] is False carrying ablated[s]."""
    outputs: dict[str, torch.Tensor] = {}
    hooks = []

    def save(name, head):
        def fn(act, hook):
            outputs[name] = act[:, :, head] if head is not None else act

        return fn

    for s in graph.senders:
        base, head = sender_hook(s.name)
        hooks.append((base, save(s.name, head)))

    incoming: dict[str, list[str]] = {}
    for s, r in graph.edges:
        if not kept[(s, r)]:
            incoming.setdefault(r, []).append(s)

    def patch(receiver, head):
        def fn(act, hook):
            fix = sum(outputs[s] - ablated[s] for s in incoming.get(receiver, []))
            if isinstance(fix, int):
                return act
            act = act.clone()
            if head is None:
                act = act - fix
            else:
                act[:, :, head] = act[:, :, head] - fix
            return act

        return fn

    for r in graph.receivers:
        base, head = receiver_hook(r.name, graph.n_layers)
        hooks.append((base, patch(r.name, head)))
    with torch.no_grad():
        return model.run_with_hooks(tokens, fwd_hooks=hooks)


def sender_activations(model, graph: ComputationalGraph, tokens) -> dict[str, torch.Tensor]:
    with torch.no_grad():
        _, cache = model.run_with_cache(tokens)
    acts = {}
    for s in graph.senders:
        base, head = sender_hook(s.name)
        acts[s.name] = cache[base][:, :, head] if head is not None else cache[base]
    return acts
