"""Loyalty cards: issue, block (blocked, lost, stolen), unblock and replace.

A card's number is unique across programs once normalised (loyalty/card_numbers.py), so that one scan names one
card; the unique index is what decides, so two people issuing the same number at once get one card and one
CARD_NUMBER_IN_USE. Status changes lock the card row.
"""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from loyalty.account_numbers import generate_account_number, is_valid_account_number
from loyalty.card_numbers import CARD_NUMBER_MAX_LENGTH, card_number_normalise
from loyalty.error_codes import LoyaltyErrorCode
from loyalty.lock_objects import card_qs_select_for_update
from loyalty.models import Card, LoyaltyAccount, Program

CARD_NUMBER_ATTEMPTS = 5
BLOCKING_STATUSES = (Card.Status.BLOCKED, Card.Status.LOST, Card.Status.STOLEN)


def card_number_clean(number: str, *, program: Program, field: str = "number") -> str:
    """The lookup form of a card number given for a new card of the program, once it passes the card rules:
    letters and digits (separators ignored), at most CARD_NUMBER_MAX_LENGTH characters, and the program's check
    digit if it has one. Raises INVALID_CARD_NUMBER (400) naming `field`."""
    normalised = card_number_normalise(number, strip_leading_zeros=program.card_number_strip_leading_zeros)
    if not normalised or len(number) > CARD_NUMBER_MAX_LENGTH:
        raise ApplicationError(
            _("A card number is letters and digits (spaces and dashes allowed), at most %(max)d characters.")
            % {"max": CARD_NUMBER_MAX_LENGTH},
            code=LoyaltyErrorCode.INVALID_CARD_NUMBER,
            extra={"field": field},
        )
    if program.card_number_check_digit == Program.CheckDigit.LUHN and not is_valid_account_number(
        card_number_normalise(number, strip_leading_zeros=False)
    ):
        raise ApplicationError(
            _("Not a card number of this program: its last digit is a check digit, and it does not match."),
            code=LoyaltyErrorCode.INVALID_CARD_NUMBER,
            extra={"field": field},
        )
    return normalised


def _normalised_or_raise(number: str, *, account: LoyaltyAccount) -> str:
    return card_number_clean(number, program=account.program)


def _number_in_use() -> ApplicationError:
    return ApplicationError(
        _("Another card already has this number."),
        code=LoyaltyErrorCode.CARD_NUMBER_IN_USE,
        status=409,
        extra={"field": "number"},
    )


def _insert(card: Card) -> Card:
    card.full_clean(validate_unique=False, validate_constraints=True)
    try:
        # A savepoint: a number already taken must not poison the caller's transaction.
        with transaction.atomic():
            card.save()
    except IntegrityError:
        raise _number_in_use() from None
    return card


@transaction.atomic
def card_issue(
    *,
    account: LoyaltyAccount,
    number: str | None = None,
    kind: str = Card.Kind.PHYSICAL,
    expires_at: datetime | None = None,
    now: datetime | None = None,
) -> Card:
    """Issue an active card to the account, with `number` (as printed) or a new 12-digit Luhn number.

    Raises INVALID_CARD_NUMBER (400) and CARD_NUMBER_IN_USE (409) for a given number; nothing is written then.
    """
    now = now or timezone.now()
    fields = {
        "account": account,
        "kind": kind,
        "status": Card.Status.ACTIVE,
        "issued_at": now,
        "expires_at": expires_at,
    }
    if number is not None:
        number = number.strip()
        return _insert(Card(number=number, normalised_number=_normalised_or_raise(number, account=account), **fields))
    for _attempt in range(CARD_NUMBER_ATTEMPTS):
        generated = generate_account_number()
        normalised = _normalised_or_raise(generated, account=account)
        try:
            return _insert(Card(number=generated, normalised_number=normalised, **fields))
        except ApplicationError as error:
            if error.code != LoyaltyErrorCode.CARD_NUMBER_IN_USE:
                raise
    raise RuntimeError("Could not generate a unique card number; is the number space exhausted?")


@transaction.atomic
def card_block(*, card: Card, status: str = Card.Status.BLOCKED, reason: str = "", now: datetime | None = None) -> Card:
    """Block an active card as blocked, lost or stolen; it no longer unlocks Scan & Go devices. Blocking a card
    that is already blocked (in any of those ways) only updates the status and reason. Raises
    CARD_STATUS_CONFLICT for a replaced card (block its successor instead)."""
    if status not in BLOCKING_STATUSES:
        raise ValueError(f"Not a blocking status: {status}")
    card = card_qs_select_for_update().get(pk=card.pk)
    if card.status == Card.Status.REPLACED:
        raise ApplicationError(
            _("This card was replaced; block the card that replaced it."),
            code=LoyaltyErrorCode.CARD_STATUS_CONFLICT,
            status=409,
        )
    card.status = status
    card.status_reason = reason.strip()[:200]
    card.status_changed_at = now or timezone.now()
    card.save(update_fields=["status", "status_reason", "status_changed_at", "updated_at"])
    return card


@transaction.atomic
def card_unblock(*, card: Card, now: datetime | None = None) -> Card:
    """Make a blocked, lost or stolen card active again. Raises CARD_STATUS_CONFLICT for a replaced card; an
    active card is returned unchanged."""
    card = card_qs_select_for_update().get(pk=card.pk)
    if card.status == Card.Status.ACTIVE:
        return card
    if card.status == Card.Status.REPLACED:
        raise ApplicationError(
            _("A replaced card cannot be made active again."), code=LoyaltyErrorCode.CARD_STATUS_CONFLICT, status=409
        )
    card.status = Card.Status.ACTIVE
    card.status_reason = ""
    card.status_changed_at = now or timezone.now()
    card.save(update_fields=["status", "status_reason", "status_changed_at", "updated_at"])
    return card


@transaction.atomic
def card_replace(
    *,
    card: Card,
    number: str | None = None,
    kind: str | None = None,
    expires_at: datetime | None = None,
    reason: str = "",
    now: datetime | None = None,
) -> Card:
    """Issue a new card to the same account and mark `card` replaced by it (scanning it then says "scan your new
    card"). The new card has `number` or a generated one, and the old card's kind unless `kind` is given.
    Raises CARD_STATUS_CONFLICT when the card was already replaced, and the errors of card_issue."""
    now = now or timezone.now()
    card = card_qs_select_for_update().get(pk=card.pk)
    if card.status == Card.Status.REPLACED:
        raise ApplicationError(
            _("This card was already replaced."), code=LoyaltyErrorCode.CARD_STATUS_CONFLICT, status=409
        )
    successor = card_issue(account=card.account, number=number, kind=kind or card.kind, expires_at=expires_at, now=now)
    card.status = Card.Status.REPLACED
    card.replaced_by = successor
    card.status_reason = reason.strip()[:200]
    card.status_changed_at = now
    card.save(update_fields=["status", "replaced_by", "status_reason", "status_changed_at", "updated_at"])
    return successor
