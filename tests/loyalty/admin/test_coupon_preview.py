"""The coupon definition page's eligibility preview (CouponDefinitionAdmin.preview_view): members eligible now per
tier and in total for the form's current values, and one customer tested in a purchase; aggregate queries only, no
writes, 400 with a message naming the field for bad input, 403 for roles without coupon configuration."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.roles import MARKETING, STORE_MANAGERS
from loyalty.models import CouponDefinition, LoyaltyAccount, Program, Tier, Voucher
from tests.roles import admin_roles_reset

DEFINITIONS_URL = "/admin/loyalty/coupondefinition/"
# Session, user and their two permission lookups, the definition and its program, the chosen tiers (form
# validation), the definition's voucher counts, the members who used up their own limit, members per tier, the
# program's tiers; for the tested customer: the customer, their account, their and everyone's uses.
PREVIEW_QUERIES = 14


@pytest.fixture
def gold(program):
    return Tier.objects.create(program=program, rank=1, code="gold", name="Gold", threshold=Decimal("1000"))


@pytest.fixture
def members(enrolled_account, gold):
    """3 members in the entry tier, 2 in Gold (one blocked, not counted), 1 without a tier."""
    accounts = {name: enrolled_account() for name in ("m1", "m2", "m3", "g1", "g2", "g3", "none")}
    LoyaltyAccount.objects.filter(pk__in=[accounts[name].pk for name in ("g1", "g2", "g3")]).update(tier=gold)
    LoyaltyAccount.objects.filter(pk=accounts["g3"].pk).update(state=LoyaltyAccount.State.BLOCKED)
    LoyaltyAccount.objects.filter(pk=accounts["none"].pk).update(tier=None)
    return accounts


@pytest.fixture
def definition(program, gold, coupon_definition_factory):
    return coupon_definition_factory(
        program=program,
        code="gold-10",
        name="Gold 10",
        kind=CouponDefinition.Kind.PERCENT,
        value=Decimal("10"),
        eligible_tiers=[gold],
    )


@pytest.fixture
def marketing(db, django_user_model):
    admin_roles_reset()
    user = django_user_model.objects.create_user(username="marketing", is_staff=True)
    user.groups.add(Group.objects.get(name=MARKETING))
    client = Client()
    client.force_login(user)
    return client


def _form(tiers=(), **changes) -> dict:
    """What coupon_preview.js sends: the coupon form's fields as they stand."""
    return {
        "name": "Gold 10",
        "kind": "percent",
        "value": "10",
        "channels": ["pos", "web"],
        "eligible_tiers": [tier.pk for tier in tiers],
        "valid_from_0": "",
        "valid_from_1": "",
        "valid_until_0": "",
        "valid_until_1": "",
        "min_basket": "0",
        "limit_per_customer": "",
        "limit_total": "",
        "is_active": "on",
        **changes,
    }


def _preview(client, definition, data):
    return client.get(f"{DEFINITIONS_URL}{definition.pk}/preview/", data)


def _tier_rows(body) -> list[tuple]:
    return [(tier["code"], tier["members"], tier["eligible"]) for tier in body["tiers"]]


def test_members_eligible_per_tier_and_in_total(marketing, members, definition, gold):
    # when
    gold_only = _preview(marketing, definition, _form(tiers=[gold])).json()
    everyone = _preview(marketing, definition, _form()).json()

    # then
    assert _tier_rows(gold_only) == [("member", 3, 0), ("gold", 2, 2), (None, 1, 0)]
    assert (gold_only["open"], gold_only["members"], gold_only["eligible"]) == (True, 6, 2)
    assert _tier_rows(everyone) == [("member", 3, 3), ("gold", 2, 2), (None, 1, 1)]
    assert (everyone["members"], everyone["eligible"]) == (6, 6)
    assert everyone["vouchers"] == {"live": 0, "redeemed": 0, "limit_total": None, "left": None}
    assert everyone["customer"] is None


