"""interpbench: does your circuit discovery method find the circuit?

The plugin-author API is what ``__all__`` lists, and nothing else (a contract test keeps
the built-in plugins, the example plugin and the docs to it):

- the door: ``hookimpl``; ``registry`` to query what is registered; ``run`` one method;
  ``errors``;
- what a loader returns (``LoadedModel``, ``load_compiled`` for the compiled tracr model
  of a case) and what a method receives (``DiscoveryTask``; its ``engine`` patches edges);
- what a method returns: ``Scores`` of ``EdgeScore`` (``task.edge_scores``,
  ``task.relative_selection`` build them), ``SweptCircuit``; its config builds on
  ``MethodConfig`` or ``AblationConfig``; ``Ablation`` names what ablated edges carry;
- edges and nodes: ``edge_key``/``split_edge_key``, ``ComputationalGraph``,
  ``fold_node``, ``circuit_nodes``, ``position_of`` (a node at a token position); the validation metrics ``kl_from_baseline`` and
  ``l2_from_baseline``;
- what a metric returns (``MetricOutput``) and computes with: ``Circuit``, ``RunResult``,
  ``confusion``, ``roc_points``, ``pessimistic_auc``, ``trapezoid_auc``, ``fold_edges``,
  ``fold_scores`` (to a ``Folding``: q/k/v, head or InterpBench's level), ``average_precision``,
  and MIB's ``MIB_FRACTIONS``, ``top_circuits``, ``mib_areas``;
- what a case is written with: ``rasp_lib`` (the shared RASP building blocks) and
  ``vocabs``.

Heavy libraries (torch, transformer_lens, jax, tracr) load only when a name that needs
them is first used, so that listing stays instant.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from interpbench import errors
from interpbench.graph import ComputationalGraph, circuit_nodes, edge_key, fold_node, position_of, split_edge_key
from interpbench.hookspecs import hookimpl
from interpbench.schemas import (
    AblationConfig,
    AblationName,
    Circuit,
    EdgeScore,
    MethodConfig,
    MetricOutput,
    RunResult,
    Scores,
    SweptCircuit,
)
from interpbench.scoring import (
    MIB_FRACTIONS,
    Folding,
    average_precision,
    confusion,
    fold_edges,
    fold_scores,
    mib_areas,
    pessimistic_auc,
    roc_points,
    top_circuits,
    trapezoid_auc,
)

__version__ = "0.1.0"

#: Names whose modules import heavy libraries: ``name -> (module, attribute or None for the module)``.
_LAZY = {
    "DiscoveryTask": ("interpbench.task", "DiscoveryTask"),
    "LoadedModel": ("interpbench.task", "LoadedModel"),
    "Ablation": ("interpbench.engine", "Ablation"),
    "kl_from_baseline": ("interpbench.engine.validation", "kl_from_baseline"),
    "l2_from_baseline": ("interpbench.engine.validation", "l2_from_baseline"),
    "load_compiled": ("interpbench.compiler", "load_compiled"),
    "registry": ("interpbench.registry", None),
    "rasp_lib": ("interpbench.cases.rasp_lib", None),
    "vocabs": ("interpbench.cases.vocabs", None),
}

__all__ = [
    "hookimpl", "registry", "run", "errors", "__version__",
    "LoadedModel", "load_compiled", "DiscoveryTask",
    "Scores", "EdgeScore", "SweptCircuit", "MethodConfig", "AblationConfig", "AblationName", "Ablation",
    "edge_key", "split_edge_key", "ComputationalGraph", "fold_node", "circuit_nodes", "position_of",
    "kl_from_baseline", "l2_from_baseline",
    "MetricOutput", "Circuit", "RunResult",
    "Folding", "confusion", "roc_points", "pessimistic_auc", "trapezoid_auc", "fold_edges", "fold_scores",
    "average_precision", "top_circuits", "mib_areas", "MIB_FRACTIONS",
    "rasp_lib", "vocabs",
]  # fmt: skip

if TYPE_CHECKING:
    from interpbench import registry
    from interpbench.cases import rasp_lib, vocabs
    from interpbench.compiler import load_compiled
    from interpbench.engine import Ablation
    from interpbench.engine.validation import kl_from_baseline, l2_from_baseline
    from interpbench.task import DiscoveryTask, LoadedModel


def run(case: str | int, method: str, loader: str = "tracr", **kwargs: Any) -> RunResult:
    """Run one method on one case and return the validated record.

    See ``interpbench.runner.run`` for the keyword arguments (config, seed, ...).
    """
    from interpbench.runner import run as _run

    return _run(case=str(case), method=method, loader=loader, **kwargs)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'interpbench' has no attribute {name!r}")
    module, attribute = _LAZY[name]
    value = importlib.import_module(module)
    return value if attribute is None else getattr(value, attribute)
