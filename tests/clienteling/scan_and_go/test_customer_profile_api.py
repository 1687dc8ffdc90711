"""GET /customer-profile beyond the golden answers: authentication, bad input, store overrides, card number
forms, configuration edits in the admin taking effect, and the OpenAPI description."""

import base64
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from crm.models import ApiClient, Customer
from crm.services.context import ChangeContext
from loyalty.models import LoyaltyAccount, Program, ScanAndGoPolicy
from loyalty.services.cards import card_block, card_issue
from loyalty.services.membership import loyalty_account_opt_in, loyalty_account_opt_out
from tests.admin_forms import admin_form_data
from tests.clienteling.scan_and_go import world

URL = "/customer-profile"


@pytest.fixture
def device(make_api_client):
    http, _key = make_api_client("scan_and_go")
    return http


@pytest.fixture
def member(db):
    return world.shopper()


def _basic(user: str, password: str) -> APIClient:
    http = APIClient()
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    http.credentials(HTTP_AUTHORIZATION=f"Basic {token}")
    return http


def _writes(queries) -> list[str]:
    return [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith(("SELECT", "SAVEPOINT", "RELEASE"))]


# Authentication --------------------------------------------------------------------------------------------------


def test_basic_auth_with_the_key_as_password_and_any_user_name(make_api_client, member):
    # given
    _http, key = make_api_client("scan_and_go")
    customer, account = member

    # when
    response = _basic("shopreme", key).get(URL, {"loyaltyCardNumber": account.account_number})

    # then
    assert response.status_code == 200
    assert response.json()["customerId"] == customer.public_id


@pytest.mark.parametrize(
    "credentials",
    [
        {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b"shopreme:wrong-key").decode()},
        {"HTTP_AUTHORIZATION": "Basic not-base64!"},
        {"HTTP_AUTHORIZATION": "Basic Zoë"},
        {"HTTP_AUTHORIZATION": "Bearer clé-inconnue"},
        {"HTTP_AUTHORIZATION": "Bearer wrong-key"},
        {"HTTP_X_API_KEY": "wrong-key"},
        {},
    ],
    ids=[
        "basic-wrong-key",
        "basic-garbage",
        "basic-non-ascii",
        "bearer-non-ascii",
        "bearer-wrong-key",
        "header-wrong-key",
        "no-key",
    ],
)
def test_a_missing_or_wrong_key_is_a_bare_401(member, credentials):
    # given
    _customer, account = member
    http = APIClient()
    http.credentials(**credentials)

    # when
    response = http.get(URL, {"loyaltyCardNumber": account.account_number})

    # then
    assert response.status_code == 401
    assert response.content == b""
    assert response["WWW-Authenticate"] == 'Basic realm="scan-and-go", charset="UTF-8"'


def test_the_key_may_come_as_header_or_query_parameter(make_api_client, member):
    # given
    _http, key = make_api_client("scan_and_go")
    _customer, account = member
    header = APIClient()
    header.credentials(HTTP_X_API_KEY=key)

    # when
    by_header = header.get(URL, {"loyaltyCardNumber": account.account_number})
    by_query = APIClient().get(URL, {"loyaltyCardNumber": account.account_number, "api_key": key})

    # then
    assert (by_header.status_code, by_query.status_code) == (200, 200)


def test_a_key_without_the_scan_and_go_scope_is_403(make_api_client, member):
    # given
    http, _key = make_api_client("clienteling", "loyalty:read")
    _customer, account = member

    # when
    response = http.get(URL, {"loyaltyCardNumber": account.account_number})

    # then
    assert response.status_code == 403
    assert response.json() == {
        "errorCode": "PERMISSION_DENIED",
        "errorMessage": "This API key lacks the 'scan_and_go' scope.",
    }


# Bad input -------------------------------------------------------------------------------------------------------

