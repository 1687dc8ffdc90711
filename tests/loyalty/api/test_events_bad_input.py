"""Bad input on every action: a 4xx whose message names the field, and nothing written (no customer, account,
purchase, ledger entry or idempotency record), even with an Idempotency-Key."""

import pytest

from crm.models import Customer
from tests.loyalty.api import events_support as support
from tests.loyalty.api.events_support import EVENTS, post_event, row_counts

pytestmark = pytest.mark.django_db
member = support.member
writer = support.writer

FUTURE = "2099-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("action", "data", "message"),
    [
        ("checkout", {"transaction_id": "T1"}, "data.total: This field is required."),
        ("checkout", {"total": "10"}, "data.transaction_id: This field is required."),
        ("checkout", {"transaction_id": "T1", "total": "ten"}, "data.total: A valid number is required."),
        (
            "checkout",
            {"transaction_id": "T1", "total": "-1"},
            "data.total: Ensure this value is greater than or equal to 0.",
        ),
        (
            "checkout",
            {"transaction_id": "T1", "total": "1.005"},
            "data.total: Ensure that there are no more than 2 decimal places.",
        ),
        (
            "checkout",
            {"transaction_id": "T1", "total": "10", "points_burned": -5},
            "data.points_burned: Ensure this value is greater than or equal to 0.",
        ),
        (
            "checkout",
            {"transaction_id": "T1", "total": "10", "items": [{"product_id": "1", "subtotal": "5"}, {"price": "1"}]},
            "data.items.1.product_id: This field is required.",
        ),
        (
            "checkout",
            {"transaction_id": "T1", "total": "10", "items": [{"product_id": "1"}]},
            "data.items.0.subtotal: Give the subtotal, or the price.",
        ),
        (
            "checkout",
            {"transaction_id": "T1", "total": "10", "items": "all"},
            'data.items: Expected a list of items but got type "str".',
        ),  # fmt: skip
        (
            "checkout",
            {"transaction_id": "T1", "total": "10", "purchased_at": FUTURE},
            "data.purchased_at: Cannot be in the future.",
        ),  # fmt: skip
        (
            "checkout",
            {"transaction_id": "T1", "total": "10", "purchased_at": "2026-01-01T00:00:00Z", "effective_timestamp": 1},
            "data.effective_timestamp: Give purchased_at or effective_timestamp, not both.",
        ),
        # Past the year 9999, or past what the platform's clock can hold: in the future all the same.
        (
            "checkout",
            {"transaction_id": "T1", "total": "10", "effective_timestamp": 253402300800},
            "data.effective_timestamp: Cannot be in the future.",
        ),
        (
            "checkout",
            {"transaction_id": "T1", "total": "10", "effective_timestamp": 10**30},
            "data.effective_timestamp: Cannot be in the future.",
        ),
        (
            "checkout",
            {"transaction_id": "T1", "total": "10", "currency": "dollars"},
            "data.currency: Ensure this field has no more than 3 characters.",
        ),
        (
            "checkout",
            {"transaction_id": "T1", "total": "10", "store_id": "<script>"},
            "data.store_id: Use letters, digits, dots, colons, hyphens and underscores only.",
        ),
        ("checkout_accept", {}, "data.transaction_id: This field is required."),
        ("checkout_reject", {"transaction_id": ""}, "data.transaction_id: This field may not be blank."),
        ("refund", {"transaction_id": None}, "data.transaction_id: This field may not be null."),
        ("partial_refund", {"transaction_id": "T1"}, "data.amount: This field is required."),
        (
            "partial_refund",
            {"transaction_id": "T1", "amount": "0"},
            "data.amount: Ensure this value is greater than or equal to 0.01.",
        ),
        ("point_add", {}, "data.points: This field is required."),
        ("point_add", {"points": 0}, "data.points: Ensure this value is greater than or equal to 1."),
        ("point_sub", {"points": "ten"}, "data.points: A valid integer is required."),
        (
            "point_sub",
            {"points": 5, "reason": "x" * 201},
            "data.reason: Ensure this field has no more than 200 characters.",
        ),  # fmt: skip
        ("reserve_points", {"transaction_id": "T1"}, "data.points: This field is required."),
        ("release_points", {}, "data.transaction_id: This field is required."),
        ("profile", {}, "data: Give at least one profile field to change."),
        ("profile", {"nickname": "Sal"}, "data.nickname: Unknown field."),
        ("profile", {"email": "not-an-email"}, "data.email: Enter a valid email address."),
        ("profile", {"mobile_phone": "call me"}, "data.mobile_phone: Not a phone number."),
        ("profile", {"birth_date": "2099-01-01"}, "data.birth_date: Cannot be in the future."),
        ("profile", {"language": "english please"}, "data.language: Use a language tag such as en, en-US or de_DE."),
        (
            "profile",
            {"first_name": "<b>Sally</b>"},
            "data.first_name: Use letters, digits, spaces, apostrophes, "
            "hyphens, commas and full stops, starting with a letter or digit.",
        ),  # fmt: skip
        ("opt_in", {"nickname": "Sal"}, "data.nickname: Unknown field."),
        ("opt_out", {"reason": 5 * "reason" * 10}, "data.reason: Ensure this field has no more than 200 characters."),
        ("point_add", ["points", 5], 'data: Expected a dictionary of items but got type "list".'),
    ],
)
def test_bad_data_is_refused_naming_the_field_and_writes_nothing(writer, member, action, data, message):
    # given
    member(points=100)
    before = row_counts()

    # when
    response = writer.post(
        EVENTS, {"customer": "C1001", "action": action, "data": data}, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )

    # then
    assert response.status_code == 400
    body = response.json()
    assert (body["message"], body["code"]) == (message, "validation_error")
    field = message.split(":")[0]
    assert field in body["extra"]["fields"]
    assert row_counts() == before


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"customer": "C1001", "data": {}}, "action: This field is required."),
        (
            {"customer": "C1001", "action": "coupon_redeem", "data": {"code": "X"}},
            "data.transaction_id: This field is required.",
        ),  # fmt: skip
        (
            {"customer": "C1001", "action": "daily_login"},
            'action: "daily_login" is not a supported action. Supported actions: opt_in, opt_out, profile, checkout, '
            "checkout_accept, checkout_reject, refund, partial_refund, point_add, point_sub, reserve_points, "
            "release_points, coupon_redeem.",
        ),
        ({"action": "point_add", "data": {"points": 5}}, "customer: This field is required."),
        ({"customer": "", "action": "opt_out"}, "customer: This field may not be blank."),
        ({"customer": "C1001", "action": "opt_out", "data": None}, "data: This field may not be null."),
        (
            {"action": "opt_in", "data": {"language": "en"}},
            "data: To sign a new customer up, give an email, first name, last name or mobile phone.",
        ),
        (
            {"customer": "C1001", "action": "opt_out", "idempotency_key": "k"},
            "idempotency_key: Send the key in the Idempotency-Key header.",
        ),
        (["opt_out"], "Invalid data. Expected a dictionary, but got list."),
    ],
)
def test_a_bad_envelope_or_unsupported_action_is_refused_and_writes_nothing(writer, member, body, message):
    # given
    member(points=100)
    before = row_counts()

    # when
    response = writer.post(EVENTS, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    # then
    assert (response.status_code, response.json()["message"]) == (400, message)
    assert row_counts() == before


def test_a_body_that_is_not_json_is_refused(writer, member):
    # given
    member()
    before = row_counts()

    # when
    response = writer.post(EVENTS, "{not json", content_type="application/json")

    # then
    assert (response.status_code, response.json()["code"]) == (400, "parse_error")
    assert row_counts() == before


@pytest.mark.parametrize("key", ["", " ", "k" * 256, "tab\there"])
def test_an_invalid_idempotency_key_is_refused(writer, member, key):
    # given
    member(points=100)
    before = row_counts()

    # when
    response = post_event(writer, "point_add", data={"points": 5}, HTTP_IDEMPOTENCY_KEY=key)

    # then
    assert response.status_code == 400
    assert response.json() == {
        "message": "Idempotency-Key: use 1 to 255 printable characters.",
        "code": "IDEMPOTENCY_KEY_INVALID",
        "extra": {"field": "Idempotency-Key"},
    }
    assert row_counts() == before


@pytest.mark.parametrize(
    ("action", "data", "status", "code"),
    [
        ("point_sub", {"points": 201}, 409, "INSUFFICIENT_POINTS"),
        ("checkout", {"transaction_id": "T9", "total": "10", "points_burned": 201}, 409, "INSUFFICIENT_POINTS"),
        ("reserve_points", {"transaction_id": "P1", "points": 201}, 409, "INSUFFICIENT_POINTS"),
        ("refund", {"transaction_id": "NOPE"}, 404, "TRANSACTION_NOT_FOUND"),
        ("partial_refund", {"transaction_id": "T1", "amount": "100.01"}, 422, "REFUND_EXCEEDS_TOTAL"),
        ("checkout_reject", {"transaction_id": "T1"}, 409, "INVALID_TRANSACTION_STATE"),
        ("profile", {"email": "taken@example.com"}, 409, "EMAIL_ALREADY_IN_USE"),
    ],
)
def test_a_refusal_by_the_rules_writes_nothing_and_keeps_no_idempotency_record(
    writer, member, customer_factory, action, data, status, code
):
    # given
    member(points=100)
    customer_factory(email="taken@example.com")
    writer.post(EVENTS, {"customer": "C1001", "action": "checkout", "data": {"transaction_id": "T1", "total": "100"}},
                format="json")  # fmt: skip
    before = row_counts()

    # when
    response = post_event(writer, action, data=data, HTTP_IDEMPOTENCY_KEY="k-1")

    # then
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert row_counts() == before


def test_an_unknown_customer_is_not_found(writer, member):
    # given
    member()
    before = row_counts()

    # when
    response = post_event(writer, "point_add", customer="C9999", data={"points": 5})

    # then
    assert response.status_code == 404
    assert response.json() == {
        "message": "Customer not found.",
        "code": "CUSTOMER_NOT_FOUND",
        "extra": {"field": "customer"},
    }
    assert row_counts() == before


def test_opt_in_with_an_email_already_used_is_a_conflict_naming_the_customer_and_writes_nothing(writer, member):
    # given
    member()
    before = row_counts()

    # when
    response = post_event(writer, "opt_in", customer=None, data={"email": "SALLY@example.com", "first_name": "S"})

    # then
    assert response.status_code == 409
    assert response.json() == {
        "message": "This email address is already used by another customer.",
        "code": "EMAIL_ALREADY_IN_USE",
        "extra": {"field": "email", "customer_id": "C1001"},
    }
    assert row_counts() == before


def test_an_erased_customer_answers_gone(writer, member):
    # given
    member(points=100)
    Customer.objects.filter(public_id="C1001").update(status=Customer.Status.ERASED)
    before = row_counts()

    # when
    response = post_event(writer, "point_sub", data={"points": 5})

    # then
    assert response.status_code == 410
    assert response.json() == {
        "message": "Customer is deleted after PII delete request",
        "code": "CUSTOMER_ERASED",
        "extra": {},
    }
    assert row_counts() == before
