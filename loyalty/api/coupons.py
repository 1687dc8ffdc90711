"""The loyalty coupons API, modelled on Antavo's coupons (A8.3):

GET  /api/v1/customers/{id}/coupons        the customer's vouchers, newest first (status=, channel=, limit=)
                                           (scope loyalty:read)
POST /api/v1/customers/{id}/coupons/claim  claim a code for the customer                    (loyalty:write)
POST /api/v1/coupons/validate              would the code apply to this cart, and how much; writes nothing
                                           (loyalty:read)
POST /api/v1/coupons/redeem                redeem the code in a purchase (at a store), once  (loyalty:write)

A redemption is idempotent on its transaction id: the same redemption again answers the same body; the same
transaction id with a cart giving another discount, or from another store, is 409 ERR_TX_ALREADY_EXISTS; another
transaction id is 409 COUPON_ALREADY_REDEEMED. A key restricted to some stores may not redeem for another (403).
Validate and redeem also take an auto-apply coupon's own code (what Scan & Go devices and shopper sessions offer a
customer holding no voucher of it), for a given customer: redeeming it issues them a voucher and redeems it.
Errors are the core shape {"message", "code", "extra"}.
"""

from typing import Any

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.schema import input_parameter
from crm.models import Customer
from crm.permissions import api_client_of
from crm.selectors import api_client_store_check
from crm.validators import validate_code
from loyalty.api.common import LoyaltyReadApi, LoyaltyWriteApi, access_error_responses, error_responses
from loyalty.api.coupon_serializers import (
    CouponClaimInputSerializer,
    CouponListInputSerializer,
    CouponListOutputSerializer,
    CouponOutputSerializer,
    CouponRedeemInputSerializer,
    CouponRedeemOutputSerializer,
    CouponValidateInputSerializer,
    CouponValidateOutputSerializer,
    cart_lines,
    coupon_body,
    redemption_body,
)
from loyalty.api.filters import CustomerVoucherFilterSet, filterset_validated
from loyalty.models import Voucher
from loyalty.selectors.accounts import ERASED_MESSAGE, customer_get_for_loyalty
from loyalty.selectors.coupons import customer_vouchers_list
from loyalty.services.coupon_redemptions import voucher_redeem, voucher_validate
from loyalty.services.vouchers import voucher_claim

TAG = "Loyalty coupons"


def _customer_or_none(public_id: str | None) -> Customer | None:
    return customer_get_for_loyalty(public_id=public_id) if public_id else None


def redemption_answer(voucher: Voucher) -> dict[str, Any]:
    """What a redemption answers, built from the voucher alone so that a retry answers the same: redemption_body
    and the store the voucher was redeemed at."""
    body = redemption_body(voucher)
    store_id = voucher.redeemed_store.code if voucher.redeemed_store is not None else None
    return {"transaction_id": body["transaction_id"], "customer": body["customer"], "store_id": store_id, **body}


# OpenAPI documentation.

_COUPON = {
    "code": "WELCOME-7KQ4-M2XR",
    "status": "claimed",
    "type": "percent",
    "value": "10.00",
    "currency": "USD",
    "name": "Welcome_10",
    "created_at": "2026-05-02T12:42:58Z",
    "claimed_at": "2026-05-02T12:42:58Z",
    "redeemed_at": None,
    "expires_at": "2026-05-16T21:59:00Z",
    "channels": ["pos", "scan_and_go", "web"],
    "auto_apply": False,
}
_CART = {
    "total": "59.98",
    "items": [
        {"product_id": "SHIRT", "price": "40.00", "quantity": 1},
        {"product_id": "SOCKS", "price": "9.99", "quantity": 2},
    ],
}


def _error(name: str, message: str, code: str, status: str, **extra: Any) -> OpenApiExample:
    return OpenApiExample(
        name, value={"message": message, "code": code, "extra": extra}, response_only=True, status_codes=[status]
    )


