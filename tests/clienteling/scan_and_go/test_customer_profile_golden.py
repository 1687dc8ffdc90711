"""Golden answers of GET /customer-profile: tests/clienteling/payloads/scan_and_go/<name>.json holds the request
path (with {card} and {customer} filled in from the scenario) and the exact status and body expected.
UPDATE_GOLDEN=1 rewrites the expected part after a deliberate change; review the diff."""

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine

from crm.models import Customer
from crm.services.context import ChangeContext
from loyalty.models import Card, LoyaltyAccount, Program
from loyalty.services.cards import card_block, card_issue, card_replace
from loyalty.services.coupon_redemptions import voucher_redeem
from loyalty.services.membership import loyalty_account_opt_out
from loyalty.services.privacy import customer_erase_with_loyalty_data
from loyalty.services.scan_and_go import account_spot_check_bias_set
from loyalty.services.vouchers import voucher_cancel, voucher_claim
from tests.clienteling.golden import PAYLOADS, assert_matches_golden, load
from tests.clienteling.scan_and_go import world
from tests.loyalty.factories import VoucherFactory

Scenario = Callable[[], dict[str, str]]


def _placeholders(customer: Customer, account: LoyaltyAccount) -> dict[str, str]:
    return {"card": account.account_number, "customer": customer.public_id}


def found_allowed() -> dict[str, str]:
    return _placeholders(*world.shopper(points=1250))


def found_by_customer_id() -> dict[str, str]:
    return _placeholders(*world.shopper(language="fr_CA", email=""))


def _blocked_customer(language: str) -> Scenario:
    def scenario() -> dict[str, str]:
        customer, account = world.shopper(language=language)
        Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.BLOCKED)
        return _placeholders(customer, account)

    return scenario


def _blocked_account(language: str) -> Scenario:
    def scenario() -> dict[str, str]:
        customer, account = world.shopper(language=language)
        LoyaltyAccount.objects.filter(pk=account.pk).update(state=LoyaltyAccount.State.BLOCKED)
        return _placeholders(customer, account)

    return scenario


def _card(language: str, status: str) -> Scenario:
    def scenario() -> dict[str, str]:
        customer, account = world.shopper(language=language)
        card = card_issue(account=account, number="2000 0000 0042", now=world.NOW - timedelta(days=30))
        if status == "replaced":
            card_replace(card=card, number="2000-0000-0043", now=world.NOW - timedelta(days=1))
        elif status == "expired":
            Card.objects.filter(pk=card.pk).update(expires_at=world.NOW - timedelta(days=1))
        else:
            card_block(card=card, status=status, now=world.NOW - timedelta(days=1))
        return {"card": "200000000042", "customer": customer.public_id}

    return scenario


def _terms_missing(language: str) -> Scenario:
    def scenario() -> dict[str, str]:
        world.policy(require_terms_consent=True)
        return _placeholders(*world.shopper(language=language, terms=None))

    return scenario


def _store(language: str, **override: bool) -> Scenario:
    def scenario() -> dict[str, str]:
        world.store_override("BER01", **override)
        return _placeholders(*world.shopper(language=language))

    return scenario


def _program_inactive(language: str) -> Scenario:
    def scenario() -> dict[str, str]:
        world.coupon("welcome", auto_apply=True)
        placeholders = _placeholders(*world.shopper(language=language, points=300))
        Program.objects.filter(is_default=True).update(is_active=False)
        return placeholders

    return scenario


def denied_with_own_message_es() -> dict[str, str]:
    world.denial_message("card_blocked", "es", "Tarjeta bloqueada: pase por atención al cliente.")
    return _card("es-ES", "blocked")()


def denied_language_falls_back_to_program_default() -> dict[str, str]:
    Program.objects.filter(is_default=True).update(default_language="fr")
    return _blocked_account("it-IT")()


def found_guest_who_opted_out() -> dict[str, str]:
    customer, account = world.shopper(points=1250)
    VoucherFactory(definition=world.coupon("birthday"), customer=customer, now=world.NOW)
    world.coupon("welcome", auto_apply=True)
    account_spot_check_bias_set(account=account, bias=-20)
    loyalty_account_opt_out(account=account, context=ChangeContext())
    return _placeholders(customer, account)


def _guest_where_members_only(language: str) -> Scenario:
    def scenario() -> dict[str, str]:
        world.policy(deny_guest_account=True)
        customer, account = world.shopper(language=language, points=1250)
        loyalty_account_opt_out(account=account, context=ChangeContext())
        return _placeholders(customer, account)

    return scenario


def unknown_card() -> dict[str, str]:
    world.shopper()
    return {"card": "999999999999", "customer": ""}


def erased_customer() -> dict[str, str]:
    customer, account = world.shopper()
    placeholders = _placeholders(customer, account)
    customer_erase_with_loyalty_data(customer=customer, context=ChangeContext())
    return placeholders


def coupons_auto_applied() -> dict[str, str]:
    customer, account = world.shopper()
    birthday = world.coupon("birthday", value="15", valid_until=world.NOW + timedelta(days=40))
    voucher = VoucherFactory(
        definition=birthday, customer=customer, expires_at=world.NOW + timedelta(days=7), now=world.NOW
    )
    voucher_claim(code=voucher.code, customer=customer, now=world.NOW)
    world.coupon("welcome-5", kind="amount", value="5.50", auto_apply=True, channels=["scan_and_go"])
    world.coupon(
        "free-coffee",
        kind="free_item",
        value="0",
        product_id="SKU-COFFEE",
        auto_apply=True,
        eligible_tiers=[world.entry_tier()],
        valid_until=world.NOW + timedelta(days=3),
    )
    return _placeholders(customer, account)


