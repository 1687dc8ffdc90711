"""LoyaltyLion headless 2025-06 at /compat/loyaltylion/: the published requests sent unchanged (host and key
replaced) get LoyaltyLion's shapes, numeric ids, cart kinds and error bodies, from the same session core and ledger as
/api/v1/."""

from pathlib import Path

import pytest
import time_machine
from rest_framework.test import APIClient

from crm.models import Customer
from crm.services.api_clients import api_client_create
from loyalty.models import LoyaltyAccount, Tier, Voucher
from tests.compat.capillary.conftest import NOW, basic
from tests.compat.golden_payloads import assert_matches_golden, load, numbers_named
from tests.compat.loyaltylion.conftest import BASE

PAYLOADS = Path(__file__).parent / "payloads"
READ_QUERY_BUDGET = 20

SHOPIFY_CART = {
    "kind": "shopify",
    "id": "gid://shopify/Cart/c1-7a2b",
    "cost": {"total_amount": {"amount": "99.95", "currency_code": "USD"}},
    "lines": [
        {
            "id": "gid://shopify/CartLine/1",
            "quantity": 2,
            "cost": {
                "total_amount": {"amount": "79.96", "currency_code": "USD"},
                "amount_per_quantity": {"amount": "39.98", "currency_code": "USD"},
            },
            "merchandise": {"id": "gid://shopify/ProductVariant/1001"},
            "attributes": [{"key": "gift_wrap", "value": None}],
        },
        {
            "id": "gid://shopify/CartLine/2",
            "quantity": 1,
            "cost": {
                "total_amount": {"amount": "19.99", "currency_code": "USD"},
                "amount_per_quantity": {"amount": "19.99", "currency_code": "USD"},
            },
            "merchandise": {"id": "gid://shopify/ProductVariant/2002"},
            "attributes": [],
        },
    ],
}


def _counts():
    return (Customer.objects.count(), LoyaltyAccount.objects.count())


def _named(body, customer, program):
    """The body with the numbers that depend on the database (customer and tier primary keys) as placeholders."""
    tiers = list(Tier.objects.filter(program=program))
    names = {(key, tier.pk): f"<tier {tier.code}>" for tier in tiers for key in TIER_KEYS}
    body["customer"] = numbers_named(body["customer"], {("id", customer.pk): "<customer>", **names})
    body["configuration"] = numbers_named(body["configuration"], names)
    for tier in (body["configuration"]["tier_configuration"] or {}).get("tiers", []):
        tier["id"] = next(f"<tier {known.code}>" for known in tiers if known.pk == tier["id"])
    return body


TIER_KEYS = ("tier_id", "upgrade_tier_id", "forecasted_tier_id")


def test_published_initialize_session_body_gets_the_golden_response(storefront, program):
    # given
    golden = load(PAYLOADS, "initialize_session_published_example")

    # when
    with time_machine.travel(NOW, tick=False):
        response = storefront.post(BASE + golden["path"], golden["request"], format="json")

    # then: a new customer, enrolled; `id` is their number
    customer = Customer.objects.get(alternate_customer_id="1001")
    assert response.json()["customer"]["id"] == customer.pk
    body = _named(response.json(), customer, program)
    assert_matches_golden(PAYLOADS, "initialize_session_published_example", response.status_code, body)


def test_get_customer_is_read_only_and_forecasts_the_tier(storefront, ada, program):
    # given
    customer, account = ada
    golden = load(PAYLOADS, "get_customer_silver")
    counts = _counts()

    # when
    with time_machine.travel(NOW, tick=False):
        response = storefront.get(BASE + golden["path"], HTTP_X_LOYALTYLION_CHANNEL="web")

    # then
    body = response.json()
    entry = Tier.objects.get(program=program, rank=0)
    assert body["customer"]["tier_membership"]["progress"]["forecasted_tier_id"] == entry.pk
    assert body["customer"]["tier_membership"]["tier_id"] == account.tier_id
    body = _named(body, customer, program)
    assert_matches_golden(PAYLOADS, "get_customer_silver", response.status_code, body)
    assert _counts() == counts