NOT_FOUND = _error("Unknown code", "No such coupon code.", "COUPON_NOT_FOUND", "404")
ALREADY_REDEEMED = _error("Already redeemed", "The coupon was already redeemed.", "COUPON_ALREADY_REDEEMED", "409")
CHANGED_RETRY = _error(
    "Same transaction, another discount",
    "Transaction SF01-0042-10001 already redeemed this coupon for 6.00; this cart would give another discount.",
    "ERR_TX_ALREADY_EXISTS",
    "409",
    field="transaction_id",
    discount="6.00",
)
STORE_NOT_ALLOWED = _error(
    "Store not allowed", "This API key may not act for store SF02.", "STORE_NOT_ALLOWED", "403", field="store_id"
)
STORE_REQUIRED = _error(
    "Store required",
    "Required: this API key may act only for some stores.",
    "STORE_REQUIRED",
    "403",
    field="store_id",
)
ERASED = _error("Erased customer", ERASED_MESSAGE, "CUSTOMER_ERASED", "410")
BAD_INPUT = OpenApiExample(
    "Missing field",
    value={
        "message": "code: This field is required.",
        "code": "validation_error",
        "extra": {"fields": {"code": ["This field is required."]}},
    },
    response_only=True,
    status_codes=["400"],
)
_ERRORS = {
    400: "Bad input; the message names the field.",
    404: "No such customer (CUSTOMER_NOT_FOUND) or code (COUPON_NOT_FOUND).",
    410: f'The customer was erased: "{ERASED_MESSAGE}".',
}
READ_ERRORS = {**access_error_responses(scope="loyalty:read"), **error_responses(_ERRORS)}
WRITE_ERRORS = {**access_error_responses(scope="loyalty:write"), **error_responses(_ERRORS)}


class CustomerCouponListApi(LoyaltyReadApi):
    # What drf-spectacular's django-filter extension reads to document the filters (the model and the FilterSet);
    # get() validates the same FilterSet itself, before looking the customer up.
    queryset = Voucher.objects.none()
    filter_backends = (DjangoFilterBackend,)
    filterset_class = CustomerVoucherFilterSet

    @extend_schema(
        operation_id="loyalty_customer_coupon_list",
        summary="A customer's coupons",
        description=(
            "The customer's vouchers, newest first: Antavo's coupon fields (`type` is `percent`, `amount` or "
            "`free_item`; `value` a percentage, an amount or 0; `created_at` when it was issued) plus the "
            "`channels` it may be used in and `auto_apply` (tills apply it without a code). Filter by `status` "
            "(issued, claimed, redeemed, expired, cancelled) and `channel` (pos, scan_and_go, web); at most "
            "`limit` (default 50, at most 200)."
        ),
        parameters=[input_parameter(CouponListInputSerializer, "limit", description="1 to 200, default 50.")],
        filters=True,
        responses={200: CouponListOutputSerializer, **READ_ERRORS},
        examples=[
            OpenApiExample("A claimed coupon", value={"data": [_COUPON]}, response_only=True, status_codes=["200"]),
            ERASED,
        ],
        tags=[TAG],
    )
    def get(self, request: Request, customer_id: str) -> Response:
        serializer = CouponListInputSerializer(data=request.query_params)
        filters = filterset_validated(self.filterset_class, request.query_params, serializer=serializer)
        customer = customer_get_for_loyalty(public_id=customer_id)
        limit = serializer.validated_data["limit"]
        vouchers = filters.filter_queryset(customer_vouchers_list(customer=customer))[:limit]
        return Response({"data": CouponOutputSerializer(vouchers, many=True).data})


