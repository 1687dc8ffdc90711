"""Capillary v2 customer reads at /compat/capillary/: the vendor's published requests sent unchanged (host and
credentials replaced) get Capillary's shape, codes and error bodies, from the same core as /api/v1/."""

from pathlib import Path

import pytest
import time_machine
from rest_framework.test import APIClient

from crm.models import ConsentChange, Customer
from crm.services.api_clients import api_client_create
from crm.services.context import ChangeContext
from loyalty.models import PointsEntry
from loyalty.services.privacy import customer_erase_with_loyalty_data
from tests.compat.capillary.conftest import NOW, basic
from tests.compat.golden_payloads import assert_matches_golden, load, numbers_named

PAYLOADS = Path(__file__).parent / "payloads"
BASE = "/compat/capillary"
# Every block, both gaps: the customer, the account, the program, the 360 view's reads and the two gap views.
FULL_READ_QUERY_BUDGET = 16


def _named(body, customer, program):
    return numbers_named(
        body,
        {
            ("id", customer.pk): "<customer>",
            ("userId", customer.pk): "<customer>",
            ("loyaltyId", customer.pk): "<customer>",
            ("entity", customer.pk): "<customer>",
            ("programId", program.pk): "<program>",
        },
    )


@pytest.mark.parametrize(
    "name",
    ["get_customer_by_id", "get_customer_embed_points_mlp_gaps", "lookup_customer_details", "lookup_customer_id"],
)
def test_published_request_gets_the_golden_response(name, till, ada, program):
    # given: the request as Capillary's documentation shows it; {id} and the card number are Ada's
    customer, account = ada
    golden = load(PAYLOADS, name)
    path = golden["path"].format(id=customer.pk, card=account.account_number)

    # when
    with time_machine.travel(NOW, tick=False):
        response = till.get(BASE + path)

    # then
    body = _named(response.json(), customer, program)
    for identifier in body.get("profiles", [{}])[0].get("identifiers", []):
        if identifier["type"] == "cardNumber":
            identifier["value"] = "<card>"
    assert_matches_golden(PAYLOADS, name, response.status_code, body)


def test_the_issues_request_with_mlp_and_points_is_answered_not_refused(till, ada):
    # given
    customer, _account = ada

    # when: the request the issue quotes (our /api/v1/ refused it: Unknown embed "mlp", "points")
    with time_machine.travel(NOW, tick=False):
        response = till.get(f"{BASE}/v2/customers/{customer.pk}?source=INSTORE&embed=points,mlp")

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["pointsSummary"]["loyaltyPoints"] == 1050
    assert body["loyaltyProgramDetails"][0]["totalAvailablePoints"] == 1050
    assert body["warnings"] == []
    assert "upgradeStrategies" not in body
    assert "gapToRenewSummary" not in body


def test_repeated_embed_keeps_every_value(till, ada):
    # given
    customer, _account = ada

    # when
    with time_machine.travel(NOW, tick=False):
        repeated = till.get(f"{BASE}/v2/customers/{customer.pk}?source=INSTORE&embed=points&embed=mlp")
        comma = till.get(f"{BASE}/v2/customers/{customer.pk}?source=INSTORE&embed=points,mlp")

    # then
    assert repeated.status_code == 200
    assert repeated.json() == comma.json()
    assert {"pointsSummary", "loyaltyProgramDetails"} <= set(repeated.json())


def test_gap_to_upgrade_is_judged_n_days_ahead(till, ada):
    # given: 1250 qualifying points now (600 on 2026-01-10, 500 on 2026-02-01, 150 on 2026-03-01; a 365-day window)
    customer, _account = ada
    path = f"{BASE}/v2/customers/{customer.pk}?source=INSTORE&embed=mlp"

    # when: today, and 250 days ahead (2027-02-06, when only the 150 of 2026-03-01 still count)
    with time_machine.travel(NOW, tick=False):
        today = till.get(path + "&gapToUpgrade=0")
        ahead = till.get(path + "&gapToUpgrade=250")

    # then
    assert today.json()["upgradeStrategies"] == [
        {
            "upgradeBasedOn": "CURRENT_POINTS",
            "upgradeThreshold": 5000,
            "customerUpgradeEntityValues": {"currentValue": 1250, "gapToUpgrade": 3750, "valueValidUpto": "2026-06-01"},
        }
    ]
    assert ahead.json()["upgradeStrategies"][0]["customerUpgradeEntityValues"] == {
        "currentValue": 150,
        "gapToUpgrade": 4850,
        "valueValidUpto": "2027-02-06",
    }
    assert "gapToRenewSummary" not in today.json()


def test_gaps_need_mlp_as_capillary_documents(till, ada):
    # given
    customer, _account = ada

    # when
    with time_machine.travel(NOW, tick=False):
        response = till.get(
            f"{BASE}/v2/customers/{customer.pk}?source=INSTORE&embed=points&gapToUpgrade=0&gapToRenew=0"
        )

    # then
    assert response.status_code == 200
    assert "upgradeStrategies" not in response.json()
    assert "gapToRenewSummary" not in response.json()


