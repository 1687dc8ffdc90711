"""Voucher codes: unguessable, easy to read aloud and to type at a till.

A code's random part is 16 characters from a 31-character alphabet without the look-alikes 0/O, 1/I/L
(log2(31) * 16 = 79 bits of entropy: guessing one live code among a million needs ~2^59 tries), shown in groups
of four (ABCD-EFGH-JKMN-PQRS) inside the definition's pattern, e.g. "WELCOME-{code}". Lookups compare the
normalised form (upper case, without spaces, dashes or underscores), so "welcome abcd efgh jkmn pqrs" finds it.
"""

import re
import secrets
from collections.abc import Iterator

from django.core.exceptions import ValidationError

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
GROUP_SIZE = 4
GROUPS = 4
CODE_LENGTH = GROUP_SIZE * GROUPS
PLACEHOLDER = "{code}"
_SPACE = len(ALPHABET) ** CODE_LENGTH
_SEPARATORS = re.compile(r"[\s\-_]+")


def code_body_generate() -> str:
    """The random part, grouped: one draw from `secrets` per code (uniform over all 31^16 codes, no modulo bias)."""
    number = secrets.randbelow(_SPACE)
    characters = []
    for _ in range(CODE_LENGTH):
        number, digit = divmod(number, len(ALPHABET))
        characters.append(ALPHABET[digit])
    return "-".join("".join(characters[i : i + GROUP_SIZE]) for i in range(0, CODE_LENGTH, GROUP_SIZE))


def voucher_code_generate(pattern: str = PLACEHOLDER) -> str:
    return pattern.replace(PLACEHOLDER, code_body_generate())


def voucher_codes_generate(count: int, pattern: str = PLACEHOLDER) -> Iterator[str]:
    """`count` codes one at a time (bounded memory for bulk jobs). Uniqueness is the database's unique index's job;
    at 79 bits a collision among 100,000 codes has a probability of about 10^-14."""
    for _ in range(count):
        yield voucher_code_generate(pattern)


def code_normalise(code: str) -> str:
    return _SEPARATORS.sub("", code).upper()


def code_pattern_validate(pattern: str) -> None:
    if pattern.count(PLACEHOLDER) != 1:
        raise ValidationError("The code pattern must contain {code} exactly once.", code="code_pattern")
