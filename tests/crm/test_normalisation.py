import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm.normalisation import (
    address_fingerprint,
    fold_for_search,
    normalise_email,
    normalise_phone,
    normalise_postal_code,
    search_key,
)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("(217) 555-0100", "+12175550100"),
        ("217.555.0100", "+12175550100"),
        ("+1 217 555 0100", "+12175550100"),
        ("011 49 30 901820", "+4930901820"),
        ("+49 30 901820", "+4930901820"),
        ("+44 20 7183 8750", "+442071838750"),
        ("12", "12"),
        ("+999 12", "+99912"),
        ("", ""),
        ("call me", None),
        ("<script>", None),
        ("---", None),
    ],
)
def test_phone_is_stored_in_e164_where_parseable(typed, stored):
    assert normalise_phone(typed, default_region="US") == stored


def test_phone_without_country_code_is_read_in_the_default_region():
    assert normalise_phone("030 901820", default_region="DE") == "+4930901820"


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("  Müller-Lüdenscheidt ", "muller-ludenscheidt"),
        ("ZOË", "zoe"),
        ("José  María", "jose maria"),
        ("STRASSE", "strasse"),
    ],
)
def test_names_fold_case_accents_and_spaces(typed, folded):
    assert fold_for_search(typed) == folded


@given(st.text(max_size=40))
def test_folding_is_idempotent(text):
    assert fold_for_search(fold_for_search(text)) == fold_for_search(text)


@given(st.text(max_size=40))
def test_a_prefix_of_a_name_folds_to_a_prefix_of_the_folded_name(text):
    # The search relies on this: what an associate types first must match the stored folded name's start.
    stripped = text.strip()
    for cut in range(len(stripped) + 1):
        prefix = stripped[:cut]
        if prefix and not prefix[-1].isspace() and not _splits_a_grapheme(stripped, cut):
            assert fold_for_search(stripped).startswith(fold_for_search(prefix))


def _splits_a_grapheme(text: str, cut: int) -> bool:
    import unicodedata

    return cut < len(text) and (
        unicodedata.combining(text[cut]) != 0 or unicodedata.normalize("NFKD", text[cut]) != text[cut]
    )


def test_email_is_trimmed_and_lower_cased():
    assert normalise_email("  Ada.Lovelace@Example.COM ") == "ada.lovelace@example.com"


def test_postal_code_ignores_spaces_and_case():
    assert normalise_postal_code(" sw1a 1aa ") == "SW1A1AA"


def test_same_address_typed_differently_has_one_fingerprint():
    typed_once = {"address_line1": "1 Main St", "city": "Springfield", "postal_code": "62701", "country_code": "US"}
    typed_again = {"address_line1": " 1  MAIN st", "city": "springfield", "postal_code": "627 01", "country_code": "us"}
    assert address_fingerprint(typed_once) == address_fingerprint(typed_again)
    assert address_fingerprint(typed_once) != address_fingerprint({**typed_once, "address_line2": "Apt 4"})


def test_search_key_is_bounded_by_the_indexed_column_width():
    assert search_key("ß" * 100) == "s" * 100
    assert search_key("Straße") == "strasse"
