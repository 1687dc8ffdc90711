"""Bad input gets a 4xx with {"errorCode", "errorMessage"} naming the problem, and nothing is written."""

import json

import pytest

from crm.models import Address, Associate, ConsentChange, Consents, Customer, Store
from loyalty.models import LoyaltyAccount

WRITTEN_MODELS = (Customer, Address, Consents, ConsentChange, Store, Associate, LoyaltyAccount)
NAME_RULE = "Use letters, digits, spaces, apostrophes, hyphens, commas and full stops, starting with a letter or digit."
VALID_PROFILE = {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com"}


def _row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in WRITTEN_MODELS}


def _with_profile(**changes):
    return {"profile": {**VALID_PROFILE, **changes}, "storeAttribution": {"storeId": "S-NEW", "associateId": "A-NEW"}}


CREATE_CASES = [
    # (id, body, status, errorCode, errorMessage)
    (
        "profile not an object",
        {"profile": "Ada"},
        400,
        "VALIDATION_ERROR",
        "profile: Invalid data. Expected a dictionary, but got str.",
    ),
    (
        "name is an object",
        _with_profile(firstName={"a": 1}),
        400,
        "VALIDATION_ERROR",
        "profile.firstName: Not a valid string.",
    ),
    (
        "name is a boolean",
        _with_profile(lastName=True),
        400,
        "VALIDATION_ERROR",
        "profile.lastName: Not a valid string.",
    ),
    (
        "consent not a boolean",
        {**_with_profile(), "consents": {"smsSignUp": "maybe"}},
        400,
        "VALIDATION_ERROR",
        "consents.smsSignUp: Must be a valid boolean.",
    ),
    (
        "addressList not a list",
        {**_with_profile(), "addressList": "1 Main St"},
        400,
        "VALIDATION_ERROR",
        'addressList: Expected a list of items but got type "str".',
    ),
    (
        "impossible date",
        _with_profile(birthday="1990-13-45"),
        400,
        "VALIDATION_ERROR",
        "profile.birthday: Not a date: send YYYY-MM-DD or epoch milliseconds.",
    ),
    (
        "words for a date",
        _with_profile(birthday="yesterday"),
        400,
        "VALIDATION_ERROR",
        "profile.birthday: Not a date: send YYYY-MM-DD or epoch milliseconds.",
    ),
    (
        "boolean for a date",
        _with_profile(birthday=True),
        400,
        "VALIDATION_ERROR",
        "profile.birthday: Not a date: send YYYY-MM-DD or epoch milliseconds.",
    ),
    (
        "absurd epoch",
        _with_profile(birthday=10**18),
        400,
        "VALIDATION_ERROR",
        "profile.birthday: Not a date: send YYYY-MM-DD or epoch milliseconds.",
    ),
    (
        "future birthday",
        _with_profile(birthday="2999-01-01"),
        400,
        "INVALID_FIELD",
        "profile.birthday: Cannot be in the future.",
    ),
    (
        "bad email",
        _with_profile(email="not-an-email"),
        400,
        "VALIDATION_ERROR",
        "profile.email: Enter a valid email address.",
    ),
    (
        "letters for a phone",
        _with_profile(phoneMobile="call me"),
        400,
        "VALIDATION_ERROR",
        "profile.phoneMobile: Not a phone number.",
    ),
    (
        "SQL in a name",
        _with_profile(lastName="x'); DROP TABLE crm_customer; --"),
        400,
        "VALIDATION_ERROR",
        "profile.lastName: " + NAME_RULE,
    ),
    (
        "HTML in a name",
        _with_profile(firstName="<script>alert(1)</script>"),
        400,
        "VALIDATION_ERROR",
        "profile.firstName: " + NAME_RULE,
    ),
    (
        "HTML in a city",
        _with_profile(address={"addressLine1": "1 Main St", "city": "<b>Springfield</b>"}),
        400,
        "VALIDATION_ERROR",
        "profile.address.city: Angle brackets, braces and control characters are not allowed.",
    ),
    (
        "bad country code",
        _with_profile(address={"addressLine1": "1 Main St", "countryCode": "U5A!"}),
        400,
        "VALIDATION_ERROR",
        "profile.address.countryCode: Use an ISO 3166 country code (two or three letters).",
    ),
    (
        "name too long",
        _with_profile(firstName="A" * 101),
        400,
        "VALIDATION_ERROR",
        "profile.firstName: Ensure this field has no more than 100 characters.",
    ),
    (
        "no identity at all",
        {"profile": {"gender": "female"}, "storeAttribution": {"storeId": "S-NEW"}},
        400,
        "IDENTITY_REQUIRED",
        "A customer needs at least a first name, last name, email or phone number.",
    ),
    ("body is a list", [VALID_PROFILE], 400, "INVALID_REQUEST", "The request body must be a JSON object."),
    (
        "wrapped customer not an object",
        {"customer": "Ada"},
        400,
        "INVALID_REQUEST",
        'The value of "customer" must be a JSON object.',
    ),
    (
        "too many addresses",
        {**_with_profile(), "addressList": [{"addressLine1": f"{n} Main St"} for n in range(51)]},
        400,
        "VALIDATION_ERROR",
        "addressList: Ensure this field has no more than 50 elements.",
    ),
    (
        "bad store id",
        {**_with_profile(), "storeAttribution": {"storeId": "S 1; --"}},
        400,
        "VALIDATION_ERROR",
        "storeAttribution.storeId: Use letters, digits, dots, colons, hyphens and underscores only.",
    ),
]


