"""config/error_views.py: what Django answers itself (an unhandled exception, an unknown URL, a request refused before
routing) comes in each API surface's JSON error shape, never as an HTML page, and a 500 never tells the exception."""

import pytest

SECRET = "password=hunter2 in a traceback"
API_SERVER_ERROR = {"message": "A server error occurred.", "code": "internal_server_error", "extra": {}}
SPI_SERVER_ERROR = {"errorCode": "INTERNAL_SERVER_ERROR", "errorMessage": "A server error occurred."}


def _raise(*args, **kwargs):
    raise RuntimeError(SECRET)


@pytest.fixture
def production_like(settings):
    settings.DEBUG = False


@pytest.fixture
def http(make_api_client, customer_factory, production_like):
    customer_factory(public_id="C1001")
    client, _key = make_api_client("clienteling", "scan_and_go", "loyalty:read")
    client.raise_request_exception = False
    return client


@pytest.mark.parametrize(
    ("failing", "url", "expected"),
    [
        ("loyalty.api.customers.customer_get_for_loyalty", "/api/v1/customers/C1001", API_SERVER_ERROR),
        ("clienteling.spi.views.customer_get", "/endpoint/sa/customers/C1001", SPI_SERVER_ERROR),
        (
            "clienteling.scan_and_go.views.scan_and_go_profile_get",
            "/customer-profile?customerId=C1001",
            SPI_SERVER_ERROR,
        ),
    ],
)
def test_an_unhandled_exception_is_a_json_500_in_the_surfaces_shape(http, monkeypatch, failing, url, expected):
    # given
    monkeypatch.setattr(failing, _raise)

    # when
    response = http.get(url)

    # then
    assert (response.status_code, response["Content-Type"], response.json()) == (500, "application/json", expected)
    assert SECRET.encode() not in response.content


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/api/v1/nowhere", {"message": "Not found.", "code": "not_found", "extra": {}}),
        ("/endpoint/sa/nowhere", {"errorCode": "NOT_FOUND", "errorMessage": "Not found."}),
    ],
)
def test_an_unknown_url_under_an_api_is_a_json_404(http, url, expected):
    # when
    response = http.get(url)

    # then
    assert (response.status_code, response["Content-Type"], response.json()) == (404, "application/json", expected)


def test_too_many_query_parameters_is_a_json_400(http):
    # given
    query = "&".join(f"p{number}=1" for number in range(1001))

    # when
    response = http.get(f"/api/v1/customers/C1001?{query}")

    # then
    assert (response.status_code, response.json()) == (
        400,
        {"message": "Malformed request.", "code": "bad_request", "extra": {}},
    )


def test_outside_the_apis_django_answers_its_own_page(http):
    # when
    response = http.get("/nowhere")

    # then
    assert (response.status_code, response["Content-Type"]) == (404, "text/html; charset=utf-8")