class CustomerCouponClaimApi(LoyaltyWriteApi):
    @extend_schema(
        operation_id="loyalty_customer_coupon_claim",
        summary="Claim a coupon code for the customer",
        description=(
            "An anonymous code, or a voucher issued to the customer, becomes the customer's claimed voucher. "
            "Claiming it again answers the same. A voucher of another customer is 404 (codes are not confirmed "
            "to strangers); redeemed, cancelled or expired ones are 409, and so is a coupon whose per-customer "
            "limit is reached (`COUPON_LIMIT_REACHED`)."
        ),
        request=CouponClaimInputSerializer,
        responses={
            200: CouponOutputSerializer,
            **WRITE_ERRORS,
            **error_responses({409: "Cannot be claimed."}),
        },
        examples=[
            OpenApiExample("Claim", value={"code": "WELCOME-7KQ4-M2XR"}, request_only=True),
            OpenApiExample("Claimed", value=_COUPON, response_only=True, status_codes=["200"]),
            BAD_INPUT,
            NOT_FOUND,
            ERASED,
        ],
        tags=[TAG],
    )
    def post(self, request: Request, customer_id: str) -> Response:
        serializer = CouponClaimInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer = customer_get_for_loyalty(public_id=customer_id)
        voucher = voucher_claim(code=serializer.validated_data["code"], customer=customer)
        return Response(coupon_body(voucher))


class CouponValidateApi(LoyaltyReadApi):
    @extend_schema(
        operation_id="loyalty_coupon_validate",
        summary="Would a coupon apply to a cart?",
        description=(
            "Checks the code against the customer (optional: a guest), the channel and the cart, and answers "
            "whether it applies, every reason it does not (`inactive`, `not_yet_valid`, `ended`, "
            "`channel_not_allowed`, `tier_not_eligible`, `basket_below_minimum`, `customer_limit_reached`, "
            "`total_limit_reached`, `item_not_in_basket`, `other_customer`, `customer_required`) and the "
            "discount it would give. Writes nothing. The code is a voucher's, or an auto-apply coupon's own code "
            "(as Scan & Go and shopper sessions offer it to a customer without a voucher of it): that one needs "
            "the `customer` (else `customer_required`), and its limits count every voucher of the coupon the "
            "customer (`customer_limit_reached`) and everyone (`total_limit_reached`) holds or used. Unknown codes, "
            "and codes of coupons that are not auto-apply, are 404; redeemed, cancelled or expired vouchers 409."
        ),
        request=CouponValidateInputSerializer,
        responses={200: CouponValidateOutputSerializer, **READ_ERRORS, **error_responses({409: "Unusable."})},
        examples=[
            OpenApiExample(
                "Validate at the till",
                value={"code": "WELCOME-7KQ4-M2XR", "customer": "C8M4Q2T7ZK1PA", "channel": "pos", "cart": _CART},
                request_only=True,
            ),
            OpenApiExample(
                "Eligible",
                value={"code": "WELCOME-7KQ4-M2XR", "eligible": True, "reasons": [], "discount": "6.00"},
                response_only=True,
                status_codes=["200"],
            ),
            OpenApiExample(
                "Not eligible",
                value={
                    "code": "WELCOME-7KQ4-M2XR",
                    "eligible": False,
                    "reasons": ["channel_not_allowed", "basket_below_minimum"],
                    "discount": None,
                },
                response_only=True,
                status_codes=["200"],
            ),
            BAD_INPUT,
            NOT_FOUND,
            ALREADY_REDEEMED,
        ],
        tags=[TAG],
    )
    def post(self, request: Request) -> Response:
        serializer = CouponValidateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        params = serializer.validated_data
        result = voucher_validate(
            code=params["code"],
            customer=_customer_or_none(params.get("customer")),
            channel=params["channel"],
            lines=cart_lines(params["cart"]),
        )
        answer = {"code": params["code"], "eligible": result.eligible, "reasons": result.reasons}
        return Response(CouponValidateOutputSerializer({**answer, "discount": result.discount}).data)


