"""Serializers of the loyalty API's read endpoints (customer 360, lookup, points preview, configuration) and of
erasure. snake_case; shapes modelled on Antavo's customer object and Capillary's embed blocks. Money and
qualifying values are JSON numbers: whole points for points programs, amounts with cents for spend."""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from crm.models import Address
from loyalty.api.coupon_serializers import CouponOutputSerializer
from loyalty.api.event_serializers import CheckoutItemSerializer
from loyalty.models import SESSION_CHANNELS, Tier
from loyalty.selectors.accounts import CUSTOMER_EMBEDS, LOOKUP_IDENTIFIERS, CustomerOverview, qualifying_number
from loyalty.selectors.sessions import ConfiguredTier, LoyaltyConfiguration, TierBenefit

MAX_PREVIEW_ITEMS = 500  # as many lines as a checkout takes
# The selector's embeds, plus `coupons`, which the API adds itself (loyalty/api/customers.py).
COUPONS_EMBED = "coupons"
API_EMBEDS = (*CUSTOMER_EMBEDS, COUPONS_EMBED)


def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False, **kwargs)


@extend_schema_field(OpenApiTypes.NUMBER)
class QualifyingValueField(serializers.Field):
    """A points-or-spend value, already shaped by loyalty.selectors.accounts.qualifying_number."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: Any) -> Any:
        return value


# ------------------------------------------------------------------------------------------------- input


@extend_schema_field(OpenApiTypes.STR)
class EmbedField(serializers.CharField):
    """A comma-separated list of embed names; unknown names are a 400 that names them."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            required=False,
            allow_blank=True,
            max_length=200,
            help_text="Comma-separated: " + ", ".join(API_EMBEDS),
            **kwargs,
        )

    def run_validation(self, data: Any = empty) -> frozenset[str]:
        # CharField answers a blank value ("", " ") itself, without to_internal_value: like "embed=,", no blocks.
        value = super().run_validation(data)
        return value if isinstance(value, frozenset) else frozenset()

    def to_internal_value(self, data: Any) -> frozenset[str]:  # type: ignore[override]
        text = super().to_internal_value(data)
        names = frozenset(name.strip() for name in text.split(",") if name.strip())
        unknown = sorted(names - set(API_EMBEDS))
        if unknown:
            raise serializers.ValidationError(
                _("Unknown embed %(names)s; expected any of %(known)s.")
                % {"names": ", ".join(f'"{name}"' for name in unknown), "known": ", ".join(API_EMBEDS)}
            )
        return names


def spoken_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


