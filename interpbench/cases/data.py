"""Data for a case: clean and corrupted inputs, deterministic for a seed.

Conventions (CASES.md §3): every sequence has full length (``max_seq_len - 1`` real
tokens after BOS). When every possible sequence fits between ``min_samples`` and
``max_samples`` they are all enumerated (then shuffled); otherwise ``max_samples``
are sampled i.i.d. with the case's own sampler or uniformly. Corrupted data is the
same procedure with a random stream of its own (``"corrupted"``), so it is
independent of the clean data, and of the clean data of any other seed. BOS sits at
position 0 and is excluded from every loss and metric.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

from interpbench.registry.specs import CaseSpec


def sorted_vocab(vocab: frozenset | set) -> list[Any]:
    return sorted(vocab, key=lambda v: (str(type(v)), v))


def n_sequences(case: CaseSpec) -> int:
    """How many distinct full-length inputs the case has."""
    return len(case.vocab) ** (case.max_seq_len - 1)


def generate_inputs(
    case: CaseSpec, *, min_samples: int, max_samples: int, seed: int, stream: str = "clean"
) -> list[list[Any]]:
    """Token lists (without BOS), enumerated when they all fit, else sampled.

    ``stream`` names an independent random stream for the same seed.
    """
    rng = random.Random(seed if stream == "clean" else f"{stream}:{seed}")
    length = case.max_seq_len - 1
    vocab = sorted_vocab(case.vocab)
    if min_samples <= n_sequences(case) <= max_samples:
        data = [list(seq) for seq in itertools.product(vocab, repeat=length)]
        rng.shuffle(data)
        return data
    if case.sampler is not None:
        data = case.sampler(rng, max_samples, length)
        if len(data) != max_samples or any(len(seq) != length for seq in data):
            raise ValueError(f"case {case.name}: its sampler returned malformed sequences")
        return [list(seq) for seq in data]
    return [[rng.choice(vocab) for _ in range(length)] for _ in range(max_samples)]


def clean_and_corrupted(case: CaseSpec, n: int, seed: int) -> tuple[list[list[Any]], list[list[Any]]]:
    """``n`` clean inputs (or all of them, if fewer exist) and as many corrupted ones."""
    clean = generate_inputs(case, min_samples=1, max_samples=n, seed=seed)
    corrupted = generate_inputs(case, min_samples=1, max_samples=n, seed=seed, stream="corrupted")
    return clean, corrupted


def encode(inputs: list[list[Any]], encoding: dict[Any, int], bos: str = "BOS"):
    """Token ids with BOS prepended: a LongTensor [batch, pos]."""
    import torch

    try:
        rows = [[encoding[bos]] + [encoding[t] for t in seq] for seq in inputs]
    except KeyError as e:
        raise ValueError(f"token {e.args[0]!r} is not in the model's vocabulary") from None
    return torch.tensor(rows, dtype=torch.long)