@pytest.mark.parametrize(
    ("body", "status", "error_code", "error_message"),
    [case[1:] for case in CREATE_CASES],
    ids=[case[0] for case in CREATE_CASES],
)
def test_create_customer_rejects_bad_input_and_writes_nothing(pos_client, body, status, error_code, error_message):
    # given
    before = _row_counts()

    # when
    response = pos_client.post("/endpoint/sa/customers", data=json.dumps(body), content_type="application/json")

    # then
    assert response.status_code == status
    assert response.json() == {"errorCode": error_code, "errorMessage": error_message}
    assert _row_counts() == before


def test_malformed_json_is_400_and_writes_nothing(pos_client):
    # given
    before = _row_counts()

    # when
    response = pos_client.post(
        "/endpoint/sa/customers", data='{"profile": {"firstName": "Ada"', content_type="application/json"
    )

    # then
    assert response.status_code == 400
    assert response.json()["errorCode"] == "INVALID_JSON"
    assert response.json()["errorMessage"].startswith("JSON parse error")
    assert _row_counts() == before


def test_ten_megabyte_body_is_413_and_writes_nothing(pos_client):
    # given
    before = _row_counts()
    body = json.dumps({"profile": {"firstName": "Ada", "lastName": "x" * (10 * 1024 * 1024)}})

    # when
    response = pos_client.post("/endpoint/sa/customers", data=body, content_type="application/json")

    # then
    assert response.status_code == 413
    assert response.json() == {
        "errorCode": "PAYLOAD_TOO_LARGE",
        "errorMessage": "Request body is larger than 1048576 bytes.",
    }
    assert _row_counts() == before


def test_form_encoded_body_is_415_and_writes_nothing(pos_client):
    # given
    before = _row_counts()

    # when
    response = pos_client.post(
        "/endpoint/sa/customers", data="firstName=Ada", content_type="application/x-www-form-urlencoded"
    )

    # then
    assert response.status_code == 415
    assert response.json() == {
        "errorCode": "UNSUPPORTED_MEDIA_TYPE",
        "errorMessage": 'Unsupported media type "application/x-www-form-urlencoded" in request.',
    }
    assert _row_counts() == before


def test_duplicate_email_is_409_naming_the_customer_and_rolls_back_the_new_store(pos_client, customer_factory):
    # given
    customer_factory(email="ada@example.com", public_id="C000000000042")
    before = _row_counts()

    # when
    response = pos_client.post(
        "/endpoint/sa/customers",
        data=json.dumps(_with_profile(email="ADA@example.com ")),
        content_type="application/json",
    )

    # then
    assert response.status_code == 409
    assert response.json() == {
        "errorCode": "EMAIL_ALREADY_IN_USE",
        "errorMessage": "profile.email: This email address is already used by another customer.",
        "customerId": "C000000000042",
    }
    assert _row_counts() == before
    assert not Store.objects.filter(code="S-NEW").exists()


def test_update_of_unknown_customer_is_404_and_writes_nothing(pos_client):
    # given
    before = _row_counts()
    body = {"profile": {"customerId": "C404404404404", "firstName": "Ada"}, "storeAttribution": {"storeId": "S-NEW"}}

    # when
    response = pos_client.put("/endpoint/sa/customers", data=json.dumps(body), content_type="application/json")

    # then
    assert response.status_code == 404
    assert response.json() == {"errorCode": "CUSTOMER_NOT_FOUND", "errorMessage": "Customer not found."}
    assert _row_counts() == before


