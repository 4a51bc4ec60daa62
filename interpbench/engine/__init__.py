"""The patching engine: the model's forward pass over an explicit edge graph.

Every discovery method asks the same question: what does the model output when some
edges carry ablated (corrupted, mean or zero) activations instead of their own? The
engine answers it without per-edge hooks. A receiver's input is the sum of its
senders' outputs, so with ``delta_s = patched_s - ablated_s`` it is

    input_r = sum_s ablated_s + sum_s mask[r, s] * delta_s   (+ the attention biases)

one ``einsum`` per receiver group (the q, k or v inputs of a layer, its MLP input,
the final residual stream). Masks carry a leading circuit dimension, so a whole ROC
sweep or a set of ACDC candidates runs as one batched pass. Senders before the first
layer whose inputs a mask changes produce their clean outputs, which are cached, so
a pass starts there.

Shapes: ``S`` senders, ``R`` receivers, ``C`` circuits, ``B`` batch, ``P`` positions,
``D`` d_model, ``H`` heads.
"""

from __future__ import annotations

from functools import cached_property
from typing import Literal

import torch

from interpbench.graph import ComputationalGraph

Ablation = Literal["resample", "mean", "zero", "zero-except-embed"]
ABLATIONS: tuple[str, ...] = ("resample", "mean", "zero", "zero-except-embed")


