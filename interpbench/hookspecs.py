"""The plugin hooks of interpbench.

Each hook hands the plugin a ``register`` callable. The plugin calls it once per
thing it provides, with keyword arguments; the host validates them (pydantic),
refuses duplicate names and remembers which distribution registered what. Every
implementation of a hook is called; none of them "wins".
"""

from typing import Callable

import pluggy

hookspec = pluggy.HookspecMarker("interpbench")
hookimpl = pluggy.HookimplMarker("interpbench")


@hookspec
def register_cases(register: Callable[..., None]) -> None:
    """Register benchmark cases.

    Call ``register(name=..., description=..., vocab=..., max_seq_len=...,
    program=..., categorical=..., causal=True, trivial=False, sampler=None,
    reference=None, not_compilable=None)`` once per case. ``program`` is a
    zero-argument callable returning the RASP program (import tracr inside it).
    """


@hookspec
def register_loaders(register: Callable[..., None]) -> None:
    """Register model loaders.

    Call ``register(name=..., description=..., load=..., granularity="qkv"|"head")``.
    ``load(case, seed=..., options=...)`` returns an ``interpbench.LoadedModel``: a
    HookedTransformer, its ground-truth circuit at edge level, and the token encoding.
    ``granularity`` (default ``"head"``) is the finest level at which that circuit is
    certified: ``"qkv"`` only when which of a head's q, k and v inputs carries what is known.
    """


@hookspec
def register_methods(register: Callable[..., None]) -> None:
    """Register circuit discovery methods.

    Call ``register(name=..., description=..., level="edge"|"node", config=...,
    run=...)``. ``config`` is a pydantic model class whose defaults are the
    method's defaults; ``run(task, config)`` returns ``interpbench.Scores`` (or a
    ``{edge_or_node: score}`` dict) with a score for every edge or node of
    ``task.graph``, higher meaning more likely in the circuit.
    """


@hookspec
def register_metrics(register: Callable[..., None]) -> None:
    """Register metrics over a method's scores.

    Call ``register(name=..., description=..., compute=...)``.
    ``compute(scores, task)`` returns ``interpbench.MetricOutput`` (or a dict of
    floats): scalar values keyed like ``edge_auroc``, named sets and curves.
    """


@hookspec
def register_structures(register: Callable[..., None]) -> None:
    """Register hard-track structures: one HL head implemented by a group of LL heads.

    Call ``register(name=..., description=..., roles=(...), layer_offsets=(...), follows=...)``.
    ``roles[0]`` is the HL head's own LL head; ``layer_offsets[i]`` puts member i that many
    LL layers after it (0: a free head of the same layer). ``follows(resampled)`` takes one
    bool per member (is it resampled from the source?) and says whether the output then
    follows the source; all members resampled must follow it (that is the IIT intervention).
    """
