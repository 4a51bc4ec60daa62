"""The token combined with its position or the sequence length.

Part of the built-in catalogue (CASES.md §5), declared with
``interpbench.cases.catalogue.case``; shared RASP building blocks come from
``interpbench.cases.rasp_lib``.
"""

from __future__ import annotations

from interpbench.cases import rasp_lib, vocabs
from interpbench.cases.catalogue import case

# InterpBench's default integer vocabulary is 0..10 (its helper's default upper bound is 11).
INTS_0_10 = vocabs.int_numbers(0, 11)


@case("15", "Twice the token minus its index.", vocab=vocabs.int_digits(5), max_seq_len=5)
def twice_token_minus_index():
    # A three-argument SequenceMap emulated with tuples, as InterpBench does; the tuple
    # SOps are categorical and make the model wide.
    r = rasp_lib.rasp()
    pair = r.SequenceMap(lambda x, y: (x, y), r.tokens, r.tokens).named("token_pair")
    triple = r.SequenceMap(lambda xy, i: (*xy, i), pair, r.indices).named("token_pair_index")
    return r.Map(lambda t: t[0] + t[1] - t[2], triple).named("twice_minus_index")


@case(
    "24",
    "The token copied through an attention head that attends to its own position.",
    vocab=vocabs.ascii_letters(3),
)
def copy_via_attention():
    r = rasp_lib.rasp()
    return rasp_lib.gather(r.tokens, r.indices, "copy")


@case(
    "45",
    "Tokens in the first half of the sequence doubled, the rest unchanged.",
    vocab=INTS_0_10,
    causal=False,
)
def double_first_half():
    r = rasp_lib.rasp()
    length = rasp_lib.make_length()
    in_first_half = r.SequenceMap(lambda i, n: 1 if i < n / 2 else 0, r.indices, length).named("in_first_half")
    return r.SequenceMap(lambda x, flag: x * (1 + flag), r.tokens, in_first_half).named("double_first_half")


@case("48", "The token plus its position.", vocab=INTS_0_10)
def add_index():
    r = rasp_lib.rasp()
    return r.SequenceMap(lambda x, i: x + i, r.tokens, r.indices).named("add_index")


@case("53", "The token plus one at odd positions, unchanged at even positions.", vocab=INTS_0_10)
def increment_odd_positions():
    r = rasp_lib.rasp()
    is_odd = r.Map(lambda i: i % 2, r.indices).named("index_is_odd")
    return r.SequenceMap(lambda x, odd: x + odd, r.tokens, is_odd).named("increment_odd_positions")


@case("56", "Zero at every third position (index % 3 == 2), the token elsewhere.", vocab=INTS_0_10)
def zero_every_third():
    r = rasp_lib.rasp()
    is_third = r.Map(lambda i: (i + 1) % 3 == 0, r.indices).named("is_third")
    # tracr fuses this Map into the previous one, so both form one MLP.
    third_flag = r.Map(lambda b: 1 if b else 0, is_third).named("third_flag")
    return r.SequenceMap(lambda x, flag: 0 if flag else x, r.tokens, third_flag).named("zero_every_third")


@case("67", "The token times the sequence length.", vocab=INTS_0_10, causal=False)
def multiply_by_length():
    r = rasp_lib.rasp()
    length = rasp_lib.make_length()
    return r.SequenceMap(lambda x, n: x * n, r.tokens, length).named("multiply_by_length")


@case("71", "The token divided by the sequence length.", vocab=INTS_0_10, causal=False)
def divide_by_length():
    r = rasp_lib.rasp()
    length = rasp_lib.make_length()
    # Length 0 never occurs at run time, but tracr evaluates the function on every
    # value SelectorWidth can produce, 0 included.
    return r.SequenceMap(lambda x, n: x / n if n > 0 else 0, r.tokens, length).named("divide_by_length")


@case("76", "Zero at even positions, the token at odd positions.", vocab=INTS_0_10)
def zero_even_positions():
    r = rasp_lib.rasp()
    # The published program first copies indices through an identity Map; tracr fuses
    # consecutive Maps, so that copy would not change the compiled model.
    odd_marker = r.Map(lambda i: 0 if i % 2 == 0 else -1, r.indices).named("odd_marker")
    return r.SequenceMap(lambda x, m: x if m == -1 else 0, r.tokens, odd_marker).named("zero_even_positions")


@case(
    "82",
    "Tokens in the second half of the sequence halved, the rest unchanged.",
    vocab=INTS_0_10,
    causal=False,
)
def halve_second_half():
    r = rasp_lib.rasp()
    half = r.Map(lambda n: n // 2, rasp_lib.make_length()).named("half_length")
    in_second_half = r.SequenceMap(lambda i, h: i >= h, r.indices, half).named("in_second_half")
    return r.SequenceMap(lambda x, flag: x / 2 if flag else x, r.tokens, in_second_half).named("halve_second_half")


@case("106", "The token at index 1, and 0 at every other position.", vocab=INTS_0_10, trivial=True)
def keep_index_one():
    r = rasp_lib.rasp()
    return r.SequenceMap(lambda t, i: t if i == 1 else 0, r.tokens, r.indices).named("keep_index_1")
