"""LoyaltyLion headless (2025-06) shapes (reference/antavo_loyaltylion.md B3-B8, seeds/004_*): the session body with
its cart kinds (CartEmpty, CartShopify), the customer (CustomerGuest / CustomerBlocked / CustomerEnrolled) with
LoyaltyLion's numeric ids, tier progress with `forecasted_tier_id`, and the SiteConfiguration. Serializers check
shape and map names; the session core (loyalty/api/sessions.py shopper_session_answer) decides."""

from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from compat.ids import customer_number
from crm.validators import validate_plain_text
from loyalty.api.customer_serializers import purchase_rule
from loyalty.api.session_serializers import (
    MAX_CART_LINES,
    MAX_VOUCHER_LINES,
    MERCHANT_ID_MAX_LENGTH,
    SessionShopperInputSerializer,
)
from loyalty.models import CouponDefinition, Tier, Voucher
from loyalty.selectors.sessions import (
    CUSTOMER_BLOCKED,
    REDEMPTION_CART_REQUIREMENTS_NOT_MET,
    REDEMPTION_EXPIRED,
    REDEMPTION_INVALID,
    AvailableReward,
    CartAction,
    LoyaltyConfiguration,
    Reward,
    SessionCustomer,
    TierMembership,
)

# The cart line attribute in which LoyaltyLion's storefront code keeps the id of the cart redemption a line holds.
# Here a cart redemption is a voucher, and its id the voucher code.
REDEMPTION_ATTRIBUTE = "__lion_sfp_id"
MAX_LINE_ATTRIBUTES = 50
# LoyaltyLion has two reasons; ours that it has no word for map to the nearest (the line goes either way).
CART_ACTION_REASONS = {
    REDEMPTION_EXPIRED: "redemption_expired",
    REDEMPTION_CART_REQUIREMENTS_NOT_MET: "redemption_cart_requirements_not_met",
    REDEMPTION_INVALID: "redemption_expired",
    CUSTOMER_BLOCKED: "redemption_expired",
}
REWARD_KINDS: dict[str, str] = {
    CouponDefinition.Kind.PERCENT.value: "cart_discount_voucher",
    CouponDefinition.Kind.AMOUNT.value: "cart_discount_voucher",
    CouponDefinition.Kind.FREE_ITEM.value: "product_discount_voucher",
}
# The program's one earning rule (loyalty.api.customer_serializers.purchase_rule) as a numbered rule.
PURCHASE_RULE_ID = 1
DAYS_PER_MONTH = Decimal("30.4375")


def _merchant_id_field() -> serializers.CharField:
    return serializers.CharField(max_length=MERCHANT_ID_MAX_LENGTH, validators=[validate_plain_text])


class LoyaltyLionMerchantIdInputSerializer(serializers.Serializer):
    """The path's merchant_id, checked as our own sessions API checks it."""

    merchant_id = _merchant_id_field()


# ------------------------------------------------------------------------------------------------- input


def _amount() -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=18, decimal_places=4, min_value=Decimal("0"))


class ShopifyMoneyInputSerializer(serializers.Serializer):
    amount = _amount()
    currency_code = serializers.CharField(max_length=3, required=False)


class ShopifyLineCostInputSerializer(serializers.Serializer):
    total_amount = ShopifyMoneyInputSerializer(required=False)
    amount_per_quantity = ShopifyMoneyInputSerializer()


class ShopifyMerchandiseInputSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=100, validators=[validate_plain_text], help_text="gid://shopify/...")


class ShopifyAttributeInputSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=255)
    value = serializers.CharField(max_length=255, allow_null=True, allow_blank=True, required=False, default=None)


class ShopifyCartLineInputSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=100, validators=[validate_plain_text])
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)
    cost = ShopifyLineCostInputSerializer()
    merchandise = ShopifyMerchandiseInputSerializer()
    attributes: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=ShopifyAttributeInputSerializer(), required=False, max_length=MAX_LINE_ATTRIBUTES
    )


