"""Links between another system's customer ids and ours (crm.ExternalCustomerId)."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from crm.error_codes import CrmErrorCode
from crm.models import Customer, ExternalCustomerId


def external_id_link(*, customer: Customer, source: str, external_id: str) -> ExternalCustomerId:
    """Record that `source` calls this customer `external_id`; returns the link, existing or new.

    Idempotent for the same pair. Raises ApplicationError EXTERNAL_ID_CONFLICT (409) when the id already names
    another customer of that source, or the customer already has another id from it. The caller owns the
    transaction (the savepoint keeps a refused link from spoiling it).
    """
    link = ExternalCustomerId(customer=customer, source=source, external_id=external_id)
    link.full_clean(exclude=["customer"], validate_unique=False, validate_constraints=False)
    existing = ExternalCustomerId.objects.filter(source=source, external_id=external_id).first()
    if existing is not None:
        if existing.customer_id == customer.pk:
            return existing
        raise _conflict()
    try:
        with transaction.atomic():
            link.save()
    except IntegrityError as error:
        # A concurrent link of the same id, or this customer already has another id from the source.
        raise _conflict() from error
    return link


def _conflict() -> ApplicationError:
    return ApplicationError(
        _("This external customer id is already linked to another customer."),
        code=CrmErrorCode.EXTERNAL_ID_CONFLICT,
        status=409,
    )