MISSING = "loyaltyCardNumber: Required: the scanned card number (or cardNumber, or customerId)."
NOT_A_CARD = "Use letters and digits only (spaces and dashes are ignored)."


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, MISSING),
        ({"loyaltyCardNumber": ""}, MISSING),
        ({"loyaltyCardNumber": "   "}, MISSING),
        ({"storeId": "BER01"}, MISSING),
        ({"loyaltyCardNumber": "1" * 2048}, "loyaltyCardNumber: Ensure this field has no more than 64 characters."),
        ({"cardNumber": "9" * 65}, "cardNumber: Ensure this field has no more than 64 characters."),
        ({"loyaltyCardNumber": "5000😀0001"}, f"loyaltyCardNumber: {NOT_A_CARD}"),
        ({"loyaltyCardNumber": "５０００"}, f"loyaltyCardNumber: {NOT_A_CARD}"),
        ({"loyaltyCardNumber": "5000\x070001"}, f"loyaltyCardNumber: {NOT_A_CARD}"),
        ({"loyaltyCardNumber": "5000\x000001"}, f"loyaltyCardNumber: {NOT_A_CARD}"),
        ({"loyaltyCardNumber": "---"}, f"loyaltyCardNumber: {NOT_A_CARD}"),
        ({"loyaltyCardNumber": "STRAßE1"}, f"loyaltyCardNumber: {NOT_A_CARD}"),
        ({"loyaltyCardNumber": "ﬁ77"}, f"loyaltyCardNumber: {NOT_A_CARD}"),
        ({"cardNumber": "ı77"}, f"cardNumber: {NOT_A_CARD}"),
        ({"loyaltyCardNumber": "77\u00a088"}, f"loyaltyCardNumber: {NOT_A_CARD}"),
        ({"customerId": "C" * 129}, "customerId: Ensure this field has no more than 128 characters."),
        (
            {"loyaltyCardNumber": "123", "customerId": "s" * 129},
            "customerId: Ensure this field has no more than 128 characters.",
        ),
        (
            {"loyaltyCardNumber": "123", "storeId": "BÉR\x01"},
            "storeId: Use letters, digits, spaces, dots, dashes and underscores only.",
        ),
        (
            {"loyaltyCardNumber": "123", "deviceType": "x" * 65},
            "deviceType: Ensure this field has no more than 64 characters.",
        ),
    ],
    ids=[
        "nothing",
        "empty-card",
        "blank-card",
        "store-only",
        "2kb-card",
        "65-char-alias",
        "emoji",
        "full-width-digits",
        "control-character",
        "nul",
        "only-separators",
        "sharp-s-upper-cases-to-ss",
        "fi-ligature-upper-cases-to-fi",
        "dotless-i-upper-cases-to-i",
        "non-breaking-space",
        "customer-id-too-long",
        "customer-id-too-long-beside-a-card",
        "store-control-character",
        "device-type-too-long",
    ],
)
def test_bad_input_is_a_400_naming_the_parameter_and_writes_nothing(device, member, params, message):
    # given: cards the upper-cased forms of the non-ASCII values would name
    _customer, account = member
    for number in ("STRASSE1", "FI77", "I77", "7788"):
        card_issue(account=account, number=number)

    # when
    with CaptureQueriesContext(connection) as queries:
        response = device.get(URL, params)

    # then
    assert response.status_code == 400
    assert response.json() == {"errorCode": "VALIDATION_ERROR", "errorMessage": message}
    assert [sql for sql in _writes(queries) if "crm_apiclient" not in sql] == []


def test_the_error_message_follows_accept_language(device, member):
    # when
    response = device.get(URL, {"loyaltyCardNumber": "12€"}, HTTP_ACCEPT_LANGUAGE="de")

    # then
    assert response.status_code == 400
    assert response.json()["errorMessage"] == (
        "loyaltyCardNumber: Nur Buchstaben und Ziffern verwenden (Leerzeichen und Bindestriche werden ignoriert)."
    )


def test_a_known_card_number_sent_as_customer_id_is_not_found(device, member):
    # given
    _customer, account = member

    # when
    response = device.get(URL, {"customerId": account.account_number})

    # then
    assert (response.status_code, response.content) == (404, b"")


@pytest.mark.parametrize(
    "device_key",
    ["shopper_42", "C0001'; DROP", "s" * 128, "Kunde Nr. 7 / Kasse 3", "ÄÖÜ-42", "C" * 33],
    ids=["underscore", "punctuation", "128-chars", "spaces-and-slash", "non-ascii", "33-chars"],
)
def test_a_customer_id_not_ours_is_ignored_beside_a_card_number(device, member, device_key):
    # given
    customer, account = member

    # when
    response = device.get(URL, {"loyaltyCardNumber": account.account_number, "customerId": device_key})

    # then
    assert response.status_code == 200
    assert response.json()["customerId"] == customer.public_id
    assert response.json()["loyalty"]["id"] == account.account_number


