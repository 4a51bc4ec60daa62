"""Cases 090-131 of the InterpBench catalogue (CASES.md §5).

Integer vocabularies follow InterpBench's ranges: "ints 0..10" is range(0, 11).
Programs keep the catalogue's RASP structure (which selects, which maps, in which
order) because the compiled circuit, not only the input/output behaviour, is the
benchmark's ground truth.
"""

from __future__ import annotations

import math
import random
from typing import Any, Callable

from interpbench.cases import rasp_lib, vocabs
from interpbench.cases.catalogue import case

_INTS_0_10 = vocabs.int_numbers(0, 11)
_INTS_0_29 = vocabs.int_numbers(0, 30)
_EVENS_0_29 = [v for v in sorted(_INTS_0_29) if v % 2 == 0]
_ODDS_0_29 = [v for v in sorted(_INTS_0_29) if v % 2 == 1]

# ---------------------------------------------------------------------------
# Shared data-sampling helpers
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Pure helper functions used inside Maps
# ---------------------------------------------------------------------------


def _distinct_prime_factor_count(n: int) -> int:
    """Trial division; 0 and 1 have no prime factors."""
    count, factor = 0, 2
    while factor * factor <= n:
        if n % factor == 0:
            count += 1
            while n % factor == 0:
                n //= factor
        factor += 1
    return count + (1 if n > 1 else 0)


def _smallest_prime_at_least(n: int) -> int:
    while not rasp_lib.is_prime(n):
        n += 1
    return n


def _reflect_into(low: int, high: int, x: int) -> int:
    """Bounce x off the bounds: a triangle wave of period 2*(high - low)."""
    width = high - low
    phase = (x - low) % (2 * width)
    return low + phase if phase <= width else low + 2 * width - phase


def _flipped_position(index: int, half: float):
    """Where the token at ``index`` goes when the two halves are swapped."""
    if half == int(half):  # even length
        return index - half if index >= half else index + half
    middle = int(half)  # odd length: the middle token stays
    if index == middle:
        return index
    return index + middle + 1 if index < middle else index - middle - 1


# ---------------------------------------------------------------------------
# Element-wise Maps
# ---------------------------------------------------------------------------


@case(
    "90",
    "Each word, except that 'findme' becomes '-'.",
    vocab=vocabs.words() | {"findme", "-"},
    trivial=True,
)
def replace_findme():
    return rasp_lib.token_map(lambda w: "-" if w == "findme" else w, "replace_findme")


@case("91", "Each token, or 0 where it is below 3.", vocab=_INTS_0_10)
def zero_below_three():
    return rasp_lib.token_map(lambda x: 0 if x < 3 else x, "zero_below_three")


@case("95", "How many distinct primes divide each token (0 for 0 and 1).", vocab=_INTS_0_29)
def distinct_prime_factors():
    return rasp_lib.token_map(_distinct_prime_factor_count, "distinct_prime_factors")


@case("101", "1 where the token is a perfect square, else 0.", vocab=_INTS_0_29)
def is_perfect_square():
    return rasp_lib.token_map(lambda x: 1 if math.isqrt(x) ** 2 == x else 0, "is_perfect_square")


@case("102", "Each token reflected back and forth into the range [2, 7].", vocab=vocabs.int_numbers(-20, 20))
def reflect_into_range():
    return rasp_lib.token_map(lambda x: _reflect_into(2, 7, x), "reflect_into_2_7")


@case("104", "The exponential of each token.", vocab=_INTS_0_10)
def exponential():
    return rasp_lib.token_map(math.exp, "exp")


@case("105", "The smallest prime not below each token.", vocab=_INTS_0_29)
def next_prime():
    return rasp_lib.token_map(_smallest_prime_at_least, "next_prime")


@case("107", "Each token wrapped modulo 5 into the range [2, 7).", vocab=vocabs.int_numbers(-15, 15))
def wrap_into_range():
    return rasp_lib.token_map(lambda x: (x - 2) % 5 + 2, "wrap_into_2_7")


@case("114", "The base-10 logarithm of each token.", vocab=vocabs.int_numbers(1, 11))
def log10():
    # math.log(x, 10) rather than math.log10: the two differ in the last bit for
    # several tokens, and InterpBench's class values come from math.log(x, 10).
    return rasp_lib.token_map(lambda x: math.log(x, 10), "log10")


