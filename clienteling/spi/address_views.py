"""Customer Address SPI (Salesforce Commerce Point of Sale 2.3.x), the Clienteling SPI's companion for a customer's
address book. When its connectors are configured, the POS manages addresses through it and ignores `addressList`
in the Clienteling SPI's requests.

GET_CUSTOMER_ADDRESSES    GET    /endpoint/sa/customer/address?customerId=[&addressId=]
CREATE_CUSTOMER_ADDRESS   POST   /endpoint/sa/customer/address   {"customerId", "address": {...}}
UPDATE_CUSTOMER_ADDRESS   PUT    /endpoint/sa/customer/address   {"customerId", "address": {"addressId", ...}}
DELETE_CUSTOMER_ADDRESS   DELETE /endpoint/sa/customer/address?customerId=&addressId=   (or the same in a body)

The vendor publishes the operation names, the sample path and that an address is chosen "by customer ID and address
ID"; the bodies are ours, in the Clienteling SPI's conventions (docs/pos-connector.md section 6): the ids travel in
the body as UPDATE_CUSTOMER's does, or in the query where a method has no body; bodies may be bare or wrapped in
`customer`; every operation answers the customer object (the POS reads `addressList` from it), enveloped as
GET_CUSTOMER's is. CREATE honours an Idempotency-Key as CREATE_CUSTOMER does.
"""

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from clienteling.error_codes import SpiErrorCode
from clienteling.spi import schema_examples as examples
from clienteling.spi.serializers import (
    CustomerAddressInputSerializer,
    CustomerAddressQueryInputSerializer,
    CustomerAddressWriteInputSerializer,
)
from clienteling.spi.views import (
    CustomerEnvelopeOutputSerializer,
    SpiApi,
    SpiErrorOutputSerializer,
    _as_json,
    _unwrapped_body,
    spi_customer_queryset,
    spi_customer_representation,
    spi_envelope,
    spi_error_responses,
)
from core.api.schema import IDEMPOTENCY_KEY_SCHEMA, input_parameter
from core.exceptions import ApplicationError
from core.idempotency import HEADER as IDEMPOTENCY_KEY_HEADER
from core.idempotency import REPLAYED_HEADER, idempotency_key_clean, idempotent_call
from crm.permissions import api_client_of
from crm.selectors import api_client_store_check, customer_get
from crm.services.addresses import (
    address_not_found,
    customer_address_create,
    customer_address_delete,
    customer_address_update,
)
from loyalty.services.purchases import request_fingerprint

TAG = "Customer Address SPI"
_ENVELOPE = (
    ' The response is the customer object, as GET_CUSTOMER answers it (`{"customer": {...}}`, or unwrapped with '
    "`SPI_RESPONSE_ENVELOPE=bare`); the POS reads `addressList` from it."
)
_ADDRESS_ERRORS = {
    400: (
        "VALIDATION_ERROR (a field's type, length, characters or format; `address.country` that is not an ISO code), "
        "INVALID_JSON or INVALID_REQUEST, MISSING_CUSTOMER_ID, MISSING_ADDRESS_ID, INVALID_FIELD (an address with no "
        "field, a phone that is not one), IDEMPOTENCY_KEY_INVALID."
    ),
    404: "CUSTOMER_NOT_FOUND: no such customer, or one erased; ADDRESS_NOT_FOUND: the customer has no such address.",
    409: (
        "ADDRESS_ALREADY_IN_LIST: the changed address is another entry of the list (its id is in the message); "
        "IDEMPOTENCY_KEY_REUSED or IDEMPOTENCY_REQUEST_IN_PROGRESS."
    ),
}


def _address_error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    responses = spi_error_responses(*statuses)
    for status, description in _ADDRESS_ERRORS.items():
        if status in responses:
            responses[status] = OpenApiResponse(SpiErrorOutputSerializer, description=description)
    return responses


