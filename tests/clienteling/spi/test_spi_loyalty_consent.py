"""`consents.loyaltySignUp` means what it says (issue 13, item 3): withdrawn in UPDATE_CUSTOMER it ends the
membership as the events API's opt_out does (one service), given again it re-enrols the same account. Also the
consents a POS never sent (left out, not false) and `profile.address: null` (clears the profile address)."""

import json

import pytest

from crm.models import ConsentChange, Customer
from crm.services.context import ChangeContext
from loyalty.models import LoyaltyAccount
from loyalty.services.points import points_adjust_by_admin
from tests.clienteling.scan_and_go import world
from webhooks.models import WebhookEvent

URL = "/endpoint/sa/customers"


@pytest.fixture
def device(make_api_client):
    http, _key = make_api_client("scan_and_go")
    return http


def _sign_up(http, consents=None, **profile):
    body = {
        "profile": {"firstName": "Ada", "lastName": "Lovelace", "email": "ada@example.com", **profile},
        "consents": {"agreeToTC": True, "loyaltySignUp": True} if consents is None else consents,
    }
    response = http.post(URL, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 200
    return response.json()["customer"]


def _put(http, body):
    return http.put(URL, data=json.dumps(body), content_type="application/json")


def _loyalty_consent(http, customer_id, value):
    return _put(http, {"profile": {"customerId": customer_id}, "consents": {"loyaltySignUp": value}})


def _loyalty_events():
    events = WebhookEvent.objects.filter(type__in=("loyalty.enrolled", "loyalty.opted_out")).order_by("id")
    return [(event.type, json.loads(event.body)["data"]["account"]["state"]) for event in events]


@pytest.fixture
def member(pos_client):
    """A signed-up customer with 120 points and an auto-apply Scan & Go coupon in the program."""
    customer = _sign_up(pos_client)
    account = LoyaltyAccount.objects.get(customer__public_id=customer["profile"]["customerId"])
    points_adjust_by_admin(account=account, points=120, user=None, note="welcome")
    world.coupon("welcome", auto_apply=True)
    return customer["profile"]["customerId"], account.account_number


def test_withdrawing_the_loyalty_consent_makes_the_member_a_guest_everywhere(pos_client, device, member):
    # given
    customer_id, account_number = member

    # when
    response = _loyalty_consent(pos_client, customer_id, False)

    # then: the SPI leaves loyaltyProfile (and the loyaltyId) out, as the vendor asks when it does not apply
    assert response.status_code == 200
    body = response.json()["customer"]
    assert "loyaltyProfile" not in body
    assert "loyaltyId" not in body["profile"]
    assert body["consents"] == {"agreeToTC": True, "loyaltySignUp": False}
    # the account stays for the ledger, as a guest
    account = LoyaltyAccount.objects.get(account_number=account_number)
    assert (account.state, account.points_balance) == ("guest", 120)
    assert account.opted_out_at is not None
    # Scan & Go: a guest, no loyalty block, no coupons
    scan = device.get("/customer-profile", {"loyaltyCardNumber": account_number}).json()
    assert scan["customerId"] == customer_id
    assert "loyalty" not in scan
    assert "coupons" not in scan
    # the webhook says so
    assert _loyalty_events() == [("loyalty.enrolled", "enrolled"), ("loyalty.opted_out", "guest")]
    assert list(
        ConsentChange.objects.filter(consent="loyalty_sign_up").order_by("id").values_list("new_value", flat=True)
    ) == [
        True,
        False,
    ]


def test_giving_the_consent_again_re_enrols_the_same_account_with_its_card_and_points(pos_client, device, member):
    # given
    customer_id, account_number = member
    _loyalty_consent(pos_client, customer_id, False)

    # when
    response = _loyalty_consent(pos_client, customer_id, True)

    # then
    assert response.status_code == 200
    body = response.json()["customer"]
    assert body["profile"]["loyaltyId"] == account_number
    assert (body["loyaltyProfile"]["accountNumber"], body["loyaltyProfile"]["currentPoints"]) == (account_number, 120)
    assert LoyaltyAccount.objects.filter(customer__public_id=customer_id).count() == 1
    scan = device.get("/customer-profile", {"loyaltyCardNumber": account_number}).json()
    assert scan["loyalty"] == {"id": account_number, "type": "member", "pointsBalance": 120}
    assert [coupon["code"] for coupon in scan["coupons"]] == ["welcome"]
    assert _loyalty_events() == [
        ("loyalty.enrolled", "enrolled"),
        ("loyalty.opted_out", "guest"),
        ("loyalty.enrolled", "enrolled"),
    ]


def test_sending_the_consent_the_customer_already_gave_or_withdrew_changes_nothing(pos_client, member):
    # given
    customer_id, _account_number = member

    # when
    first = _loyalty_consent(pos_client, customer_id, True)
    _loyalty_consent(pos_client, customer_id, False)
    second = _loyalty_consent(pos_client, customer_id, False)

    # then
    assert first.status_code == second.status_code == 200
    assert _loyalty_events() == [("loyalty.enrolled", "enrolled"), ("loyalty.opted_out", "guest")]


def test_the_events_api_opt_out_says_so_with_the_same_webhook(member):
    # given
    from loyalty.services.membership import loyalty_account_opt_out

    _customer_id, account_number = member

    # when
    loyalty_account_opt_out(account=LoyaltyAccount.objects.get(account_number=account_number), context=ChangeContext())

    # then
    assert _loyalty_events() == [("loyalty.enrolled", "enrolled"), ("loyalty.opted_out", "guest")]


def test_a_blocked_account_stays_blocked_when_the_consent_is_withdrawn(pos_client, member):
    # given
    customer_id, account_number = member
    LoyaltyAccount.objects.filter(account_number=account_number).update(state="blocked")

    # when
    response = _loyalty_consent(pos_client, customer_id, False)

    # then: the consent is recorded; the block is the back office's to lift
    assert response.status_code == 200
    assert response.json()["customer"]["consents"]["loyaltySignUp"] is False
    assert LoyaltyAccount.objects.get(account_number=account_number).state == "blocked"
    assert _loyalty_events() == [("loyalty.enrolled", "enrolled")]


def test_a_sign_up_without_the_loyalty_consent_creates_no_account(pos_client):
    # when
    customer = _sign_up(pos_client, consents={"agreeToTC": True, "loyaltySignUp": False})

    # then
    assert "loyaltyProfile" not in customer
    assert LoyaltyAccount.objects.count() == 0


# Consents the POS never sent --------------------------------------------------------------------------------------


def test_consents_the_pos_never_sent_are_left_out_not_reported_false(pos_client):
    # when: the sign-up layout asks for two of the seven consents
    customer = _sign_up(pos_client, consents={"agreeToTC": True, "smsSignUp": False})
    fetched = pos_client.get(f"{URL}/{customer['profile']['customerId']}").json()["customer"]

    # then: a consent never asked is unknown, not refused
    assert customer["consents"] == fetched["consents"] == {"agreeToTC": True, "smsSignUp": False}


def test_a_customer_never_asked_for_any_consent_has_no_consents_object(pos_client):
    # when
    customer = _sign_up(pos_client, consents={})

    # then
    assert "consents" not in customer


# profile.address: null ---------------------------------------------------------------------------------------------


ADDRESS = {"addressLine1": "1 Main St", "city": "Springfield", "postalCode": "62701", "countryCode": "US"}


def test_profile_address_null_clears_the_profile_and_loyalty_address_and_keeps_the_address_list(pos_client):
    # given
    customer = _sign_up(pos_client, address=ADDRESS)
    customer_id = customer["profile"]["customerId"]
    assert customer["loyaltyProfile"]["address"]["addressLine1"] == "1 Main St"

    # when
    response = _put(pos_client, {"profile": {"customerId": customer_id, "address": None}})

    # then
    assert response.status_code == 200
    body = response.json()["customer"]
    assert "address" not in body["profile"]
    assert "address" not in body["loyaltyProfile"]
    assert [address["addressLine1"] for address in body["addressList"]] == ["1 Main St"]
    stored = Customer.objects.get(public_id=customer_id)
    assert stored.profile_address_id is None
    assert LoyaltyAccount.objects.get(customer=stored).address_id is None
    event = WebhookEvent.objects.filter(type="customer.updated").latest("id")
    assert json.loads(event.body)["data"]["changed_fields"] == ["profile_address"]


def test_a_profile_without_address_leaves_the_profile_address_as_it_is(pos_client):
    # given
    customer = _sign_up(pos_client, address=ADDRESS)
    customer_id = customer["profile"]["customerId"]

    # when
    response = _put(pos_client, {"profile": {"customerId": customer_id, "firstName": "Augusta"}})

    # then
    assert response.json()["customer"]["profile"]["address"] == customer["profile"]["address"]
