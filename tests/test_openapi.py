import io
import json
import re
from decimal import Decimal

import jsonschema
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.validators import RegexValidator

from core.api.schema import schema_pattern
from crm.schema import PERSON_NAME_PATTERN
from crm.validators import validate_person_name
from loyalty.api.customer_serializers import API_EMBEDS
from loyalty.models import Tier
from tests.clienteling.golden import PAYLOADS


@pytest.mark.django_db
def test_schema_documents_the_four_spi_operations_with_camel_case_shapes(client):
    # when
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    # then
    assert response.status_code == 200
    schema = response.json()
    operations = {
        operation["operationId"]: (path, method)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }
    assert operations["CREATE_CUSTOMER"] == ("/endpoint/sa/customers", "post")
    assert operations["UPDATE_CUSTOMER"] == ("/endpoint/sa/customers", "put")
    assert operations["SEARCH_CUSTOMERS"] == ("/endpoint/sa/customers", "get")
    assert operations["GET_CUSTOMER"] == ("/endpoint/sa/customers/{customer_id}", "get")
    components = schema["components"]["schemas"]
    assert set(components["ProfileOutput"]["properties"]) >= {"customerId", "firstName", "phoneMobile", "address"}
    assert set(components["CustomerOutput"]["properties"]) == {
        "profile",
        "consents",
        "addressList",
        "loyaltyProfile",
        "storeAttribution",
        "orderCount",
        "orderList",
    }
    assert set(components["ConsentsInputRequest"]["properties"]) == {
        "agreeToTC",
        "directMailSignUp",
        "eReceipt",
        "loyaltySignUp",
        "newsLetterSignUp",
        "phoneSignUp",
        "smsSignUp",
    }
    assert set(schema["components"]["securitySchemes"]) >= {"bearerAuth", "apiKeyHeader", "apiKeyQuery"}
    # The vendor adapters' own ways of sending a key (compat/<vendor>/schema.py).
    assert set(schema["components"]["securitySchemes"]) - {"bearerAuth", "apiKeyHeader", "apiKeyQuery"} <= {
        "antavoApiKeyQuery",
        "antavoEscher",
        "capillaryBasic",
        "capillaryOAuthToken",
        "loyaltylionBearer",
    }
    create = schema["paths"]["/endpoint/sa/customers"]["post"]
    example = create["requestBody"]["content"]["application/json"]["examples"]["Sign-upWithLoyaltyConsent"]["value"]
    assert example["customer"]["consents"]["loyaltySignUp"] is True


@pytest.mark.django_db
def test_swagger_ui_is_served_from_local_static_files(client):
    # when
    response = client.get("/api/docs/")

    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    assert "unpkg" not in page.lower()


@pytest.mark.django_db
def test_swagger_ui_asset_is_served(client, settings):
    # when
    response = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")

    # then
    assert response.status_code == 200


@pytest.mark.django_db
def test_schema_description_lists_every_webhook_event(client):
    # given
    from webhooks.catalogue import CATALOGUE

    # when
    description = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["info"]["description"]

    # then
    assert "## Webhooks" in description
    webhooks_section = description.split("## Webhooks", 1)[1]
    for name in CATALOGUE:
        assert f"| `{name}` |" in webhooks_section
    assert webhooks_section.count("\n| `") == len(CATALOGUE) == 12


# Operation ids of the vendor adapters (compat/) start with their vendor's name.
COMPAT_PREFIXES = ("antavo_", "capillary_", "loyaltylion_")


def _schema(client) -> dict:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


def _operations(schema: dict) -> dict[str, dict]:
    return {
        operation["operationId"]: operation for methods in schema["paths"].values() for operation in methods.values()
    }