@extend_schema_field(OpenApiTypes.STR)
class LanguageField(serializers.CharField):
    """A language tag (en, de-DE, fr_FR); answered as its ISO 639-1 primary subtag, which must be one we speak."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=16, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        primary = text.replace("_", "-").split("-")[0].lower()
        if primary not in spoken_languages():
            raise serializers.ValidationError(
                _('"%(value)s" is not a language we speak; expected one of %(known)s.')
                % {"value": text, "known": ", ".join(spoken_languages())}
            )
        return primary


class ConfigurationGetInputSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(
        choices=SESSION_CHANNELS, required=False, help_text="Without it, the rewards of every channel."
    )
    language = LanguageField(required=False)


class CustomerGetInputSerializer(serializers.Serializer):
    embed = EmbedField()


class CustomerLookupInputSerializer(serializers.Serializer):
    identifier = serializers.ChoiceField(choices=LOOKUP_IDENTIFIERS)
    value = serializers.CharField(max_length=254)
    embed = EmbedField()


class PointsPreviewInputSerializer(serializers.Serializer):
    customer = serializers.CharField(
        max_length=32, required=False, help_text="Customer id. Without it, the entry tier's multiplier applies."
    )
    total = _money(min_value=Decimal("0"))
    # The checkout's own item serializer: a preview must read a cart exactly as the checkout will.
    items: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=CheckoutItemSerializer(), required=False, max_length=MAX_PREVIEW_ITEMS
    )


# ------------------------------------------------------------------------------------------------ output


class TierRefOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class NextTierOutputSerializer(serializers.Serializer):
    code = serializers.CharField(source="tier.code")
    name = serializers.CharField(source="tier.name")
    threshold = QualifyingValueField()
    gap = QualifyingValueField()


class TierStatusOutputSerializer(serializers.Serializer):
    code = serializers.CharField(source="tier.code")
    name = serializers.CharField(source="tier.name")
    title = serializers.CharField(source="tier.title")
    threshold = QualifyingValueField()
    since = serializers.DateTimeField(allow_null=True)
    expdate = serializers.DateTimeField(allow_null=True)
    points = QualifyingValueField(help_text="The qualifying value (points or spend) over the program's window.")
    next = NextTierOutputSerializer(allow_null=True)


class ExpiryScheduleOutputSerializer(serializers.Serializer):
    points = serializers.IntegerField()
    expdate = serializers.DateField()


class UpgradeOutputSerializer(serializers.Serializer):
    based_on = serializers.CharField()
    current_value = QualifyingValueField()
    next_tier = TierRefOutputSerializer()
    threshold = QualifyingValueField()
    gap = QualifyingValueField()
    window_days = serializers.IntegerField()


class RenewalOutputSerializer(serializers.Serializer):
    tier = serializers.CharField(source="tier.code")
    expdate = serializers.DateTimeField()
    keep_threshold = QualifyingValueField()
    current_value = QualifyingValueField(help_text="What will still count on the expiry date.")
    gap = QualifyingValueField()
    renew_confirmed = serializers.BooleanField()


class CustomerTransactionOutputSerializer(serializers.Serializer):
    transaction_id = serializers.CharField()
    state = serializers.CharField()
    total = _money()
    points_earned = serializers.IntegerField()
    points_burned = serializers.IntegerField()
    purchased_at = serializers.DateTimeField()


class CustomerAddressOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    address_line1 = serializers.CharField()
    address_line2 = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField()
    postal_code = serializers.CharField()
    country_code = serializers.CharField()
    phone = serializers.CharField()
    is_profile_address = serializers.SerializerMethodField()

    def get_is_profile_address(self, address: Address) -> bool:
        overview: CustomerOverview | None = self.root.instance
        return overview is not None and address.pk == overview.customer.profile_address_id


class LoyaltyCustomerOutputSerializer(serializers.Serializer):
    """The customer 360 view. Embed blocks appear only when asked for."""

    id = serializers.CharField(source="customer.public_id")
    first_name = serializers.CharField(source="customer.first_name")
    last_name = serializers.CharField(source="customer.last_name")
    email = serializers.CharField(source="customer.email")
    mobile_phone = serializers.CharField(source="customer.phone_mobile")
    birth_date = serializers.DateField(source="customer.birthday", allow_null=True)
    language = serializers.CharField(source="customer.preferred_language")
    country = serializers.CharField(source="customer.country")
    created_at = serializers.DateTimeField(source="customer.created_at")
    status = serializers.CharField(source="customer.status")
    state = serializers.CharField(help_text="enrolled, guest (no account) or blocked.")
    account_number = serializers.CharField(source="account.account_number", allow_null=True)
    currency = serializers.CharField(allow_null=True)
    spendable = serializers.IntegerField(source="balances.spendable")
    pending = serializers.IntegerField(source="balances.pending")
    reserved = serializers.IntegerField(source="balances.reserved")
    spent = serializers.IntegerField(source="balances.spent")
    expired = serializers.IntegerField(source="balances.expired")
    score = serializers.IntegerField(source="balances.earned", help_text="Points ever earned.")
    owed = serializers.IntegerField(source="balances.owed")
    purchase_count = serializers.IntegerField()
    purchase_total = _money()
    tiers = TierStatusOutputSerializer(many=True)
    expiry_schedule = ExpiryScheduleOutputSerializer(many=True, required=False)
    upgrade = UpgradeOutputSerializer(allow_null=True, required=False)
    renewal = RenewalOutputSerializer(allow_null=True, required=False)
    transactions = CustomerTransactionOutputSerializer(many=True, required=False)
    addresses = CustomerAddressOutputSerializer(many=True, required=False)
    coupons = CouponOutputSerializer(
        many=True, required=False, help_text="embed=coupons: issued and claimed vouchers usable now, newest first."
    )

    def to_representation(self, instance: CustomerOverview) -> dict[str, Any]:
        data = super().to_representation(instance)
        for embed in CUSTOMER_EMBEDS:
            if embed not in instance.embeds:
                data.pop(embed)
        return data


class PointsPreviewOutputSerializer(serializers.Serializer):
    base = serializers.IntegerField()
    bonus = serializers.IntegerField(help_text="The tier multiplier's extra points.")
    points = serializers.IntegerField(source="total")
    eligible_total = _money()
    currency = serializers.CharField()


class ConfigurationTierOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    title = serializers.CharField()
    subtitle = serializers.CharField()
    rank = serializers.IntegerField()
    threshold = serializers.SerializerMethodField()
    renewal_threshold = serializers.SerializerMethodField(help_text="Needed to keep the tier at its expiry.")
    earn_multiplier = serializers.DecimalField(max_digits=6, decimal_places=3, coerce_to_string=False)
    benefits = serializers.SerializerMethodField(help_text="One entry per line of the tier's benefits.")

    @extend_schema_field(OpenApiTypes.NUMBER)
    def get_threshold(self, tier: Tier) -> int | Decimal:
        return qualifying_number(tier.program, tier.threshold)

    @extend_schema_field(OpenApiTypes.NUMBER)
    def get_renewal_threshold(self, tier: Tier) -> int | Decimal:
        return qualifying_number(tier.program, tier.keep_threshold)

    def get_benefits(self, tier: Tier) -> list[str]:
        return [line.strip() for line in tier.benefits.splitlines() if line.strip()]


class ConfigurationProgramOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


# --- LoyaltyLion's SiteConfiguration (B6) parts: tier_configuration, rules, rewards


def _number(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=4, coerce_to_string=False, **kwargs)


class TierBenefitOutputSerializer(serializers.Serializer):
    id = serializers.CharField(help_text='"<tier>:<n>" for a line of the tier\'s benefits, "<tier>:coupon:<code>".')
    # A field, not Field.label (mypy takes it for an override): DRF's metaclass moves it out of the class.
    label = serializers.CharField()  # type: ignore[assignment]
    secret = serializers.SerializerMethodField()
    details = serializers.SerializerMethodField()

    def get_secret(self, benefit: TierBenefit) -> bool:
        return False

    @extend_schema_field({"type": "object", "nullable": True, "properties": {"plaintext": {"type": "string"}}})
    def get_details(self, benefit: TierBenefit) -> dict[str, str] | None:
        return {"plaintext": benefit.details} if benefit.details else None


class TierOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="tier.code")
    name = serializers.CharField(source="tier.name")
    title = serializers.CharField(source="tier.title")
    position = serializers.IntegerField(help_text="1 is the entry tier.")
    hidden = serializers.SerializerMethodField()
    kind = serializers.CharField(source="tier.program.tier_qualification", help_text="points or spend.")
    lower_bound = QualifyingValueField()
    upper_bound = QualifyingValueField(allow_null=True, help_text="The next tier's lower bound; null for the top tier.")
    renewal_bound = QualifyingValueField(help_text="Needed in the window to keep the tier at its expiry.")
    earn_multiplier = serializers.DecimalField(
        source="tier.earn_multiplier", max_digits=6, decimal_places=3, coerce_to_string=False
    )
    benefit_ids = serializers.SerializerMethodField()

    def get_hidden(self, tier: ConfiguredTier) -> bool:
        return False

    def get_benefit_ids(self, tier: ConfiguredTier) -> list[str]:
        return [benefit.id for benefit in tier.benefits]


class MembershipOutputSerializer(serializers.Serializer):
    mode = serializers.SerializerMethodField(help_text="Always rolling: a tier is kept a number of days.")
    duration_days = serializers.IntegerField(source="program.tier_validity_days")
    qualifying_window_days = serializers.IntegerField(source="program.tier_window_days")

    def get_mode(self, configuration: LoyaltyConfiguration) -> str:
        return "rolling"


class TierConfigurationOutputSerializer(serializers.Serializer):
    boundary_mode = serializers.CharField(source="program.tier_qualification", help_text="points or spend.")
    tiers = TierOutputSerializer(many=True)
    tier_benefits = serializers.SerializerMethodField()
    membership = MembershipOutputSerializer(source="*")

    @extend_schema_field(TierBenefitOutputSerializer(many=True))
    def get_tier_benefits(self, configuration: LoyaltyConfiguration) -> list[dict[str, Any]]:
        benefits = [benefit for tier in configuration.tiers for benefit in tier.benefits]
        return serializers.ListSerializer(benefits, child=TierBenefitOutputSerializer()).data

    def to_representation(self, instance: LoyaltyConfiguration) -> dict[str, Any] | None:  # type: ignore[override]
        return super().to_representation(instance) if instance.tiers else None


class RuleResultOutputSerializer(serializers.Serializer):
    kind = serializers.CharField()
    points = _number(help_text="Points per `per_currency_unit` spent.")
    per_currency_unit = _number()


class RuleVariantOutputSerializer(serializers.Serializer):
    tier_id = serializers.CharField(allow_null=True)
    title = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    enabled = serializers.BooleanField()
    result = RuleResultOutputSerializer()
    result_short_text = serializers.CharField()


class RuleOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.CharField()
    limit = serializers.JSONField(allow_null=True)
    properties = serializers.DictField()
    variants = RuleVariantOutputSerializer(many=True)


def _plain_number(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def purchase_rule(configuration: LoyaltyConfiguration) -> dict[str, Any]:
    """The program's one earning rule, LoyaltyLion-shaped: a purchase earns the earn rate times the tier's
    multiplier per currency unit; one variant per tier (one without a tier when the program has none)."""
    program = configuration.program
    multipliers: list[tuple[str | None, Decimal]] = [
        (tier.tier.code, tier.tier.earn_multiplier) for tier in configuration.tiers
    ] or [(None, Decimal("1"))]
    variants = []
    for tier_id, multiplier in multipliers:
        points = (program.earn_rate * multiplier).normalize()
        variants.append(
            {
                "tier_id": tier_id,
                "title": _("Make a purchase"),
                "description": None,
                "enabled": True,
                "result": {"kind": "points", "points": points, "per_currency_unit": Decimal("1")},
                "result_short_text": ngettext(
                    "%(points)s point per %(currency)s 1",
                    "%(points)s points per %(currency)s 1",
                    1 if points == 1 else 2,
                )
                % {"points": _plain_number(points), "currency": program.currency.upper()},
            }
        )
    return {
        "id": "purchase",
        "kind": "purchase",
        "limit": None,
        "properties": {
            "rounding": program.earn_rounding,
            "basis": program.earn_basis,
            "excluded_products": list(program.excluded_products or []),
            "pending_days": program.pending_days,
            "points_expiry_days": program.points_expiry_days,
        },
        "variants": variants,
    }


class RewardLimitOutputSerializer(serializers.Serializer):
    per_customer = serializers.IntegerField(source="limit_per_customer", allow_null=True)
    total = serializers.IntegerField(source="limit_total", allow_null=True)


class RewardOutputSerializer(serializers.Serializer):
    """A coupon as a shop shows it. Our rewards are coupons: they are issued or applied, not bought with points."""

    id = serializers.CharField(source="definition.code")
    kind = serializers.CharField(source="definition.kind", help_text="percent, amount or free_item.")
    title = serializers.CharField(source="definition.name")
    description = serializers.CharField(source="definition.description")
    value = _number(source="definition.value", help_text="A percentage, an amount, or 0 for a free item.")
    product_id = serializers.CharField(source="definition.product_id", help_text="The free item.")
    minimum_spend = _number(source="definition.min_basket")
    auto_apply = serializers.BooleanField(
        source="definition.auto_apply", help_text="Applied without a code: at the till, or by the shop's checkout."
    )
    channels = serializers.ListField(child=serializers.CharField(), source="definition.channels")
    valid_from = serializers.DateTimeField(source="definition.valid_from", allow_null=True)
    valid_until = serializers.DateTimeField(source="definition.valid_until", allow_null=True, help_text="Exclusive.")
    limit = RewardLimitOutputSerializer(source="definition")
    tier_ids = serializers.ListField(
        child=serializers.CharField(), source="tier_codes", help_text="Eligible tiers; empty: everyone."
    )


class ConfigurationOutputSerializer(serializers.Serializer):
    """The default program's rules, for a web shop or POS to explain them: our own keys first, then
    LoyaltyLion's SiteConfiguration parts (channel, language, tier_configuration, rules, rewards)."""

    channel = serializers.CharField(allow_null=True, help_text="web, pos, mobile; null: rewards of every channel.")
    currency = serializers.CharField(help_text="ISO 4217, lower-case as LoyaltyLion sends it: usd.")
    language = serializers.CharField(help_text="ISO 639-1.")
    program = ConfigurationProgramOutputSerializer()
    earn_rate = serializers.DecimalField(
        source="program.earn_rate",
        max_digits=10,
        decimal_places=4,
        coerce_to_string=False,
        help_text="Points per currency unit.",
    )
    rounding = serializers.CharField(source="program.earn_rounding")
    basis = serializers.CharField(source="program.earn_basis")
    pending_days = serializers.IntegerField(source="program.pending_days")
    points_expiry_days = serializers.IntegerField(
        source="program.points_expiry_days", allow_null=True, help_text="null: points never expire."
    )
    burn_value = serializers.DecimalField(
        source="program.burn_value",
        max_digits=10,
        decimal_places=4,
        coerce_to_string=False,
        help_text="Currency value of one point.",
    )
    tier_qualification = serializers.CharField(source="program.tier_qualification")
    tier_window_days = serializers.IntegerField(source="program.tier_window_days")
    tier_validity_days = serializers.IntegerField(source="program.tier_validity_days")
    tiers = ConfigurationTierOutputSerializer(source="program.tiers_by_rank", many=True)
    tier_configuration = TierConfigurationOutputSerializer(source="*", allow_null=True, help_text="null: no tiers.")
    rules = serializers.SerializerMethodField()
    rewards = RewardOutputSerializer(many=True)

    @extend_schema_field(RuleOutputSerializer(many=True))
    def get_rules(self, configuration: LoyaltyConfiguration) -> list[dict[str, Any]]:
        return serializers.ListSerializer([purchase_rule(configuration)], child=RuleOutputSerializer()).data


class CustomerErasedOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    status = serializers.CharField()
    erased_at = serializers.DateTimeField(source="updated_at")
