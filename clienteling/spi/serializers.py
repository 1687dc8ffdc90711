"""Clienteling SPI wire format: camelCase in, camelCase out, mapped to our snake_case data with `source=`.

Input serializers check shape and types only; business rules (identity, email uniqueness, phone parsing) are the
services' job. Every input field is optional so that UPDATE_CUSTOMER can merge: what is absent stays unchanged.
"""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from clienteling.mapping import date_to_epoch_ms, datetime_to_epoch_ms, parse_spi_date
from crm.models import Customer
from crm.normalisation import normalise_phone
from crm.validators import (
    validate_code,
    validate_country_code,
    validate_language,
    validate_person_name,
    validate_plain_text,
    validate_typed_number,
)
from loyalty.models import CouponDefinition, LoyaltyAccount, Program, Voucher
from loyalty.selectors.accounts import RECENT_ORDERS, qualifying_number
from loyalty.selectors.coupons import SPI_COUPONS_MAX, vouchers_usable_queryset


def _text(max_length: int, *validators: Any, source: str | None = None, help_text: Any = None) -> serializers.CharField:
    kwargs: dict[str, Any] = {"source": source} if source else {}
    if help_text:
        kwargs["help_text"] = help_text
    return serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=max_length,
        trim_whitespace=True,
        validators=list(validators) or [validate_plain_text],
        **kwargs,
    )


@extend_schema_field(
    {
        "oneOf": [{"type": "integer", "format": "int64"}, {"type": "string", "format": "date"}],
        "description": "Epoch milliseconds (default) or YYYY-MM-DD (always accepted; sent when SPI_DATE_FORMAT=iso).",
    }
)
class SpiDateField(serializers.Field):
    """A date as "YYYY-MM-DD" or epoch milliseconds; written out in the format SPI_DATE_FORMAT names."""

    default_error_messages = {"invalid": _("Not a date: send YYYY-MM-DD or epoch milliseconds.")}

    def to_internal_value(self, data: Any) -> Any:
        try:
            return parse_spi_date(data)
        except (ValueError, TypeError):
            self.fail("invalid")

    def to_representation(self, value: Any) -> Any:
        if settings.SPI_DATE_FORMAT == "iso":
            return value.isoformat()
        return date_to_epoch_ms(value)


class PhoneField(serializers.CharField):
    default_error_messages = {"invalid_phone": _("Not a phone number.")}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, allow_blank=True, allow_null=True, max_length=32, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        if normalise_phone(text, default_region=settings.PHONENUMBER_DEFAULT_REGION) is None:
            self.fail("invalid_phone")
        return text


class AddressInputSerializer(serializers.Serializer):
    """An address. With an `addressId` it is a change of that address (UPDATE_CUSTOMER's addressList, the Customer
    Address SPI's UPDATE): a field sent as null or "" is cleared there, so blanks are kept as "". Without one it is
    new content, and blank fields are simply absent."""

    addressId = _text(32, validate_code, source="address_id")
    firstName = _text(100, validate_person_name, source="first_name")
    lastName = _text(100, validate_person_name, source="last_name")
    addressLine1 = _text(200, source="address_line1")
    addressLine2 = _text(200, source="address_line2")
    city = _text(100)
    state = _text(100)
    postalCode = _text(20, source="postal_code")
    countryCode = _text(3, validate_country_code, source="country_code")
    country = _text(64, help_text=_("Alias of countryCode: an ISO 3166 code. A country name is refused."))
    phone = PhoneField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        _country_as_code(attrs)
        if attrs.get("address_id"):
            return {key: "" if value is None else value for key, value in attrs.items()}
        return {key: value for key, value in attrs.items() if value not in (None, "")}


def _country_as_code(attrs: dict[str, Any]) -> None:
    """`country` is read as countryCode when it is an ISO 3166 code; a country name is refused rather than dropped
    (names are ambiguous across languages, and the address stores a code). Sent with a different countryCode,
    it is refused too."""
    country = attrs.pop("country", None)
    if not country:
        return
    try:
        validate_country_code(country)
    except DjangoValidationError as error:
        raise serializers.ValidationError(
            {"country": _("Send an ISO 3166 country code (two or three letters), for example in countryCode.")}
        ) from error
    code = attrs.get("country_code")
    if code and code.upper() != country.upper():
        raise serializers.ValidationError({"country": _("Differs from countryCode; send one of them.")})
    attrs["country_code"] = code or country


