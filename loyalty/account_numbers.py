"""Loyalty account numbers: digits only (they are typed at tills and printed as barcodes) with a Luhn check
digit, so that a mistyped digit is caught before any lookup."""

import secrets

ACCOUNT_NUMBER_BODY_LENGTH = 11


def luhn_check_digit(digits: str) -> str:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def is_valid_account_number(value: str) -> bool:
    return value.isdigit() and len(value) > 1 and luhn_check_digit(value[:-1]) == value[-1]


def generate_account_number() -> str:
    # The first digit is never 0, so that spreadsheets and barcode readers keep all twelve digits.
    body = str(secrets.randbelow(9) + 1) + "".join(
        str(secrets.randbelow(10)) for _ in range(ACCOUNT_NUMBER_BODY_LENGTH - 1)
    )
    return body + luhn_check_digit(body)
