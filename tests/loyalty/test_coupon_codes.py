"""Voucher codes are unguessable, readable and unique (loyalty/coupon_codes.py). No database."""

import math
import re
import time

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


def test_100_000_codes_are_unique_well_formed_and_fast():
    # given
    started = time.perf_counter()

    # when
    codes = list(voucher_codes_generate(100_000, "WELCOME-{code}"))

    # then
    elapsed = time.perf_counter() - started
    assert len(codes) == 100_000
    assert len(set(codes)) == 100_000
    assert len({code_normalise(code) for code in codes}) == 100_000
    assert all(WELL_FORMED.fullmatch(code) for code in codes)
    assert elapsed < 3


def test_bulk_generation_is_lazy():
    # when
    codes = voucher_codes_generate(10**12)

    # then
    assert re.fullmatch(r"(\w{4}-){3}\w{4}", next(codes))


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
