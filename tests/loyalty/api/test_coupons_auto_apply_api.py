"""The coupons API and the events API's coupon_redeem action with an auto-apply coupon's own code (what Scan & Go
devices and shopper sessions offer a customer who holds no voucher of it), and the customer 360's embed=coupons."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from loyalty.coupon_codes import code_normalise
from loyalty.models import CouponDefinition, Voucher
from tests.loyalty.api import events_support as support
from tests.loyalty.api.events_support import NOW, post_event, summary
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db
member = support.member
writer = support.writer

VALIDATE = "/api/v1/coupons/validate"
REDEEM = "/api/v1/coupons/redeem"
UNTIL = datetime(2026, 12, 1, tzinfo=UTC)
CART = {"items": [{"product_id": "SHIRT", "price": "40.00"}, {"product_id": "SOCKS", "price": "9.99", "quantity": 2}]}


@pytest.fixture(autouse=True)
def _frozen_time(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def reader(make_api_client):
    http, _key = make_api_client("loyalty:read")
    return http


@pytest.fixture
def sally(member):
    return member().customer


@pytest.fixture
def members_ten(program, coupon_definition_factory):
    """An auto-apply coupon for every member, once per customer."""
    return coupon_definition_factory(
        program=program,
        code="members-10",
        name="Members 10%",
        kind=CouponDefinition.Kind.PERCENT,
        value=Decimal("10"),
        valid_until=UNTIL,
        auto_apply=True,
        limit_per_customer=1,
    )


def _written():
    vouchers = Voucher.objects.order_by("pk").values_list(
        "code", "status", "customer_id", "redeemed_transaction_id", "redemption_amount"
    )
    return list(vouchers), WebhookEvent.objects.filter(type__startswith="coupon.").count()


def _redeem_body(transaction_id="SF01-0042-10001", **changes):
    body = {"code": "members-10", "customer": "C1001", "transaction_id": transaction_id, "channel": "pos", "cart": CART}
    return {**body, **changes}


def _redeemed_coupon(code):
    return {
        "code": code,
        "status": "redeemed",
        "type": "percent",
        "value": "10.00",
        "currency": "USD",
        "name": "Members 10%",
        "created_at": "2026-06-24T10:15:00Z",
        "claimed_at": None,
        "redeemed_at": "2026-06-24T10:15:00Z",
        "expires_at": "2026-12-01T00:00:00Z",
        "channels": ["pos", "scan_and_go", "web"],
        "auto_apply": True,
    }


# ------------------------------------------------------------------------------------------------- validate


def test_validate_an_auto_apply_coupon_code_for_the_customer(reader, sally, members_ten):
    # when
    response = reader.post(
        VALIDATE, {"code": "members-10", "customer": "C1001", "channel": "pos", "cart": CART}, format="json"
    )

    # then
    assert response.status_code == 200
    assert response.json() == {"code": "members-10", "eligible": True, "reasons": [], "discount": "6.00"}
    assert _written() == ([], 0)


def test_validate_an_auto_apply_coupon_code_without_a_customer_names_the_missing_customer(reader, members_ten):
    # when
    response = reader.post(VALIDATE, {"code": "members-10", "channel": "pos", "cart": CART}, format="json")

    # then
    assert response.status_code == 200
    assert response.json() == {
        "code": "members-10",
        "eligible": False,
        "reasons": ["customer_required"],
        "discount": None,
    }


def test_validate_the_code_of_a_coupon_that_is_not_auto_apply_is_404(reader, sally, members_ten):
    # given
    CouponDefinition.objects.filter(pk=members_ten.pk).update(auto_apply=False)

    # when
    response = reader.post(
        VALIDATE, {"code": "members-10", "customer": "C1001", "channel": "pos", "cart": CART}, format="json"
    )

    # then
    assert response.status_code == 404
    assert response.json() == {"message": "No such coupon code.", "code": "COUPON_NOT_FOUND", "extra": {}}


# ------------------------------------------------------------------------------------------------- redeem


def test_redeem_an_auto_apply_coupon_code_issues_and_redeems_a_voucher(writer, sally, members_ten):
    # when
    response = writer.post(REDEEM, _redeem_body(), format="json")

    # then
    assert response.status_code == 200
    voucher = Voucher.objects.get()
    assert voucher.code.startswith("AUTO-")
    assert response.json() == {
        "transaction_id": "SF01-0042-10001",
        "customer": "C1001",
        "store_id": None,
        "discount": "6.00",
        "coupon": _redeemed_coupon(voucher.code),
    }
    assert (voucher.customer, voucher.definition, voucher.status) == (sally, members_ten, Voucher.Status.REDEEMED)
    assert list(WebhookEvent.objects.filter(type__startswith="coupon.").order_by("id").values_list("type")) == [
        ("coupon.issued",),
        ("coupon.redeemed",),
    ]


def test_redeem_again_in_the_same_transaction_answers_the_same_body_and_writes_nothing(writer, sally, members_ten):
    # given
    first = writer.post(REDEEM, _redeem_body(), format="json")
    before = _written()

    # when
    again = writer.post(REDEEM, _redeem_body(), format="json")

    # then
    assert (again.status_code, again.json()) == (200, first.json())
    assert _written() == before


def test_redeem_in_another_transaction_beyond_the_limit_is_422_and_writes_nothing(writer, sally, members_ten):
    # given
    writer.post(REDEEM, _redeem_body(), format="json")
    before = _written()

    # when
    response = writer.post(REDEEM, _redeem_body("SF02-0001-20002"), format="json")

    # then
    assert response.status_code == 422
    assert response.json() == {
        "message": "The coupon cannot be used here.",
        "code": "COUPON_NOT_ELIGIBLE",
        "extra": {"reasons": ["customer_limit_reached"]},
    }
    assert _written() == before


def test_redeem_an_auto_apply_coupon_code_without_a_customer_is_422_and_writes_nothing(writer, members_ten):
    # given
    body = _redeem_body()
    del body["customer"]

    # when
    response = writer.post(REDEEM, body, format="json")

    # then
    assert response.status_code == 422
    assert response.json() == {
        "message": "The coupon cannot be used here.",
        "code": "COUPON_NOT_ELIGIBLE",
        "extra": {"reasons": ["customer_required"]},
    }
    assert _written() == ([], 0)


def test_redeem_the_code_of_a_coupon_that_is_not_auto_apply_is_404_and_writes_nothing(writer, sally, members_ten):
    # given
    CouponDefinition.objects.filter(pk=members_ten.pk).update(auto_apply=False)

    # when
    response = writer.post(REDEEM, _redeem_body(), format="json")

    # then
    assert response.status_code == 404
    assert response.json() == {"message": "No such coupon code.", "code": "COUPON_NOT_FOUND", "extra": {}}
    assert _written() == ([], 0)


# ------------------------------------------------------------------------------------------------- events API


def test_coupon_redeem_event_with_an_auto_apply_coupon_code_is_idempotent(writer, sally, members_ten):
    # given
    data = {"code": "members-10", "transaction_id": "T1", "channel": "scan_and_go", "amount": "59.98"}

    # when
    first = post_event(writer, "coupon_redeem", data=data)
    written = _written()
    again = post_event(writer, "coupon_redeem", data=data)

    # then
    voucher = Voucher.objects.get()
    assert first.status_code == 200
    assert first.json() == {
        **summary(),
        "events": [],
        "coupon": _redeemed_coupon(voucher.code),
        "redemption": {"transaction_id": "T1", "store_id": None, "discount": "6.00"},
    }
    assert (voucher.redeemed_transaction_id, voucher.redemption_amount) == ("T1", Decimal("6.00"))
    assert (again.status_code, again.json()) == (200, first.json())
    assert _written() == written


# ------------------------------------------------------------------------------------------------- customer 360


def _usable_voucher(definition, code, customer):
    return Voucher.objects.create(
        definition=definition,
        code=code,
        normalised_code=code_normalise(code),
        customer=customer,
        issued_at=datetime(2026, 6, 1, tzinfo=UTC),
    )


def test_embed_coupons_shows_usable_vouchers_of_every_channel_in_a_fixed_number_of_queries(
    reader, sally, members_ten, program, coupon_definition_factory
):
    # given: a web-only coupon's voucher is shown too; each new voucher costs no query
    web_only = coupon_definition_factory(
        program=program, code="web-5", name="Web 5", kind="amount", value=Decimal("5"), channels=["web"]
    )
    _usable_voucher(web_only, "WEB-AAAA", sally)
    reader.get("/api/v1/customers/C1001?embed=coupons")
    with CaptureQueriesContext(connection) as one_voucher:
        reader.get("/api/v1/customers/C1001?embed=coupons")
    for index in range(4):
        _usable_voucher(members_ten, f"MEMBERS-{index}", sally)

    # when
    with CaptureQueriesContext(connection) as five_vouchers:
        response = reader.get("/api/v1/customers/C1001?embed=coupons")

    # then
    assert response.status_code == 200
    assert sorted(coupon["code"] for coupon in response.json()["coupons"]) == [
        "MEMBERS-0",
        "MEMBERS-1",
        "MEMBERS-2",
        "MEMBERS-3",
        "WEB-AAAA",
    ]
    assert len(five_vouchers) == len(one_voucher)
