"""Customer search: the normalised text the full-text index holds, and the query built from a term.

Chinese search terms are often one or two characters (恒通, 苏州), too short for trigram
indexes. The index therefore holds ONE TOKEN PER CHARACTER for CJK text and whole lowercased
words for runs of Latin letters and digits; a term matches as a PHRASE of consecutive tokens,
the last Latin/digit token as a prefix (so "C00001" finds the code C0000123 and "0512-6888"
the phone 0512-68881234). A phone number's digits are also indexed as one word and as its
suffixes of four or more digits, so that any part of a number ("1234", its last digits) is
found.

SQLite: an FTS5 table over `search_text` (unicode61 tokenizer), kept in sync by triggers.
PostgreSQL: a GIN index on to_tsvector('simple', search_text), queried with `<->` phrases.
Both are created by the migration 0002_customer_search_index.
"""

from __future__ import annotations

import unicodedata

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

FTS_TABLE = "customers_customer_fts"
# The shortest tail of a phone number that is indexed as a word of its own.
PHONE_SUFFIX_MIN = 4
# The customer fields search_text is made of.
SEARCHED_FIELDS = frozenset({"name", "city", "code", "phone"})

# Scripts written without spaces between words: each character is a token.
_CJK_RANGES = (
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x3134F),  # CJK extensions B–H
)


def _is_cjk(character: str) -> bool:
    point = ord(character)
    return any(low <= point <= high for low, high in _CJK_RANGES)


def _tokens(text: str) -> list[tuple[str, bool]]:
    """(token, is_word) pairs: CJK characters one by one, Latin/digit runs as lowercased
    words; everything else separates. Full-width letters and digits count as ASCII (NFKC)."""
    tokens: list[tuple[str, bool]] = []
    word: list[str] = []
    for character in unicodedata.normalize("NFKC", text).lower():
        if _is_cjk(character):
            if word:
                tokens.append(("".join(word), True))
                word = []
            tokens.append((character, False))
        elif character.isalnum():
            word.append(character)
        elif word:
            tokens.append(("".join(word), True))
            word = []
    if word:
        tokens.append(("".join(word), True))
    return tokens


def _phone_words(phone: str) -> list[str]:
    digits = "".join(c for c in unicodedata.normalize("NFKC", phone) if c.isdigit())
    if len(digits) < PHONE_SUFFIX_MIN:
        return [digits] if digits else []
    return [digits[start:] for start in range(len(digits) - PHONE_SUFFIX_MIN + 1)]


def search_text_of(*, name: str, city: str, code: str, phone: str) -> str:
    """The normalised searchable text of a customer (the `search_text` column)."""
    words = [token for part in (name, city, code, phone) for token, _ in _tokens(part or "")]
    words += _phone_words(phone or "")
    return " ".join(words)


def search_query_tokens(term: str) -> list[str]:
    """The tokens a search term is matched by, in order; empty for a term of punctuation."""
    return [token for token, _ in _tokens(term or "")]


def _last_is_word(term: str) -> bool:
    tokens = _tokens(term or "")
    return bool(tokens) and tokens[-1][1]


def fts5_match_expression(term: str) -> str | None:
    """The FTS5 MATCH string: one quoted phrase, the last word a prefix. Tokens hold only
    letters and digits, so nothing in them is FTS syntax; None when there is nothing to match."""
    tokens = search_query_tokens(term)
    if not tokens:
        return None
    phrase = '"' + " ".join(tokens) + '"'
    return phrase + " *" if _last_is_word(term) else phrase


def tsquery_expression(term: str) -> str | None:
    """The to_tsquery('simple', …) text: tokens joined by <->, the last word a prefix (:*)."""
    tokens = search_query_tokens(term)
    if not tokens:
        return None
    # Tokens are letters and digits only; quoting keeps to_tsquery from reading them as syntax.
    parts = ["'" + token + "'" for token in tokens]
    if _last_is_word(term):
        parts[-1] += ":*"
    return " <-> ".join(parts)


def customer_search_q(term: str) -> Q:
    """The filter on customers matching `term` through the index of this database."""
    if connection.vendor == "sqlite":
        expression = fts5_match_expression(term)
        if expression is None:
            return Q(pk__in=[])
        # The term goes in as a bound parameter; only the constant table name is formatted in.
        return Q(
            pk__in=RawSQL(  # noqa: S611
                f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s",  # noqa: S608
                [expression],
            )
        )
    if connection.vendor == "postgresql":
        expression = tsquery_expression(term)
        if expression is None:
            return Q(pk__in=[])
        return Q(
            pk__in=RawSQL(
                "SELECT id FROM customers_customer WHERE "
                "to_tsvector('simple', search_text) @@ to_tsquery('simple', %s)",
                [expression],
            )
        )
    # Other databases: no index, a phrase of the normalised tokens in search_text.
    tokens = search_query_tokens(term)
    if not tokens:
        return Q(pk__in=[])
    return Q(search_text__contains=" ".join(tokens))
