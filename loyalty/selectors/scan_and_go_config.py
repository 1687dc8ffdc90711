"""The Scan & Go configuration of a program, cached in this process: its policy, store overrides, denial messages,
risk rules and the coupons it offers on scan_and_go (loyalty/selectors/scan_and_go.py reads it on every scan).

Why this and not a cache cleared by signals: there are many web processes and a signal reaches only the one that
saved. Instead the cached copy carries the stamp it was loaded at, the policy's `config_version` (bumped by every
change, loyalty/services/scan_and_go.py) and the coupon definitions' latest `updated_at` and count, and the
profile's first query reads the current stamp for free, joined and annotated; a different stamp reloads. A copy
older than CONFIG_MAX_AGE is reloaded too, for what no stamp sees: a tier renamed, or its code changed (the
coupons' eligible tiers are held by code, as the coupon rules compare them).
"""

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from loyalty.models import CouponDefinition, ScanAndGoPolicy
from loyalty.rules import spot_check, unlock
from loyalty.rules.coupons import CouponTerms
from loyalty.selectors.coupons import coupon_channel_condition, coupon_terms

CHANNEL = CouponDefinition.Channel.SCAN_AND_GO
CONFIG_MAX_AGE = 300.0  # seconds


@dataclass(frozen=True)
class StoreOverride:
    unlocking_allowed: bool
    self_unlocking_allowed: bool
    require_terms_consent: bool | None
    spot_check_bias_delta: int


@dataclass(frozen=True)
class ScanAndGoCoupon:
    """A coupon definition offered on Scan & Go, as the profile needs it."""

    definition_id: int
    code: str
    title: str
    kind: str
    value: Decimal
    product_id: str
    valid_until: datetime | None
    auto_apply: bool
    terms: CouponTerms


@dataclass(frozen=True)
class ScanAndGoConfig:
    stamp: tuple[Any, ...]
    policy: unlock.UnlockPolicy
    include_coupons: bool
    overrides: dict[str, StoreOverride] = field(default_factory=dict)
    messages: dict[tuple[str, str], str] = field(default_factory=dict)
    risk_rules: tuple[spot_check.RiskRule, ...] = ()
    # Active coupons of the program offered on scan_and_go, by definition id; auto-apply ones first by code.
    coupons: dict[int, ScanAndGoCoupon] = field(default_factory=dict)

    def for_store(self, store_code: str) -> tuple[unlock.UnlockPolicy, int]:
        """The policy with the store's override applied, and the store's bias delta."""
        override = self.overrides.get(store_code)
        if override is None:
            return self.policy, 0
        require_terms = self.policy.require_terms_consent
        if override.require_terms_consent is not None:
            require_terms = override.require_terms_consent
        policy = unlock.UnlockPolicy(
            unlocking_allowed=self.policy.unlocking_allowed and override.unlocking_allowed,
            self_unlocking_allowed=self.policy.self_unlocking_allowed and override.self_unlocking_allowed,
            deny_blocked_customer=self.policy.deny_blocked_customer,
            deny_blocked_account=self.policy.deny_blocked_account,
            deny_guest_account=self.policy.deny_guest_account,
            deny_blocked_card=self.policy.deny_blocked_card,
            deny_expired_card=self.policy.deny_expired_card,
            require_terms_consent=require_terms,
            unlocking_station_device_types=self.policy.unlocking_station_device_types,
        )
        return policy, override.spot_check_bias_delta


_cache: dict[int, tuple[float, ScanAndGoConfig]] = {}
_cache_lock = threading.Lock()


def scan_and_go_config_cache_clear() -> None:
    with _cache_lock:
        _cache.clear()


def _coupon(definition: CouponDefinition) -> ScanAndGoCoupon:
    return ScanAndGoCoupon(
        definition_id=definition.pk,
        code=definition.code,
        title=definition.name,
        kind=definition.kind,
        value=Decimal(definition.value),
        product_id=definition.product_id,
        valid_until=definition.valid_until,
        auto_apply=definition.auto_apply,
        terms=coupon_terms(definition),
    )


def _config_load(*, program_id: int, policy: ScanAndGoPolicy | None, stamp: tuple[Any, ...]) -> ScanAndGoConfig:
    definitions = (
        CouponDefinition.objects.filter(coupon_channel_condition(CHANNEL), program_id=program_id, is_active=True)
        .prefetch_related("eligible_tiers")
        .order_by("-auto_apply", "code")
    )
    coupons = {definition.pk: _coupon(definition) for definition in definitions}
    if policy is None:
        return ScanAndGoConfig(stamp=stamp, policy=unlock.UnlockPolicy(), include_coupons=True, coupons=coupons)
    overrides = {
        override.store.code: StoreOverride(
            unlocking_allowed=override.unlocking_allowed,
            self_unlocking_allowed=override.self_unlocking_allowed,
            require_terms_consent=override.require_terms_consent,
            spot_check_bias_delta=override.spot_check_bias_delta,
        )
        for override in policy.store_overrides.select_related("store")
    }
    messages = {(message.reason, message.language): message.message for message in policy.denial_messages.all()}
    rules = tuple(
        spot_check.RiskRule(condition=rule.condition, parameter=rule.parameter, delta=rule.delta)
        for rule in policy.risk_rules.filter(is_active=True).order_by("position", "id")
    )
    return ScanAndGoConfig(
        stamp=stamp,
        policy=unlock.UnlockPolicy(
            unlocking_allowed=policy.unlocking_allowed,
            self_unlocking_allowed=True,
            deny_blocked_customer=policy.deny_blocked_customer,
            deny_blocked_account=policy.deny_blocked_account,
            deny_guest_account=policy.deny_guest_account,
            deny_blocked_card=policy.deny_blocked_card,
            deny_expired_card=policy.deny_expired_card,
            require_terms_consent=policy.require_terms_consent,
            unlocking_station_device_types=unlock.device_types_parse(policy.unlocking_station_device_types),
        ),
        include_coupons=policy.include_coupons,
        overrides=overrides,
        messages=messages,
        risk_rules=rules,
        coupons=coupons,
    )


def scan_and_go_config_get(
    *, program_id: int, policy: ScanAndGoPolicy | None, coupons_changed_at: Any, coupon_count: int
) -> ScanAndGoConfig:
    """The program's configuration, from this process's cache when its stamp is current (see the module
    docstring). `policy` and the coupon stamp come from query 1; a reload costs a few queries, once."""
    stamp = (
        policy.pk if policy else None,
        policy.config_version if policy else None,
        policy.updated_at if policy else None,
        coupons_changed_at,
        coupon_count,
    )
    now = time.monotonic()
    cached = _cache.get(program_id)
    if cached is not None and cached[1].stamp == stamp and now - cached[0] < CONFIG_MAX_AGE:
        return cached[1]
    config = _config_load(program_id=program_id, policy=policy, stamp=stamp)
    with _cache_lock:
        _cache[program_id] = (now, config)
    return config
