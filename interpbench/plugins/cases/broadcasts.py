"""Values read at fixed positions (first, last, ...) and broadcast to every position.

Part of the built-in catalogue (CASES.md §5), declared with
``interpbench.cases.catalogue.case``; shared RASP building blocks come from
``interpbench.cases.rasp_lib``.
"""

from __future__ import annotations

from typing import Any

from interpbench.cases import rasp_lib, vocabs
from interpbench.cases.catalogue import case

# InterpBench's default integer vocabulary is 0..10 (its helper's default upper bound is 11).
INTS_0_10 = vocabs.int_numbers(0, 11)


def _polynomial_term(x: Any, coefficient_index: int, power: int) -> Any:
    """token[coefficient_index] * x**power; the index comes from a constant Map over
    tokens, as in the catalogue's program."""
    r = rasp_lib.rasp()
    index = r.Map(lambda _: coefficient_index, r.tokens).named(f"index_{coefficient_index}")
    coefficient = rasp_lib.gather(r.tokens, index, f"coefficient_{coefficient_index}")
    return r.SequenceMap(lambda base, c: c * base**power, x, coefficient).named(f"term_{coefficient_index}")


@case("42", "The first token, copied to every position.", vocab=vocabs.ascii_letters(10))
def broadcast_first_token():
    return rasp_lib.broadcast_token_at(0)


@case(
    "57",
    "The second token, copied to every position.",
    vocab=vocabs.ascii_letters(10),
    causal=False,
)
def broadcast_second_token():
    return rasp_lib.broadcast_token_at(1)


@case(
    "88",
    "Mean of the first and the last token, at every position.",
    vocab=INTS_0_10,
    causal=False,
)
def mean_of_first_and_last():
    r = rasp_lib.rasp()
    at_start = r.Select(r.indices, r.indices, lambda k, q: k == 0).named("start_selector")
    first = r.Aggregate(at_start, r.tokens, default=None).named("first_token")
    # The last token is read as the first token of the reversed sequence.
    mirrored = r.SequenceMap(lambda i, n: n - i - 1, r.indices, rasp_lib.make_length_from_indices()).named(
        "mirrored_index"
    )
    reversed_tokens = rasp_lib.scatter(r.tokens, mirrored, "reversed_tokens")
    last = r.Aggregate(at_start, reversed_tokens, default=None).named("last_token")
    return r.SequenceMap(lambda a, b: (a + b) / 2.0, first, last).named("mean_of_first_and_last")


@case("111", "The last token at position 0, and 0 everywhere else.", vocab=INTS_0_10, causal=False)
def last_token_at_start():
    r = rasp_lib.rasp()
    last_index = r.Map(lambda n: n - 1, rasp_lib.make_length()).named("last_index")
    last = rasp_lib.gather(r.tokens, last_index, "last_token")
    return r.SequenceMap(lambda t, i: t if i == 0 else 0, last, r.indices).named("last_at_start")


@case(
    "116",
    "1 where the token is a multiple of the first token, else 0 (all 0 if the first is 0).",
    vocab=INTS_0_10,
    max_seq_len=11,
    causal=False,
)
def multiple_of_first():
    r = rasp_lib.rasp()
    return r.SequenceMap(
        lambda t, f: (1 if t % f == 0 else 0) if f != 0 else 0,
        r.tokens,
        rasp_lib.broadcast_token_at(0, index_label="index_zero", label="first_token"),
    ).named("multiple_of_first")


@case("117", "The sum of the last two tokens at every position.", vocab=INTS_0_10, causal=False)
def sum_of_last_two():
    r = rasp_lib.rasp()
    last, second_last = rasp_lib.last_two_tokens()
    return r.SequenceMap(lambda a, b: a + b, last, second_last).named("sum_of_last_two")


@case(
    "119",
    "t1*t0^2 + t2*t0 + t3 at every position, from the first four tokens t0..t3.",
    vocab=vocabs.int_numbers(0, 6),
    max_seq_len=5,
    causal=False,
)
def quadratic_polynomial():
    r = rasp_lib.rasp()
    # tokens - tokens is zero everywhere; it serves as the index-0 query and as the
    # accumulator's starting value.
    zero = r.SequenceMap(lambda a, b: a - b, r.tokens, r.tokens).named("zero")
    x = rasp_lib.gather(r.tokens, zero, "x")
    total = zero
    for i in (1, 2, 3):
        term = _polynomial_term(x, coefficient_index=i, power=3 - i)
        total = r.SequenceMap(lambda a, b: a + b, total, term).named(f"partial_sum_{i}")
    return total


@case(
    "127",
    "Each token divided by (second token / first token), using 1 when either is 0.",
    vocab=INTS_0_10,
    causal=False,
)
def divide_by_ratio_of_first_two():
    r = rasp_lib.rasp()
    first = rasp_lib.broadcast_token_at(0, index_label="index_zero", label="first_token")
    length = rasp_lib.make_length_from_indices()
    second_index = r.Map(lambda n: 1 if n > 1 else 0, length).named("second_index")
    second = rasp_lib.gather(r.tokens, second_index, "second_token")
    divisor = r.SequenceMap(lambda f, s: s / f if f != 0 and s != 0 else 1, first, second).named("divisor")
    return r.SequenceMap(lambda t, d: t / d, r.tokens, divisor).named("divided")
