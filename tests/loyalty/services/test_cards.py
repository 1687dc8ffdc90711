"""Loyalty cards: number normalisation, the card services, enrolment's digital card, the data migration for
accounts made before cards, the loyalty API's identifier=card lookup, and the Scan & Go admin pages."""

import importlib

import pytest
from django.apps import apps
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError

from core.exceptions import ApplicationError
from crm.services.context import ChangeContext
from loyalty.account_numbers import is_valid_account_number
from loyalty.card_numbers import card_number_lookup_keys, card_number_normalise
from loyalty.models import Card, LoyaltyAccount, Program, ScanAndGoPolicy, SpotCheckRiskRule
from loyalty.services.cards import card_block, card_issue, card_replace, card_unblock
from loyalty.services.enrolment import loyalty_account_enrol
from loyalty.services.scan_and_go import account_spot_check_bias_set, scan_and_go_policy_get_or_create
from tests.admin_forms import admin_form_data


@pytest.fixture
def account(program, loyalty_account_factory):
    return loyalty_account_factory()


def _messages(response) -> list[tuple[str, str]]:
    return [(message.level_tag, message.message) for message in get_messages(response.wsgi_request)]


# Normalisation ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "strip", "normalised"),
    [
        ("5123 4567-8903", True, "512345678903"),
        ("0005123", True, "5123"),
        ("0005123", False, "0005123"),
        ("ab-12_cd.9", True, "AB12CD9"),
        ("\t12 34\n", True, "1234"),
        ("0000", True, ""),
        ("0000", False, "0000"),
        ("", True, ""),
        ("12€34", True, ""),
        ("１２３", True, ""),
        ("12\x0034", True, ""),
        # Letters that upper-case to ASCII: refused on the raw value, not looked up as "12SS", "FI12", "I12".
        ("12ß", True, ""),
        ("ﬁ12", True, ""),
        ("ı12", True, ""),
        ("ſ12", True, ""),
        # Only ASCII separators: a non-breaking space or an ASCII control character is not a space.
        ("12\u00a034", True, ""),
        ("12\x1f34", True, ""),
        ("12\r\n", True, "12"),
    ],
)
def test_card_number_normalise(value, strip, normalised):
    assert card_number_normalise(value, strip_leading_zeros=strip) == normalised


def test_card_number_lookup_keys():
    assert card_number_lookup_keys("00-12 3") == ("00123", "123")


# Services --------------------------------------------------------------------------------------------------------


def test_enrolment_issues_a_digital_card_with_the_account_number(account):
    # when
    cards = list(account.cards.values_list("number", "normalised_number", "kind", "status"))

    # then
    assert cards == [(account.account_number, account.account_number, "digital", "active")]


def test_enrolling_twice_issues_no_second_card(account):
    # when
    loyalty_account_enrol(customer=account.customer, context=ChangeContext())

    # then
    assert Card.objects.filter(account=account).count() == 1


def test_enrolment_draws_another_number_when_a_card_already_has_it(
    customer_factory, program, monkeypatch, loyalty_account_factory
):
    # given
    taken = loyalty_account_factory()
    card_issue(account=taken, number="512345678903")
    numbers = iter(["512345678903", "598765432109"])
    monkeypatch.setattr("loyalty.services.enrolment.generate_account_number", lambda: next(numbers))

    # when
    account = loyalty_account_enrol(customer=customer_factory(), context=ChangeContext())

    # then
    assert account.account_number == "598765432109"
    assert list(account.cards.values_list("number", flat=True)) == ["598765432109"]


def test_issue_a_card_with_a_printed_number(account):
    # when
    card = card_issue(account=account, number=" 0044 1234-ab ")

    # then
    assert (card.number, card.normalised_number, card.kind, card.status) == (
        "0044 1234-ab",
        "441234AB",
        "physical",
        "active",
    )


def test_issue_a_card_with_a_generated_number(account):
    # when
    card = card_issue(account=account, kind=Card.Kind.DIGITAL)

    # then
    assert len(card.number) == 12
    assert is_valid_account_number(card.number)
    assert card.normalised_number == card.number


