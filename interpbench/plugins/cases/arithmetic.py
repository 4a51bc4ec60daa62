"""Element-wise arithmetic: one numeric Map of each token (one MLP).

Part of the built-in catalogue (CASES.md §5), declared with
``interpbench.cases.catalogue.case``; shared RASP building blocks come from
``interpbench.cases.rasp_lib``.
"""

from __future__ import annotations

import math

from interpbench.cases import rasp_lib, vocabs
from interpbench.cases.catalogue import case

# InterpBench's default integer vocabulary is 0..10 (its helper's default upper bound is 11).
INTS_0_10 = vocabs.int_numbers(0, 11)
INTS_0_29 = vocabs.int_numbers(0, 30)


def _fibonacci(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def _real_cube_root(x):
    # Fractional powers of negative floats are complex in Python, hence the sign split.
    return x ** (1 / 3) if x >= 0 else -((-x) ** (1 / 3))


def _add_constant(constant):
    return rasp_lib.token_map(lambda x: x + constant, f"add_{constant}")


def _scale(factor):
    return rasp_lib.token_map(lambda x: x * factor, f"times_{factor}")


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


@case("8", "The token itself (identity).", vocab=vocabs.int_numbers(0, 11), trivial=True)
def identity():
    r = rasp_lib.rasp()
    return r.Map(lambda x: x, r.tokens).named("identity")


@case("40", "Sum of the tens digit and the ones digit of the token.", vocab=vocabs.int_numbers(0, 29))
def digit_sum():
    r = rasp_lib.rasp()
    tens = r.Map(lambda x: x // 10, r.tokens).named("tens_digit")
    ones = r.Map(lambda x: x % 10, r.tokens).named("ones_digit")
    return r.SequenceMap(lambda t, o: t + o, tens, ones).named("digit_sum")


@case("41", "Absolute value of the token.", vocab=vocabs.int_numbers(-10, 10))
def absolute_value():
    return rasp_lib.token_map(abs, "absolute_value")


@case("43", "The Fibonacci number indexed by the token (F(0)=0, F(1)=1).", vocab=vocabs.int_numbers(0, 20))
def fibonacci_of_token():
    # The published program also builds an identity Map on indices that the output never uses.
    return rasp_lib.token_map(_fibonacci, "fibonacci")


@case("46", "The token minus one.", vocab=INTS_0_10)
def decrement():
    return _add_constant(-1)


@case("49", "The token rounded down to a multiple of three.", vocab=INTS_0_10)
def round_down_to_multiple_of_3():
    return rasp_lib.token_map(lambda x: x - x % 3, "round_down_to_multiple_of_3")


@case("50", "Hyperbolic cosine of the token (one class per value).", vocab=INTS_0_10)
def cosh_of_token():
    return rasp_lib.token_map(math.cosh, "cosh")


@case(
    "51",
    "1 when the token is a Fibonacci number, otherwise 0.",
    vocab=vocabs.int_numbers(0, 100),
)
def is_fibonacci():
    fibonacci_numbers = {_fibonacci(n) for n in range(16)}  # 0 .. 610, beyond the vocab
    return rasp_lib.token_map(lambda x: 1 if x in fibonacci_numbers else 0, "is_fibonacci")


@case("52", "Square root of the token (one class per value).", vocab=INTS_0_10)
def square_root():
    return rasp_lib.token_map(math.sqrt, "square_root")


@case("54", "Hyperbolic tangent of the token (one class per value).", vocab=INTS_0_10)
def tanh_of_token():
    return rasp_lib.token_map(math.tanh, "tanh")


@case("55", "Hyperbolic sine of the token (one class per value).", vocab=INTS_0_10)
def sinh_of_token():
    return rasp_lib.token_map(math.sinh, "sinh")


@case("60", "The token plus one.", vocab=INTS_0_10)
def increment():
    return _add_constant(1)


@case("62", "Factorial of the token.", vocab=INTS_0_10)
def factorial():
    return rasp_lib.token_map(math.factorial, "factorial")


@case("64", "The token cubed.", vocab=INTS_0_10)
def cube():
    return rasp_lib.token_map(lambda x: x**3, "cube")


@case("65", "Real cube root of the token (one class per value).", vocab=INTS_0_10)
def cube_root():
    return rasp_lib.token_map(_real_cube_root, "cube_root")


@case("66", "The float token rounded half-up to an integer.", vocab=vocabs.float_numbers(0, 5, 20))
def round_half_up():
    r = rasp_lib.rasp()
    shifted = r.Map(lambda x: x + 0.5, r.tokens).named("add_half")
    # tracr fuses the two Maps into a single MLP.
    return r.Map(int, shifted).named("round_half_up")


@case("68", "The token rounded up to a multiple of three.", vocab=INTS_0_10)
def round_up_to_multiple_of_3():
    return rasp_lib.token_map(lambda x: x + (-x) % 3, "round_up_to_multiple_of_3")


@case("69", "Sign of the token (-1, 0 or 1; only 0 and 1 occur with this vocab).", vocab=INTS_0_10)
def sign():
    return rasp_lib.token_map(lambda x: (x > 0) - (x < 0), "sign")


@case("70", "Cosine of the token (one class per value).", vocab=INTS_0_10)
def cosine():
    return rasp_lib.token_map(math.cos, "cosine")


@case("72", "The token negated.", vocab=vocabs.int_numbers(-10, 10))
def negate():
    return rasp_lib.token_map(lambda x: -x, "negate")


@case("73", "Sine of the token (one class per value).", vocab=INTS_0_10)
def sine():
    return rasp_lib.token_map(math.sin, "sine")


@case("75", "The token doubled.", vocab=INTS_0_10)
def double():
    return _scale(2)


@case("77", "Tangent of the token (one class per value).", vocab=INTS_0_10)
def tangent():
    return rasp_lib.token_map(math.tan, "tangent")


@case("79", "1 when the token is prime, otherwise 0.", vocab=INTS_0_10)
def is_prime():
    return rasp_lib.token_map(lambda x: 1 if rasp_lib.is_prime(x) else 0, "is_prime")


@case("80", "The token minus two.", vocab=INTS_0_10)
def subtract_two():
    return _add_constant(-2)


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


@case("91", "Each token, or 0 where it is below 3.", vocab=INTS_0_10)
def zero_below_three():
    return rasp_lib.token_map(lambda x: 0 if x < 3 else x, "zero_below_three")


@case("95", "How many distinct primes divide each token (0 for 0 and 1).", vocab=INTS_0_29)
def distinct_prime_factors():
    return rasp_lib.token_map(_distinct_prime_factor_count, "distinct_prime_factors")


@case("101", "1 where the token is a perfect square, else 0.", vocab=INTS_0_29)
def is_perfect_square():
    return rasp_lib.token_map(lambda x: 1 if math.isqrt(x) ** 2 == x else 0, "is_perfect_square")


@case("102", "Each token reflected back and forth into the range [2, 7].", vocab=vocabs.int_numbers(-20, 20))
def reflect_into_range():
    return rasp_lib.token_map(lambda x: _reflect_into(2, 7, x), "reflect_into_2_7")


@case("104", "The exponential of each token.", vocab=INTS_0_10)
def exponential():
    return rasp_lib.token_map(math.exp, "exp")


@case("105", "The smallest prime not below each token.", vocab=INTS_0_29)
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


# vocabs.float_numbers(-1, 1, 20) reproduces the catalogue's F20b set exactly, float
# artefacts included (-1 + k * 0.1 for k = 0..19).
@case("121", "The arcsine of each token.", vocab=vocabs.float_numbers(-1, 1, 20))
def arcsine():
    return rasp_lib.token_map(math.asin, "arcsin")


@case("122", "1 where the token is divisible by 3, else 0.", vocab=INTS_0_29)
def divisible_by_three():
    return rasp_lib.token_map(lambda x: 1 if x % 3 == 0 else 0, "divisible_by_3")


@case("123", "The arccosine of each token.", vocab=vocabs.float_numbers(-1, 1, 20))
def arccosine():
    return rasp_lib.token_map(math.acos, "arccos")


@case("130", "Each token clipped to the range [2, 7].", vocab=vocabs.int_numbers(-15, 15))
def clip_into_range():
    # The catalogue's program also builds two comparison Maps that nothing reads;
    # they would not be compiled, so they are left out.
    r = rasp_lib.rasp()
    low = r.Map(lambda _: 2, r.tokens).named("low_bound")
    high = r.Map(lambda _: 7, r.tokens).named("high_bound")
    raised = r.SequenceMap(lambda t, lo: lo if t < lo else t, r.tokens, low).named("clip_below")
    return r.SequenceMap(lambda t, hi: hi if t > hi else t, raised, high).named("clip_above")