def test_gap_to_renew_is_left_out_in_the_entry_tier(till, customer_factory, loyalty_account_factory, tiers):
    # given: a member in the entry tier
    account = loyalty_account_factory()

    # when
    response = till.get(f"{BASE}/v2/customers/{account.customer.pk}?source=INSTORE&embed=mlp&gapToRenew=0")

    # then
    assert response.status_code == 200
    assert "gapToRenewSummary" not in response.json()


def test_embeds_without_data_here_are_named_in_warnings_not_refused(till, ada):
    # given
    customer, _account = ada

    # when: published names in any case (integrations send CUSTOMERSTATUS), and one Capillary does not publish
    with time_machine.travel(NOW, tick=False):
        response = till.get(
            f"{BASE}/v2/customers/{customer.pk}?source=instore&embed=POINTS,subscriptions,CUSTOMERSTATUS,ledger"
        )

    # then
    assert response.status_code == 200
    assert response.json()["pointsSummary"]["loyaltyPoints"] == 1050
    assert response.json()["warnings"] == [
        {"status": False, "code": 91000, "message": f'embed "{name}": not available on this server'}
        for name in ("subscriptions", "CUSTOMERSTATUS", "ledger")
    ]


def test_our_public_id_works_in_the_path_too(till, ada):
    # given
    customer, _account = ada

    # when
    with time_machine.travel(NOW, tick=False):
        by_public_id = till.get(f"{BASE}/v2/customers/{customer.public_id}?source=INSTORE")
        by_number = till.get(f"{BASE}/v2/customers/{customer.pk}?source=INSTORE")

    # then
    assert by_public_id.status_code == 200
    assert by_public_id.json() == by_number.json()


@pytest.mark.parametrize(
    ("identifier_name", "identifier_value"),
    [
        ("mobile", "12175550100"),
        ("email", "ADA@example.com"),
        ("externalId", "shop-1001"),
        ("cardnumber", "{card}"),
        ("cardNumber", "{card}"),
        ("mobile,email", "12175550100,nobody@example.com"),
    ],
)
def test_lookup_by_each_identifier_finds_the_same_customer(till, ada, identifier_name, identifier_value):
    # given
    customer, account = ada
    value = identifier_value.format(card=account.account_number)

    # when
    with time_machine.travel(NOW, tick=False):
        details = till.get(
            f"{BASE}/v2/customers/lookup/customerDetails?source=INSTORE&identifierName={identifier_name}"
            f"&identifierValue={value}&embed=points"
        )
        by_id = till.get(f"{BASE}/v2/customers/{customer.pk}?source=INSTORE&embed=points")
        entity = till.get(
            f"{BASE}/v2/customers/lookup?source=INSTORE&identifierName={identifier_name}&identifierValue={value}"
        )

    # then
    assert details.status_code == 200
    assert details.json() == by_id.json()
    assert entity.json() == {"entity": customer.pk, "warnings": []}


@pytest.mark.parametrize(
    ("query", "code", "message"),
    [
        ("", 8012, "source: This field is required."),
        ("source=SHOP", 8012, 'source: "SHOP" is not a valid choice.'),
        ("source=INSTORE&gapToUpgrade=-1", 400, "gapToUpgrade: Ensure this value is greater than or equal to 0."),
        ("source=INSTORE&gapToRenew=soon", 400, "gapToRenew: A valid integer is required."),
    ],
)
def test_bad_query_parameters_are_400_in_capillarys_envelope(till, ada, query, code, message):
    # given
    customer, _account = ada
    entries = PointsEntry.objects.count()

    # when
    response = till.get(f"{BASE}/v2/customers/{customer.pk}?{query}")

    # then
    assert response.status_code == 400
    assert response.json() == {"errors": [{"status": False, "code": code, "message": message}], "warnings": []}
    assert PointsEntry.objects.count() == entries


@pytest.mark.parametrize(
    ("query", "status", "code", "message"),
    [
        (
            "identifierName=wechat&identifierValue=x",
            400,
            8013,
            'identifierName: "wechat" is not an identifier we look up; expected one of mobile, email, externalId, '
            "cardnumber.",
        ),
        ("identifierName=email", 400, 8013, "identifierValue: This field is required."),
        ("identifierName=mobile&identifierValue=abc", 400, 8013, "Not a phone number."),
        (
            "identifierName=email&identifierValue=nobody@example.com",
            404,
            8015,
            "Customer not found for the given identifiers",
        ),
    ],
)
def test_lookup_errors(till, ada, query, status, code, message):
    # when
    response = till.get(f"{BASE}/v2/customers/lookup/customerDetails?source=INSTORE&{query}")

    # then
    assert response.status_code == status
    assert response.json() == {"errors": [{"status": False, "code": code, "message": message}], "warnings": []}


@pytest.mark.parametrize("customer_id", ["999999999", "99999999999999999999999", "C-UNKNOWN"])
def test_unknown_customer_is_8015(till, ada, customer_id):
    # when
    response = till.get(f"{BASE}/v2/customers/{customer_id}?source=INSTORE")

    # then
    assert response.status_code == 404
    assert response.json() == {
        "errors": [{"status": False, "code": 8015, "message": "Customer not found for the given identifiers"}],
        "warnings": [],
    }