# float_numbers(-1, 1, 20) reproduces the catalogue's F20b set exactly, float
# artefacts included (-1 + k * 0.1 for k = 0..19).
@case("121", "The arcsine of each token.", vocab=vocabs.float_numbers(-1, 1, 20))
def arcsine():
    return rasp_lib.token_map(math.asin, "arcsin")


@case("122", "1 where the token is divisible by 3, else 0.", vocab=_INTS_0_29)
def divisible_by_three():
    return rasp_lib.token_map(lambda x: 1 if x % 3 == 0 else 0, "divisible_by_3")


@case("123", "The arccosine of each token.", vocab=vocabs.float_numbers(-1, 1, 20))
def arccosine():
    return rasp_lib.token_map(math.acos, "arccos")


@case("106", "The token at index 1, and 0 at every other position.", vocab=_INTS_0_10, trivial=True)
def keep_index_one():
    r = rasp_lib.rasp()
    return r.SequenceMap(lambda t, i: t if i == 1 else 0, r.tokens, r.indices).named("keep_index_1")


@case("130", "Each token clipped to the range [2, 7].", vocab=vocabs.int_numbers(-15, 15))
def clip_into_range():
    # The catalogue's program also builds two comparison Maps that nothing reads;
    # they would not be compiled, so they are left out.
    r = rasp_lib.rasp()
    low = r.Map(lambda _: 2, r.tokens).named("low_bound")
    high = r.Map(lambda _: 7, r.tokens).named("high_bound")
    raised = r.SequenceMap(lambda t, lo: lo if t < lo else t, r.tokens, low).named("clip_below")
    return r.SequenceMap(lambda t, hi: hi if t > hi else t, raised, high).named("clip_above")


# ---------------------------------------------------------------------------
# Neighbour comparisons
# ---------------------------------------------------------------------------


@case(
    "92",
    "Each token, or 0 where it is smaller than the previous token.",
    vocab=_INTS_0_10,
)
def zero_if_below_previous():
    r = rasp_lib.rasp()
    previous = rasp_lib.previous_token_or_first()
    return r.SequenceMap(lambda t, p: 0 if t < p else t, r.tokens, previous).named("zero_if_below_previous")


def _combine_with_next(combine: Callable[[int, int], int], name: str) -> Any:
    """combine(token, next token); the last token is combined with itself."""
    r = rasp_lib.rasp()
    return r.SequenceMap(combine, r.tokens, rasp_lib.next_token_or_last()).named(name)


@case("99", "Each token plus the next one (the last token is doubled).", vocab=_INTS_0_10, causal=False)
def sum_with_next():
    return _combine_with_next(lambda t, nxt: t + nxt, "sum_with_next")


@case("112", "The next token minus each token (0 at the last position).", vocab=_INTS_0_10, causal=False)
def difference_to_next():
    return _combine_with_next(lambda t, nxt: nxt - t, "difference_to_next")


@case("115", "Each token times the next one (the last token is squared).", vocab=_INTS_0_10, causal=False)
def product_with_next():
    return _combine_with_next(lambda t, nxt: t * nxt, "product_with_next")


@case(
    "118",
    "Each token plus the previous one (undefined at the first position).",
    vocab=_INTS_0_10,
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
    vocab=_INTS_0_10,
)
def max_with_previous():
    r = rasp_lib.rasp()
    previous = rasp_lib.shift_by(1, r.tokens)
    return r.SequenceMap(lambda t, p: int(max(t, p)), r.tokens, previous).named("max_with_previous")


# ---------------------------------------------------------------------------
# Index permutations
# ---------------------------------------------------------------------------


def _partner_from_index_one(i: int, n: int) -> int:
    """Pairs (1,2), (3,4), ...: index 0 and an unpaired last index stay."""
    if i == 0 or (i == n - 1 and n % 2 == 0):
        return i
    return i + 1 if i % 2 == 1 else i - 1


def _partner_from_index_zero(i: int, n: int) -> int:
    """Pairs (0,1), (2,3), ...: an unpaired last index stays."""
    if i == n - 1 and n % 2 == 1:
        return i
    return i + 1 if i % 2 == 0 else i - 1


def _swap_pairs(partner: Callable[[int, int], int]) -> Any:
    r = rasp_lib.rasp()
    source = r.SequenceMap(partner, r.indices, rasp_lib.make_length_from_indices()).named("partner_index")
    return rasp_lib.gather(r.tokens, source, "swapped")


