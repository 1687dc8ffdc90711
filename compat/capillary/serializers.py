"""Capillary v2 shapes (reference/shopreme_capillary.md section 2, the vendor page in seeds/002_*): the query of the
customer reads, and the customer object with Capillary's field names. camelCase; timestamps as ISO 8601 with an
offset, as Capillary sends them; points as whole numbers. Serializers check shape and map names; the numbers come
from the loyalty core's customer 360 view (loyalty.selectors.accounts.customer_overview_get)."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from compat.ids import customer_number
from crm.models import Customer
from loyalty.models import LoyaltyAccount, Program
from loyalty.selectors.accounts import CustomerOverview, Renewal, Upgrade

# Capillary's sources (the union of the customer get and lookup lists). We keep one customer base: the source is
# checked and echoed in the profile, it does not filter.
SOURCES = (
    "INSTORE",
    "MARTJACK",
    "WECHAT",
    "LINE",
    "ALL",
    "FACEBOOK",
    "WEB_ENGAGE",
    "TMALL",
    "TAOBAO",
    "JD",
    "ECOMMERCE",
    "WEBSITE",
    "MAPP_SDK",
)
# Capillary's embeds, published for GET /v2/customers/{id} and /lookup/customerDetails, as Capillary spells them.
# Matched case-insensitively (integrations send CUSTOMERSTATUS); see SERVED_EMBEDS for the ones with data here.
EMBEDS = (
    "points",
    "subscriptions",
    "mlp",
    "userGroup",
    "gapDetails",
    "promotionalPoints",
    "expirySchedules",
    "expiredPoints",
    "customerImage",
    "returnedPoints",
    "associatedImages",
    "segments",
    "cardLoyaltyDetails",
    "fleetParentDetails",
    "ignoreCardDetails",
    "customerStatus",
    "alternateCurrencies",
)
SERVED_EMBEDS = ("points", "mlp", "expirySchedules", "segments")
_EMBEDS_BY_LOWER = {name.lower(): name for name in EMBEDS}
# Capillary's identifierName values and the core lookup identifier each one is (loyalty.selectors.accounts).
IDENTIFIERS = {"mobile": "mobile", "email": "email", "externalid": "external_id", "cardnumber": "card"}
MAX_EMBED_VALUES = 40
# The blocks of the customer object that only an embed (and for the gaps, a gap parameter) adds.
EMBED_BLOCKS = (
    "segments",
    "pointsSummary",
    "loyaltyProgramDetails",
    "groupLoyaltyProgramDetails",
    "expirySchedules",
    "upgradeStrategies",
    "gapToRenewSummary",
)
MAX_GAP_DAYS = 3650


@dataclass(frozen=True)
class EmbedRequest:
    """The embeds asked for: `served` in Capillary's spelling, `unserved` as sent (a warning each)."""

    served: frozenset[str] = frozenset()
    unserved: tuple[str, ...] = ()


class EmbedListField(serializers.ListField):
    """`embed=points,mlp` and `embed=points&embed=mlp` alike (and mixed). Names Capillary publishes but we have no
    data for, and names it does not publish, are not refused: the answer carries a warning naming them."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            child=serializers.CharField(max_length=400, allow_blank=True),
            required=False,
            max_length=MAX_EMBED_VALUES,
            help_text="Comma-separated or repeated. With data here: " + ", ".join(SERVED_EMBEDS) + ".",
            **kwargs,
        )

    def run_validation(self, data: Any = empty) -> EmbedRequest:
        # The list is checked (its length, each value's) before it becomes an EmbedRequest.
        values = super().run_validation(data)
        served: set[str] = set()
        unserved: list[str] = []
        for value in values:
            for name in (part.strip() for part in value.split(",")):
                canonical = _EMBEDS_BY_LOWER.get(name.lower())
                if canonical in SERVED_EMBEDS:
                    served.add(canonical)
                elif name and name not in unserved:
                    unserved.append(name)
        return EmbedRequest(served=frozenset(served), unserved=tuple(unserved))


class SourceField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=SOURCES, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        return str(super().to_internal_value(str(data).strip().upper()))


class CustomerGetInputSerializer(serializers.Serializer):
    # A field, not Field.source (mypy takes it for an override): DRF's metaclass moves it out of the class.
    source = SourceField(  # type: ignore[assignment]
        help_text="Required, as on Capillary; echoed in the profile (ALL answers INSTORE)."
    )
    accountId = serializers.CharField(max_length=100, required=False, allow_blank=True)
    embed = EmbedListField()
    gapToUpgrade = serializers.IntegerField(
        min_value=0, max_value=MAX_GAP_DAYS, required=False, help_text="With embed=mlp: the gap N days from today."
    )
    gapToRenew = serializers.IntegerField(
        min_value=0, max_value=MAX_GAP_DAYS, required=False, help_text="With embed=mlp: the gap N days from today."
    )


def _primary(value: str) -> str:
    """Capillary's dual eligibility: comma-separated lists, of which the first (primary) one is used."""
    return value.split(",")[0].strip()


