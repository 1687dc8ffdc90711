"""The stable number a vendor dialect shows for one of our customers, where the vendor's clients hold a customer id as
a number: Capillary's `id`, `userId` and lookup `entity`, LoyaltyLion's `id`.

It is the customer's primary key. That number never changes and is never reused (the row stays after erasure, only
the PII goes), which is all these clients need of it; our own APIs keep the public id string (DESIGN section 4). A
migrated customer's old Capillary or LoyaltyLion number is not carried over: clients get the new number from a lookup
(by email, mobile, card or their own external id), as docs/migrating-from-capillary.md and -loyaltylion.md say.
"""

from crm.models import Customer

# Larger numbers cannot be a primary key (a signed 64-bit column); they are answered as "not found", never a 500.
MAX_CUSTOMER_NUMBER = 2**63 - 1


def customer_number(customer: Customer) -> int:
    return int(customer.pk)


def customer_number_parse(text: str) -> int | None:
    """The customer number `text` spells (ASCII digits only), or None when it spells none."""
    text = text.strip()
    if not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if 0 < number <= MAX_CUSTOMER_NUMBER else None