class TaxInfoInputSerializer(serializers.Serializer):
    taxId = _text(64, source="tax_id")


class ProfileInputSerializer(serializers.Serializer):
    customerId = _text(32, validate_code, source="customer_id")
    # A card handed out at the till, keyed in at sign-up: it becomes the customer's card (loyalty/services/
    # enrolment.py decides whether the program accepts it and whether it is free).
    loyaltyId = _text(64, validate_typed_number, source="loyalty_id")
    salutation = _text(32, validate_person_name)
    firstName = _text(100, validate_person_name, source="first_name")
    lastName = _text(100, validate_person_name, source="last_name")
    email = serializers.EmailField(required=False, allow_blank=True, allow_null=True, max_length=254)
    phoneMobile = PhoneField(source="phone_mobile")
    phoneHome = PhoneField(source="phone_home")
    phone = PhoneField(help_text=_("Alias of phoneMobile, used by some connectors."))
    birthday = SpiDateField(required=False, allow_null=True)
    gender = _text(32)
    preferredLanguage = _text(16, validate_language, source="preferred_language")
    customerGroup = _text(64, source="customer_group")
    alternateCustomerId = _text(64, source="alternate_customer_id")
    taxInfo = TaxInfoInputSerializer(required=False, allow_null=True, source="tax_info")
    country = _text(64)
    postalCode = _text(20, source="postal_code")
    allowSmsNotifications = serializers.BooleanField(required=False, allow_null=True, source="allow_sms_notifications")
    address = AddressInputSerializer(required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        alias = attrs.pop("phone", None)
        if alias and "phone_mobile" not in attrs:
            attrs["phone_mobile"] = alias
        tax_info = attrs.pop("tax_info", None)
        if tax_info is not None and "tax_id" in tax_info:
            attrs["tax_id"] = tax_info["tax_id"]
        address = attrs.get("address")
        if address and "address_id" in address:
            # profile.address is content (vendor scenario 3: an edited profile address is appended and the old entry
            # stays), so its addressId is not read; addressList entries with one are changed in place.
            attrs["address"] = {name: value for name, value in address.items() if name != "address_id" and value}
        return attrs


class ConsentsInputSerializer(serializers.Serializer):
    agreeToTC = serializers.BooleanField(required=False, allow_null=True, source="agree_to_tc")
    directMailSignUp = serializers.BooleanField(required=False, allow_null=True, source="direct_mail_sign_up")
    eReceipt = serializers.BooleanField(required=False, allow_null=True, source="e_receipt")
    loyaltySignUp = serializers.BooleanField(required=False, allow_null=True, source="loyalty_sign_up")
    newsLetterSignUp = serializers.BooleanField(required=False, allow_null=True, source="news_letter_sign_up")
    phoneSignUp = serializers.BooleanField(required=False, allow_null=True, source="phone_sign_up")
    smsSignUp = serializers.BooleanField(required=False, allow_null=True, source="sms_sign_up")


class StoreAttributionInputSerializer(serializers.Serializer):
    storeId = _text(64, validate_code, source="store_id")
    associateId = _text(64, validate_code, source="associate_id")


class CustomerInputSerializer(serializers.Serializer):
    """The customer object a POS sends to CREATE_CUSTOMER and UPDATE_CUSTOMER (already unwrapped)."""

    profile = ProfileInputSerializer(required=False)
    consents = ConsentsInputSerializer(required=False)
    addressList = serializers.ListField(
        child=AddressInputSerializer(), required=False, max_length=50, source="address_list"
    )
    storeAttribution = StoreAttributionInputSerializer(required=False, source="store_attribution")


class CustomerSearchInputSerializer(serializers.Serializer):
    """SEARCH_CUSTOMERS query parameters. Unknown parameters (such as api_key) are ignored."""

    firstName = _text(100, validate_person_name, source="first_name")
    lastName = _text(100, validate_person_name, source="last_name")
    email = _text(254)
    phone = PhoneField()
    phoneMobile = PhoneField(source="phone_mobile")
    loyaltyId = _text(40, validate_typed_number, source="loyalty_id")
    postalCode = _text(20, source="postal_code")
    customerId = _text(32, validate_code, source="customer_id")
    limit = serializers.IntegerField(required=False, min_value=1)


class CustomerUpdateQueryInputSerializer(serializers.Serializer):
    """UPDATE_CUSTOMER's query: the customer's id, for connectors that send it there rather than in
    profile.customerId."""

    customerId = _text(32, validate_code, source="customer_id")


class CustomerAddressQueryInputSerializer(serializers.Serializer):
    """The Customer Address SPI's query: the customer and the address, for GET and DELETE (which carry no body)
    and for connectors that put the ids there rather than in the body."""

    customerId = _text(32, validate_code, source="customer_id")
    addressId = _text(32, validate_code, source="address_id")


class CustomerAddressInputSerializer(serializers.Serializer):
    """The Customer Address SPI's body (already unwrapped): the customer's id and one address, which carries its
    `addressId` for UPDATE and may for DELETE (`addressId` beside `address` is accepted too)."""

    customerId = _text(32, validate_code, source="customer_id")
    addressId = _text(32, validate_code, source="address_id")
    address = AddressInputSerializer(required=False)
    storeAttribution = StoreAttributionInputSerializer(required=False, source="store_attribution")


class CustomerAddressWriteInputSerializer(CustomerAddressInputSerializer):
    """CREATE_CUSTOMER_ADDRESS and UPDATE_CUSTOMER_ADDRESS: the address is required."""

    address = AddressInputSerializer()


# ---------------------------------------------------------------------------------------------- output


class AddressOutputSerializer(serializers.Serializer):
    addressId = serializers.CharField(source="public_id")
    firstName = serializers.CharField(source="first_name")
    lastName = serializers.CharField(source="last_name")
    addressLine1 = serializers.CharField(source="address_line1")
    addressLine2 = serializers.CharField(source="address_line2")
    city = serializers.CharField()
    state = serializers.CharField()
    postalCode = serializers.CharField(source="postal_code")
    countryCode = serializers.CharField(source="country_code")
    phone = serializers.CharField()


class TaxInfoOutputSerializer(serializers.Serializer):
    taxId = serializers.CharField(source="tax_id")


class ProfileOutputSerializer(serializers.Serializer):
    customerId = serializers.CharField(source="public_id")
    salutation = serializers.CharField()
    firstName = serializers.CharField(source="first_name")
    lastName = serializers.CharField(source="last_name")
    email = serializers.CharField()
    phoneMobile = serializers.CharField(source="phone_mobile")
    phoneHome = serializers.CharField(source="phone_home")
    birthday = SpiDateField()
    gender = serializers.CharField()
    preferredLanguage = serializers.CharField(source="preferred_language")
    customerGroup = serializers.CharField(source="customer_group")
    alternateCustomerId = serializers.CharField(source="alternate_customer_id")
    taxInfo = TaxInfoOutputSerializer(source="*")
    loyaltyId = serializers.SerializerMethodField()
    country = serializers.CharField()
    postalCode = serializers.CharField(source="postal_code")
    allowSmsNotifications = serializers.BooleanField(source="allow_sms_notifications", allow_null=True)
    address = AddressOutputSerializer(source="profile_address", allow_null=True)
    createdDate = serializers.SerializerMethodField()
    lastModifiedDate = serializers.SerializerMethodField()

    def get_loyaltyId(self, customer: Customer) -> str | None:
        account = _primary_loyalty_account(customer)
        return account.account_number if account else None

    def get_createdDate(self, customer: Customer) -> int | None:
        return datetime_to_epoch_ms(customer.created_at)

    def get_lastModifiedDate(self, customer: Customer) -> int | None:
        return datetime_to_epoch_ms(customer.updated_at)


class ConsentsOutputSerializer(serializers.Serializer):
    agreeToTC = serializers.BooleanField(source="agree_to_tc", allow_null=True)
    directMailSignUp = serializers.BooleanField(source="direct_mail_sign_up", allow_null=True)
    eReceipt = serializers.BooleanField(source="e_receipt", allow_null=True)
    loyaltySignUp = serializers.BooleanField(source="loyalty_sign_up", allow_null=True)
    newsLetterSignUp = serializers.BooleanField(source="news_letter_sign_up", allow_null=True)
    phoneSignUp = serializers.BooleanField(source="phone_sign_up", allow_null=True)
    smsSignUp = serializers.BooleanField(source="sms_sign_up", allow_null=True)


class CurrentTierOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    subTitle = serializers.CharField(source="subtitle")


class SpiCouponOutputSerializer(serializers.Serializer):
    """One voucher in `loyaltyProfile.coupons`. The vendor publishes no coupon field for the loyalty profile, so
    these names are inferred, in the SPI's own conventions: camelCase, dates as `*Date` in epoch milliseconds,
    money as plain numbers (docs/pos-connector.md marks them so)."""

    code = serializers.CharField()
    title = serializers.CharField(source="definition.name")
    description = serializers.CharField(source="definition.description")
    type = serializers.ChoiceField(source="definition.kind", choices=CouponDefinition.Kind.choices)
    value = serializers.DecimalField(source="definition.value", max_digits=12, decimal_places=2, coerce_to_string=False)
    productId = serializers.CharField(source="definition.product_id")
    minimumBasketTotal = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=Voucher.Status.choices)
    autoApply = serializers.BooleanField(source="definition.auto_apply")
    issuedDate = serializers.SerializerMethodField()
    expiryDate = serializers.SerializerMethodField()

    def get_minimumBasketTotal(self, voucher: Voucher) -> float | None:
        minimum = voucher.definition.min_basket
        return float(minimum) if minimum else None

    def get_issuedDate(self, voucher: Voucher) -> int | None:
        return datetime_to_epoch_ms(voucher.issued_at)

    def get_expiryDate(self, voucher: Voucher) -> int | None:
        """The first instant it no longer works: its own expiry or the end of its coupon, whichever is earlier."""
        ends = [end for end in (voucher.expires_at, voucher.definition.valid_until) if end is not None]
        return datetime_to_epoch_ms(min(ends)) if ends else None


