"""A key restricted to some stores must name one on every loyalty API write that records a store: checkout, opt_in
and coupon_redeem events (alone and in bulk) and POST /api/v1/coupons/redeem. Without one it is 403
STORE_REQUIRED naming the field, and nothing is written; an unrestricted key may still leave the store out."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from crm.models import ApiClient, ConsentChange, Store
from crm.services.api_clients import api_key_hash
from loyalty.models import CouponDefinition, Voucher
from tests.loyalty.api import events_support as support
from tests.loyalty.api.events_support import BULK, NOW, post_event, row_counts
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db
member = support.member
writer = support.writer

REDEEM = "/api/v1/coupons/redeem"


@pytest.fixture(autouse=True)
def _frozen_time(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def restricted(make_api_client, store_factory):
    """A loyalty:write client whose key may act for stores SF01 and SF02 only."""
    http, key = make_api_client("loyalty:write")
    client = ApiClient.objects.get(key_hash=api_key_hash(key))
    client.allowed_stores.add(store_factory(code="SF01"), store_factory(code="SF02"))
    return http


@pytest.fixture
def voucher(program, member, coupon_definition_factory, voucher_factory):
    sally = member().customer
    welcome = coupon_definition_factory(
        program=program, code="welcome-10", kind=CouponDefinition.Kind.PERCENT, value=Decimal("10")
    )
    return voucher_factory(
        definition=welcome, code="WELCOME-AAAA", customer=sally, now=datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    )


def _written():
    """Every row a store-recording write may add: customers, accounts, purchases, ledger entries, idempotency
    records, consent changes, stores, redeemed vouchers and webhook events."""
    return {
        **row_counts(),
        "consent_changes": ConsentChange.objects.count(),
        "stores": sorted(Store.objects.values_list("code", flat=True)),
        "redeemed": Voucher.objects.filter(status=Voucher.Status.REDEEMED).count(),
        "webhook_events": WebhookEvent.objects.count(),
    }


def _store_required(field):
    return {
        "message": "Required: this API key may act only for some stores.",
        "code": "STORE_REQUIRED",
        "extra": {"field": field},
    }


CHECKOUT = {"transaction_id": "T1", "total": "10.00"}
COUPON = {"code": "WELCOME-AAAA", "transaction_id": "T1", "channel": "pos", "amount": "59.98"}
NEW_MEMBER = {"email": "ann@example.com", "first_name": "Ann"}


@pytest.mark.parametrize(
    ("action", "customer", "data"),
    [
        ("checkout", "C1001", CHECKOUT),
        ("opt_in", "C1001", {}),
        ("opt_in", "C1001", {"language": "de"}),
        ("opt_in", None, NEW_MEMBER),
        ("coupon_redeem", "C1001", COUPON),
    ],
)
def test_a_restricted_key_naming_no_store_is_403_and_writes_nothing(restricted, voucher, action, customer, data):
    # given
    before = _written()

    # when
    response = post_event(restricted, action, customer=customer, data=data, HTTP_IDEMPOTENCY_KEY="till-1-1")

    # then
    assert response.status_code == 403
    assert response.json() == _store_required("data.store_id")
    assert _written() == before


@pytest.mark.parametrize(
    ("action", "customer", "data"),
    [
        ("checkout", "C1001", CHECKOUT),
        ("opt_in", None, NEW_MEMBER),
        ("coupon_redeem", "C1001", COUPON),
    ],
)
def test_a_restricted_key_naming_one_of_its_stores_records_it(restricted, voucher, action, customer, data):
    # when
    response = post_event(restricted, action, customer=customer, data={**data, "store_id": "SF02"})

    # then
    assert response.status_code == 200
    assert sorted(Store.objects.values_list("code", flat=True)) == ["SF01", "SF02"]


@pytest.mark.parametrize(
    ("action", "data"),
    [("point_add", {"points": 5}), ("profile", {"language": "fr"}), ("opt_out", {})],
)
def test_a_restricted_key_needs_no_store_for_an_action_that_records_none(restricted, member, action, data):
    # given
    member(points=10)

    # when
    response = post_event(restricted, action, data=data)

    # then
    assert response.status_code == 200


def test_an_unrestricted_key_may_still_name_no_store(writer, voucher):
    # given
    stores = sorted(Store.objects.values_list("code", flat=True))

    # when
    checkout = post_event(writer, "checkout", data=CHECKOUT)
    redeem = post_event(writer, "coupon_redeem", data={**COUPON, "transaction_id": "T2"})
    opt_in = post_event(writer, "opt_in", customer=None, data=NEW_MEMBER)

    # then
    assert (checkout.status_code, redeem.status_code, opt_in.status_code) == (200, 200, 200)
    assert checkout.json()["transaction"]["store_id"] is None
    assert redeem.json()["redemption"]["store_id"] is None
    assert sorted(Store.objects.values_list("code", flat=True)) == stores


def test_in_bulk_an_event_naming_no_store_fails_alone(restricted, member):
    # given
    member()
    before = _written()
    events = [
        {"customer": "C1001", "action": "checkout", "data": {**CHECKOUT, "store_id": "SF01"}},
        {"customer": "C1001", "action": "checkout", "data": {**CHECKOUT, "transaction_id": "T2"}},
        {"action": "opt_in", "data": NEW_MEMBER, "idempotency_key": "till-1-2"},
    ]

    # when
    response = restricted.post(BULK, {"events": events}, format="json")

    # then
    assert response.status_code == 200
    results = response.json()["results"]
    assert [result["status"] for result in results] == [200, 403, 403]
    assert results[1] == {"index": 1, "status": 403, "error": _store_required("data.store_id")}
    assert results[2] == {"index": 2, "status": 403, "error": _store_required("data.store_id")}
    assert (response.json()["total"], response.json()["errors"]) == (3, 2)
    after = _written()
    assert (after["purchases"], after["customers"]) == (before["purchases"] + 1, before["customers"])


def test_redeem_by_a_restricted_key_naming_no_store_is_403_and_writes_nothing(restricted, voucher):
    # given
    before = _written()
    body = {"code": "WELCOME-AAAA", "customer": "C1001", "transaction_id": "T1", "channel": "pos"}

    # when
    refused = restricted.post(REDEEM, {**body, "cart": {"total": "59.98"}}, format="json")

    # then
    assert refused.status_code == 403
    assert refused.json() == _store_required("store_id")
    assert _written() == before
    allowed = restricted.post(REDEEM, {**body, "cart": {"total": "59.98"}, "store_id": "SF01"}, format="json")
    assert (allowed.status_code, allowed.json()["store_id"]) == (200, "SF01")


def test_redeem_by_an_unrestricted_key_naming_no_store_is_200(writer, voucher):
    # when
    body = {"code": "WELCOME-AAAA", "customer": "C1001", "transaction_id": "T1", "channel": "pos"}
    response = writer.post(REDEEM, {**body, "cart": {"total": "59.98"}}, format="json")

    # then
    assert (response.status_code, response.json()["store_id"]) == (200, None)


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("de", "Erforderlich: Dieser API-Schlüssel darf nur für bestimmte Filialen handeln."),
        ("fr", "Obligatoire : cette clé d’API ne peut agir que pour certains magasins."),
        ("es", "Obligatorio: esta clave de API solo puede actuar para algunas tiendas."),
    ],
)
def test_the_refusal_speaks_the_requests_language(restricted, member, language, message):
    # given
    member()

    # when
    response = post_event(restricted, "checkout", data=CHECKOUT, HTTP_ACCEPT_LANGUAGE=language)

    # then
    assert response.json() == {**_store_required("data.store_id"), "message": message}
