"""Public identifiers: random, unguessable, and free of characters an associate could misread (Crockford base32)."""

import secrets

PUBLIC_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def generate_public_id(prefix: str, length: int = 12) -> str:
    # 12 symbols = 60 bits: about 4e-7 chance of any collision among a million customers.
    return prefix + "".join(secrets.choice(PUBLIC_ID_ALPHABET) for _ in range(length))


def generate_customer_id() -> str:
    return generate_public_id("C")


def generate_address_id() -> str:
    return generate_public_id("A")
