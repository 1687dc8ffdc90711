"""Shoppers, cards and Scan & Go configuration for the /customer-profile tests, made through the services."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from crm.models import ApiClient, Customer
from crm.services.api_clients import api_key_hash
from crm.services.context import ChangeContext
from crm.services.customers import customer_create
from crm.services.stores import store_get_or_create
from loyalty.models import (
    LoyaltyAccount,
    Program,
    ScanAndGoDenialMessage,
    ScanAndGoPolicy,
    ScanAndGoStoreOverride,
    SpotCheckRiskRule,
    Tier,
)
from loyalty.services.points import points_adjust_by_admin
from loyalty.services.scan_and_go import scan_and_go_config_changed, scan_and_go_policy_get_or_create
from tests.loyalty.factories import CouponDefinitionFactory, LoyaltyAccountFactory

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def shopper(
    *,
    first_name: str = "Alex",
    last_name: str = "Muster",
    email: str = "alex@example.com",
    language: str = "de-DE",
    terms: bool | None = True,
    group: str = "",
    points: int = 0,
) -> tuple[Customer, LoyaltyAccount]:
    fields = {"first_name": first_name, "last_name": last_name, "email": email, "preferred_language": language}
    if group:
        fields["customer_group"] = group
    customer = customer_create(fields=fields, consents={"agree_to_tc": terms}, context=ChangeContext())
    account = LoyaltyAccountFactory(customer=customer)
    if points:
        account = points_adjust_by_admin(account=account, points=points, user=None, note="welcome")
    return customer, account


def default_program() -> Program:
    return Program.objects.get(is_default=True)


def policy(**fields: Any) -> ScanAndGoPolicy:
    """The default program's policy with `fields` set; bumps its version as the admin would."""
    current = scan_and_go_policy_get_or_create(program=default_program())
    if fields:
        ScanAndGoPolicy.objects.filter(pk=current.pk).update(**fields)
    scan_and_go_config_changed(policy=current)
    return current


def store_override(store_code: str, **fields: Any) -> ScanAndGoStoreOverride:
    current = policy()
    override = ScanAndGoStoreOverride.objects.create(
        policy=current, store=store_get_or_create(code=store_code), **fields
    )
    scan_and_go_config_changed(policy=current)
    return override


def denial_message(reason: str, language: str, message: str) -> None:
    current = policy()
    ScanAndGoDenialMessage.objects.create(policy=current, reason=reason, language=language, message=message)
    scan_and_go_config_changed(policy=current)


def risk_rule(condition: str, delta: int, parameter: str = "", **fields: Any) -> None:
    current = policy()
    SpotCheckRiskRule.objects.create(
        policy=current, name=condition, condition=condition, parameter=parameter, delta=delta, **fields
    )
    scan_and_go_config_changed(policy=current)


def entry_tier() -> Tier:
    return default_program().tiers.get(rank=0)


def gold_tier() -> Tier:
    return Tier.objects.create(program=default_program(), rank=2, code="gold", name="Gold", threshold=Decimal(1000))


def coupon(code: str, **fields: Any):
    """A coupon of the default program, 10 percent off unless told otherwise."""
    return CouponDefinitionFactory(code=code, **{"kind": "percent", "value": Decimal("10"), **fields})


def key_restricted_to(key: str, *store_codes: str) -> None:
    """Restrict the API key to these stores (admin: API clients > allowed stores)."""
    client = ApiClient.objects.get(key_hash=api_key_hash(key))
    client.allowed_stores.add(*(store_get_or_create(code=code) for code in store_codes))
