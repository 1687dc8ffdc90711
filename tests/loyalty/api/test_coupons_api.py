"""The loyalty coupons API (loyalty/api/coupons.py): list, claim, validate and redeem a customer's coupons, the events
API's coupon_redeem action and the customer 360's embed=coupons."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import Customer
from loyalty.coupon_codes import code_normalise
from loyalty.models import CouponDefinition, Tier, Voucher
from tests.loyalty.api import events_support as support
from tests.loyalty.api.events_support import NOW, post_event, summary
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db
member = support.member
writer = support.writer

VALIDATE = "/api/v1/coupons/validate"
REDEEM = "/api/v1/coupons/redeem"
LIST = "/api/v1/customers/C1001/coupons"
CLAIM = "/api/v1/customers/C1001/coupons/claim"
ISSUED_AT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
UNTIL = datetime(2026, 12, 1, tzinfo=UTC)
CART = {
    "items": [
        {"product_id": "SHIRT", "price": "40.00"},
        {"product_id": "SOCKS", "price": "9.99", "quantity": 2},
    ]
}  # 59.98


@pytest.fixture(autouse=True)
def _frozen_time(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def reader(make_api_client):
    http, _key = make_api_client("loyalty:read")
    return http


@pytest.fixture
def welcome(program, coupon_definition_factory):
    return coupon_definition_factory(
        program=program,
        code="welcome-10",
        name="Welcome_10",
        kind=CouponDefinition.Kind.PERCENT,
        value=Decimal("10"),
        valid_until=UNTIL,
    )


@pytest.fixture
def sally(member):
    return member().customer


def _voucher(definition, code, customer=None, status=Voucher.Status.ISSUED, issued_at=ISSUED_AT, **fields):
    return Voucher.objects.create(
        definition=definition,
        code=code,
        normalised_code=code_normalise(code),
        customer=customer,
        status=status,
        issued_at=issued_at,
        expires_at=fields.pop("expires_at", UNTIL),
        **fields,
    )


def _coupon(code="WELCOME-AAAA", **changes):
    body = {
        "code": code,
        "status": "issued",
        "type": "percent",
        "value": "10.00",
        "currency": "USD",
        "name": "Welcome_10",
        "created_at": "2026-06-01T09:00:00Z",
        "claimed_at": None,
        "redeemed_at": None,
        "expires_at": "2026-12-01T00:00:00Z",
        "channels": ["pos", "scan_and_go", "web"],
        "auto_apply": False,
    }
    body.update(changes)
    return body


def _written():
    """What the coupon endpoints may write: vouchers and the webhook outbox."""
    vouchers = Voucher.objects.order_by("pk").values_list(
        "code", "status", "customer_id", "claimed_at", "redeemed_at", "redeemed_transaction_id", "redemption_amount"
    )
    return list(vouchers), WebhookEvent.objects.count()


def _erase(customer):
    Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.ERASED)


# ------------------------------------------------------------------------------------------------- list


def test_list_answers_the_customers_vouchers_newest_first(reader, sally, welcome, customer_factory):
    # given
    _voucher(welcome, "WELCOME-AAAA", sally)
    _voucher(
        welcome,
        "WELCOME-BBBB",
        sally,
        status=Voucher.Status.CLAIMED,
        issued_at=datetime(2026, 6, 2, tzinfo=UTC),
        claimed_at=datetime(2026, 6, 3, tzinfo=UTC),
    )
    _voucher(welcome, "WELCOME-CCCC")  # anonymous
    _voucher(welcome, "WELCOME-DDDD", customer_factory())  # someone else's

    # when
    response = reader.get(LIST)

    # then
    assert response.status_code == 200
    assert response.json() == {
        "data": [
            _coupon(
                "WELCOME-BBBB",
                status="claimed",
                created_at="2026-06-02T00:00:00Z",
                claimed_at="2026-06-03T00:00:00Z",
            ),
            _coupon("WELCOME-AAAA"),
        ]
    }


def test_list_filters_by_status_and_channel(reader, sally, welcome, program, coupon_definition_factory):
    # given
    web_only = coupon_definition_factory(
        program=program, code="web-5", name="Web_5", kind="amount", value=Decimal("5"), channels=["web"]
    )
    _voucher(welcome, "WELCOME-AAAA", sally, status=Voucher.Status.CLAIMED, claimed_at=ISSUED_AT)
    _voucher(web_only, "WEB-AAAA", sally, expires_at=None)
    _voucher(web_only, "WEB-BBBB", sally, status=Voucher.Status.CANCELLED, expires_at=None)

    # when
    by_channel = reader.get(LIST, {"channel": "pos"})
    by_both = reader.get(LIST, {"channel": "web", "status": "issued"})

    # then
    assert by_channel.json() == {"data": [_coupon("WELCOME-AAAA", status="claimed", claimed_at="2026-06-01T09:00:00Z")]}
    assert by_both.json() == {
        "data": [_coupon("WEB-AAAA", type="amount", value="5.00", name="Web_5", expires_at=None, channels=["web"])]
    }


def test_list_is_bounded_by_limit(reader, sally, welcome):
    # given
    for day in range(1, 4):
        _voucher(welcome, f"WELCOME-{day}", sally, issued_at=datetime(2026, 6, day, tzinfo=UTC))

    # when
    response = reader.get(LIST, {"limit": 2})

    # then
    assert [coupon["code"] for coupon in response.json()["data"]] == ["WELCOME-3", "WELCOME-2"]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"limit": 201}, "limit", "Ensure this value is less than or equal to 200."),
        ({"limit": 0}, "limit", "Ensure this value is greater than or equal to 1."),
        ({"status": "used"}, "status", '"used" is not a valid choice.'),
        ({"channel": "app"}, "channel", '"app" is not a valid choice.'),
    ],
)
def test_list_bad_query_is_400_naming_the_parameter(reader, sally, query, field, message):
    # when
    response = reader.get(LIST, query)

    # then
    assert response.status_code == 400
    assert response.json() == {
        "message": f"{field}: {message}",
        "code": "validation_error",
        "extra": {"fields": {field: [message]}},
    }


def _list_queries(reader):
    with CaptureQueriesContext(connection) as queries:
        response = reader.get(LIST)
    assert response.status_code == 200
    return len(queries)


def test_list_runs_a_fixed_number_of_queries(
    reader, sally, welcome, program, django_assert_num_queries, coupon_definition_factory
):
    # given
    other = coupon_definition_factory(program=program, code="other", name="Other", kind="amount", value=Decimal(1))
    _voucher(welcome, "WELCOME-AAAA", sally)
    reader.get(LIST)  # the key's first use is recorded once
    one = _list_queries(reader)
    for index in range(5):
        _voucher(other if index % 2 else welcome, f"MORE-{index}", sally)

    # when / then: the customer, the vouchers with their coupon and program (the API key is the process's copy)
    with django_assert_num_queries(2):
        reader.get(LIST)
    assert one == 2


def test_list_of_an_unknown_customer_is_404(reader, sally):
    # when
    response = reader.get("/api/v1/customers/C9999/coupons")

    # then
    assert response.status_code == 404
    assert response.json() == {
        "message": "Customer not found.",
        "code": "CUSTOMER_NOT_FOUND",
        "extra": {"field": "customer"},
    }


# ------------------------------------------------------------------------------------------------- claim


def test_claim_makes_an_anonymous_code_the_customers(writer, sally, welcome):
    # given
    _voucher(welcome, "WELCOME-AAAA")

    # when
    response = writer.post(CLAIM, {"code": "welcome-aaaa"}, format="json")

    # then
    assert response.status_code == 200
    assert response.json() == _coupon(status="claimed", claimed_at="2026-06-24T10:15:00Z")
    voucher = Voucher.objects.get(code="WELCOME-AAAA")
    assert (voucher.customer, voucher.status) == (sally, Voucher.Status.CLAIMED)
    assert WebhookEvent.objects.filter(type="coupon.claimed").count() == 1


def test_claiming_again_answers_the_same_and_writes_nothing(writer, sally, welcome):
    # given
    _voucher(welcome, "WELCOME-AAAA")
    first = writer.post(CLAIM, {"code": "WELCOME-AAAA"}, format="json")
    before = _written()

    # when
    again = writer.post(CLAIM, {"code": "WELCOME-AAAA"}, format="json")

    # then
    assert (again.status_code, again.json()) == (200, first.json())
    assert _written() == before


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "code", "This field is required."),
        ({"code": ""}, "code", "This field may not be blank."),
        ({"code": "X" * 81}, "code", "Ensure this field has no more than 80 characters."),
    ],
)
def test_claim_bad_input_is_400_naming_the_field_and_writes_nothing(writer, sally, welcome, body, field, message):
    # given
    _voucher(welcome, "WELCOME-AAAA")
    before = _written()

    # when
    response = writer.post(CLAIM, body, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == {
        "message": f"{field}: {message}",
        "code": "validation_error",
        "extra": {"fields": {field: [message]}},
    }
    assert _written() == before


def test_claiming_another_customers_voucher_is_404_and_writes_nothing(writer, sally, welcome, customer_factory):
    # given
    _voucher(welcome, "WELCOME-AAAA", customer_factory())
    before = _written()

    # when
    response = writer.post(CLAIM, {"code": "WELCOME-AAAA"}, format="json")

    # then
    assert response.status_code == 404
    assert response.json() == {"message": "No such coupon code.", "code": "COUPON_NOT_FOUND", "extra": {}}
    assert _written() == before


# ------------------------------------------------------------------------------------------------- validate


def test_validate_answers_the_discount_and_writes_nothing(reader, sally, welcome):
    # given
    _voucher(welcome, "WELCOME-AAAA", sally)
    before = _written()

    # when
    response = reader.post(
        VALIDATE, {"code": "WELCOME-AAAA", "customer": "C1001", "channel": "pos", "cart": CART}, format="json"
    )

    # then
    assert response.status_code == 200
    assert response.json() == {"code": "WELCOME-AAAA", "eligible": True, "reasons": [], "discount": "6.00"}
    assert _written() == before


def test_validate_answers_every_reason_it_does_not_apply(reader, sally, program, coupon_definition_factory):
    # given
    gold = Tier.objects.create(program=program, rank=1, code="gold", name="Gold", threshold=Decimal("1000"))
    definition = coupon_definition_factory(
        program=program,
        code="gold-web",
        name="Gold web",
        kind="amount",
        value=Decimal("5"),
        channels=["web"],
        eligible_tiers=[gold],
        min_basket=Decimal("100"),
    )
    _voucher(definition, "GOLD-AAAA")

    # when
    body = {"code": "GOLD-AAAA", "customer": "C1001", "channel": "pos", "cart": {"total": "59.98"}}
    response = reader.post(VALIDATE, body, format="json")

    # then
    assert response.status_code == 200
    assert response.json() == {
        "code": "GOLD-AAAA",
        "eligible": False,
        "reasons": ["channel_not_allowed", "tier_not_eligible", "basket_below_minimum"],
        "discount": None,
    }


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"channel": None}, "channel", "This field may not be null."),
        ({"channel": "app"}, "channel", '"app" is not a valid choice.'),
        ({"cart": {}}, "cart.total", "Give the cart's total, or its items."),
        ({"cart": {"total": "-1"}}, "cart.total", "Ensure this value is greater than or equal to 0."),
        ({"cart": {**CART, "total": "50.00"}}, "cart.total", "Is not the sum of the items (59.98)."),
        ({"cart": {"items": [{"price": "1.00"}]}}, "cart.items.0.product_id", "This field is required."),
        (
            {"cart": {"total": "10000000000.00"}},
            "cart.total",
            "Ensure that there are no more than 12 digits in total.",
        ),
        (
            {"cart": {"items": [{"product_id": "TV", "price": "9999999999.99", "quantity": 2}]}},
            "cart.items",
            "The items add up to more than 9,999,999,999.99.",
        ),
        ({"code": None}, "code", "This field may not be null."),
    ],
)
def test_validate_bad_input_is_400_naming_the_field(reader, sally, welcome, changes, field, message):
    # given
    _voucher(welcome, "WELCOME-AAAA", sally)
    body = {"code": "WELCOME-AAAA", "channel": "pos", "cart": CART, **changes}

    # when
    response = reader.post(VALIDATE, body, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == {
        "message": f"{field}: {message}",
        "code": "validation_error",
        "extra": {"fields": {field: [message]}},
    }


# ------------------------------------------------------------------------------------------------- redeem


def _redeem_body(transaction_id="SF01-0042-10001", **changes):
    return {
        "code": "WELCOME-AAAA",
        "customer": "C1001",
        "transaction_id": transaction_id,
        "channel": "pos",
        "cart": CART,
        **changes,
    }


def test_redeem_answers_the_discount_and_redeems_the_voucher(writer, sally, welcome):
    # given
    _voucher(welcome, "WELCOME-AAAA", sally)

    # when
    response = writer.post(REDEEM, _redeem_body(), format="json")

    # then
    assert response.status_code == 200
    assert response.json() == {
        "transaction_id": "SF01-0042-10001",
        "customer": "C1001",
        "store_id": None,
        "discount": "6.00",
        "coupon": _coupon(status="redeemed", redeemed_at="2026-06-24T10:15:00Z"),
    }
    voucher = Voucher.objects.get(code="WELCOME-AAAA")
    assert (voucher.status, voucher.redemption_amount) == (Voucher.Status.REDEEMED, Decimal("6.00"))


def test_redeem_again_in_the_same_transaction_answers_the_same_body_and_writes_nothing(
    writer, sally, welcome, time_machine
):
    # given
    _voucher(welcome, "WELCOME-AAAA", sally)
    first = writer.post(REDEEM, _redeem_body(), format="json")
    before = _written()
    time_machine.move_to("2026-06-24T10:20:00+00:00", tick=False)

    # when
    again = writer.post(REDEEM, _redeem_body(), format="json")

    # then
    assert (again.status_code, again.json()) == (200, first.json())
    assert _written() == before


def test_redeem_in_another_transaction_is_409_and_writes_nothing(writer, sally, welcome):
    # given
    _voucher(welcome, "WELCOME-AAAA", sally)
    writer.post(REDEEM, _redeem_body(), format="json")
    before = _written()

    # when
    response = writer.post(REDEEM, _redeem_body("SF02-0001-20002"), format="json")

    # then
    assert response.status_code == 409
    assert response.json() == {
        "message": "The coupon was already redeemed.",
        "code": "COUPON_ALREADY_REDEEMED",
        "extra": {},
    }
    assert _written() == before


def test_redeem_that_does_not_apply_is_422_with_the_reasons_and_writes_nothing(writer, sally, welcome):
    # given
    _voucher(welcome, "WELCOME-AAAA", sally)
    before = _written()

    # when
    response = writer.post(REDEEM, _redeem_body(customer=None), format="json")

    # then
    assert response.status_code == 400
    assert response.json()["extra"] == {"fields": {"customer": ["This field may not be null."]}}

    # when: a guest redeeming the customer's voucher
    body = _redeem_body()
    del body["customer"]
    response = writer.post(REDEEM, body, format="json")

    # then
    assert response.status_code == 422
    assert response.json() == {
        "message": "The coupon cannot be used here.",
        "code": "COUPON_NOT_ELIGIBLE",
        "extra": {"reasons": ["other_customer"]},
    }
    assert _written() == before


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"transaction_id": None}, "transaction_id", "This field may not be null."),
        ({"transaction_id": "T" * 101}, "transaction_id", "Ensure this field has no more than 100 characters."),
        ({"cart": None}, "cart", "This field may not be null."),
        ({"channel": "till"}, "channel", '"till" is not a valid choice.'),
    ],
)
def test_redeem_bad_input_is_400_naming_the_field_and_writes_nothing(writer, sally, welcome, changes, field, message):
    # given
    _voucher(welcome, "WELCOME-AAAA", sally)
    before = _written()

    # when
    response = writer.post(REDEEM, _redeem_body(**changes), format="json")

    # then
    assert response.status_code == 400
    assert response.json() == {
        "message": f"{field}: {message}",
        "code": "validation_error",
        "extra": {"fields": {field: [message]}},
    }
    assert _written() == before


def test_redeem_of_an_unknown_code_is_404(writer, sally):
    # when
    response = writer.post(REDEEM, _redeem_body(), format="json")

    # then
    assert response.status_code == 404
    assert response.json() == {"message": "No such coupon code.", "code": "COUPON_NOT_FOUND", "extra": {}}


# ------------------------------------------------------------------------------------------------- scopes, erasure

ENDPOINTS = [
    ("get", LIST, None, "loyalty:read"),
    ("post", CLAIM, {"code": "WELCOME-AAAA"}, "loyalty:write"),
    ("post", VALIDATE, {"code": "WELCOME-AAAA", "customer": "C1001", "channel": "pos", "cart": CART}, "loyalty:read"),
    ("post", REDEEM, _redeem_body(), "loyalty:write"),
]


@pytest.mark.parametrize("scopes", [(), ("loyalty:read",), ("loyalty:write",), ("clienteling", "privacy")])
@pytest.mark.parametrize(("method", "path", "body", "scope"), ENDPOINTS)
def test_each_endpoint_needs_its_scope(make_api_client, sally, welcome, scopes, method, path, body, scope):
    # given
    _voucher(welcome, "WELCOME-AAAA", sally)
    http, _key = make_api_client(*scopes)
    before = _written()

    # when
    response = getattr(http, method)(path, body, format="json")

    # then
    if scope in scopes:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert response.json() == {
            "message": f"This API key lacks the '{scope}' scope.",
            "code": "permission_denied",
            "extra": {},
        }
        assert _written() == before


@pytest.mark.parametrize(("method", "path", "body", "scope"), ENDPOINTS)
def test_without_a_key_the_answer_is_401(client, sally, method, path, body, scope):
    # when
    response = getattr(client, method)(path, body, content_type="application/json")

    # then
    assert response.status_code == 401


@pytest.mark.parametrize(("method", "path", "body", "scope"), ENDPOINTS)
def test_an_erased_customer_is_410_and_nothing_is_written(make_api_client, sally, welcome, method, path, body, scope):
    # given
    _voucher(welcome, "WELCOME-AAAA", sally)
    _erase(sally)
    http, _key = make_api_client("loyalty:read", "loyalty:write")
    before = _written()

    # when
    response = getattr(http, method)(path, body, format="json")

    # then
    assert response.status_code == 410
    assert response.json() == {
        "message": "Customer is deleted after PII delete request",
        "code": "CUSTOMER_ERASED",
        "extra": {},
    }
    assert _written() == before


# ------------------------------------------------------------------------------------------------- events API


def _coupon_event(transaction_id="T1", **data):
    return {"code": "WELCOME-AAAA", "transaction_id": transaction_id, "channel": "pos", "amount": "59.98", **data}


def test_coupon_redeem_event_redeems_and_answers_the_coupon(writer, sally, welcome):
    # given
    _voucher(welcome, "WELCOME-AAAA", sally)

    # when
    response = post_event(writer, "coupon_redeem", data=_coupon_event())

    # then
    assert response.status_code == 200
    assert response.json() == {
        **summary(),
        "events": [],
        "coupon": _coupon(status="redeemed", redeemed_at="2026-06-24T10:15:00Z"),
        "redemption": {"transaction_id": "T1", "store_id": None, "discount": "6.00"},
    }
    voucher = Voucher.objects.get(code="WELCOME-AAAA")
    assert (voucher.redeemed_transaction_id, voucher.redemption_amount) == ("T1", Decimal("6.00"))


def test_coupon_redeem_event_with_a_cart_is_idempotent_on_the_transaction_id(writer, sally, welcome):
    # given
    _voucher(welcome, "WELCOME-AAAA", sally)
    data = _coupon_event(amount=None, cart=CART)
    del data["amount"]
    first = post_event(writer, "coupon_redeem", data=data)
    before = _written()

    # when
    again = post_event(writer, "coupon_redeem", data=data)
    other = post_event(writer, "coupon_redeem", data={**data, "transaction_id": "T2"})

    # then
    assert (again.status_code, again.json()) == (200, first.json())
    assert (other.status_code, other.json()["code"]) == (409, "COUPON_ALREADY_REDEEMED")
    assert _written() == before


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"code": "WELCOME-AAAA", "transaction_id": "T1", "channel": "pos"}, "data.amount", None),
        (_coupon_event(cart=CART), "data.amount", None),
        (_coupon_event(channel="app"), "data.channel", '"app" is not a valid choice.'),
        (_coupon_event(amount="-1"), "data.amount", "Ensure this value is greater than or equal to 0."),
    ],
)
def test_coupon_redeem_event_bad_data_is_400_naming_the_field(writer, sally, welcome, data, field, message):
    # given
    _voucher(welcome, "WELCOME-AAAA", sally)
    before = _written()

    # when
    response = post_event(writer, "coupon_redeem", data=data)

    # then
    message = message or "Give the amount or the cart, one of them."
    assert response.status_code == 400
    assert response.json() == {
        "message": f"{field}: {message}",
        "code": "validation_error",
        "extra": {"fields": {field: [message]}},
    }
    assert _written() == before


# ------------------------------------------------------------------------------------------------- customer 360


def test_embed_coupons_shows_the_vouchers_usable_now(reader, sally, welcome, program, coupon_definition_factory):
    # given
    paused = coupon_definition_factory(
        program=program, code="paused", name="Paused", kind="amount", value=Decimal("5"), is_active=False
    )
    _voucher(welcome, "WELCOME-AAAA", sally)
    _voucher(
        welcome,
        "WELCOME-BBBB",
        sally,
        status=Voucher.Status.CLAIMED,
        issued_at=datetime(2026, 6, 2, tzinfo=UTC),
        claimed_at=datetime(2026, 6, 2, tzinfo=UTC),
    )
    _voucher(welcome, "WELCOME-OLD", sally, expires_at=datetime(2026, 6, 24, 10, 15, tzinfo=UTC))  # expired now
    _voucher(welcome, "WELCOME-USED", sally, status=Voucher.Status.CANCELLED)
    _voucher(paused, "PAUSED-AAAA", sally)

    # when
    response = reader.get("/api/v1/customers/C1001?embed=coupons")

    # then
    assert response.status_code == 200
    assert response.json()["coupons"] == [
        _coupon("WELCOME-BBBB", status="claimed", created_at="2026-06-02T00:00:00Z", claimed_at="2026-06-02T00:00:00Z"),
        _coupon("WELCOME-AAAA"),
    ]


def test_without_embed_coupons_there_is_no_coupons_block(reader, sally, welcome):
    # given
    _voucher(welcome, "WELCOME-AAAA", sally)

    # when
    response = reader.get("/api/v1/customers/C1001?embed=addresses")

    # then
    assert response.status_code == 200
    assert "coupons" not in response.json()


def test_coupon_redeem_in_a_bulk_request_answers_the_coupon(writer, sally, welcome):
    # given
    _voucher(welcome, "WELCOME-AAAA", sally)
    events = [{"customer": "C1001", "action": "coupon_redeem", "data": _coupon_event()}]

    # when
    response = writer.post(support.BULK, {"events": events}, format="json")

    # then
    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {
                "index": 0,
                "status": 200,
                "customer": "C1001",
                "events": [],
                "coupon": _coupon(status="redeemed", redeemed_at="2026-06-24T10:15:00Z"),
                "redemption": {"transaction_id": "T1", "store_id": None, "discount": "6.00"},
                "replayed": False,
            }
        ],
        "total": 1,
        "errors": 0,
    }
