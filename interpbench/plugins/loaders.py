"""Built-in model loaders."""

from __future__ import annotations

from typing import Any

from interpbench import hookimpl


def load_tracr(case, *, seed: int = 0, options: dict[str, Any] | None = None):
    """The compiled high-level model: tracr's weights in a HookedTransformer (cached)."""
    from interpbench.compiler import load_compiled
    from interpbench.task import LoadedModel

    compiled = load_compiled(case, use_cache=not (options or {}).get("no_cache", False))
    cfg = compiled.model.cfg
    return LoadedModel(
        model=compiled.model,
        circuit=compiled.circuit,
        input_encoding=compiled.input_encoding,
        categorical=compiled.output_values is not None,
        output_values=compiled.output_values,
        default_ablation="zero-except-embed",
        info={
            "origin": "tracr compile",
            "n_layers": cfg.n_layers,
            "n_heads": cfg.n_heads,
            "d_model": cfg.d_model,
            "d_head": cfg.d_head,
            "d_mlp": cfg.d_mlp,
            "parameters": sum(p.numel() for p in compiled.model.parameters()),
        },
    )


@hookimpl
def register_loaders(register):
    register(
        name="tracr",
        description="Compiles the case's RASP program with tracr into a HookedTransformer (cached on disk).",
        load=load_tracr,
    )