@pytest.mark.parametrize(
    "device_key",
    ["shopper_42", "C0001'; DROP", "s" * 128, "Kunde Nr. 7 / Kasse 3", "ÄÖÜ-42", "C" * 33],
    ids=["underscore", "punctuation", "128-chars", "spaces-and-slash", "non-ascii", "33-chars"],
)
def test_without_a_card_a_customer_id_not_ours_is_a_404_without_a_lookup(
    device, member, device_key, django_assert_num_queries
):
    # given
    device.get(URL, {"loyaltyCardNumber": member[1].account_number})  # records the key's last use

    # when: no query at all (the key is this process's copy, crm/api_key_cache.py)
    with django_assert_num_queries(0):
        response = device.get(URL, {"customerId": device_key})

    # then
    assert (response.status_code, response.content) == (404, b"")


def test_a_profile_is_never_cached_and_reading_it_writes_nothing(device, member):
    # given
    _customer, account = member
    device.get(URL, {"loyaltyCardNumber": account.account_number})  # records the key's last use

    # when
    with CaptureQueriesContext(connection) as queries:
        response = device.get(URL, {"loyaltyCardNumber": account.account_number})

    # then
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert _writes(queries) == []


# Card numbers ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "scanned", ["{n}", "00{n}", " {n} ", "{a}-{b}", "{a} {b}"], ids=["as-is", "zeros", "padded", "dashes", "spaces"]
)
def test_scanned_forms_of_a_number_find_the_card(device, member, scanned):
    # given
    customer, account = member
    number = account.account_number

    # when
    response = device.get(URL, {"loyaltyCardNumber": scanned.format(n=number, a=number[:6], b=number[6:])})

    # then
    assert response.status_code == 200
    assert response.json()["customerId"] == customer.public_id


def test_letters_in_a_card_number_match_in_any_case(device, member):
    # given
    customer, account = member
    card_issue(account=account, number="ab-12-cd")

    # when
    response = device.get(URL, {"cardNumber": "AB12CD"})

    # then
    assert response.json()["customerId"] == customer.public_id


def test_leading_zeros_count_in_a_program_that_keeps_them(device):
    # given
    Program.objects.filter(is_default=True).update(card_number_strip_leading_zeros=False)
    customer, account = world.shopper()
    card_issue(account=account, number="000777")

    # when
    exact = device.get(URL, {"loyaltyCardNumber": "000777"})
    without_zeros = device.get(URL, {"loyaltyCardNumber": "777"})
    more_zeros = device.get(URL, {"loyaltyCardNumber": "0000777"})

    # then
    assert exact.json()["customerId"] == customer.public_id
    assert (without_zeros.status_code, more_zeros.status_code) == (404, 404)


def test_loyalty_card_number_wins_over_card_number_and_customer_id(device):
    # given
    first, first_account = world.shopper()
    second, second_account = world.shopper(email="sam@example.com")

    # when
    response = device.get(
        URL,
        {
            "loyaltyCardNumber": first_account.account_number,
            "cardNumber": second_account.account_number,
            "customerId": second.public_id,
        },
    )

    # then
    assert response.json()["customerId"] == first.public_id


# Store overrides -------------------------------------------------------------------------------------------------


def test_a_store_may_require_terms_the_program_does_not(device):
    # given
    world.store_override("BER01", require_terms_consent=True)
    _customer, account = world.shopper(terms=None)

    # when
    in_store = device.get(URL, {"loyaltyCardNumber": account.account_number, "storeId": "BER01"})
    elsewhere = device.get(URL, {"loyaltyCardNumber": account.account_number, "storeId": "HAM01"})

    # then
    assert in_store.json()["unlockingDevices"]["isAllowed"] is False
    assert elsewhere.json()["unlockingDevices"] == {"isAllowed": True}


def test_a_store_may_waive_terms_the_program_requires(device):
    # given
    world.policy(require_terms_consent=True)
    world.store_override("BER01", require_terms_consent=False)
    _customer, account = world.shopper(terms=False)

    # when
    in_store = device.get(URL, {"loyaltyCardNumber": account.account_number, "storeId": "BER01"})
    no_store = device.get(URL, {"loyaltyCardNumber": account.account_number})

    # then
    assert in_store.json()["unlockingDevices"] == {"isAllowed": True}
    assert no_store.json()["unlockingDevices"]["isAllowed"] is False


