"""The Capillary adapter in the OpenAPI document: its own tag, its own key schemes, Capillary's error envelope on
every error status, and responses that match what is documented."""

import pytest
import time_machine

from tests.compat.capillary.conftest import NOW
from tests.test_openapi import _body_errors, _operations, _schema

OPERATIONS = {
    "capillary_customer_get": ("/compat/capillary/v2/customers/{customer_id}", "get"),
    "capillary_customer_details_lookup": ("/compat/capillary/v2/customers/lookup/customerDetails", "get"),
    "capillary_customer_id_lookup": ("/compat/capillary/v2/customers/lookup", "get"),
}


@pytest.mark.django_db
def test_capillary_operations_are_tagged_and_document_capillarys_errors(client):
    # when
    schema = _schema(client)
    operations = _operations(schema)

    # then
    capillary = {key: value for key, value in operations.items() if key.startswith("capillary_")}
    assert set(capillary) == set(OPERATIONS)
    for operation_id, (path, method) in OPERATIONS.items():
        operation = schema["paths"][path][method]
        assert operation["operationId"] == operation_id
        assert operation["tags"] == ["Capillary"]
        assert operation["security"] == [{"capillaryBasic": []}, {"capillaryOAuthToken": []}]
        for status in ("400", "401", "403", "404", "410", "429", "503"):
            body = operation["responses"][status]["content"]["application/json"]["schema"]
            assert body == {"$ref": "#/components/schemas/CapillaryErrorOutput"}, (operation_id, status)
    assert schema["components"]["securitySchemes"]["capillaryBasic"]["scheme"] == "basic"
    assert schema["components"]["securitySchemes"]["capillaryOAuthToken"]["name"] == "X-CAP-API-OAUTH-TOKEN"


def test_responses_match_their_documented_schemas(client, till, ada):
    # given
    customer, _account = ada
    schema = _schema(client)

    # when
    with time_machine.travel(NOW, tick=False):
        full = till.get(
            f"/compat/capillary/v2/customers/{customer.pk}?source=INSTORE&embed=points,mlp,expirySchedules,subscriptions"
            "&gapToUpgrade=0&gapToRenew=0"
        )
        entity = till.get(
            "/compat/capillary/v2/customers/lookup?source=INSTORE&identifierName=email&identifierValue=ada@example.com"
        )
        missing = till.get("/compat/capillary/v2/customers/999999999?source=INSTORE")

    # then
    path, method = OPERATIONS["capillary_customer_get"]
    assert _body_errors(schema, path, method, 200, full.json()) == []
    assert _body_errors(schema, path, method, 404, missing.json()) == []
    path, method = OPERATIONS["capillary_customer_id_lookup"]
    assert _body_errors(schema, path, method, 200, entity.json()) == []