def _query(request: Request) -> dict[str, Any]:
    serializer = CustomerAddressQueryInputSerializer(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _required(value: str | None, *, code: SpiErrorCode, field: str, message: str) -> str:
    if not value:
        raise ApplicationError(message, code=code, extra={"field": field})
    return value


def _customer_id(*candidates: str | None) -> str:
    return _required(
        next((value for value in candidates if value), None),
        code=SpiErrorCode.MISSING_CUSTOMER_ID,
        field="customerId",
        message=_("Required: the id of the customer (customerId in the body or the query)."),
    )


def _address_id(*candidates: str | None) -> str:
    return _required(
        next((value for value in candidates if value), None),
        code=SpiErrorCode.MISSING_ADDRESS_ID,
        field="address_id",
        message=_("Required: the id of the address (address.addressId, or addressId in the body or the query)."),
    )


def _store_check(request: Request, validated: dict[str, Any]) -> None:
    """A store the POS names must be one of a restricted key's; naming none is allowed, as for UPDATE_CUSTOMER (the
    customer record is not store-scoped)."""
    store_code = validated.get("store_attribution", {}).get("store_id") or None
    api_client_store_check(client=api_client_of(request), store_code=store_code, field="store_id", store_required=False)


def _customer_representation(customer_id: str) -> dict[str, Any]:
    return spi_customer_representation(customer_get(public_id=customer_id, queryset=spi_customer_queryset()))


def _customer_body(customer_id: str) -> Any:
    return spi_envelope("customer", _customer_representation(customer_id))


def _address_created_body(customer_id: str, data: dict[str, Any]) -> Any:
    """Add the address and render the customer; with an Idempotency-Key this runs in the key's transaction."""
    customer_address_create(public_id=customer_id, data=data)
    return _customer_body(customer_id)


def _body_with_address_id(request: Request, query: dict[str, Any]) -> dict[str, Any]:
    """UPDATE's body with the address id inside `address`, wherever the POS sent it, so that the address is read as
    a change of that address (blank fields clear) rather than as new content."""
    body = dict(_unwrapped_body(request.data))
    address = body.get("address")
    if isinstance(address, dict) and not address.get("addressId"):
        address_id = body.get("addressId") or query.get("address_id")
        if address_id:
            body["address"] = {**address, "addressId": address_id}
    return body


_IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_KEY_HEADER,
    IDEMPOTENCY_KEY_SCHEMA,
    OpenApiParameter.HEADER,
    description=(
        "As for CREATE_CUSTOMER: up to 255 printable characters, kept 24 hours per API key; the same key and body "
        "again answers the first response (with `Idempotent-Replayed: true`) and adds nothing; another body is 409 "
        "`IDEMPOTENCY_KEY_REUSED`."
    ),
)