@pytest.mark.parametrize("number", ["0441234AB", "44-1234 ab"])
def test_a_number_another_card_has_once_normalised_is_refused(account, number):
    # given
    card_issue(account=account, number="441234AB")

    # when
    with pytest.raises(ApplicationError) as error:
        card_issue(account=account, number=number)

    # then
    assert (error.value.code, error.value.status) == ("CARD_NUMBER_IN_USE", 409)
    assert Card.objects.filter(account=account).count() == 2


@pytest.mark.parametrize("number", ["", "---", "12€", "0000", "9" * 65, "STRAßE1", "ﬁ-77"])
def test_a_number_that_cannot_be_a_card_is_refused(account, number):
    # when
    with pytest.raises(ApplicationError) as error:
        card_issue(account=account, number=number)

    # then
    assert (error.value.code, error.value.status, error.value.extra) == (
        "INVALID_CARD_NUMBER",
        400,
        {"field": "number"},
    )
    assert Card.objects.filter(account=account).count() == 1


def test_block_unblock_and_replace(account):
    # given
    card = card_issue(account=account, number="1111")

    # when
    lost = card_block(card=card, status=Card.Status.LOST, reason="Called the hotline")
    found = card_unblock(card=card)
    successor = card_replace(card=card, number="2222", reason="Worn out")

    # then
    assert (lost.status, lost.status_reason) == ("lost", "Called the hotline")
    assert (found.status, found.status_reason) == ("active", "")
    card.refresh_from_db()
    assert (card.status, card.replaced_by_id, card.status_reason) == ("replaced", successor.pk, "Worn out")
    assert (successor.number, successor.kind, successor.status, successor.account_id) == (
        "2222",
        "physical",
        "active",
        account.pk,
    )


@pytest.mark.parametrize("change", ["block", "unblock", "replace"])
def test_a_replaced_card_stays_replaced(account, change):
    # given
    card = card_issue(account=account, number="1111")
    card_replace(card=card, number="2222")
    calls = {"block": card_block, "unblock": card_unblock, "replace": card_replace}

    # when
    with pytest.raises(ApplicationError) as error:
        calls[change](card=card)

    # then
    assert (error.value.code, error.value.status) == ("CARD_STATUS_CONFLICT", 409)
    card.refresh_from_db()
    assert card.status == "replaced"
    assert Card.objects.filter(account=account).count() == 3


def test_a_replacement_with_a_taken_number_changes_nothing(account):
    # given
    card = card_issue(account=account, number="1111")

    # when
    with pytest.raises(ApplicationError):
        card_replace(card=card, number=account.account_number)

    # then
    card.refresh_from_db()
    assert (card.status, card.replaced_by_id) == ("active", None)


def test_the_spot_check_override_is_validated(account):
    # when
    with pytest.raises(ValidationError):
        account_spot_check_bias_set(account=account, bias=101)
    account_spot_check_bias_set(account=account, bias=-100)

    # then
    account.refresh_from_db()
    assert account.spot_check_bias_override == -100


# Accounts made before cards --------------------------------------------------------------------------------------


def test_the_data_migration_gives_every_account_without_a_card_its_account_number_as_a_card(account, customer_factory):
    # given
    program = Program.objects.get(is_default=True)
    older = LoyaltyAccount.objects.create(customer=customer_factory(), program=program, account_number="400000000006")
    migration = importlib.import_module("loyalty.migrations.0008_cards_for_existing_accounts")

    # when
    migration.cards_create(apps, None)
    migration.cards_create(apps, None)  # twice: nothing more

    # then
    assert list(Card.objects.filter(account=older).values_list("number", "normalised_number", "kind", "status")) == [
        ("400000000006", "400000000006", "digital", "active")
    ]
    assert Card.objects.filter(account=account).count() == 1