class LoyaltyLionCartInputSerializer(serializers.Serializer):
    """CartEmpty `{"kind": "empty"}` or CartShopify. A Shopify cart is read for what it carries: each line's
    variant, quantity and unit price, and the cart redemption it holds (attribute __lion_sfp_id)."""

    kind = serializers.ChoiceField(choices=("empty", "shopify"))
    id = serializers.CharField(max_length=200, required=False, validators=[validate_plain_text])
    cost = serializers.DictField(required=False, help_text="Not read: the total is the lines' sum.")
    lines: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=ShopifyCartLineInputSerializer(), required=False, max_length=MAX_CART_LINES
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        lines = attrs.get("lines") or []
        if attrs["kind"] == "empty" and lines:
            raise serializers.ValidationError({"lines": [_("An empty cart has no lines.")]})
        ids = [line["id"] for line in lines]
        if len(set(ids)) != len(ids):
            raise serializers.ValidationError({"lines": [_("Line ids must be distinct.")]})
        attrs["core_lines"] = [_core_line(line) for line in lines]
        if sum(1 for line in attrs["core_lines"] if line.get("voucher_code")) > MAX_VOUCHER_LINES:
            raise serializers.ValidationError(
                {"lines": [_("At most %(count)d lines may hold a redemption.") % {"count": MAX_VOUCHER_LINES}]}
            )
        return attrs


def _core_line(line: dict[str, Any]) -> dict[str, Any]:
    """A Shopify cart line as the session core reads a line (loyalty.selectors.sessions.SessionCart)."""
    attributes = line.get("attributes") or []
    core = {
        "id": line["id"],
        "product_id": line["merchandise"]["id"],
        "quantity": line["quantity"],
        "price": line["cost"]["amount_per_quantity"]["amount"],
        "attributes": attributes,
        "merchandise_id": line["merchandise"]["id"],
    }
    redemption = next(
        (item["value"] for item in attributes if item["key"] == REDEMPTION_ATTRIBUTE and (item["value"] or "").strip()),
        None,
    )
    if redemption:
        core["voucher_code"] = redemption.strip()
    return core


class LoyaltyLionSessionDetailsInputSerializer(serializers.Serializer):
    page_url = serializers.URLField(max_length=2000, required=False, help_text="Not read: no page-view rules here.")


class LoyaltyLionSessionInputSerializer(serializers.Serializer):
    customer = SessionShopperInputSerializer(help_text="Used only if the customer is created.")
    session = LoyaltyLionSessionDetailsInputSerializer(required=False)
    cart = LoyaltyLionCartInputSerializer(required=False)


# ------------------------------------------------------------------------------------------------ output


def _iso(moment: Any) -> str | None:
    return serializers.DateTimeField().to_representation(moment) if moment is not None else None


def _tier_id(tier: Tier | None) -> int | None:
    return tier.pk if tier is not None else None


class LoyaltyLionTierProgressOutputSerializer(serializers.Serializer):
    """LoyaltyLion's progress for `kind` points (points_...) or spend (spend_..., amounts)."""

    kind = serializers.CharField()
    valid_until = serializers.DateTimeField(source="expires_at", allow_null=True)
    upgrade_tier_id = serializers.SerializerMethodField()
    forecasted_tier_id = serializers.SerializerMethodField()

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_upgrade_tier_id(self, membership: TierMembership) -> int | None:
        return _tier_id(membership.upgrade_tier)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_forecasted_tier_id(self, membership: TierMembership) -> int | None:
        return _tier_id(membership.forecasted_tier)

    def to_representation(self, instance: TierMembership) -> dict[str, Any]:
        data = super().to_representation(instance)
        unit = "spend" if instance.kind == "spend" else "points"
        data[f"{unit}_needed_for_renewal"] = instance.needed_for_renewal
        data[f"{unit}_needed_for_upgrade"] = instance.needed_for_upgrade
        data[f"tier_{unit}"] = {"now": instance.now, "at_expiration": instance.at_expiration}
        return data


class LoyaltyLionTierMembershipOutputSerializer(serializers.Serializer):
    tier_id = serializers.IntegerField(source="tier.pk")
    started_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    progress = LoyaltyLionTierProgressOutputSerializer(source="*")


def _discount(definition: CouponDefinition) -> dict[str, Any]:
    if definition.kind == CouponDefinition.Kind.PERCENT:
        return {"discount_type": "percentage", "discount": float(definition.value)}
    return {"discount_type": "fixed", "discount": float(definition.value)}