class CustomerAddressSpiApi(SpiApi):
    @extend_schema(
        operation_id="GET_CUSTOMER_ADDRESSES",
        summary="GET_CUSTOMER_ADDRESSES: the customer's address book",
        description=(
            "The customer named by `customerId`, with every address in `addressList`. With `addressId`, "
            "`addressList` holds that address only (404 `ADDRESS_NOT_FOUND` when the customer has no such address)."
            + _ENVELOPE
        ),
        parameters=[
            input_parameter(CustomerAddressQueryInputSerializer, "customerId", description="The customer. Required."),
            input_parameter(CustomerAddressQueryInputSerializer, "addressId", description="One address of theirs."),
        ],
        responses={200: CustomerEnvelopeOutputSerializer, **_address_error_responses(400, 403, 404, 429, 500)},
        examples=[examples.ADDRESS_LIST_RESPONSE, examples.ADDRESS_NOT_FOUND_RESPONSE],
        tags=[TAG],
    )
    def get(self, request: Request) -> Response:
        query = _query(request)
        customer_id = _customer_id(query.get("customer_id"))
        customer = _customer_representation(customer_id)
        address_id = query.get("address_id")
        if address_id:
            customer["addressList"] = [entry for entry in customer["addressList"] if entry["addressId"] == address_id]
            if not customer["addressList"]:
                address_not_found(address_id=address_id)
        return Response(spi_envelope("customer", customer))

    @extend_schema(
        operation_id="CREATE_CUSTOMER_ADDRESS",
        summary="CREATE_CUSTOMER_ADDRESS: add an address",
        description=(
            "Adds `address` to the `addressList` of the customer named by `customerId`. An address already in the "
            "list (the same content, however typed) is not added twice: the answer shows the existing entry. "
            "`profile.address` and `loyaltyProfile.address` do not change (UPDATE_CUSTOMER's `profile.address` "
            "sets them). A key restricted to some stores may name one of them in `storeAttribution.storeId`."
            + _ENVELOPE
        ),
        request=CustomerAddressWriteInputSerializer,
        parameters=[
            _IDEMPOTENCY_KEY_PARAMETER,
            input_parameter(
                CustomerAddressQueryInputSerializer,
                "customerId",
                description="The customer, for connectors that do not send it in the body (which wins).",
            ),
        ],
        responses={
            200: CustomerEnvelopeOutputSerializer,
            **_address_error_responses(400, 403, 404, 409, 413, 415, 429, 500),
        },
        examples=[examples.ADDRESS_CREATE_REQUEST, examples.ADDRESS_CREATE_RESPONSE, examples.ADDRESS_ERROR_RESPONSE],
        tags=[TAG],
    )
    def post(self, request: Request) -> Response:
        query = _query(request)
        serializer = CustomerAddressWriteInputSerializer(data=_unwrapped_body(request.data))
        serializer.is_valid(raise_exception=True)
        validated = serializer.validated_data
        customer_id = _customer_id(validated.get("customer_id"), query.get("customer_id"))
        _store_check(request, validated)
        data = {name: value for name, value in validated["address"].items() if name != "address_id"}
        header = request.headers.get(IDEMPOTENCY_KEY_HEADER)
        key = "" if header is None else idempotency_key_clean(header)
        if not key:
            return Response(_address_created_body(customer_id, data))
        result = idempotent_call(
            owner=f"api_client:{api_client_of(request).pk}",
            key=key,
            fingerprint=request_fingerprint(
                {"endpoint": "spi/customer/address", "body": request.data, "customerId": customer_id}
            ),
            work=lambda: (200, _as_json(_address_created_body(customer_id, data))),
        )
        return Response(result.body, status=result.status, headers={REPLAYED_HEADER: "true"} if result.replayed else {})

    @extend_schema(
        operation_id="UPDATE_CUSTOMER_ADDRESS",
        summary="UPDATE_CUSTOMER_ADDRESS: change an address in place",
        description=(
            "Changes the address `address.addressId` (or `addressId` beside it, or in the query) of the customer "
            "`customerId`, in place: its id stays, and `profile.address` and `loyaltyProfile.address` show the "
            'change when they are this address. A merge: fields not sent stay, `null` or `""` clears one. The new '
            "content may not be another entry's (409 `ADDRESS_ALREADY_IN_LIST`)." + _ENVELOPE
        ),
        request=CustomerAddressWriteInputSerializer,
        parameters=[
            input_parameter(CustomerAddressQueryInputSerializer, "customerId", description="If not in the body."),
            input_parameter(CustomerAddressQueryInputSerializer, "addressId", description="If not in the body."),
        ],
        responses={
            200: CustomerEnvelopeOutputSerializer,
            **_address_error_responses(400, 403, 404, 409, 413, 415, 429, 500),
        },
        examples=[
            examples.ADDRESS_UPDATE_REQUEST,
            examples.ADDRESS_UPDATE_RESPONSE,
            examples.ADDRESS_NOT_FOUND_RESPONSE,
        ],
        tags=[TAG],
    )
    def put(self, request: Request) -> Response:
        query = _query(request)
        serializer = CustomerAddressWriteInputSerializer(data=_body_with_address_id(request, query))
        serializer.is_valid(raise_exception=True)
        validated = serializer.validated_data
        customer_id = _customer_id(validated.get("customer_id"), query.get("customer_id"))
        changes = dict(validated["address"])
        address_id = _address_id(changes.pop("address_id", None))
        _store_check(request, validated)
        customer_address_update(public_id=customer_id, address_id=address_id, changes=changes)
        return Response(_customer_body(customer_id))

    @extend_schema(
        operation_id="DELETE_CUSTOMER_ADDRESS",
        summary="DELETE_CUSTOMER_ADDRESS: remove an address",
        description=(
            "Removes the address `addressId` of the customer `customerId` (both in the query, or in a body: "
            "`customerId` and `addressId` or `address.addressId`). When it was `profile.address` or "
            "`loyaltyProfile.address`, those are left out afterwards: no other address takes their place until the "
            "POS sets one with UPDATE_CUSTOMER's `profile.address`." + _ENVELOPE
        ),
        request=CustomerAddressInputSerializer,
        parameters=[
            input_parameter(CustomerAddressQueryInputSerializer, "customerId", description="If not in the body."),
            input_parameter(CustomerAddressQueryInputSerializer, "addressId", description="If not in the body."),
        ],
        responses={200: CustomerEnvelopeOutputSerializer, **_address_error_responses(400, 403, 404, 415, 429, 500)},
        examples=[examples.ADDRESS_DELETE_RESPONSE, examples.ADDRESS_NOT_FOUND_RESPONSE],
        tags=[TAG],
    )
    def delete(self, request: Request) -> Response:
        query = _query(request)
        serializer = CustomerAddressInputSerializer(data=_unwrapped_body(request.data or {}))
        serializer.is_valid(raise_exception=True)
        validated = serializer.validated_data
        customer_id = _customer_id(validated.get("customer_id"), query.get("customer_id"))
        address_id = _address_id(
            validated.get("address", {}).get("address_id"), validated.get("address_id"), query.get("address_id")
        )
        _store_check(request, validated)
        customer_address_delete(public_id=customer_id, address_id=address_id)
        return Response(_customer_body(customer_id))
