"""Shapes of the loyalty coupons API (/api/v1/customers/{id}/coupons, /api/v1/coupons/validate|redeem) and of the
events API's coupon_redeem data. snake_case; a coupon has Antavo's coupon fields (A8.3) plus our channels and
auto_apply. Money is a string with cents, as in the events API. Serializers check shape and types only; the
services (loyalty/services/vouchers.py, coupon_redemptions.py) check the business rules."""

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from crm.validators import validate_plain_text
from loyalty.models import CouponDefinition, Voucher
from loyalty.rules.coupons import CartLine

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_CART_ITEMS = 500


# Coupon money has the digits of the voucher's recorded discount (Voucher.redemption_amount, 12 with 2 decimals): a
# discount is at most the cart, so a cart within the bound always fits where the redemption records it.
MONEY_DIGITS = 12
CART_TOTAL_MAX = Decimal("9999999999.99")


def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=MONEY_DIGITS, decimal_places=2, **kwargs)


# ------------------------------------------------------------------------------------------------- input


class CouponListInputSerializer(serializers.Serializer):
    """The list's bound; its filters are loyalty.api.filters.CustomerVoucherFilterSet."""

    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT)


class CouponCodeField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_length=80, validators=[validate_plain_text], **kwargs)


class CouponClaimInputSerializer(serializers.Serializer):
    code = CouponCodeField()


class CartItemSerializer(serializers.Serializer):
    product_id = serializers.CharField(max_length=100, validators=[validate_plain_text])
    price = _money(min_value=Decimal("0"), help_text="Unit price.")
    quantity = serializers.IntegerField(min_value=1, max_value=100_000, default=1)
    discountable = serializers.BooleanField(
        default=True, help_text="False for lines excluded from discounts; they still count towards the basket."
    )


class CartSerializer(serializers.Serializer):
    """A cart: its items, or only its total. With both, the total must be the items' sum."""

    total = _money(min_value=Decimal("0"), required=False)
    items: serializers.ListSerializer[Any] = serializers.ListSerializer(
        child=CartItemSerializer(), required=False, max_length=MAX_CART_ITEMS
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        items = attrs.get("items") or []
        if not items and "total" not in attrs:
            raise serializers.ValidationError({"total": [_("Give the cart's total, or its items.")]})
        if items:
            total = sum((item["price"] * item["quantity"] for item in items), Decimal("0"))
            if total > CART_TOTAL_MAX:
                raise serializers.ValidationError(
                    {"items": [_("The items add up to more than %(max)s.") % {"max": f"{CART_TOTAL_MAX:,}"}]}
                )
            if "total" in attrs and total != attrs["total"]:
                raise serializers.ValidationError(
                    {"total": [_("Is not the sum of the items (%(total)s).") % {"total": f"{total:.2f}"}]}
                )
        return attrs


def cart_lines(cart: dict[str, Any]) -> list[CartLine]:
    """The rules' cart lines of a validated cart; a cart given by its total is one line without a product."""
    items = cart.get("items") or []
    if not items:
        return [CartLine(product_id="", unit_price=cart["total"])]
    return [
        CartLine(
            product_id=item["product_id"],
            unit_price=item["price"],
            quantity=item["quantity"],
            discountable=item["discountable"],
        )
        for item in items
    ]


class CouponValidateInputSerializer(serializers.Serializer):
    code = CouponCodeField()
    customer = serializers.CharField(
        max_length=32, required=False, help_text="Our public customer id; leave it out for a guest."
    )
    channel = serializers.ChoiceField(choices=CouponDefinition.Channel.choices)
    cart = CartSerializer()


class CouponRedeemInputSerializer(CouponValidateInputSerializer):
    transaction_id = serializers.CharField(
        max_length=100, validators=[validate_plain_text], help_text="The idempotency key of the redemption."
    )


class CouponRedeemDataSerializer(serializers.Serializer):
    """The data of the events API's coupon_redeem action: the cart, or only its amount."""

    code = CouponCodeField()
    transaction_id = serializers.CharField(max_length=100, validators=[validate_plain_text])
    channel = serializers.ChoiceField(choices=CouponDefinition.Channel.choices)
    amount = _money(min_value=Decimal("0"), required=False, help_text="The basket total, when no cart is sent.")
    cart = CartSerializer(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("amount" in attrs) == ("cart" in attrs):
            raise serializers.ValidationError({"amount": [_("Give the amount or the cart, one of them.")]})
        return attrs


# ------------------------------------------------------------------------------------------------- output


class CouponOutputSerializer(serializers.Serializer):
    """A voucher, with Antavo's coupon fields. `created_at` is when it was issued."""

    code = serializers.CharField()
    status = serializers.ChoiceField(choices=Voucher.Status.choices)
    type = serializers.ChoiceField(source="definition.kind", choices=CouponDefinition.Kind.choices)
    value = _money(source="definition.value", help_text="Percent for percent coupons, an amount, or 0 (free item).")
    currency = serializers.CharField(source="definition.program.currency")
    name = serializers.CharField(source="definition.name")
    created_at = serializers.DateTimeField(source="issued_at")
    claimed_at = serializers.DateTimeField(allow_null=True)
    redeemed_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True, help_text="Exclusive; null: never.")
    channels = serializers.ListField(child=serializers.CharField(), source="definition.channels")
    auto_apply = serializers.BooleanField(source="definition.auto_apply")


class CouponListOutputSerializer(serializers.Serializer):
    # A field, not Serializer.data (mypy takes it for an override): DRF's metaclass moves it out of the class.
    data = CouponOutputSerializer(many=True)  # type: ignore[assignment]


class CouponValidateOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    eligible = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField(), help_text="Why it cannot be used; [] if it can.")
    discount = _money(allow_null=True, help_text="The discount it would give; null when not eligible.")


class CouponRedeemOutputSerializer(serializers.Serializer):
    transaction_id = serializers.CharField()
    customer = serializers.CharField(allow_null=True)
    discount = _money()
    coupon = CouponOutputSerializer()


def coupon_body(voucher: Voucher) -> dict[str, Any]:
    return dict(CouponOutputSerializer(voucher).data)


def redemption_body(voucher: Voucher) -> dict[str, Any]:
    """What a redemption answers; built from the voucher alone, so that a replay answers the same."""
    return {
        "transaction_id": voucher.redeemed_transaction_id,
        "customer": voucher.customer.public_id if voucher.customer is not None else None,
        "discount": f"{voucher.redemption_amount:.2f}",
        "coupon": coupon_body(voucher),
    }
