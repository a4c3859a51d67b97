"""Chinese names, phone numbers and e-mail addresses, drawn in bulk from a numpy generator."""

from __future__ import annotations

import numpy as np

from kehu.demo.reference import (
    BRAND_FIRST,
    BRAND_SECOND,
    EMAIL_DOMAINS,
    GIVEN_NAME_CHARACTERS,
    SURNAME_WEIGHTS,
    SURNAMES,
)

_SURNAME_P = np.asarray(SURNAME_WEIGHTS) / np.sum(SURNAME_WEIGHTS)


def pick(
    rng: np.random.Generator, options: tuple[str, ...], n: int, p: np.ndarray | None = None
) -> list[str]:
    """n picks from a tuple of strings."""
    index = rng.choice(len(options), size=n, p=p)
    return [options[i] for i in index.tolist()]


def person_names(rng: np.random.Generator, n: int) -> list[str]:
    """Names like 王伟 or 欧阳嘉怡: a surname and one or two given characters."""
    surnames = rng.choice(len(SURNAMES), size=n, p=_SURNAME_P).tolist()
    first = rng.integers(0, len(GIVEN_NAME_CHARACTERS), size=n).tolist()
    second = rng.integers(0, len(GIVEN_NAME_CHARACTERS), size=n).tolist()
    two_characters = (rng.random(n) < 0.7).tolist()
    names = []
    for surname, a, b, two in zip(surnames, first, second, two_characters, strict=True):
        given = GIVEN_NAME_CHARACTERS[a] + (GIVEN_NAME_CHARACTERS[b] if two and b != a else "")
        names.append(SURNAMES[surname] + given)
    return names


def brands(rng: np.random.Generator, n: int) -> list[str]:
    """Two-character trade names (字号) like 恒通 or 鑫源."""
    first = rng.integers(0, len(BRAND_FIRST), size=n).tolist()
    second = rng.integers(0, len(BRAND_SECOND), size=n).tolist()
    return [BRAND_FIRST[a] + BRAND_SECOND[b] for a, b in zip(first, second, strict=True)]


def mobile_phones(rng: np.random.Generator, n: int) -> list[str]:
    prefixes = np.asarray(
        [
            130,
            131,
            132,
            135,
            136,
            137,
            138,
            139,
            150,
            151,
            152,
            155,
            158,
            159,
            166,
            176,
            177,
            180,
            181,
            185,
            186,
            187,
            188,
            189,
            199,
        ]
    )
    head = rng.choice(prefixes, size=n).tolist()
    tail = rng.integers(0, 100_000_000, size=n).tolist()
    return [f"{h}{t:08d}" for h, t in zip(head, tail, strict=True)]


def landlines(rng: np.random.Generator, area_codes: list[str]) -> list[str]:
    numbers = rng.integers(20_000_000, 89_999_999, size=len(area_codes)).tolist()
    return [f"{area}-{number}" for area, number in zip(area_codes, numbers, strict=True)]


def emails(rng: np.random.Generator, n: int, share: float) -> list[str]:
    """Mailbox numbers at the big Chinese providers (the QQ style), blank for 1 − share."""
    numbers = rng.integers(10_000_000, 3_999_999_999, size=n).tolist()
    domains = rng.integers(0, len(EMAIL_DOMAINS), size=n).tolist()
    present = (rng.random(n) < share).tolist()
    return [
        f"{number}@{EMAIL_DOMAINS[d]}" if has else ""
        for number, d, has in zip(numbers, domains, present, strict=True)
    ]