@pytest.mark.django_db
def test_the_three_key_schemes_are_alternatives_not_all_required_at_once(client):
    # when
    operations = _operations(_schema(client))

    # then
    for operation_id in ("CREATE_CUSTOMER", "GET_CUSTOMER", "loyalty_customer_get", "event_create"):
        assert operations[operation_id]["security"] == [
            {"bearerAuth": []},
            {"apiKeyHeader": []},
            {"apiKeyQuery": []},
        ]


SPI_ERROR_STATUSES = {
    "CREATE_CUSTOMER": ["400", "403", "409", "413", "415", "422", "429", "500"],
    "UPDATE_CUSTOMER": ["400", "403", "404", "409", "413", "415", "422", "429", "500"],
    "SEARCH_CUSTOMERS": ["400", "403", "429", "500"],
    "GET_CUSTOMER": ["403", "404", "429", "500"],
    "GET_CUSTOMER_ADDRESSES": ["400", "403", "404", "429", "500"],
    "CREATE_CUSTOMER_ADDRESS": ["400", "403", "404", "409", "413", "415", "429", "500"],
    "UPDATE_CUSTOMER_ADDRESS": ["400", "403", "404", "409", "413", "415", "429", "500"],
    "DELETE_CUSTOMER_ADDRESS": ["400", "403", "404", "415", "429", "500"],
}


@pytest.mark.django_db
def test_each_spi_operation_documents_its_errors_in_the_spi_error_shape(client):
    # when
    schema = _schema(client)
    operations = _operations(schema)

    # then
    assert schema["components"]["schemas"]["SpiErrorOutput"]["properties"] == {
        "errorCode": {"type": "string"},
        "errorMessage": {"type": "string"},
        "customerId": {
            "type": "string",
            "description": "Only with 409 EMAIL_ALREADY_IN_USE: the customer who has the email.",
        },
    }
    assert schema["components"]["schemas"]["SpiErrorOutput"]["required"] == ["errorCode", "errorMessage"]
    for operation_id, statuses in SPI_ERROR_STATUSES.items():
        responses = operations[operation_id]["responses"]
        assert sorted(responses) == sorted(["200", "401", *statuses]), operation_id
        # The 401 has an empty body, as the POS expects.
        assert "content" not in responses["401"], operation_id
        for status in statuses:
            assert list(responses[status]["content"]) == ["application/json"], (operation_id, status)
            assert responses[status]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/SpiErrorOutput"
            }, (operation_id, status)