class PatchingEngine:
    """Evaluate a HookedTransformer with any set of edges ablated.

    Args:
        model: a HookedTransformer without LayerNorm (tracr and SIIT models).
        graph: its computational graph.
        clean: token ids [B, P] the circuit is evaluated on.
        corrupted: token ids [B, P] whose activations replace ablated edges
            (resample ablation).
    """

    def __init__(self, model, graph: ComputationalGraph, clean: torch.Tensor, corrupted: torch.Tensor) -> None:
        cfg = model.cfg
        if cfg.normalization_type is not None:
            raise ValueError("the patching engine needs a model without LayerNorm")
        if clean.shape != corrupted.shape:
            raise ValueError(f"clean {tuple(clean.shape)} and corrupted {tuple(corrupted.shape)} data differ in shape")
        self.model, self.graph = model, graph
        self.clean, self.corrupted = clean, corrupted
        self.n_layers, self.n_heads = cfg.n_layers, cfg.n_heads
        self.causal = cfg.attention_dir == "causal"
        self.scale = cfg.attn_scale if cfg.use_attn_scale else 1.0
        self.has_mlps = graph.has_mlps
        self.S, self.R = len(graph.senders), len(graph.receivers)
        # valid[r, s]: sender s is upstream of receiver r.
        self.valid = torch.zeros(self.R, self.S)
        for s_name, r_name in graph.edges:
            self.valid[graph.receiver_index[r_name], graph.sender_index[s_name]] = 1.0
        self.edge_r = torch.tensor([graph.receiver_index[r] for _, r in graph.edges])
        self.edge_s = torch.tensor([graph.sender_index[s] for s, _ in graph.edges])
        # Index ranges: receivers of layer l are q[0:H], k[H:2H], v[2H:3H], then mlp.
        per_layer_r = 3 * self.n_heads + int(self.has_mlps)
        self.r_start = [l * per_layer_r for l in range(self.n_layers + 1)]
        per_layer_s = self.n_heads + int(self.has_mlps)
        self.s_before_layer = [2 + l * per_layer_s for l in range(self.n_layers + 1)]
        # Attention output biases are not senders: they sit in every later residual stream,
        # so each receiver's input carries the sum of the biases before it.
        layer_bias = [torch.zeros(cfg.d_model)]
        for block in model.blocks:
            layer_bias.append(layer_bias[-1] + block.attn.b_O)
        self._receiver_bias = torch.stack(
            [layer_bias[r.layer + (r.kind == "mlp")] for r in graph.receivers]
        ).detach()[:, None, None, :]  # [R, 1, 1, D]
        self._cache: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    @cached_property
    def clean_out(self) -> torch.Tensor:
        """Every sender's output on the clean data: [S, B, P, D]."""
        with torch.no_grad():
            return self.sender_outputs(self.clean)

    @cached_property
    def corrupted_out(self) -> torch.Tensor:
        """Every sender's output on the corrupted data: [S, B, P, D]."""
        with torch.no_grad():
            return self.sender_outputs(self.corrupted)

    # --- masks -------------------------------------------------------------------------

    def edge_mask(self, kept: torch.Tensor) -> torch.Tensor:
        """Dense masks [C, R, S] from per-edge values [C, E] (graph.edges order)."""
        kept = kept.to(self.valid.dtype) if kept.dtype == torch.bool else kept
        dense = torch.zeros(kept.shape[0], self.R, self.S, dtype=kept.dtype)
        dense[:, self.edge_r, self.edge_s] = kept
        return dense

    def node_mask(self, kept_nodes: torch.Tensor) -> torch.Tensor:
        """Dense masks [C, R, S] from per-node values [C, N] (graph.nodes order):
        an ablated node has every outgoing edge ablated."""
        C = kept_nodes.shape[0]
        per_sender = torch.ones(C, self.S, dtype=kept_nodes.dtype if kept_nodes.is_floating_point() else torch.float)
        idx = torch.tensor([self.graph.sender_index[n] for n in self.graph.nodes])
        per_sender = per_sender.index_copy(1, idx, kept_nodes.to(per_sender.dtype))
        return per_sender[:, None, :].expand(C, self.R, self.S) * self.valid

    # --- forward passes ----------------------------------------------------------------

    def ablated_outputs(self, ablation: Ablation) -> torch.Tensor:
        """Sender outputs used on ablated edges: [S, B, P, D] (or broadcastable)."""
        if ablation == "resample":
            return self.corrupted_out
        if ablation == "mean":
            return self.clean_out.mean(dim=1, keepdim=True)  # per position, over the data
        if ablation == "zero":
            return torch.zeros_like(self.clean_out[:, :1])
        if ablation == "zero-except-embed":
            # The token embedding is mean-ablated: BOS and the constant `one` direction,
            # which every head reads and no ground truth counts, stay where they are.
            ablated = torch.zeros_like(self.clean_out.mean(dim=1, keepdim=True))
            ablated[0] = self.clean_out[0].mean(dim=0, keepdim=True)
            return ablated
        raise ValueError(f"unknown ablation {ablation!r}; choose from {', '.join(ABLATIONS)}")

    def sender_outputs(self, tokens: torch.Tensor) -> torch.Tensor:
        """Outputs of every sender in an unpatched forward pass: [S, B, P, D]."""
        embed, pos = self.embeddings(tokens)
        state = _Pass(self.valid[None], self._receiver_bias, [embed[None], pos[None]])
        return torch.stack([o[0] for o in self._layers(state, 0).outputs])

    def embeddings(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        m = self.model
        embed = m.embed.W_E[tokens]  # [B, P, D]
        pos = m.pos_embed.W_pos[: tokens.shape[1]].expand_as(embed)
        return embed, pos

    def run(self, mask: torch.Tensor, ablation: Ablation = "resample", memory_mb: int = 512) -> torch.Tensor:
        """Logits [C, B, P, V] of the model with edges ablated where ``mask`` is 0.

        ``mask`` is dense [C, R, S] (``edge_mask``/``node_mask``) with values in [0, 1];
        fractional values interpolate (subnetwork probing learns them). Differentiable
        in the mask only, when it requires grad; otherwise identical circuits are
        evaluated once and the batch is split so that no activation tensor exceeds
        ``memory_mb``.
        """
        if mask.requires_grad:
            return self._run(mask, ablation)
        with torch.no_grad():
            return self._run_batched(mask, ablation, memory_mb)

    def _run_batched(self, mask: torch.Tensor, ablation: Ablation, memory_mb: int) -> torch.Tensor:
        unique, inverse = torch.unique(mask.flatten(1), dim=0, return_inverse=True)
        unique = unique.view(-1, *mask.shape[1:])
        # Circuits that first differ from the full model at the same layer run together,
        # each group starting there (a ROC sweep's large circuits only change late layers).
        starts = self._first_changed_layers(unique)
        per_circuit = self.clean_out.shape[1:].numel() * 4 * max(self.S, 3 * self.n_heads)
        chunk = max(1, (memory_mb << 20) // per_circuit)
        logits = None
        for start in starts.unique().tolist():
            members = (starts == start).nonzero().flatten()
            for i in range(0, len(members), chunk):
                part = members[i : i + chunk]
                out = self._run(unique[part], ablation)
                if logits is None:
                    logits = out.new_empty(len(unique), *out.shape[1:])
                logits[part] = out
        return logits[inverse]

    def _first_changed_layers(self, mask: torch.Tensor) -> torch.Tensor:
        """Per circuit, the first layer with an ablated edge into it (n_layers if none)."""
        layers = torch.tensor([r.layer for r in self.graph.receivers])
        changed = ((mask < 1) & (self.valid > 0)).any(dim=2)  # [C, R]
        first = torch.where(changed, layers, torch.full_like(layers, self.n_layers)).min(dim=1).values
        return first.clamp(max=self.n_layers)

    def _run(self, mask: torch.Tensor, ablation: Ablation) -> torch.Tensor:
        base, clean_delta = self._ablation(ablation)
        start = 0 if mask.requires_grad else int(self._first_changed_layers(mask.detach()).min())
        # Senders before `start` see only kept edges upstream: their outputs are clean,
        # the same for every circuit, and cached.
        prefix = self.s_before_layer[start] if start < self.n_layers else self.S
        state = _Pass(mask * self.valid, base, [], clean_delta[:prefix], self.ablated_outputs(ablation))
        if not torch.is_grad_enabled():
            state.allocate(self.S - prefix, mask.shape[0], clean_delta.shape[1:])
        return self._unembed(self._layers(state, start))

    def receiver_gradients(
        self, target, embed: torch.Tensor, pos: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Gradient of ``target(logits)`` (a scalar) at every receiver's input, in an
        unpatched pass from the given embeddings.

        Returns (logits [B, P, V], grads [R, B, P, D], sender outputs [S, B, P, D]).
        """
        embed = embed.detach().requires_grad_(True)  # so the pass is recorded even for frozen weights
        state = _Pass(self.valid[None], self._receiver_bias, [embed[None], pos[None]], record=[])
        logits = self._unembed(self._layers(state, 0))[0]
        grads = torch.autograd.grad(target(logits), state.record)  # receiver inputs [1, n, B, P, D]
        outputs = torch.stack([o[0] for o in state.outputs]).detach()
        return logits.detach(), torch.cat(grads, dim=1)[0], outputs

    # --- internals ---------------------------------------------------------------------

    def _ablation(self, ablation: Ablation) -> tuple[torch.Tensor, torch.Tensor]:
        """Per ablation, cached: every receiver's input when all its edges are ablated
        [R, B|1, P, D], and each sender's clean-minus-ablated output [S, B, P, D]."""
        if ablation not in self._cache:
            ablated = self.ablated_outputs(ablation)
            base = torch.einsum("rs,sbpd->rbpd", self.valid, ablated) + self._receiver_bias
            self._cache[ablation] = (base, self.clean_out - ablated)
        return self._cache[ablation]

    def _inputs(self, state: "_Pass", r0: int, r1: int) -> torch.Tensor:
        """Inputs of receivers r0..r1 from the senders so far: [C, r1-r0, B, P, D]."""
        n0 = state.shared_delta.shape[0]
        x = state.base[r0:r1]
        if n0:
            shared = state.shared_delta
            mixed = state.mask[:, r0:r1, :n0].reshape(-1, n0) @ shared.reshape(n0, -1)  # [C*r, B*P*D]
            x = x + mixed.view(-1, r1 - r0, *shared.shape[1:])
        if state.outputs:
            delta = state.new_deltas()  # [C, n - n0, B, P, D]
            n = n0 + delta.shape[1]
            C, k = delta.shape[:2]
            mixed = torch.bmm(state.mask[:, r0:r1, n0:n], delta.reshape(C, k, -1))  # [C, r, B*P*D]
            x = x + mixed.view(C, r1 - r0, *delta.shape[2:])
        return x

    def _layers(self, state: "_Pass", start: int) -> "_Pass":
        """Run layers start..end, appending each sender's output [C, B, P, D] to the pass."""
        m, H = self.model, self.n_heads
        for layer in range(start, self.n_layers):
            block = m.blocks[layer]
            r0 = self.r_start[layer]
            qkv = self._inputs(state, r0, r0 + 3 * H)  # [C, 3H, B, P, D]
            state.note(qkv)
            state.add_outputs(self._attention(block.attn, qkv))
            if self.has_mlps:
                x = self._inputs(state, r0 + 3 * H, r0 + 3 * H + 1)  # [C, 1, B, P, D]
                state.note(x)
                mlp = block.mlp
                state.add_outputs([mlp.act_fn(x[:, 0] @ mlp.W_in + mlp.b_in) @ mlp.W_out + mlp.b_out])
        return state

    def _attention(self, attn, qkv: torch.Tensor) -> list[torch.Tensor]:
        """Per-head outputs, H tensors [C, B, P, D], from q/k/v inputs [C, 3H, B, P, D].

        Heads go first so that every product is one batched matmul over heads.
        """
        C, H3, B, P, D = qkv.shape
        H = H3 // 3
        x = qkv.transpose(0, 1).reshape(H3, C * B * P, D)
        w = torch.cat([attn.W_Q, attn.W_K, attn.W_V])  # [3H, D, E]
        b = torch.cat([attn.b_Q, attn.b_K, attn.b_V])[:, None, :]  # [3H, 1, E]
        q, k, v = (torch.baddbmm(b, x, w).view(H3, C * B, P, -1)).split(H)  # each [H, CB, P, E]
        scores = q @ k.transpose(-1, -2) / self.scale  # [H, CB, P, P]
        if self.causal:
            future = torch.triu(torch.ones(P, P, dtype=torch.bool), diagonal=1)
            scores = scores.masked_fill(future, float("-inf"))
        z = scores.softmax(-1) @ v  # [H, CB, P, E]
        out = torch.bmm(z.reshape(H, C * B * P, -1), attn.W_O)  # [H, CBP, D]
        return list(out.view(H, C, B, P, D).unbind(0))

    def _unembed(self, state: "_Pass") -> torch.Tensor:
        r = self.R - 1
        x = self._inputs(state, r, r + 1)  # [C, 1, B, P, D]
        state.note(x)
        return x[:, 0] @ self.model.unembed.W_U + self.model.unembed.b_U


class _Pass:
    """The state of one forward pass: masks, what ablated edges carry, sender outputs.

    ``base`` is every receiver's input with all its edges ablated (biases included).
    ``shared_delta`` holds clean-minus-ablated outputs of the senders before the first
    changed layer (the same for every circuit, never copied per circuit). Senders
    computed in this pass keep per-circuit outputs [C, B, P, D]; without gradients
    their deltas go into one preallocated buffer instead of being re-stacked.
    """

    def __init__(self, mask, base, outputs, shared_delta=None, ablated=None, record=None):
        self.mask, self.base = mask, base
        self.outputs: list[torch.Tensor] = []
        self.shared_delta = shared_delta if shared_delta is not None else base.new_zeros(0, 1, 1, 1)
        self.ablated = ablated if ablated is not None else base.new_zeros(mask.shape[-1], 1, 1, 1)
        self.record = record
        self.buffer: torch.Tensor | None = None
        self.add_outputs(outputs)

    def allocate(self, n_senders: int, n_circuits: int, shape: torch.Size) -> None:
        self.buffer = torch.empty(n_circuits, n_senders, *shape)

    def add_outputs(self, outputs) -> None:
        n0 = self.shared_delta.shape[0]
        for out in outputs:
            if self.buffer is not None:
                s = n0 + len(self.outputs)
                torch.sub(out, self.ablated[s], out=self.buffer[:, len(self.outputs)])
            self.outputs.append(out)

    def new_deltas(self) -> torch.Tensor:
        """Clean-or-patched minus ablated outputs of this pass's senders: [C, n, B, P, D]."""
        n = len(self.outputs)
        if self.buffer is not None:
            return self.buffer[:, :n]
        n0 = self.shared_delta.shape[0]
        return torch.stack(self.outputs, dim=1) - self.ablated[n0 : n0 + n]

    def note(self, receiver_inputs: torch.Tensor) -> None:
        if self.record is not None:
            self.record.append(receiver_inputs)