@case(
    "93",
    "Swap neighbouring pairs starting at index 1; index 0 and an unpaired last token stay.",
    vocab=_INTS_0_10,
    causal=False,
)
def swap_pairs_from_one():
    return _swap_pairs(_partner_from_index_one)


@case(
    "103",
    "Swap neighbouring pairs starting at index 0; an unpaired last token stays.",
    vocab=_INTS_0_10,
    causal=False,
)
def swap_pairs_from_zero():
    return _swap_pairs(_partner_from_index_zero)


@case(
    "100",
    "The first two tokens exchanged, the rest unchanged.",
    vocab=_INTS_0_10,
    max_seq_len=11,
    causal=False,
)
def swap_first_two():
    r = rasp_lib.rasp()
    destination = r.Map(lambda i: {0: 1, 1: 0}.get(i, i), r.indices).named("destination")
    return rasp_lib.scatter(r.tokens, destination, "swapped")


@case(
    "110",
    "Token i/2 at even positions i and 0 at odd ones (zeros interleaved, second half dropped).",
    vocab=_INTS_0_10,
    causal=False,
)
def interleave_zeros():
    r = rasp_lib.rasp()
    half_index = r.Select(r.indices, r.indices, lambda k, q: k == int(q / 2))
    spread = r.Aggregate(half_index, r.tokens).named("token_at_half_index")
    return r.SequenceMap(lambda t, i: t if i % 2 == 0 else 0, spread, r.indices).named("interleave_zeros")


@case(
    "113",
    "The sequence reversed if it is non-decreasing, otherwise unchanged.",
    vocab=_INTS_0_29,
    causal=False,
)
def reverse_if_sorted():
    r = rasp_lib.rasp()
    previous = rasp_lib.previous_token_or_first()
    in_order = r.SequenceMap(lambda p, t: 1 if p <= t else 0, previous, r.tokens).named("in_order")
    # +1 keeps positions (some pair is out of order), -1 mirrors them around the centre.
    violations = rasp_lib.count_zero_flags(in_order)
    direction = r.Map(lambda count: 1 if count > 0 else -1, violations).named("direction")
    centre = r.Map(lambda n: n / 2 - 0.5, rasp_lib.make_length_from_indices()).named("centre")
    offset = r.SequenceMap(lambda i, c: i - c, r.indices, centre).named("offset_from_centre")
    signed = r.SequenceMap(lambda d, o: d * o, direction, offset).named("signed_offset")
    destination = r.SequenceMap(lambda c, s: c + s, centre, signed).named("destination")
    return rasp_lib.scatter(r.tokens, destination, "reverse_if_sorted")


@case(
    "120",
    "The two halves of the sequence exchanged (an odd middle token stays).",
    vocab=_INTS_0_10,
    causal=False,
)
def flip_halves():
    r = rasp_lib.rasp()
    half = r.Map(lambda n: n / 2, rasp_lib.make_length_from_indices()).named("half_length")
    destination = r.SequenceMap(_flipped_position, r.indices, half).named("destination")
    return rasp_lib.scatter(r.tokens, destination, "flipped_halves")


@case("128", "The first and last tokens exchanged.", vocab=_INTS_0_10, causal=False)
def swap_first_and_last():
    r = rasp_lib.rasp()

    def destination_of(i: int, n: int) -> int:
        if i == 0:
            return n - 1
        return 0 if i == n - 1 else i

    destination = r.SequenceMap(destination_of, r.indices, rasp_lib.make_length_from_indices()).named("destination")
    return rasp_lib.scatter(r.tokens, destination, "swapped")


# ---------------------------------------------------------------------------
# Whole-sequence checks broadcast to every position
# ---------------------------------------------------------------------------


def _strictly_decreasing(length: int):
    return lambda rng: sorted(rng.sample(sorted(_INTS_0_10), length), reverse=True)


def _sample_non_increasing(rng: random.Random, n: int, length: int) -> list[list[int]]:
    return _balanced(rng, n, _strictly_decreasing(length), _uniform(_INTS_0_10, length))


@case(
    "94",
    "1 everywhere iff no token is larger than the one before it, else 0 everywhere.",
    vocab=_INTS_0_10,
    causal=False,
    sampler=_sample_non_increasing,
)
def is_non_increasing():
    r = rasp_lib.rasp()
    previous = rasp_lib.previous_token_or_first()
    in_order = r.SequenceMap(lambda p, t: 1 if p >= t else 0, previous, r.tokens).named("in_order")
    return rasp_lib.all_flags_set(in_order)


