"""``PatchingEngine``: the model's forward pass over an explicit edge graph (see the package docstring)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property, partial
from typing import Literal

import torch

from interpbench.engine.passes import Pass, ResidualPass, SenderPass, SharedPass
from interpbench.engine.shared_qkv import Deferred, SharedQKV, project
from interpbench.graph import ComputationalGraph

Ablation = Literal["resample", "mean", "zero", "zero-except-embed"]
ABLATIONS: tuple[str, ...] = ("resample", "mean", "zero", "zero-except-embed")


def _unsupported(cfg) -> list[str]:
    """What in a TransformerLens config the engine would compute differently from the model:
    refused in one line rather than scored wrong."""
    checks = {
        f"normalization {cfg.normalization_type!r}": cfg.normalization_type
        not in (None, "LN", "LNPre", "RMS", "RMSPre"),
        f"{cfg.positional_embedding_type} positional embeddings": cfg.positional_embedding_type
        not in ("standard", "rotary"),
        "local attention": bool(getattr(cfg, "window_size", None))
        or "local" in (getattr(cfg, "attn_types", None) or []),
        "grouped-query attention": (getattr(cfg, "n_key_value_heads", None) or cfg.n_heads) != cfg.n_heads,
        "soft-capped attention scores or logits": bool(getattr(cfg, "attn_scores_soft_cap", -1) > 0)
        or bool(getattr(cfg, "output_logits_soft_cap", -1) > 0),
        f"activation {cfg.act_fn!r} (a LayerNorm inside the MLP)": cfg.act_fn == "solu_ln",
        "query/key normalization": bool(getattr(cfg, "use_qk_norm", False)),
        "normalization after attention and MLP": bool(getattr(cfg, "use_normalization_before_and_after", False)),
        "attention scaled by layer index": bool(getattr(cfg, "scale_attn_by_inverse_layer_idx", False)),
    }
    return [what for what, present in checks.items() if present]


class PatchingEngine:
    """Evaluate a HookedTransformer with any set of edges ablated.

    Args:
        model: a HookedTransformer with learned or rotary positions, attention before
            the MLP, and any of TransformerLens's normalizations (none for tracr and SIIT
            models; LayerNorm for GPT-2-like ones); what it cannot compute as the model
            does is refused (``_unsupported``). A receiver's input is the residual
            stream before its LayerNorm, which is recomputed from the patched input, as
            TransformerLens's ``hook_q_input``/``hook_mlp_in`` and auto-circuit patch it.
        graph: its computational graph; with ``positions`` (the data's), edges are per
            token position and masks may be [C, R, S, P].
        clean: token ids [B, P] the circuit is evaluated on.
        corrupted: token ids [B, P] whose activations replace ablated edges
            (resample ablation).
        clean_mean: every sender's mean clean output per position [S, 1, P, D] that mean
            ablation (and ``zero-except-embed``'s token embedding) carries; by default the
            mean over ``clean``. A minibatch's engine takes the whole data's, so that its
            ablated edges carry what they carry in the full-batch run.
    """

    def __init__(
        self,
        model,
        graph: ComputationalGraph,
        clean: torch.Tensor,
        corrupted: torch.Tensor,
        clean_mean: torch.Tensor | None = None,
    ) -> None:
        cfg = model.cfg
        unsupported = _unsupported(cfg)
        if unsupported:
            raise ValueError(f"the patching engine does not support {', '.join(unsupported)}")
        self.normalized = cfg.normalization_type is not None
        self.rotary = cfg.positional_embedding_type == "rotary"
        if clean.shape != corrupted.shape:
            raise ValueError(f"clean {tuple(clean.shape)} and corrupted {tuple(corrupted.shape)} data differ in shape")
        if graph.positions is not None and graph.positions != clean.shape[1]:
            raise ValueError(f"the graph has {graph.positions} positions, the data {clean.shape[1]}")
        if graph.parallel != cfg.parallel_attn_mlp:
            raise ValueError(
                "the graph's parallel attention and MLP must be the model's (ComputationalGraph parallel=)"
            )
        self.model, self.graph = model, graph
        self.clean, self.corrupted = clean, corrupted
        self.n_layers, self.n_heads = cfg.n_layers, cfg.n_heads
        self.causal = cfg.attention_dir == "causal"
        self.scale = cfg.attn_scale if cfg.use_attn_scale else 1.0
        self.has_mlps = graph.has_mlps
        self.S, self.R = len(graph.senders), len(graph.receivers)
        # valid[r, s]: sender s is upstream of receiver r.
        pair_r = torch.tensor([graph.receiver_index[r] for _, r in graph.pairs])
        pair_s = torch.tensor([graph.sender_index[s] for s, _ in graph.pairs])
        self.valid = torch.zeros(self.R, self.S)
        self.valid[pair_r, pair_s] = 1.0
        # Each edge of graph.edges as (receiver, sender[, position]) indices.
        self.positions = graph.positions
        per_pair = self.positions or 1
        self.edge_r, self.edge_s = pair_r.repeat_interleave(per_pair), pair_s.repeat_interleave(per_pair)
        self.edge_p = torch.arange(per_pair).repeat(len(graph.pairs))
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
            [layer_bias[r.layer + (r.kind == "mlp" and not graph.parallel)] for r in graph.receivers]
        ).detach()[:, None, None, :]  # [R, 1, 1, D]
        if clean_mean is not None:
            self.__dict__["clean_mean"] = clean_mean.detach()
        self._cache: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        self.node_evaluations = 0  # node activations the last no-grad ``run`` computed
        self._buffer: torch.Tensor | None = None  # see _store
        self._buffer_ablation: str | None = None

    @cached_property
    def clean_out(self) -> torch.Tensor:
        """Every sender's output on the clean data: [S, B, P, D]."""
        with torch.no_grad():
            return self.sender_outputs(self.clean)

    def adopt_clean_outputs(self, outputs: torch.Tensor) -> None:
        """Take the sender outputs of a pass that a caller already ran from the clean
        inputs (``receiver_gradients`` from the clean embeddings) as ``clean_out``, unless
        it is known already: one forward pass fewer."""
        if "clean_out" not in self.__dict__:
            self.__dict__["clean_out"] = outputs.detach()

    @cached_property
    def clean_mean(self) -> torch.Tensor:
        """Every sender's mean clean output per position, over the data: [S, 1, P, D]."""
        return self.clean_out.mean(dim=1, keepdim=True)

    @cached_property
    def corrupted_out(self) -> torch.Tensor:
        """Every sender's output on the corrupted data: [S, B, P, D]."""
        with torch.no_grad():
            return self.sender_outputs(self.corrupted)

    # --- masks -------------------------------------------------------------------------

    def edge_mask(self, kept: torch.Tensor) -> torch.Tensor:
        """Dense masks [C, R, S] from per-edge values [C, E] (graph.edges order); [C, R, S, P]
        when the graph's edges are per position."""
        kept = kept.to(self.valid.dtype) if kept.dtype == torch.bool else kept
        if self.positions is None:
            dense = torch.zeros(kept.shape[0], self.R, self.S, dtype=kept.dtype)
            dense[:, self.edge_r, self.edge_s] = kept
        else:
            dense = torch.zeros(kept.shape[0], self.R, self.S, self.positions, dtype=kept.dtype)
            dense[:, self.edge_r, self.edge_s, self.edge_p] = kept
        return dense

    def per_edge(self, values: torch.Tensor) -> torch.Tensor:
        """Per-edge values [E, ...] (graph.edges order) from values per receiver and sender
        [R, S, ...], or per receiver, sender and position [R, S, P, ...] when the graph's
        edges are per position."""
        if self.positions is None:
            return values[self.edge_r, self.edge_s]
        return values[self.edge_r, self.edge_s, self.edge_p]

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
            return self.clean_mean  # per position, over the data
        if ablation == "zero":
            return torch.zeros_like(self.clean_out[:, :1])
        if ablation == "zero-except-embed":
            # The token embedding is mean-ablated: BOS and the constant `one` direction,
            # which every head reads and no ground truth counts, stay where they are.
            ablated = torch.zeros_like(self.clean_mean)
            ablated[0] = self.clean_mean[0]
            return ablated
        raise ValueError(f"unknown ablation {ablation!r}; choose from {', '.join(ABLATIONS)}")

    def sender_outputs(self, tokens: torch.Tensor) -> torch.Tensor:
        """Outputs of every sender in an unpatched forward pass: [S, B, P, D]."""
        embed, pos = self.embeddings(tokens)
        state = ResidualPass(self._receiver_bias, [embed[None], pos[None]])
        return torch.stack([o[0] for o in self._layers(state).outputs])

    def clean_receiver_input(self, r: int) -> torch.Tensor:
        """Receiver r's input [B, P, D] on the clean run: its senders' outputs and the biases."""
        return torch.einsum("s,sbpd->bpd", self.valid[r], self.clean_out) + self._receiver_bias[r]

    def embeddings(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        m = self.model
        embed = m.embed.W_E[tokens]  # [B, P, D]
        if self.rotary:  # positions enter each head's queries and keys, not the residual stream
            return embed, torch.zeros_like(embed)
        pos = m.pos_embed.W_pos[: tokens.shape[1]].expand_as(embed)
        return embed, pos

    def run(
        self,
        mask: torch.Tensor,
        ablation: Ablation = "resample",
        memory_mb: int = 512,
        reduce: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Logits [C, B, P, V] of the model with edges ablated where ``mask`` is 0.

        ``mask`` is dense [C, R, S] (``edge_mask``/``node_mask``) with values in [0, 1],
        or [C, R, S, P], one value per token position; fractional values interpolate
        (subnetwork probing learns them). Differentiable in the mask only, when it requires
        grad; otherwise every distinct node activation is computed once for all circuits
        (``_run_shared``), in chunks of circuits small enough that no activation store
        exceeds ``memory_mb``.

        ``reduce`` (a metric: logits [k, B, P, V] -> [k, ...]) is applied to the logits of
        a few circuits at a time, and its values are returned instead: the logits of all
        circuits are never held at once (at GPT-2's vocabulary, 100 MB per circuit).
        """
        reduce = reduce or (lambda logits: logits)
        if mask.requires_grad:
            return reduce(self._run_differentiable(mask, ablation))
        if not len(mask):
            B, P = self.clean.shape
            return reduce(torch.empty(0, B, P, self.model.cfg.d_vocab_out))
        with torch.no_grad():
            unique, inverse = torch.unique(mask.flatten(1), dim=0, return_inverse=True)
            unique = unique.view(-1, *mask.shape[1:])
            per_circuit = self.clean_out.shape[1:].numel() * 4 * self.S  # at most a new delta per sender
            chunk = max(1, (memory_mb << 20) // per_circuit)
            self.node_evaluations = 0
            # torch.unique sorts the circuits, so a chunk holds similar ones (more sharing).
            out = torch.cat(
                [self._run_shared(unique[i : i + chunk], ablation, reduce) for i in range(0, len(unique), chunk)]
            )
            return out[inverse]

    def run_nodes(self, kept_nodes: torch.Tensor, ablation: Ablation = "resample") -> torch.Tensor:
        """Logits [C, B, P, V] with node n's outputs ablated where ``kept_nodes[:, n]`` is 0
        (``graph.nodes`` order; fractional values interpolate): the same as
        ``run(node_mask(kept_nodes))``, differentiable in ``kept_nodes`` when it requires
        grad, at about the cost of a plain forward pass (node-level subnetwork probing)."""
        C = kept_nodes.shape[0]
        weights = torch.ones(C, self.S, dtype=kept_nodes.dtype if kept_nodes.is_floating_point() else torch.float)
        idx = torch.tensor([self.graph.sender_index[n] for n in self.graph.nodes])
        weights = weights.index_copy(1, idx, kept_nodes.to(weights.dtype))
        base, _ = self._ablation(ablation)
        embeddings = [out[None].expand(C, *out.shape) for out in self.clean_out[:2]]
        with torch.set_grad_enabled(kept_nodes.requires_grad):
            return self._unembed(self._layers(SenderPass(weights, base, embeddings, self.ablated_outputs(ablation))))

    def _run_differentiable(self, mask: torch.Tensor, ablation: Ablation) -> torch.Tensor:
        base, _ = self._ablation(ablation)
        embeddings = [out[None].expand(len(mask), *out.shape) for out in self.clean_out[:2]]
        return self._unembed(self._layers(Pass(self._on_graph(mask), base, embeddings, self.ablated_outputs(ablation))))

    def _on_graph(self, mask: torch.Tensor) -> torch.Tensor:
        """``mask`` [C, R, S] or [C, R, S, P] with the pairs the graph lacks zeroed."""
        return mask * self.valid.view(*self.valid.shape, *[1] * (mask.dim() - 3))

    def _run_shared(
        self, mask: torch.Tensor, ablation: Ablation, reduce: Callable[[torch.Tensor], torch.Tensor]
    ) -> torch.Tensor:
        """``reduce`` of the logits [C, B, P, V] of C circuits, computing each distinct
        activation once.

        A node's output in a circuit is fixed by its input edges' mask values and by
        which version of each kept sender's output those edges carry. Versions are rows
        of one store of deltas (output minus ablated output): row s is sender s's clean
        delta, and ``row[c, s]`` is the version circuit c sees. Per node, the circuits
        are grouped by that input signature and each group is computed once; a node left
        clean by every circuit costs nothing, and so does one whose output no kept path
        carries to the logits. The circuits of a threshold sweep differ in few edges, so
        most of their activations are shared.
        """
        mask = self._on_graph(mask)
        C, H = mask.shape[0], self.n_heads
        needed = self._needed_receivers((mask != 0).view(*mask.shape[:3], -1).any(-1))  # at any position
        store = self._store(ablation, self.R + self.S + C * (self.S - 2))  # embeddings are never recomputed
        state = SharedPass(mask, self.valid, store, self.ablated_outputs(ablation))
        for layer, block in enumerate(self.model.blocks):
            r0, s0 = self.r_start[layer], self.s_before_layer[layer]
            heads = torch.arange(H)
            qkv = torch.stack([r0 + heads, r0 + H + heads, r0 + 2 * H + heads], dim=1)  # [H, 3]
            state.compute(needed, qkv, s0 + heads, lambda x, nodes: self._attention(layer, x, nodes))
            if self.has_mlps:
                mlp_in, mlp_out = torch.tensor([[r0 + 3 * H]]), torch.tensor([s0 + H])
                state.compute(needed, mlp_in, mlp_out, lambda x, _: self._mlp(block, x[:, 0]))
        out = torch.tensor([[self.R - 1]])
        circuits, _ = state.distinct(needed, out, None)
        values = [
            reduce(self._logits(state.inputs(c, out.expand(len(c), 1))[:, 0])) for c in circuits.split(state.chunk)
        ]
        self.node_evaluations += state.n_rows - self.R - self.S
        return torch.cat(values)[state.inverse]

    def _store(self, ablation: Ablation, n_rows: int) -> torch.Tensor:
        """Rows [n_rows, B, P, D] for ``SharedPass``, the first R + S holding this
        ablation's all-ablated receiver inputs and clean deltas. One buffer is kept and
        reused: touching fresh pages costs more than much of the arithmetic on them."""
        if self._buffer is None or len(self._buffer) < n_rows:
            self._buffer = self.clean_out.new_empty(n_rows, *self.clean_out.shape[1:])
            self._buffer_ablation = None
        if self._buffer_ablation != ablation:
            base, clean_delta = self._ablation(ablation)
            self._buffer[: self.R] = base
            self._buffer[self.R : self.R + self.S] = clean_delta
            self._buffer_ablation = ablation
        return self._buffer[:n_rows]

    def _needed_receivers(self, kept: torch.Tensor) -> torch.Tensor:
        """[C, R]: receivers whose input reaches the logits along kept edges."""
        H = self.n_heads
        needed = torch.zeros(kept.shape[0], self.R, dtype=torch.bool)
        needed[:, -1] = True
        for layer in reversed(range(self.n_layers)):
            r0, s0 = self.r_start[layer], self.s_before_layer[layer]
            if self.has_mlps:
                needed[:, r0 + 3 * H] = (kept[:, :, s0 + H] & needed).any(1)
            heads = (kept[:, :, s0 : s0 + H] & needed[:, :, None]).any(1)  # [C, H]
            needed[:, r0 : r0 + 3 * H] = heads.repeat(1, 3)
        return needed

    def receiver_gradients(
        self, target, embed: torch.Tensor, pos: torch.Tensor, fixed: dict[int, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Gradient of ``target(logits)`` (a scalar) at every receiver's input, in an
        unpatched pass from the given embeddings.

        ``fixed`` maps senders (``graph.sender_index``, heads and MLPs) to outputs
        [B, P, D] that replace what they compute in this pass, held constant, as a
        TransformerLens hook that returns a new tensor at ``hook_result`` or
        ``hook_mlp_out`` does: later receivers read the replacement, and no gradient
        reaches the sender's own inputs through it (theirs is zero unless another
        path uses them). EAP-IG over activations interpolates a node's output so.
        The embeddings are the ``embed`` and ``pos`` arguments.

        Returns (logits [B, P, V], grads [R, B, P, D], sender outputs [S, B, P, D]).
        """
        B, P, D = embed.shape
        # Laid out example-major ([B, R, P, D], returned as an [R, B, P, D] view), so that
        # contracting it with sender outputs per example is a plain batched matmul. The
        # inputs of a fixed node reach the target by no path: their gradient stays zero.
        grads = embed.new_zeros(B, self.R, P, D)

        def store(r0: int, grad: torch.Tensor) -> None:  # (a hook that returned a tensor would replace the gradient)
            grads[:, r0 : r0 + grad.shape[1]].copy_(grad[0].transpose(0, 1))

        logits, outputs = self._gradient_pass(target, embed, pos, fixed, lambda outputs: store)
        return logits, grads.transpose(0, 1), outputs

    def attribution_pass(
        self, target, embed: torch.Tensor, pos: torch.Tensor, delta
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``edge_attributions`` of this pass's receiver gradients, contracted as backward
        reaches each receiver group instead of kept: no [R, B, P, D] gradient buffer
        (700 MB at GPT-2-small size, 32 x 16 tokens, and the page faults to fill it).

        ``delta`` is the sender output changes [S, B, P, D], or a function that makes them
        from this pass's sender outputs (EAP's clean pass supplies its own clean outputs).

        Returns (logits [B, P, V], attributions [R, S, B] ([R, S, P, B] per position),
        sender outputs [S, B, P, D]).
        """
        out = self._attributions_buffer(embed, embed.shape[0], embed.shape[1])

        def contract(outputs):
            d = (delta(outputs) if callable(delta) else delta).transpose(0, 1)  # [B, S, P, D]
            return lambda r0, grad: self._contract(out, grad[0].transpose(0, 1), d, r0)

        logits, outputs = self._gradient_pass(target, embed, pos, None, contract)
        return logits, self._attributions_layout(out), outputs

    def _gradient_pass(self, target, embed, pos, fixed, make_sink) -> tuple[torch.Tensor, torch.Tensor]:
        """An unpatched pass and the backward of ``target(logits)``; ``make_sink(outputs)``,
        called between the two with the pass's sender outputs [S, B, P, D], returns the
        function that receives each receiver group's gradient as ``(r0, grad [1, n, B, P, D])``.
        Returns (logits, sender outputs), detached."""
        if fixed and min(fixed) < 2:
            raise ValueError("the embeddings are not fixed outputs: pass them as embed and pos")
        embed = embed.detach().requires_grad_(True)  # so the pass is recorded even for frozen weights
        replaced = {s: out.detach()[None] for s, out in (fixed or {}).items()}
        state = ResidualPass(self._receiver_bias, [embed[None], pos[None]], record=[], fixed=replaced)
        logits = self._unembed(self._layers(state))[0]
        outputs = torch.stack([o[0] for o in state.outputs]).detach()
        # Each receiver group's gradient goes to the sink as backward reaches it, rather
        # than returned by autograd and concatenated (twice the memory at GPT-2 size).
        sink = make_sink(outputs)
        r = 0
        for inputs in state.record:  # [1, n, B, P, D], in receiver order
            inputs.register_hook(partial(sink, r))
            r += inputs.shape[1]
        state.record = None
        torch.autograd.grad(target(logits), embed, allow_unused=True)
        return logits.detach(), outputs

    def edge_attributions(self, grads: torch.Tensor, delta: torch.Tensor) -> torch.Tensor:
        """Per receiver, sender and example, ``sum over p, d of grads[r, b] * delta[s, b]``:
        [R, S, B] from receiver gradients [R, B, P, D] and sender output changes
        [S, B, P, D], zero where s does not feed r; summed over d only, [R, S, P, B], when
        the graph's edges are per position. One batched matmul per block of receivers
        that read the same senders, so only the graph's pairs are computed (about half of
        R x S)."""
        B, P = delta.shape[1:3]
        out = self._attributions_buffer(grads, B, P)
        # Views of receiver_gradients' example-major layout: [B, R, P, D], [B, S, P, D].
        self._contract(out, grads.transpose(0, 1), delta.transpose(0, 1), 0)
        return self._attributions_layout(out)

    def _attributions_buffer(self, like: torch.Tensor, B: int, P: int) -> torch.Tensor:
        return like.new_zeros((B, self.R, self.S) if self.positions is None else (B, P, self.R, self.S))

    def _attributions_layout(self, out: torch.Tensor) -> torch.Tensor:
        """[R, S, B] (or [R, S, P, B]) views of the example-major buffers ``_contract`` fills."""
        return out.permute(1, 2, 0) if self.positions is None else out.permute(2, 3, 1, 0)

    def _contract(self, out: torch.Tensor, g: torch.Tensor, d: torch.Tensor, r0: int) -> None:
        """Attributions of receivers r0.. (gradients ``g`` [B, n, P, D]) to the senders before
        them (output changes ``d`` [B, S, P, D]) into ``out`` ([B, R, S], or [B, P, R, S] per position)."""
        r1 = r0 + g.shape[1]
        positional = self.positions is not None
        if positional:
            g, d = g.transpose(1, 2), d.transpose(1, 2)  # [B, P, n, D], [B, P, S, D]
        else:
            g, d = g.flatten(2), d.flatten(2)  # [B, n, P*D], [B, S, P*D]
        for b0, b1, n_up in self._receiver_blocks:  # (a parallel block's MLP shares its heads' block)
            lo, hi = max(b0, r0), min(b1, r1)
            if lo >= hi:
                continue
            if positional:
                out[:, :, lo:hi, :n_up] = g[:, :, lo - r0 : hi - r0] @ d[:, :, :n_up].transpose(-1, -2)
            else:
                torch.bmm(g[:, lo - r0 : hi - r0], d[:, :n_up].transpose(1, 2), out=out[:, lo:hi, :n_up])

    @cached_property
    def _receiver_blocks(self) -> list[tuple[int, int, int]]:
        """Runs of receivers (r0, r1) whose senders are the same first ``n_up`` senders."""
        n_up = [int(row.nonzero().max()) + 1 for row in self.valid]
        assert all(bool(row[:n].all()) for row, n in zip(self.valid, n_up)), "senders upstream form a prefix"
        blocks: list[tuple[int, int, int]] = []
        for r, n in enumerate(n_up):
            if blocks and blocks[-1][2] == n:
                blocks[-1] = (blocks[-1][0], r + 1, n)
            else:
                blocks.append((r, r + 1, n))
        return blocks

    # --- internals ---------------------------------------------------------------------

    def _ablation(self, ablation: Ablation) -> tuple[torch.Tensor, torch.Tensor]:
        """Per ablation, cached: every receiver's input when all its edges are ablated
        [R, B|1, P, D], and each sender's clean-minus-ablated output [S, B, P, D]."""
        if ablation not in self._cache:
            ablated = self.ablated_outputs(ablation)
            base = torch.einsum("rs,sbpd->rbpd", self.valid, ablated) + self._receiver_bias
            self._cache[ablation] = (base, self.clean_out - ablated)
        return self._cache[ablation]

    def _inputs(self, state: "Pass", r0: int, r1: int) -> torch.Tensor:
        """Inputs of receivers r0..r1 from the senders so far: [C, r1-r0, B, P, D]."""
        return state.inputs(r0, r1)

    def _layers(self, state: "Pass") -> "Pass":
        """Run every layer, appending each sender's output [C, B, P, D] to the pass."""
        H = self.n_heads
        for layer, block in enumerate(self.model.blocks):
            r0, s0 = self.r_start[layer], self.s_before_layer[layer]
            r_mlp = r0 + 3 * H
            # A parallel block's MLP reads the stream before its own layer's heads join it.
            early = self._inputs(state, r_mlp, r_mlp + 1) if self.has_mlps and self.graph.parallel else None
            if state.all_fixed(range(s0, s0 + H)):  # the pass replaces the whole layer's heads
                if state.record is not None:  # (their inputs' gradients: zero)
                    state.note(self._inputs(state, r0, r0 + 3 * H))
                state.add_outputs([state.fixed[s] for s in range(s0, s0 + H)])
            elif isinstance(state, ResidualPass) and state.record is None:
                # Unpatched, and no gradient wanted per receiver: every q/k/v input is the
                # one residual stream, normalized and projected once, as in the model.
                state.add_outputs(self._attention_shared(layer, state.residual(r0)).unbind(1))
            elif isinstance(state, ResidualPass):  # the same, each receiver's gradient from backward
                deferred = Deferred(3 * H)
                state.note(deferred)
                norm = block.ln1 if self.normalized else None
                w, b, _ = self._qkv_weights[layer]
                q, key, v = SharedQKV.apply(
                    state.residual(r0)[0], self.model.cfg.normalization_type, getattr(norm, "w", None),
                    getattr(norm, "b", None), getattr(norm, "eps", 0.0), w, b, deferred,
                )  # fmt: skip
                state.add_outputs(self._attend(layer, q, key, v, torch.arange(H))[:, None].unbind(0))
            else:
                qkv = self._inputs(state, r0, r0 + 3 * H)  # [C, 3H, B, P, D]: q, k, v receivers
                state.note(qkv)
                C, _, B, P, D = qkv.shape
                per_head = qkv.view(C, 3, H, B, P, D).transpose(1, 2).reshape(C * H, 3, B, P, D)
                out = self._attention(layer, per_head, torch.arange(H).repeat(C))
                state.add_outputs(out.view(C, H, B, P, D).unbind(1))
            if self.has_mlps:
                x = early if early is not None else self._inputs(state, r_mlp, r_mlp + 1)  # [C, 1, B, P, D]
                state.note(x)  # (after the heads' inputs: a pass records receivers in order)
                mlp = s0 + H
                state.add_outputs([state.fixed[mlp] if mlp in state.fixed else self._mlp(block, x[:, 0])])
        return state

    @cached_property
    def _qkv_weights(self) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        """Per layer, transposed: W_Q|W_K|W_V [3H, E, D], their biases [3H, E, 1], and
        W_O [H, D, E] (the engine's model is fixed)."""
        return [
            (
                torch.cat([a.W_Q, a.W_K, a.W_V]).transpose(1, 2).contiguous().detach(),
                torch.cat([a.b_Q, a.b_K, a.b_V])[:, :, None].detach(),
                a.W_O.transpose(1, 2).contiguous().detach(),
            )
            for a in (block.attn for block in self.model.blocks)
        ]

    def _attention(self, layer: int, qkv: torch.Tensor, heads: torch.Tensor) -> torch.Tensor:
        """Outputs [k, B, P, D] of heads [k] of a layer from their q/k/v inputs
        [k, 3, B, P, D], every product one batched matmul over the k items.

        Projections run transposed (W^T x^T: [E, D] @ [D, B*P]), which is several times
        faster than x @ W for the narrow heads of these models.
        """
        k, _, B, P, D = qkv.shape
        H = self.n_heads
        if self.normalized:  # each of q, k and v through the block's LayerNorm, as TransformerLens does
            qkv = self._normalize(self.model.blocks[layer].ln1, qkv)
        w, b, _ = self._qkv_weights[layer]
        which = torch.stack([heads, heads + H, heads + 2 * H], dim=1).flatten()  # [3k]
        projected = torch.baddbmm(b[which], w[which], qkv.reshape(3 * k, B * P, D).transpose(1, 2))  # [3k, E, B*P]
        q, key, v = projected.view(k, 3, -1, B, P).permute(1, 0, 3, 4, 2)  # each [k, B, P, E]
        return self._attend(layer, q, key, v, heads)

    def _attention_shared(self, layer: int, x: torch.Tensor) -> torch.Tensor:
        """Outputs [C, H, B, P, D] of every head of a layer that reads the residual stream
        x [C, B, P, D] on all of its q/k/v inputs: one normalization, one projection."""
        C, B, P, D = x.shape
        H = self.n_heads
        if self.normalized:
            x = self._normalize(self.model.blocks[layer].ln1, x)
        w, b, _ = self._qkv_weights[layer]
        q, key, v = project(x, w, b)
        return self._attend(layer, q, key, v, torch.arange(H).repeat(C)).view(C, H, B, P, D)

    def _attend(self, layer: int, q, key, v, heads: torch.Tensor) -> torch.Tensor:
        """Head outputs [k, B, P, D] from queries, keys and values [k, B, P, E] of heads [k]."""
        k, B, P, _ = q.shape
        _, _, w_out = self._qkv_weights[layer]
        if self.rotary:
            q, key = self._rotate(layer, q), self._rotate(layer, key)
        scores = q @ key.transpose(-1, -2) / self.scale  # [k, B, P, P]
        if self.causal:
            future = torch.triu(torch.ones(P, P, dtype=torch.bool), diagonal=1)
            scores = scores.masked_fill(future, float("-inf"))
        if torch.is_grad_enabled():
            pattern = scores.softmax(-1)  # its exact backward: zero through tracr's saturated patterns
        else:  # by hand: torch's softmax is several times slower over a handful of positions
            pattern = (scores - scores.amax(-1, keepdim=True)).exp_()
            pattern /= pattern.sum(-1, keepdim=True)
        z = pattern @ v  # [k, B, P, E]
        out = torch.bmm(w_out[heads], z.reshape(k, B * P, -1).transpose(1, 2))  # [k, D, B*P]
        return out.transpose(1, 2).view(k, B, P, -1)

    def _rotate(self, layer: int, x: torch.Tensor) -> torch.Tensor:
        """Rotary position embedding of queries or keys [k, B, P, E], with the layer's own
        sine and cosine tables, on the first ``rotary_dim`` dimensions: each pair (adjacent
        dimensions, or the two halves, as the model is configured) turned by its angle."""
        attn, cfg = self.model.blocks[layer].attn, self.model.cfg
        P, d = x.shape[-2], cfg.rotary_dim
        turned, kept = x[..., :d], x[..., d:]
        if cfg.rotary_adjacent_pairs:
            pairs = turned.unflatten(-1, (d // 2, 2))
            flipped = torch.stack([-pairs[..., 1], pairs[..., 0]], dim=-1).flatten(-2)
        else:
            flipped = torch.cat([-turned[..., d // 2 :], turned[..., : d // 2]], dim=-1)
        turned = turned * attn.rotary_cos[:P] + flipped * attn.rotary_sin[:P]
        return torch.cat([turned, kept], dim=-1) if kept.shape[-1] else turned

    def _normalize(self, norm, x: torch.Tensor) -> torch.Tensor:
        """TransformerLens's LayerNorm, LNPre, RMSNorm or RMSPre as one fused kernel (its
        own modules make five passes over ``x``; the same numbers to float rounding)."""
        weight = getattr(norm, "w", None)
        if self.model.cfg.normalization_type in ("LN", "LNPre"):
            return torch.nn.functional.layer_norm(x, x.shape[-1:], weight, getattr(norm, "b", None), norm.eps)
        return torch.nn.functional.rms_norm(x, x.shape[-1:], weight, norm.eps)

    def _mlp(self, block, x: torch.Tensor) -> torch.Tensor:
        mlp = block.mlp
        if self.normalized:
            x = self._normalize(block.ln2, x)
        rows = x.reshape(-1, x.shape[-1])  # one matmul with the bias fused, not a matmul and an add
        if self.model.cfg.gated_mlp:  # act(x W_gate) * (x W_in) + b_in, as TransformerLens's GatedMLP
            hidden = torch.addcmul(mlp.b_in, mlp.act_fn(rows @ mlp.W_gate), rows @ mlp.W_in)
        else:
            hidden = mlp.act_fn(torch.addmm(mlp.b_in, rows, mlp.W_in))
        return torch.addmm(mlp.b_out, hidden, mlp.W_out).view(x.shape)

    def _logits(self, x: torch.Tensor) -> torch.Tensor:
        if self.normalized:
            x = self._normalize(self.model.ln_final, x)
        unembed = self.model.unembed  # one fused matmul and bias: the logits are the largest tensor of a pass
        return torch.addmm(unembed.b_U, x.reshape(-1, x.shape[-1]), unembed.W_U).view(*x.shape[:-1], -1)

    def _unembed(self, state: "Pass") -> torch.Tensor:
        r = self.R - 1
        x = self._inputs(state, r, r + 1)  # [C, 1, B, P, D]
        state.note(x)
        return self._logits(x[:, 0])
