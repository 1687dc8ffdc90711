from typing import NoReturn

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from crm.error_codes import CrmErrorCode
from crm.ids import generate_address_id
from crm.lock_objects import customer_qs_select_for_update
from crm.models import Address, Customer
from crm.normalisation import ADDRESS_CONTENT_FIELDS, address_fingerprint, normalise_phone, normalise_postal_code
from crm.selectors import customer_get
from crm.webhook_emitters import customer_updated_event


def _clean_address_data(data: dict[str, str | None]) -> dict[str, str]:
    cleaned = {name: (data.get(name) or "").strip() for name in ADDRESS_CONTENT_FIELDS}
    cleaned["country_code"] = cleaned["country_code"].upper()
    # phonenumbers knows regions by ISO alpha-2 only; an alpha-3 country falls back to the default region.
    region = cleaned["country_code"] if len(cleaned["country_code"]) == 2 else settings.PHONENUMBER_DEFAULT_REGION
    phone = normalise_phone(cleaned["phone"], default_region=region)
    if phone is None:
        raise ApplicationError(
            _("Not a phone number."), code=CrmErrorCode.INVALID_FIELD, extra={"field": "address.phone"}
        )
    cleaned["phone"] = phone
    return cleaned


def address_add(*, customer: Customer, data: dict[str, str | None]) -> Address:
    """Append an address to the customer's addressList, or return the existing entry with the same content.

    Runs inside the caller's transaction (customer_create / customer_update).
    """
    cleaned = _clean_address_data(data)
    fingerprint = address_fingerprint(cleaned)
    existing = Address.objects.filter(customer=customer, fingerprint=fingerprint).first()
    if existing is not None:
        return existing
    last_position = Address.objects.filter(customer=customer).aggregate(last=Max("position"))["last"]
    address = Address(
        customer=customer,
        public_id=generate_address_id(),
        position=0 if last_position is None else last_position + 1,
        postal_code_search=normalise_postal_code(cleaned["postal_code"]),
        fingerprint=fingerprint,
        **cleaned,
    )
    _full_clean_as_address(address)
    address.save()
    return address


def _full_clean_as_address(address: Address) -> None:
    """full_clean, with error keys prefixed "address." so that callers can tell them from profile fields."""
    try:
        address.full_clean()
    except ValidationError as error:
        raise ValidationError(
            {f"address.{field}": messages for field, messages in error.message_dict.items()}
        ) from error


def address_save(*, address: Address) -> Address:
    """Save an address edited in the back office, keeping its search and de-duplication columns right."""
    cleaned = _clean_address_data({name: getattr(address, name) for name in ADDRESS_CONTENT_FIELDS})
    for name, value in cleaned.items():
        setattr(address, name, value)
    address.postal_code_search = normalise_postal_code(address.postal_code)
    address.fingerprint = address_fingerprint(cleaned)
    if not address.public_id:
        address.public_id = generate_address_id()
    if address.pk is None and not address.position:
        last_position = Address.objects.filter(customer=address.customer).aggregate(last=Max("position"))["last"]
        address.position = 0 if last_position is None else last_position + 1
    _full_clean_as_address(address)
    address.save()
    return address


def _customer_address(*, customer: Customer, address_id: str) -> Address:
    """The customer's address with this public id. Another customer's address is not found either, so that an id
    never tells whether it exists elsewhere. Raises ADDRESS_NOT_FOUND (404) naming the id."""
    address = Address.objects.filter(customer=customer, public_id=address_id.strip()).first()
    if address is None:
        address_not_found(address_id=address_id)
    return address


def address_not_found(*, address_id: str) -> NoReturn:
    raise ApplicationError(
        _("No such address for this customer: %(address_id)s.") % {"address_id": address_id},
        code=CrmErrorCode.ADDRESS_NOT_FOUND,
        status=404,
        extra={"field": "address_id"},
    )


def _ensure_not_empty(cleaned: dict[str, str]) -> None:
    if not any(cleaned.values()):
        raise ApplicationError(
            _("An address needs at least one field."), code=CrmErrorCode.INVALID_FIELD, extra={"field": "address"}
        )