def _distinct_with_one_repeat(length: int):
    def make(rng: random.Random) -> list[int]:
        distinct = rng.sample(sorted(_INTS_0_10), length - 1)
        seq = distinct + [rng.choice(distinct)]
        rng.shuffle(seq)
        return seq

    return make


def _all_distinct(vocab, length: int):
    return lambda rng: rng.sample(sorted(vocab), length)


def _sample_has_duplicate(rng: random.Random, n: int, length: int) -> list[list[int]]:
    return _balanced(rng, n, _distinct_with_one_repeat(length), _all_distinct(_INTS_0_10, length))


@case(
    "108",
    "1 everywhere iff some value occurs at least twice, else 0 everywhere.",
    vocab=_INTS_0_10,
    causal=False,
    sampler=_sample_has_duplicate,
)
def has_duplicate():
    r = rasp_lib.rasp()
    copies = rasp_lib.make_hist("copies")
    two = rasp_lib.constant(2, "two")
    repeated = r.SelectorWidth(r.Select(copies, two, r.Comparison.GEQ)).named("repeated_count")
    return r.Map(lambda count: 1 if count > 0 else 0, repeated).named("has_duplicate")


def _ending_in_pair(length: int, equal: bool):
    ordered = sorted(_INTS_0_10)

    def make(rng: random.Random) -> list[int]:
        prefix = [rng.choice(ordered) for _ in range(length - 2)]
        last = rng.choice(ordered)
        other = last if equal else rng.choice([v for v in ordered if v != last])
        return prefix + [other, last]

    return make


def _sample_last_two_equal(rng: random.Random, n: int, length: int) -> list[list[int]]:
    return _balanced(rng, n, _ending_in_pair(length, True), _ending_in_pair(length, False))


@case(
    "109",
    "1 everywhere iff the last two tokens are equal, else 0 everywhere.",
    vocab=_INTS_0_10,
    causal=False,
    sampler=_sample_last_two_equal,
)
def last_two_equal():
    r = rasp_lib.rasp()
    last, second_last = rasp_lib.last_two_tokens()
    return r.SequenceMap(lambda a, b: 1 if a == b else 0, last, second_last).named("last_two_equal")


def _constant_sequence(length: int):
    ordered = sorted(_INTS_0_10)
    return lambda rng: [rng.choice(ordered)] * length


def _distinct_cycled(length: int):
    """Distinct values, repeated cyclically if the sequence is longer than the vocab."""
    ordered = sorted(_INTS_0_10)

    def make(rng: random.Random) -> list[int]:
        distinct = rng.sample(ordered, min(length, len(ordered)))
        return [distinct[i % len(distinct)] for i in range(length)]

    return make


def _sample_all_equal(rng: random.Random, n: int, length: int) -> list[list[int]]:
    return _balanced(rng, n, _constant_sequence(length), _distinct_cycled(length))


@case(
    "124",
    "1 everywhere iff all tokens are equal, else 0 everywhere.",
    vocab=_INTS_0_10,
    causal=False,
    sampler=_sample_all_equal,
)
def all_equal():
    r = rasp_lib.rasp()
    differing = rasp_lib.count_where(r.Comparison.NEQ, "differing_count")
    # Positions that differ from nobody; there are some (all of them) iff all are equal.
    return r.Map(lambda count: 1 if count > 0 else 0, rasp_lib.count_zero_flags(differing)).named("all_equal")


def _even_odd_alternating(length: int):
    evens = [v for v in sorted(_INTS_0_10) if v % 2 == 0]
    odds = [v for v in sorted(_INTS_0_10) if v % 2 == 1]
    return lambda rng: [rng.choice(evens if i % 2 == 0 else odds) for i in range(length)]


def _sample_alternating(rng: random.Random, n: int, length: int) -> list[list[int]]:
    return _balanced(rng, n, _even_odd_alternating(length), _uniform(_INTS_0_10, length))