def test_erased_customer_answers_the_pii_delete_message_as_our_api_does(till, ada, make_api_client):
    # given
    customer, account = ada
    customer_erase_with_loyalty_data(customer=customer, context=ChangeContext(channel=ConsentChange.Channel.API))
    reader, _key = make_api_client("loyalty:read")

    # when
    by_id = till.get(f"{BASE}/v2/customers/{customer.pk}?source=INSTORE")
    by_card = till.get(
        f"{BASE}/v2/customers/lookup/customerDetails?source=INSTORE&identifierName=cardnumber"
        f"&identifierValue={account.account_number}"
    )
    ours = reader.get(f"/api/v1/customers/{customer.public_id}")

    # then
    expected = {
        "errors": [{"status": False, "code": 410, "message": "Customer is deleted after PII delete request"}],
        "warnings": [],
    }
    assert (by_id.status_code, by_id.json()) == (410, expected)
    assert (by_card.status_code, by_card.json()) == (410, expected)
    assert ours.status_code == 410
    assert ours.json()["message"] == "Customer is deleted after PII delete request"


# ------------------------------------------------------------------------------------------------ auth


def test_capillary_oauth_token_header_carries_the_key(ada):
    # given
    customer, _account = ada
    _client, key = api_client_create(name="capillary-backend", scopes=["loyalty:read"])

    # when
    with time_machine.travel(NOW, tick=False):
        response = APIClient().get(f"{BASE}/v2/customers/{customer.pk}?source=INSTORE", HTTP_X_CAP_API_OAUTH_TOKEN=key)

    # then
    assert response.status_code == 200
    assert response.json()["id"] == customer.pk


@pytest.mark.parametrize(
    "headers",
    [{}, {"HTTP_AUTHORIZATION": basic("wrong-key")}, {"HTTP_X_CAP_API_OAUTH_TOKEN": "wrong-key"}],
    ids=["none", "wrong basic", "wrong token"],
)
def test_missing_or_wrong_credentials_are_401_with_a_basic_challenge(ada, headers):
    # given
    customer, _account = ada

    # when
    response = APIClient().get(f"{BASE}/v2/customers/{customer.pk}?source=INSTORE", **headers)

    # then
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="capillary"'
    assert response.json()["errors"][0]["code"] == 401
    assert response.json()["warnings"] == []


def test_a_key_without_loyalty_read_is_403(ada):
    # given
    customer, _account = ada
    _client, key = api_client_create(name="pos-only", scopes=["clienteling"])

    # when
    response = APIClient().get(f"{BASE}/v2/customers/{customer.pk}?source=INSTORE", HTTP_AUTHORIZATION=basic(key))

    # then
    assert response.status_code == 403
    assert response.json() == {
        "errors": [{"status": False, "code": 403, "message": "This API key lacks the 'loyalty:read' scope."}],
        "warnings": [],
    }


def test_unknown_path_under_the_prefix_is_404_in_capillarys_envelope(till):
    # when
    response = till.get(f"{BASE}/v2/customers/1/nothing?source=INSTORE")

    # then
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == 404


# ------------------------------------------------------------------------------------------ one core


def test_a_checkout_through_api_v1_shows_in_the_capillary_read_of_the_same_customer(till, ada, make_api_client):
    # given: Ada's checkout sent through our own events API
    customer, account = ada
    writer, _key = make_api_client("loyalty:write", "loyalty:read")
    with time_machine.travel(NOW, tick=False):
        event = writer.post(
            "/api/v1/events",
            {"customer": customer.public_id, "action": "checkout", "data": {"transaction_id": "T9", "total": "40"}},
            format="json",
        )

        # when
        capillary = till.get(f"{BASE}/v2/customers/{customer.pk}?source=INSTORE&embed=points")
        ours = writer.get(f"/api/v1/customers/{customer.public_id}")

    # then: the same customer, the same ledger (40 x Silver's 1.5 = 60 more points)
    assert event.status_code == 200
    summary = capillary.json()["pointsSummary"]
    assert (summary["loyaltyPoints"], summary["lifetimePoints"], summary["redeemed"]) == (1110, 1310, 200)
    assert (ours.json()["spendable"], ours.json()["score"], ours.json()["spent"]) == (1110, 1310, 200)
    assert capillary.json()["profiles"][0]["identifiers"][-1]["value"] == ours.json()["account_number"]
    assert Customer.objects.count() == 1


def test_full_read_stays_within_its_query_budget(till, ada, django_assert_max_num_queries):
    # given
    customer, _account = ada

    # when / then
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(FULL_READ_QUERY_BUDGET):
        response = till.get(
            f"{BASE}/v2/customers/{customer.pk}?source=INSTORE&embed=points,mlp,expirySchedules,segments"
            "&gapToUpgrade=0&gapToRenew=0"
        )
    assert response.status_code == 200