@pytest.mark.django_db
def test_spi_responses_describe_the_default_wrapped_envelope(client, settings):
    # given
    assert settings.SPI_RESPONSE_ENVELOPE == "wrapped"

    # when
    schema = _schema(client)
    operations = _operations(schema)

    # then
    components = schema["components"]["schemas"]
    for operation_id in ("CREATE_CUSTOMER", "UPDATE_CUSTOMER", "GET_CUSTOMER"):
        body = operations[operation_id]["responses"]["200"]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/CustomerEnvelopeOutput"}
        assert "`SPI_RESPONSE_ENVELOPE=bare`" in operations[operation_id]["description"]
    search = operations["SEARCH_CUSTOMERS"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert search == {"$ref": "#/components/schemas/CustomerListEnvelopeOutput"}
    assert "`SPI_RESPONSE_ENVELOPE=bare`" in operations["SEARCH_CUSTOMERS"]["description"]
    assert components["CustomerEnvelopeOutput"]["required"] == ["customer"]
    assert components["CustomerEnvelopeOutput"]["properties"]["customer"]["allOf"] == [
        {"$ref": "#/components/schemas/CustomerOutput"}
    ]
    assert components["CustomerListEnvelopeOutput"]["required"] == ["customers"]
    assert components["CustomerListEnvelopeOutput"]["properties"]["customers"]["type"] == "array"
    assert components["CustomerListEnvelopeOutput"]["properties"]["customers"]["items"] == {
        "$ref": "#/components/schemas/CustomerOutput"
    }


@pytest.mark.django_db
def test_every_loyalty_operation_documents_401_403_and_429_in_the_error_shape(client):
    # when
    schema = _schema(client)

    # then
    loyalty_operations = {
        operation["operationId"]: operation
        for path, methods in schema["paths"].items()
        if path.startswith("/api/v1/")
        for operation in methods.values()
    }
    assert len(loyalty_operations) == 14
    for operation_id, operation in loyalty_operations.items():
        for status in ("401", "403", "429"):
            body = operation["responses"][status]["content"]["application/json"]["schema"]
            assert body == {"$ref": "#/components/schemas/ErrorOutput"}, (operation_id, status)
    assert schema["components"]["schemas"]["ErrorOutput"]["required"] == ["code", "extra", "message"]
    erase = loyalty_operations["loyalty_customer_erase"]["responses"]
    assert erase["403"]["description"] == "permission_denied: the key lacks the privacy scope."
    redeem = loyalty_operations["loyalty_coupon_redeem"]["responses"]
    assert redeem["403"]["description"] == "The key lacks the loyalty:write scope, or may not act for the store."


@pytest.mark.django_db
def test_output_fields_that_can_be_null_are_declared_nullable(client):
    # when
    components = _schema(client)["components"]["schemas"]

    # then
    nullable = {
        "TierOutput": ["upper_bound"],
        "TierPointsOutput": ["at_expiration"],
        "TierProgressOutput": [
            "points_needed_for_renewal",
            "points_needed_for_upgrade",
            "spend_needed_for_renewal",
            "spend_needed_for_upgrade",
            "upgrade_tier_id",
        ],
        "ClaimedRewardOutput": ["expires_at"],
    }
    for component, fields in nullable.items():
        for field in fields:
            assert components[component]["properties"][field]["nullable"] is True, (component, field)
    assert components["ClaimedRewardOutput"]["properties"]["expires_at"]["format"] == "date-time"
    assert "nullable" not in components["TierOutput"]["properties"]["lower_bound"]


def test_the_whole_document_is_valid_openapi_and_generates_without_warnings(tmp_path):
    # when: drf-spectacular validates against the OpenAPI 3 meta-schema; any warning fails the command
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"), stdout=io.StringIO()
    )

    # then
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3.0.3")


def _parameters(operation: dict) -> dict[tuple[str, str], dict]:
    return {(parameter["in"], parameter["name"]): parameter for parameter in operation.get("parameters", [])}