class CouponRedeemApi(LoyaltyWriteApi):
    @extend_schema_serializer(component_name="CouponRedeemInput")
    class InputSerializer(CouponRedeemInputSerializer):
        store_id = serializers.CharField(
            required=False,
            max_length=64,
            validators=[validate_code],
            help_text="The store of the till, as in checkout events; recorded with the redemption.",
        )

    @extend_schema_serializer(component_name="CouponRedeemOutput")
    class OutputSerializer(CouponRedeemOutputSerializer):
        store_id = serializers.CharField(allow_null=True, help_text="The store it was redeemed at, if one was given.")

    @extend_schema(
        operation_id="loyalty_coupon_redeem",
        summary="Redeem a coupon in a purchase",
        description=(
            "Redeems the code once, in the purchase `transaction_id` at the store `store_id` (optional; a key "
            "restricted to some stores may not name another: 403 `STORE_NOT_ALLOWED`, and must name one of its own: "
            "403 `STORE_REQUIRED`), and answers the discount it "
            "gave. Idempotent on `transaction_id`: the same redemption again (a till retrying: same customer, same "
            "store, a cart giving the same discount) answers the same body and writes nothing; the same transaction "
            "id with a cart giving another discount, or from another store, is 409 `ERR_TX_ALREADY_EXISTS`; another "
            "transaction id is 409 `COUPON_ALREADY_REDEEMED`, also when two tills redeem it at the same moment. An "
            "anonymous code redeemed for a customer becomes theirs, so the coupon's per-customer limit counts the "
            "vouchers they hold or used (`customer_limit_reached`). A coupon that does not apply is 422 "
            "`COUPON_NOT_ELIGIBLE` with "
            "`extra.reasons` (the reasons of `POST /api/v1/coupons/validate`). An auto-apply coupon's own code "
            "(e.g. `gold-10`, as Scan & Go devices and shopper sessions offer it) is redeemed for the `customer`, "
            "who is required (else 422 with `customer_required`): a voucher is issued to them and redeemed at "
            "once, and `coupon.code` in the answer is that voucher's (`AUTO-...`). The same transaction id again "
            "answers the first redemption and issues nothing; two tills at once get one voucher within the "
            "coupon's limits."
        ),
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            **WRITE_ERRORS,
            **error_responses(
                {
                    403: "The key lacks the loyalty:write scope, or may not act for the store.",
                    409: "Already redeemed, cancelled or expired; ERR_TX_ALREADY_EXISTS for the same transaction "
                    "with another discount or store.",
                    422: "COUPON_NOT_ELIGIBLE, with extra.reasons.",
                }
            ),
        },
        examples=[
            OpenApiExample(
                "Redeem at the till",
                value={
                    "code": "WELCOME-7KQ4-M2XR",
                    "customer": "C8M4Q2T7ZK1PA",
                    "transaction_id": "SF01-0042-10001",
                    "store_id": "SF01",
                    "channel": "pos",
                    "cart": _CART,
                },
                request_only=True,
            ),
            OpenApiExample(
                "Redeem an auto-applied coupon by its coupon code",
                value={
                    "code": "gold-10",
                    "customer": "C8M4Q2T7ZK1PA",
                    "transaction_id": "SF01-0042-10002",
                    "channel": "scan_and_go",
                    "cart": _CART,
                },
                request_only=True,
            ),
            OpenApiExample(
                "Redeemed",
                value={
                    "transaction_id": "SF01-0042-10001",
                    "customer": "C8M4Q2T7ZK1PA",
                    "store_id": "SF01",
                    "discount": "6.00",
                    "coupon": {**_COUPON, "status": "redeemed", "redeemed_at": "2026-05-03T10:00:00Z"},
                },
                response_only=True,
                status_codes=["200"],
            ),
            BAD_INPUT,
            STORE_NOT_ALLOWED,
            STORE_REQUIRED,
            NOT_FOUND,
            ALREADY_REDEEMED,
            CHANGED_RETRY,
            _error(
                "Not eligible",
                "The coupon cannot be used here.",
                "COUPON_NOT_ELIGIBLE",
                "422",
                reasons=["basket_below_minimum"],
            ),
        ],
        tags=[TAG],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        params = serializer.validated_data
        store_code = params.get("store_id")
        api_client_store_check(
            client=api_client_of(request), store_code=store_code, field="store_id", store_required=True
        )
        voucher = voucher_redeem(
            code=params["code"],
            transaction_id=params["transaction_id"],
            customer=_customer_or_none(params.get("customer")),
            channel=params["channel"],
            lines=cart_lines(params["cart"]),
            store_code=store_code,
        )
        return Response(redemption_answer(voucher))
