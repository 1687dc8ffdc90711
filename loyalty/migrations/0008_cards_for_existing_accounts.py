"""Every existing account number becomes a digital card, so that cards scanned before cards existed (the
account number printed as a barcode) keep working; enrolment issues the same card from now on."""

import re

from django.db import migrations

_SEPARATORS = re.compile(r"[\s\-_.]+")


def _normalise(number, strip_leading_zeros):
    # A frozen copy of loyalty.card_numbers.card_number_normalise: migrations must not follow later code changes.
    compact = _SEPARATORS.sub("", number).upper()
    if strip_leading_zeros:
        compact = compact.lstrip("0")
    return compact


def cards_create(apps, schema_editor):
    LoyaltyAccount = apps.get_model("loyalty", "LoyaltyAccount")
    Card = apps.get_model("loyalty", "Card")
    taken = set(Card.objects.values_list("normalised_number", flat=True))
    batch = []
    accounts = LoyaltyAccount.objects.select_related("program").filter(cards__isnull=True).order_by("pk")
    for account in accounts.iterator(chunk_size=2000):
        key = _normalise(account.account_number, account.program.card_number_strip_leading_zeros)
        if not key or key in taken:
            continue
        taken.add(key)
        batch.append(
            Card(
                account=account,
                number=account.account_number,
                normalised_number=key,
                kind="digital",
                status="active",
                issued_at=account.enrolled_at or account.created_at,
            )
        )
        if len(batch) >= 2000:
            Card.objects.bulk_create(batch)
            batch = []
    Card.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("loyalty", "0007_cards_and_scan_and_go"),
    ]

    operations = [
        migrations.RunPython(cards_create, migrations.RunPython.noop),
    ]