def test_update_without_customer_id_is_400(pos_client, customer_factory):
    # given
    customer_factory()
    before = _row_counts()

    # when
    response = pos_client.put(
        "/endpoint/sa/customers", data=json.dumps({"profile": {"firstName": "Ada"}}), content_type="application/json"
    )

    # then
    assert response.status_code == 400
    assert response.json() == {
        "errorCode": "MISSING_CUSTOMER_ID",
        "errorMessage": "profile.customerId: Required: the id of the customer to update.",
    }
    assert _row_counts() == before


@pytest.mark.parametrize(
    ("query", "error_message"),
    [
        ("?customerId=C%00X", "customerId: Use letters, digits, dots, colons, hyphens and underscores only."),
        ("?customerId=%3Cscript%3E", "customerId: Use letters, digits, dots, colons, hyphens and underscores only."),
    ],
)
def test_update_with_a_bad_customer_id_in_the_query_is_400_naming_it(
    pos_client, customer_factory, query, error_message
):
    # given
    customer_factory()
    before = _row_counts()

    # when
    response = pos_client.put(
        f"/endpoint/sa/customers{query}",
        data=json.dumps({"profile": {"firstName": "Ada"}}),
        content_type="application/json",
    )

    # then
    assert (response.status_code, response.json()) == (
        400,
        {"errorCode": "VALIDATION_ERROR", "errorMessage": error_message},
    )
    assert _row_counts() == before


def test_update_with_bad_field_leaves_customer_unchanged(pos_client, customer_factory):
    # given
    customer = customer_factory(first_name="Ada", email="ada@example.com")
    body = {"profile": {"customerId": customer.public_id, "firstName": "Augusta", "birthday": "31/12/1990"}}

    # when
    response = pos_client.put("/endpoint/sa/customers", data=json.dumps(body), content_type="application/json")

    # then
    assert response.status_code == 400
    assert response.json()["errorMessage"] == "profile.birthday: Not a date: send YYYY-MM-DD or epoch milliseconds."
    customer.refresh_from_db()
    assert customer.first_name == "Ada"


def test_update_that_removes_every_identity_is_400_and_changes_nothing(pos_client, customer_factory):
    # given
    customer = customer_factory(first_name="Ada", last_name="", email="", phone_mobile="")

    # when
    response = pos_client.put(
        "/endpoint/sa/customers",
        data=json.dumps({"profile": {"customerId": customer.public_id, "firstName": None}}),
        content_type="application/json",
    )

    # then
    assert response.status_code == 400
    assert response.json()["errorCode"] == "IDENTITY_REQUIRED"
    customer.refresh_from_db()
    assert customer.first_name == "Ada"


def test_get_unknown_customer_is_404(pos_client):
    # when
    response = pos_client.get("/endpoint/sa/customers/C000000000000")

    # then
    assert response.status_code == 404
    assert response.json() == {"errorCode": "CUSTOMER_NOT_FOUND", "errorMessage": "Customer not found."}


@pytest.mark.parametrize(
    ("query", "error_message"),
    [
        ("", "Give at least one search criterion: name, email, phone, loyalty id, postal code or customer id."),
        (
            "?firstName=&lastName=%20",
            "Give at least one search criterion: name, email, phone, loyalty id, postal code or customer id.",
        ),
        (
            "?api_key_other=1",
            "Give at least one search criterion: name, email, phone, loyalty id, postal code or customer id.",
        ),
    ],
)
def test_empty_search_is_400(pos_client, query, error_message):
    # when
    response = pos_client.get(f"/endpoint/sa/customers{query}")

    # then
    assert response.status_code == 400
    assert response.json() == {"errorCode": "EMPTY_SEARCH", "errorMessage": error_message}


@pytest.mark.parametrize(
    ("query", "error_message"),
    [
        (
            "?lastName=x'%20OR%201=1%20--",
            "lastName: " + NAME_RULE,
        ),
        ("?lastName=Love&limit=abc", "limit: A valid integer is required."),
        ("?lastName=Love&limit=0", "limit: Ensure this value is greater than or equal to 1."),
        ("?phone=%3Cscript%3E", "phone: Not a phone number."),
    ],
)
def test_bad_search_parameter_is_400_naming_it(pos_client, query, error_message):
    # when
    response = pos_client.get(f"/endpoint/sa/customers{query}")

    # then
    assert response.status_code == 400
    assert response.json() == {"errorCode": "VALIDATION_ERROR", "errorMessage": error_message}
