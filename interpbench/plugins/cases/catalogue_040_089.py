"""Cases 040-089 of the InterpBench catalogue (CASES.md §5).

Most of these are single element-wise Maps over small integer vocabularies; the rest
are length-, index- or sort-based programs. Parameter siblings share a private factory.
"""

import math
import random

from interpbench.cases import rasp_lib
from interpbench.cases.catalogue import case
from interpbench.cases.vocabs import ascii_letters, float_numbers, int_numbers

# InterpBench's default integer vocabulary is 0..10 (its helper's default upper bound is 11).
INTS_0_10 = int_numbers(0, 11)


# ---------------------------------------------------------------------------
# Private building blocks
# ---------------------------------------------------------------------------


def _fibonacci(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def _real_cube_root(x):
    # Fractional powers of negative floats are complex in Python, hence the sign split.
    return x ** (1 / 3) if x >= 0 else -((-x) ** (1 / 3))


# ---------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------


@case("40", "Sum of the tens digit and the ones digit of the token.", vocab=int_numbers(0, 29))
def digit_sum():
    r = rasp_lib.rasp()
    tens = r.Map(lambda x: x // 10, r.tokens).named("tens_digit")
    ones = r.Map(lambda x: x % 10, r.tokens).named("ones_digit")
    return r.SequenceMap(lambda t, o: t + o, tens, ones).named("digit_sum")


@case("41", "Absolute value of the token.", vocab=int_numbers(-10, 10))
def absolute_value():
    return rasp_lib.token_map(abs, "absolute_value")


@case("42", "The first token, copied to every position.", vocab=ascii_letters(10))
def broadcast_first_token():
    return rasp_lib.broadcast_token_at(0)


@case("43", "The Fibonacci number indexed by the token (F(0)=0, F(1)=1).", vocab=int_numbers(0, 20))
def fibonacci_of_token():
    # The published program also builds an identity Map on indices that the output never uses.
    return rasp_lib.token_map(_fibonacci, "fibonacci")


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


def _add_constant(constant):
    return rasp_lib.token_map(lambda x: x + constant, f"add_{constant}")


@case("46", "The token minus one.", vocab=INTS_0_10)
def decrement():
    return _add_constant(-1)


@case(
    "47",
    "How often the token occurs in the whole sequence (same program as case 78).",
    vocab=ascii_letters(10),
    causal=False,
)
def histogram_47():
    return rasp_lib.make_hist("histogram")


@case("48", "The token plus its position.", vocab=INTS_0_10)
def add_index():
    r = rasp_lib.rasp()
    return r.SequenceMap(lambda x, i: x + i, r.tokens, r.indices).named("add_index")


@case("49", "The token rounded down to a multiple of three.", vocab=INTS_0_10)
def round_down_to_multiple_of_3():
    return rasp_lib.token_map(lambda x: x - x % 3, "round_down_to_multiple_of_3")


@case("50", "Hyperbolic cosine of the token (one class per value).", vocab=INTS_0_10)
def cosh_of_token():
    return rasp_lib.token_map(math.cosh, "cosh")


@case(
    "51",
    "1 when the token is a Fibonacci number, otherwise 0.",
    vocab=int_numbers(0, 100),
)
def is_fibonacci():
    fibonacci_numbers = {_fibonacci(n) for n in range(16)}  # 0 .. 610, beyond the vocab
    return rasp_lib.token_map(lambda x: 1 if x in fibonacci_numbers else 0, "is_fibonacci")


@case("52", "Square root of the token (one class per value).", vocab=INTS_0_10)
def square_root():
    return rasp_lib.token_map(math.sqrt, "square_root")


@case("53", "The token plus one at odd positions, unchanged at even positions.", vocab=INTS_0_10)
def increment_odd_positions():
    r = rasp_lib.rasp()
    is_odd = r.Map(lambda i: i % 2, r.indices).named("index_is_odd")
    return r.SequenceMap(lambda x, odd: x + odd, r.tokens, is_odd).named("increment_odd_positions")


@case("54", "Hyperbolic tangent of the token (one class per value).", vocab=INTS_0_10)
def tanh_of_token():
    return rasp_lib.token_map(math.tanh, "tanh")


@case("55", "Hyperbolic sine of the token (one class per value).", vocab=INTS_0_10)
def sinh_of_token():
    return rasp_lib.token_map(math.sinh, "sinh")


@case("56", "Zero at every third position (index % 3 == 2), the token elsewhere.", vocab=INTS_0_10)
def zero_every_third():
    r = rasp_lib.rasp()
    is_third = r.Map(lambda i: (i + 1) % 3 == 0, r.indices).named("is_third")
    # tracr fuses this Map into the previous one, so both form one MLP.
    third_flag = r.Map(lambda b: 1 if b else 0, is_third).named("third_flag")
    return r.SequenceMap(lambda x, flag: 0 if flag else x, r.tokens, third_flag).named("zero_every_third")


@case(
    "57",
    "The second token, copied to every position.",
    vocab=ascii_letters(10),
    causal=False,
)
def broadcast_second_token():
    return rasp_lib.broadcast_token_at(1)


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


@case("60", "The token plus one.", vocab=INTS_0_10)
def increment():
    return _add_constant(1)


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


@case("62", "Factorial of the token.", vocab=INTS_0_10)
def factorial():
    return rasp_lib.token_map(math.factorial, "factorial")


@case(
    "63",
    "How many tokens in the sequence are strictly smaller than this one.",
    vocab=INTS_0_10,
    causal=False,
)
def count_smaller():
    r = rasp_lib.rasp()
    return rasp_lib.count_where(r.Comparison.LT, "count_smaller")


@case("64", "The token cubed.", vocab=INTS_0_10)
def cube():
    return rasp_lib.token_map(lambda x: x**3, "cube")


@case("65", "Real cube root of the token (one class per value).", vocab=INTS_0_10)
def cube_root():
    return rasp_lib.token_map(_real_cube_root, "cube_root")


@case("66", "The float token rounded half-up to an integer.", vocab=float_numbers(0, 5, 20))
def round_half_up():
    r = rasp_lib.rasp()
    shifted = r.Map(lambda x: x + 0.5, r.tokens).named("add_half")
    # tracr fuses the two Maps into a single MLP.
    return r.Map(int, shifted).named("round_half_up")


@case("67", "The token times the sequence length.", vocab=INTS_0_10, causal=False)
def multiply_by_length():
    r = rasp_lib.rasp()
    length = rasp_lib.make_length()
    return r.SequenceMap(lambda x, n: x * n, r.tokens, length).named("multiply_by_length")


@case("68", "The token rounded up to a multiple of three.", vocab=INTS_0_10)
def round_up_to_multiple_of_3():
    return rasp_lib.token_map(lambda x: x + (-x) % 3, "round_up_to_multiple_of_3")


@case("69", "Sign of the token (-1, 0 or 1; only 0 and 1 occur with this vocab).", vocab=INTS_0_10)
def sign():
    return rasp_lib.token_map(lambda x: (x > 0) - (x < 0), "sign")


@case("70", "Cosine of the token (one class per value).", vocab=INTS_0_10)
def cosine():
    return rasp_lib.token_map(math.cos, "cosine")


@case("71", "The token divided by the sequence length.", vocab=INTS_0_10, causal=False)
def divide_by_length():
    r = rasp_lib.rasp()
    length = rasp_lib.make_length()
    # Length 0 never occurs at run time, but tracr evaluates the function on every
    # value SelectorWidth can produce, 0 included.
    return r.SequenceMap(lambda x, n: x / n if n > 0 else 0, r.tokens, length).named("divide_by_length")


@case("72", "The token negated.", vocab=int_numbers(-10, 10))
def negate():
    return rasp_lib.token_map(lambda x: -x, "negate")


@case("73", "Sine of the token (one class per value).", vocab=INTS_0_10)
def sine():
    return rasp_lib.token_map(math.sin, "sine")


def _interleave_source(i, n):
    """Even positions read themselves; odd positions read the odd positions backwards."""
    if i % 2 == 0:
        return i
    return n - i if n % 2 == 0 else n - i - 1


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


def _scale(factor):
    return rasp_lib.token_map(lambda x: x * factor, f"times_{factor}")


@case("75", "The token doubled.", vocab=INTS_0_10)
def double():
    return _scale(2)


@case("76", "Zero at even positions, the token at odd positions.", vocab=INTS_0_10)
def zero_even_positions():
    r = rasp_lib.rasp()
    # The published program first copies indices through an identity Map; tracr fuses
    # consecutive Maps, so that copy would not change the compiled model.
    odd_marker = r.Map(lambda i: 0 if i % 2 == 0 else -1, r.indices).named("odd_marker")
    return r.SequenceMap(lambda x, m: x if m == -1 else 0, r.tokens, odd_marker).named("zero_even_positions")


@case("77", "Tangent of the token (one class per value).", vocab=INTS_0_10)
def tangent():
    return rasp_lib.token_map(math.tan, "tangent")


@case(
    "78",
    "How often the token occurs in the whole sequence (same program as case 47).",
    vocab=ascii_letters(10),
    causal=False,
)
def histogram_78():
    return rasp_lib.make_hist("histogram")


@case("79", "1 when the token is prime, otherwise 0.", vocab=INTS_0_10)
def is_prime():
    return rasp_lib.token_map(lambda x: 1 if rasp_lib.is_prime(x) else 0, "is_prime")


@case("80", "The token minus two.", vocab=INTS_0_10)
def subtract_two():
    return _add_constant(-2)


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


@case("83", "The token tripled.", vocab=INTS_0_10)
def triple():
    return _scale(3)


@case("84", "Arctangent of the token (one class per value).", vocab=INTS_0_10)
def arctangent():
    return rasp_lib.token_map(math.atan, "arctangent")


@case("85", "The token squared.", vocab=INTS_0_10)
def square():
    return rasp_lib.token_map(lambda x: x**2, "square")


@case("86", "1 when the token is a power of two of at least 2, otherwise 0.", vocab=INTS_0_10)
def is_power_of_two():
    return rasp_lib.token_map(lambda x: 1 if x >= 2 and x & (x - 1) == 0 else 0, "is_power_of_two")


@case("87", "1 when the token is at least 3, otherwise 0.", vocab=INTS_0_10)
def binarize_at_3():
    r = rasp_lib.rasp()
    at_least_3 = r.Map(lambda x: x >= 3, r.tokens).named("at_least_3")
    # tracr fuses the two Maps into a single MLP.
    return r.Map(lambda b: 1 if b else 0, at_least_3).named("binarize_at_3")


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


def _sample_half_increasing(rng: random.Random, n: int, length: int) -> list[list[int]]:
    """floor(n/2) strictly increasing sequences (distinct sorted values), the rest
    uniform; shuffled so the two kinds are interleaved."""
    vocab = sorted(INTS_0_10)
    increasing = [sorted(rng.sample(vocab, length)) for _ in range(n // 2)]
    uniform = [[rng.choice(vocab) for _ in range(length)] for _ in range(n - n // 2)]
    data = increasing + uniform
    rng.shuffle(data)
    return data


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