@pytest.mark.django_db
def test_input_limits_the_serializers_enforce_are_in_the_schema(client):
    # when
    schema = _schema(client)
    operations = _operations(schema)
    components = schema["components"]["schemas"]

    # then: bounds of query parameters and headers
    search = _parameters(operations["SEARCH_CUSTOMERS"])
    assert search["query", "limit"]["schema"] == {"type": "integer", "minimum": 1}
    assert search["query", "customerId"]["schema"] == {
        "type": "string",
        "maxLength": 32,
        "pattern": "(?:^$)|(?:^[A-Za-z0-9][A-Za-z0-9._:\\-]*$)",
    }
    assert search["query", "firstName"]["schema"]["maxLength"] == 100
    assert search["query", "phoneMobile"]["schema"] == {"type": "string", "maxLength": 32}
    update = _parameters(operations["UPDATE_CUSTOMER"])
    assert update["query", "customerId"]["schema"]["maxLength"] == 32
    coupons = _parameters(operations["loyalty_customer_coupon_list"])
    assert coupons["query", "limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 200}
    ledger = _parameters(operations["loyalty_customer_transaction_list"])
    assert ledger["query", "page_size"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 200}
    lookup = _parameters(operations["loyalty_customer_lookup"])
    assert lookup["query", "value"]["schema"] == {"type": "string", "maxLength": 254, "minLength": 1}
    assert lookup["query", "value"]["required"] is True
    assert lookup["query", "embed"]["schema"] == {"type": "string", "maxLength": 200}
    # A blank language is ignored, not refused.
    configuration = _parameters(operations["loyalty_configuration_get"])
    assert configuration["query", "language"]["schema"] == {"type": "string", "maxLength": 16}
    assert configuration["header", "X-Language"]["schema"] == {"type": "string", "maxLength": 16}
    for operation_id in ("CREATE_CUSTOMER", "event_create", "event_bulk_create"):
        header = _parameters(operations[operation_id])["header", "Idempotency-Key"]
        assert header["schema"] == {"type": "string", "minLength": 1, "maxLength": 255}, operation_id
    # and allowed characters in bodies: free text refuses markup and control characters (the validator's
    # inverse match, which drf-spectacular wrote as a pattern requiring one of them)
    address_line = components["AddressInputRequest"]["properties"]["addressLine1"]
    assert address_line["oneOf"][0] == {
        "type": "string",
        "pattern": "^[^<>{}\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$",
        "maxLength": 200,
    }
    first_name = components["ProfileInputRequest"]["properties"]["firstName"]["oneOf"][0]
    assert first_name["pattern"] == PERSON_NAME_PATTERN
    assert first_name["maxLength"] == 100
    # non-blank fields
    assert components["CouponClaimInputRequest"]["properties"]["code"]["minLength"] == 1


@pytest.mark.parametrize(
    "name",
    [
        "Ada",
        "José",
        "Zoë",
        "李小龍",
        "Ольга",
        "O'Brien",
        "O’Brien",
        "Anne-Marie",
        "St. John",
        "Smith, Jr.",
        "e\u0301",
        "",
    ],
)
def test_the_documented_name_pattern_accepts_what_the_server_accepts(name):
    # given
    validate_person_name(name)

    # then
    assert re.search(PERSON_NAME_PATTERN, name)


@pytest.mark.parametrize("name", [" Ada", "-Ada", "Ada<b>", "Ada;", "Ada=1", 'Ada"', "Ada_", "Ada(1)", "Ada\x00"])
def test_the_documented_name_pattern_refuses_the_ascii_the_server_refuses(name):
    # given
    with pytest.raises(ValidationError):
        validate_person_name(name)

    # then
    assert re.search(PERSON_NAME_PATTERN, name) is None


def test_schema_pattern_negates_an_inverse_match_and_leaves_out_unicode_aware_classes():
    # then
    assert schema_pattern(RegexValidator(r"[<>]", inverse_match=True)) == "^[^<>]*$"
    assert schema_pattern(RegexValidator(r"^\w+$")) is None
    assert schema_pattern(RegexValidator(r"^[A-Z]{2}\Z")) == "^[A-Z]{2}$"


def _response_validator(schema: dict, operation: dict, status: int) -> jsonschema.Draft4Validator:
    """A validator of the documented body. OpenAPI 3.0's schema objects are JSON Schema draft 4 plus `nullable`,
    which the SPI never needs: it leaves empty values out rather than sending null."""
    body = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    return jsonschema.Draft4Validator({**body, "components": schema["components"]})


@pytest.mark.django_db
@pytest.mark.parametrize("golden_file", sorted(PAYLOADS.glob("*.json")), ids=lambda path: path.stem)
def test_every_golden_spi_response_matches_its_documented_schema(client, golden_file):
    # given: a response the SPI really answers (the golden tests hold it byte for byte)
    golden = json.loads(golden_file.read_text())
    schema = _schema(client)
    path = golden["path"].split("?")[0]
    fixed_paths = ("/endpoint/sa/customers", "/endpoint/sa/customer/address")
    template = path if path in fixed_paths else "/endpoint/sa/customers/{customer_id}"
    operation = schema["paths"][template][golden["method"].lower()]

    # when
    errors = [
        error.message
        for error in _response_validator(schema, operation, golden["status"]).iter_errors(golden["response"])
    ]

    # then
    assert errors == []


@pytest.mark.django_db
def test_spi_outputs_require_only_what_is_never_left_out(client):
    # when
    components = _schema(client)["components"]["schemas"]

    # then: spi_customer_representation drops None, "" and {} at every depth
    assert components["CustomerEnvelopeOutput"]["required"] == ["customer"]
    assert components["CustomerOutput"]["required"] == ["addressList", "orderCount", "orderList", "profile"]
    assert components["ProfileOutput"]["required"] == ["createdDate", "customerId", "lastModifiedDate"]
    assert components["AddressOutput"]["required"] == ["addressId"]
    assert "required" not in components["StoreAttributionOutput"]


def _as_json_schema(node: object) -> object:
    """OpenAPI 3.0's `nullable: true` as JSON Schema says it: the schema, or null."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _as_json_schema(value) for key, value in node.items() if key != "nullable"}
    return {"anyOf": [converted, {"type": "null"}]} if node.get("nullable") else converted


def _body_errors(schema: dict, path: str, method: str, status: int, body: object) -> list[str]:
    documented = schema["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]
    validator = jsonschema.Draft4Validator(_as_json_schema({**documented, "components": schema["components"]}))
    return [f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(body)]


@pytest.mark.django_db
def test_loyalty_responses_with_null_values_match_their_documented_schemas(
    client, make_api_client, program, enrolled_account
):
    # given: a top tier (upper_bound null) and an enrolled customer with every block of the 360 view
    Tier.objects.create(
        program=program,
        rank=1,
        code="silver",
        name="Silver",
        title="Silver member",
        threshold=Decimal("1000"),
        renewal_threshold=Decimal("800"),
        earn_multiplier=Decimal("1.25"),
    )
    customer = enrolled_account().customer
    reader, _key = make_api_client("loyalty:read")
    schema = _schema(client)

    # when
    configuration = reader.get("/api/v1/configuration")
    overview = reader.get(f"/api/v1/customers/{customer.public_id}?embed={','.join(API_EMBEDS)}")

    # then
    assert configuration.status_code == 200
    assert configuration.json()["tier_configuration"]["tiers"][-1]["upper_bound"] is None
    assert _body_errors(schema, "/api/v1/configuration", "get", 200, configuration.json()) == []
    assert overview.status_code == 200
    assert _body_errors(schema, "/api/v1/customers/{customer_id}", "get", 200, overview.json()) == []


@pytest.mark.django_db
def test_every_401_documents_its_challenge_and_every_429_its_retry_after(client):
    # when
    operations = _operations(_schema(client))

    # then
    for operation_id, operation in operations.items():
        responses = operation["responses"]
        assert responses["401"]["headers"]["WWW-Authenticate"]["schema"] == {"type": "string"}, operation_id
        if "429" in responses:
            assert responses["429"]["headers"] == {
                "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before a retry."}
            }, operation_id
    # The core's and the SPIs' 22; each vendor adapter's operations are counted by its own tests (tests/compat/).
    own = [operation for operation_id, operation in operations.items() if not operation_id.startswith(COMPAT_PREFIXES)]
    assert sum("429" in operation["responses"] for operation in own) == 22


@pytest.mark.django_db
def test_a_session_response_matches_its_documented_schema(client, make_api_client):
    # given: a points program, whose tier progress carries the points_… keys and never the spend_… ones
    http, _key = make_api_client("loyalty:write", "loyalty:read")
    schema = _schema(client)

    # when
    response = http.post(
        "/api/v1/sessions?channel=web",
        {"merchant_id": "shop-1", "customer": {"email": "ada@example.com"}},
        format="json",
    )

    # then
    assert response.status_code == 200
    assert "spend_needed_for_upgrade" not in response.json()["customer"]["tier_membership"]["progress"]
    assert _body_errors(schema, "/api/v1/sessions", "post", 200, response.json()) == []
    assert schema["components"]["schemas"]["TierProgressOutput"]["required"] == [
        "kind",
        "upgrade_tier_id",
        "valid_until",
    ]
