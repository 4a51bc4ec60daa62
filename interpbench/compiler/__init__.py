"""From a case to a HookedTransformer and its ground truth, cached on disk."""

from __future__ import annotations

from interpbench.compiler import cache
from interpbench.compiler.tracr_bridge import BOS, PAD, CompiledCase, compile_tracr, to_hooked_transformer
from interpbench.errors import InterpbenchError
from interpbench.formats.model_files import build_config, stored_fields
from interpbench.registry.specs import CaseSpec
from interpbench.schemas import Circuit

__all__ = ["BOS", "PAD", "CompiledCase", "load_compiled", "compile_case"]


def compile_case(case: CaseSpec) -> CompiledCase:
    """Compile with tracr (seconds), convert, and derive the ground truth."""
    from interpbench.compiler.ground_truth import edge_circuit

    art = compile_tracr(case)
    model, encoding, output_values = to_hooked_transformer(case, art)
    circuit = edge_circuit(art.craft_model, art.module_names, art.sink_label, model.cfg.n_layers)
    return CompiledCase(
        model=model,
        input_encoding=encoding,
        output_values=output_values,
        circuit=circuit,
        residual_labels=list(art.assembled.residual_labels),
        artifacts=art,
    )


def load_compiled(case: CaseSpec, use_cache: bool = True) -> CompiledCase:
    """The compiled case, from the cache when a valid entry exists."""
    if use_cache:
        hit = cache.read(case)
        if hit is not None:
            try:
                return _from_cache(*hit)
            except (KeyError, TypeError, ValueError, RuntimeError, InterpbenchError):  # format drift or tampering
                cache.remove(case)
    compiled = compile_case(case)
    if case.plugin != "interpbench":  # the built-ins are checked by the test suite, every case
        check_against_program(case, compiled)
    if use_cache:
        cache.write(case, compiled.model.state_dict(), _meta(compiled))
    return compiled


def check_against_program(case: CaseSpec, compiled: CompiledCase, n_inputs: int = 64) -> None:
    """Refuse a compiled model that disagrees with its own RASP program (``rasp.evaluate``)
    on sample inputs, naming the likely cause: a program that reads later positions,
    registered with ``causal=True``, compiles to a model that cannot see them."""
    from interpbench.compiler.verify import check_agreement, sample_inputs

    agreement = check_agreement(case, compiled, sample_inputs(case, n_inputs))
    if agreement.rasp_mismatches:
        hint = "; the program seems to read later positions: register the case with causal=False" if case.causal else ""
        raise InterpbenchError(
            f"case {case.name} (plugin {case.plugin!r}): the compiled model disagrees with its RASP program at "
            f"{agreement.rasp_mismatches} of {agreement.rasp_checked} checked positions{hint}"
        )


def _meta(c: CompiledCase) -> dict:
    return {
        "cfg": stored_fields(c.model.cfg),
        "input_encoding": [[token, i] for token, i in c.input_encoding.items()],
        "output_values": c.output_values,
        "circuit": c.circuit.model_dump(mode="json"),
        "residual_labels": c.residual_labels,
    }


def _from_cache(state_dict: dict, meta: dict) -> CompiledCase:
    from transformer_lens import HookedTransformer

    cfg, _ = build_config(meta["cfg"], source="compile cache entry", seed=0)
    model = HookedTransformer(cfg)
    model.load_state_dict(state_dict)
    model.eval()
    return CompiledCase(
        model=model,
        input_encoding={token: i for token, i in meta["input_encoding"]},
        output_values=meta["output_values"],
        circuit=Circuit.model_validate(meta["circuit"]),
        residual_labels=meta["residual_labels"],
    )
