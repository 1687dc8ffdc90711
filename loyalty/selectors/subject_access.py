"""Everything held about one customer, for a subject-access request (GDPR art. 15): the profile, addresses,
consents and their history, the ids other systems know them by, loyalty accounts with cards and tier history, the
points ledger, purchases, vouchers, and the webhook events that named them (by customer id, account number,
purchase transaction id or voucher code) with where each was delivered.

One query per table, whatever the customer's history (a fixed number: see the tests' budget); rows come as plain
dicts of their stored columns, which DjangoJSONEncoder writes as JSON and the printable page lays out as tables.
Nothing here writes; the admin view and `manage.py export_customer` record who exported whom.
"""

from collections.abc import Iterable
from typing import Any

from django.db.models import Model
from django.utils import timezone

from crm.models import Address, ConsentChange, Consents, Customer, ExternalCustomerId
from loyalty.models import Card, LoyaltyAccount, PointsEntry, Purchase, TierChange, Voucher
from webhooks.models import WebhookDelivery

# Columns that are machinery, not information about the person (search keys, fingerprints, stored responses).
LEFT_OUT = frozenset(
    {"first_name_search", "last_name_search", "postal_code_search", "fingerprint", "normalised_number",
     "normalised_code", "request_fingerprint", "first_response", "idempotency_key"}
)  # fmt: skip


def _columns(model: type[Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields if field.attname not in LEFT_OUT]


def _rows(queryset: Iterable[Any]) -> list[dict[str, Any]]:
    return [dict(row) for row in queryset]


def customer_subject_access_data(*, customer: Customer) -> dict[str, Any]:
    """Every record of the customer, table by table. Twelve queries."""
    accounts = _rows(LoyaltyAccount.objects.filter(customer=customer).order_by("pk").values(*_columns(LoyaltyAccount)))
    account_pks = [account["id"] for account in accounts]
    purchases = _rows(
        Purchase.objects.filter(account__in=account_pks).order_by("purchased_at", "pk").values(*_columns(Purchase))
    )
    vouchers = _rows(Voucher.objects.filter(customer=customer).order_by("issued_at", "pk").values(*_columns(Voucher)))
    named_by = [
        customer.public_id,
        *(account["account_number"] for account in accounts),
        *(purchase["transaction_id"] for purchase in purchases),
        *(voucher["code"] for voucher in vouchers),
    ]
    deliveries = _rows(
        WebhookDelivery.objects.filter(event__entity_id__in=named_by)
        .order_by("event__created_at", "pk")
        .values(
            "event__public_id",
            "event__type",
            "event__entity_id",
            "event__created_at",
            "endpoint__url",
            "status",
            "attempt_count",
            "last_attempt_at",
        )  # fmt: skip
    )
    return {
        "exported_at": timezone.now(),
        "customer": Customer.objects.filter(pk=customer.pk).values(*_columns(Customer)).get(),
        "addresses": _rows(Address.objects.filter(customer=customer).order_by("position").values(*_columns(Address))),
        "consents": Consents.objects.filter(customer=customer).values(*_columns(Consents)).first(),
        "consent_history": _rows(
            ConsentChange.objects.filter(customer=customer)
            .order_by("changed_at", "pk")
            .values(*_columns(ConsentChange))
        ),
        "external_ids": _rows(
            ExternalCustomerId.objects.filter(customer=customer)
            .order_by("source")
            .values(*_columns(ExternalCustomerId))
        ),
        "loyalty_accounts": accounts,
        "cards": _rows(
            Card.objects.filter(account__in=account_pks).order_by("issued_at", "pk").values(*_columns(Card))
        ),
        "tier_changes": _rows(
            TierChange.objects.filter(account__in=account_pks)
            .order_by("changed_at", "pk")
            .values(*_columns(TierChange))
        ),
        "points_ledger": _rows(
            PointsEntry.objects.filter(account__in=account_pks)
            .order_by("created_at", "pk")
            .values(*_columns(PointsEntry))
        ),
        "purchases": purchases,
        "vouchers": vouchers,
        "webhook_deliveries": deliveries,
    }
