"""Voucher codes are unguessable, readable and unique (loyalty/coupon_codes.py). No database."""

import math
import re
import secrets

import pytest
from django.core.exceptions import ValidationError

from loyalty.coupon_codes import (
    ALPHABET,
    CODE_LENGTH,
    code_normalise,
    code_pattern_validate,
    voucher_code_generate,
    voucher_codes_generate,
)

WELL_FORMED = re.compile(r"WELCOME-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}")


def test_alphabet_has_no_ambiguous_characters_and_codes_carry_at_least_60_bits():
    # then
    assert set(ALPHABET).isdisjoint(set("0O1IL"))
    assert len(set(ALPHABET)) == len(ALPHABET) == 31
    assert CODE_LENGTH * math.log2(len(ALPHABET)) > 79


def test_100_000_codes_are_unique_and_well_formed():
    # when
    codes, normalised_codes = voucher_codes_generate(100_000, "WELCOME-{code}")

    # then
    assert len(codes) == len(normalised_codes) == 100_000
    assert len(set(codes)) == len(set(normalised_codes)) == 100_000
    assert all(WELL_FORMED.fullmatch(code) for code in codes)
    assert normalised_codes == [code_normalise(code) for code in codes]


@pytest.mark.parametrize("pattern", ["{code}", "welcome {code}", "50%_off-{code}-%s", "straße-{code}"])
def test_the_normalised_codes_are_those_of_the_codes_whatever_the_pattern(pattern):
    # when
    codes, normalised_codes = voucher_codes_generate(50, pattern)

    # then
    prefix, suffix = pattern.split("{code}")
    assert all(code.startswith(prefix) and code.endswith(suffix) for code in codes)
    assert all(len(code) == len(pattern) - len("{code}") + CODE_LENGTH + 3 for code in codes)
    assert normalised_codes == [code_normalise(code) for code in codes]


def test_every_character_is_equally_likely_and_only_the_csprng_draws_them(monkeypatch):
    # given: a first draw of bytes that must all be rejected (248..255, past the last multiple of 31), then every
    # byte value in turn
    draws = []

    def token_bytes(count):
        draws.append(count)
        rejected_only = len(draws) == 1
        return bytes(248 + i % 8 if rejected_only else i % 256 for i in range(count))

    monkeypatch.setattr(secrets, "token_bytes", token_bytes)

    # when: 31 codes, 496 characters
    codes, _normalised_codes = voucher_codes_generate(31, "{code}")

    # then: the bytes 0..247 map onto the alphabet in order, each of its 31 characters 8 times
    assert "".join(codes).replace("-", "") == ALPHABET * 16
    assert len(draws) == 2


def test_a_pattern_without_exactly_one_placeholder_generates_nothing():
    # when / then
    with pytest.raises(ValidationError, match="exactly once"):
        voucher_codes_generate(10, "WELCOME")


def test_normalisation_ignores_case_spaces_dashes_and_underscores():
    # given
    code = voucher_code_generate("WELCOME-{code}")

    # when
    typed = " " + code.lower().replace("-", " ", 2).replace("-", "_") + "\t"

    # then
    assert code_normalise(typed) == code_normalise(code) == code.replace("-", "")


@pytest.mark.parametrize("pattern", ["{code}", "WELCOME-{code}", "{code}-2026"])
def test_pattern_with_one_placeholder_is_valid(pattern):
    # when
    code_pattern_validate(pattern)

    # then
    assert voucher_code_generate(pattern).count("-") == 3 + pattern.count("-")


@pytest.mark.parametrize("pattern", ["WELCOME", "{code}{code}", "{CODE}"])
def test_pattern_without_exactly_one_placeholder_is_refused(pattern):
    # when / then
    with pytest.raises(ValidationError, match="exactly once"):
        code_pattern_validate(pattern)
