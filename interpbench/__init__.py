"""interpbench: does your circuit discovery method find the circuit?

The plugin-author API is what ``__all__`` lists: ``hookimpl``; what a method receives
(``DiscoveryTask``) and a loader returns (``LoadedModel``); what a method returns
(``Scores``, ``EdgeScore``, ``SweptCircuit``, and the ``edge_key``/``split_edge_key``
naming of edges); what a metric returns (``MetricOutput``); ``Circuit``; ``errors``;
and ``run``. Everything else is internal and may change. Heavy libraries (torch,
transformer_lens, jax) are imported lazily so that listing stays instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from interpbench import errors
from interpbench.graph import edge_key, split_edge_key
from interpbench.hookspecs import hookimpl
from interpbench.schemas import Circuit, EdgeScore, MetricOutput, RunResult, Scores, SweptCircuit

__version__ = "0.1.0"

__all__ = [
    "hookimpl", "run", "errors", "DiscoveryTask", "LoadedModel", "Scores", "EdgeScore", "SweptCircuit",
    "MetricOutput", "Circuit", "RunResult", "edge_key", "split_edge_key", "__version__",
]  # fmt: skip

if TYPE_CHECKING:
    from interpbench.task import DiscoveryTask, LoadedModel


def run(case: str | int, method: str, loader: str = "tracr", **kwargs: Any) -> RunResult:
    """Run one method on one case and return the validated record.

    See ``interpbench.runner.run`` for the keyword arguments (config, seed, ...).
    """
    from interpbench.runner import run as _run

    return _run(case=str(case), method=method, loader=loader, **kwargs)


def __getattr__(name: str) -> Any:
    if name in ("LoadedModel", "DiscoveryTask"):  # lazily: the task module pulls in the engine's types
        from interpbench import task

        return getattr(task, name)
    raise AttributeError(name)