class LoyaltyProfileOutputSerializer(serializers.Serializer):
    """The account prefetched by loyalty_accounts_with_activity_prefetch, whose annotations carry the ledger
    balances, qualifying value and next tier."""

    accountNumber = serializers.CharField(source="account_number")
    firstName = serializers.CharField(source="customer.first_name")
    lastName = serializers.CharField(source="customer.last_name")
    address = AddressOutputSerializer(allow_null=True)
    # The ledger-backed cached spendable balance, kept equal to the ledger sum by loyalty/services/ledger.py.
    currentPoints = serializers.IntegerField(source="points_balance")
    cashRewards = serializers.DecimalField(
        source="store_credit", max_digits=12, decimal_places=2, coerce_to_string=False
    )
    currentStoreCredit = serializers.DecimalField(
        source="store_credit", max_digits=12, decimal_places=2, coerce_to_string=False
    )
    currentTier = serializers.SerializerMethodField()
    enrollmentDate = serializers.SerializerMethodField()
    customLoyaltyAttributes = serializers.SerializerMethodField()
    coupons = serializers.SerializerMethodField()

    def get_currentTier(self, account: Any) -> dict[str, Any] | None:
        if account.tier is None:
            return None
        tier = dict(CurrentTierOutputSerializer(account.tier).data)
        tier["startDate"] = datetime_to_epoch_ms(account.tier_achieved_at)
        tier["expiryDate"] = datetime_to_epoch_ms(account.tier_expires_at)
        return tier

    def get_enrollmentDate(self, account: Any) -> int | None:
        return datetime_to_epoch_ms(account.enrolled_at)

    def get_customLoyaltyAttributes(self, account: Any) -> dict[str, Any]:
        """Our extras, in the map the vendor leaves open: points not yet spendable, held for a payment, ever
        earned, and the gap (qualifying points, or spend for spend-based programs) to the next tier."""
        attributes: dict[str, Any] = {
            "pendingPoints": account.pending_points,
            "reservedPoints": account.reserved_points,
            "lifetimePoints": account.lifetime_points,
            "tierCode": account.tier.code if account.tier else None,
        }
        if account.next_tier_code is not None:
            value = account.qualifying_points if _on_points(account) else account.qualifying_spend
            attributes["nextTier"] = account.next_tier_code
            attributes["pointsToNextTier"] = qualifying_number(
                account.program, max(account.next_tier_threshold - Decimal(value), Decimal("0"))
            )
        return attributes

    @extend_schema_field(SpiCouponOutputSerializer(many=True))
    def get_coupons(self, account: Any) -> list[Any]:
        """The customer's vouchers of this account's program that a till can use now (prefetched by
        loyalty.selectors.coupons.customer_vouchers_usable_prefetch, for every customer of the response in one
        query)."""
        vouchers = getattr(account.customer, "usable_vouchers", None)
        if vouchers is None:
            usable = vouchers_usable_queryset(channel=CouponDefinition.Channel.POS, now=timezone.now())
            vouchers = list(usable.filter(customer_id=account.customer_id)[:SPI_COUPONS_MAX])
        own = [voucher for voucher in vouchers if voucher.definition.program_id == account.program_id]
        return list(SpiCouponOutputSerializer(own, many=True).data)


