"""A card handed out at the till: CREATE_CUSTOMER and UPDATE_CUSTOMER with `profile.loyaltyId` (issue 13, item 1).

A free number becomes the account's number and card, so the shopper's pre-printed card works at the Scan & Go
device; one held by another customer is a 409 naming nobody; a malformed one a 400 naming the field; a program that
issues its own numbers refuses it with a 422, never replacing it silently."""

import json

import pytest

from crm.models import Address, ConsentChange, Customer
from loyalty.models import Card, LoyaltyAccount, Program
from loyalty.services.cards import card_issue
from webhooks.models import WebhookEvent

URL = "/endpoint/sa/customers"
CARD = "400000000099"


@pytest.fixture
def device(make_api_client):
    http, _key = make_api_client("scan_and_go")
    return http


def _sign_up(http, *, loyalty_id=CARD, email="ada@example.com", **consents):
    profile = {"firstName": "Ada", "lastName": "Lovelace", "email": email}
    if loyalty_id is not None:
        profile["loyaltyId"] = loyalty_id
    body = {"profile": profile, "consents": {"agreeToTC": True, "loyaltySignUp": True, **consents}}
    return http.post(URL, data=json.dumps(body), content_type="application/json")


def _put(http, body):
    return http.put(URL, data=json.dumps(body), content_type="application/json")


def _written() -> dict[str, int]:
    return {
        "customers": Customer.objects.count(),
        "addresses": Address.objects.count(),
        "consent_changes": ConsentChange.objects.count(),
        "accounts": LoyaltyAccount.objects.count(),
        "cards": Card.objects.count(),
        "webhook_events": WebhookEvent.objects.count(),
    }


def _default_program(**changes) -> Program:
    program = Program.objects.get(is_default=True)
    for name, value in changes.items():
        setattr(program, name, value)
    program.save()
    return program


# Sign-up ---------------------------------------------------------------------------------------------------------


def test_a_free_card_number_becomes_the_account_and_opens_the_scan_and_go_device(pos_client, device):
    # when
    response = _sign_up(pos_client, loyalty_id="4000 0000-0099")

    # then
    assert response.status_code == 200
    customer = response.json()["customer"]
    assert customer["profile"]["loyaltyId"] == CARD
    assert customer["loyaltyProfile"]["accountNumber"] == CARD
    account = LoyaltyAccount.objects.get(customer__public_id=customer["profile"]["customerId"])
    assert list(account.cards.values_list("number", "normalised_number", "kind", "status")) == [
        ("4000 0000-0099", CARD, "physical", "active")
    ]
    scan = device.get("/customer-profile", {"loyaltyCardNumber": CARD})
    assert scan.status_code == 200
    assert scan.json()["customerId"] == customer["profile"]["customerId"]
    assert scan.json()["loyalty"]["id"] == CARD


def test_without_a_card_number_the_program_issues_one(pos_client):
    # when
    response = _sign_up(pos_client, loyalty_id=None)

    # then
    assert response.status_code == 200
    number = response.json()["customer"]["profile"]["loyaltyId"]
    assert number != CARD
    assert list(Card.objects.values_list("number", "kind")) == [(number, "digital")]


@pytest.mark.parametrize("held_as", ["account number", "card of another account"])
def test_a_card_number_another_customer_holds_is_a_409_naming_nobody_and_writes_nothing(pos_client, held_as):
    # given
    first = _sign_up(pos_client, loyalty_id=None, email="grace@example.com").json()["customer"]
    if held_as == "account number":
        taken = first["profile"]["loyaltyId"]
    else:
        taken = CARD
        card_issue(account=LoyaltyAccount.objects.get(), number=CARD)
    before = _written()

    # when
    response = _sign_up(pos_client, loyalty_id=taken)

    # then
    assert response.status_code == 409
    assert response.json() == {
        "errorCode": "LOYALTY_ID_ALREADY_IN_USE",
        "errorMessage": "profile.loyaltyId: This loyalty card number is already in use.",
    }
    assert _written() == before


@pytest.mark.parametrize(
    ("loyalty_id", "code", "message"),
    [
        ("4000/0000/0099", "VALIDATION_ERROR", "profile.loyaltyId: Use letters, digits, spaces and hyphens only."),
        ("-4000", "VALIDATION_ERROR", "profile.loyaltyId: Use letters, digits, spaces and hyphens only."),
        ("4" * 65, "VALIDATION_ERROR", "profile.loyaltyId: Ensure this field has no more than 64 characters."),
        ("4" * 33, "INVALID_CARD_NUMBER", "profile.loyaltyId: A loyalty card number is at most 32 letters and digits."),
    ],
    ids=["slashes", "leading-dash", "65-characters", "33-digits"],
)
def test_a_malformed_card_number_is_a_400_naming_the_field_and_writes_nothing(pos_client, loyalty_id, code, message):
    # given
    before = _written()

    # when
    response = _sign_up(pos_client, loyalty_id=loyalty_id)

    # then
    assert response.status_code == 400
    assert response.json() == {"errorCode": code, "errorMessage": message}
    assert _written() == before


