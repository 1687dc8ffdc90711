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
from loyalty.services.cards import card_issue, card_number_clean
from loyalty.services.tier_benefits import tier_benefits_issue
from loyalty.webhook_emitters import account_enrolled_event

ACCOUNT_NUMBER_ATTEMPTS = 5
# LoyaltyAccount.account_number's length.
ACCOUNT_NUMBER_MAX_LENGTH = 32


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


def loyalty_id_in_use_error() -> ApplicationError:
    # Names nobody: the till learns only that the card is taken, not whose it is.
    return ApplicationError(
        _("This loyalty card number is already in use."),
        code=LoyaltyErrorCode.LOYALTY_ID_ALREADY_IN_USE,
        status=409,
        extra={"field": "loyalty_id"},
    )


def _pos_card_number_clean(*, program: Program, card_number: str) -> tuple[str, str]:
    """(account number, lookup form) of a card number a POS sent, once the program accepts POS numbers and the
    number passes its card rules. Raises LOYALTY_ID_NOT_ACCEPTED (422) and INVALID_CARD_NUMBER (400)."""
    if program.pos_card_numbers == Program.PosCardNumbers.REFUSE:
        raise ApplicationError(
            _(
                "This loyalty program issues its own card numbers: send the request without a loyalty id, and the "
                "customer's new number comes back in the response."
            ),
            code=LoyaltyErrorCode.LOYALTY_ID_NOT_ACCEPTED,
            status=422,
            extra={"field": "loyalty_id"},
        )
    normalised = card_number_clean(card_number, program=program, field="loyalty_id")
    # The card's number also becomes the account number (what the SPI answers as loyaltyId and accountNumber):
    # compact and upper-cased, with its leading zeros.
    account_number = card_number_normalise(card_number, strip_leading_zeros=False)
    if len(account_number) > ACCOUNT_NUMBER_MAX_LENGTH:
        raise ApplicationError(
            _("A loyalty card number is at most %(max)d letters and digits.") % {"max": ACCOUNT_NUMBER_MAX_LENGTH},
            code=LoyaltyErrorCode.INVALID_CARD_NUMBER,
            extra={"field": "loyalty_id"},
        )
    return account_number, normalised


def _create_with_card_number(
    *, customer: Customer, program: Program, card_number: str, **fields: Any
) -> LoyaltyAccount:
    """The account numbered after the card the POS sent, and that card (physical: it was handed out at the till).
    Raises LOYALTY_ID_ALREADY_IN_USE (409) when another account or card has the number."""
    account_number, normalised = _pos_card_number_clean(program=program, card_number=card_number)
    account = LoyaltyAccount(account_number=account_number, customer=customer, program=program, **fields)
    try:
        # A savepoint: a taken number must not poison the caller's transaction. The unique indexes on the account
        # number and the card's lookup form decide, so two tills keying in one card at once get one account.
        with transaction.atomic():
            account.save()
            Card(
                account=account,
                number=card_number.strip(),
                normalised_number=normalised,
                kind=Card.Kind.PHYSICAL,
                issued_at=account.enrolled_at or timezone.now(),
            ).save()
    except IntegrityError:
        if LoyaltyAccount.objects.filter(customer=customer, program=program).exists():
            raise
        raise loyalty_id_in_use_error() from None
    return account


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
    *, customer: Customer, context: ChangeContext, program: Program | None = None, card_number: str | None = None
) -> LoyaltyAccount:
    """Enrol the customer in the program (the default one if none is named), in its entry tier, with a new
    unique account number, or with `card_number`, a card handed out at the till (the POS's loyaltyId), as account
    and card number. Enrolling an enrolled customer returns the existing account unchanged (the card number is then
    loyalty_card_from_pos_give's). Raises for a card number what _pos_card_number_clean and
    _create_with_card_number raise (422, 400, 409); nothing is written then."""
    program = program or program_get_default()
    existing = LoyaltyAccount.objects.filter(customer=customer, program=program).first()
    if existing is not None:
        return existing
    now = timezone.now()
    fields = {
        "state": LoyaltyAccount.State.ENROLLED,
        "tier": program.tiers.order_by("rank").first(),
        "tier_achieved_at": now,
        "address": customer.profile_address,
        "enrolled_at": now,
        "enrolled_store": context.store,
    }
    if card_number:
        account = _create_with_card_number(customer=customer, program=program, card_number=card_number, **fields)
    else:
        account = _create_with_unique_number(customer=customer, program=program, **fields)
    account_enrolled_event(account)
    tier_benefits_issue(account=account, reason=TierChange.Reason.ENROLMENT, now=now)
    return account


@transaction.atomic
def loyalty_card_from_pos_give(*, account: LoyaltyAccount, card_number: str) -> None:
    """A card number the POS sent for a customer who already has an account: nothing when it is already the
    account's (the POS sends back the loyaltyId it was given), else a new physical card of the account with it (the
    account number stays: it is the account's lasting id). Raises LOYALTY_ID_NOT_ACCEPTED (422), INVALID_CARD_NUMBER
    (400) and LOYALTY_ID_ALREADY_IN_USE (409); nothing is written then."""
    program = account.program
    own = card_number_normalise(card_number, strip_leading_zeros=False)
    normalised = card_number_normalise(card_number, strip_leading_zeros=program.card_number_strip_leading_zeros)
    if own and (own == account.account_number or account.cards.filter(normalised_number=normalised).exists()):
        return
    _pos_card_number_clean(program=program, card_number=card_number)
    try:
        card_issue(account=account, number=card_number, kind=Card.Kind.PHYSICAL)
    except ApplicationError as error:
        if error.code == LoyaltyErrorCode.CARD_NUMBER_IN_USE:
            raise loyalty_id_in_use_error() from None
        raise