def test_members_who_used_up_their_own_limit_are_not_eligible(marketing, members, definition, gold, voucher_factory):
    # given: g1 redeemed once
    voucher = voucher_factory(definition=definition, customer=members["g1"].customer)
    Voucher.objects.filter(pk=voucher.pk).update(
        status=Voucher.Status.REDEEMED, redeemed_at=timezone.now(), redeemed_transaction_id="T", redemption_amount=1
    )
    voucher_factory(definition=definition)

    # when
    once = _preview(marketing, definition, _form(tiers=[gold], limit_per_customer="1", limit_total="10")).json()
    twice = _preview(marketing, definition, _form(tiers=[gold], limit_per_customer="2")).json()

    # then
    assert _tier_rows(once) == [("member", 3, 0), ("gold", 2, 1), (None, 1, 0)]
    assert once["vouchers"] == {"live": 2, "redeemed": 1, "limit_total": 10, "left": 8}
    assert _tier_rows(twice) == [("member", 3, 0), ("gold", 2, 2), (None, 1, 0)]


@pytest.mark.parametrize(
    ("changes", "reasons"),
    [
        ({"is_active": ""}, ["inactive"]),
        ({"valid_until_0": "2020-01-01", "valid_until_1": "00:00:00"}, ["ended"]),
        ({"valid_from_0": "2099-01-01", "valid_from_1": "00:00:00"}, ["not_yet_valid"]),
    ],
)
def test_a_coupon_closed_now_has_nobody_eligible_and_says_why(marketing, members, definition, changes, reasons):
    # when
    body = _preview(marketing, definition, _form(**changes)).json()

    # then
    assert (body["open"], body["members"], body["eligible"]) == (False, 6, 0)
    assert [reason["code"] for reason in body["closed_reasons"]] == reasons


def test_a_used_up_total_limit_closes_the_coupon(marketing, members, definition, voucher_factory):
    # given
    voucher = voucher_factory(definition=definition)
    Voucher.objects.filter(pk=voucher.pk).update(
        status=Voucher.Status.REDEEMED, redeemed_at=timezone.now(), redeemed_transaction_id="T", redemption_amount=1
    )

    # when
    body = _preview(marketing, definition, _form(limit_total="1")).json()

    # then
    assert body["closed_reasons"] == [
        {"code": "total_limit_reached", "text": "The coupon has been used as often as allowed."}
    ]
    assert body["eligible"] == 0


def test_testing_a_customer_by_public_id_or_account_number(marketing, members, definition, gold):
    # given
    gold_member, entry_member = members["g1"], members["m1"]

    # when
    eligible = _preview(
        marketing,
        definition,
        _form(tiers=[gold], customer=gold_member.customer.public_id.lower(), basket="59.95", channel="pos"),
    ).json()["customer"]
    refused = _preview(
        marketing,
        definition,
        _form(
            tiers=[gold], min_basket="60", customer=entry_member.account_number, basket="59.99", channel="scan_and_go"
        ),
    ).json()["customer"]
    unknown = _preview(marketing, definition, _form(customer="NOBODY", basket="10")).json()["customer"]

    # then
    assert eligible == {
        "found": True,
        "public_id": gold_member.customer.public_id,
        "tier": "gold",
        "eligible": True,
        "reasons": [],
        "discount": "6.00",
    }
    assert (refused["public_id"], refused["tier"], refused["eligible"], refused["discount"]) == (
        entry_member.customer.public_id,
        "member",
        False,
        "6.00",
    )
    assert [reason["code"] for reason in refused["reasons"]] == [
        "channel_not_allowed",
        "tier_not_eligible",
        "basket_below_minimum",
    ]
    assert refused["reasons"][0]["text"] == "The coupon is not offered on this channel."
    assert unknown == {"found": False, "message": "No customer with this id or account number."}