def coupons_not_applied() -> dict[str, str]:
    customer, account = world.shopper()
    world.coupon("gold-only", auto_apply=True, eligible_tiers=[world.gold_tier()])
    world.coupon("till-only", auto_apply=True, channels=["pos"])
    world.coupon("not-auto", auto_apply=False)
    world.coupon("ended", auto_apply=True, valid_until=world.NOW - timedelta(seconds=1))
    once = world.coupon("once", auto_apply=True, limit_per_customer=1)
    used = VoucherFactory(definition=once, customer=customer, now=world.NOW - timedelta(days=2))
    voucher_redeem(code=used.code, transaction_id="T-1", customer=customer, channel="scan_and_go", lines=[])
    cancelled = VoucherFactory(definition=world.coupon("cancelled"), customer=customer, now=world.NOW)
    voucher_cancel(code=cancelled.code, now=world.NOW)
    VoucherFactory(
        definition=world.coupon("short"), customer=customer, expires_at=world.NOW, now=world.NOW - timedelta(days=1)
    )
    return _placeholders(customer, account)


def bias_clamped_high() -> dict[str, str]:
    tier = world.entry_tier()
    tier.spot_check_bias = 80
    tier.save()
    world.risk_rule("no_purchases", 50)
    world.risk_rule("account_younger_than_days", 30, parameter="30")
    return _placeholders(*world.shopper())


def bias_clamped_low() -> dict[str, str]:
    customer, account = world.shopper(group="staff")
    account_spot_check_bias_set(account=account, bias=-90)
    world.risk_rule("customer_group_equals", -40, parameter="Staff")
    world.store_override("BER01", spot_check_bias_delta=-30)
    return _placeholders(customer, account)


def allowed_at_station_where_self_unlocking_is_off() -> dict[str, str]:
    return _store("de-DE", self_unlocking_allowed=False)()


SCENARIOS: dict[str, Scenario] = {
    "found_allowed": found_allowed,
    "found_by_customer_id": found_by_customer_id,
    "found_guest_who_opted_out": found_guest_who_opted_out,
    "denied_customer_blocked_de": _blocked_customer("de-DE"),
    "denied_customer_blocked_fr": _blocked_customer("fr-FR"),
    "denied_account_blocked_de": _blocked_account("de"),
    "denied_account_blocked_fr": _blocked_account("fr"),
    "denied_not_a_member_de": _guest_where_members_only("de"),
    "denied_not_a_member_fr": _guest_where_members_only("fr"),
    "denied_card_blocked_de": _card("de-DE", "blocked"),
    "denied_card_blocked_fr": _card("fr-FR", "blocked"),
    "denied_card_lost_de": _card("de-DE", "lost"),
    "denied_card_replaced_de": _card("de-DE", "replaced"),
    "denied_card_replaced_fr": _card("fr-FR", "replaced"),
    "denied_card_expired_de": _card("de-DE", "expired"),
    "denied_card_expired_fr": _card("fr-FR", "expired"),
    "denied_terms_not_accepted_de": _terms_missing("de-DE"),
    "denied_terms_not_accepted_fr": _terms_missing("fr-FR"),
    "denied_unlocking_disabled_in_store_de": _store("de-DE", unlocking_allowed=False),
    "denied_unlocking_disabled_in_store_fr": _store("fr-FR", unlocking_allowed=False),
    "denied_self_unlocking_not_allowed_de": _store("de-DE", self_unlocking_allowed=False),
    "denied_self_unlocking_not_allowed_fr": _store("fr-FR", self_unlocking_allowed=False),
    "denied_program_inactive_de": _program_inactive("de-DE"),
    "denied_program_inactive_fr": _program_inactive("fr-FR"),
    "denied_with_own_message_es": denied_with_own_message_es,
    "denied_language_falls_back_to_program_default": denied_language_falls_back_to_program_default,
    "allowed_at_station_where_self_unlocking_is_off": allowed_at_station_where_self_unlocking_is_off,
    "unknown_card": unknown_card,
    "erased_customer": erased_customer,
    "coupons_auto_applied": coupons_auto_applied,
    "coupons_not_applied": coupons_not_applied,
    "bias_clamped_high": bias_clamped_high,
    "bias_clamped_low": bias_clamped_low,
}


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.usefixtures("deterministic_ids")
def test_customer_profile_matches_golden_file(name, make_api_client):
    # given
    http, _key = make_api_client("scan_and_go")
    golden = load(f"scan_and_go/{name}")
    with time_machine.travel(world.NOW, tick=False):
        placeholders = SCENARIOS[name]()

        # when
        response = http.get(golden["path"].format(**placeholders))

    # then
    body = response.json() if response.content else None
    assert_matches_golden(f"scan_and_go/{name}", response.status_code, body)


def test_every_golden_file_has_a_scenario():
    # when
    files = {path.stem for path in (PAYLOADS / "scan_and_go").glob("*.json")}

    # then
    assert files == set(SCENARIOS)
