"""core/nul_bytes.py: a NUL byte (%00) in a path id is a 404 in the surface's error shape, and one in an admin
changelist's query string a 400, where PostgreSQL used to refuse it as a 500. Run on both databases; the tests marked
postgres repeat the cases that failed there."""

import pytest

from tests.core.rows import every_row_count

API_NOT_FOUND = {"message": "Not found.", "code": "not_found", "extra": {}}
SPI_NOT_FOUND = {"errorCode": "NOT_FOUND", "errorMessage": "Not found."}
SESSION_BODY = {"customer": {"email": "shopper@example.com", "first_name": "Ada", "last_name": "Lovelace"}}

# Every operation with an id in its path.
PATH_ID_OPERATIONS = [
    ("get", "/api/v1/customers/C%00X", None, API_NOT_FOUND),
    ("get", "/api/v1/customers/C%00X/transactions", None, API_NOT_FOUND),
    ("get", "/api/v1/customers/C%00X/coupons", None, API_NOT_FOUND),
    ("post", "/api/v1/customers/C%00X/coupons/claim", {"code": "WELCOME"}, API_NOT_FOUND),
    ("post", "/api/v1/customers/C%00X/erase", None, API_NOT_FOUND),
    ("post", "/api/v1/customers/M%00X/sessions?channel=web", SESSION_BODY, API_NOT_FOUND),
    ("get", "/endpoint/sa/customers/C%00X", None, SPI_NOT_FOUND),
]
ADMIN_FILTERS = [
    "/admin/crm/customer/?status=%00",
    "/admin/crm/customer/?q=a%00",
    "/admin/webhooks/webhookevent/?type=%00",
]


@pytest.fixture
def http(make_api_client, customer_factory):
    customer_factory(public_id="CX")
    client, _key = make_api_client("clienteling", "loyalty:read", "loyalty:write", "privacy")
    return client


def _request(http, method, url, body):
    return getattr(http, method)(url, body, format="json") if method == "post" else http.get(url)


@pytest.mark.parametrize(("method", "url", "body", "expected"), PATH_ID_OPERATIONS)
def test_a_nul_byte_in_a_path_id_is_404_and_writes_nothing(http, method, url, body, expected):
    # given
    before = every_row_count()

    # when
    response = _request(http, method, url, body)

    # then
    assert (response.status_code, response.json()) == (404, expected)
    assert every_row_count() == before


@pytest.mark.postgres
@pytest.mark.parametrize(("method", "url", "body", "expected"), PATH_ID_OPERATIONS)
def test_on_postgres_a_nul_byte_in_a_path_id_is_404(on_postgres, http, method, url, body, expected):
    # when
    response = _request(http, method, url, body)

    # then
    assert (response.status_code, response.json()) == (404, expected)


@pytest.mark.parametrize("url", ADMIN_FILTERS)
def test_a_nul_byte_in_an_admin_query_string_is_400(admin_client, url):
    # when
    response = admin_client.get(url)

    # then
    assert response.status_code == 400


@pytest.mark.postgres
@pytest.mark.parametrize("url", ADMIN_FILTERS)
def test_on_postgres_a_nul_byte_in_an_admin_filter_is_400(on_postgres, admin_client, url):
    # when
    response = admin_client.get(url)

    # then
    assert response.status_code == 400


def test_an_admin_filter_without_a_nul_byte_still_filters(admin_client, customer_factory):
    # given
    customer_factory(last_name="Lovelace")

    # when
    response = admin_client.get("/admin/crm/customer/?status=active")

    # then
    assert response.status_code == 200
    assert b"Lovelace" in response.content
