"""Data generation for cases (CASES.md §3 and the custom samplers of §5); no compiles."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from interpbench import registry
from interpbench.cases.data import clean_and_corrupted, encode, generate_inputs, n_sequences, sorted_vocab

CATALOGUED = [str(n) for n in range(1, 132) if n not in (16, 27)]
SAMPLER_CASES = ["1", "5", "17", "89", "94", "108", "109", "124", "125", "129"]


def sample(name: str, n: int, seed: int = 0):
    return generate_inputs(registry.get_case(name), min_samples=1, max_samples=n, seed=seed)


# --- general behaviour ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["2", "3", "7", "28", "39", "119"])
def test_same_seed_same_data_other_seed_other_data(name):
    assert sample(name, 40, seed=5) == sample(name, 40, seed=5)
    assert sample(name, 40, seed=5) != sample(name, 40, seed=6)
    clean, corrupted = clean_and_corrupted(registry.get_case(name), 40, seed=5)
    assert (clean, corrupted) == clean_and_corrupted(registry.get_case(name), 40, seed=5)


@pytest.mark.parametrize("name", ["1", "3", "8", "17", "39", "124"])
def test_clean_and_corrupted_differ(name):
    clean, corrupted = clean_and_corrupted(registry.get_case(name), 30, seed=0)
    assert len(clean) == len(corrupted) == 30
    assert clean != corrupted
    assert sum(a != b for a, b in zip(clean, corrupted)) > 15, "corrupted data should be an independent sample"


def test_every_case_gives_full_length_sequences_over_its_vocab():
    for name in CATALOGUED:
        case = registry.get_case(name)
        for seq in sample(name, 8, seed=1):
            assert len(seq) == case.max_seq_len - 1, name
            assert set(seq) <= set(case.vocab), name


def test_n_sequences_counts_full_length_inputs():
    assert n_sequences(registry.get_case("3")) == 4**4 == 256
    assert n_sequences(registry.get_case("119")) == 6**4
    assert n_sequences(registry.get_case("7")) == 3**9


@pytest.mark.parametrize("n", [256, 1000])
def test_all_inputs_are_enumerated_when_they_fit(n):
    case = registry.get_case("3")
    data = generate_inputs(case, min_samples=1, max_samples=n, seed=0)
    every = [list(s) for s in itertools.product(sorted_vocab(case.vocab), repeat=4)]
    assert len(data) == 256
    assert sorted(map(tuple, data)) == sorted(map(tuple, every))
    assert data != every, "enumerated data is shuffled"
    clean, corrupted = clean_and_corrupted(case, n, seed=0)
    assert len(clean) == len(corrupted) == 256 and clean != corrupted


def test_inputs_are_sampled_when_they_do_not_all_fit():
    case = registry.get_case("3")
    data = generate_inputs(case, min_samples=1, max_samples=255, seed=0)
    assert len(data) == 255
    assert len(set(map(tuple, data))) < 255, "i.i.d. sampling with replacement repeats inputs"
    # Fewer possible inputs than min_samples: sampled too, exactly max_samples of them.
    assert len(generate_inputs(case, min_samples=300, max_samples=500, seed=0)) == 500
    assert len(sample("7", 19682)) == 19682 and len(sample("7", 19683)) == 3**9


# --- custom samplers --------------------------------------------------------------------------


@pytest.mark.parametrize("name", SAMPLER_CASES)
@pytest.mark.parametrize("n", [1, 2, 101])
def test_sampler_returns_n_sequences_of_the_right_shape(name, n):
    case = registry.get_case(name)
    assert case.sampler is not None
    data = sample(name, n, seed=3)
    assert len(data) == n
    for seq in data:
        assert len(seq) == case.max_seq_len - 1 and set(seq) <= set(case.vocab)
    assert data == sample(name, n, seed=3)


@pytest.mark.parametrize("name", SAMPLER_CASES)
def test_sampler_depends_on_the_seed(name):
    assert sample(name, 50, seed=0) != sample(name, 50, seed=1)


@pytest.mark.parametrize("name", [n for n in CATALOGUED if n not in SAMPLER_CASES][:5])
def test_cases_without_sampler_use_the_uniform_one(name):
    assert registry.get_case(name).sampler is None


def _all_true_case1(seq):
    return all(seq[i] == seq[i - 2] for i in range(2, len(seq)))


def _all_false_case1(seq):
    return not any(seq[i] == seq[i - 2] for i in range(2, len(seq)))


def test_case_1_sampler_balance():
    """15 % (rounded up) all-True inputs, 15 % all-False, the rest random with at least
    one True (random all-False inputs are rejected)."""
    n = 101
    data = sample("1", n)
    quota = math.ceil(0.15 * n)
    assert sum(map(_all_false_case1, data)) == quota
    assert sum(map(_all_true_case1, data)) >= quota


def _shuffle_dyck_balanced(seq):
    for opener, closer in ("()", "{}"):
        depth = 0
        for t in seq:
            depth += (t == opener) - (t == closer)
            if depth < 0:
                return False
        if depth:
            return False
    return True


def test_case_5_sampler_balance():
    """floor(n/2) balanced shuffle-Dyck words; the uniform rest is almost never balanced."""
    n = 101
    balanced = sum(map(_shuffle_dyck_balanced, sample("5", n)))
    assert n // 2 <= balanced <= n // 2 + 3


def _palindromes(data):
    return sum(seq == seq[::-1] for seq in data)


def test_case_17_sampler_balance():
    data = sample("17", 101)
    assert _palindromes(data) == 50


def test_case_17_sampler_non_palindrome_half_has_no_palindromes():
    assert _palindromes(sample("17", 1000, seed=1)) == 500


def test_case_89_and_94_sampler_balance():
    n = 101
    up = sample("89", n)
    assert sum(all(a < b for a, b in zip(s, s[1:])) for s in up) == n // 2
    down = sample("94", n)
    assert sum(all(a > b for a, b in zip(s, s[1:])) for s in down) == n // 2


def test_case_108_sampler_balance():
    """Half: distinct values plus one repeat (exactly one duplicate); rest all distinct."""
    data = sample("108", 101)
    assert sum(len(set(s)) == len(s) - 1 for s in data) == 50
    assert sum(len(set(s)) == len(s) for s in data) == 51


def test_case_109_sampler_balance():
    data = sample("109", 101)
    assert sum(s[-1] == s[-2] for s in data) == 50


def test_case_124_sampler_balance():
    """Half constant sequences, the rest never constant."""
    data = sample("124", 101)
    assert sum(len(set(s)) == 1 for s in data) == 50
    assert all(len(set(s)) > 1 for s in data if len(set(s)) != 1)


def test_case_125_sampler_balance():
    """floor(n/2) sequences alternating even/odd from an even start; rest uniform."""
    n = 101
    data = sample("125", n)
    alternating = sum(all(t % 2 == i % 2 for i, t in enumerate(s)) for s in data)
    assert n // 2 <= alternating <= n // 2 + 3


def test_case_129_sampler_balance():
    """Half all-even (distinct evens), the rest exactly one odd value among distinct evens."""
    data = sample("129", 101)
    odd_counts = [sum(t % 2 for t in s) for s in data]
    assert odd_counts.count(0) == 50 and odd_counts.count(1) == 51


def test_samplers_use_only_the_rng_they_are_given():
    """Python's global RNG is neither read nor advanced: data depends only on the seed."""
    random.seed(123)
    before = random.getstate()
    a = sample("5", 20, seed=9)
    assert random.getstate() == before
    random.seed(999)
    assert sample("5", 20, seed=9) == a


# --- encoding ---------------------------------------------------------------------------------


def test_encode_prepends_bos():
    encoding = {"BOS": 7, "PAD": 8, "a": 1, "b": 2}
    ids = encode([["a", "b", "a"], ["b", "b", "a"]], encoding)
    assert ids.tolist() == [[7, 1, 2, 1], [7, 2, 2, 1]]
    assert str(ids.dtype) == "torch.int64"


def test_encode_rejects_unknown_tokens_clearly():
    with pytest.raises(ValueError, match=r"'z' is not in the model's vocabulary"):
        encode([["a", "z"]], {"BOS": 0, "a": 1})
    with pytest.raises(ValueError, match="BOS"):
        encode([["a"]], {"a": 1})
