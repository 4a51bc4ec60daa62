"""Cases 1-39 of the InterpBench catalogue (CASES.md §5). Cases 16 and 27 do not exist."""

from __future__ import annotations

import math
import random

from interpbench.cases import rasp_lib, vocabs
from interpbench.cases.catalogue import case

# ---------------------------------------------------------------------------
# Private RASP building blocks used by several cases below (tracr is imported
# lazily through rasp_lib, so these are only called from inside programs).
# ---------------------------------------------------------------------------


def _make_shuffle_dyck(pairs: list[str]):
    """True everywhere iff each bracket pair is balanced on its own (interleaving allowed)."""
    r = rasp_lib.rasp()
    balances = [rasp_lib.make_pair_balance(pair[0], pair[1]) for pair in pairs]

    any_negative = balances[0] < 0
    for balance in balances[1:]:
        any_negative = any_negative | (balance < 0)
    # A negative prefix anywhere is detected by averaging a 0/1 flag over all positions,
    # which needs a numerical SOp: the identity Map only changes the encoding.
    any_negative = r.numerical(r.Map(lambda x: x, any_negative)).named("any_negative")
    select_all = r.Select(r.indices, r.indices, r.Comparison.TRUE).named("select_all")
    has_negative = r.numerical(r.Aggregate(select_all, any_negative, default=0)).named("has_neg")

    all_zero = balances[0] == 0
    for balance in balances[1:]:
        all_zero = all_zero & (balance == 0)
    select_last = r.Select(r.indices, rasp_lib.make_length() - 1, r.Comparison.EQ).named("select_last")
    last_zero = r.Aggregate(select_last, all_zero).named("last_zero")
    no_negative = (~has_negative).named("not_has_neg")
    return (last_zero & no_negative).named("shuffle_dyck")


def _detect_pattern(sop, pattern):
    """True at the last element of each occurrence of ``pattern``; None for the first
    len(pattern) - 1 positions."""
    detectors = []
    for distance, element in enumerate(reversed(pattern)):
        detector = sop == element
        if distance:
            detector = rasp_lib.shift_by(distance, detector)
        detectors.append(detector)
    detected = detectors.pop()
    while detectors:
        detected = detected & detectors.pop()
    return detected.named(f"detect_pattern({pattern})")


# ---------------------------------------------------------------------------
# Custom samplers (CASES.md §5, "Custom sample_data").
# ---------------------------------------------------------------------------


def _sample_rotation_balanced(rng: random.Random, n: int, length: int) -> list[list[str]]:
    """Case 1: 15 % all-True inputs, 15 % all-False inputs, the rest random."""
    vocab = sorted(vocabs.ascii_letters(5))
    n_true = min(n, math.ceil(0.15 * n))
    n_false = min(n - n_true, math.ceil(0.15 * n))
    data = []
    for _ in range(n_true):
        pair = rng.sample(vocab, 2)  # two letters alternating: equal two positions apart
        data.append([pair[i % 2] for i in range(length)])
    # The sorted vocab cycled (5 letters) never repeats a letter two positions later.
    data += [[vocab[i % len(vocab)] for i in range(length)] for _ in range(n_false)]
    while len(data) < n:
        seq = [rng.choice(vocab) for _ in range(length)]
        # InterpBench rejects random inputs whose defined outputs are all False. It meant
        # to reject all-True ones too, but its check saw the undefined position and never
        # fired; we keep that behaviour.
        if length >= 3 and not any(seq[i] == seq[i - 2] for i in range(2, length)):
            continue
        data.append(seq)
    rng.shuffle(data)  # InterpBench shuffles every dataset after sampling
    return data


def _balanced_brackets(rng: random.Random, length: int) -> list[str]:
    """A random shuffle-Dyck word over () and {} with 'x' filler, exactly ``length`` long."""
    closer = {"(": ")", "{": "}"}
    word: list[str] = []
    still_open: list[str] = []
    while len(word) < length:
        room = length - len(word)
        choices = {closer[o] for o in still_open}
        if len(still_open) + 1 <= room:  # a filler still leaves room to close everything
            choices.add("x")
        if len(still_open) + 2 <= room:  # so does an opener with its closer
            choices.update(closer)
        char = rng.choice(sorted(choices))
        word.append(char)
        if char in closer:
            still_open.append(char)
        elif char != "x":
            still_open.remove(next(o for o, c in closer.items() if c == char))
    return word


