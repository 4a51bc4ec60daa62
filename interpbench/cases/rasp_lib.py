"""The RASP vocabulary of the cases: every building block more than one case uses, one
name each (CASES.md §1 "RASP semantics"). Case plugins may use them too.

Call these only from inside a case's program function: they import tracr.
"""

from __future__ import annotations

import math
from typing import Any, Callable


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


# Labels are parameters throughout: tracr names residual directions after them
# ("hist_1:3"), so a case's compiled model and ground truth depend on its labels.


def make_length_from_indices() -> Any:
    """Sequence length counted over indices: SelectorWidth(Select(indices, indices, TRUE)).

    The same number as ``make_length``, but its head reads positions, not tokens, so the
    two compile to different circuits; each case keeps the one it was published with."""
    r = rasp()
    return r.SelectorWidth(r.Select(r.indices, r.indices, r.Comparison.TRUE)).named("length")


def token_map(fn: Callable[[Any], Any], label: str) -> Any:
    """A single element-wise Map over the tokens (one MLP)."""
    r = rasp()
    return r.Map(fn, r.tokens).named(label)


def constant(value: Any, label: str) -> Any:
    """``value`` at every position (a Map over indices)."""
    r = rasp()
    return r.Map(lambda _: value, r.indices).named(label)


def count_where(comparison: Any, label: str) -> Any:
    """How many tokens of the sequence stand in ``comparison`` (key vs. query) to this
    position's token: SelectorWidth(Select(tokens, tokens, comparison))."""
    r = rasp()
    return r.SelectorWidth(r.Select(r.tokens, r.tokens, comparison)).named(label)


def make_hist(label: str = "hist") -> Any:
    """How often this position's token occurs in the whole sequence."""
    return count_where(rasp().Comparison.EQ, label)


def gather(values: Any, index: Any, label: str) -> Any:
    """``values`` read at position ``index`` (a per-position SOp): Select(indices, index, EQ)."""
    r = rasp()
    return r.Aggregate(r.Select(r.indices, index, r.Comparison.EQ), values).named(label)


def scatter(values: Any, destination: Any, label: str) -> Any:
    """``values`` moved to position ``destination``: each position reads the one whose
    destination it is (Select(destination, indices, EQ))."""
    r = rasp()
    return r.Aggregate(r.Select(destination, r.indices, r.Comparison.EQ), values).named(label)


def broadcast_token_at(position: int, *, index_label: str | None = None, label: str | None = None) -> Any:
    """The token at a fixed position, copied to every position."""
    index = constant(position, index_label or f"constant_{position}")
    return gather(rasp().tokens, index, label or f"token_at_{position}")


def last_two_tokens() -> tuple[Any, Any]:
    """(last token, second-to-last token), broadcast to every position."""
    r = rasp()
    length = make_length()
    last_index = r.Map(lambda n: n - 1, length).named("last_index")
    second_last_index = r.Map(lambda n: n - 2, length).named("second_last_index")
    return gather(r.tokens, last_index, "last_token"), gather(r.tokens, second_last_index, "second_last_token")


def make_reverse(sop: Any) -> Any:
    """``sop`` read from the mirrored position (length - index - 1)."""
    r = rasp()
    opposite = (make_length() - r.indices).named("opp_index")
    opposite = (opposite - 1).named("opp_index_minus_1")
    return gather(sop, opposite, "reverse")


def previous_token_or_first() -> Any:
    """The previous token; the first position reads itself (no None anywhere)."""
    r = rasp()
    select = r.Select(r.indices, r.indices, lambda k, q: q == k + 1 or (k == 0 and q == 0))
    return r.Aggregate(select, r.tokens).named("previous_token")


def next_token_or_last() -> Any:
    """The next token; the last position reads itself. The query index is pulled back
    by one at the last position, then the key one further on is selected."""
    r = rasp()
    length = make_length_from_indices()
    query = r.SequenceMap(lambda i, n: i if i < n - 1 else i - 1, r.indices, length).named("next_query")
    select = r.Select(r.indices, query, lambda k, q: k - 1 == q)
    return r.Aggregate(select, r.tokens).named("next_token")


def count_zero_flags(flags: Any, label: str = "zero_flag_count") -> Any:
    """How many positions have flag 0, at every position (the all/any check idiom)."""
    r = rasp()
    return r.SelectorWidth(r.Select(flags, constant(0, "zero"), r.Comparison.EQ)).named(label)


def all_flags_set(flags: Any, label: str = "all_flags_set", count_label: str = "zero_flag_count") -> Any:
    """1 at every position iff no position has flag 0, else 0 everywhere."""
    r = rasp()
    return r.Map(lambda count: 0 if count > 0 else 1, count_zero_flags(flags, count_label)).named(label)


def make_pair_balance(open_token: str, close_token: str) -> Any:
    """Prefix fraction of ``open_token`` minus prefix fraction of ``close_token`` (numerical)."""
    r = rasp()
    opens = make_frac_prevs(r.tokens == open_token).named(f"opens_{open_token}")
    closes = make_frac_prevs(r.tokens == close_token).named(f"closes_{close_token}")
    balance = r.numerical(r.LinearSequenceMap(opens, closes, 1, -1))
    return balance.named(f"balance_{open_token}{close_token}")


def make_sort(
    vals: Any,
    keys: Any,
    *,
    tie_break: Callable[[int], float],
    keys_label: str = "unique_keys",
    target_label: str = "target_pos",
    label: str = "sort",
) -> Any:
    """``vals`` ordered by ``keys`` ascending. ``tie_break(index)``, added to each key,
    makes the keys unique so equal keys keep their order; it must stay below the gap
    between distinct keys. (Its exact arithmetic matters: the unique keys are residual
    directions named by value.)"""
    r = rasp()
    unique_keys = r.SequenceMap(lambda k, i: k + tie_break(i), keys, r.indices).named(keys_label)
    target = r.SelectorWidth(r.Select(unique_keys, unique_keys, r.Comparison.LT)).named(target_label)
    return scatter(vals, target, label)


def make_median(
    sorted_vals: Any,
    *,
    index_labels: tuple[str, str] = ("lower_middle", "upper_middle"),
    middle_labels: tuple[str, str] = ("lower_median", "upper_median"),
    label: str = "median",
) -> Any:
    """The median of already sorted values (mean of the two middle ones), at every position."""
    r = rasp()
    length = make_length()
    lower_index = r.Map(lambda n: (n - 1) // 2, length).named(index_labels[0])
    upper_index = r.Map(lambda n: n // 2, length).named(index_labels[1])
    lower = gather(sorted_vals, lower_index, middle_labels[0])
    upper = gather(sorted_vals, upper_index, middle_labels[1])
    return r.SequenceMap(lambda a, b: (a + b) / 2, lower, upper).named(label)


def broadcast_max() -> Any:
    """The maximum token at every position: the (unique) position whose key is >= every
    key. A tiny index term makes equal tokens distinct keys."""
    r = rasp()
    keys = r.SequenceMap(lambda t, i: t + i * 1e-14, r.tokens, r.indices).named("unique_keys")
    rank = r.SelectorWidth(r.Select(keys, keys, r.Comparison.LEQ)).named("keys_leq_count")
    is_max = r.Select(rank, make_length(), r.Comparison.EQ).named("max_selector")
    return r.Aggregate(is_max, r.tokens).named("max_token")


# Plain functions the cases' Maps share (no RASP).


def is_prime(n: int) -> bool:
    return n >= 2 and all(n % d for d in range(2, math.isqrt(n) + 1))
