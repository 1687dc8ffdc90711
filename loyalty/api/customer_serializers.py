"""Serializers of the loyalty API's read endpoints (customer 360, lookup, points preview, configuration) and of
erasure. snake_case; shapes modelled on Antavo's customer object and Capillary's embed blocks. Money and
qualifying values are JSON numbers: whole points for points programs, amounts with cents for spend."""

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from loyalty.api.coupon_serializers import CouponOutputSerializer
from loyalty.api.event_serializers import CheckoutItemSerializer
from loyalty.models import Tier
from loyalty.selectors import CUSTOMER_EMBEDS, LOOKUP_IDENTIFIERS, CustomerOverview, qualifying_number

MAX_PREVIEW_ITEMS = 500  # as many lines as a checkout takes
# The selector's embeds, plus `coupons`, which the API adds itself (loyalty/api/customers.py).
COUPONS_EMBED = "coupons"
API_EMBEDS = (*CUSTOMER_EMBEDS, COUPONS_EMBED)


def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False, **kwargs)


@extend_schema_field(OpenApiTypes.NUMBER)
class QualifyingValueField(serializers.Field):
    """A points-or-spend value, already shaped by loyalty.selectors.qualifying_number."""

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
    items = CheckoutItemSerializer(many=True, required=False, max_length=MAX_PREVIEW_ITEMS)


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

    def get_is_profile_address(self, address: Any) -> bool:
        return address.pk == self.root.instance.customer.profile_address_id


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


class ConfigurationOutputSerializer(serializers.Serializer):
    """The default program's rules, for a web shop or POS to explain them (LoyaltyLion's configuration call)."""

    program = ConfigurationProgramOutputSerializer(source="*")
    currency = serializers.CharField()
    earn_rate = serializers.DecimalField(
        max_digits=10, decimal_places=4, coerce_to_string=False, help_text="Points per currency unit."
    )
    rounding = serializers.CharField(source="earn_rounding")
    basis = serializers.CharField(source="earn_basis")
    pending_days = serializers.IntegerField()
    points_expiry_days = serializers.IntegerField(allow_null=True, help_text="null: points never expire.")
    burn_value = serializers.DecimalField(
        max_digits=10, decimal_places=4, coerce_to_string=False, help_text="Currency value of one point."
    )
    tier_qualification = serializers.CharField()
    tier_window_days = serializers.IntegerField()
    tier_validity_days = serializers.IntegerField()
    tiers = ConfigurationTierOutputSerializer(source="tiers_by_rank", many=True)


class CustomerErasedOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="public_id")
    status = serializers.CharField()
    erased_at = serializers.DateTimeField(source="updated_at")