def test_forecast_is_the_tier_itself_when_what_counts_at_expiry_keeps_it(storefront, ada, program):
    # given: enough points that will still count at Silver's expiry (2027-02-01)
    customer, account = ada
    from tests.compat.capillary.conftest import checkout

    checkout(account, "T4", "700.00", "2026-05-01T10:00:00+00:00")

    # when
    with time_machine.travel(NOW, tick=False):
        response = storefront.get(f"{BASE}/customers/shop-1001?channel=web")

    # then
    progress = response.json()["customer"]["tier_membership"]["progress"]
    assert progress["forecasted_tier_id"] == account.tier_id
    assert progress["points_needed_for_renewal"] == 0


def test_a_shopify_cart_is_read_not_refused(storefront, ada):
    # given: the failure, `cart.kind: "shopify" is not a valid choice.`
    customer, _account = ada

    # when
    with time_machine.travel(NOW, tick=False):
        response = storefront.post(
            f"{BASE}/customers/shop-1001/sessions?channel=web",
            {"customer": {"email": "ada@example.com"}, "cart": SHOPIFY_CART},
            format="json",
        )

    # then
    assert response.status_code == 200
    assert response.json()["customer"]["id"] == customer.pk
    assert response.json()["requested_cart_actions"] == []


def test_a_shopify_line_holding_an_expired_redemption_is_asked_to_leave(
    storefront, ada, coupon_definition_factory, voucher_factory
):
    # given: Ada's voucher expired yesterday, held by a cart line (LoyaltyLion's __lion_sfp_id attribute)
    customer, account = ada
    definition = coupon_definition_factory(program=account.program)
    voucher = voucher_factory(definition=definition, customer=customer, expires_at="2026-05-31T00:00:00+00:00")
    cart = {
        **SHOPIFY_CART,
        "lines": [SHOPIFY_CART["lines"][0] | {"attributes": [{"key": "__lion_sfp_id", "value": voucher.code}]}],
    }

    # when
    with time_machine.travel(NOW, tick=False):
        response = storefront.post(
            f"{BASE}/customers/shop-1001/sessions?channel=web",
            {"customer": {"email": "ada@example.com"}, "cart": cart},
            format="json",
        )

    # then
    assert response.status_code == 200
    assert response.json()["requested_cart_actions"] == [
        {
            "kind": "remove_cart_line",
            "reason": "redemption_expired",
            "cart_line_to_remove": {
                "kind": "shopify",
                "id": "gid://shopify/CartLine/1",
                "merchandise_id": "gid://shopify/ProductVariant/1001",
                "attributes": [{"key": "__lion_sfp_id", "value": voucher.code}],
            },
            "cart_redemption": {"id": voucher.code},
        }
    ]
    assert Voucher.objects.get(pk=voucher.pk).status == voucher.status


def test_a_shopify_gid_merchant_id_url_encoded_in_the_path(storefront):
    # when
    response = storefront.post(
        f"{BASE}/customers/gid%3A%2F%2Fshopify%2FCustomer%2F1001/sessions?channel=mobile",
        {"customer": {"email": "bob@example.com"}},
        format="json",
    )
    again = storefront.get(f"{BASE}/customers/gid%3A%2F%2Fshopify%2FCustomer%2F1001?channel=mobile")

    # then
    assert response.status_code == 200
    assert response.json()["customer"]["merchant_id"] == "gid://shopify/Customer/1001"
    assert again.json()["customer"] == response.json()["customer"]


def test_email_of_another_customer_is_422_in_loyaltylions_shape_and_writes_nothing(storefront, ada):
    # given: ada@example.com belongs to merchant_id shop-1001
    counts = _counts()

    # when
    response = storefront.post(
        f"{BASE}/customers/other-7/sessions?channel=web", {"customer": {"email": "ada@example.com"}}, format="json"
    )

    # then
    assert response.status_code == 422
    assert response.json() == {
        "error": {"code": "email_already_in_use", "message": "This email address is already used by another customer."}
    }
    assert _counts() == counts


