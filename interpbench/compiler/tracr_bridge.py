"""Compile a case with tracr and convert it into a TransformerLens HookedTransformer.

The compiler's passes are run one by one (as ``tracr.compiler.compiling`` does) so
that the craft model stays in hand: it says which residual directions each head and
MLP reads and writes, which is where the ground-truth circuit comes from
(``interpbench.compiler.ground_truth``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from interpbench.errors import CaseNotCompilable, PluginFailed
from interpbench.registry.specs import CaseSpec
from interpbench.schemas import Circuit

BOS = "BOS"
PAD = "PAD"


@dataclass
class TracrArtifacts:
    """What one compile produces, before conversion."""

    assembled: Any  # tracr AssembledTransformerModel
    craft_model: Any  # tracr SeriesWithResiduals
    module_names: list[str]  # e.g. "transformer/layer_0/attn", one per craft block
    sink_label: str
    output_space: Any  # tracr VectorSpaceWithBasis
    categorical: bool


@dataclass
class CompiledCase:
    """A case as a HookedTransformer, with what is needed to feed and read it."""

    model: Any  # HookedTransformer
    input_encoding: dict[Any, int]  # token -> id, BOS and PAD included
    output_values: list[Any] | None  # class index -> value; None when numerical
    circuit: Circuit  # edge-level ground truth
    residual_labels: list[str]
    artifacts: TracrArtifacts | None = None  # only present right after a compile


def build_program(case: CaseSpec) -> Any:
    """Build the case's RASP program with reproducible labels (as InterpBench does)."""
    from tracr.rasp import rasp

    if case.program is None or case.not_compilable:
        raise CaseNotCompilable(f"case {case.name} is not compilable: {case.not_compilable}")
    rasp.RASPExpr._ids = itertools.count(1)  # labels like map_3 must not depend on history
    try:
        return case.program()
    except Exception as e:  # noqa: BLE001 - the case plugin's bug, named as such (not the loader's)
        raise PluginFailed(
            f"case {case.name!r} (plugin {case.plugin!r}) failed: its program raised {type(e).__name__}: {e}"
        ) from e


def compile_tracr(case: CaseSpec) -> TracrArtifacts:
    """Run tracr's compiler passes one at a time and keep the craft model."""
    from tracr.compiler import (
        assemble,
        basis_inference,
        craft_graph_to_model,
        craft_model_to_transformer,
        expr_to_craft_graph,
        nodes,
        rasp_to_graph,
        validating,
    )
    from tracr.craft import bases
    from tracr.rasp import rasp

    program = build_program(case)
    unsupported = validating.static_validate(program)
    if unsupported:
        reasons = "; ".join(f"{u.expr.name}: {u.reason}" for u in unsupported)
        raise CaseNotCompilable(f"case {case.name}: tracr cannot compile it: {reasons}")
    max_seq_len = case.max_seq_len - 1  # tracr counts without BOS
    try:
        extracted = rasp_to_graph.extract_rasp_graph(program)
        graph, sources, sink = extracted.graph, extracted.sources, extracted.sink
        basis_inference.infer_bases(graph, sink, set(case.vocab), max_seq_len)
        expr_to_craft_graph.add_craft_components_to_rasp_graph(
            graph, bos_dir=bases.BasisDirection(rasp.tokens.label, BOS), mlp_exactness=100
        )
        craft_model = craft_graph_to_model.craft_graph_to_model(graph, sources)
        assembled = craft_model_to_transformer.craft_model_to_transformer(
            craft_model=craft_model,
            graph=graph,
            sink=sink,
            max_seq_len=max_seq_len,
            causal=case.causal,
            compiler_bos=BOS,
            compiler_pad=PAD,
        )
    except (NotImplementedError, ValueError, KeyError, AssertionError, TypeError) as e:
        raise CaseNotCompilable(f"case {case.name}: tracr failed: {type(e).__name__}: {e}") from e
    _, module_names = assemble._get_model_config_and_module_names(craft_model)
    categorical = rasp.is_categorical(sink[nodes.EXPR])
    if categorical != case.categorical:
        raise CaseNotCompilable(
            f"case {case.name} is declared {'categorical' if case.categorical else 'numerical'} "
            f"but its program's output is not"
        )
    return TracrArtifacts(
        assembled=assembled,
        craft_model=craft_model,
        module_names=module_names,
        sink_label=sink[nodes.ID],
        output_space=bases.VectorSpaceWithBasis(sink[nodes.OUTPUT_BASIS]),
        categorical=categorical,
    )


