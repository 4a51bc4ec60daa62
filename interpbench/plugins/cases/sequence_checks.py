"""Whole-sequence predicates, broadcast to every position (most with balanced samplers).

Part of the built-in catalogue (CASES.md §5), declared with
``interpbench.cases.catalogue.case``; shared RASP building blocks come from
``interpbench.cases.rasp_lib``.
"""

from __future__ import annotations

import random
from typing import Any

from interpbench.cases import rasp_lib, vocabs
from interpbench.cases.catalogue import case

# InterpBench's default integer vocabulary is 0..10 (its helper's default upper bound is 11).
INTS_0_10 = vocabs.int_numbers(0, 11)
INTS_0_29 = vocabs.int_numbers(0, 30)
_EVENS_0_29 = [v for v in sorted(INTS_0_29) if v % 2 == 0]
_ODDS_0_29 = [v for v in sorted(INTS_0_29) if v % 2 == 1]


def _make_shuffle_dyck(pairs: list[str]):
    """True everywhere iff each bracket pair is balanced on its own (interleaving allowed)."""
    r = rasp_lib.rasp()
    balances = [rasp_lib.make_pair_balance(pair[0], pair[1]) for pair in pairs]

    any_negative = balances[0] < 0
    for balance in balances[1:]:
        any_negative = any_negative | (balance < 0)
    # A negative prefix anywhere is detected by averaging a 0/1 flag over all positions,
    # which needs a numerical SOp: the identity Map only changes the encoding.
    any_negative = r.numerical(r.Map(lambda x: x, any_negative)).named("any_negative")
    select_all = r.Select(r.indices, r.indices, r.Comparison.TRUE).named("select_all")
    has_negative = r.numerical(r.Aggregate(select_all, any_negative, default=0)).named("has_neg")

    all_zero = balances[0] == 0
    for balance in balances[1:]:
        all_zero = all_zero & (balance == 0)
    select_last = r.Select(r.indices, rasp_lib.make_length() - 1, r.Comparison.EQ).named("select_last")
    last_zero = r.Aggregate(select_last, all_zero).named("last_zero")
    no_negative = (~has_negative).named("not_has_neg")
    return (last_zero & no_negative).named("shuffle_dyck")


def _balanced_brackets(rng: random.Random, length: int) -> list[str]:
    """A random shuffle-Dyck word over () and {} with 'x' filler, exactly ``length`` long."""
    closer = {"(": ")", "{": "}"}
    word: list[str] = []
    still_open: list[str] = []
    while len(word) < length:
        room = length - len(word)
        choices = {closer[o] for o in still_open}
        if len(still_open) + 1 <= room:  # a filler still leaves room to close everything
            choices.add("x")
        if len(still_open) + 2 <= room:  # so does an opener with its closer
            choices.update(closer)
        char = rng.choice(sorted(choices))
        word.append(char)
        if char in closer:
            still_open.append(char)
        elif char != "x":
            still_open.remove(next(o for o, c in closer.items() if c == char))
    return word


def _sample_dyck_balanced(rng: random.Random, n: int, length: int) -> list[list[str]]:
    """Case 5: half balanced strings, the rest uniform random (almost always unbalanced)."""
    vocab = ["(", ")", "x", "{", "}"]
    n_balanced = n // 2
    data = [_balanced_brackets(rng, length) for _ in range(n_balanced)]
    data += [[rng.choice(vocab) for _ in range(length)] for _ in range(n - n_balanced)]
    rng.shuffle(data)
    return data