def test_unknown_customer_is_404_not_found_and_nothing_is_created(storefront, program):
    # given
    counts = _counts()

    # when
    response = storefront.get(f"{BASE}/customers/nobody?channel=web")

    # then
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "No customer has this merchant_id."}}
    assert _counts() == counts


@pytest.mark.parametrize(
    ("path", "body", "message", "details"),
    [
        (
            "/customers/1001/sessions",
            {"customer": {"email": "a@example.com"}},
            "channel: This field is required: send ?channel= or the X-LoyaltyLion-Channel header.",
            {"channel": "This field is required: send ?channel= or the X-LoyaltyLion-Channel header."},
        ),
        (
            "/customers/1001/sessions?channel=store",
            {"customer": {"email": "a@example.com"}},
            'channel: "store" is not a valid choice.',
            {"channel": '"store" is not a valid choice.'},
        ),
        (
            "/customers/1001/sessions?channel=web",
            {"customer": {"email": "a@example.com"}, "cart": {"kind": "bigcommerce"}},
            'cart.kind: "bigcommerce" is not a valid choice.',
            {"cart.kind": '"bigcommerce" is not a valid choice.'},
        ),
        (
            "/customers/1001/sessions?channel=web",
            {"customer": {"email": "a@example.com"}, "cart": {**SHOPIFY_CART, "lines": [{"id": "L1", "quantity": 0}]}},
            "cart.lines.0.quantity: Ensure this value is greater than or equal to 1.",
            {
                "cart.lines.0.quantity": "Ensure this value is greater than or equal to 1.",
                "cart.lines.0.cost": "This field is required.",
                "cart.lines.0.merchandise": "This field is required.",
            },
        ),
    ],
)
def test_bad_input_is_400_with_message_and_details_and_writes_nothing(
    storefront, program, path, body, message, details
):
    # given
    counts = _counts()

    # when
    response = storefront.post(BASE + path, body, format="json")

    # then
    assert response.status_code == 400
    assert response.json() == {"error": {"message": message, "details": details}}
    assert _counts() == counts


@pytest.mark.parametrize(
    "headers",
    [{}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_X_API_KEY": "any"}],
    ids=["none", "wrong", "not bearer"],
)
def test_missing_or_wrong_bearer_key_is_401(program, headers):
    # when
    response = APIClient().get(f"{BASE}/configuration?channel=web", **headers)

    # then
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="loyaltylion"'
    assert set(response.json()["error"]) == {"message"}


def test_a_read_only_key_may_not_start_sessions(program):
    # given
    _client, key = api_client_create(name="reader", scopes=["loyalty:read"])
    counts = _counts()

    # when
    response = APIClient().post(
        f"{BASE}/customers/1001/sessions?channel=web",
        {"customer": {"email": "a@example.com"}},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {key}",
    )

    # then
    assert response.status_code == 403
    assert response.json() == {"error": {"message": "This API key lacks the 'loyalty:write' scope."}}
    assert _counts() == counts


def test_configuration_has_numeric_tier_ids_and_the_purchase_rule(storefront, tiers, program):
    # given
    silver, gold = tiers

    # when
    response = storefront.get(f"{BASE}/configuration", HTTP_X_LOYALTYLION_CHANNEL="pos")

    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["channel"], body["currency"], body["program"]) == ("pos", "usd", {"name": program.name})
    tiers_shown = body["tier_configuration"]["tiers"]
    assert [(tier["id"], tier["position"], tier["lower_bound"], tier["upper_bound"]) for tier in tiers_shown[1:]] == [
        (silver.pk, 2, 1000, 5000),
        (gold.pk, 3, 5000, None),
    ]
    assert body["rules"][0]["id"] == 1
    assert [variant["tier_id"] for variant in body["rules"][0]["variants"]][1:] == [silver.pk, gold.pk]


# ------------------------------------------------------------------------------------------ one core


