"""Tokens moved to other positions: reversals, swaps, shuffles.

Part of the built-in catalogue (CASES.md §5), declared with
``interpbench.cases.catalogue.case``; shared RASP building blocks come from
``interpbench.cases.rasp_lib``.
"""

from __future__ import annotations

from typing import Any, Callable

from interpbench.cases import rasp_lib, vocabs
from interpbench.cases.catalogue import case

# InterpBench's default integer vocabulary is 0..10 (its helper's default upper bound is 11).
INTS_0_10 = vocabs.int_numbers(0, 11)
INTS_0_29 = vocabs.int_numbers(0, 30)


def _interleave_source(i, n):
    """Even positions read themselves; odd positions read the odd positions backwards."""
    if i % 2 == 0:
        return i
    return n - i if n % 2 == 0 else n - i - 1


def _flipped_position(index: int, half: float):
    """Where the token at ``index`` goes when the two halves are swapped."""
    if half == int(half):  # even length
        return index - half if index >= half else index + half
    middle = int(half)  # odd length: the middle token stays
    if index == middle:
        return index
    return index + middle + 1 if index < middle else index - middle - 1


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


@case("2", "The input sequence reversed.", vocab=vocabs.ascii_letters(26), causal=False)
def reverse_sequence():
    r = rasp_lib.rasp()
    return rasp_lib.make_reverse(r.tokens)


@case(
    "58",
    "First half kept; the second half becomes the mirror image of the first.",
    vocab=INTS_0_10,
    causal=False,
)
def mirror_first_half():
    r = rasp_lib.rasp()
    length = rasp_lib.make_length()
    # The published program also builds a first-half selector that the output never uses.
    source = r.SequenceMap(lambda i, n: n - 1 - i if i >= n // 2 else i, r.indices, length).named("mirror_source")
    return rasp_lib.gather(r.tokens, source, "mirror_first_half")


@case(
    "74",
    "Even positions unchanged; the tokens at odd positions appear in reverse order.",
    vocab=INTS_0_10,
    causal=False,
)
def reverse_odd_positions():
    r = rasp_lib.rasp()
    source = r.SequenceMap(_interleave_source, r.indices, rasp_lib.make_length_from_indices()).named(
        "interleave_source"
    )
    return rasp_lib.gather(r.tokens, source, "reverse_odd_positions")


@case(
    "93",
    "Swap neighbouring pairs starting at index 1; index 0 and an unpaired last token stay.",
    vocab=INTS_0_10,
    causal=False,
)
def swap_pairs_from_one():
    return _swap_pairs(_partner_from_index_one)


@case(
    "100",
    "The first two tokens exchanged, the rest unchanged.",
    vocab=INTS_0_10,
    max_seq_len=11,
    causal=False,
)
def swap_first_two():
    r = rasp_lib.rasp()
    destination = r.Map(lambda i: {0: 1, 1: 0}.get(i, i), r.indices).named("destination")
    return rasp_lib.scatter(r.tokens, destination, "swapped")


@case(
    "103",
    "Swap neighbouring pairs starting at index 0; an unpaired last token stays.",
    vocab=INTS_0_10,
    causal=False,
)
def swap_pairs_from_zero():
    return _swap_pairs(_partner_from_index_zero)


@case(
    "110",
    "Token i/2 at even positions i and 0 at odd ones (zeros interleaved, second half dropped).",
    vocab=INTS_0_10,
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
    vocab=INTS_0_29,
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
    vocab=INTS_0_10,
    causal=False,
)
def flip_halves():
    r = rasp_lib.rasp()
    half = r.Map(lambda n: n / 2, rasp_lib.make_length_from_indices()).named("half_length")
    destination = r.SequenceMap(_flipped_position, r.indices, half).named("destination")
    return rasp_lib.scatter(r.tokens, destination, "flipped_halves")


@case("128", "The first and last tokens exchanged.", vocab=INTS_0_10, causal=False)
def swap_first_and_last():
    r = rasp_lib.rasp()

    def destination_of(i: int, n: int) -> int:
        if i == 0:
            return n - 1
        return 0 if i == n - 1 else i

    destination = r.SequenceMap(destination_of, r.indices, rasp_lib.make_length_from_indices()).named("destination")
    return rasp_lib.scatter(r.tokens, destination, "swapped")