def to_hooked_transformer(case: CaseSpec, art: TracrArtifacts) -> tuple[Any, dict[Any, int], list[Any] | None]:
    """Copy tracr's weights into a HookedTransformer; rebuild the unembedding."""
    import einops
    import numpy as np
    import torch
    from transformer_lens import HookedTransformer, HookedTransformerConfig

    assembled = art.assembled
    params = {k: {kk: np.asarray(v) for kk, v in d.items()} for k, d in assembled.params.items()}
    mc = assembled.model_config
    labels = assembled.residual_labels
    d_model = len(labels)
    encoding = dict(assembled.input_encoder.encoding_map)
    out_labels = [str(d) for d in art.output_space.basis]
    cfg = HookedTransformerConfig(
        n_layers=mc.num_layers,
        d_model=d_model,
        d_head=mc.key_size,
        n_heads=mc.num_heads,
        d_mlp=mc.mlp_hidden_size,
        d_vocab=len(encoding),
        d_vocab_out=len(out_labels),
        n_ctx=case.max_seq_len,
        act_fn="relu",
        normalization_type=None,
        attention_dir="causal" if case.causal else "bidirectional",
        default_prepend_bos=False,
        use_attn_result=True,
        use_split_qkv_input=True,
        use_hook_mlp_in=True,
        seed=0,
    )
    model = HookedTransformer(cfg)
    H = mc.num_heads
    state: dict[str, np.ndarray] = {
        "embed.W_E": params["token_embed"]["embeddings"],
        "pos_embed.W_pos": params["pos_embed"]["embeddings"][: case.max_seq_len],
    }
    for layer in range(mc.num_layers):
        attn, mlp = f"transformer/layer_{layer}/attn", f"transformer/layer_{layer}/mlp"
        for ours, theirs in (("Q", "query"), ("K", "key"), ("V", "value")):
            state[f"blocks.{layer}.attn.W_{ours}"] = einops.rearrange(
                params[f"{attn}/{theirs}"]["w"], "d (h k) -> h d k", h=H
            )
            state[f"blocks.{layer}.attn.b_{ours}"] = einops.rearrange(
                params[f"{attn}/{theirs}"]["b"], "(h k) -> h k", h=H
            )
        state[f"blocks.{layer}.attn.W_O"] = einops.rearrange(params[f"{attn}/linear"]["w"], "(h k) d -> h k d", h=H)
        state[f"blocks.{layer}.attn.b_O"] = params[f"{attn}/linear"]["b"]
        state[f"blocks.{layer}.mlp.W_in"] = params[f"{mlp}/linear_1"]["w"]
        state[f"blocks.{layer}.mlp.b_in"] = params[f"{mlp}/linear_1"]["b"]
        state[f"blocks.{layer}.mlp.W_out"] = params[f"{mlp}/linear_2"]["w"]
        state[f"blocks.{layer}.mlp.b_out"] = params[f"{mlp}/linear_2"]["b"]
    # The unembedding is a projection of the residual stream onto the output space.
    W_U = np.zeros((d_model, len(out_labels)), dtype=np.float32)
    for j, label in enumerate(out_labels):
        W_U[labels.index(label), j] = 1.0
    state["unembed.W_U"] = W_U
    state["unembed.b_U"] = np.zeros(len(out_labels), dtype=np.float32)
    current = model.state_dict()
    for name, value in state.items():
        tensor = torch.tensor(np.array(value, dtype=np.float32))
        if tensor.shape != current[name].shape:
            raise CaseNotCompilable(
                f"case {case.name}: weight {name} has shape {tuple(tensor.shape)}, expected {tuple(current[name].shape)}"
            )
        current[name] = tensor
    model.load_state_dict(current)
    model.eval()
    output_values = [d.value for d in art.output_space.basis] if art.categorical else None
    return model, encoding, output_values