def test_a_session_here_and_one_through_api_v1_act_on_the_same_customer_and_ledger(storefront, program):
    # given: a shopper's first session through the LoyaltyLion adapter
    writer_key = api_client_create(name="core", scopes=["loyalty:read", "loyalty:write"])[1]
    core = APIClient()
    core.credentials(HTTP_AUTHORIZATION=f"Bearer {writer_key}")
    with time_machine.travel(NOW, tick=False):
        first = storefront.post(
            f"{BASE}/customers/shop-77/sessions?channel=web", {"customer": {"email": "eve@example.com"}}, format="json"
        )
        customer = Customer.objects.get(alternate_customer_id="shop-77")

        # when: our own session API for the same merchant_id, a checkout through our events API, and a read here
        ours = core.post(
            "/api/v1/sessions?channel=web", {"merchant_id": "shop-77", "customer": {"email": None}}, format="json"
        )
        event = core.post(
            "/api/v1/events",
            {"customer": customer.public_id, "action": "checkout", "data": {"transaction_id": "W1", "total": "25"}},
            format="json",
        )
        read = storefront.get(f"{BASE}/customers/shop-77?channel=web")

    # then: one customer, one ledger
    assert first.status_code == ours.status_code == event.status_code == read.status_code == 200
    assert first.json()["customer"]["id"] == read.json()["customer"]["id"] == customer.pk
    assert ours.json()["customer"]["id"] == customer.public_id
    assert Customer.objects.filter(alternate_customer_id="shop-77").count() == 1
    spendable = core.get(f"/api/v1/customers/{customer.public_id}").json()["spendable"]
    assert read.json()["customer"]["points_approved"] == ours.json()["customer"]["points_approved"] + 25 == spendable


def test_get_customer_stays_within_its_query_budget(storefront, ada, django_assert_max_num_queries):
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(READ_QUERY_BUDGET):
        response = storefront.get(f"{BASE}/customers/shop-1001?channel=web")
    assert response.status_code == 200


def test_an_endpoint_not_offered_is_404_in_loyaltylions_shape(storefront):
    # when: the headless enrol call, which this adapter does not offer
    response = storefront.post(f"{BASE}/customers/1001/enroll/now?channel=web", {}, format="json")
    unknown = storefront.get("/compat/loyaltylion/headless/2025-06/4812/rewards")

    # then
    assert response.status_code == 405
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"


def test_capillary_and_loyaltylion_and_api_v1_see_one_customer_and_one_ledger(storefront, program):
    # given: a Capillary-configured till (Basic auth) and our own API
    till_key = api_client_create(name="till", scopes=["loyalty:read"])[1]
    till = APIClient()
    till.credentials(HTTP_AUTHORIZATION=basic(till_key))
    core_key = api_client_create(name="core-api", scopes=["loyalty:read", "loyalty:write"])[1]
    core = APIClient()
    core.credentials(HTTP_AUTHORIZATION=f"Bearer {core_key}")

    with time_machine.travel(NOW, tick=False):
        # when: the web shop's session through LoyaltyLion creates and enrols the shopper, the till's checkout goes
        # through /api/v1/events, and the till reads the shopper through Capillary by the shop's id
        session = storefront.post(
            f"{BASE}/customers/web-9/sessions?channel=web", {"customer": {"email": "zoe@example.com"}}, format="json"
        )
        customer = Customer.objects.get(alternate_customer_id="web-9")
        checkout = core.post(
            "/api/v1/events",
            {"customer": customer.public_id, "action": "checkout", "data": {"transaction_id": "P1", "total": "30"}},
            format="json",
        )
        capillary = till.get(
            "/compat/capillary/v2/customers/lookup/customerDetails?source=INSTORE&identifierName=externalId"
            "&identifierValue=web-9&embed=points"
        )
        loyaltylion = storefront.get(f"{BASE}/customers/web-9?channel=web")
        ours = core.get(f"/api/v1/customers/{customer.public_id}")

    # then
    assert (session.status_code, checkout.status_code, capillary.status_code, loyaltylion.status_code) == (
        200,
        200,
        200,
        200,
    )
    assert capillary.json()["id"] == loyaltylion.json()["customer"]["id"] == session.json()["customer"]["id"]
    assert capillary.json()["pointsSummary"]["loyaltyPoints"] == 30
    assert loyaltylion.json()["customer"]["points_approved"] == 30
    assert ours.json()["spendable"] == 30
    assert Customer.objects.filter(email="zoe@example.com").count() == 1
