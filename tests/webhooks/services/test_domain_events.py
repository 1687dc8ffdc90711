"""crm and loyalty services write the documented events to the outbox in their own transactions."""

import json
from decimal import Decimal

from crm.models import Customer
from crm.services.context import ChangeContext
from crm.services.privacy import customer_erase
from loyalty.models import Tier
from loyalty.services.ledger import EntrySource
from loyalty.services.points import points_add
from loyalty.services.purchases import purchase_checkout, purchase_refund, request_fingerprint
from webhooks.models import WebhookEvent

SIGN_UP = {
    "profile": {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com", "phoneMobile": "2175550100"},
    "consents": {"agreeToTC": True, "loyaltySignUp": True},
    "storeAttribution": {"storeId": "S1"},
}


def _types() -> list[str]:
    return list(WebhookEvent.objects.order_by("id").values_list("type", flat=True))


def _post(http, body, method="post"):
    return getattr(http, method)("/endpoint/sa/customers", data=json.dumps(body), content_type="application/json")


def test_pos_sign_up_emits_customer_created_and_loyalty_enrolled(pos_client):
    # when
    response = _post(pos_client, SIGN_UP)

    # then
    assert response.status_code == 200
    assert _types() == ["customer.created", "loyalty.enrolled"]
    customer_id = response.json()["customer"]["profile"]["customerId"]
    created = WebhookEvent.objects.get(type="customer.created")
    assert created.entity_id == customer_id


def test_pos_update_emits_customer_updated_naming_the_changed_fields(pos_client):
    # given
    customer_id = _post(pos_client, SIGN_UP).json()["customer"]["profile"]["customerId"]

    # when
    _post(
        pos_client,
        {"profile": {"customerId": customer_id, "email": "ada.l@example.com"}, "consents": {"smsSignUp": True}},
        method="put",
    )
    _post(pos_client, {"profile": {"customerId": customer_id, "email": "ada.l@example.com"}}, method="put")

    # then
    assert _types() == ["customer.created", "loyalty.enrolled", "customer.updated"]
    event = WebhookEvent.objects.get(type="customer.updated")
    assert event.entity_id == customer_id
    assert json.loads(event.body)["data"]["changed_fields"] == ["consents.sms_sign_up", "email"]


def test_a_rejected_request_emits_nothing(pos_client, customer_factory):
    # given
    customer_factory(email="ada@example.com")

    # when
    response = _post(pos_client, SIGN_UP)

    # then
    assert response.status_code == 409
    assert WebhookEvent.objects.count() == 0


def test_erasure_emits_customer_erased_without_personal_data(pos_client):
    # given
    customer_id = _post(pos_client, SIGN_UP).json()["customer"]["profile"]["customerId"]

    # when
    customer_erase(customer=Customer.objects.get(public_id=customer_id), context=ChangeContext())

    # then
    body = WebhookEvent.objects.get(type="customer.erased").body
    assert customer_id in body
    for personal in ("Ada", "Lovelace", "ada@example.com", "2175550100"):
        assert personal not in body


def test_checkout_refund_and_upgrade_emit_loyalty_and_purchase_events(enrolled_account, program):
    # given
    Tier.objects.create(program=program, rank=1, code="silver", name="Silver", threshold=Decimal("100"))
    account = enrolled_account()
    WebhookEvent.objects.all().delete()

    # when
    checkout = purchase_checkout(
        account=account, transaction_id="T1", total=Decimal("150"), lines=[], items=[], points_burned=0,
        fingerprint=request_fingerprint({"transaction_id": "T1"}),
    )  # fmt: skip
    purchase_refund(purchase=checkout.purchase, amount=Decimal("50"))
    points_add(account=account, points=5, origin=EntrySource(source="event"))

    # then
    assert _types() == [
        "loyalty.tier_changed",
        "loyalty.points_changed",
        "purchase.accepted",
        "loyalty.points_changed",
        "purchase.refunded",
        "loyalty.points_changed",
    ]
    changes = [
        json.loads(event.body)["data"]
        for event in WebhookEvent.objects.filter(type="loyalty.points_changed").order_by("id")
    ]
    assert [(c["kind"], c["change"], c["balance"], c["reference"]) for c in changes] == [
        ("earn", 150, 150, "T1"),
        ("refund", -50, 100, "T1"),
        ("adjust", 5, 105, ""),
    ]
    versions = [
        json.loads(event.body)["entity"]["version"]
        for event in WebhookEvent.objects.filter(type="loyalty.points_changed").order_by("id")
    ]
    assert versions == sorted(versions)
    assert len(set(versions)) == 3
