"""The store of a coupon redemption (POST /api/v1/coupons/redeem and the events API's coupon_redeem: `store_id`,
refused for a key restricted to other stores) and what the same transaction id again answers: the first redemption
when it is a till retrying (same store, a cart giving the same discount), 409 ERR_TX_ALREADY_EXISTS otherwise."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from crm.models import ApiClient, Store
from crm.services.api_clients import api_key_hash
from loyalty.models import CouponDefinition, Voucher
from tests.loyalty.api import events_support as support
from tests.loyalty.api.events_support import NOW, post_event, summary
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db
member = support.member
writer = support.writer

REDEEM = "/api/v1/coupons/redeem"
UNTIL = datetime(2026, 12, 1, tzinfo=UTC)
CART = {"items": [{"product_id": "SHIRT", "price": "40.00"}, {"product_id": "SOCKS", "price": "9.99", "quantity": 2}]}
REDEEMED_COUPON = {
    "code": "WELCOME-AAAA",
    "status": "redeemed",
    "type": "percent",
    "value": "10.00",
    "currency": "USD",
    "name": "Welcome_10",
    "created_at": "2026-06-01T09:00:00Z",
    "claimed_at": None,
    "redeemed_at": "2026-06-24T10:15:00Z",
    "expires_at": "2026-12-01T00:00:00Z",
    "channels": ["pos", "scan_and_go", "web"],
    "auto_apply": False,
}


@pytest.fixture(autouse=True)
def _frozen_time(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def sally(member):
    return member().customer


@pytest.fixture
def voucher(program, sally, coupon_definition_factory, voucher_factory):
    welcome = coupon_definition_factory(
        program=program,
        code="welcome-10",
        name="Welcome_10",
        kind=CouponDefinition.Kind.PERCENT,
        value=Decimal("10"),
        valid_until=UNTIL,
    )
    return voucher_factory(
        definition=welcome, code="WELCOME-AAAA", customer=sally, now=datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    )


@pytest.fixture
def restricted(make_api_client, store_factory):
    """A loyalty:write client whose key may act for store SF01 only."""
    http, key = make_api_client("loyalty:write")
    ApiClient.objects.get(key_hash=api_key_hash(key)).allowed_stores.add(store_factory(code="SF01"))
    return http


def _written():
    """What a redemption may write: vouchers, stores (one named for the first time) and the webhook outbox."""
    vouchers = Voucher.objects.order_by("pk").values_list(
        "code", "status", "redeemed_transaction_id", "redeemed_store_id", "redemption_amount"
    )
    return list(vouchers), sorted(Store.objects.values_list("code", flat=True)), WebhookEvent.objects.count()


def _redeem_body(transaction_id="SF01-0042-10001", **changes):
    body = {"code": "WELCOME-AAAA", "customer": "C1001", "transaction_id": transaction_id, "channel": "pos"}
    return {**body, "cart": CART, **changes}


def _redeemed_webhook():
    [event] = WebhookEvent.objects.filter(type="coupon.redeemed")
    return json.loads(event.body)["data"]


# ------------------------------------------------------------------------------------------------- POST /coupons/redeem


def test_redeem_at_a_store_records_it_and_answers_it(writer, voucher):
    # when
    response = writer.post(REDEEM, _redeem_body(store_id="SF01"), format="json")

    # then
    assert response.status_code == 200
    assert response.json() == {
        "transaction_id": "SF01-0042-10001",
        "customer": "C1001",
        "store_id": "SF01",
        "discount": "6.00",
        "coupon": REDEEMED_COUPON,
    }
    voucher.refresh_from_db()
    assert (voucher.redeemed_store.code, voucher.redemption_amount) == ("SF01", Decimal("6.00"))
    assert (_redeemed_webhook()["store"], _redeemed_webhook()["transaction_id"]) == ("SF01", "SF01-0042-10001")


def test_a_key_restricted_to_some_stores_may_not_redeem_for_another_and_nothing_is_written(restricted, voucher):
    # given
    before = _written()

    # when
    refused = restricted.post(REDEEM, _redeem_body(store_id="SF02"), format="json")

    # then
    assert refused.status_code == 403
    assert refused.json() == {
        "message": "This API key may not act for store SF02.",
        "code": "STORE_NOT_ALLOWED",
        "extra": {"field": "store_id"},
    }
    assert _written() == before
    assert restricted.post(REDEEM, _redeem_body(store_id="SF01"), format="json").status_code == 200


def test_a_refused_redemption_does_not_record_the_store_it_names(writer, voucher):
    # given
    before = _written()

    # when: a guest redeeming Sally's voucher, at a store not seen before
    body = _redeem_body(store_id="SF09")
    del body["customer"]
    response = writer.post(REDEEM, body, format="json")

    # then
    assert (response.status_code, response.json()["code"]) == (422, "COUPON_NOT_ELIGIBLE")
    assert _written() == before


@pytest.mark.parametrize(
    ("store_id", "message"),
    [
        ("S" * 65, "Ensure this field has no more than 64 characters."),
        ("SF 01", "Use letters, digits, dots, colons, hyphens and underscores only."),
    ],
)
def test_redeem_with_a_bad_store_id_is_400_naming_the_field_and_writes_nothing(writer, voucher, store_id, message):
    # given
    before = _written()

    # when
    response = writer.post(REDEEM, _redeem_body(store_id=store_id), format="json")

    # then
    assert response.status_code == 400
    assert response.json()["extra"] == {"fields": {"store_id": [message]}}
    assert _written() == before


def test_a_till_retrying_with_the_same_store_and_discount_gets_the_first_answer(writer, voucher):
    # given
    first = writer.post(REDEEM, _redeem_body(store_id="SF01"), format="json")
    before = _written()

    # when: the same cart by its total only, which gives the same 6.00
    again = writer.post(REDEEM, _redeem_body(store_id="SF01", cart={"total": "59.98"}), format="json")

    # then
    assert (again.status_code, again.json()) == (200, first.json())
    assert _written() == before


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"store_id": "SF01", "cart": {"total": "100.00"}},
            "Transaction SF01-0042-10001 already redeemed this coupon for 6.00; this cart would give another discount.",
        ),
        (
            {"store_id": "SF02", "cart": CART},
            "Transaction SF01-0042-10001 already redeemed this coupon at another store.",
        ),
    ],
)
def test_the_same_transaction_with_another_discount_or_store_is_409_and_writes_nothing(
    writer, voucher, changes, message
):
    # given
    writer.post(REDEEM, _redeem_body(store_id="SF01"), format="json")
    before = _written()

    # when
    response = writer.post(REDEEM, _redeem_body(**changes), format="json")

    # then
    assert response.status_code == 409
    assert response.json() == {
        "message": message,
        "code": "ERR_TX_ALREADY_EXISTS",
        "extra": {"field": "transaction_id", "discount": "6.00"},
    }
    assert _written() == before
    assert before[1] == ["SF01"]


# ------------------------------------------------------------------------------------------------- events API


def _coupon_event(transaction_id="T1", **data):
    return {"code": "WELCOME-AAAA", "transaction_id": transaction_id, "channel": "pos", "amount": "59.98", **data}


def test_coupon_redeem_event_at_a_store_records_it_and_answers_it(writer, voucher):
    # when
    response = post_event(writer, "coupon_redeem", data=_coupon_event(store_id="SF01"))

    # then
    assert response.status_code == 200
    assert response.json() == {
        **summary(),
        "events": [],
        "coupon": REDEEMED_COUPON,
        "redemption": {"transaction_id": "T1", "store_id": "SF01", "discount": "6.00"},
    }
    voucher.refresh_from_db()
    assert voucher.redeemed_store.code == "SF01"
    assert _redeemed_webhook()["store"] == "SF01"


def test_coupon_redeem_event_for_a_store_the_key_may_not_act_for_is_403_and_writes_nothing(restricted, voucher):
    # given
    before = _written()

    # when
    refused = post_event(restricted, "coupon_redeem", data=_coupon_event(store_id="SF02"))

    # then
    assert refused.status_code == 403
    assert refused.json() == {
        "message": "This API key may not act for store SF02.",
        "code": "STORE_NOT_ALLOWED",
        "extra": {"field": "data.store_id"},
    }
    assert _written() == before


def test_coupon_redeem_event_with_a_bad_store_id_is_400_naming_the_field(writer, voucher):
    # given
    before = _written()

    # when
    response = post_event(writer, "coupon_redeem", data=_coupon_event(store_id="SF 01"))

    # then
    assert response.status_code == 400
    assert response.json()["extra"] == {
        "fields": {"data.store_id": ["Use letters, digits, dots, colons, hyphens and underscores only."]}
    }
    assert _written() == before


def test_coupon_redeem_event_again_with_another_amount_is_409_and_writes_nothing(writer, voucher):
    # given
    first = post_event(writer, "coupon_redeem", data=_coupon_event(store_id="SF01"))
    before = _written()

    # when
    again = post_event(writer, "coupon_redeem", data=_coupon_event(store_id="SF01"))
    changed = post_event(writer, "coupon_redeem", data=_coupon_event(store_id="SF01", amount="20.00"))

    # then
    assert (again.status_code, again.json()) == (200, first.json())
    assert changed.status_code == 409
    assert changed.json() == {
        "message": "Transaction T1 already redeemed this coupon for 6.00; this cart would give another discount.",
        "code": "ERR_TX_ALREADY_EXISTS",
        "extra": {"field": "transaction_id", "discount": "6.00"},
    }
    assert _written() == before


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("de", "Die Transaktion T1 hat diesen Gutschein bereits in einer anderen Filiale eingelöst."),
        ("fr", "La transaction T1 a déjà utilisé ce coupon dans un autre magasin."),
        ("es", "La transacción T1 ya canjeó este cupón en otra tienda."),
    ],
)
def test_the_refusal_of_a_changed_retry_speaks_the_requests_language(writer, voucher, language, message):
    # given
    post_event(writer, "coupon_redeem", data=_coupon_event(store_id="SF01"))

    # when
    response = post_event(writer, "coupon_redeem", data=_coupon_event(store_id="SF02"), HTTP_ACCEPT_LANGUAGE=language)

    # then
    assert (response.status_code, response.json()["message"]) == (409, message)