@case(
    "125",
    "1 everywhere iff neighbouring tokens always differ in parity, else 0 everywhere.",
    vocab=_INTS_0_10,
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


def _distinct_evens_and_one_odd(length: int):
    def make(rng: random.Random) -> list[int]:
        seq = rng.sample(_EVENS_0_29, length - 1) + [rng.choice(_ODDS_0_29)]
        rng.shuffle(seq)
        return seq

    return make


def _sample_all_even(rng: random.Random, n: int, length: int) -> list[list[int]]:
    return _balanced(rng, n, _all_distinct(_EVENS_0_29, length), _distinct_evens_and_one_odd(length))


@case(
    "129",
    "1 everywhere iff every token is even, else 0 everywhere.",
    vocab=_INTS_0_29,
    causal=False,
    sampler=_sample_all_even,
)
def all_even():
    r = rasp_lib.rasp()
    even = r.Map(lambda x: 1 if x % 2 == 0 else 0, r.tokens).named("is_even")
    return rasp_lib.all_flags_set(even)


# ---------------------------------------------------------------------------
# Counting and broadcast statistics
# ---------------------------------------------------------------------------


@case(
    "96",
    "Each token whose value occurs only once in the sequence, and 0 for repeated values.",
    vocab=vocabs.int_numbers(1, 11),
    causal=False,
)
def zero_repeated_values():
    r = rasp_lib.rasp()
    copies = rasp_lib.make_hist("copies")
    position = r.Map(lambda i: i + 1, r.indices).named("one_based_index")
    # Despite the "keep first occurrences" intent, copies counts the whole sequence,
    # so every occurrence of a repeated value is zeroed.
    bounded = r.SequenceMap(lambda c, p: c if c <= p else 0, copies, position).named("bounded_copies")
    unique = r.Map(lambda c: 1 if c == 1 else 0, bounded).named("is_unique")
    return r.SequenceMap(lambda t, u: t if u == 1 else 0, r.tokens, unique).named("zero_repeated")


@case(
    "97",
    "Each token divided by the sequence maximum (0 if the maximum is 0).",
    vocab=_INTS_0_10,
    causal=False,
)
def scale_by_max():
    r = rasp_lib.rasp()
    maximum = rasp_lib.broadcast_max()
    return r.SequenceMap(lambda t, m: t / m if m > 0 else 0, r.tokens, maximum).named("scaled_by_max")


@case("98", "The sequence maximum at every position.", vocab=_INTS_0_10, causal=False)
def broadcast_max():
    return rasp_lib.broadcast_max()


@case("111", "The last token at position 0, and 0 everywhere else.", vocab=_INTS_0_10, causal=False)
def last_token_at_start():
    r = rasp_lib.rasp()
    last_index = r.Map(lambda n: n - 1, rasp_lib.make_length()).named("last_index")
    last = rasp_lib.gather(r.tokens, last_index, "last_token")
    return r.SequenceMap(lambda t, i: t if i == 0 else 0, last, r.indices).named("last_at_start")


@case(
    "116",
    "1 where the token is a multiple of the first token, else 0 (all 0 if the first is 0).",
    vocab=_INTS_0_10,
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


@case("117", "The sum of the last two tokens at every position.", vocab=_INTS_0_10, causal=False)
def sum_of_last_two():
    r = rasp_lib.rasp()
    last, second_last = rasp_lib.last_two_tokens()
    return r.SequenceMap(lambda a, b: a + b, last, second_last).named("sum_of_last_two")


def _polynomial_term(x: Any, coefficient_index: int, power: int) -> Any:
    """token[coefficient_index] * x**power; the index comes from a constant Map over
    tokens, as in the catalogue's program."""
    r = rasp_lib.rasp()
    index = r.Map(lambda _: coefficient_index, r.tokens).named(f"index_{coefficient_index}")
    coefficient = rasp_lib.gather(r.tokens, index, f"coefficient_{coefficient_index}")
    return r.SequenceMap(lambda base, c: c * base**power, x, coefficient).named(f"term_{coefficient_index}")


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
    "126",
    "The median of the sequence (mean of the two middle values) at every position.",
    vocab=_INTS_0_10,
    causal=False,
)
def broadcast_median():
    r = rasp_lib.rasp()
    ordered = rasp_lib.make_sort(
        r.tokens,
        r.tokens,
        tie_break=lambda i: 1e-4 * i,
        keys_label="sort_keys",
        target_label="sorted_position",
        label="sorted",
    )
    return rasp_lib.make_median(
        ordered,
        index_labels=("lower_middle_index", "upper_middle_index"),
        middle_labels=("lower_middle", "upper_middle"),
    )


@case(
    "127",
    "Each token divided by (second token / first token), using 1 when either is 0.",
    vocab=_INTS_0_10,
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
