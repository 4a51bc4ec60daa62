"""Vocabularies, as InterpBench's ``vocabs.py`` defines them (see CASES.md §1)."""

from __future__ import annotations

import random
import string


def ascii_letters(n: int) -> set[str]:
    return set(string.ascii_lowercase[:n])


def int_digits(n: int) -> set[int]:
    return set(range(n))


def int_numbers(lo: int = 0, hi: int = 10) -> set[int]:
    return set(range(lo, hi))


def str_numbers(lo: int = 0, hi: int = 10) -> set[str]:
    return {str(i) for i in range(lo, hi)}


def float_numbers(lo: float = 0, hi: float = 5, count: int = 20) -> set[float]:
    return {lo + k * (hi - lo) / count for k in range(count)}


def words(min_chars: int = 1, max_chars: int = 8, min_words: int = 5, max_words: int = 20) -> set[str]:
    """Random letter strings drawn with seed 42, with a private RNG (InterpBench reseeds
    Python's global one; we do not touch global state)."""
    rng = random.Random(42)
    count = rng.randint(min_words, max_words)
    return {
        "".join(rng.choice(string.ascii_letters) for _ in range(rng.randint(min_chars, max_chars)))
        for _ in range(count)
    }
