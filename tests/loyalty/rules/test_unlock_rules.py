"""loyalty/rules/unlock.py without HTTP or database: which reason wins, and in which language it is told."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.utils import translation

from loyalty.models import ScanAndGoDenialMessage
from loyalty.rules import unlock
from loyalty.rules.unlock import UnlockFacts, UnlockPolicy

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
CLEAN = UnlockFacts(
    program_active=True,
    customer_blocked=False,
    account_blocked=False,
    card_status="active",
    card_expires_at=None,
    terms_accepted=True,
    device_type="smart_cart",
    now=NOW,
)
DEFAULT = UnlockPolicy()


@pytest.mark.parametrize(
    ("policy", "facts", "reason"),
    [
        (DEFAULT, CLEAN, None),
        (DEFAULT, replace(CLEAN, customer_blocked=True), "customer_blocked"),
        (DEFAULT, replace(CLEAN, account_blocked=True), "account_blocked"),
        (DEFAULT, replace(CLEAN, card_status="blocked"), "card_blocked"),
        (DEFAULT, replace(CLEAN, card_status="lost"), "card_blocked"),
        (DEFAULT, replace(CLEAN, card_status="stolen"), "card_blocked"),
        (DEFAULT, replace(CLEAN, card_status="replaced"), "card_replaced"),
        (DEFAULT, replace(CLEAN, card_expires_at=NOW), "card_expired"),
        (DEFAULT, replace(CLEAN, card_expires_at=NOW - timedelta(seconds=1)), "card_expired"),
        (DEFAULT, replace(CLEAN, card_expires_at=NOW + timedelta(seconds=1)), None),
        (DEFAULT, replace(CLEAN, card_status=None), None),
        (DEFAULT, replace(CLEAN, terms_accepted=False), None),
        (UnlockPolicy(require_terms_consent=True), replace(CLEAN, terms_accepted=False), "terms_not_accepted"),
        (UnlockPolicy(unlocking_allowed=False), CLEAN, "unlocking_disabled"),
        (DEFAULT, replace(CLEAN, program_active=False), "unlocking_disabled"),
        (UnlockPolicy(unlocking_allowed=False), replace(CLEAN, program_active=False), "unlocking_disabled"),
        (UnlockPolicy(self_unlocking_allowed=False), CLEAN, "self_unlocking_not_allowed"),
        (UnlockPolicy(self_unlocking_allowed=False), replace(CLEAN, device_type=""), "self_unlocking_not_allowed"),
        (UnlockPolicy(self_unlocking_allowed=False), replace(CLEAN, device_type="unlocking_station"), None),
        (UnlockPolicy(deny_blocked_customer=False), replace(CLEAN, customer_blocked=True), None),
        (UnlockPolicy(deny_blocked_account=False), replace(CLEAN, account_blocked=True), None),
        (UnlockPolicy(deny_blocked_card=False), replace(CLEAN, card_status="stolen"), None),
        (UnlockPolicy(deny_blocked_card=False), replace(CLEAN, card_status="replaced"), None),
        (UnlockPolicy(deny_expired_card=False), replace(CLEAN, card_expires_at=NOW), None),
        (DEFAULT, replace(CLEAN, account_guest=True), None),
        (UnlockPolicy(deny_guest_account=True), replace(CLEAN, account_guest=True), "not_a_member"),
        (UnlockPolicy(deny_guest_account=True), CLEAN, None),
    ],
)
def test_unlock_denial(policy, facts, reason):
    assert unlock.unlock_denial(policy, facts) == reason


@pytest.mark.parametrize(
    ("policy", "facts", "reason"),
    [
        (
            UnlockPolicy(unlocking_allowed=False, require_terms_consent=True),
            replace(CLEAN, customer_blocked=True, terms_accepted=False),
            "unlocking_disabled",
        ),
        (
            UnlockPolicy(self_unlocking_allowed=False),
            replace(CLEAN, program_active=False, customer_blocked=True),
            "unlocking_disabled",
        ),
        (
            UnlockPolicy(self_unlocking_allowed=False),
            replace(CLEAN, customer_blocked=True),
            "self_unlocking_not_allowed",
        ),
        (DEFAULT, replace(CLEAN, customer_blocked=True, account_blocked=True, card_status="lost"), "customer_blocked"),
        (DEFAULT, replace(CLEAN, account_blocked=True, card_status="lost"), "account_blocked"),
        (
            UnlockPolicy(deny_guest_account=True),
            replace(CLEAN, account_blocked=True, account_guest=True),
            "account_blocked",
        ),
        (
            UnlockPolicy(deny_guest_account=True, require_terms_consent=True),
            replace(CLEAN, account_guest=True, card_status="lost", terms_accepted=False),
            "not_a_member",
        ),
        (DEFAULT, replace(CLEAN, card_status="replaced", card_expires_at=NOW), "card_replaced"),
        (DEFAULT, replace(CLEAN, card_status="blocked", card_expires_at=NOW), "card_blocked"),
        (
            UnlockPolicy(require_terms_consent=True),
            replace(CLEAN, card_expires_at=NOW, terms_accepted=False),
            "card_expired",
        ),
    ],
    ids=[
        "store-first",
        "program-off-before-station-and-person",
        "station-before-person",
        "customer-first",
        "account-before-card",
        "blocked-account-before-guest",
        "guest-before-card-and-terms",
        "replaced",
        "blocked",
        "expired",
    ],
)
def test_the_first_applicable_reason_wins(policy, facts, reason):
    assert unlock.unlock_denial(policy, facts) == reason


@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("Unlocking-Station", "unlocking_station"),
        (" unlocking  station ", "unlocking_station"),
        ("CART", "cart"),
        ("", ""),
    ],
)
def test_device_type_normalise(value, normalised):
    assert unlock.device_type_normalise(value) == normalised


def test_device_types_parse():
    assert unlock.device_types_parse(" Unlocking-Station, kiosk ,,") == frozenset({"unlocking_station", "kiosk"})


@pytest.mark.parametrize(
    ("preferred", "program_default", "language"),
    [
        ("de-DE", "en", "de"),
        ("de_at", "en", "de"),
        ("FR", "en", "fr"),
        ("es-419", "de", "es"),
        ("it-IT", "fr", "fr"),
        ("", "fr", "fr"),
        ("it", "pt", "en"),
        ("", "", "en"),
    ],
)
def test_message_language(preferred, program_default, language):
    chosen = unlock.message_language(
        preferred=preferred, program_default=program_default, site_default="en", supported=["en", "de", "fr", "es"]
    )
    assert chosen == language


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "This card is blocked. Please ask a member of staff."),
        ("de", "Diese Karte ist gesperrt. Bitte wenden Sie sich an einen Mitarbeiter."),
        ("fr", "Cette carte est bloquée. Veuillez vous adresser à un membre du personnel."),
        ("es", "Esta tarjeta está bloqueada. Por favor, consulte a un empleado."),
    ],
)
def test_default_messages_come_translated(language, message):
    assert unlock.denial_message("card_blocked", language=language, custom_messages={}) == message


def test_the_programs_own_wording_wins_for_its_language_only():
    # given
    custom = {("card_blocked", "de"): "Karte gesperrt, bitte an die Info."}

    # when
    german = unlock.denial_message("card_blocked", language="de", custom_messages=custom)
    french = unlock.denial_message("card_blocked", language="fr", custom_messages=custom)

    # then
    assert german == "Karte gesperrt, bitte an die Info."
    assert french == "Cette carte est bloquée. Veuillez vous adresser à un membre du personnel."


def _in(language: str, text) -> str:
    with translation.override(language):
        return str(text)


def test_every_reason_has_a_default_message_in_every_language_and_an_admin_choice():
    # when
    untranslated = [
        (reason, code)
        for reason, text in unlock.DEFAULT_MESSAGES.items()
        for code, _name in settings.LANGUAGES
        if code != "en" and _in(code, text) == _in("en", text)
    ]

    # then
    assert untranslated == []
    assert set(ScanAndGoDenialMessage.Reason.values) == set(unlock.REASONS)
