"""The token compared or combined with its neighbours (shift_by and its kin).

Part of the built-in catalogue (CASES.md §5), declared with
``interpbench.cases.catalogue.case``; shared RASP building blocks come from
``interpbench.cases.rasp_lib``.
"""

from __future__ import annotations

import math
import random
from typing import Any, Callable

from interpbench.cases import rasp_lib, vocabs
from interpbench.cases.catalogue import case

# InterpBench's default integer vocabulary is 0..10 (its helper's default upper bound is 11).
INTS_0_10 = vocabs.int_numbers(0, 11)


def _detect_pattern(sop, pattern):
    """True at the last element of each occurrence of ``pattern``; None for the first
    len(pattern) - 1 positions."""
    detectors = []
    for distance, element in enumerate(reversed(pattern)):
        detector = sop == element
        if distance:
            detector = rasp_lib.shift_by(distance, detector)
        detectors.append(detector)
    detected = detectors.pop()
    while detectors:
        detected = detected & detectors.pop()
    return detected.named(f"detect_pattern({pattern})")


def _sample_rotation_balanced(rng: random.Random, n: int, length: int) -> list[list[str]]:
    """Case 1: 15 % all-True inputs, 15 % all-False inputs, the rest random."""
    vocab = sorted(vocabs.ascii_letters(5))
    n_true = min(n, math.ceil(0.15 * n))
    n_false = min(n - n_true, math.ceil(0.15 * n))
    data = []
    for _ in range(n_true):
        pair = rng.sample(vocab, 2)  # two letters alternating: equal two positions apart
        data.append([pair[i % 2] for i in range(length)])
    # The sorted vocab cycled (5 letters) never repeats a letter two positions later.
    data += [[vocab[i % len(vocab)] for i in range(length)] for _ in range(n_false)]
    while len(data) < n:
        seq = [rng.choice(vocab) for _ in range(length)]
        # InterpBench rejects random inputs whose defined outputs are all False. It meant
        # to reject all-True ones too, but its check saw the undefined position and never
        # fired; we keep that behaviour.
        if length >= 3 and not any(seq[i] == seq[i - 2] for i in range(2, length)):
            continue
        data.append(seq)
    rng.shuffle(data)  # InterpBench shuffles every dataset after sampling
    return data


def _combine_with_next(combine: Callable[[int, int], int], name: str) -> Any:
    """combine(token, next token); the last token is combined with itself."""
    r = rasp_lib.rasp()
    return r.SequenceMap(combine, r.tokens, rasp_lib.next_token_or_last()).named(name)


@case(
    "1",
    "Whether each token equals the token two positions before it (undefined for the first two).",
    vocab=vocabs.ascii_letters(5),
    sampler=_sample_rotation_balanced,
)
def token_equals_two_back():
    r = rasp_lib.rasp()
    two_back = rasp_lib.shift_by(2, r.tokens)
    return r.SequenceMap(lambda x, y: x == y, r.tokens, two_back).named("equals_two_back")


@case(
    "6",
    "Whether the sequence changes direction at a token: (token > previous) XOR (next > token).",
    vocab=vocabs.int_digits(10),
    causal=False,
)
def direction_change():
    r = rasp_lib.rasp()
    prev_token = rasp_lib.shift_by(1, r.tokens)
    next_token = rasp_lib.shift_by(-1, r.tokens)
    rises_into = r.SequenceMap(lambda prev, tok: tok > prev, prev_token, r.tokens).named("rises_into")
    rises_out = r.SequenceMap(lambda tok, nxt: nxt > tok, r.tokens, next_token).named("rises_out")
    return r.SequenceMap(lambda a, b: a != b, rises_into, rises_out).named("direction_change")


@case(
    "12",
    "Whether the pattern a, b, c ends at this position (undefined for the first two).",
    vocab=vocabs.ascii_letters(3),
    max_seq_len=15,
)
def detect_abc():
    r = rasp_lib.rasp()
    return _detect_pattern(r.tokens, "abc")