class CustomerLookupInputSerializer(CustomerGetInputSerializer):
    identifierName = serializers.CharField(
        max_length=100, help_text="mobile, email, externalId or cardnumber (any case); a comma list uses the first."
    )
    identifierValue = serializers.CharField(max_length=254, help_text="A comma list uses the first.")

    def validate_identifierName(self, value: str) -> str:
        identifier = IDENTIFIERS.get(_primary(value).lower())
        if identifier is None:
            raise serializers.ValidationError(
                _('"%(value)s" is not an identifier we look up; expected one of %(known)s.')
                % {"value": _primary(value), "known": "mobile, email, externalId, cardnumber"}
            )
        return identifier

    def validate_identifierValue(self, value: str) -> str:
        primary = _primary(value)
        if not primary:
            raise serializers.ValidationError(_("This field may not be blank."))
        return primary


# ------------------------------------------------------------------------------------------------ output


def capillary_datetime(moment: datetime | None) -> str | None:
    """2026-01-05T10:00:00+00:00: ISO 8601 with the offset, to the second, as Capillary sends timestamps."""
    if moment is None:
        return None
    return timezone.localtime(moment, UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class Warning:
    code: int
    message: str


@dataclass(frozen=True)
class CapillaryCustomer:
    """What one customer read shows: the core's 360 view plus the gap blocks judged `gap_days` ahead."""

    overview: CustomerOverview
    source: str
    account_id: str
    embeds: frozenset[str]
    upgrade: Upgrade | None = None
    upgrade_day: date | None = None
    renewal: Renewal | None = None
    gap_to_upgrade: bool = False
    gap_to_renew: bool = False
    warnings: list[Warning] = field(default_factory=list)

    @property
    def customer(self) -> Customer:
        return self.overview.customer

    @property
    def account(self) -> LoyaltyAccount | None:
        return self.overview.account


class CapillaryItemOutputSerializer(serializers.Serializer):
    """An entry of `errors[]` or `warnings[]`."""

    status = serializers.SerializerMethodField()
    code = serializers.IntegerField()
    message = serializers.CharField()

    def get_status(self, item: Any) -> bool:
        return False


class CapillaryErrorOutputSerializer(serializers.Serializer):
    # A field, not Serializer.errors (mypy takes it for an override): DRF's metaclass moves it out of the class.
    errors = CapillaryItemOutputSerializer(many=True)  # type: ignore[assignment]
    warnings = CapillaryItemOutputSerializer(many=True)


class EntityOutputSerializer(serializers.Serializer):
    """GET /v2/customers/lookup: the customer's numeric id."""

    entity = serializers.IntegerField()
    warnings = CapillaryItemOutputSerializer(many=True)


def _number(value: int | Decimal | float) -> int | float:
    """Whole values as integers, money as a float (Capillary's points and purchases are JSON numbers)."""
    if isinstance(value, Decimal) and value != value.to_integral_value():
        return float(value)
    return int(value)


def _slab_fields(data: CapillaryCustomer) -> dict[str, Any]:
    """The tier (Capillary's "slab") fields that pointsSummary and each loyaltyProgramDetails entry carry."""
    overview = data.overview
    balances = overview.balances
    status = overview.tiers[0] if overview.tiers else None
    following = status.next if status else None
    return {
        "adjusted": 0,
        "cumulativePurchases": _number(overview.purchase_total),
        "currentSlab": status.tier.name if status else None,
        "expired": balances.expired,
        "lifetimePoints": balances.earned,
        "loyaltyId": customer_number(overview.customer),
        "loyaltyPoints": balances.spendable,
        "nextSlab": following.tier.name if following else None,
        "nextSlabDescription": following.tier.title if following else None,
        "nextSlabSerialNumber": following.tier.rank + 1 if following else -1,
        "redeemed": balances.spent,
        "returned": 0,
        "slabExpiryDate": capillary_datetime(status.expdate) if status else None,
        "slabSNo": status.tier.rank + 1 if status else None,
    }


def _program_details(data: CapillaryCustomer) -> dict[str, Any]:
    program: Program = data.account.program  # type: ignore[union-attr]  # only for enrolled accounts
    balances = data.overview.balances
    return {
        **_slab_fields(data),
        "programId": program.pk,
        "programTitle": program.name,
        "programDescription": "",
        "programPointsToCurrencyRatio": float(program.burn_value),
        "delayedPoints": balances.pending,
        "delayedReturnedPoints": 0,
        "delayedExpiredPoints": 0,
        "totalAvailablePoints": balances.spendable,
        "totalReturnedPoints": 0,
        "linkedPartnerPrograms": [],
    }


def _identifiers(customer: Customer, account: LoyaltyAccount | None) -> list[dict[str, Any]]:
    identifiers: list[dict[str, Any]] = []
    if customer.email:
        identifiers.append({"type": "email", "value": customer.email})
    if customer.phone_mobile:
        identifiers.append({"type": "mobile", "value": customer.phone_mobile.lstrip("+")})
    if customer.alternate_customer_id:
        identifiers.append({"type": "externalId", "value": customer.alternate_customer_id})
    if account is not None:
        status = "ACTIVE" if account.state != LoyaltyAccount.State.BLOCKED else "SUSPENDED"
        identifiers.append({"type": "cardNumber", "value": account.account_number, "statusLabel": status})
    return identifiers


def _comm_channels(customer: Customer) -> list[dict[str, Any]]:
    channels = []
    for kind, value in (("email", customer.email), ("mobile", customer.phone_mobile.lstrip("+"))):
        if value:
            channels.append(
                {
                    "type": kind,
                    "value": value,
                    "primary": True,
                    "verified": False,
                    "meta": {"residence": False, "office": False},
                    "attributes": {},
                }
            )
    return channels


def _profile(data: CapillaryCustomer) -> dict[str, Any]:
    customer = data.customer
    attribution: dict[str, Any] = {
        "createDate": capillary_datetime(customer.created_at),
        "modifiedDate": capillary_datetime(customer.updated_at),
    }
    if customer.created_store is not None:
        store = customer.created_store
        attribution["createdBy"] = {"code": store.code, "description": "", "name": store.name, "type": "STORE"}
    fields: dict[str, Any] = dict(customer.custom_attributes or {})
    if customer.birthday:
        fields["dateofbirth"] = customer.birthday.strftime("%d-%m-%Y")
    return {
        "firstName": customer.first_name,
        "lastName": customer.last_name,
        "attribution": attribution,
        "fields": fields,
        "identifiers": _identifiers(customer, data.account),
        "commChannels": _comm_channels(customer),
        "source": "INSTORE" if data.source == "ALL" else data.source,
        "userId": customer_number(customer),
        "accountId": data.account_id,
        "conflictingProfileList": [],
        "autoUpdateTime": capillary_datetime(customer.updated_at),
    }


def _upgrade_strategies(data: CapillaryCustomer) -> list[dict[str, Any]]:
    upgrade = data.upgrade
    if upgrade is None:
        return []
    points = upgrade.based_on == Program.TierQualification.POINTS
    return [
        {
            "upgradeBasedOn": "CURRENT_POINTS" if points else "CUMULATIVE_PURCHASES",
            "upgradeThreshold": _number(upgrade.threshold),
            "customerUpgradeEntityValues": {
                "currentValue": _number(upgrade.current_value),
                "gapToUpgrade": _number(upgrade.gap),
                "valueValidUpto": data.upgrade_day.isoformat() if data.upgrade_day else None,
            },
        }
    ]


def _gap_to_renew(data: CapillaryCustomer) -> dict[str, Any] | None:
    renewal = data.renewal
    if renewal is None:
        return None
    points = data.account is not None and data.account.program.tier_qualification == Program.TierQualification.POINTS
    return {
        "tierExpiryDate": timezone.localtime(renewal.expdate, UTC).date().isoformat(),
        "renewConfirmed": renewal.renew_confirmed,
        "renewStrategies": [
            {
                "renewBasedOn": "POINTS" if points else "PURCHASE",
                "trackerEntityIdentifiers": [],
                "renewThreshold": _number(renewal.keep_threshold),
                "customerRenewEntityValue": _number(renewal.current_value),
                "customerGapToRenewValue": _number(renewal.gap),
            }
        ],
    }


@extend_schema_field(OpenApiTypes.OBJECT)
class _ObjectField(serializers.Field):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, source="*", **kwargs)


