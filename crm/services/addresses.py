from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from crm.error_codes import CrmErrorCode
from crm.ids import generate_address_id
from crm.models import Address, Customer
from crm.normalisation import ADDRESS_CONTENT_FIELDS, address_fingerprint, normalise_phone, normalise_postal_code


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
