from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from crm.models import Customer
from crm.services.context import ChangeContext
from loyalty.account_numbers import generate_account_number
from loyalty.error_codes import LoyaltyErrorCode
from loyalty.events import account_enrolled_event
from loyalty.models import LoyaltyAccount, Program, TierChange
from loyalty.selectors import program_get_default
from loyalty.services.tier_benefits import tier_benefits_issue

ACCOUNT_NUMBER_ATTEMPTS = 5


def _create_with_unique_number(**fields: object) -> LoyaltyAccount:
    for _attempt in range(ACCOUNT_NUMBER_ATTEMPTS):
        account = LoyaltyAccount(account_number=generate_account_number(), **fields)
        try:
            # A savepoint, so that a number collision does not poison the caller's transaction.
            with transaction.atomic():
                account.save()
        except IntegrityError:
            if LoyaltyAccount.objects.filter(customer=fields["customer"], program=fields["program"]).exists():
                raise
            continue
        return account
    raise ApplicationError(
        _("Could not allocate a loyalty account number."), code=LoyaltyErrorCode.ACCOUNT_NUMBER_EXHAUSTED, status=503
    )


@transaction.atomic
def loyalty_account_enroll(
    *, customer: Customer, context: ChangeContext, program: Program | None = None
) -> LoyaltyAccount:
    """Enrol the customer in the program (the default one if none is named), in its entry tier, with a new
    unique account number. Enrolling an enrolled customer returns the existing account unchanged."""
    program = program or program_get_default()
    existing = LoyaltyAccount.objects.filter(customer=customer, program=program).first()
    if existing is not None:
        return existing
    now = timezone.now()
    account = _create_with_unique_number(
        customer=customer,
        program=program,
        state=LoyaltyAccount.State.ENROLLED,
        tier=program.tiers.order_by("rank").first(),
        tier_achieved_at=now,
        address=customer.profile_address,
        enrolled_at=now,
        enrolled_store=context.store,
    )
    account_enrolled_event(account)
    tier_benefits_issue(account=account, reason=TierChange.Reason.ENROLMENT, now=now)
    return account