def claimed_reward(voucher: Voucher) -> dict[str, Any]:
    """One of the shopper's vouchers as a LoyaltyLion claimed reward. Vouchers are issued (by marketing or a tier
    benefit), not bought with points: `source.kind` is `issued`."""
    definition = voucher.definition
    ends = [end for end in (voucher.expires_at, definition.valid_until) if end is not None]
    return {
        "id": voucher.pk,
        "claimed_at": _iso(voucher.claimed_at or voucher.issued_at),
        "reward_id": definition.pk,
        "title": definition.name,
        "state": "approved",
        "source": {"kind": "issued"},
        "redeemable": {
            "kind": REWARD_KINDS[definition.kind],
            "code": voucher.code,
            **_discount(definition),
            "minimum_spend": float(definition.min_basket),
            "usage_status": "not_used",
            "expires_at": _iso(min(ends)) if ends else None,
            "used_at": None,
        },
        "auto_refund_at": None,
    }


def _reward_variant(reward: Reward, tier_id: int | None) -> dict[str, Any]:
    definition = reward.definition
    return {
        "tier_id": tier_id,
        "title": definition.name,
        "description": definition.description or None,
        "enabled": True,
        "cost": {"kind": "fixed", "points": 0},
        "cost_text": "",
    }


def _claim_limit(reward: AvailableReward | Reward) -> dict[str, Any]:
    left = getattr(reward, "claims_left", None)
    if reward.definition.limit_per_customer is None:
        return {"state": "no_limit"}
    return {"state": "limit_not_reached" if left is None or left > 0 else "limit_reached_forever"}


def available_reward(reward: AvailableReward, tier: Tier | None) -> dict[str, Any]:
    definition = reward.definition
    return {
        "id": definition.pk,
        "kind": REWARD_KINDS[definition.kind],
        "limit": {"count": definition.limit_per_customer, "interval": None} if definition.limit_per_customer else None,
        "properties": {"code": definition.code, **_discount(definition), "auto_apply": definition.auto_apply},
        "variant": _reward_variant(reward, _tier_id(tier)),
        "context": {
            "can_redeem": {"state": reward.can_redeem},
            "last_claimed_at": None,
            "claim_count": reward.claim_count,
            "claim_limit": _claim_limit(reward),
        },
    }


def _numbered_rule(configuration: LoyaltyConfiguration) -> dict[str, Any]:
    rule = purchase_rule(configuration)
    tier_pks = {tier.tier.code: tier.tier.pk for tier in configuration.tiers}
    for variant in rule["variants"]:
        variant["tier_id"] = tier_pks.get(variant["tier_id"])
        variant["result"] = {
            key: float(value) if isinstance(value, Decimal) else value for key, value in variant["result"].items()
        }
    return {**rule, "id": PURCHASE_RULE_ID}


def configuration_body(configuration: LoyaltyConfiguration) -> dict[str, Any]:
    """LoyaltyLion's SiteConfiguration of the default program."""
    program = configuration.program
    tier_configuration = None
    if configuration.tiers:
        tier_configuration = {
            "boundary_mode": program.tier_qualification,
            "tiers": [
                {
                    "id": tier.tier.pk,
                    "name": tier.tier.name,
                    "position": tier.position,
                    "hidden": False,
                    "benefit_ids": [benefit.id for benefit in tier.benefits],
                    "kind": program.tier_qualification,
                    "lower_bound": tier.lower_bound,
                    "upper_bound": tier.upper_bound,
                }
                for tier in configuration.tiers
            ],
            "tier_benefits": [
                {
                    "id": benefit.id,
                    "label": benefit.label,
                    "secret": False,
                    "details": {"plaintext": benefit.details} if benefit.details else None,
                }
                for tier in configuration.tiers
                for benefit in tier.benefits
            ],
            "membership": {
                "mode": "rolling",
                "duration_months": int((Decimal(program.tier_validity_days) / DAYS_PER_MONTH).to_integral_value()),
            },
        }
    tier_pks = {tier.tier.code: tier.tier.pk for tier in configuration.tiers}
    return {
        "channel": configuration.channel,
        "currency": configuration.currency,
        "language": configuration.language,
        "program": {"name": program.name},
        "tier_configuration": tier_configuration,
        "rules": [_numbered_rule(configuration)],
        "rewards": [
            {
                "id": reward.definition.pk,
                "kind": REWARD_KINDS[reward.definition.kind],
                "limit": None,
                "properties": {"code": reward.definition.code, **_discount(reward.definition)},
                "variants": [_reward_variant(reward, tier_pks.get(code)) for code in reward.tier_codes]
                or [_reward_variant(reward, None)],
            }
            for reward in configuration.rewards
        ],
    }


