"""GET /customer-profile runs a fixed number of queries, whatever the number of cards, vouchers, coupons, rules or
store overrides. With the configuration cached and the key's last use recorded (the steady state):

- no query for the API key: the warm-up request read it with its allowed stores and recorded its last use, and
  this process's copy (crm/api_key_cache.py) answers for API_KEY_CACHE_SECONDS;
- 1 query: the card with account, customer, consents, program, policy and tier joined, purchases and the coupon
  stamp annotated;
- 1 query: the customer's vouchers, only when the device unlocks for an enrolled, unblocked member and the program
  offers Scan & Go coupons;
- 1 query: redemption totals, only when an auto-apply coupon the customer may get has a total limit.

So 1 query for a shopper without coupons, 2 with coupons (1 more each when the key's copy is read again). A
configuration reload after an admin edit costs CONFIG_RELOAD_QUERIES once per process.
"""

import pytest

from crm.services.context import ChangeContext
from loyalty.services.cards import card_block, card_issue
from loyalty.services.membership import loyalty_account_opt_out
from loyalty.services.points import points_adjust_by_admin
from tests.clienteling.scan_and_go import world

URL = "/customer-profile"
AUTH_QUERIES = 0
# Coupon definitions, store overrides, denial messages, risk rules (and +1, the coupons' eligible tiers, when the
# program has Scan & Go coupons).
CONFIG_RELOAD_QUERIES = 4


@pytest.fixture
def device(make_api_client):
    http, _key = make_api_client("scan_and_go")
    return http


def _configure(*, overrides: int, rules: int, messages: int) -> None:
    for index in range(overrides):
        world.store_override(f"S{index:03d}", spot_check_bias_delta=1)
    for index in range(rules):
        world.risk_rule("tier_rank_at_least", 1, parameter=str(index + 1))  # none applies to rank 0
    for language in ("de", "fr", "es", "en")[:messages]:
        world.denial_message("card_blocked", language, f"Blocked ({language})")


@pytest.mark.parametrize(("cards", "overrides", "rules", "messages"), [(1, 0, 0, 0), (6, 30, 12, 4)])
def test_a_shopper_without_coupons_costs_one_query_after_the_key(
    device, django_assert_num_queries, cards, overrides, rules, messages
):
    # given
    _customer, account = world.shopper()
    points_adjust_by_admin(account=account, points=500, user=None, note="x")
    for index in range(cards - 1):
        card_issue(account=account, number=f"77{index}")
    _configure(overrides=overrides, rules=rules, messages=messages)
    device.get(URL, {"loyaltyCardNumber": account.account_number})  # warm-up: key's last use, configuration

    # when
    with django_assert_num_queries(AUTH_QUERIES + 1):
        response = device.get(URL, {"loyaltyCardNumber": account.account_number, "storeId": "S001"})

    # then
    assert response.status_code == 200
    assert response.json()["loyalty"]["pointsBalance"] == 500


@pytest.mark.parametrize(("vouchers", "auto_apply"), [(1, 1), (25, 8)])
def test_coupons_cost_one_more_query_however_many(
    device, django_assert_num_queries, vouchers, auto_apply, voucher_factory
):
    # given
    customer, account = world.shopper()
    held = world.coupon("held")
    for _ in range(vouchers):
        voucher_factory(definition=held, customer=customer)
    for index in range(auto_apply):
        world.coupon(f"auto-{index}", auto_apply=True, eligible_tiers=[world.entry_tier()], limit_per_customer=3)
    device.get(URL, {"loyaltyCardNumber": account.account_number})

    # when
    with django_assert_num_queries(AUTH_QUERIES + 2):
        response = device.get(URL, {"loyaltyCardNumber": account.account_number})

    # then
    assert len(response.json()["coupons"]) == vouchers + auto_apply


