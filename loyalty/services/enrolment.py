from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from crm.models import Customer
from crm.services.context import ChangeContext
from loyalty.account_numbers import generate_account_number
from loyalty.card_numbers import card_number_normalise
from loyalty.error_codes import LoyaltyErrorCode
from loyalty.models import Card, LoyaltyAccount, Program, TierChange
from loyalty.selectors.accounts import program_get_default
from loyalty.services.tier_benefits import tier_benefits_issue
from loyalty.webhook_emitters import account_enrolled_event

ACCOUNT_NUMBER_ATTEMPTS = 5


def _create_with_unique_number(*, customer: Customer, program: Program, **fields: Any) -> LoyaltyAccount:
    """The account and its digital card, which carries the account number (the number printed on receipts and
    shown in apps is what shoppers scan). Both numbers must be free: a physical card may already use it."""
    for _attempt in range(ACCOUNT_NUMBER_ATTEMPTS):
        account = LoyaltyAccount(account_number=generate_account_number(), customer=customer, program=program, **fields)
        try:
            # A savepoint, so that a number collision does not poison the caller's transaction.
            with transaction.atomic():
                account.save()
                _digital_card_create(account)
        except IntegrityError:
            if LoyaltyAccount.objects.filter(customer=customer, program=program).exists():
                raise
            continue
        return account
    raise ApplicationError(
        _("Could not allocate a loyalty account number."), code=LoyaltyErrorCode.ACCOUNT_NUMBER_EXHAUSTED, status=503
    )


def _digital_card_create(account: LoyaltyAccount) -> None:
    normalised = card_number_normalise(
        account.account_number, strip_leading_zeros=account.program.card_number_strip_leading_zeros
    )
    # Plain save, not loyalty.services.cards.card_issue: a taken number must raise IntegrityError here, so that
    # the loop above draws another account number.
    Card(
        account=account,
        number=account.account_number,
        normalised_number=normalised,
        kind=Card.Kind.DIGITAL,
        issued_at=account.enrolled_at or timezone.now(),
    ).save()


@transaction.atomic
def loyalty_account_enrol(
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