def test_a_program_with_scan_and_go_off_denies_everywhere(device, member):
    # given
    world.policy(unlocking_allowed=False)
    _customer, account = member

    # when
    response = device.get(URL, {"loyaltyCardNumber": account.account_number, "storeId": "HAM01"})

    # then
    assert response.json()["unlockingDevices"] == {
        "isAllowed": False,
        "message": "Scan & Go ist in dieser Filiale heute nicht verfügbar. Bitte nutzen Sie eine Kasse.",
    }


def test_a_switched_off_program_denies_like_scan_and_go_off_and_sends_no_coupons(device, member):
    # given
    world.coupon("welcome", auto_apply=True)
    _customer, account = member
    Program.objects.filter(is_default=True).update(is_active=False)

    # when
    by_card = device.get(URL, {"loyaltyCardNumber": account.account_number, "storeId": "BER01"})
    by_id = device.get(URL, {"customerId": account.customer.public_id})

    # then
    for response in (by_card, by_id):
        assert response.status_code == 200
        assert response.json()["unlockingDevices"] == {
            "isAllowed": False,
            "message": "Scan & Go ist in dieser Filiale heute nicht verfügbar. Bitte nutzen Sie eine Kasse.",
        }
        assert "coupons" not in response.json()


def test_a_switched_off_program_applies_to_the_next_scan(device, member):
    # given
    _customer, account = member
    device.get(URL, {"loyaltyCardNumber": account.account_number})  # caches the configuration
    Program.objects.filter(is_default=True).update(is_active=False)

    # when
    off = device.get(URL, {"loyaltyCardNumber": account.account_number})
    Program.objects.filter(is_default=True).update(is_active=True)
    on_again = device.get(URL, {"loyaltyCardNumber": account.account_number})

    # then
    assert off.json()["unlockingDevices"]["isAllowed"] is False
    assert on_again.json()["unlockingDevices"] == {"isAllowed": True}


def test_by_customer_id_an_account_in_a_running_program_wins_over_the_switched_off_default(
    device, member, loyalty_account_factory
):
    # given
    customer, default_account = member
    partner = Program.objects.create(code="partner", name="Partner program")
    partner_account = loyalty_account_factory(customer=customer, program=partner)
    Program.objects.filter(pk=default_account.program_id).update(is_active=False)

    # when
    response = device.get(URL, {"customerId": customer.public_id})

    # then
    assert response.json()["loyalty"]["id"] == partner_account.account_number
    assert response.json()["unlockingDevices"] == {"isAllowed": True}


# Guests and blocked shoppers -------------------------------------------------------------------------------------


def test_a_guest_unlocks_without_loyalty_block_or_coupons(device, member):
    # given
    world.coupon("welcome", auto_apply=True)
    customer, account = member
    loyalty_account_opt_out(account=account, context=ChangeContext())

    # when
    body = device.get(URL, {"loyaltyCardNumber": account.account_number}).json()

    # then
    assert body == {
        "customerId": customer.public_id,
        "unlockingDevices": {"isAllowed": True},
        "firstName": "Alex",
        "lastName": "Muster",
        "email": "alex@example.com",
        "spotCheckBias": 0,
        "preferredLocale": "de-DE",
    }


def test_a_guest_is_denied_for_the_same_reasons_as_a_member(device, member):
    # given
    _customer, account = member
    card = card_issue(account=account, number="31337")
    card_block(card=card)
    loyalty_account_opt_out(account=account, context=ChangeContext())

    # when
    body = device.get(URL, {"loyaltyCardNumber": "31337"}).json()

    # then
    assert body["unlockingDevices"] == {
        "isAllowed": False,
        "message": "Diese Karte ist gesperrt. Bitte wenden Sie sich an einen Mitarbeiter.",
    }
    assert "loyalty" not in body


def test_a_guest_who_opts_in_again_gets_loyalty_and_coupons_back(device, member):
    # given
    world.coupon("welcome", auto_apply=True)
    customer, account = member
    loyalty_account_opt_out(account=account, context=ChangeContext())
    loyalty_account_opt_in(customer=customer, fields={}, context=ChangeContext())

    # when
    body = device.get(URL, {"loyaltyCardNumber": account.account_number}).json()

    # then
    assert body["loyalty"] == {"id": account.account_number, "type": "member", "pointsBalance": 0}
    assert [coupon["code"] for coupon in body["coupons"]] == ["welcome"]


