"""PII erasure ("right to be forgotten"). What stays is pseudonymous: the public id, status, created store and
associate, language, country and customer group, and everything other apps keep under the customer's pk (the
loyalty ledger, purchases, account number); consent history holds no PII and stays as the legal record."""

from django.db import transaction

from crm.lock_objects import customer_qs_select_for_update
from crm.models import CONSENT_NAMES, Address, Customer, ExternalCustomerId
from crm.services.consents import consents_set
from crm.services.context import ChangeContext
from crm.webhook_emitters import customer_erased_event

# Every field that identifies or describes the person, and its erased value.
ERASED_VALUES: dict[str, object] = {
    "salutation": "",
    "first_name": "",
    "last_name": "",
    "first_name_search": "",
    "last_name_search": "",
    "email": "",
    "phone_mobile": "",
    "phone_home": "",
    "birthday": None,
    "gender": "",
    "alternate_customer_id": "",
    "tax_id": "",
    "postal_code": "",
    "postal_code_search": "",
    "allow_sms_notifications": None,
    "custom_attributes": {},
    "profile_address": None,
}


@transaction.atomic
def customer_erase(*, customer: Customer, context: ChangeContext) -> Customer:
    """Erase the customer's PII and mark them erased; locks the customer row first.

    Names, contacts, birthday, identifiers, custom attributes and postal code are blanked, every address is
    deleted (the database nulls the links to them: the profile address and loyalty accounts' addresses), and
    every consent not already false is withdrawn, which records who erased the customer, when and through what
    channel in the consent history. The erasure time is `updated_at` of the erased row.

    Idempotent: erasing an erased customer changes nothing and returns it as it is. Afterwards crm selectors
    no longer find the customer (SPI GET is 404, search skips them) and the loyalty API answers 410.
    """
    customer = customer_qs_select_for_update().get(pk=customer.pk)
    if customer.status == Customer.Status.ERASED:
        return customer
    for name, value in ERASED_VALUES.items():
        setattr(customer, name, value)
    customer.status = Customer.Status.ERASED
    customer.full_clean(exclude=["profile_address", "created_store", "created_associate"])
    customer.save()
    # Deleted rather than blanked: blank copies would collide on the (customer, fingerprint) constraint, and
    # an address row with no content has no use.
    Address.objects.filter(customer=customer).delete()
    # Another system's id for the person identifies them as much as an email does.
    ExternalCustomerId.objects.filter(customer=customer).delete()
    consents_set(customer=customer, changes=_withdrawn_consents(customer), context=context)
    customer_erased_event(customer)
    return customer


def _withdrawn_consents(customer: Customer) -> dict[str, bool | None]:
    # A missing one-to-one row raises RelatedObjectDoesNotExist, an AttributeError: getattr's default applies.
    consents = getattr(customer, "consents", None)
    if consents is None:
        return dict.fromkeys(CONSENT_NAMES, False)
    return {name: False for name in CONSENT_NAMES if getattr(consents, name) is not False}