def address_update(*, customer: Customer, address_id: str, changes: dict[str, str | None]) -> tuple[Address, bool]:
    """Merge `changes` into the customer's address `address_id`, in place: the id stays, and so do the profile and
    loyalty addresses that point at it. A field given as None or "" is cleared; a field not given stays. Returns
    the address and whether anything changed.

    Runs inside the caller's transaction, which holds the customer's lock. Raises ADDRESS_NOT_FOUND (404),
    ADDRESS_ALREADY_IN_LIST (409: the new content is another entry's) and INVALID_FIELD (nothing would be left).
    """
    address = _customer_address(customer=customer, address_id=address_id)
    current = {name: getattr(address, name) for name in ADDRESS_CONTENT_FIELDS}
    cleaned = _clean_address_data({**current, **{name: changes[name] for name in changes if name in current}})
    _ensure_not_empty(cleaned)
    if cleaned == current:
        return address, False
    fingerprint = address_fingerprint(cleaned)
    duplicate = (
        Address.objects.filter(customer=customer, fingerprint=fingerprint)
        .exclude(pk=address.pk)
        .values_list("public_id", flat=True)
        .first()
    )
    if duplicate is not None:
        raise ApplicationError(
            _("This address is already in the customer's address list as %(address_id)s.") % {"address_id": duplicate},
            code=CrmErrorCode.ADDRESS_ALREADY_IN_LIST,
            status=409,
            extra={"field": "address_id"},
        )
    for name, value in cleaned.items():
        setattr(address, name, value)
    address.postal_code_search = normalise_postal_code(address.postal_code)
    address.fingerprint = fingerprint
    _full_clean_as_address(address)
    address.save()
    return address, True


def _customer_locked(public_id: str) -> Customer:
    return customer_get(public_id=public_id, queryset=customer_qs_select_for_update())


def _customer_touched(customer: Customer, *, changed_fields: list[str]) -> None:
    """An address change is a change of the customer: its lastModifiedDate moves and customer.updated says which
    parts changed, as UPDATE_CUSTOMER's does."""
    customer.save(update_fields=["profile_address", "updated_at"])
    customer_updated_event(customer, changed_fields=changed_fields)


@transaction.atomic
def customer_address_create(*, public_id: str, data: dict[str, str | None]) -> Address:
    """Add an address to the customer's addressList (the Customer Address SPI's CREATE_CUSTOMER_ADDRESS). An address
    already in the list (the same content however typed) is returned as it is, and nothing is emitted. The profile
    address is not changed: the POS sets that through UPDATE_CUSTOMER's profile.address.

    Locks the customer. Raises CUSTOMER_NOT_FOUND (404), INVALID_FIELD (an empty address or a bad phone)."""
    customer = _customer_locked(public_id)
    _ensure_not_empty(_clean_address_data(data))
    count = Address.objects.filter(customer=customer).count()
    address = address_add(customer=customer, data=data)
    if Address.objects.filter(customer=customer).count() != count:
        _customer_touched(customer, changed_fields=["addresses"])
    return address


@transaction.atomic
def customer_address_update(*, public_id: str, address_id: str, changes: dict[str, str | None]) -> Address:
    """Change one of the customer's addresses in place (UPDATE_CUSTOMER_ADDRESS); see address_update. When it is the
    profile address, profile.address shows the change, and so does the loyalty address of every account pointing
    at it (the same row). Locks the customer; emits customer.updated only when something changed."""
    customer = _customer_locked(public_id)
    address, changed = address_update(customer=customer, address_id=address_id, changes=changes)
    if changed:
        is_profile_address = customer.profile_address_id == address.pk
        _customer_touched(
            customer, changed_fields=["addresses", "profile_address"] if is_profile_address else ["addresses"]
        )
    return address


@transaction.atomic
def customer_address_delete(*, public_id: str, address_id: str) -> Customer:
    """Remove one of the customer's addresses (DELETE_CUSTOMER_ADDRESS). When it is the profile address, or the
    loyalty address of one of the customer's accounts, those are left empty (the foreign keys are SET_NULL):
    no other address is promoted, since which one is home is for the associate to say (UPDATE_CUSTOMER's
    profile.address). Locks the customer. Raises CUSTOMER_NOT_FOUND or ADDRESS_NOT_FOUND (404)."""
    customer = _customer_locked(public_id)
    address = _customer_address(customer=customer, address_id=address_id)
    changed = ["addresses"]
    if customer.profile_address_id == address.pk:
        customer.profile_address = None
        changed.append("profile_address")
    address.delete()
    _customer_touched(customer, changed_fields=changed)
    return customer