def _on_points(account: Any) -> bool:
    return account.program.tier_qualification == Program.TierQualification.POINTS


class OrderOutputSerializer(serializers.Serializer):
    orderId = serializers.CharField(source="transaction_id")
    orderDate = serializers.SerializerMethodField()
    orderTotal = serializers.DecimalField(source="total", max_digits=14, decimal_places=2, coerce_to_string=False)
    currency = serializers.CharField()
    status = serializers.CharField(source="state")
    pointsEarned = serializers.IntegerField(source="points_earned")

    def get_orderDate(self, purchase: Any) -> int | None:
        return datetime_to_epoch_ms(purchase.purchased_at)


class StoreAttributionOutputSerializer(serializers.Serializer):
    storeId = serializers.CharField(source="created_store.code", allow_null=True)
    associateId = serializers.CharField(source="created_associate.code", allow_null=True)


def _primary_loyalty_account(customer: Customer) -> Any:
    """The account in the default program (loyalty_accounts_with_activity_prefetch puts it first); None when the
    customer left the program (a guest: the account stays for its ledger). The vendor asks to leave loyaltyProfile
    out when it does not apply, and the POS offers loyalty (points, rewards) only to customers with one."""
    accounts = getattr(customer, "loyalty_accounts_prefetched", None)
    account = accounts[0] if accounts else None
    return None if account is None or account.state == LoyaltyAccount.State.GUEST else account


