"""Fixtures and helpers shared by the events API tests (imported by them; holds no tests itself)."""

import pytest

from core.models import IdempotencyRecord
from crm.models import Customer
from loyalty.models import LoyaltyAccount, PointsEntry, Program, Purchase

EVENTS = "/api/v1/events"
BULK = "/api/v1/events/bulk"
NOW = "2026-06-24T10:15:00+00:00"


@pytest.fixture
def writer(make_api_client):
    """An HTTP client with the loyalty:write scope; its first request has recorded the key's last use."""
    http, _key = make_api_client("loyalty:write")
    return http


@pytest.fixture
def member(customer_factory, loyalty_account_factory, deterministic_ids):
    """member(points=0, **program_changes) -> an enrolled account of Sally Thompson (public id C1001, account
    number 500000000017) in the default program, holding `points` added by an event."""

    def make(points=0, **program_changes):
        if program_changes:
            Program.objects.filter(is_default=True).update(**program_changes)
        customer = customer_factory(
            public_id="C1001",
            first_name="Sally",
            last_name="Thompson",
            email="sally@example.com",
            phone_mobile="+12175550100",
            preferred_language="en",
        )
        return loyalty_account_factory(customer=customer, points=points)

    return make


def post_event(http, action, customer="C1001", data=None, **headers):
    body = {"action": action, "data": data or {}}
    if customer is not None:
        body["customer"] = customer
    return http.post(EVENTS, body, format="json", **headers)


def row_counts():
    return {
        "customers": Customer.objects.count(),
        "accounts": LoyaltyAccount.objects.count(),
        "purchases": Purchase.objects.count(),
        "entries": PointsEntry.objects.count(),
        "idempotency_records": IdempotencyRecord.objects.count(),
    }


def summary(**changes):
    """The customer part of an event response for the `member` fixture's customer."""
    body = {
        "id": "C1001",
        "status": "active",
        "first_name": "Sally",
        "last_name": "Thompson",
        "email": "sally@example.com",
        "language": "en",
        "state": "enrolled",
        "account_number": "500000000017",
        "currency": "USD",
        "tier": "member",
        "spendable": 0,
        "pending": 0,
        "reserved": 0,
        "spent": 0,
        "expired": 0,
        "score": 0,
        "owed": 0,
    }
    body.update(changes)
    return body


def new_entry_ids(account, count):
    """Ids of the account's last `count` ledger entries, oldest first, as the API shows them."""
    ids = PointsEntry.objects.filter(account=account).order_by("-id").values_list("id", flat=True)[:count]
    return [str(pk) for pk in reversed(ids)]


def transaction_summary(**changes):
    body = {
        "transaction_id": "T1",
        "state": "accepted",
        "currency": "USD",
        "total": "100.00",
        "refunded_total": "0.00",
        "points_earned": 100,
        "points_burned": 0,
        "points_taken_back": 0,
        "points_returned": 0,
        "points_forgiven": 0,
        "store_id": None,
        "channel": "",
        "purchased_at": "2026-06-24T10:15:00Z",
        "confirm_at": None,
    }
    body.update(changes)
    return body
