"""interpbench: does your circuit discovery method find the circuit?

Plugin authors need only ``from interpbench import hookimpl``. Heavy libraries
(torch, transformer_lens, jax) are imported lazily so that listing stays instant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from interpbench import errors
from interpbench.hookspecs import hookimpl
from interpbench.schemas import Circuit, MetricOutput, RunResult, Scores

__version__ = "0.1.0"

__all__ = ["hookimpl", "run", "errors", "Circuit", "Scores", "MetricOutput", "RunResult", "LoadedModel", "__version__"]

if TYPE_CHECKING:
    from interpbench.task import LoadedModel


def run(case: str | int, method: str, loader: str = "tracr", **kwargs: Any) -> RunResult:
    """Run one method on one case and return the validated record.

    See ``interpbench.runner.run`` for the keyword arguments (config, seed, ...).
    """
    from interpbench.runner import run as _run

    return _run(case=str(case), method=method, loader=loader, **kwargs)


def __getattr__(name: str) -> Any:
    if name == "LoadedModel":
        from interpbench.task import LoadedModel

        return LoadedModel
    raise AttributeError(name)