# The loyalty API's lookup ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["ab-77 12", "0AB7712", "{account}", "{account_spaced}"])
def test_the_lookup_by_card_finds_physical_cards_and_account_numbers(make_api_client, account, value):
    # given
    http, _key = make_api_client("loyalty:read")
    card_issue(account=account, number="AB7712")
    number = account.account_number
    value = value.format(account=number, account_spaced=f"{number[:4]} {number[4:8]}-{number[8:]}")

    # when
    response = http.get("/api/v1/customers/lookup", {"identifier": "card", "value": value})

    # then
    assert response.status_code == 200
    assert response.json()["id"] == account.customer.public_id


def test_the_lookup_by_card_still_finds_an_account_without_cards(make_api_client, customer_factory, program):
    # given
    http, _key = make_api_client("loyalty:read")
    customer = customer_factory()
    LoyaltyAccount.objects.create(customer=customer, program=program, account_number="400000000006")

    # when
    response = http.get("/api/v1/customers/lookup", {"identifier": "card", "value": "4000-0000-0006"})

    # then
    assert response.json()["id"] == customer.public_id


@pytest.mark.parametrize("value", ["STRAßE1", "straße1", "ﬁ77"])
def test_the_lookup_by_card_does_not_find_a_card_by_the_upper_cased_form_of_other_letters(
    make_api_client, account, value
):
    # given
    http, _key = make_api_client("loyalty:read")
    card_issue(account=account, number="STRASSE1")
    card_issue(account=account, number="FI77")

    # when
    response = http.get("/api/v1/customers/lookup", {"identifier": "card", "value": value})

    # then
    assert response.status_code == 404
    assert response.json()["code"] == "CUSTOMER_NOT_FOUND"


# Admin -----------------------------------------------------------------------------------------------------------


def test_card_pages_load_and_search_by_normalised_number(admin_client, account):
    # given
    card = card_issue(account=account, number="0044-1234")

    # when
    found = admin_client.get("/admin/loyalty/card/", {"q": "00 441234"})
    missed = admin_client.get("/admin/loyalty/card/", {"q": "441235"})
    change = admin_client.get(f"/admin/loyalty/card/{card.pk}/change/")
    add = admin_client.get("/admin/loyalty/card/add/")

    # then
    assert (change.status_code, add.status_code) == (200, 200)
    assert [row.pk for row in found.context["cl"].result_list] == [card.pk]
    assert list(missed.context["cl"].result_list) == []


def test_the_admin_issues_a_card_through_the_service(admin_client, account):
    # when
    response = admin_client.post(
        "/admin/loyalty/card/add/", {"account": account.pk, "number": "77-88", "kind": "physical", "expires_at": ""}
    )

    # then
    assert response.status_code == 302
    assert list(account.cards.filter(kind="physical").values_list("number", "normalised_number")) == [("77-88", "7788")]


def test_the_admin_refuses_a_number_with_letters_that_upper_case_to_ascii_and_writes_nothing(admin_client, account):
    # when
    response = admin_client.post(
        "/admin/loyalty/card/add/",
        {"account": account.pk, "number": "STRAßE1", "kind": "physical", "expires_at": ""},
        follow=True,
    )

    # then
    assert (
        "error",
        "number: A card number is letters and digits (spaces and dashes allowed), at most 64 characters.",
    ) in _messages(response)
    assert account.cards.count() == 1


def test_the_admin_refuses_a_taken_number_and_writes_nothing(admin_client, account):
    # when
    response = admin_client.post(
        "/admin/loyalty/card/add/",
        {"account": account.pk, "number": account.account_number, "kind": "physical", "expires_at": ""},
        follow=True,
    )

    # then
    assert ("error", "number: Another card already has this number.") in _messages(response)
    assert account.cards.count() == 1


def test_the_block_action_blocks_through_the_service(admin_client, account):
    # given
    card = card_issue(account=account, number="1111")
    replaced = card_issue(account=account, number="2222")
    card_replace(card=replaced, number="3333")

    # when
    response = admin_client.post(
        "/admin/loyalty/card/", {"action": "block_cards", "_selected_action": [card.pk, replaced.pk]}, follow=True
    )

    # then
    card.refresh_from_db()
    assert (card.status, card.status_reason) == ("blocked", "by admin")
    assert _messages(response) == [
        ("success", "1 card(s) blocked."),
        ("error", "2222: This card was replaced; block the card that replaced it."),
    ]


