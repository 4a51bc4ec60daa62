"""Word and string Maps: each token is a word (or letter) transformed on its own.

Part of the built-in catalogue (CASES.md §5), declared with
``interpbench.cases.catalogue.case``; shared RASP building blocks come from
``interpbench.cases.rasp_lib``.
"""

from __future__ import annotations

from interpbench.cases import rasp_lib, vocabs
from interpbench.cases.catalogue import case


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


@case("23", "The word if it reads the same reversed, otherwise undefined.", vocab=vocabs.words() | {"racecar", "noon"})
def palindrome_word_map():
    r = rasp_lib.rasp()
    return r.Map(lambda word: word if word == word[::-1] else None, r.tokens).named("palindrome_word")


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
    "90",
    "Each word, except that 'findme' becomes '-'.",
    vocab=vocabs.words() | {"findme", "-"},
    trivial=True,
)
def replace_findme():
    return rasp_lib.token_map(lambda w: "-" if w == "findme" else w, "replace_findme")