class CustomerOutputSerializer(serializers.Serializer):
    profile = ProfileOutputSerializer(source="*")
    consents = serializers.SerializerMethodField()
    addressList = AddressOutputSerializer(source="addresses.all", many=True)
    loyaltyProfile = serializers.SerializerMethodField()
    storeAttribution = StoreAttributionOutputSerializer(source="*")
    orderCount = serializers.SerializerMethodField()
    orderList = serializers.SerializerMethodField()

    def get_consents(self, customer: Customer) -> dict[str, Any]:
        consents = getattr(customer, "consents", None) if _has_consents(customer) else None
        return dict(ConsentsOutputSerializer(consents).data) if consents else {}

    @extend_schema_field(LoyaltyProfileOutputSerializer(allow_null=True))
    def get_loyaltyProfile(self, customer: Customer) -> dict[str, Any] | None:
        account = _primary_loyalty_account(customer)
        return dict(LoyaltyProfileOutputSerializer(account).data) if account else None

    def get_orderCount(self, customer: Customer) -> int:
        # Annotated by the SPI queryset (loyalty.selectors.accounts.customer_order_count_annotation): purchases not
        # rejected.
        return getattr(customer, "order_count", 0)

    @extend_schema_field(OrderOutputSerializer(many=True))
    def get_orderList(self, customer: Customer) -> list[Any]:
        """The latest RECENT_ORDERS purchases across the customer's accounts (each account's are prefetched)."""
        accounts = getattr(customer, "loyalty_accounts_prefetched", None) or []
        purchases = [purchase for account in accounts for purchase in getattr(account, "recent_purchases", [])]
        purchases.sort(key=lambda purchase: (purchase.purchased_at, purchase.id), reverse=True)
        return list(OrderOutputSerializer(purchases[:RECENT_ORDERS], many=True).data)


def _has_consents(customer: Customer) -> bool:
    try:
        return customer.consents is not None
    except Customer.consents.RelatedObjectDoesNotExist:
        return False
