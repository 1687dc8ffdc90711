import pytest


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
    assert set(schema["components"]["securitySchemes"]) == {"bearerAuth", "apiKeyHeader", "apiKeyQuery"}
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
    assert webhooks_section.count("\n| `") == len(CATALOGUE) == 11


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
    "CREATE_CUSTOMER": ["400", "403", "409", "413", "415", "429", "500"],
    "UPDATE_CUSTOMER": ["400", "403", "404", "409", "413", "415", "429", "500"],
    "SEARCH_CUSTOMERS": ["400", "403", "429", "500"],
    "GET_CUSTOMER": ["403", "404", "429", "500"],
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