def test_the_account_page_shows_its_cards(admin_client, account):
    # given
    card_issue(account=account, number="1111")

    # when
    response = admin_client.get(f"/admin/loyalty/loyaltyaccount/{account.pk}/change/")

    # then
    assert response.status_code == 200
    assert b"1111" in response.content
    assert account.account_number.encode() in response.content


def test_policy_pages_load_and_a_bad_risk_rule_is_refused(admin_client, program):
    # given
    policy = scan_and_go_policy_get_or_create(program=program)
    url = f"/admin/loyalty/scanandgopolicy/{policy.pk}/change/"
    data = admin_form_data(admin_client.get(url))
    data.update(
        {
            "risk_rules-TOTAL_FORMS": "1",
            "risk_rules-0-position": "0",
            "risk_rules-0-name": "New members",
            "risk_rules-0-condition": "account_younger_than_days",
            "risk_rules-0-parameter": "a month",
            "risk_rules-0-delta": "20",
            "risk_rules-0-is_active": "on",
        }
    )

    # when
    listing = admin_client.get("/admin/loyalty/scanandgopolicy/")
    add = admin_client.get("/admin/loyalty/scanandgopolicy/add/")
    refused = admin_client.post(url, data)

    # then
    assert (listing.status_code, add.status_code, refused.status_code) == (200, 200, 200)
    assert "This condition needs a whole number of 0 or more." in refused.content.decode()
    assert SpotCheckRiskRule.objects.count() == 0
    assert ScanAndGoPolicy.objects.get().config_version == 1


def test_the_policy_page_saves_rules_and_bumps_the_version(admin_client, program):
    # given
    policy = scan_and_go_policy_get_or_create(program=program)
    url = f"/admin/loyalty/scanandgopolicy/{policy.pk}/change/"
    data = admin_form_data(admin_client.get(url))
    data.update(
        {
            "risk_rules-TOTAL_FORMS": "1",
            "risk_rules-0-position": "0",
            "risk_rules-0-name": "New members",
            "risk_rules-0-condition": "account_younger_than_days",
            "risk_rules-0-parameter": "30",
            "risk_rules-0-delta": "20",
            "risk_rules-0-is_active": "on",
        }
    )

    # when
    response = admin_client.post(url, data)

    # then
    assert response.status_code == 302
    assert list(SpotCheckRiskRule.objects.values_list("condition", "parameter", "delta")) == [
        ("account_younger_than_days", "30", 20)
    ]
    assert ScanAndGoPolicy.objects.get().config_version == 3  # the policy's save, then its inlines'


def test_the_member_page_sets_the_override_through_the_service(admin_client, account):
    # given
    url = f"/admin/loyalty/scanandgomember/{account.pk}/change/"
    listing = admin_client.get("/admin/loyalty/scanandgomember/", {"q": account.account_number})

    # when
    saved = admin_client.post(url, {"spot_check_bias_override": "-40"})
    refused = admin_client.post(url, {"spot_check_bias_override": "150"})

    # then
    assert [row.pk for row in listing.context["cl"].result_list] == [account.pk]
    assert saved.status_code == 302
    assert refused.status_code == 200
    account.refresh_from_db()
    assert account.spot_check_bias_override == -40


def test_tier_and_program_pages_show_the_new_fields(admin_client, program):
    # when
    tier_page = admin_client.get(f"/admin/loyalty/tier/{program.tiers.get().pk}/change/")
    program_page = admin_client.get(f"/admin/loyalty/program/{program.pk}/change/")

    # then
    assert "spot_check_bias" in tier_page.context["adminform"].form.fields
    assert {"default_language", "card_number_strip_leading_zeros"} <= set(program_page.context["adminform"].form.fields)