@case(
    "13",
    "Trend to the next token: 'increasing', 'decreasing' or 'constant' (undefined at the end).",
    vocab=vocabs.int_digits(3),
    causal=False,
)
def trend_to_next():
    r = rasp_lib.rasp()
    next_token = rasp_lib.shift_by(-1, r.tokens)

    def trend(current, following):
        if current < following:
            return "increasing"
        if current > following:
            return "decreasing"
        return "constant"

    return r.SequenceMap(trend, r.tokens, next_token).named("trend")


@case(
    "19",
    "The token, or undefined where it repeats the previous token (first token undefined).",
    vocab=vocabs.ascii_letters(3),
    max_seq_len=15,
)
def drop_consecutive_duplicates():
    r = rasp_lib.rasp()
    prev_token = rasp_lib.shift_by(1, r.tokens)
    return r.SequenceMap(lambda x, prev: x if x != prev else None, r.tokens, prev_token).named("dedup")


@case(
    "32",
    "Whether the word differs from the previous word (first position undefined).",
    vocab=vocabs.words(min_chars=4, max_words=10),
)
def boundary_with_previous():
    r = rasp_lib.rasp()
    prev_token = rasp_lib.shift_by(1, r.tokens)
    return r.SequenceMap(lambda x, prev: x != prev, r.tokens, prev_token).named("boundary")


@case(
    "38",
    "Whether the token differs from both neighbours (undefined at both ends).",
    vocab=vocabs.ascii_letters(3),
    causal=False,
)
def differs_from_neighbours():
    r = rasp_lib.rasp()
    prev_token = rasp_lib.shift_by(1, r.tokens)
    next_token = rasp_lib.shift_by(-1, r.tokens)
    differs_prev = r.SequenceMap(lambda prev, x: prev != x, prev_token, r.tokens).named("differs_prev")
    differs_next = r.SequenceMap(lambda x, nxt: x != nxt, r.tokens, next_token).named("differs_next")
    return r.SequenceMap(lambda a, b: a and b, differs_prev, differs_next).named("alternation")


@case(
    "92",
    "Each token, or 0 where it is smaller than the previous token.",
    vocab=INTS_0_10,
)
def zero_if_below_previous():
    r = rasp_lib.rasp()
    previous = rasp_lib.previous_token_or_first()
    return r.SequenceMap(lambda t, p: 0 if t < p else t, r.tokens, previous).named("zero_if_below_previous")


@case("99", "Each token plus the next one (the last token is doubled).", vocab=INTS_0_10, causal=False)
def sum_with_next():
    return _combine_with_next(lambda t, nxt: t + nxt, "sum_with_next")


@case("112", "The next token minus each token (0 at the last position).", vocab=INTS_0_10, causal=False)
def difference_to_next():
    return _combine_with_next(lambda t, nxt: nxt - t, "difference_to_next")


@case("115", "Each token times the next one (the last token is squared).", vocab=INTS_0_10, causal=False)
def product_with_next():
    return _combine_with_next(lambda t, nxt: t * nxt, "product_with_next")


@case(
    "118",
    "Each token plus the previous one (undefined at the first position).",
    vocab=INTS_0_10,
    causal=False,
)
def sum_with_previous():
    r = rasp_lib.rasp()
    previous = r.SequenceMap(lambda p, i: p if i > 0 else 0, rasp_lib.shift_by(1, r.tokens), r.indices).named(
        "previous_or_zero"
    )
    return r.SequenceMap(lambda t, p: int(t + p), r.tokens, previous).named("sum_with_previous")


@case(
    "131",
    "The larger of each token and the previous one (undefined at the first position).",
    vocab=INTS_0_10,
)
def max_with_previous():
    r = rasp_lib.rasp()
    previous = rasp_lib.shift_by(1, r.tokens)
    return r.SequenceMap(lambda t, p: int(max(t, p)), r.tokens, previous).named("max_with_previous")
