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
    """Logits with edges (s, r) where kept[(s, r)] is False carrying ablated[s]; a kept
    value may be a bool tensor [P], the edge kept at some positions only."""
    outputs: dict[str, torch.Tensor] = {}
    hooks = []

    def save(name, head):
        def fn(act, hook):
            outputs[name] = act[:, :, head] if head is not None else act

        return fn

    for s in graph.senders:
        base, head = sender_hook(s.name)
        if base in model.hook_dict:
            hooks.append((base, save(s.name, head)))
        else:  # no positional embedding (rotary models): a sender that outputs nothing
            outputs[s.name] = torch.zeros(())

    incoming: dict[str, list[tuple[str, torch.Tensor]]] = {}  # receiver -> (sender, ablated where [P])
    for s, r in graph.pairs:
        gone = ~torch.as_tensor(kept[(s, r)])
        if gone.any():
            incoming.setdefault(r, []).append((s, gone.float()[..., None]))

    def patch(receiver, head):
        def fn(act, hook):
            fix = sum((outputs[s] - ablated[s]) * gone for s, gone in incoming.get(receiver, []))
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
        if base not in cache:  # no positional embedding (rotary models): zero
            acts[s.name] = torch.zeros_like(cache["hook_embed"])
            continue
        acts[s.name] = cache[base][:, :, head] if head is not None else cache[base]
    return acts


def receiver_gradients_reference(model, graph: ComputationalGraph, tokens, target, fixed: dict[str, torch.Tensor]):
    """Logits and the gradient of ``target(logits)`` at every receiver's input (a dict by
    receiver name), with the senders named in ``fixed`` outputting those tensors [B, P, D]
    as constants: each hook returns a copy of the activation with the sender's slice
    overwritten, so no gradient reaches the sender's inputs through it."""
    saved: dict[str, torch.Tensor] = {}

    def replace(head, value):
        def fn(act, hook):
            act = act.clone()
            if head is None:
                act[:] = value
            else:
                act[:, :, head] = value
            return act

        return fn

    def keep(act, hook):
        act.retain_grad()
        saved[hook.name] = act
        return act

    hooks = []
    for name, value in fixed.items():
        base, head = sender_hook(name)
        hooks.append((base, replace(head, value.detach())))
    for base in dict.fromkeys(receiver_hook(r.name, graph.n_layers)[0] for r in graph.receivers):
        hooks.append((base, keep))
    model.zero_grad()
    logits = model.run_with_hooks(tokens, fwd_hooks=hooks)
    target(logits).backward()
    grads = {}
    for r in graph.receivers:
        base, head = receiver_hook(r.name, graph.n_layers)
        act = saved[base]
        grad = act.grad if act.grad is not None else torch.zeros_like(act)  # a fixed node's unused input
        grads[r.name] = grad[:, :, head] if head is not None else grad
    return logits.detach(), grads
