"""The state of one forward pass of the patching engine, per way of computing receiver inputs.

``Pass``: dense masks, one product per receiver group (differentiable); ``SenderPass``:
node masks, one running sum; ``ResidualPass``: every edge kept, the residual stream; ``SharedPass``: the no-grad bookkeeping that computes each
distinct node activation once for all circuits of a call.
"""

from __future__ import annotations

import torch

#: Work is chunked so that one chunk's activations fit the CPU cache.
CHUNK_MB = 4


class Pass:
    """One forward pass of C circuits from the embeddings: masks, what ablated edges
    carry (``base``, every receiver's input with all its edges ablated, biases
    included), and the per-circuit sender outputs [C, B, P, D] so far.

    ``fixed`` maps sender indices to outputs [C, B, P, D] that replace what those
    senders compute (constants: no gradient reaches their inputs through them)."""

    def __init__(self, mask, base, outputs, ablated=None, record=None, fixed=None):
        self.mask, self.base = mask, base
        self.ablated = ablated if ablated is not None else base.new_zeros(mask.shape[2], 1, 1, 1)
        self.record = record
        self.fixed: dict[int, torch.Tensor] = fixed or {}
        self.outputs: list[torch.Tensor] = list(outputs)

    def add_outputs(self, outputs) -> None:
        for out in outputs:
            self.outputs.append(self.fixed.get(len(self.outputs), out))

    def all_fixed(self, senders: range) -> bool:
        """Whether every one of these senders' outputs is fixed: then nothing computes them."""
        return all(s in self.fixed for s in senders)

    def deltas(self) -> torch.Tensor:
        """Sender outputs minus ablated outputs: [C, n, B, P, D]."""
        return torch.stack(self.outputs, dim=1) - self.ablated[: len(self.outputs)]

    def inputs(self, r0: int, r1: int) -> torch.Tensor:
        """Receivers r0..r1: their all-ablated input plus the masked deltas of the senders so
        far; a mask [C, R, S, P] weighs each position of a delta on its own."""
        delta = self.deltas()  # [C, n, B, P, D]
        C, n = delta.shape[:2]
        if self.mask.dim() == 4:
            return self.base[r0:r1] + torch.einsum("crnp,cnbpd->crbpd", self.mask[:, r0:r1, :n], delta)
        mixed = torch.bmm(self.mask[:, r0:r1, :n], delta.reshape(C, n, -1))  # [C, r, B*P*D]
        return self.base[r0:r1] + mixed.view(C, r1 - r0, *delta.shape[2:])

    def note(self, receiver_inputs) -> None:
        """Keep a receiver group's inputs [C, n, B, P, D] (or a ``shared_qkv.Deferred``)
        for a gradient hook."""
        if self.record is not None:
            self.record.append(receiver_inputs)


class SenderPass(Pass):
    """A pass in which every receiver sees sender s through the same weight ``weights[:, s]``
    (a node mask): a receiver's input is its all-ablated input plus one running sum of
    weighted deltas, kept up to date as senders are added, instead of a product per receiver
    group. The structure of the graph (who feeds whom) is the order senders are added in."""

    def __init__(self, weights, base, outputs, ablated):
        self.weights = weights  # [C, S]
        self.running: torch.Tensor | None = None
        super().__init__(weights, base, [], ablated)
        self.add_outputs(outputs)

    def add_outputs(self, outputs) -> None:
        for out in outputs:
            term = self.weights[:, len(self.outputs), None, None, None] * (out - self.ablated[len(self.outputs)])
            self.outputs.append(out)
            self.running = term if self.running is None else self.running + term

    def inputs(self, r0: int, r1: int) -> torch.Tensor:
        assert self.running is not None, "a sender pass starts with the embeddings' outputs"
        return self.base[r0:r1] + self.running[:, None]


class ResidualPass(Pass):
    """An unpatched pass (every edge kept): each receiver's input is the residual stream,
    the biases plus the sum of every sender output so far, kept as one running sum instead
    of re-stacking the outputs for a product per receiver group (which grows with the
    square of the depth). Each receiver still gets its own copy, so a gradient reaches it
    alone."""

    def __init__(self, bias, outputs, record=None, fixed=None):
        self.base, self.record = bias, record
        self.fixed = fixed or {}
        self.outputs = []
        self.running: torch.Tensor | None = None
        self.add_outputs(outputs)

    def add_outputs(self, outputs) -> None:
        for out in outputs:
            out = self.fixed.get(len(self.outputs), out)
            self.outputs.append(out)
            self.running = out if self.running is None else self.running + out

    def inputs(self, r0: int, r1: int) -> torch.Tensor:
        assert self.running is not None, "a residual pass starts with the embeddings' outputs"
        return self.base[r0:r1] + self.running[:, None]

    def residual(self, r: int) -> torch.Tensor:
        """The residual stream that receiver r (and every receiver of its layer) reads: [C, B, P, D]."""
        assert self.running is not None, "a residual pass starts with the embeddings' outputs"
        return self.base[r] + self.running