@pytest.mark.parametrize(
    ("switch", "block"),
    [("deny_blocked_customer", "customer"), ("deny_blocked_account", "account")],
    ids=["blocked-customer", "blocked-account"],
)
def test_a_blocked_shopper_the_policy_lets_unlock_gets_no_coupons(device, member, switch, block, voucher_factory):
    # given
    world.policy(**{switch: False})
    world.coupon("welcome", auto_apply=True)
    customer, account = member
    voucher_factory(definition=world.coupon("held"), customer=customer)
    if block == "customer":
        Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.BLOCKED)
    else:
        LoyaltyAccount.objects.filter(pk=account.pk).update(state=LoyaltyAccount.State.BLOCKED)

    # when
    body = device.get(URL, {"loyaltyCardNumber": account.account_number}).json()

    # then
    assert body["unlockingDevices"] == {"isAllowed": True}
    assert body["loyalty"] == {"id": account.account_number, "type": "member", "pointsBalance": 0}
    assert "coupons" not in body


def test_a_blocked_customer_is_denied_by_default(device, member):
    # given
    world.coupon("welcome", auto_apply=True)
    customer, account = member
    Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.BLOCKED)

    # when
    body = device.get(URL, {"loyaltyCardNumber": account.account_number}).json()

    # then
    assert body["unlockingDevices"] == {
        "isAllowed": False,
        "message": "Wir können Scan & Go für Sie nicht starten. Bitte wenden Sie sich an einen Mitarbeiter.",
    }
    assert "coupons" not in body


def test_a_denied_shopper_gets_no_coupons(device, member):
    # given
    world.coupon("welcome", auto_apply=True)
    world.store_override("BER01", unlocking_allowed=False)
    _customer, account = member

    # when
    denied = device.get(URL, {"loyaltyCardNumber": account.account_number, "storeId": "BER01"})
    allowed = device.get(URL, {"loyaltyCardNumber": account.account_number})

    # then
    assert "coupons" not in denied.json()
    assert [coupon["code"] for coupon in allowed.json()["coupons"]] == ["welcome"]


def test_the_policy_can_stop_sending_coupons(device, member):
    # given
    world.coupon("welcome", auto_apply=True)
    world.policy(include_coupons=False)
    _customer, account = member

    # when
    response = device.get(URL, {"loyaltyCardNumber": account.account_number})

    # then
    assert "coupons" not in response.json()


# Configuration edits take effect ---------------------------------------------------------------------------------


def test_an_admin_edit_of_the_policy_applies_to_the_next_scan(device, member, admin_client):
    # given
    current = world.policy()
    _customer, account = member
    assert device.get(URL, {"loyaltyCardNumber": account.account_number}).json()["unlockingDevices"]["isAllowed"]
    url = f"/admin/loyalty/scanandgopolicy/{current.pk}/change/"
    data = admin_form_data(admin_client.get(url))
    data["unlocking_allowed"] = ""  # unticked

    # when
    saved = admin_client.post(url, data)
    response = device.get(URL, {"loyaltyCardNumber": account.account_number})

    # then
    assert saved.status_code == 302
    assert response.json()["unlockingDevices"]["isAllowed"] is False


def test_an_admin_edit_of_a_message_inline_applies_to_the_next_scan(device, member, admin_client):
    # given
    current = world.policy(unlocking_allowed=False)
    _customer, account = member
    device.get(URL, {"loyaltyCardNumber": account.account_number})  # the configuration is now cached
    url = f"/admin/loyalty/scanandgopolicy/{current.pk}/change/"
    data = admin_form_data(admin_client.get(url))
    data.update(
        {
            "denial_messages-TOTAL_FORMS": "1",
            "denial_messages-0-reason": "unlocking_disabled",
            "denial_messages-0-language": "de",
            "denial_messages-0-message": "Heute nur an der Kasse.",
        }
    )

    # when
    saved = admin_client.post(url, data)
    response = device.get(URL, {"loyaltyCardNumber": account.account_number})

    # then
    assert saved.status_code == 302
    assert response.json()["unlockingDevices"]["message"] == "Heute nur an der Kasse."


def test_a_changed_coupon_applies_to_the_next_scan(device, member):
    # given
    welcome = world.coupon("welcome", auto_apply=True)
    _customer, account = member
    first = device.get(URL, {"loyaltyCardNumber": account.account_number})
    welcome.is_active = False
    welcome.save()

    # when
    second = device.get(URL, {"loyaltyCardNumber": account.account_number})

    # then
    assert [coupon["code"] for coupon in first.json()["coupons"]] == ["welcome"]
    assert "coupons" not in second.json()