def _sample_dyck_balanced(rng: random.Random, n: int, length: int) -> list[list[str]]:
    """Case 5: half balanced strings, the rest uniform random (almost always unbalanced)."""
    vocab = ["(", ")", "x", "{", "}"]
    n_balanced = n // 2
    data = [_balanced_brackets(rng, length) for _ in range(n_balanced)]
    data += [[rng.choice(vocab) for _ in range(length)] for _ in range(n - n_balanced)]
    rng.shuffle(data)
    return data


def _sample_palindrome_balanced(rng: random.Random, n: int, length: int) -> list[list[str]]:
    """Case 17: half palindromes, half non-palindromes."""
    vocab = sorted(vocabs.ascii_letters(10))
    n_palindromes = n // 2
    data = []
    for _ in range(n_palindromes):
        half = rng.choices(vocab, k=(length + 1) // 2)
        data.append(half + half[: length // 2][::-1])
    for _ in range(n - n_palindromes):
        seq = rng.choices(vocab, k=length)
        if seq == seq[::-1]:  # break the accidental palindrome (not at the centre, which mirrors itself)
            seq[0] = rng.choice([v for v in vocab if v != seq[0]])
        data.append(seq)
    rng.shuffle(data)
    return data


def _prefix_fraction_of_x(tokens: list) -> list[float]:
    """Case 39's labels, computed directly rather than by evaluating RASP."""
    seen = 0
    fractions = []
    for i, token in enumerate(tokens):
        seen += token == "x"
        fractions.append(seen / (i + 1))
    return fractions


# ---------------------------------------------------------------------------
# The cases.
# ---------------------------------------------------------------------------


@case(
    "1",
    "Whether each token equals the token two positions before it (undefined for the first two).",
    vocab=vocabs.ascii_letters(5),
    sampler=_sample_rotation_balanced,
)
def token_equals_two_back():
    r = rasp_lib.rasp()
    two_back = rasp_lib.shift_by(2, r.tokens)
    return r.SequenceMap(lambda x, y: x == y, r.tokens, two_back).named("equals_two_back")


@case("2", "The input sequence reversed.", vocab=vocabs.ascii_letters(26), causal=False)
def reverse_sequence():
    r = rasp_lib.rasp()
    return rasp_lib.make_reverse(r.tokens)


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


@case(
    "5",
    "Whether the whole string balances () and {} independently (shuffle-Dyck), at every position.",
    vocab={"(", ")", "{", "}", "x"},
    causal=False,
    sampler=_sample_dyck_balanced,
)
def shuffle_dyck_two_pairs():
    return _make_shuffle_dyck(["()", "{}"])


@case(
    "6",
    "Whether the sequence changes direction at a token: (token > previous) XOR (next > token).",
    vocab=vocabs.int_digits(10),
    causal=False,
)
def direction_change():
    r = rasp_lib.rasp()
    prev_token = rasp_lib.shift_by(1, r.tokens)
    next_token = rasp_lib.shift_by(-1, r.tokens)
    rises_into = r.SequenceMap(lambda prev, tok: tok > prev, prev_token, r.tokens).named("rises_into")
    rises_out = r.SequenceMap(lambda tok, nxt: nxt > tok, r.tokens, next_token).named("rises_out")
    return r.SequenceMap(lambda a, b: a != b, rises_into, rises_out).named("direction_change")


@case("7", "How many times the current token occurs in the sequence.", vocab=vocabs.ascii_letters(3), causal=False)
def histogram():
    return rasp_lib.make_hist()


@case("8", "The token itself (identity).", vocab=vocabs.int_numbers(0, 11), trivial=True)
def identity():
    r = rasp_lib.rasp()
    return r.Map(lambda x: x, r.tokens).named("identity")


@case("9", "The sequence sorted ascending, equal values kept in order.", vocab=vocabs.int_digits(10), causal=False)
def sort_ascending():
    r = rasp_lib.rasp()
    return rasp_lib.make_sort(r.tokens, r.tokens, tie_break=lambda i: i / 10)


@case(
    "10",
    "The word if it is a palindrome, otherwise undefined.",
    vocab=vocabs.words() | {"radar", "rotor"},
)
def palindrome_word_or_none():
    # InterpBench also builds a shift_by with an SOp offset here that the output never
    # uses; it is not part of the compiled program, so it is left out.
    r = rasp_lib.rasp()
    half = r.Map(lambda word: len(word) // 2, r.tokens).named("half_length")
    is_palindrome = r.SequenceMap(lambda word, h: word[:h] == word[::-1][:h], r.tokens, half).named("is_palindrome")
    return r.SequenceMap(lambda word, ok: word if ok else None, r.tokens, is_palindrome).named("palindrome_or_none")


@case("11", "The number of characters in the current word.", vocab=vocabs.words(), trivial=True)
def word_length_via_attention():
    r = rasp_lib.rasp()
    length = r.Map(len, r.tokens).named("word_length")
    same_length = r.Select(length, length, r.Comparison.EQ).named("same_length")
    # Every selected position holds the same value, so the categorical mean is exact.
    return r.Aggregate(same_length, length, default=None).named("word_length_agg")


@case(
    "12",
    "Whether the pattern a, b, c ends at this position (undefined for the first two).",
    vocab=vocabs.ascii_letters(3),
    max_seq_len=15,
)
def detect_abc():
    r = rasp_lib.rasp()
    return _detect_pattern(r.tokens, "abc")


@case(
    "13",
    "Trend to the next token: 'increasing', 'decreasing' or 'constant' (undefined at the end).",
    vocab=vocabs.int_digits(3),
    causal=False,
)
def trend_to_next():
    r = rasp_lib.rasp()
    next_token = rasp_lib.shift_by(-1, r.tokens)

    def trend(current, following):
        if current < following:
            return "increasing"
        if current > following:
            return "decreasing"
        return "constant"

    return r.SequenceMap(trend, r.tokens, next_token).named("trend")


@case("14", "How many tokens in the sequence are 'a', at every position.", vocab=vocabs.ascii_letters(3), causal=False)
def count_of_a():
    return rasp_lib.count_where(lambda key, query: key == "a", "count_a")


@case("15", "Twice the token minus its index.", vocab=vocabs.int_digits(5), max_seq_len=5)
def twice_token_minus_index():
    # A three-argument SequenceMap emulated with tuples, as InterpBench does; the tuple
    # SOps are categorical and make the model wide.
    r = rasp_lib.rasp()
    pair = r.SequenceMap(lambda x, y: (x, y), r.tokens, r.tokens).named("token_pair")
    triple = r.SequenceMap(lambda xy, i: (*xy, i), pair, r.indices).named("token_pair_index")
    return r.Map(lambda t: t[0] + t[1] - t[2], triple).named("twice_minus_index")


@case(
    "17",
    "Whether the token equals the token at the mirrored position (all True iff a palindrome).",
    vocab=vocabs.ascii_letters(10),
    causal=False,
    sampler=_sample_palindrome_balanced,
)
def matches_mirror():
    r = rasp_lib.rasp()
    mirrored = rasp_lib.make_reverse(r.tokens)
    return r.SequenceMap(lambda x, y: x == y, r.tokens, mirrored).named("palindrome_detection")


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
    "19",
    "The token, or undefined where it repeats the previous token (first token undefined).",
    vocab=vocabs.ascii_letters(3),
    max_seq_len=15,
)
def drop_consecutive_duplicates():
    r = rasp_lib.rasp()
    prev_token = rasp_lib.shift_by(1, r.tokens)
    return r.SequenceMap(lambda x, prev: x if x != prev else None, r.tokens, prev_token).named("dedup")


@case(
    "20",
    "'spam' if the word is a spam keyword (free, offer, click, now), else 'not spam'.",
    vocab=vocabs.words() | {"spam", "offer", "click", "now"},
    trivial=True,
)
def spam_keyword():
    r = rasp_lib.rasp()
    keywords = ("free", "offer", "click", "now")
    matches = r.Map(lambda word: sum(word == k for k in keywords), r.tokens).named("keyword_matches")
    # tracr merges these two Maps into one MLP.
    return r.Map(lambda m: "spam" if m > 0 else "not spam", matches).named("is_spam")


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


@case("22", "The words sorted by length, ties kept in order.", vocab=vocabs.words(), causal=False)
def sort_words_by_length():
    r = rasp_lib.rasp()
    length = r.Map(len, r.tokens).named("word_length")
    return rasp_lib.make_sort(r.tokens, length, tie_break=lambda i: i / 10)


@case("23", "The word if it reads the same reversed, otherwise undefined.", vocab=vocabs.words() | {"racecar", "noon"})
def palindrome_word_map():
    r = rasp_lib.rasp()
    return r.Map(lambda word: word if word == word[::-1] else None, r.tokens).named("palindrome_word")


@case(
    "24",
    "The token copied through an attention head that attends to its own position.",
    vocab=vocabs.ascii_letters(3),
)
def copy_via_attention():
    r = rasp_lib.rasp()
    return rasp_lib.gather(r.tokens, r.indices, "copy")


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


@case("26", "The token repeated index + 1 times, as a string.", vocab=vocabs.ascii_letters(3), trivial=True)
def token_cascade():
    r = rasp_lib.rasp()
    return r.SequenceMap(lambda x, i: x * (i + 1), r.tokens, r.indices).named("cascade")


@case("28", "The word spelled backwards.", vocab=vocabs.words(min_chars=4, max_words=50))
def reverse_word():
    r = rasp_lib.rasp()
    return r.Map(lambda word: word[::-1], r.tokens).named("mirrored_word")


@case("29", "The first three characters of the word.", vocab=vocabs.words(), trivial=True)
def abbreviate_word():
    r = rasp_lib.rasp()
    return r.Map(lambda word: word[:3], r.tokens).named("abbreviation")


@case("30", "Whether the numeric string lies between 10 and 20 inclusive.", vocab=vocabs.str_numbers(0, 30))
def in_range_10_20():
    r = rasp_lib.rasp()
    return r.Map(lambda s: s.isdigit() and 10 <= int(s) <= 20, r.tokens).named("in_range")


@case("31", "Whether the word is an anagram of 'listen'.", vocab=vocabs.words() | {"listen"})
def anagram_of_listen():
    r = rasp_lib.rasp()
    target = sorted("listen")
    return r.Map(lambda word: sorted(word) == target, r.tokens).named("is_anagram")


@case(
    "32",
    "Whether the word differs from the previous word (first position undefined).",
    vocab=vocabs.words(min_chars=4, max_words=10),
)
def boundary_with_previous():
    r = rasp_lib.rasp()
    prev_token = rasp_lib.shift_by(1, r.tokens)
    return r.SequenceMap(lambda x, prev: x != prev, r.tokens, prev_token).named("boundary")


@case("33", "Whether the word has an even number of characters.", vocab=vocabs.words(), trivial=True)
def even_word_length():
    r = rasp_lib.rasp()
    return r.Map(lambda word: len(word) % 2 == 0, r.tokens).named("even_length")


@case("34", "Ratio of vowels to consonants in the word (infinity without consonants).", vocab=vocabs.words())
def vowel_consonant_ratio():
    r = rasp_lib.rasp()

    def ratio(word):
        vowels = sum(c in "aeiou" for c in word.lower())
        consonants = len(word) - vowels
        return vowels / consonants if consonants else float("inf")

    return r.Map(ratio, r.tokens).named("vowel_ratio")


@case(
    "35",
    "The word with upper case at even and lower case at odd character positions.",
    vocab=vocabs.words(),
    trivial=True,
)
def alternate_case():
    r = rasp_lib.rasp()

    def alternate(word):
        return "".join(c.upper() if i % 2 == 0 else c.lower() for i, c in enumerate(word))

    return r.Map(alternate, r.tokens).named("alternating_case")


@case(
    "36",
    "Sentiment of the emoji: 'positive', 'negative' or 'neutral'.",
    vocab={"😊", "😢", "📘"},
    trivial=True,
)
def emoji_sentiment():
    r = rasp_lib.rasp()
    sentiment = {"😊": "positive", "😢": "negative", "📘": "neutral"}
    return r.Map(lambda emoji: sentiment.get(emoji, "neutral"), r.tokens).named("sentiment")


@case("37", "The word reversed unless it is 'nochange' (which never occurs).", vocab=vocabs.words(), trivial=True)
def reverse_unless_excluded():
    r = rasp_lib.rasp()
    return r.Map(lambda word: word if word == "nochange" else word[::-1], r.tokens).named("reversal")


@case(
    "38",
    "Whether the token differs from both neighbours (undefined at both ends).",
    vocab=vocabs.ascii_letters(3),
    causal=False,
)
def differs_from_neighbours():
    r = rasp_lib.rasp()
    prev_token = rasp_lib.shift_by(1, r.tokens)
    next_token = rasp_lib.shift_by(-1, r.tokens)
    differs_prev = r.SequenceMap(lambda prev, x: prev != x, prev_token, r.tokens).named("differs_prev")
    differs_next = r.SequenceMap(lambda x, nxt: x != nxt, r.tokens, next_token).named("differs_next")
    return r.SequenceMap(lambda a, b: a and b, differs_prev, differs_next).named("alternation")


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
