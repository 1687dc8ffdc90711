"""core/api/parsers.py: JSON bodies nested too deep are a 400 in each surface's error shape, on every operation that
takes a body, and nothing is written."""

import pytest

from core.api.parsers import MAX_JSON_NESTING_DEPTH, json_nesting_exceeds
from tests.core.rows import every_row_count

TOO_DEEP_MESSAGE = f"JSON parse error - arrays and objects nest deeper than {MAX_JSON_NESTING_DEPTH} levels."
SPI_TOO_DEEP = {"errorCode": "INVALID_JSON", "errorMessage": TOO_DEEP_MESSAGE}
API_TOO_DEEP = {"message": TOO_DEEP_MESSAGE, "code": "parse_error", "extra": {}}

# Every operation that reads a JSON body (the URL confs' POST and PUT views, erasure aside: it reads none).
OPERATIONS_WITH_A_BODY = [
    ("post", "/endpoint/sa/customers", SPI_TOO_DEEP),
    ("put", "/endpoint/sa/customers", SPI_TOO_DEEP),
    ("post", "/api/v1/events", API_TOO_DEEP),
    ("post", "/api/v1/events/bulk", API_TOO_DEEP),
    ("post", "/api/v1/points/preview", API_TOO_DEEP),
    ("post", "/api/v1/customers/C1001/coupons/claim", API_TOO_DEEP),
    ("post", "/api/v1/coupons/validate", API_TOO_DEEP),
    ("post", "/api/v1/coupons/redeem", API_TOO_DEEP),
    ("post", "/api/v1/sessions?channel=web", API_TOO_DEEP),
    ("post", "/api/v1/customers/M1/sessions?channel=web", API_TOO_DEEP),
]


@pytest.fixture
def everything_client(make_api_client, customer_factory, loyalty_account_factory):
    customer = customer_factory(public_id="C1001", email="sally@example.com")
    loyalty_account_factory(customer=customer)
    http, _key = make_api_client("clienteling", "loyalty:read", "loyalty:write")
    return http


@pytest.mark.parametrize("body", [b"[" * 2000 + b"]" * 2000, b'{"a":' * 2000 + b"1" + b"}" * 2000])
@pytest.mark.parametrize(("method", "url", "expected"), OPERATIONS_WITH_A_BODY)
def test_a_body_nested_two_thousand_deep_is_400_and_writes_nothing(everything_client, method, url, expected, body):
    # given
    before = every_row_count()

    # when
    response = getattr(everything_client, method)(
        url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="deep-1"
    )

    # then
    assert (response.status_code, response.json()) == (400, expected)
    assert every_row_count() == before


def test_a_body_at_the_limit_is_parsed(everything_client):
    # given
    nested = "[" * (MAX_JSON_NESTING_DEPTH - 1) + "]" * (MAX_JSON_NESTING_DEPTH - 1)

    # when
    response = everything_client.post("/api/v1/events", f'{{"action": {nested}}}', content_type="application/json")

    # then
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize(
    ("text", "exceeds"),
    [
        ("[" * 3 + "]" * 3, False),
        ("[" * 4 + "]" * 4, True),
        ('{"a": {"b": [1, {"c": 2}]}}', True),
        ('{"a": {"b": [1, 2]}, "c": {"d": []}}', False),
        ('{"a": "[[[[[[", "b": "{{{{"}', False),
        ('{"a": "\\"[[[[[[\\\\", "b": []}', False),
        ("[[[", False),
    ],
)
def test_json_nesting_exceeds_counts_brackets_outside_strings(text, exceeds):
    assert json_nesting_exceeds(text, 3) is exceeds