def test_a_policy_version_bump_is_what_reloads_the_configuration(device, member):
    # given
    current = world.policy()
    _customer, account = member
    device.get(URL, {"loyaltyCardNumber": account.account_number})
    # A write around the services (no version bump) is not seen while the cached copy is young...
    ScanAndGoPolicy.objects.filter(pk=current.pk).update(unlocking_allowed=False)
    unchanged = device.get(URL, {"loyaltyCardNumber": account.account_number})

    # when
    world.policy()  # ... the services' bump is
    changed = device.get(URL, {"loyaltyCardNumber": account.account_number})

    # then
    assert unchanged.json()["unlockingDevices"]["isAllowed"] is True
    assert changed.json()["unlockingDevices"]["isAllowed"] is False


# Details of the body ---------------------------------------------------------------------------------------------


def test_an_expiry_in_the_future_still_unlocks(device, member):
    # given
    _customer, account = member
    card_issue(account=account, number="4242", expires_at=timezone.now() + timedelta(days=1))

    # when
    response = device.get(URL, {"loyaltyCardNumber": "4242"})

    # then
    assert response.json()["unlockingDevices"] == {"isAllowed": True}


def test_the_body_never_carries_null_and_omits_what_is_unknown(device):
    # given
    _customer, account = world.shopper(first_name="", last_name="", email="x@example.com", language="")

    # when
    body = device.get(URL, {"loyaltyCardNumber": account.account_number}).json()

    # then
    assert set(body) == {"customerId", "unlockingDevices", "email", "loyalty", "spotCheckBias"}
    assert None not in body.values()


def test_the_openapi_schema_describes_the_endpoint_with_examples(client):
    # when
    schema = client.get("/api/schema/?format=json").json()

    # then
    operation = schema["paths"]["/customer-profile"]["get"]
    assert operation["operationId"] == "SCAN_AND_GO_CUSTOMER_PROFILE"
    assert [p["name"] for p in operation["parameters"]] == [
        "cardNumber",
        "customerId",
        "deviceType",
        "loyaltyCardNumber",
        "storeId",
    ]
    examples = operation["responses"]["200"]["content"]["application/json"]["examples"]
    assert examples["Allowed"]["value"]["unlockingDevices"] == {"isAllowed": True}
    assert examples["Denied"]["value"]["unlockingDevices"]["isAllowed"] is False
    errors = operation["responses"]["400"]["content"]["application/json"]["examples"]
    assert errors["MissingCard"]["value"]["errorCode"] == "VALIDATION_ERROR"
    assert set(operation["responses"]) == {"200", "400", "401", "403", "404"}


def test_the_api_key_records_its_last_use_once_per_window(device, member):
    # given
    _customer, account = member

    # when
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            device.get(URL, {"loyaltyCardNumber": account.account_number})

    # then
    assert len([sql for sql in _writes(queries) if sql.startswith('UPDATE "crm_apiclient"')]) == 1
    assert ApiClient.objects.get().last_used_at is not None


def test_the_body_has_exactly_the_fields_the_openapi_serializer_describes(device):
    # given
    from clienteling.scan_and_go.views import CustomerProfileScanAndGoApi

    output = CustomerProfileScanAndGoApi.OutputSerializer()
    world.denial_message("unlocking_disabled", "de", "Aus.")
    world.coupon("percent", auto_apply=True)
    world.coupon("coffee", kind="free_item", value="0", product_id="SKU-1", auto_apply=True)
    _customer, account = world.shopper()
    allowed = device.get(URL, {"loyaltyCardNumber": account.account_number}).json()
    world.store_override("BER01", unlocking_allowed=False)
    denied = device.get(URL, {"loyaltyCardNumber": account.account_number, "storeId": "BER01"}).json()

    # when
    top = set(allowed) | set(denied)
    unlocking = set(allowed["unlockingDevices"]) | set(denied["unlockingDevices"])
    coupon_fields = set().union(*(set(coupon) for coupon in allowed["coupons"]))

    # then
    assert top == set(output.fields)
    assert unlocking == set(output.fields["unlockingDevices"].fields)
    assert set(allowed["loyalty"]) == set(output.fields["loyalty"].fields)
    assert coupon_fields == set(output.fields["coupons"].child.fields) - {"validUntil"}
    assert denied["unlockingDevices"]["message"] == "Aus."