class SharedPass:
    """The bookkeeping of ``PatchingEngine._run_shared``.

    ``store`` holds, as rows [B, P, D]: every receiver's all-ablated input (``base``),
    every sender's clean delta (output minus ablated output), then the deltas computed
    in this pass. ``row[c, s]`` is the delta row circuit c reads for sender s, so a
    receiver's input is one sparse row of weights over the store. Masks are [C, R, S],
    or [C, R, S, P] with a weight per token position.
    """

    def __init__(self, mask, valid, store, ablated):
        (C, R, S), shape = mask.shape[:3], store.shape[1:]
        self.mask, self.valid, self.store, self.ablated = mask, valid, store, ablated
        self.clean_row = R + torch.arange(S)
        self.row = self.clean_row.repeat(C, 1)  # [C, S]
        self.n_rows = R + S
        # Items per computation chunk: a few activations each, a few MB in all.
        self.chunk = max(1, (CHUNK_MB << 20) // (4 * shape.numel() * 4))
        self.inverse: torch.Tensor | None = None

    def compute(self, needed: torch.Tensor, receivers: torch.Tensor, senders: torch.Tensor, output) -> None:
        """Store the deltas of the nodes with these receivers [n, r] and outputs
        (``senders`` [n]), ``output(inputs [k, r, B, P, D], nodes [k])`` computed once
        per distinct input, in chunks that stay in the CPU cache."""
        circuits, nodes = self.distinct(needed, receivers, senders)
        for i in range(0, len(circuits), self.chunk):
            c, n = circuits[i : i + self.chunk], nodes[i : i + self.chunk]
            out = output(self.inputs(c, receivers[n]), n)
            torch.sub(out, self.ablated[senders[n]], out=self.store[self.n_rows : self.n_rows + len(n)])
            self.n_rows += len(n)

    def distinct(self, needed: torch.Tensor, receivers: torch.Tensor, senders: torch.Tensor | None):
        """Group the circuits that need the nodes with these receivers [n, r] by their
        input signature: (circuits, nodes) of one representative per group, in the
        order their deltas are stored.

        Nodes left clean are skipped (their row stays the clean one). Without
        ``senders`` (the logits) every circuit's group is kept in ``self.inverse``.
        """
        n_up = int(senders[0]) if senders is not None else self.mask.shape[2]  # senders before these nodes
        m = self.mask[:, receivers, :n_up]  # [C, n, r, n_up(, P)]
        nonzero = m.ne(0) if m.dim() == 4 else m.ne(0).any(-1)
        kept = nonzero.any(2)  # [C, n, n_up]: senders the node reads
        version = torch.where(kept, self.row[:, None, :n_up], -1)
        todo = needed[:, receivers[:, 0]]  # [C, n]
        if senders is not None:
            valid = self.valid[receivers, :n_up].view(*m.shape[1:4], *[1] * (m.dim() - 4))
            whole = (m == valid).flatten(2).all(-1)  # every input edge kept (at every position)
            clean = whole & (version == torch.where(kept, self.clean_row[:n_up], -1)).all(-1)
            todo = todo & ~clean
        circuits, nodes = todo.nonzero(as_tuple=True)
        if not len(circuits):  # (the logits are always needed)
            return circuits, nodes
        keys = torch.cat(
            [nodes[:, None].float(), m[circuits, nodes].flatten(1), version[circuits, nodes].float()], dim=1
        )
        groups, inverse = torch.unique(keys, dim=0, return_inverse=True)
        first = torch.empty(len(groups), dtype=torch.long).scatter_(0, inverse, torch.arange(len(keys)))
        if senders is None:
            self.inverse = inverse
        else:
            self.row[circuits, senders[nodes]] = self.n_rows + inverse
        return circuits[first], nodes[first]

    def inputs(self, circuits: torch.Tensor, receivers: torch.Tensor) -> torch.Tensor:
        """Inputs [k, r, B, P, D] of receivers [k, r] in the given circuits [k]: one
        sparse product of per-input weights (1 on its base row, the mask on the rows
        of the senders it reads) with the store."""
        k, r = receivers.shape
        m = self.mask[circuits[:, None], receivers].flatten(0, 1)  # [k*r, S(, P)]
        if m.dim() == 3:  # a weight per position: the rows gathered, weighed and summed per item
            item, sender = m.ne(0).any(-1).nonzero(as_tuple=True)
            rows = self.row[circuits.repeat_interleave(r)[item], sender]
            x = self.store[receivers.flatten()].clone()
            x.index_add_(0, item, self.store[rows] * m[item, sender][:, None, :, None])
            return x.view(k, r, *self.store.shape[1:])
        item, sender = m.nonzero(as_tuple=True)
        inputs = torch.arange(k * r)
        weights = torch.sparse_coo_tensor(
            torch.stack(
                [
                    torch.cat([inputs, item]),
                    torch.cat([receivers.flatten(), self.row[circuits.repeat_interleave(r)[item], sender]]),
                ]
            ),
            torch.cat([torch.ones(k * r), m[item, sender]]),
            (k * r, self.n_rows),
            check_invariants=False,  # built valid here; checking would cost more than the product
        )
        x = torch.sparse.mm(weights, self.store[: self.n_rows].flatten(1))
        return x.view(k, r, *self.store.shape[1:])