def _or_null(value: str) -> str | None:
    return value or None


def customer_body(shopper: SessionCustomer) -> dict[str, Any]:
    """CustomerGuest / CustomerBlocked (identity only) or CustomerEnrolled."""
    customer = shopper.customer
    body: dict[str, Any] = {
        "state": shopper.state,
        "id": customer_number(customer),
        "merchant_id": shopper.merchant_id,
        "email": _or_null(customer.email),
        "first_name": _or_null(customer.first_name),
        "last_name": _or_null(customer.last_name),
    }
    if shopper.state != "enrolled" or shopper.overview is None or shopper.account is None:
        return body
    balances = shopper.overview.balances
    birthday = customer.birthday
    tier = shopper.account.tier
    body.update(
        {
            "points_approved": balances.spendable,
            "points_pending": balances.pending,
            "points_spent": balances.spent,
            "enrolled_at": _iso(shopper.account.enrolled_at),
            "tier_membership": LoyaltyLionTierMembershipOutputSerializer(shopper.tier_membership).data
            if shopper.tier_membership
            else None,
            "birthday": {"month": birthday.month, "day": birthday.day, "year": birthday.year} if birthday else None,
            "next_birthday": _next_birthday(birthday),
            "claimed_rewards": [claimed_reward(voucher) for voucher in shopper.claimed_rewards],
            "available_rewards": [available_reward(reward, tier) for reward in shopper.available_rewards],
            "available_rules": [],
            "history": [],
            "active_cart_redemptions": [],
            "email_marketing_consent": {"state": "unknown"},
            "sms_marketing_consent": {"state": "unknown"},
            "receipt_upload_url": None,
            "referral_urls": None,
        }
    )
    return body


def _next_birthday(birthday: Any) -> str | None:
    if birthday is None:
        return None
    today = timezone.localdate()
    for year in (today.year, today.year + 1, today.year + 2):
        try:
            candidate = birthday.replace(year=year)
        except ValueError:  # 29 February in a common year
            continue
        if candidate >= today:
            return candidate.isoformat()
    return None


def cart_action(action: CartAction) -> dict[str, Any]:
    line = action.line
    return {
        "kind": "remove_cart_line",
        "reason": CART_ACTION_REASONS[action.reason],
        "cart_line_to_remove": {
            "kind": "shopify",
            "id": line["id"],
            "merchandise_id": line.get("merchandise_id", line["product_id"]),
            "attributes": line.get("attributes", []),
        },
        "cart_redemption": {"id": action.voucher_code},
    }


# The documented shapes (OpenAPI); the bodies are built by the functions above.


class LoyaltyLionErrorDetailOutputSerializer(serializers.Serializer):
    code = serializers.CharField(required=False)
    message = serializers.CharField(required=False)
    details = serializers.DictField(child=serializers.CharField(), required=False)


class LoyaltyLionErrorOutputSerializer(serializers.Serializer):
    error = LoyaltyLionErrorDetailOutputSerializer()


@extend_schema_field(OpenApiTypes.OBJECT)
class _ObjectField(serializers.Field):
    pass


class LoyaltyLionCustomerResponseOutputSerializer(serializers.Serializer):
    channel = serializers.CharField()
    currency = serializers.CharField()
    language = serializers.CharField()
    customer = _ObjectField(help_text="CustomerEnrolled, CustomerGuest or CustomerBlocked; `id` is a number.")
    configuration = _ObjectField(help_text="SiteConfiguration, as GET configuration answers it.")


class LoyaltyLionSessionResponseOutputSerializer(LoyaltyLionCustomerResponseOutputSerializer):
    requested_cart_actions = serializers.ListField(child=serializers.DictField())


class LoyaltyLionConfigurationOutputSerializer(serializers.Serializer):
    channel = serializers.CharField()
    currency = serializers.CharField()
    language = serializers.CharField()
    program = serializers.DictField()
    tier_configuration = _ObjectField(allow_null=True)
    rules = serializers.ListField(child=serializers.DictField())
    rewards = serializers.ListField(child=serializers.DictField())
