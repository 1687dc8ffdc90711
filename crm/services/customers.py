from collections.abc import Iterable
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from crm.error_codes import CrmErrorCode
from crm.ids import generate_customer_id
from crm.models import CONSENT_NAMES, Customer
from crm.normalisation import normalise_email, normalise_phone, normalise_postal_code, search_key
from crm.services.addresses import address_add, address_not_found, address_update
from crm.services.consents import consents_set
from crm.services.context import ChangeContext
from crm.webhook_emitters import customer_created_event, customer_updated_event

PROFILE_FIELDS = frozenset(
    {
        "salutation",
        "first_name",
        "last_name",
        "email",
        "phone_mobile",
        "phone_home",
        "birthday",
        "gender",
        "preferred_language",
        "customer_group",
        "alternate_customer_id",
        "tax_id",
        "country",
        "postal_code",
        "allow_sms_notifications",
        "custom_attributes",
    }
)
NULLABLE_FIELDS = frozenset({"birthday", "allow_sms_notifications"})
IDENTITY_FIELDS = ("first_name", "last_name", "email", "phone_mobile", "phone_home")


def _normalised_profile(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - PROFILE_FIELDS
    if unknown:
        raise ValueError(f"Unknown customer fields: {sorted(unknown)}")
    normalised: dict[str, Any] = {}
    for name, value in fields.items():
        if name in NULLABLE_FIELDS or name == "custom_attributes":
            normalised[name] = value if name != "custom_attributes" else (value or {})
            continue
        text = "" if value is None else str(value).strip()
        if name == "email":
            text = normalise_email(text)
        elif name in ("phone_mobile", "phone_home"):
            phone = normalise_phone(text, default_region=settings.PHONENUMBER_DEFAULT_REGION)
            if phone is None:
                raise ApplicationError(
                    _("Not a phone number."),
                    code=CrmErrorCode.INVALID_FIELD,
                    extra={"field": name},
                )
            text = phone
        elif name == "country":
            text = text.upper() if len(text) in (2, 3) else text
        normalised[name] = text
    birthday = normalised.get("birthday")
    if isinstance(birthday, date) and birthday > timezone.now().date():
        raise ApplicationError(
            _("Cannot be in the future."), code=CrmErrorCode.INVALID_FIELD, extra={"field": "birthday"}
        )
    return normalised


def _apply_profile(customer: Customer, normalised: dict[str, Any]) -> None:
    for name, value in normalised.items():
        setattr(customer, name, value)
    customer.first_name_search = search_key(customer.first_name)
    customer.last_name_search = search_key(customer.last_name)
    customer.postal_code_search = normalise_postal_code(customer.postal_code)


def _ensure_email_free(email: str, *, exclude_pk: int | None) -> None:
    """Raises EMAIL_ALREADY_IN_USE (409) naming the public id of the customer who has the email (`customer_id`,
    nothing else of theirs): a till whose sign-up committed but whose response was lost recovers it from there."""
    if not email:
        return
    others = Customer.objects.filter(email=email)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    owner_id = others.values_list("public_id", flat=True).first()
    if owner_id is not None:
        raise ApplicationError(
            _("This email address is already used by another customer."),
            code=CrmErrorCode.EMAIL_ALREADY_IN_USE,
            status=409,
            extra={"field": "email", "customer_id": owner_id},
        )


def _save(customer: Customer) -> None:
    """Validate and save. Another customer may take the email after _ensure_email_free looked (two tills signing
    up the same email at the same moment): committed before this validation, full_clean's check of the unique
    constraint sees it; committed later, the insert hits the constraint. Either way the answer is the 409 the
    look-up would have given, not a validation error on `__all__`."""
    try:
        customer.full_clean(exclude=["profile_address", "created_store", "created_associate"])
    except ValidationError:
        _ensure_email_free(customer.email, exclude_pk=customer.pk)
        raise
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as error:
        if "email" in str(error):
            _ensure_email_free(customer.email, exclude_pk=customer.pk)
        raise


@transaction.atomic
def customer_create(
    *,
    fields: dict[str, Any],
    context: ChangeContext,
    consents: dict[str, bool | None] | None = None,
    profile_address: dict[str, Any] | None = None,
    addresses: Iterable[dict[str, Any]] = (),
) -> Customer:
    """Create a customer with a new public id. The profile address is also the first entry of addressList.

    Raises ApplicationError IDENTITY_REQUIRED (no name, email or phone), EMAIL_ALREADY_IN_USE (409),
    INVALID_FIELD, or Django's ValidationError for a field the model rejects.
    """
    normalised = _normalised_profile(fields)
    if not any(normalised.get(name) for name in IDENTITY_FIELDS):
        raise ApplicationError(
            _("A customer needs at least a first name, last name, email or phone number."),
            code=CrmErrorCode.IDENTITY_REQUIRED,
        )
    _ensure_email_free(normalised.get("email", ""), exclude_pk=None)
    customer = Customer(
        public_id=generate_customer_id(), created_store=context.store, created_associate=context.associate
    )
    _apply_profile(customer, normalised)
    _save(customer)
    addresses = list(addresses)
    for entry in addresses:
        if entry.get("address_id"):
            # A new customer has no addresses yet: the id names none of theirs.
            address_not_found(address_id=entry["address_id"])
    if not profile_address and addresses:
        # The vendor's sign-up scenario puts the one address entered at sign-up in profile.address (and, with the
        # loyalty consent, loyaltyProfile.address) as well as addressList; a layout that sends it only in
        # addressList means the same address, so the first entry is the profile address.
        profile_address, addresses = addresses[0], addresses[1:]
    if profile_address:
        customer.profile_address = address_add(customer=customer, data=profile_address)
        customer.save(update_fields=["profile_address", "updated_at"])
    for address in addresses:
        address_add(customer=customer, data=address)
    consents_set(customer=customer, changes=consents or {}, context=context)
    customer_created_event(customer)
    return customer


@transaction.atomic
def customer_update(
    *,
    customer: Customer,
    fields: dict[str, Any],
    context: ChangeContext,
    consents: dict[str, bool | None] | None = None,
    profile_address: dict[str, Any] | None = None,
    addresses: Iterable[dict[str, Any]] = (),
    profile_address_clear: bool = False,
) -> Customer:
    """Merge an update into a customer: only the fields, consents and addresses given change.

    A new profile address replaces `profile_address` and is appended to addressList (old entries stay; an
    identical address is not added twice). An entry of `addresses` carrying an `address_id` is merged into that
    address in place (address_update); the others are appended, after the changes. Raises as customer_create does,
    CUSTOMER_NOT_FOUND (404) for an erased customer, and what address_update raises.
    """
    if customer.status == Customer.Status.ERASED:
        raise ApplicationError(_("Customer not found."), code=CrmErrorCode.CUSTOMER_NOT_FOUND, status=404)
    normalised = _normalised_profile(fields)
    if "email" in normalised:
        _ensure_email_free(normalised["email"], exclude_pk=customer.pk)
    changed_fields = [name for name, value in normalised.items() if getattr(customer, name) != value]
    previous_address_id = customer.profile_address_id
    address_count = customer.addresses.count()
    _apply_profile(customer, normalised)
    if profile_address:
        customer.profile_address = address_add(customer=customer, data=profile_address)
    elif profile_address_clear:
        # The SPI's `profile.address: null`: the customer has no profile address any more; the address itself
        # stays in addressList (the vendor keeps old entries; removing one is the Customer Address SPI's DELETE).
        customer.profile_address = None
    if not any(getattr(customer, name) for name in IDENTITY_FIELDS):
        raise ApplicationError(
            _("A customer needs at least a first name, last name, email or phone number."),
            code=CrmErrorCode.IDENTITY_REQUIRED,
        )
    _save(customer)
    addresses = list(addresses)
    for entry in addresses:
        if entry.get("address_id"):
            changes = {name: value for name, value in entry.items() if name != "address_id"}
            address, changed = address_update(customer=customer, address_id=entry["address_id"], changes=changes)
            if changed:
                changed_fields.append("addresses")
                if address.pk == customer.profile_address_id:
                    changed_fields.append("profile_address")
    for entry in addresses:
        if not entry.get("address_id"):
            address_add(customer=customer, data=entry)
    if consents:
        before = consents_snapshot(customer)
        consents_set(customer=customer, changes=consents, context=context)
        changed_fields += [f"consents.{name}" for name, value in consents.items() if before.get(name) != value]
    if customer.profile_address_id != previous_address_id:
        changed_fields.append("profile_address")
    if customer.addresses.count() != address_count:
        changed_fields.append("addresses")
    if changed_fields:
        customer_updated_event(customer, changed_fields=sorted(set(changed_fields)))
    return customer


def consents_snapshot(customer: Customer) -> dict[str, bool | None]:
    consents = getattr(customer, "consents", None)
    return {name: getattr(consents, name) for name in CONSENT_NAMES} if consents is not None else {}


@transaction.atomic
def customer_save_from_admin(*, customer: Customer) -> Customer:
    """The back office edits model fields directly; re-derive the normalised and search columns and check the
    rules the other services check (identity, email uniqueness; an erased customer stays erased)."""
    if customer.pk is not None and Customer.objects.filter(pk=customer.pk, status=Customer.Status.ERASED).exists():
        raise ApplicationError(_("Customer not found."), code=CrmErrorCode.CUSTOMER_NOT_FOUND, status=404)
    fields = {name: getattr(customer, name) for name in PROFILE_FIELDS}
    normalised = _normalised_profile(fields)
    if not any(normalised.get(name) for name in IDENTITY_FIELDS):
        raise ApplicationError(
            _("A customer needs at least a first name, last name, email or phone number."),
            code=CrmErrorCode.IDENTITY_REQUIRED,
        )
    _ensure_email_free(normalised.get("email", ""), exclude_pk=customer.pk)
    created = customer.pk is None
    if created:
        customer.public_id = generate_customer_id()
        changed_fields: list[str] = []
    else:
        stored = Customer.objects.get(pk=customer.pk)
        changed_fields = [name for name, value in normalised.items() if getattr(stored, name) != value]
    _apply_profile(customer, normalised)
    _save(customer)
    if created:
        customer_created_event(customer)
    elif changed_fields:
        customer_updated_event(customer, changed_fields=changed_fields)
    return customer
