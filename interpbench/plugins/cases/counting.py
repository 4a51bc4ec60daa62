"""Counts over the sequence: histograms, selector-width counts, prefix fractions.

Part of the built-in catalogue (CASES.md §5), declared with
``interpbench.cases.catalogue.case``; shared RASP building blocks come from
``interpbench.cases.rasp_lib``.
"""

from __future__ import annotations

from interpbench.cases import rasp_lib, vocabs
from interpbench.cases.catalogue import case

# InterpBench's default integer vocabulary is 0..10 (its helper's default upper bound is 11).
INTS_0_10 = vocabs.int_numbers(0, 11)


def _prefix_fraction_of_x(tokens: list) -> list[float]:
    """Case 39's labels, computed directly rather than by evaluating RASP."""
    seen = 0
    fractions = []
    for i, token in enumerate(tokens):
        seen += token == "x"
        fractions.append(seen / (i + 1))
    return fractions


@case(
    "3",
    "Fraction of tokens so far (inclusive) that equal 'x'.",
    vocab={"a", "b", "c", "x"},
    max_seq_len=5,
    categorical=False,
)
def frac_prevs_of_x():
    r = rasp_lib.rasp()
    return rasp_lib.make_frac_prevs(r.tokens == "x")


@case(
    "4",
    "Prefix fraction of '(' minus prefix fraction of ')'.",
    vocab=vocabs.ascii_letters(3) | {"(", ")"},
    categorical=False,
)
def paren_pair_balance():
    return rasp_lib.make_pair_balance("(", ")")


@case("7", "How many times the current token occurs in the sequence.", vocab=vocabs.ascii_letters(3), causal=False)
def histogram():
    return rasp_lib.make_hist()


@case("14", "How many tokens in the sequence are 'a', at every position.", vocab=vocabs.ascii_letters(3), causal=False)
def count_of_a():
    return rasp_lib.count_where(lambda key, query: key == "a", "count_a")


@case(
    "18",
    "Token frequency class: 'frequent' above half the length, 'common' above a quarter, else 'rare'.",
    vocab=vocabs.ascii_letters(5),
    causal=False,
)
def frequency_class():
    r = rasp_lib.rasp()

    def classify(count, length):
        if count > length / 2:
            return "frequent"
        if count > length / 4:
            return "common"
        return "rare"

    return r.SequenceMap(classify, rasp_lib.make_hist(), rasp_lib.make_length()).named("frequency_class")


@case(
    "21",
    "The token at its first occurrence, undefined where it occurred before.",
    vocab=vocabs.ascii_letters(3),
)
def first_occurrences():
    r = rasp_lib.rasp()
    token_index = r.SequenceMap(lambda x, i: (x, i), r.tokens, r.indices).named("token_index")
    same_earlier = r.Select(token_index, token_index, lambda k, q: k[0] == q[0] and k[1] <= q[1]).named("same_earlier")
    occurrence = r.SelectorWidth(same_earlier).named("occurrence")
    source = r.SequenceMap(lambda n, i: i if n == 1 else -1, occurrence, r.indices).named("first_index")
    return rasp_lib.scatter(r.tokens, source, "unique_tokens")


@case(
    "25",
    "Relative frequency of the token: its count divided by the sequence length.",
    vocab=vocabs.ascii_letters(3),
    causal=False,
)
def relative_frequency():
    r = rasp_lib.rasp()
    return r.SequenceMap(
        lambda count, length: count / length if length > 0 else None, rasp_lib.make_hist(), rasp_lib.make_length()
    ).named("relative_frequency")


@case(
    "39",
    "Fraction of tokens so far (inclusive) that equal 'x', on long sequences.",
    vocab=vocabs.ascii_letters(26),
    max_seq_len=60,
    categorical=False,
    reference=_prefix_fraction_of_x,
)
def frac_prevs_of_x_long():
    r = rasp_lib.rasp()
    return rasp_lib.make_frac_prevs((r.tokens == "x").named("is_x"))


@case(
    "44",
    "How many tokens in the sequence are strictly greater than this one.",
    vocab=INTS_0_10,
    causal=False,
)
def count_greater():
    r = rasp_lib.rasp()
    return rasp_lib.count_where(r.Comparison.GT, "count_greater")


@case(
    "47",
    "How often the token occurs in the whole sequence (same program as case 78).",
    vocab=vocabs.ascii_letters(10),
    causal=False,
)
def histogram_47():
    return rasp_lib.make_hist("histogram")


@case(
    "61",
    "Rank of the token: one plus the number of strictly smaller tokens.",
    vocab=INTS_0_10,
    causal=False,
)
def rank():
    r = rasp_lib.rasp()
    smaller = rasp_lib.count_where(r.Comparison.LT, "count_smaller")
    return r.Map(lambda n: n + 1, smaller).named("rank")


@case(
    "63",
    "How many tokens in the sequence are strictly smaller than this one.",
    vocab=INTS_0_10,
    causal=False,
)
def count_smaller():
    r = rasp_lib.rasp()
    return rasp_lib.count_where(r.Comparison.LT, "count_smaller")


@case(
    "78",
    "How often the token occurs in the whole sequence (same program as case 47).",
    vocab=vocabs.ascii_letters(10),
    causal=False,
)
def histogram_78():
    return rasp_lib.make_hist("histogram")


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
