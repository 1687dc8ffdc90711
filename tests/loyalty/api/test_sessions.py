"""POST /api/v1/sessions and /api/v1/customers/{merchant_id}/sessions: the shopper session of web shops and apps
(LoyaltyLion's initialize session). Concurrency on PostgreSQL is in test_sessions_concurrency.py."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import ConsentChange, Customer
from crm.services.context import ChangeContext
from crm.services.privacy import customer_erase
from loyalty.coupon_codes import code_normalise
from loyalty.models import CouponDefinition, LoyaltyAccount, Program, Tier, Voucher
from loyalty.services.ledger import EntrySource
from loyalty.services.membership import loyalty_account_opt_out
from loyalty.services.points import points_add
from tests.loyalty.factories import CouponDefinitionFactory
from webhooks.models import WebhookEvent

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/sessions"
NOW = "2026-06-24T10:15:00+00:00"
NOW_JSON = "2026-06-24T10:15:00Z"
ISSUED_AT = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
UNTIL = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen_time(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def shop(make_api_client):
    http, _key = make_api_client("loyalty:write")
    return http


@pytest.fixture
def reader(make_api_client):
    http, _key = make_api_client("loyalty:read")
    return http


@pytest.fixture
def tiers(program):
    silver = Tier.objects.create(
        program=program, rank=1, code="silver", name="Silver", threshold=Decimal("1000"), renewal_threshold=800
    )
    gold = Tier.objects.create(program=program, rank=2, code="gold", name="Gold", threshold=Decimal("5000"))
    return silver, gold


def ada(**changes):
    body = {
        "merchant_id": "shop-1001",
        "customer": {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"},
    }
    body.update(changes)
    return body


def start(http, body=None, *, channel="web", path=SESSIONS, **headers):
    query = f"?channel={channel}" if channel else ""
    return http.post(path + query, ada() if body is None else body, format="json", **headers)


def written():
    return {
        "customers": Customer.objects.count(),
        "accounts": LoyaltyAccount.objects.count(),
        "consent_changes": ConsentChange.objects.count(),
        "vouchers": Voucher.objects.count(),
        "webhook_events": WebhookEvent.objects.count(),
    }


def identity(state, public_id="C000000000001", merchant_id="shop-1001", **changes):
    body = {
        "state": state,
        "id": public_id,
        "merchant_id": merchant_id,
        "email": "ada@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
    }
    body.update(changes)
    return body


def _coupon(program, code, kind=CouponDefinition.Kind.AMOUNT, value=Decimal("5"), **fields):
    return CouponDefinitionFactory(program=program, code=code, name=code.title(), kind=kind, value=value, **fields)


def _voucher(definition, code, customer=None, status=Voucher.Status.ISSUED, **fields):
    return Voucher.objects.create(
        definition=definition,
        code=code,
        normalised_code=code_normalise(code),
        customer=customer,
        status=status,
        issued_at=fields.pop("issued_at", ISSUED_AT),
        expires_at=fields.pop("expires_at", UNTIL),
        **fields,
    )


# ------------------------------------------------------------------------------------------- who the shopper is


def test_a_new_shopper_is_created_enrolled_and_answered_in_full(shop, reader, tiers, deterministic_ids):
    # given
    before = written()

    # when
    response = start(shop)

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["customer"] == {
        **identity("enrolled"),
        "account_number": "500000000017",
        "points_approved": 0,
        "points_pending": 0,
        "points_spent": 0,
        "enrolled_at": NOW_JSON,
        "tier_membership": {
            "tier_id": "member",
            "tier_name": "Member",
            "started_at": NOW_JSON,
            "expires_at": None,
            "progress": {
                "kind": "points",
                "valid_until": None,
                "points_needed_for_renewal": None,
                "points_needed_for_upgrade": 1000,
                "tier_points": {"now": 0, "at_expiration": None},
                "upgrade_tier_id": "silver",
            },
        },
        "available_rewards": [],
        "claimed_rewards": [],
    }
    assert (body["channel"], body["currency"], body["language"]) == ("web", "usd", "en")
    assert body["configuration"] == reader.get("/api/v1/configuration?channel=web").json()
    assert body["requested_cart_actions"] == []
    customer = Customer.objects.get()
    assert (customer.alternate_customer_id, customer.email, customer.preferred_language) == (
        "shop-1001",
        "ada@example.com",
        "",
    )
    account = LoyaltyAccount.objects.get()
    assert (account.customer_id, account.state, account.tier.code) == (customer.pk, "enrolled", "member")
    # Auto-enrolment is the program's rule, not the shopper's consent: no consent is recorded.
    assert written() == {**before, "customers": 1, "accounts": 1, "webhook_events": 2}
    assert sorted(WebhookEvent.objects.values_list("type", flat=True)) == ["customer.created", "loyalty.enrolled"]


def test_an_existing_shopper_is_found_by_merchant_id_and_a_second_session_writes_nothing(shop, deterministic_ids):
    # given
    first = start(shop).json()
    before = written()
    updated_at = Customer.objects.get().updated_at

    # when: the shop sends other details; a session never edits the profile
    response = start(shop, ada(customer={"email": "other@example.com", "first_name": "Augusta"}))

    # then
    assert response.status_code == 200
    assert response.json() == first
    assert written() == before
    customer = Customer.objects.get()
    assert (customer.email, customer.first_name, customer.updated_at) == ("ada@example.com", "Ada", updated_at)


def test_a_customer_with_the_email_and_no_merchant_id_is_linked(shop, customer_factory):
    # given: signed up at a till, never in the web shop
    till_customer = customer_factory(
        public_id="CTILL0000001", email="ada@example.com", first_name="Ada", last_name="Lovelace"
    )

    # when
    response = start(shop)

    # then
    assert response.status_code == 200
    assert response.json()["customer"]["id"] == "CTILL0000001"
    assert response.json()["customer"]["state"] == "enrolled"
    till_customer.refresh_from_db()
    assert till_customer.alternate_customer_id == "shop-1001"
    assert Customer.objects.count() == 1
    assert LoyaltyAccount.objects.get().customer_id == till_customer.pk


def test_an_email_of_a_customer_with_another_merchant_id_is_422_and_writes_nothing(shop, customer_factory):
    # given
    customer_factory(email="ada@example.com", alternate_customer_id="shop-9")
    before = written()

    # when
    response = start(shop, ada(customer={"email": "ADA@example.com"}))

    # then
    assert response.status_code == 422
    assert response.json() == {
        "message": "This email address is already used by another customer.",
        "code": "email_already_in_use",
        "extra": {"field": "customer.email"},
    }
    assert written() == before


def test_a_shopper_is_a_guest_on_a_channel_the_program_does_not_auto_enrol(shop, program, deterministic_ids):
    # given
    Program.objects.filter(pk=program.pk).update(auto_enrol_channels=["web"])

    # when
    response = start(shop, channel="pos")

    # then
    assert response.status_code == 200
    assert response.json()["customer"] == identity("guest")
    assert response.json()["channel"] == "pos"
    assert Customer.objects.get().alternate_customer_id == "shop-1001"
    assert LoyaltyAccount.objects.count() == 0


def test_the_guest_is_enrolled_by_a_later_session_on_an_auto_enrolling_channel(shop, program, deterministic_ids):
    # given
    Program.objects.filter(pk=program.pk).update(auto_enrol_channels=["mobile"])
    start(shop, channel="web")

    # when
    response = start(shop, channel="mobile")

    # then
    assert response.json()["customer"]["state"] == "enrolled"
    assert LoyaltyAccount.objects.get().customer.public_id == "C000000000001"


def test_a_program_that_never_auto_enrols_leaves_every_shopper_a_guest(shop, program, deterministic_ids):
    # given
    Program.objects.filter(pk=program.pk).update(auto_enrol_channels=[])

    # when
    states = [start(shop, channel=channel).json()["customer"]["state"] for channel in ("web", "pos", "mobile")]

    # then
    assert states == ["guest", "guest", "guest"]
    assert LoyaltyAccount.objects.count() == 0


def test_a_blocked_customer_is_blocked_and_never_enrolled(shop, customer_factory):
    # given
    customer_factory(
        public_id="CBLOCKED0001",
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        alternate_customer_id="shop-1001",
        status=Customer.Status.BLOCKED,
    )
    before = written()

    # when
    response = start(shop)

    # then
    assert response.status_code == 200
    assert response.json()["customer"] == identity("blocked", public_id="CBLOCKED0001")
    assert written() == before


def test_a_blocked_account_is_blocked(shop, customer_factory, loyalty_account_factory):
    # given
    customer = customer_factory(
        public_id="CBLOCKED0002",
        email="ada@example.com",
        first_name="Ada",
        last_name="",
        alternate_customer_id="shop-1001",
    )
    account = loyalty_account_factory(customer=customer)
    LoyaltyAccount.objects.filter(pk=account.pk).update(state=LoyaltyAccount.State.BLOCKED)

    # when
    response = start(shop)

    # then
    assert response.json()["customer"] == identity("blocked", public_id="CBLOCKED0002", last_name=None)


def test_an_opted_out_shopper_stays_a_guest(shop, deterministic_ids):
    # given
    start(shop)
    loyalty_account_opt_out(account=LoyaltyAccount.objects.get(), context=ChangeContext())

    # when
    response = start(shop)

    # then
    assert response.json()["customer"] == identity("guest")
    assert LoyaltyAccount.objects.get().state == LoyaltyAccount.State.GUEST


def test_an_erased_customer_is_not_found_again_and_the_shopper_starts_afresh(shop, deterministic_ids):
    # given: erasure blanks the merchant_id with the rest of the PII, so nothing links the shopper to it any more
    start(shop)
    erased = Customer.objects.get()
    customer_erase(customer=erased, context=ChangeContext())

    # when
    response = start(shop)

    # then
    assert response.status_code == 200
    assert response.json()["customer"]["id"] == "C000000000002"
    assert response.json()["customer"]["state"] == "enrolled"
    erased.refresh_from_db()
    assert (erased.status, erased.alternate_customer_id, erased.email) == ("erased", "", "")


def test_an_erased_customer_still_carrying_the_merchant_id_is_410_and_writes_nothing(shop, deterministic_ids):
    # given: a record edited outside the services after its erasure
    start(shop)
    erased = Customer.objects.get()
    customer_erase(customer=erased, context=ChangeContext())
    Customer.objects.filter(pk=erased.pk).update(alternate_customer_id="shop-1001")
    before = written()

    # when
    response = start(shop)

    # then
    assert response.status_code == 410
    assert response.json() == {
        "message": "Customer is deleted after PII delete request",
        "code": "CUSTOMER_ERASED",
        "extra": {},
    }
    assert written() == before


def test_a_merchant_id_several_customers_carry_is_409(shop, customer_factory):
    # given
    customer_factory(alternate_customer_id="shop-1001")
    customer_factory(alternate_customer_id="shop-1001")
    before = written()

    # when
    response = start(shop)

    # then
    assert response.status_code == 409
    assert response.json() == {
        "message": "Several customers have this merchant_id; merge them in the back office.",
        "code": "AMBIGUOUS_IDENTIFIER",
        "extra": {"field": "merchant_id"},
    }
    assert written() == before


def test_a_shopper_without_an_email_is_created_from_the_names(shop, deterministic_ids):
    # when
    response = start(shop, ada(customer={"email": None, "first_name": "Ada"}))

    # then
    customer = response.json()["customer"]
    assert {key: customer[key] for key in identity("enrolled")} == identity("enrolled", email=None, last_name=None)
    assert Customer.objects.get().email == ""


def test_a_shopper_without_email_or_name_is_400_and_writes_nothing(shop):
    # given
    before = written()

    # when
    response = start(shop, ada(customer={"email": None}))

    # then
    assert response.status_code == 400
    assert response.json()["code"] == "IDENTITY_REQUIRED"
    assert written() == before


# ---------------------------------------------------------------------------------------- channel and merchant_id


@pytest.mark.parametrize("channel", ["web", "pos", "mobile"])
@pytest.mark.parametrize("header", [None, "HTTP_X_CHANNEL", "HTTP_X_LOYALTYLION_CHANNEL"])
def test_each_channel_is_accepted_in_the_query_or_a_header(shop, channel, header, deterministic_ids):
    # given
    headers = {header: channel} if header else {}

    # when
    response = start(shop, channel=None if header else channel, **headers)

    # then
    assert response.status_code == 200
    assert (response.json()["channel"], response.json()["configuration"]["channel"]) == (channel, channel)
    assert response.json()["customer"]["state"] == "enrolled"


@pytest.mark.parametrize(
    ("query", "headers", "message"),
    [
        ("", {}, "channel: This field is required: send ?channel= or the X-Channel header."),
        ("?channel=store", {}, 'channel: "store" is not a valid choice.'),
        ("?channel=WEB", {}, 'channel: "WEB" is not a valid choice.'),
        (
            "?channel=web",
            {"HTTP_X_CHANNEL": "pos"},
            "channel: The query parameter and the header disagree: ['pos', 'web'].",
        ),
    ],
)
def test_a_missing_or_unknown_channel_is_400_naming_it_and_writes_nothing(shop, query, headers, message):
    # given
    before = written()

    # when
    response = shop.post(SESSIONS + query, ada(), format="json", **headers)

    # then
    assert response.status_code == 400
    assert response.json()["message"] == message
    assert list(response.json()["extra"]["fields"]) == ["channel"]
    assert written() == before


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (ada(customer={"email": "not-an-email"}), "customer.email: Enter a valid email address."),
        (ada(customer={"first_name": "Ada"}), "customer.email: This field is required."),
        (ada(customer={"email": "ada@example.com", "first_name": "<b>Ada</b>"}), "customer.first_name: Use letters"),
        ({"customer": {"email": "ada@example.com"}}, "merchant_id: This field is required."),
        (ada(merchant_id="x" * 65), "merchant_id: Ensure this field has no more than 64 characters."),
        (ada(merchant_id="<script>"), "merchant_id: Angle brackets, braces and control characters are not allowed."),
        ({"merchant_id": "shop-1001"}, "customer: This field is required."),
        (ada(language="xx"), 'language: "xx" is not a language we speak; expected one of en, de, fr, es.'),
        (ada(cart={"kind": "shopify"}), 'cart.kind: "shopify" is not a valid choice.'),
        (ada(cart={"kind": "items"}), "cart.lines: A cart of kind items needs its lines."),
        (
            ada(cart={"kind": "empty", "lines": [{"id": "L1", "product_id": "A", "price": "1.00"}]}),
            "cart.lines: An empty cart has no lines.",
        ),
        (
            ada(cart={"kind": "items", "lines": [{"id": "L1", "product_id": "A"}]}),
            "cart.lines.0.price: This field is required.",
        ),
        (
            ada(cart={"kind": "items", "lines": [{"id": "L1", "product_id": "A", "price": "-1"}]}),
            "cart.lines.0.price: Ensure this value is greater than or equal to 0.",
        ),
        (
            ada(
                cart={
                    "kind": "items",
                    "lines": [
                        {"id": "L1", "product_id": "A", "price": "1"},
                        {"id": "L1", "product_id": "B", "price": "1"},
                    ],
                }
            ),
            "cart.lines: Line ids must be distinct.",
        ),
        (
            ada(
                cart={
                    "kind": "items",
                    "lines": [
                        {"id": f"L{n}", "product_id": "A", "price": "1", "voucher_code": f"V{n}"} for n in range(21)
                    ],
                }
            ),
            "cart.lines: At most 20 lines may redeem a voucher.",
        ),
    ],
)
def test_bad_input_is_400_naming_the_field_and_writes_nothing(shop, body, message):
    # given
    before = written()

    # when
    response = start(shop, body)

    # then
    assert response.status_code == 400
    assert response.json()["message"].startswith(message)
    assert written() == before


def test_the_merchant_id_may_be_in_the_path_as_loyaltylion_puts_it(shop, deterministic_ids):
    # when: a Shopify GID, URL-encoded
    response = start(
        shop,
        {"customer": {"email": "ada@example.com"}},
        path="/api/v1/customers/gid%3A%2F%2Fshopify%2FCustomer%2F1001/sessions",
    )

    # then
    assert response.status_code == 200
    assert response.json()["customer"]["merchant_id"] == "gid://shopify/Customer/1001"
    assert Customer.objects.get().alternate_customer_id == "gid://shopify/Customer/1001"


@pytest.mark.parametrize(
    ("merchant_id", "message"),
    [
        ("%3Cscript%3E", "merchant_id: Angle brackets, braces and control characters are not allowed."),
        ("x" * 65, "merchant_id: Ensure this field has no more than 64 characters."),
        ("%20", "merchant_id: This field may not be blank."),
    ],
)
def test_a_bad_merchant_id_in_the_path_is_400_and_writes_nothing(shop, merchant_id, message):
    # when
    response = start(shop, {"customer": {"email": "ada@example.com"}}, path=f"/api/v1/customers/{merchant_id}/sessions")

    # then
    assert response.status_code == 400
    assert response.json()["message"] == message
    assert Customer.objects.count() == 0


def test_a_path_and_a_body_merchant_id_that_disagree_are_400(shop):
    # when
    response = start(shop, ada(), path="/api/v1/customers/shop-2002/sessions")

    # then
    assert response.status_code == 400
    assert response.json()["message"] == "merchant_id: The body and the path disagree."
    assert Customer.objects.count() == 0


@pytest.mark.parametrize("scopes", [(), ("loyalty:read",), ("clienteling",)])
def test_a_key_without_loyalty_write_is_403_and_writes_nothing(make_api_client, scopes):
    # given
    http, _key = make_api_client(*scopes)

    # when
    response = start(http)

    # then
    assert response.status_code == 403
    assert response.json()["message"] == "This API key lacks the 'loyalty:write' scope."
    assert Customer.objects.count() == 0


# --------------------------------------------------------------------------------------------------- language


@pytest.mark.parametrize(
    ("sent", "headers", "answered", "stored"),
    [
        ({"language": "de-DE"}, {}, "de", "de"),
        ({}, {"HTTP_X_LANGUAGE": "fr"}, "fr", "fr"),
        ({}, {"HTTP_X_LOYALTYLION_LANGUAGE": "es"}, "es", "es"),
        ({}, {}, "en", ""),
    ],
)
def test_the_language_asked_for_is_answered_and_kept_for_a_new_customer(shop, sent, headers, answered, stored):
    # when
    response = start(shop, ada(**sent), **headers)

    # then
    assert (response.json()["language"], response.json()["configuration"]["language"]) == (answered, answered)
    assert Customer.objects.get().preferred_language == stored


def test_without_a_language_the_customers_own_is_answered(shop, customer_factory):
    # given
    customer_factory(email="ada@example.com", alternate_customer_id="shop-1001", preferred_language="de_AT")

    # when
    response = start(shop)

    # then
    assert response.json()["language"] == "de"


# ---------------------------------------------------------------------------------------- points, tier, rewards


def test_an_enrolled_shoppers_points_and_tier_progress(shop, tiers, deterministic_ids):
    # given: 1200 points make Ada silver; her tier expires on 1 March, when all 1200 still count
    start(shop)
    account = LoyaltyAccount.objects.get()
    points_add(account=account, points=1200, origin=EntrySource(source="event"))
    LoyaltyAccount.objects.filter(pk=account.pk).update(tier_expires_at=datetime(2027, 3, 1, tzinfo=UTC))

    # when
    customer = start(shop).json()["customer"]

    # then
    assert (customer["points_approved"], customer["points_pending"], customer["points_spent"]) == (1200, 0, 0)
    assert customer["tier_membership"] == {
        "tier_id": "silver",
        "tier_name": "Silver",
        "started_at": NOW_JSON,
        "expires_at": "2027-03-01T00:00:00Z",
        "progress": {
            "kind": "points",
            "valid_until": "2027-03-01T00:00:00Z",
            "points_needed_for_renewal": 0,
            "points_needed_for_upgrade": 3800,
            "tier_points": {"now": 1200, "at_expiration": 1200},
            "upgrade_tier_id": "gold",
        },
    }


def test_a_spend_program_names_its_progress_after_spend(shop, program, deterministic_ids):
    # given
    Program.objects.filter(pk=program.pk).update(tier_qualification=Program.TierQualification.SPEND)
    Tier.objects.create(program=program, rank=1, code="vip", name="VIP", threshold=Decimal("499.90"))

    # when
    progress = start(shop).json()["customer"]["tier_membership"]["progress"]

    # then
    assert progress == {
        "kind": "spend",
        "valid_until": None,
        "spend_needed_for_renewal": None,
        "spend_needed_for_upgrade": 499.9,
        "tier_spend": {"now": 0.0, "at_expiration": None},
        "upgrade_tier_id": "vip",
    }


@pytest.fixture
def coupons(program, tiers):
    """Auto-apply coupons: five-off (web and pos, minimum 50, twice per customer), pos-only, gold-only; and
    welcome (not auto-applied: only a voucher of it is usable)."""
    _silver, gold = tiers
    five_off = _coupon(
        program, "five-off", auto_apply=True, min_basket=Decimal("50"), channels=["pos", "web"], limit_per_customer=2
    )
    _coupon(program, "pos-only", auto_apply=True, channels=["pos"])
    _coupon(program, "gold-only", auto_apply=True, eligible_tiers=[gold])
    welcome = _coupon(program, "welcome", kind=CouponDefinition.Kind.PERCENT, value=Decimal("10"), valid_until=UNTIL)
    return {"five_off": five_off, "welcome": welcome}


def _items(*prices, voucher_codes=()):
    lines = [{"id": f"L{index}", "product_id": f"P{index}", "price": price} for index, price in enumerate(prices)]
    for index, code in enumerate(voucher_codes):
        lines.append({"id": f"R{index}", "product_id": f"REWARD{index}", "price": "0.00", "voucher_code": code})
    return {"kind": "items", "lines": lines}


def test_rewards_the_shopper_may_use_and_the_vouchers_they_hold(shop, coupons, deterministic_ids):
    # given: Ada used five-off once; she holds a welcome voucher and an expired one
    start(shop)
    ada_customer = Customer.objects.get()
    _voucher(
        coupons["five_off"],
        "FIVE-USED",
        ada_customer,
        status=Voucher.Status.REDEEMED,
        redeemed_at=ISSUED_AT,
        redeemed_transaction_id="T1",
        redemption_amount=Decimal("5"),
    )
    _voucher(coupons["welcome"], "WELCOME-ADA1", ada_customer, expires_at=None)
    _voucher(coupons["welcome"], "WELCOME-OLD", ada_customer, expires_at=datetime(2026, 6, 2, tzinfo=UTC))

    # when
    small = start(shop, ada(cart=_items("40.00"))).json()["customer"]
    large = start(shop, ada(cart=_items("40.00", "10.00"))).json()["customer"]
    on_pos = start(shop, channel="pos").json()["customer"]

    # then
    assert small["available_rewards"] == [
        {
            "id": "five-off",
            "kind": "amount",
            "title": "Five-Off",
            "description": "",
            "value": 5.0,
            "product_id": "",
            "minimum_spend": 50.0,
            "auto_apply": True,
            "channels": ["pos", "web"],
            "valid_from": None,
            "valid_until": None,
            "limit": {"per_customer": 2, "total": None},
            "tier_ids": [],
            "context": {
                "can_redeem": {"state": "cart_requirements_not_met"},
                "claim_count": 1,
                "claim_limit": {"state": "limit_not_reached", "remaining": 1},
            },
        }
    ]
    assert [reward["context"]["can_redeem"]["state"] for reward in large["available_rewards"]] == ["redeemable"]
    assert [reward["id"] for reward in on_pos["available_rewards"]] == ["five-off", "pos-only"]
    assert small["claimed_rewards"] == [
        {
            "code": "WELCOME-ADA1",
            "reward_id": "welcome",
            "title": "Welcome",
            "kind": "percent",
            "value": 10.0,
            "product_id": "",
            "minimum_spend": 0.0,
            "auto_apply": False,
            "state": "issued",
            "issued_at": "2026-06-01T09:00:00Z",
            "claimed_at": None,
            "expires_at": "2026-12-01T00:00:00Z",
        }
    ]


def test_a_coupon_used_up_by_the_shopper_is_no_longer_available(shop, coupons, deterministic_ids):
    # given
    start(shop)
    ada_customer = Customer.objects.get()
    for number in (1, 2):
        _voucher(
            coupons["five_off"],
            f"FIVE-USED{number}",
            ada_customer,
            status=Voucher.Status.REDEEMED,
            redeemed_at=ISSUED_AT,
            redeemed_transaction_id=f"T{number}",
            redemption_amount=Decimal("5"),
        )

    # when
    customer = start(shop, channel="pos").json()["customer"]

    # then
    assert [reward["id"] for reward in customer["available_rewards"]] == ["pos-only"]


def test_guests_and_blocked_shoppers_carry_no_rewards(shop, coupons, program, deterministic_ids):
    # given
    Program.objects.filter(pk=program.pk).update(auto_enrol_channels=[])

    # when
    customer = start(shop).json()["customer"]

    # then
    assert set(customer) == {"state", "id", "merchant_id", "email", "first_name", "last_name"}


# ------------------------------------------------------------------------------------------------ cart actions


def test_cart_lines_redeeming_vouchers_that_no_longer_apply_are_to_be_removed(
    shop, program, customer_factory, deterministic_ids
):
    # given
    start(shop)
    ada_customer = Customer.objects.get()
    mug = _coupon(program, "free-mug", kind=CouponDefinition.Kind.FREE_ITEM, value=Decimal("0"), product_id="MUG")
    big = _coupon(program, "big-spender", min_basket=Decimal("100"))
    ended = _coupon(program, "ended", valid_until=datetime(2026, 6, 1, tzinfo=UTC))
    pos_only = _coupon(program, "till-only", channels=["pos"])
    _voucher(mug, "MUG-OK", ada_customer)
    _voucher(mug, "MUG-EXPIRED", ada_customer, expires_at=datetime(2026, 6, 20, tzinfo=UTC))
    _voucher(big, "BIG-1", ada_customer)
    _voucher(ended, "ENDED-1", ada_customer, expires_at=None)
    _voucher(pos_only, "TILL-1", ada_customer)
    _voucher(mug, "MUG-OTHER", customer_factory())
    cart = {
        "kind": "items",
        "id": "cart-77",
        "lines": [
            {"id": "L1", "product_id": "SHIRT", "price": "40.00"},
            {"id": "L2", "product_id": "MUG", "price": "0.00", "voucher_code": "mug-ok"},
            {"id": "L3", "product_id": "MUG", "price": "0.00", "voucher_code": "MUG-EXPIRED"},
            {"id": "L4", "product_id": "X", "price": "0.00", "voucher_code": "BIG-1"},
            {"id": "L5", "product_id": "X", "price": "0.00", "voucher_code": "ENDED-1"},
            {"id": "L6", "product_id": "X", "price": "0.00", "voucher_code": "TILL-1"},
            {"id": "L7", "product_id": "MUG", "price": "0.00", "voucher_code": "MUG-OTHER"},
            {"id": "L8", "product_id": "X", "price": "0.00", "voucher_code": "NO-SUCH-CODE"},
        ],
    }
    before = written()

    # when
    response = start(shop, ada(cart=cart))

    # then
    def removal(line_id, product_id, code, reason, coupon_reasons):
        return {
            "kind": "remove_cart_line",
            "reason": reason,
            "cart_line_to_remove": {"kind": "items", "id": line_id, "product_id": product_id},
            "cart_redemption": {"id": code},
            "coupon_reasons": coupon_reasons,
        }

    assert response.status_code == 200
    assert response.json()["requested_cart_actions"] == [
        removal("L3", "MUG", "MUG-EXPIRED", "redemption_expired", ["coupon_expired"]),
        removal("L4", "X", "BIG-1", "redemption_cart_requirements_not_met", ["basket_below_minimum"]),
        removal("L5", "X", "ENDED-1", "redemption_expired", ["ended"]),
        removal("L6", "X", "TILL-1", "redemption_invalid", ["channel_not_allowed"]),
        removal("L7", "MUG", "MUG-OTHER", "redemption_invalid", ["other_customer"]),
        removal("L8", "X", "NO-SUCH-CODE", "redemption_invalid", ["coupon_not_found"]),
    ]
    assert written() == before


def test_a_blocked_shopper_redeems_nothing(shop, program, customer_factory):
    # given
    customer = customer_factory(email="ada@example.com", alternate_customer_id="shop-1001", status="blocked")
    mug = _coupon(program, "free-mug", kind=CouponDefinition.Kind.FREE_ITEM, value=Decimal("0"), product_id="MUG")
    _voucher(mug, "MUG-OK", customer)

    # when
    response = start(shop, ada(cart=_items("3.00", voucher_codes=["MUG-OK"])))

    # then
    assert [
        (action["reason"], action["cart_redemption"]["id"]) for action in response.json()["requested_cart_actions"]
    ] == [("customer_blocked", "MUG-OK")]


def test_an_empty_cart_asks_for_nothing(shop, deterministic_ids):
    # when
    response = start(shop, ada(cart={"kind": "empty"}))

    # then
    assert response.json()["requested_cart_actions"] == []


# ------------------------------------------------------------------------------------------------ query budget


def test_a_session_of_an_existing_enrolled_shopper_runs_a_fixed_number_of_queries_and_writes_nothing(
    shop, coupons, django_assert_num_queries, deterministic_ids
):
    # given: the shopper, two vouchers, a silver tier with an expiry (renewal is computed), a five-line cart
    start(shop)
    account = LoyaltyAccount.objects.get()
    points_add(account=account, points=1200, origin=EntrySource(source="event"))
    _voucher(coupons["welcome"], "WELCOME-ADA1", account.customer)
    _voucher(coupons["welcome"], "WELCOME-ADA2", account.customer)
    cart = _items("10.00", "10.00", "10.00", "10.00", "10.00")

    # when / then: the program, its tiers, tier-benefit coupons, coupons and their tiers; the customer by
    # merchant_id and the account; balances, purchase totals, tiers, qualifying value and its value at the tier's
    # expiry; the vouchers; the shopper's redemptions of limited coupons (the API key is the process's copy)
    with django_assert_num_queries(14) as captured:
        response = start(shop, ada(cart=cart))
    assert response.status_code == 200
    assert not [query for query in captured.captured_queries if not query["sql"].startswith("SELECT")]
    assert len(response.json()["customer"]["claimed_rewards"]) == 2


def test_each_cart_line_redeeming_a_voucher_costs_five_queries(shop, coupons, deterministic_ids):
    # given
    start(shop)
    customer = Customer.objects.get()
    for number in range(3):
        _voucher(coupons["welcome"], f"WELCOME-{number}", customer)

    # when
    with CaptureQueriesContext(connection) as without_vouchers:
        start(shop, ada(cart=_items("10.00")))
    with CaptureQueriesContext(connection) as with_vouchers:
        start(shop, ada(cart=_items("10.00", voucher_codes=[f"WELCOME-{n}" for n in range(3)])))

    # then: per line, the voucher, its coupon's eligible tiers, the shopper's tier, and the shopper's and everyone's
    # redemptions of its coupon (loyalty.services.coupon_redemptions.voucher_validate)
    assert len(with_vouchers) - len(without_vouchers) == 3 * 5
