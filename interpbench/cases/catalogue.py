"""Declare a case next to its RASP program.

>>> @case("3", "Fraction of previous 'x' tokens", vocab={"a", "b", "c", "x"},
...       max_seq_len=5, categorical=False)
... def frac_prevs():
...     from tracr.rasp import rasp
...     ...

The decorated function builds the program when called (tracr is imported inside it,
so declaring cases costs nothing). ``interpbench.plugins.cases`` registers every
declared case through the ``register_cases`` hook.
"""

from __future__ import annotations

from typing import Any, Callable

#: Keyword arguments for ``register(...)``, one dict per declared case.
DECLARED: list[dict[str, Any]] = []


def case(
    name: str,
    description: str,
    *,
    vocab: set | frozenset,
    max_seq_len: int = 10,
    categorical: bool = True,
    causal: bool = True,
    trivial: bool = False,
    sampler: Callable[..., list] | None = None,
    reference: Callable[[list], list] | None = None,
    not_compilable: str | None = None,
) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    def declare(program: Callable[[], Any]) -> Callable[[], Any]:
        DECLARED.append(
            dict(
                name=name,
                description=description,
                vocab=frozenset(vocab),
                max_seq_len=max_seq_len,
                program=program,
                categorical=categorical,
                causal=causal,
                trivial=trivial,
                sampler=sampler,
                reference=reference,
                not_compilable=not_compilable,
            )
        )
        return program

    return declare
