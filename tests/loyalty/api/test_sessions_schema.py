"""The OpenAPI document describes the session endpoints and the configuration, with examples, and what they answer
is what it describes."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):
    return client.get("/api/schema/", HTTP_ACCEPT="application/json").json()


def test_both_session_paths_are_documented_with_their_parameters_and_examples(schema):
    # when
    by_body = schema["paths"]["/api/v1/sessions"]["post"]
    by_path = schema["paths"]["/api/v1/customers/{merchant_id}/sessions"]["post"]

    # then
    assert (by_body["operationId"], by_body["tags"]) == ("loyalty_session_start", ["Loyalty sessions"])
    assert (by_path["operationId"], by_path["tags"]) == ("loyalty_customer_session_start", ["Loyalty sessions"])
    for operation in (by_body, by_path):
        parameters = {(parameter["in"], parameter["name"]) for parameter in operation["parameters"]}
        assert {("query", "channel"), ("header", "X-Channel"), ("header", "X-LoyaltyLion-Channel")} <= parameters
        assert set(operation["responses"]) == {"200", "400", "401", "403", "409", "410", "422", "429", "503"}
        request_examples = operation["requestBody"]["content"]["application/json"]["examples"]
        assert set(request_examples) == {"FirstVisit,EmptyCart", "CartWithARewardLine"}
        ok_examples = operation["responses"]["200"]["content"]["application/json"]["examples"]
        assert ok_examples["EnrolledShopper"]["value"]["customer"]["state"] == "enrolled"
        conflict = operation["responses"]["422"]["content"]["application/json"]["examples"]
        assert conflict["EmailOfAnotherCustomer"]["value"]["code"] == "email_already_in_use"
    assert ("path", "merchant_id") in {(parameter["in"], parameter["name"]) for parameter in by_path["parameters"]}


def test_the_configuration_is_documented_with_an_example(schema):
    # when
    operation = schema["paths"]["/api/v1/configuration"]["get"]

    # then
    assert operation["operationId"] == "loyalty_configuration_get"
    example = operation["responses"]["200"]["content"]["application/json"]["examples"]["TwoTiersOnPoints"]["value"]
    assert set(example) == set(schema["components"]["schemas"]["ConfigurationOutput"]["properties"])


def test_what_the_endpoints_answer_is_what_the_schema_describes(schema, make_api_client):
    # given
    http, _key = make_api_client("loyalty:write", "loyalty:read")
    components = schema["components"]["schemas"]

    # when
    session = http.post(
        "/api/v1/sessions?channel=web",
        {"merchant_id": "shop-1", "customer": {"email": "ada@example.com"}},
        format="json",
    ).json()
    configuration = http.get("/api/v1/configuration").json()

    # then
    assert set(session) == set(components["SessionOutput"]["properties"])
    assert set(session["customer"]) == set(components["SessionCustomerOutput"]["properties"])
    assert set(session["customer"]["tier_membership"]) == set(components["TierMembershipOutput"]["properties"])
    progress_keys = set(components["TierProgressOutput"]["properties"])
    assert set(session["customer"]["tier_membership"]["progress"]) <= progress_keys
    assert set(configuration) == set(components["ConfigurationOutput"]["properties"])
    assert set(configuration["tier_configuration"]) == set(components["TierConfigurationOutput"]["properties"])
    assert set(configuration["rules"][0]) == set(components["RuleOutput"]["properties"])
