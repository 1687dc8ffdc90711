"""The LoyaltyLion adapter in the OpenAPI document: its own tag, Bearer scheme and error shape, and responses that
match what is documented."""

import pytest

from tests.compat.loyaltylion.conftest import BASE
from tests.test_openapi import _body_errors, _schema

PREFIX = "/compat/loyaltylion/headless/2025-06/{site_id}"
OPERATIONS = {
    "loyaltylion_session_initialize": (PREFIX + "/customers/{merchant_id}/sessions", "post"),
    "loyaltylion_customer_get": (PREFIX + "/customers/{merchant_id}", "get"),
    "loyaltylion_configuration_get": (PREFIX + "/configuration", "get"),
}


@pytest.mark.django_db
def test_loyaltylion_operations_are_tagged_and_document_its_errors(client):
    # when
    schema = _schema(client)

    # then
    found = {
        operation["operationId"]
        for methods in schema["paths"].values()
        for operation in methods.values()
        if operation["operationId"].startswith("loyaltylion_")
    }
    assert found == set(OPERATIONS)
    for operation_id, (path, method) in OPERATIONS.items():
        operation = schema["paths"][path][method]
        assert operation["operationId"] == operation_id
        assert operation["tags"] == ["LoyaltyLion headless"]
        assert operation["security"] == [{"loyaltylionBearer": []}]
        for status in ("400", "401", "403", "429"):
            body = operation["responses"][status]["content"]["application/json"]["schema"]
            assert body == {"$ref": "#/components/schemas/LoyaltyLionErrorOutput"}, (operation_id, status)
    assert "422" in schema["paths"][OPERATIONS["loyaltylion_session_initialize"][0]]["post"]["responses"]
    assert "404" in schema["paths"][OPERATIONS["loyaltylion_customer_get"][0]]["get"]["responses"]


def test_responses_match_their_documented_schemas(client, storefront, program):
    # given
    schema = _schema(client)

    # when
    session = storefront.post(
        f"{BASE}/customers/1001/sessions?channel=web", {"customer": {"email": "a@example.com"}}, format="json"
    )
    customer = storefront.get(f"{BASE}/customers/1001?channel=web")
    configuration = storefront.get(f"{BASE}/configuration?channel=web")
    missing = storefront.get(f"{BASE}/customers/nobody?channel=web")

    # then
    assert _body_errors(schema, *OPERATIONS["loyaltylion_session_initialize"], 200, session.json()) == []
    assert _body_errors(schema, *OPERATIONS["loyaltylion_customer_get"], 200, customer.json()) == []
    assert _body_errors(schema, *OPERATIONS["loyaltylion_customer_get"], 404, missing.json()) == []
    assert _body_errors(schema, *OPERATIONS["loyaltylion_configuration_get"], 200, configuration.json()) == []
