"""Order statistics: sorts, the maximum, the median.

Part of the built-in catalogue (CASES.md §5), declared with
``interpbench.cases.catalogue.case``; shared RASP building blocks come from
``interpbench.cases.rasp_lib``.
"""

from __future__ import annotations

from interpbench.cases import rasp_lib, vocabs
from interpbench.cases.catalogue import case

# InterpBench's default integer vocabulary is 0..10 (its helper's default upper bound is 11).
INTS_0_10 = vocabs.int_numbers(0, 11)


@case("9", "The sequence sorted ascending, equal values kept in order.", vocab=vocabs.int_digits(10), causal=False)
def sort_digits_ascending():
    r = rasp_lib.rasp()
    return rasp_lib.make_sort(r.tokens, r.tokens, tie_break=lambda i: i / 10)


@case("22", "The words sorted by length, ties kept in order.", vocab=vocabs.words(), causal=False)
def sort_words_by_length():
    r = rasp_lib.rasp()
    length = r.Map(len, r.tokens).named("word_length")
    return rasp_lib.make_sort(r.tokens, length, tie_break=lambda i: i / 10)


@case(
    "59",
    "The sequence sorted in ascending order (equal tokens keep their order).",
    vocab=INTS_0_10,
    causal=False,
)
def sort_ascending():
    r = rasp_lib.rasp()
    return rasp_lib.make_sort(
        r.tokens,
        r.tokens,
        tie_break=lambda i: i * 1e-5,
        keys_label="sorted_keys",
        target_label="sorted_target",
        label="sorted",
    )


@case(
    "81",
    "Median of the whole sequence (mean of the two middle values), at every position.",
    vocab=INTS_0_10,
    causal=False,
)
def median():
    r = rasp_lib.rasp()
    sorted_tokens = rasp_lib.make_sort(
        r.tokens,
        r.tokens,
        tie_break=lambda i: i * (1 / 100),
        keys_label="sorted_keys",
        target_label="sorted_target",
        label="sorted",
    )
    return rasp_lib.make_median(sorted_tokens)


@case(
    "97",
    "Each token divided by the sequence maximum (0 if the maximum is 0).",
    vocab=INTS_0_10,
    causal=False,
)
def scale_by_max():
    r = rasp_lib.rasp()
    maximum = rasp_lib.broadcast_max()
    return r.SequenceMap(lambda t, m: t / m if m > 0 else 0, r.tokens, maximum).named("scaled_by_max")


@case("98", "The sequence maximum at every position.", vocab=INTS_0_10, causal=False)
def broadcast_max():
    return rasp_lib.broadcast_max()


@case(
    "126",
    "The median of the sequence (mean of the two middle values) at every position.",
    vocab=INTS_0_10,
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
