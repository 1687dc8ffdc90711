"""Scan & Go unlock rules, pure (no database): may this shopper unlock this device, and if not, what to tell them.

The policy is configuration (loyalty.models.ScanAndGoPolicy, merged with the store's override by
loyalty/selectors/scan_and_go.py); the facts come from the profile lookup. Denial reasons are checked in a fixed
order, the first that applies wins: what holds for everybody in the store (Scan & Go off for the program, in the
store, or because the program itself is switched off; no self-unlocking)
before what is about the shopper, and among those the customer before the account before the card, so that the
message names the thing staff have to fix first.

Messages: the program's own wording for (reason, language) if marketing wrote one, else the translated default
below (locale/<lang>/LC_MESSAGES/django.po). The language is the customer's preferred one when we speak it, else
the program's default language, else the site's LANGUAGE_CODE.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.utils import translation
from django.utils.translation import gettext_lazy as _

CUSTOMER_BLOCKED = "customer_blocked"
ACCOUNT_BLOCKED = "account_blocked"
NOT_A_MEMBER = "not_a_member"
CARD_BLOCKED = "card_blocked"
CARD_REPLACED = "card_replaced"
CARD_EXPIRED = "card_expired"
TERMS_NOT_ACCEPTED = "terms_not_accepted"
UNLOCKING_DISABLED = "unlocking_disabled"
SELF_UNLOCKING_NOT_ALLOWED = "self_unlocking_not_allowed"

DEFAULT_MESSAGES = {
    UNLOCKING_DISABLED: _("Scan & Go is not available in this store today. Please use a checkout."),
    SELF_UNLOCKING_NOT_ALLOWED: _("Please unlock your device at the unlocking station."),
    CUSTOMER_BLOCKED: _("We cannot start Scan & Go for you. Please ask a member of staff."),
    ACCOUNT_BLOCKED: _("Your loyalty account is blocked. Please ask a member of staff."),
    NOT_A_MEMBER: _("Scan & Go is for loyalty members. Please ask a member of staff to rejoin the program."),
    CARD_REPLACED: _("This card has been replaced. Please scan your new card."),
    CARD_BLOCKED: _("This card is blocked. Please ask a member of staff."),
    CARD_EXPIRED: _("This card has expired. Please ask a member of staff for a new one."),
    TERMS_NOT_ACCEPTED: _("Please accept the terms and conditions of the loyalty program to use Scan & Go."),
}
REASONS = tuple(DEFAULT_MESSAGES)

# Card statuses that stop a card from unlocking (a replaced card has its own message: "scan your new card").
CARD_STATUSES_BLOCKED = frozenset({"blocked", "lost", "stolen"})
CARD_STATUS_REPLACED = "replaced"


@dataclass(frozen=True)
class UnlockPolicy:
    """The program's policy with the store's override already applied."""

    unlocking_allowed: bool = True
    self_unlocking_allowed: bool = True
    deny_blocked_customer: bool = True
    deny_blocked_account: bool = True
    deny_guest_account: bool = False
    deny_blocked_card: bool = True
    deny_expired_card: bool = True
    require_terms_consent: bool = False
    unlocking_station_device_types: frozenset[str] = frozenset({"unlocking_station"})


@dataclass(frozen=True)
class UnlockFacts:
    # The account's program is running (Program.is_active): a program switched off does not run Scan & Go either.
    program_active: bool
    customer_blocked: bool
    account_blocked: bool
    # None when the shopper was identified without a card (by customer id): there is no card to judge.
    card_status: str | None
    card_expires_at: datetime | None
    terms_accepted: bool
    # As the device sent it, normalised by device_type_normalise; "" when it sent none.
    device_type: str
    now: datetime
    # The account is a guest's: the customer opted out of the loyalty program.
    account_guest: bool = False


def device_type_normalise(value: str) -> str:
    """ "Unlocking-Station", "unlocking station" and "UNLOCKING_STATION" are one device type."""
    return "_".join(value.replace("-", " ").replace("_", " ").lower().split())


def device_types_parse(value: str) -> frozenset[str]:
    """The comma-separated list of the policy's unlocking_station_device_types field."""
    return frozenset(filter(None, (device_type_normalise(part) for part in value.split(","))))


def unlock_denial(policy: UnlockPolicy, facts: UnlockFacts) -> str | None:
    """The reason the device must stay locked, or None: unlock."""
    if not policy.unlocking_allowed or not facts.program_active:
        return UNLOCKING_DISABLED
    # A device that does not say what it is counts as self-unlocking: the safe reading of a store that wants
    # shoppers to pass the station.
    if not policy.self_unlocking_allowed and facts.device_type not in policy.unlocking_station_device_types:
        return SELF_UNLOCKING_NOT_ALLOWED
    if policy.deny_blocked_customer and facts.customer_blocked:
        return CUSTOMER_BLOCKED
    if policy.deny_blocked_account and facts.account_blocked:
        return ACCOUNT_BLOCKED
    if policy.deny_guest_account and facts.account_guest:
        return NOT_A_MEMBER
    if policy.deny_blocked_card and facts.card_status == CARD_STATUS_REPLACED:
        return CARD_REPLACED
    if policy.deny_blocked_card and facts.card_status in CARD_STATUSES_BLOCKED:
        return CARD_BLOCKED
    # expires_at is exclusive, like a voucher's: at that instant the card no longer works.
    if policy.deny_expired_card and facts.card_expires_at is not None and facts.card_expires_at <= facts.now:
        return CARD_EXPIRED
    if policy.require_terms_consent and not facts.terms_accepted:
        return TERMS_NOT_ACCEPTED
    return None


def _supported(tag: str, supported: Iterable[str]) -> str | None:
    """The supported language `tag` asks for: "de-AT", "de_at" and "DE" all ask for "de"."""
    wanted = tag.replace("_", "-").lower()
    codes = {code.lower(): code for code in supported}
    if wanted in codes:
        return codes[wanted]
    base = wanted.split("-", 1)[0]
    return codes.get(base)


def message_language(*, preferred: str, program_default: str, site_default: str, supported: Iterable[str]) -> str:
    """The language a shopper's message is written in (see the module docstring)."""
    supported = tuple(supported)
    for candidate in (preferred, program_default):
        if candidate:
            language = _supported(candidate, supported)
            if language is not None:
                return language
    return site_default


def denial_message(reason: str, *, language: str, custom_messages: Mapping[tuple[str, str], str]) -> str:
    """The program's own text for (reason, language), else the translated default."""
    custom = custom_messages.get((reason, language))
    if custom:
        return custom
    with translation.override(language):
        return str(DEFAULT_MESSAGES[reason])
