"""Built-in model loaders."""

from __future__ import annotations

import functools
from typing import Any

from interpbench import hookimpl


def load_tracr(case, *, seed: int = 0, options: dict[str, Any] | None = None):
    """The compiled high-level model: tracr's weights in a HookedTransformer (cached)."""
    from interpbench import LoadedModel, load_compiled

    compiled = load_compiled(case, use_cache=not (options or {}).get("no_cache", False))
    return LoadedModel(
        model=compiled.model,
        circuit=compiled.circuit,
        input_encoding=compiled.input_encoding,
        categorical=compiled.output_values is not None,
        output_values=compiled.output_values,
        default_ablation="zero-except-embed",
        info={
            "origin": "tracr compile",
        },
    )


def load_siit(case, *, seed: int = 0, options: dict[str, Any] | None = None, structure: str | None = None):
    """A SIIT-trained model: from ``options["model_dir"]``, else the user's own training
    of the case, else the embedded zoo (with ``structure``: its hard track's model)."""
    from interpbench.errors import InterpbenchError
    from interpbench.siit import zoo
    from interpbench.siit.store import load_trained

    model_dir = (options or {}).get("model_dir")
    directory = model_dir or zoo.find(case.name, structure)
    if directory is None:
        shipped = ", ".join(zoo.certified_cases(structure)) or "none"
        how = f" --hard {structure}" if structure else ""
        raise InterpbenchError(
            f"no trained model for case {case.name}: train one with `interpbench train --case {case.name}{how}` "
            f"or give run/eval its directory with --model-dir; a sweep takes the cases that have one with "
            f"--cases available (the {'hard track ' + structure if structure else 'zoo'} has cases {shipped})"
        )
    try:
        return load_trained(case, directory)
    except (OSError, KeyError, ValueError) as e:
        raise InterpbenchError(f"cannot load a trained model from {directory}: {e}") from None


def load_interpbench_dir(case, *, seed: int = 0, options: dict[str, Any] | None = None):
    """A model in the published InterpBench layout (``ll_model_cfg.pkl``, ``ll_model.pth``,
    ``edges.pkl``, ``meta.json``) from ``options["model_dir"]``."""
    from interpbench.errors import InterpbenchError
    from interpbench.siit.published import load_published

    model_dir = (options or {}).get("model_dir")
    if not model_dir:
        raise InterpbenchError("--model-dir is required for the interpbench-dir loader")
    return load_published(model_dir, case)


@hookimpl
def register_loaders(register):
    from interpbench.siit import zoo
    from interpbench.siit.hard import TRACK

    register(
        name="tracr",
        description="Compiles the case's RASP program with tracr into a HookedTransformer (cached on disk).",
        load=load_tracr,
        granularity="qkv",  # q/k/v inputs carry what tracr compiled into them
        options=("no_cache",),
    )
    register(
        name="siit",
        description="A low-level model trained with SIIT to keep the case's circuit (zoo or --model-dir).",
        load=load_siit,
        granularity="head",  # SIIT certifies heads and MLPs, not their q/k/v split
        options=("model_dir",),
        cases=zoo.certified_cases,
    )
    for structure in TRACK:
        register(
            name=f"hard-{structure}",
            description=f"The hard track's {structure} model of the case: SIIT-trained, certified per subset "
            "of its structured group (docs/hard-track.md; or --model-dir).",
            load=functools.partial(load_siit, structure=structure),
            granularity="head",
            options=("model_dir",),
            cases=functools.partial(zoo.certified_cases, structure),
        )
    register(
        name="interpbench-dir",
        description="A model in the published InterpBench layout (ll_model_cfg.pkl, ll_model.pth, edges.pkl; --model-dir).",
        load=load_interpbench_dir,
        granularity="head",  # InterpBench's models are SIIT-trained; its card says to promote q/k/v to heads
        options=("model_dir",),
    )