def _sample_palindrome_balanced(rng: random.Random, n: int, length: int) -> list[list[str]]:
    """Case 17: half palindromes, half non-palindromes."""
    vocab = sorted(vocabs.ascii_letters(10))
    n_palindromes = n // 2
    data = []
    for _ in range(n_palindromes):
        half = rng.choices(vocab, k=(length + 1) // 2)
        data.append(half + half[: length // 2][::-1])
    for _ in range(n - n_palindromes):
        seq = rng.choices(vocab, k=length)
        if seq == seq[::-1]:  # break the accidental palindrome (not at the centre, which mirrors itself)
            seq[0] = rng.choice([v for v in vocab if v != seq[0]])
        data.append(seq)
    rng.shuffle(data)
    return data


def _sample_half_increasing(rng: random.Random, n: int, length: int) -> list[list[int]]:
    """floor(n/2) strictly increasing sequences (distinct sorted values), the rest
    uniform; shuffled so the two kinds are interleaved."""
    vocab = sorted(INTS_0_10)
    increasing = [sorted(rng.sample(vocab, length)) for _ in range(n // 2)]
    uniform = [[rng.choice(vocab) for _ in range(length)] for _ in range(n - n // 2)]
    data = increasing + uniform
    rng.shuffle(data)
    return data


def _balanced(rng: random.Random, n: int, make_true, make_false) -> list[list[Any]]:
    """floor(n/2) sequences from ``make_true(rng)``, the rest from ``make_false(rng)``,
    shuffled together (InterpBench shuffles the final dataset too)."""
    half = n // 2
    data = [make_true(rng) for _ in range(half)] + [make_false(rng) for _ in range(n - half)]
    rng.shuffle(data)
    return data


def _uniform(vocab, length: int):
    ordered = sorted(vocab)
    return lambda rng: [rng.choice(ordered) for _ in range(length)]


def _strictly_decreasing(length: int):
    return lambda rng: sorted(rng.sample(sorted(INTS_0_10), length), reverse=True)


def _sample_non_increasing(rng: random.Random, n: int, length: int) -> list[list[int]]:
    return _balanced(rng, n, _strictly_decreasing(length), _uniform(INTS_0_10, length))


def _distinct_with_one_repeat(length: int):
    def make(rng: random.Random) -> list[int]:
        distinct = rng.sample(sorted(INTS_0_10), length - 1)
        seq = distinct + [rng.choice(distinct)]
        rng.shuffle(seq)
        return seq

    return make


def _all_distinct(vocab, length: int):
    return lambda rng: rng.sample(sorted(vocab), length)


def _sample_has_duplicate(rng: random.Random, n: int, length: int) -> list[list[int]]:
    return _balanced(rng, n, _distinct_with_one_repeat(length), _all_distinct(INTS_0_10, length))


def _ending_in_pair(length: int, equal: bool):
    ordered = sorted(INTS_0_10)

    def make(rng: random.Random) -> list[int]:
        prefix = [rng.choice(ordered) for _ in range(length - 2)]
        last = rng.choice(ordered)
        other = last if equal else rng.choice([v for v in ordered if v != last])
        return prefix + [other, last]

    return make


def _sample_last_two_equal(rng: random.Random, n: int, length: int) -> list[list[int]]:
    return _balanced(rng, n, _ending_in_pair(length, True), _ending_in_pair(length, False))


def _constant_sequence(length: int):
    ordered = sorted(INTS_0_10)
    return lambda rng: [rng.choice(ordered)] * length


def _distinct_cycled(length: int):
    """Distinct values, repeated cyclically if the sequence is longer than the vocab."""
    ordered = sorted(INTS_0_10)

    def make(rng: random.Random) -> list[int]:
        distinct = rng.sample(ordered, min(length, len(ordered)))
        return [distinct[i % len(distinct)] for i in range(length)]

    return make


def _sample_all_equal(rng: random.Random, n: int, length: int) -> list[list[int]]:
    return _balanced(rng, n, _constant_sequence(length), _distinct_cycled(length))


def _even_odd_alternating(length: int):
    evens = [v for v in sorted(INTS_0_10) if v % 2 == 0]
    odds = [v for v in sorted(INTS_0_10) if v % 2 == 1]
    return lambda rng: [rng.choice(evens if i % 2 == 0 else odds) for i in range(length)]


def _sample_alternating(rng: random.Random, n: int, length: int) -> list[list[int]]:
    return _balanced(rng, n, _even_odd_alternating(length), _uniform(INTS_0_10, length))


def _distinct_evens_and_one_odd(length: int):
    def make(rng: random.Random) -> list[int]:
        seq = rng.sample(_EVENS_0_29, length - 1) + [rng.choice(_ODDS_0_29)]
        rng.shuffle(seq)
        return seq

    return make


def _sample_all_even(rng: random.Random, n: int, length: int) -> list[list[int]]:
    return _balanced(rng, n, _all_distinct(_EVENS_0_29, length), _distinct_evens_and_one_odd(length))


@case(
    "5",
    "Whether the whole string balances () and {} independently (shuffle-Dyck), at every position.",
    vocab={"(", ")", "{", "}", "x"},
    causal=False,
    sampler=_sample_dyck_balanced,
)
def shuffle_dyck_two_pairs():
    return _make_shuffle_dyck(["()", "{}"])


@case(
    "17",
    "Whether the token equals the token at the mirrored position (all True iff a palindrome).",
    vocab=vocabs.ascii_letters(10),
    causal=False,
    sampler=_sample_palindrome_balanced,
)
def matches_mirror():
    r = rasp_lib.rasp()
    mirrored = rasp_lib.make_reverse(r.tokens)
    return r.SequenceMap(lambda x, y: x == y, r.tokens, mirrored).named("palindrome_detection")


@case(
    "89",
    "1 at every position when the sequence is non-decreasing, otherwise 0.",
    vocab=INTS_0_10,
    max_seq_len=len(INTS_0_10),
    causal=False,
    sampler=_sample_half_increasing,
)
def is_non_decreasing():
    r = rasp_lib.rasp()
    previous_token = rasp_lib.previous_token_or_first()
    in_order = r.SequenceMap(lambda p, x: 0 if p > x else 1, previous_token, r.tokens).named("in_order")
    return rasp_lib.all_flags_set(in_order, label="is_non_decreasing", count_label="violations")


@case(
    "94",
    "1 everywhere iff no token is larger than the one before it, else 0 everywhere.",
    vocab=INTS_0_10,
    causal=False,
    sampler=_sample_non_increasing,
)
def is_non_increasing():
    r = rasp_lib.rasp()
    previous = rasp_lib.previous_token_or_first()
    in_order = r.SequenceMap(lambda p, t: 1 if p >= t else 0, previous, r.tokens).named("in_order")
    return rasp_lib.all_flags_set(in_order)


@case(
    "108",
    "1 everywhere iff some value occurs at least twice, else 0 everywhere.",
    vocab=INTS_0_10,
    causal=False,
    sampler=_sample_has_duplicate,
)
def has_duplicate():
    r = rasp_lib.rasp()
    copies = rasp_lib.make_hist("copies")
    two = rasp_lib.constant(2, "two")
    repeated = r.SelectorWidth(r.Select(copies, two, r.Comparison.GEQ)).named("repeated_count")
    return r.Map(lambda count: 1 if count > 0 else 0, repeated).named("has_duplicate")


@case(
    "109",
    "1 everywhere iff the last two tokens are equal, else 0 everywhere.",
    vocab=INTS_0_10,
    causal=False,
    sampler=_sample_last_two_equal,
)
def last_two_equal():
    r = rasp_lib.rasp()
    last, second_last = rasp_lib.last_two_tokens()
    return r.SequenceMap(lambda a, b: 1 if a == b else 0, last, second_last).named("last_two_equal")


@case(
    "124",
    "1 everywhere iff all tokens are equal, else 0 everywhere.",
    vocab=INTS_0_10,
    causal=False,
    sampler=_sample_all_equal,
)
def all_equal():
    r = rasp_lib.rasp()
    differing = rasp_lib.count_where(r.Comparison.NEQ, "differing_count")
    # Positions that differ from nobody; there are some (all of them) iff all are equal.
    return r.Map(lambda count: 1 if count > 0 else 0, rasp_lib.count_zero_flags(differing)).named("all_equal")


@case(
    "125",
    "1 everywhere iff neighbouring tokens always differ in parity, else 0 everywhere.",
    vocab=INTS_0_10,
    causal=False,
    sampler=_sample_alternating,
)
def alternating_parity():
    r = rasp_lib.rasp()
    # Position 0 is compared with position 1 (the neighbour it has).
    neighbour = r.Select(r.indices, r.indices, lambda k, q: q == k + 1 or (k == 1 and q == 0))
    previous = r.Aggregate(neighbour, r.tokens).named("neighbour_token")
    previous_even = r.Map(lambda x: 1 if x % 2 == 0 else 0, previous).named("neighbour_even")
    token_odd = r.Map(lambda x: 1 if x % 2 == 1 else 0, r.tokens).named("token_odd")
    differ = r.SequenceMap(lambda a, b: 1 if a == b else 0, previous_even, token_odd).named("parities_differ")
    return rasp_lib.all_flags_set(differ)


@case(
    "129",
    "1 everywhere iff every token is even, else 0 everywhere.",
    vocab=INTS_0_29,
    causal=False,
    sampler=_sample_all_even,
)
def all_even():
    r = rasp_lib.rasp()
    even = r.Map(lambda x: 1 if x % 2 == 0 else 0, r.tokens).named("is_even")
    return rasp_lib.all_flags_set(even)