class CapillaryCustomerOutputSerializer(serializers.Serializer):
    """Capillary's customer object. Embed blocks appear only when asked for; `upgradeStrategies` and
    `gapToRenewSummary` with embed=mlp and gapToUpgrade / gapToRenew, top-level as Capillary's page lists them
    (`gapToRenewSummary` left out in the entry tier, as there)."""

    id = serializers.SerializerMethodField()
    profiles = serializers.SerializerMethodField()
    loyaltyInfo = serializers.SerializerMethodField()
    segments = serializers.SerializerMethodField(help_text="embed=segments: empty, we keep no segments.")
    associatedWith = serializers.SerializerMethodField()
    extendedFields = serializers.SerializerMethodField()
    pointsSummary = serializers.SerializerMethodField(help_text="embed=points.")
    loyaltyProgramDetails = serializers.SerializerMethodField(help_text="embed=mlp.")
    groupLoyaltyProgramDetails = serializers.SerializerMethodField(help_text="embed=mlp.")
    expirySchedules = serializers.SerializerMethodField(help_text="embed=expirySchedules.")
    upgradeStrategies = serializers.SerializerMethodField(help_text="embed=mlp and gapToUpgrade.")
    gapToRenewSummary = serializers.SerializerMethodField(help_text="embed=mlp and gapToRenew; not in the entry tier.")
    warnings = CapillaryItemOutputSerializer(many=True)

    def get_id(self, data: CapillaryCustomer) -> int:
        return customer_number(data.customer)

    @extend_schema_field({"type": "array", "items": {"type": "object"}})
    def get_profiles(self, data: CapillaryCustomer) -> list[dict[str, Any]]:
        return [_profile(data)]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_loyaltyInfo(self, data: CapillaryCustomer) -> dict[str, Any]:
        account = data.account
        enrolled = data.overview.state == LoyaltyAccount.State.ENROLLED
        info: dict[str, Any] = {
            "loyaltyType": "loyalty" if enrolled else "non_loyalty",
            "lifetimePurchases": _number(data.overview.purchase_total),
        }
        if account is not None:
            info["attributionV2"] = {
                "createDate": capillary_datetime(account.enrolled_at or account.created_at),
                "createdFromSource": "instore",
            }
        return info

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_segments(self, data: CapillaryCustomer) -> dict[str, str]:
        return {}

    def get_associatedWith(self, data: CapillaryCustomer) -> str:
        store = data.customer.created_store
        return store.code if store is not None else ""

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_extendedFields(self, data: CapillaryCustomer) -> dict[str, str]:
        customer = data.customer
        named = {"gender": customer.gender.lower(), "country": customer.country}
        return {name: value for name, value in named.items() if value}

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_pointsSummary(self, data: CapillaryCustomer) -> dict[str, Any]:
        return _slab_fields(data)

    @extend_schema_field({"type": "array", "items": {"type": "object"}})
    def get_loyaltyProgramDetails(self, data: CapillaryCustomer) -> list[dict[str, Any]]:
        return [_program_details(data)] if data.account is not None else []

    @extend_schema_field({"type": "array", "items": {"type": "object"}})
    def get_groupLoyaltyProgramDetails(self, data: CapillaryCustomer) -> list[dict[str, Any]]:
        return []

    @extend_schema_field({"type": "array", "items": {"type": "object"}})
    def get_expirySchedules(self, data: CapillaryCustomer) -> list[dict[str, Any]]:
        program_id = data.account.program_id if data.account is not None else None
        return [
            {
                "points": entry.points,
                "expiryDate": entry.expdate.isoformat(),
                "programId": program_id,
                "pointsType": "bill_regular",
                "expiryType": "fixed",
            }
            for entry in data.overview.expiry_schedule or []
        ]

    @extend_schema_field({"type": "array", "items": {"type": "object"}})
    def get_upgradeStrategies(self, data: CapillaryCustomer) -> list[dict[str, Any]]:
        return _upgrade_strategies(data)

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_gapToRenewSummary(self, data: CapillaryCustomer) -> dict[str, Any] | None:
        return _gap_to_renew(data)

    def to_representation(self, instance: CapillaryCustomer) -> dict[str, Any]:
        wanted = {
            "pointsSummary": "points" in instance.embeds,
            "loyaltyProgramDetails": "mlp" in instance.embeds,
            "groupLoyaltyProgramDetails": "mlp" in instance.embeds,
            "expirySchedules": "expirySchedules" in instance.embeds,
            "segments": "segments" in instance.embeds,
            "upgradeStrategies": "mlp" in instance.embeds and instance.gap_to_upgrade,
            "gapToRenewSummary": "mlp" in instance.embeds and instance.gap_to_renew and instance.renewal is not None,
        }
        for name, shown in wanted.items():
            if not shown:
                self.fields.pop(name, None)
        data = super().to_representation(instance)
        # warnings last, as Capillary's samples have it
        data["warnings"] = data.pop("warnings")
        return data


class CapillaryCustomerOutputSchema(OpenApiSerializerExtension):
    """The embed blocks are there only when asked for, so they are not required; drf-spectacular would require every
    read-only field."""

    target_class = CapillaryCustomerOutputSerializer

    def map_serializer(self, auto_schema: Any, direction: Any) -> Any:
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        schema["required"] = [name for name in schema.get("required", []) if name not in EMBED_BLOCKS]
        return schema
