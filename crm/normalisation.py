"""Pure, database-free normalisation, so that search finds a customer however the associate typed the value."""

import hashlib
import re
import unicodedata

import phonenumbers

PHONE_CHARACTERS = re.compile(r"^[0-9+()\-./ ]+$")
WHITESPACE = re.compile(r"\s+")
SEARCH_KEY_LENGTH = 100


def fold_for_search(value: str) -> str:
    """Case- and accent-insensitive form: "  Müller-Lüdenscheidt " -> "muller-ludenscheidt".

    Decomposition runs on both sides of case-folding: compatibility decomposition can produce capitals
    ("𝘼" -> "A") and case-folding can produce combining marks ("İ" -> "i" + dot above). Stripping comes last
    because dropping a mark can leave a space behind ("¸" decomposes to space + cedilla).
    """
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", value).casefold())
    without_marks = "".join(char for char in decomposed if not unicodedata.combining(char))
    return WHITESPACE.sub(" ", without_marks).strip()


def search_key(value: str, *, max_length: int = SEARCH_KEY_LENGTH) -> str:
    """fold_for_search cut to the width of the indexed column: folding can lengthen text ("ß" -> "ss"), and
    a query is cut the same way, so a prefix search still finds what was stored."""
    return fold_for_search(value)[:max_length]


def normalise_email(value: str) -> str:
    return value.strip().lower()


def normalise_postal_code(value: str) -> str:
    return WHITESPACE.sub("", value).upper()


def normalise_phone(value: str, *, default_region: str) -> str | None:
    """E.164 ("+14155550100") for a number phonenumbers can read; the digits with their "+" otherwise.

    Returns None when the value cannot be a phone number at all (letters, markup, no digits).
    """
    stripped = value.strip()
    if not stripped:
        return ""
    if not PHONE_CHARACTERS.match(stripped) or not any(char.isdigit() for char in stripped):
        return None
    try:
        parsed = phonenumbers.parse(stripped, default_region.upper())
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is not None and phonenumbers.is_possible_number(parsed):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    digits = "".join(char for char in stripped if char.isdigit())
    return f"+{digits}" if stripped.startswith("+") else digits


ADDRESS_CONTENT_FIELDS = (
    "first_name",
    "last_name",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "country_code",
    "phone",
)


def address_fingerprint(address: dict[str, str]) -> str:
    """The same address typed twice ("1 Main St" / " 1 main st ") gives the same fingerprint."""
    parts = []
    for name in ADDRESS_CONTENT_FIELDS:
        value = address.get(name) or ""
        parts.append(normalise_postal_code(value) if name == "postal_code" else fold_for_search(value))
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
