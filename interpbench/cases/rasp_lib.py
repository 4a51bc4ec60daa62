"""RASP building blocks shared by many cases (CASES.md §1 "RASP semantics").

Call these only from inside a case's program function: they import tracr.
"""

from __future__ import annotations

from typing import Any


def rasp():
    from tracr.rasp import rasp as _rasp

    return _rasp


def make_length() -> Any:
    """Sequence length at every position: SelectorWidth(Select(tokens, tokens, TRUE))."""
    r = rasp()
    return r.SelectorWidth(r.Select(r.tokens, r.tokens, r.Comparison.TRUE)).named("length")


def shift_by(offset: int, sop: Any) -> Any:
    """The value ``offset`` positions earlier (negative: later); None where there is none."""
    r = rasp()
    select = r.Select(r.indices, r.indices, lambda k, q: q == k + offset)
    return r.Aggregate(select, sop, default=None).named(f"shift_by({offset})")


def make_frac_prevs(bools: Any) -> Any:
    """Fraction of positions so far (inclusive) where ``bools`` is true (numerical)."""
    r = rasp()
    bools = r.numerical(bools)
    prevs = r.Select(r.indices, r.indices, r.Comparison.LEQ)
    return r.numerical(r.Aggregate(prevs, bools, default=0)).named("frac_prevs")
