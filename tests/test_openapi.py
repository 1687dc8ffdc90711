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