def test_the_preview_reads_with_a_fixed_number_of_queries_and_writes_nothing(
    marketing, members, definition, gold, enrolled_account, voucher_factory
):
    # given: a redemption, so that every count runs
    voucher = voucher_factory(definition=definition, customer=members["g2"].customer)
    Voucher.objects.filter(pk=voucher.pk).update(
        status=Voucher.Status.REDEEMED, redeemed_at=timezone.now(), redeemed_transaction_id="T", redemption_amount=1
    )
    data = _form(tiers=[gold], limit_per_customer="1", customer=members["g1"].customer.public_id, basket="20")
    _preview(marketing, definition, data)

    # when
    with CaptureQueriesContext(connection) as queries:
        response = _preview(marketing, definition, data)
    for _ in range(5):
        enrolled_account()
    with CaptureQueriesContext(connection) as more_members:
        more = _preview(marketing, definition, data)

    # then
    assert response.status_code == 200
    statements = [query["sql"].split()[0].upper() for query in queries.captured_queries]
    assert not {"INSERT", "UPDATE", "DELETE", "SAVEPOINT"} & set(statements)
    assert len(statements) == PREVIEW_QUERIES
    assert len(more_members.captured_queries) == PREVIEW_QUERIES
    assert (response.json()["eligible"], more.json()["members"], more.json()["eligible"]) == (1, 11, 1)


def test_the_add_page_previews_with_the_chosen_program(marketing, members, program, gold):
    # when
    chosen = marketing.get(f"{DEFINITIONS_URL}preview/", _form(tiers=[gold], program=program.pk))
    missing = marketing.get(f"{DEFINITIONS_URL}preview/", _form())

    # then
    assert (chosen.status_code, chosen.json()["eligible"]) == (200, 2)
    assert chosen.json()["vouchers"] == {"live": 0, "redeemed": 0, "limit_total": None, "left": None}
    assert missing.status_code == 400
    assert missing.json()["message"] == "program: Choose the coupon's program."


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"min_basket": "a lot"}, "min_basket: Enter a number."),
        ({"limit_total": "0"}, "limit_total: Ensure this value is greater than or equal to 1."),
        ({"channel": "fax"}, "channel: Select a valid choice. fax is not one of the available choices."),
        ({"value": "150"}, "value: A percentage is more than 0 and at most 100."),
        (
            {
                "valid_from_0": "2026-05-01",
                "valid_from_1": "00:00:00",
                "valid_until_0": "2026-04-01",
                "valid_until_1": "00:00:00",
            },
            "valid_until: The end must come after the start.",
        ),
        ({"valid_until_0": "2026-05-01"}, "valid_until: Enter a valid time."),
    ],
)
def test_bad_input_is_a_400_naming_the_field(marketing, definition, changes, message):
    # when
    response = _preview(marketing, definition, _form(**changes))

    # then
    assert response.status_code == 400
    assert response.json()["message"] == message


def test_a_tier_of_another_program_is_a_400(marketing, definition):
    # given
    other = Program.objects.create(code="b2b", name="B2B", currency="EUR")
    foreign = Tier.objects.create(program=other, rank=0, code="basic", name="Basic")

    # when
    response = _preview(marketing, definition, _form(tiers=[foreign]))

    # then
    assert response.status_code == 400
    assert response.json()["message"] == "eligible_tiers: Choose tiers of the coupon's program."


def test_a_store_manager_is_refused(db, django_user_model, definition):
    # given
    admin_roles_reset()
    user = django_user_model.objects.create_user(username="store", is_staff=True)
    user.groups.add(Group.objects.get(name=STORE_MANAGERS))
    client = Client()
    client.force_login(user)

    # when
    responses = [_preview(client, definition, _form()), client.get(f"{DEFINITIONS_URL}preview/", _form())]

    # then
    assert [response.status_code for response in responses] == [403, 403]


def test_the_change_page_carries_the_preview_panel(marketing, definition):
    # when
    page = marketing.get(f"{DEFINITIONS_URL}{definition.pk}/change/")

    # then
    html = page.content.decode()
    assert f'data-url="{DEFINITIONS_URL}{definition.pk}/preview/"' in html
    assert "/static/loyalty/coupon_preview.js" in html
    assert '<form id="coupon-preview-form" hidden></form>' in html


def test_the_preview_uses_the_time_of_the_request(marketing, members, definition):
    # given: the coupon ends a minute from now (the form's date-times are in the site's time zone, as the admin's)
    soon = timezone.localtime(timezone.now() + timedelta(minutes=1))

    # when
    body = _preview(
        marketing, definition, _form(valid_until_0=soon.strftime("%Y-%m-%d"), valid_until_1=soon.strftime("%H:%M:%S"))
    ).json()

    # then
    assert (body["open"], body["eligible"]) == (True, 6)
    assert datetime.fromisoformat(body["now"]).tzinfo is not None