def test_an_auto_apply_coupon_with_a_total_limit_costs_one_more_query(device, django_assert_num_queries):
    # given
    _customer, account = world.shopper()
    for index in range(3):
        world.coupon(f"first-thousand-{index}", auto_apply=True, limit_total=1000)
    device.get(URL, {"loyaltyCardNumber": account.account_number})

    # when
    with django_assert_num_queries(AUTH_QUERIES + 3):
        response = device.get(URL, {"loyaltyCardNumber": account.account_number})

    # then
    assert len(response.json()["coupons"]) == 3


def test_a_denied_shopper_costs_no_coupon_query(device, django_assert_num_queries):
    # given
    _customer, account = world.shopper()
    world.coupon("welcome", auto_apply=True)
    card = card_issue(account=account, number="31337")
    card_block(card=card)
    device.get(URL, {"loyaltyCardNumber": "31337"})

    # when
    with django_assert_num_queries(AUTH_QUERIES + 1):
        response = device.get(URL, {"loyaltyCardNumber": "31337"})

    # then
    assert response.json()["unlockingDevices"]["isAllowed"] is False


@pytest.mark.parametrize("stores", [1, 40])
def test_a_key_restricted_to_stores_costs_no_more(make_api_client, django_assert_num_queries, stores):
    # given
    http, key = make_api_client("scan_and_go")
    codes = [f"S{index:03d}" for index in range(stores)]
    world.key_restricted_to(key, *codes)
    _customer, account = world.shopper()
    http.get(URL, {"loyaltyCardNumber": account.account_number, "storeId": codes[-1]})

    # when
    with django_assert_num_queries(AUTH_QUERIES + 1):
        allowed = http.get(URL, {"loyaltyCardNumber": account.account_number, "storeId": codes[-1]})
    with django_assert_num_queries(AUTH_QUERIES):
        refused = http.get(URL, {"loyaltyCardNumber": account.account_number, "storeId": "ELSEWHERE"})

    # then
    assert (allowed.status_code, refused.status_code) == (200, 403)


def test_a_guest_costs_no_coupon_query(device, django_assert_num_queries, voucher_factory):
    # given
    customer, account = world.shopper()
    voucher_factory(definition=world.coupon("held"), customer=customer)
    world.coupon("welcome", auto_apply=True)
    loyalty_account_opt_out(account=account, context=ChangeContext())
    device.get(URL, {"loyaltyCardNumber": account.account_number})

    # when
    with django_assert_num_queries(AUTH_QUERIES + 1):
        response = device.get(URL, {"loyaltyCardNumber": account.account_number})

    # then
    assert response.json()["unlockingDevices"] == {"isAllowed": True}
    assert "coupons" not in response.json()


def test_unknown_cards_and_customer_ids_cost_one_query_after_the_key(device, django_assert_num_queries):
    # given
    world.shopper()
    device.get(URL, {"loyaltyCardNumber": "1"})

    # when
    with django_assert_num_queries(2 * (AUTH_QUERIES + 1)):
        by_card = device.get(URL, {"loyaltyCardNumber": "404404"})
        by_id = device.get(URL, {"customerId": "CNOSUCHONE"})

    # then
    assert (by_card.status_code, by_id.status_code) == (404, 404)


def test_by_customer_id_costs_the_same_as_by_card(device, django_assert_num_queries):
    # given
    customer, _account = world.shopper()
    device.get(URL, {"customerId": customer.public_id})

    # when
    with django_assert_num_queries(AUTH_QUERIES + 1):
        response = device.get(URL, {"customerId": customer.public_id})

    # then
    assert response.json()["customerId"] == customer.public_id


def test_a_configuration_change_is_reloaded_once(device, django_assert_num_queries):
    # given
    _customer, account = world.shopper()
    _configure(overrides=2, rules=2, messages=2)
    device.get(URL, {"loyaltyCardNumber": account.account_number})
    world.risk_rule("no_purchases", 10)

    # when
    with django_assert_num_queries(AUTH_QUERIES + 1 + CONFIG_RELOAD_QUERIES):
        device.get(URL, {"loyaltyCardNumber": account.account_number})
    with django_assert_num_queries(AUTH_QUERIES + 1):
        response = device.get(URL, {"loyaltyCardNumber": account.account_number})

    # then
    assert response.json()["spotCheckBias"] == 10