def test_a_program_with_a_check_digit_refuses_a_number_whose_check_digit_is_wrong(pos_client):
    # given
    _default_program(card_number_check_digit=Program.CheckDigit.LUHN)
    before = _written()

    # when
    wrong = _sign_up(pos_client, loyalty_id=CARD)
    right = _sign_up(pos_client, loyalty_id="400000000093")

    # then
    assert wrong.status_code == 400
    assert wrong.json() == {
        "errorCode": "INVALID_CARD_NUMBER",
        "errorMessage": "profile.loyaltyId: Not a card number of this program: its last digit is a check digit, and "
        "it does not match.",
    }
    assert right.status_code == 200
    assert right.json()["customer"]["profile"]["loyaltyId"] == "400000000093"
    assert _written()["customers"] == before["customers"] + 1


def test_a_program_that_issues_its_own_numbers_refuses_a_pos_number_with_a_422_and_writes_nothing(pos_client):
    # given
    _default_program(pos_card_numbers=Program.PosCardNumbers.REFUSE)
    before = _written()

    # when
    response = _sign_up(pos_client, loyalty_id=CARD)

    # then
    assert response.status_code == 422
    assert response.json() == {
        "errorCode": "LOYALTY_ID_NOT_ACCEPTED",
        "errorMessage": "profile.loyaltyId: This loyalty program issues its own card numbers: send the request "
        "without a loyalty id, and the customer's new number comes back in the response.",
    }
    assert _written() == before


def test_a_program_that_issues_its_own_numbers_takes_back_its_own_number_unchanged(pos_client):
    # given: the edit form, pre-filled from GET_CUSTOMER, sends the loyaltyId it was given
    _default_program(pos_card_numbers=Program.PosCardNumbers.REFUSE)
    customer = _sign_up(pos_client, loyalty_id=None).json()["customer"]
    before = _written()

    # when
    response = _put(
        pos_client,
        {"profile": {"customerId": customer["profile"]["customerId"], "loyaltyId": customer["profile"]["loyaltyId"]}},
    )

    # then
    assert response.status_code == 200
    assert response.json()["customer"]["profile"]["loyaltyId"] == customer["profile"]["loyaltyId"]
    assert _written() == before


def test_a_card_number_without_the_loyalty_consent_is_a_400_and_writes_nothing(pos_client):
    # given
    before = _written()

    # when
    response = _sign_up(pos_client, loyaltySignUp=False)

    # then
    assert response.status_code == 400
    assert response.json() == {
        "errorCode": "LOYALTY_SIGN_UP_REQUIRED",
        "errorMessage": "profile.loyaltyId: A loyalty card is for members: send consents.loyaltySignUp: true with it.",
    }
    assert _written() == before


# Update ----------------------------------------------------------------------------------------------------------


def test_a_member_given_a_new_card_at_the_till_keeps_the_account_number_and_gets_the_card(pos_client, device):
    # given
    customer = _sign_up(pos_client, loyalty_id=None).json()["customer"]
    customer_id, account_number = customer["profile"]["customerId"], customer["profile"]["loyaltyId"]

    # when
    response = _put(pos_client, {"profile": {"customerId": customer_id, "loyaltyId": CARD}})

    # then
    assert response.status_code == 200
    assert response.json()["customer"]["profile"]["loyaltyId"] == account_number
    # A dict, not a sorted list: the account number is random and may sort either side of the card's.
    assert dict(Card.objects.values_list("normalised_number", "kind")) == {CARD: "physical", account_number: "digital"}
    assert device.get("/customer-profile", {"loyaltyCardNumber": CARD}).json()["customerId"] == customer_id


def test_an_update_with_a_card_number_another_customer_holds_is_a_409_and_changes_nothing(pos_client):
    # given
    _sign_up(pos_client, loyalty_id=CARD, email="grace@example.com")
    customer = _sign_up(pos_client, loyalty_id=None).json()["customer"]
    before = _written()

    # when
    response = _put(
        pos_client,
        {"profile": {"customerId": customer["profile"]["customerId"], "firstName": "Augusta", "loyaltyId": CARD}},
    )

    # then
    assert response.status_code == 409
    assert response.json()["errorCode"] == "LOYALTY_ID_ALREADY_IN_USE"
    assert "customerId" not in response.json()
    assert _written() == before
    assert Customer.objects.get(public_id=customer["profile"]["customerId"]).first_name == "Ada"


def test_a_customer_who_signs_up_on_update_gets_the_card_number_as_account(pos_client):
    # given
    customer = _sign_up(pos_client, loyalty_id=None, loyaltySignUp=False).json()["customer"]

    # when
    response = _put(
        pos_client,
        {
            "profile": {"customerId": customer["profile"]["customerId"], "loyaltyId": CARD},
            "consents": {"loyaltySignUp": True},
        },
    )

    # then
    assert response.status_code == 200
    assert response.json()["customer"]["loyaltyProfile"]["accountNumber"] == CARD


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("de", "profile.loyaltyId: Diese Kundenkartennummer wird bereits verwendet."),
        ("fr", "profile.loyaltyId: Ce numéro de carte de fidélité est déjà utilisé."),
        ("es", "profile.loyaltyId: Este número de tarjeta de fidelización ya está en uso."),
    ],
)
def test_the_card_number_errors_follow_accept_language(pos_client, language, message):
    # given
    _sign_up(pos_client, email="grace@example.com")
    body = {"profile": {"firstName": "Ada", "loyaltyId": CARD}, "consents": {"loyaltySignUp": True}}

    # when
    response = pos_client.post(
        URL, data=json.dumps(body), content_type="application/json", HTTP_ACCEPT_LANGUAGE=language
    )

    # then
    assert response.status_code == 409
    assert response.json() == {"errorCode": "LOYALTY_ID_ALREADY_IN_USE", "errorMessage": message}
