"""Loyalty card numbers as scanners and people send them, reduced to the one form lookups compare.

Scanners and tills disagree on separators, case and padding: "0001 2345-67ab", "12345-67AB" and "1234567ab"
are the same card. The normalised form keeps letters and digits only, upper-cased, and (when the program says
so) without leading zeros. Pure functions, no database.
"""

import re

CARD_NUMBER_MAX_LENGTH = 64
# What a card number may be made of, checked on the value as sent: it is printed as a barcode, so ASCII letters
# and digits, and the separators people and scanners add (spaces, tabs, line breaks, dashes, underscores, dots). The
# check comes before upper-casing because Unicode case mapping makes ASCII out of other letters ("ß" upper-cases to
# "SS", "ﬁ" to "FI", "ı" to "I"): a value with such a letter would otherwise be looked up as another card.
_ALLOWED = re.compile(r"[A-Za-z0-9 \t\r\n\-_.]*")
_SEPARATORS = re.compile(r"[ \t\r\n\-_.]+")


def card_number_normalise(value: str, *, strip_leading_zeros: bool) -> str:
    """The lookup form of `value`, or "" when nothing usable is left (empty, only separators or zeros) or when it
    has any other character than the allowed ones (non-ASCII letters or digits, control characters, NUL...)."""
    if not _ALLOWED.fullmatch(value):
        return ""
    compact = _SEPARATORS.sub("", value).upper()
    if strip_leading_zeros:
        compact = compact.lstrip("0")
    return compact


def card_number_lookup_keys(value: str) -> tuple[str, str]:
    """The two forms a scanned value can match: as stored by a program that keeps leading zeros, and by one
    that strips them (the lookup asks the card's program which of the two applies)."""
    return (
        card_number_normalise(value, strip_leading_zeros=False),
        card_number_normalise(value, strip_leading_zeros=True),
    )
