"""The back-office dashboard: each figure of loyalty/selectors/dashboard.py with exact values, built through the real
services at frozen times (weeks start on Monday 00:00 UTC), and the page of loyalty/admin/dashboard.py: who may
see it, its filters, its tables and chart data, its static files and its query budget."""

import importlib
import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from crm.roles import MARKETING, STORE_MANAGERS
from crm.services.context import ChangeContext
from loyalty.models import CouponDefinition, LoyaltyAccount, PointsEntry, Program, Tier, Voucher
from loyalty.rules.coupons import CartLine
from loyalty.selectors import dashboard as selectors_dashboard
from loyalty.selectors.dashboard import (
    CouponRedemptions,
    Headlines,
    PointsWeek,
    StoreEnrolments,
    TierMembers,
    dashboard_enrolments_per_store,
    dashboard_headlines,
    dashboard_members_per_tier,
    dashboard_period,
    dashboard_points_per_week,
    dashboard_redemptions_per_coupon,
)
from loyalty.services.coupon_redemptions import voucher_redeem
from loyalty.services.ledger import EntrySource, account_balances
from loyalty.services.membership import loyalty_account_opt_out
from loyalty.services.points import (
    points_add,
    points_adjust_by_admin,
    points_expire,
    points_reserve_for_transaction,
)
from loyalty.services.purchases import (
    purchase_accept,
    purchase_refund,
    purchase_reject,
)
from loyalty.services.vouchers import voucher_cancel, voucher_claim
from tests.loyalty.factories import LoyaltyAccountFactory, PurchaseFactory, VoucherFactory
from tests.roles import admin_roles_reset

DASHBOARD_URL = "/admin/dashboard/"
# A Wednesday. The last 4 weeks are those starting on 23 Feb, 2 Mar, 9 Mar and 16 Mar 2026.
NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)
FOUR_WEEKS = dashboard_period(weeks=4, now=NOW)
CART = [CartLine("SHIRT", Decimal("40.00")), CartLine("SOCKS", Decimal("9.99"), quantity=2)]  # 59.98
# Session and user; the user's and their groups' permissions; the programs; members per tier (counts, tiers); points
# per week (other programs?, the weeks); redemptions per coupon; enrolments per store; headlines (accounts, vouchers).
PAGE_QUERIES = 13


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=UTC)


def checkout(account, transaction_id, total, when, burned=0, store=None):
    with time_machine.travel(at(when), tick=False):
        return PurchaseFactory(
            account=account, transaction_id=transaction_id, total=total, points_burned=burned, store=store
        )


def enrol(customer_factory, when, store=None, program=None):
    with time_machine.travel(at(when), tick=False):
        return LoyaltyAccountFactory(customer=customer_factory(), enrolled_store=store, program=program)


@pytest.fixture
def second_program(db):
    staff = Program.objects.create(code="staff", name="Staff club", currency="EUR")
    Tier.objects.create(program=staff, rank=0, code="staff", name="Staff")
    return staff


# The period -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "start", "end"),
    [
        (NOW, at("2026-02-23T00:00:00"), at("2026-03-23T00:00:00")),
        (at("2026-03-16T00:00:00"), at("2026-02-23T00:00:00"), at("2026-03-23T00:00:00")),
        (at("2026-03-15T23:59:59"), at("2026-02-16T00:00:00"), at("2026-03-16T00:00:00")),
        # Monday 16 March 00:30 in Berlin is still Sunday 15 March in UTC.
        (
            datetime.fromisoformat("2026-03-16T00:30:00+01:00"),
            at("2026-02-16T00:00:00"),
            at("2026-03-16T00:00:00"),
        ),
    ],
)
def test_a_period_is_the_current_utc_week_and_the_weeks_before(now, start, end):
    # when
    period = dashboard_period(weeks=4, now=now)

    # then
    assert (period.start, period.end) == (start, end)
    assert period.week_starts == [start.date() + (end - start) * index / 4 for index in range(4)]


# Points per week ------------------------------------------------------------------------------------------------


@pytest.fixture
def ledger_story(program, customer_factory, second_program):
    """Four weeks of a program without a return window (points expire after 21 days), two members and the ledger
    entries the dashboard must count or leave out. Returns the two accounts."""
    Program.objects.filter(pk=program.pk).update(pending_days=0, points_expiry_days=21)
    first = enrol(customer_factory, "2026-02-01T09:00:00")
    second = enrol(customer_factory, "2026-02-01T09:00:00")
    before = enrol(customer_factory, "2026-02-01T09:00:00")
    elsewhere = enrol(customer_factory, "2026-02-01T09:00:00", program=second_program)
    # The last second before the period: not counted.
    checkout(before, "T0", "7", "2026-02-22T23:59:59")
    # Week of 23 Feb: the first second of the period counts. Earned 100 + 40.
    checkout(first, "T1", "100", "2026-02-23T00:00:00")  # lot expires 16 Mar 00:00
    checkout(second, "T2", "40", "2026-02-24T12:00:00")  # lot expires 17 Mar 12:00
    checkout(elsewhere, "X1", "500", "2026-02-24T12:00:00")  # another program: not counted
    # Week of 2 Mar: 20 reserved then burned, 60 burned at once (both from T1's lot); earned 10 + 30. Monday 05:00
    # UTC is still Sunday in America: the week is the UTC week whatever time zone is active.
    with time_machine.travel(at("2026-03-02T04:00:00"), tick=False):
        points_reserve_for_transaction(
            account=first, transaction_id="T4", points=20, origin=EntrySource(source="event")
        )
    checkout(first, "T4", "10", "2026-03-02T05:00:00", burned=20)
    t3 = checkout(first, "T3", "30", "2026-03-03T10:00:00", burned=60)
    # Week of 9 Mar: nothing at all.
    # Week of 16 Mar: what is left of T1's lot (20) and all of T2's (40) expire; a refund gives back 60 points burned
    # and takes back 30 earned; points added by hand and by an event: none of it is earning or burning.
    with time_machine.travel(at("2026-03-16T06:00:00"), tick=False):
        points_expire(account=first)
    with time_machine.travel(at("2026-03-17T12:30:00"), tick=False):
        points_expire(account=second)
    with time_machine.travel(at("2026-03-17T14:00:00"), tick=False):
        purchase_refund(purchase=t3)
        points_adjust_by_admin(account=second, points=15, user=None, note="Goodwill")
        points_add(account=second, points=5, origin=EntrySource(source="event"))
    return first, second


def test_points_per_week_counts_earn_lots_burns_and_expiries_with_zero_weeks(program, ledger_story):
    # when
    with time_machine.travel(NOW, tick=False):
        weeks = dashboard_points_per_week(program=program, period=FOUR_WEEKS)

    # then
    assert weeks == [
        PointsWeek(week_start=date(2026, 2, 23), earned=140, burned=0, expired=0),
        PointsWeek(week_start=date(2026, 3, 2), earned=40, burned=80, expired=0),
        PointsWeek(week_start=date(2026, 3, 9), earned=0, burned=0, expired=0),
        PointsWeek(week_start=date(2026, 3, 16), earned=0, burned=0, expired=60),
    ]


def test_points_per_week_matches_the_ledger_of_each_account(program, ledger_story):
    # given: every burn and expiry of these two accounts happened in the period
    balances = [account_balances(account) for account in ledger_story]

    # when
    weeks = dashboard_points_per_week(program=program, period=FOUR_WEEKS)

    # then
    assert sum(week.burned for week in weeks) == sum(balance.spent for balance in balances) == 80
    assert sum(week.expired for week in weeks) == sum(balance.expired for balance in balances) == 60
    earn_lots = PointsEntry.objects.filter(account__in=ledger_story, kind="earn", is_lot=True)
    assert sum(week.earned for week in weeks) == sum(earn_lots.values_list("points", flat=True)) == 180


def test_points_per_week_are_utc_weeks_in_any_active_time_zone(program, ledger_story):
    # when
    with timezone.override("America/Los_Angeles"):
        weeks = dashboard_points_per_week(program=program, period=FOUR_WEEKS)

    # then
    assert [(week.earned, week.burned) for week in weeks] == [(140, 0), (40, 80), (0, 0), (0, 0)]


def test_pending_points_count_as_earned_the_week_they_are_confirmed_and_never_once_cancelled(program, customer_factory):
    # given: a 14-day return window; 50 points confirmed in the week of 9 Mar, 70 rejected and 30 refunded before
    Program.objects.filter(pk=program.pk).update(pending_days=14)
    account = enrol(customer_factory, "2026-02-01T09:00:00")
    kept = checkout(account, "P1", "50", "2026-02-24T10:00:00")
    rejected = checkout(account, "P2", "70", "2026-02-25T10:00:00")
    refunded = checkout(account, "P3", "30", "2026-02-25T11:00:00")
    with time_machine.travel(at("2026-03-03T10:00:00"), tick=False):
        purchase_reject(purchase=rejected)
        purchase_refund(purchase=refunded)
    with time_machine.travel(at("2026-03-10T10:00:00"), tick=False):
        purchase_accept(purchase=kept)

    # when
    weeks = dashboard_points_per_week(program=program, period=FOUR_WEEKS)

    # then
    assert [week.earned for week in weeks] == [0, 0, 50, 0]
    assert account_balances(account).spendable == 50


# Members per tier -----------------------------------------------------------------------------------------------


def test_members_per_tier_counts_enrolled_accounts_by_current_tier_with_empty_tiers(
    program, customer_factory, second_program
):
    # given: Member (rank 0, the migration's), Silver at 100 points, Gold at 1,000, Platinum at 10,000
    Program.objects.filter(pk=program.pk).update(pending_days=0)
    Tier.objects.create(program=program, rank=1, code="silver", name="Silver", threshold=Decimal("100"))
    Tier.objects.create(program=program, rank=2, code="gold", name="Gold", threshold=Decimal("1000"))
    Tier.objects.create(program=program, rank=3, code="platinum", name="Platinum", threshold=Decimal("10000"))
    accounts = [enrol(customer_factory, "2026-03-01T09:00:00") for _ in range(6)]
    checkout(accounts[0], "S1", "150", "2026-03-02T10:00:00")
    checkout(accounts[1], "S2", "120", "2026-03-02T10:00:00")
    checkout(accounts[2], "G1", "1200", "2026-03-02T10:00:00")
    # An opted-out member (a guest now) and a blocked one are not members; a Silver one of them, to show it.
    checkout(accounts[3], "S3", "100", "2026-03-02T10:00:00")
    loyalty_account_opt_out(account=accounts[3], context=ChangeContext())
    LoyaltyAccount.objects.filter(pk=accounts[4].pk).update(state=LoyaltyAccount.State.BLOCKED)
    enrol(customer_factory, "2026-03-01T09:00:00", program=second_program)
    # A program without tiers enrols without one.
    tierless = Program.objects.create(code="pop-up", name="Pop-up club")
    enrol(customer_factory, "2026-03-01T09:00:00", program=tierless)

    # when
    members = dashboard_members_per_tier(program=program)
    elsewhere = dashboard_members_per_tier(program=second_program)
    without_tiers = dashboard_members_per_tier(program=tierless)

    # then
    assert members == [
        TierMembers(tier="Member", members=1),
        TierMembers(tier="Silver", members=2),
        TierMembers(tier="Gold", members=1),
        TierMembers(tier="Platinum", members=0),
    ]
    assert elsewhere == [TierMembers(tier="Staff", members=1)]
    assert without_tiers == [TierMembers(tier="No tier", members=1)]


# Voucher redemptions per coupon ---------------------------------------------------------------------------------


def _redeem(definition, transaction_id, when, customer=None):
    voucher = VoucherFactory(definition=definition, now=at("2026-01-15T09:00:00"))
    return voucher_redeem(
        code=voucher.code, transaction_id=transaction_id, customer=customer, channel="pos", lines=CART, now=at(when)
    )


@pytest.fixture
def coupons(program, second_program, coupon_definition_factory):
    return {
        "spring": coupon_definition_factory(
            program=program,
            code="spring-10",
            name="Spring 10%",
            kind=CouponDefinition.Kind.PERCENT,
            value=Decimal("10"),
        ),
        "five": coupon_definition_factory(
            program=program, code="five-off", name="Five off", kind=CouponDefinition.Kind.AMOUNT, value=Decimal("5")
        ),
        "socks": coupon_definition_factory(
            program=program,
            code="free-socks",
            name="Free socks",
            kind=CouponDefinition.Kind.FREE_ITEM,
            value=Decimal("0"),
            product_id="SOCKS",
        ),
        "quiet": coupon_definition_factory(
            program=program, code="quiet", name="Never used", kind=CouponDefinition.Kind.AMOUNT, value=Decimal("1")
        ),
        "elsewhere": coupon_definition_factory(
            program=second_program,
            code="staff-5",
            name="Staff five",
            kind=CouponDefinition.Kind.AMOUNT,
            value=Decimal("5"),
        ),
    }


def test_redemptions_per_coupon_counts_vouchers_redeemed_in_the_period_with_their_discount(coupons, voucher_factory):
    # given
    _redeem(coupons["spring"], "R1", "2026-02-23T00:00:00")  # 10% of 59.98: 6.00
    _redeem(coupons["spring"], "R2", "2026-03-17T18:00:00")
    _redeem(coupons["spring"], "R0", "2026-02-22T23:59:59")  # before the period
    for number in range(3):
        _redeem(coupons["five"], f"F{number}", "2026-03-05T10:00:00")
    _redeem(coupons["socks"], "S1", "2026-03-10T10:00:00")  # the socks' 9.99
    _redeem(coupons["elsewhere"], "E1", "2026-03-10T10:00:00")
    voucher_factory(definition=coupons["quiet"], now=at("2026-03-01T09:00:00"))
    cancelled = voucher_factory(definition=coupons["five"], now=at("2026-03-01T09:00:00"))
    voucher_cancel(code=cancelled.code, now=at("2026-03-02T09:00:00"))

    # when
    coupons_redeemed = dashboard_redemptions_per_coupon(program=coupons["spring"].program, period=FOUR_WEEKS)

    # then
    assert coupons_redeemed == [
        CouponRedemptions(coupon="Five off (five-off)", redemptions=3, discount=Decimal("15.00")),
        CouponRedemptions(coupon="Spring 10% (spring-10)", redemptions=2, discount=Decimal("12.00")),
        CouponRedemptions(coupon="Free socks (free-socks)", redemptions=1, discount=Decimal("9.99")),
    ]


def test_redemptions_past_the_top_coupons_are_summed_as_other_coupons(coupons, monkeypatch):
    # given
    monkeypatch.setattr(selectors_dashboard, "TOP_GROUPS", 1)
    _redeem(coupons["spring"], "R1", "2026-03-05T10:00:00")
    _redeem(coupons["spring"], "R2", "2026-03-05T10:00:00")
    _redeem(coupons["five"], "F1", "2026-03-05T10:00:00")
    _redeem(coupons["socks"], "S1", "2026-03-05T10:00:00")

    # when
    coupons_redeemed = dashboard_redemptions_per_coupon(program=coupons["spring"].program, period=FOUR_WEEKS)

    # then
    assert coupons_redeemed == [
        CouponRedemptions(coupon="Spring 10% (spring-10)", redemptions=2, discount=Decimal("12.00")),
        CouponRedemptions(coupon="Other coupons", redemptions=2, discount=Decimal("14.99")),
    ]


# Enrolments per store -------------------------------------------------------------------------------------------


def test_enrolments_per_store_counts_accounts_enrolled_in_the_period_with_an_online_bucket(
    program, customer_factory, store_factory, second_program
):
    # given
    union_square = store_factory(code="SF01", name="Union Square")
    soho = store_factory(code="NY02", name="SoHo")
    for _ in range(3):
        enrol(customer_factory, "2026-03-04T10:00:00", store=union_square)
    enrol(customer_factory, "2026-02-23T00:00:00", store=soho)
    enrol(customer_factory, "2026-02-22T23:59:59", store=soho)  # before the period
    blocked_later = enrol(customer_factory, "2026-03-16T10:00:00")
    LoyaltyAccount.objects.filter(pk=blocked_later.pk).update(state=LoyaltyAccount.State.BLOCKED)
    enrol(customer_factory, "2026-03-17T10:00:00")
    enrol(customer_factory, "2026-03-17T10:00:00", store=soho, program=second_program)

    # when
    stores = dashboard_enrolments_per_store(program=program, period=FOUR_WEEKS)

    # then
    assert stores == [
        StoreEnrolments(store="SF01 Union Square", enrolments=3),
        StoreEnrolments(store="No store / online", enrolments=2),
        StoreEnrolments(store="NY02 SoHo", enrolments=1),
    ]


def test_enrolments_past_the_top_stores_are_summed_as_other_stores(
    program, customer_factory, store_factory, monkeypatch
):
    # given
    monkeypatch.setattr(selectors_dashboard, "TOP_GROUPS", 2)
    for code, count in (("A1", 3), ("B1", 2), ("C1", 1)):
        store = store_factory(code=code, name="")
        for _ in range(count):
            enrol(customer_factory, "2026-03-04T10:00:00", store=store)
    enrol(customer_factory, "2026-03-04T10:00:00")

    # when
    stores = dashboard_enrolments_per_store(program=program, period=FOUR_WEEKS)

    # then
    assert stores == [
        StoreEnrolments(store="A1", enrolments=3),
        StoreEnrolments(store="B1", enrolments=2),
        StoreEnrolments(store="Other stores", enrolments=2),
    ]


# Headlines ------------------------------------------------------------------------------------------------------


def test_headlines_count_members_active_vouchers_and_points_outstanding(
    program, customer_factory, coupons, second_program, coupon_definition_factory, voucher_factory
):
    # given: balances 100 and 40, a guest's 25 and a blocked member's 10 (still outstanding); another program's 500
    Program.objects.filter(pk=program.pk).update(pending_days=0)
    members = [enrol(customer_factory, "2026-03-01T09:00:00") for _ in range(4)]
    for account, total in zip(members, ("100", "40", "25", "10"), strict=True):
        checkout(account, f"H{total}", total, "2026-03-02T10:00:00")
    loyalty_account_opt_out(account=members[2], context=ChangeContext())
    LoyaltyAccount.objects.filter(pk=members[3].pk).update(state=LoyaltyAccount.State.BLOCKED)
    elsewhere = enrol(customer_factory, "2026-03-01T09:00:00", program=second_program)
    checkout(elsewhere, "X1", "500", "2026-03-02T10:00:00")
    # Vouchers: two live ones and one claimed count; expired by date, cancelled, redeemed, of an inactive or an
    # ended coupon, or of another program do not.
    voucher_factory(definition=coupons["spring"], now=at("2026-03-01T09:00:00"))
    voucher_factory(definition=coupons["five"], expires_at=at("2026-03-18T12:00:01"), now=at("2026-03-01T09:00:00"))
    voucher_factory(definition=coupons["five"], expires_at=NOW, now=at("2026-03-01T09:00:00"))
    claimed = voucher_factory(definition=coupons["five"], now=at("2026-03-01T09:00:00"))
    voucher_claim(code=claimed.code, customer=members[0].customer, now=at("2026-03-02T09:00:00"))
    cancelled = voucher_factory(definition=coupons["five"], now=at("2026-03-01T09:00:00"))
    voucher_cancel(code=cancelled.code, now=at("2026-03-02T09:00:00"))
    _redeem(coupons["socks"], "S1", "2026-03-05T10:00:00")
    voucher_factory(definition=coupons["quiet"], now=at("2026-03-01T09:00:00"))
    CouponDefinition.objects.filter(pk=coupons["quiet"].pk).update(is_active=False)
    ended = coupon_definition_factory(
        program=program,
        code="ended",
        name="Ended",
        kind=CouponDefinition.Kind.AMOUNT,
        value=Decimal("1"),
        valid_until=at("2026-03-18T00:00:00"),
    )
    ended_voucher = voucher_factory(definition=ended, now=at("2026-03-01T09:00:00"))
    # An old voucher without an expiry still ends with its coupon.
    Voucher.objects.filter(pk=ended_voucher.pk).update(expires_at=None)
    voucher_factory(definition=coupons["elsewhere"], now=at("2026-03-01T09:00:00"))

    # when
    headlines = dashboard_headlines(program=program, now=NOW)

    # then
    assert headlines == Headlines(members=2, points_outstanding=175, active_vouchers=3)


# The page -------------------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def admin_roles(db):
    """The groups of the roles migration: run it again, since a transactional test elsewhere may have emptied them."""
    admin_roles_reset()


def _client_for(django_user_model, username, group_name=None) -> Client:
    user = django_user_model.objects.create_user(username=username, is_staff=True)
    if group_name:
        user.groups.add(Group.objects.get(name=group_name))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def marketing(django_user_model) -> Client:
    return _client_for(django_user_model, "marketing", MARKETING)


@pytest.fixture
def store_manager(django_user_model) -> Client:
    return _client_for(django_user_model, "manager", STORE_MANAGERS)


@pytest.fixture
def staff_without_permissions(django_user_model) -> Client:
    return _client_for(django_user_model, "staff")


def _table(response, table_id) -> list[list[str]]:
    """The body rows of one of the page's tables, as the cells' text."""
    html = response.content.decode()
    table = re.search(rf'<table id="{table_id}">(.*?)</table>', html, re.S).group(1)
    body = re.search(r"<tbody>(.*?)</tbody>", table, re.S).group(1)
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def _chart_data(response) -> dict:
    html = response.content.decode()
    script = re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(script.group(1))


def test_the_page_shows_each_chart_as_data_and_as_a_table(marketing, program, ledger_story, store_factory):
    # when
    with time_machine.travel(NOW, tick=False):
        response = marketing.get(DASHBOARD_URL, {"weeks": 4})

    # then
    assert response.status_code == 200
    assert _table(response, "table-points-per-week") == [
        ["2026-02-23", "140", "0", "0"],
        ["2026-03-02", "40", "80", "0"],
        ["2026-03-09", "0", "0", "0"],
        ["2026-03-16", "0", "0", "60"],
    ]
    assert _table(response, "table-members-per-tier") == [["Member", "3"]]
    assert _table(response, "table-enrolments-per-store") == [["No enrolment in the period."]]
    assert _table(response, "table-redemptions-per-coupon") == [["No voucher redeemed in the period."]]
    assert _chart_data(response) == {
        "membersPerTier": {"labels": ["Member"], "members": [3]},
        "pointsPerWeek": {
            "labels": ["2026-02-23", "2026-03-02", "2026-03-09", "2026-03-16"],
            "earned": [140, 40, 0, 0],
            "burned": [0, 80, 0, 0],
            "expired": [0, 0, 0, 60],
        },
        "redemptionsPerCoupon": {"labels": [], "redemptions": []},
        "enrolmentsPerStore": {"labels": [], "enrolments": []},
    }
    html = response.content.decode()
    # Members: 3 enrolled. Outstanding: 100 - 20 - 60 - 20 + 10 + 30 + 60 - 30 = 70, 40 - 40 + 15 + 5 = 20, and 7.
    assert '<span class="dashboard-figure" id="headline-members">3</span>' in html
    assert '<span class="dashboard-figure" id="headline-points-outstanding">97</span>' in html
    assert '<span class="dashboard-figure" id="headline-active-vouchers">0</span>' in html
    assert "/static/loyalty/vendor/chartjs/chart.umd.min.js" in html
    assert "/static/loyalty/dashboard.js" in html


def test_the_default_period_is_twelve_weeks(marketing, program):
    # when
    with time_machine.travel(NOW, tick=False):
        response = marketing.get(DASHBOARD_URL)

    # then
    assert response.status_code == 200
    assert response.context["period"].weeks == 12
    assert _chart_data(response)["pointsPerWeek"]["labels"][0] == "2025-12-29"
    assert len(_table(response, "table-points-per-week")) == 12
    assert '<option value="12" selected>Last 12 weeks</option>' in response.content.decode()


def test_the_period_filter_chooses_the_weeks_of_every_chart(marketing, program, customer_factory, store_factory):
    # given: one enrolment 5 weeks ago, one this week
    store = store_factory(code="SF01", name="Union Square")
    enrol(customer_factory, "2026-02-16T10:00:00", store=store)
    enrol(customer_factory, "2026-03-16T10:00:00", store=store)

    # when
    with time_machine.travel(NOW, tick=False):
        four = marketing.get(DASHBOARD_URL, {"weeks": 4})
        twenty_six = marketing.get(DASHBOARD_URL, {"weeks": 26})

    # then
    assert _table(four, "table-enrolments-per-store") == [["SF01 Union Square", "1"]]
    assert _table(twenty_six, "table-enrolments-per-store") == [["SF01 Union Square", "2"]]
    assert len(_table(twenty_six, "table-points-per-week")) == 26


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"weeks": "7"}, "Period: Select a valid choice. 7 is not one of the available choices."),
        ({"weeks": "many"}, "Period: Select a valid choice. many is not one of the available choices."),
        ({"program": "nope"}, "Program: Select a valid choice. nope is not one of the available choices."),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(marketing, program, query, message):
    # when
    response = marketing.get(DASHBOARD_URL, query)

    # then
    assert response.status_code == 400
    assert _errors(response) == [message]
    assert 'id="dashboard-data"' not in response.content.decode()


def _errors(response) -> list[str]:
    html = response.content.decode()
    errors = re.search(r'<ul class="errorlist" id="dashboard-errors">(.*?)</ul>', html, re.S).group(1)
    return [re.sub(r"<[^>]+>", "", item) for item in re.findall(r"<li>(.*?)</li>", errors, re.S)]


def test_the_program_filter_shows_only_with_several_programs_and_chooses_the_program(
    marketing, program, customer_factory, store_factory
):
    # given
    store = store_factory(code="SF01", name="Union Square")
    enrol(customer_factory, "2026-03-16T10:00:00", store=store)
    with time_machine.travel(NOW, tick=False):
        alone = marketing.get(DASHBOARD_URL)
    staff = Program.objects.create(code="staff", name="Staff club", currency="EUR")
    enrol(customer_factory, "2026-03-16T10:00:00", program=staff)
    enrol(customer_factory, "2026-03-16T10:00:00", program=staff)

    # when
    with time_machine.travel(NOW, tick=False):
        default = marketing.get(DASHBOARD_URL)
        chosen = marketing.get(DASHBOARD_URL, {"program": "staff"})

    # then
    assert 'name="program"' not in alone.content.decode()
    assert 'name="program"' in default.content.decode()
    assert _table(default, "table-enrolments-per-store") == [["SF01 Union Square", "1"]]
    assert _table(chosen, "table-enrolments-per-store") == [["No store / online", "2"]]
    assert _table(chosen, "table-members-per-tier") == [["No tier", "2"]]
    assert '<option value="staff" selected>Staff club</option>' in chosen.content.decode()


def test_names_reach_the_charts_as_escaped_json(marketing, program, coupon_definition_factory):
    # given
    definition = coupon_definition_factory(
        program=program,
        code="xss",
        name="</script><script>alert(1)</script>",
        kind=CouponDefinition.Kind.AMOUNT,
        value=Decimal("5"),
    )
    _redeem(definition, "R1", "2026-03-17T10:00:00")

    # when
    with time_machine.travel(NOW, tick=False):
        response = marketing.get(DASHBOARD_URL, {"weeks": 4})

    # then
    html = response.content.decode()
    assert "<script>alert(1)" not in html
    assert _chart_data(response)["redemptionsPerCoupon"]["labels"] == ["</script><script>alert(1)</script> (xss)"]


def test_without_any_program_the_page_says_so(marketing, program):
    # given
    Program.objects.all().delete()

    # when
    response = marketing.get(DASHBOARD_URL)

    # then
    assert response.status_code == 200
    assert "No loyalty program is configured yet." in response.content.decode()
    assert 'id="dashboard-data"' not in response.content.decode()


# Who may see it --------------------------------------------------------------------------------------------------


def test_marketing_and_store_managers_may_see_the_dashboard(marketing, store_manager, admin_client, program):
    # when
    responses = [client.get(DASHBOARD_URL) for client in (marketing, store_manager, admin_client)]

    # then
    assert [response.status_code for response in responses] == [200, 200, 200]
    assert all("Members per tier" in response.content.decode() for response in responses)


def test_staff_without_loyalty_permissions_are_refused(staff_without_permissions, program):
    # when
    response = staff_without_permissions.get(DASHBOARD_URL)

    # then
    assert response.status_code == 403


def test_anonymous_visitors_are_sent_to_the_admin_login(client, program):
    # when
    response = client.get(DASHBOARD_URL)

    # then
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/dashboard/"


def test_the_admin_index_links_the_dashboard_for_those_who_may_see_it(
    marketing, store_manager, staff_without_permissions
):
    # when
    pages = [client.get("/admin/").content.decode() for client in (marketing, store_manager, staff_without_permissions)]

    # then
    link = '<a href="/admin/dashboard/" class="section">Dashboard</a>'
    assert [link in page for page in pages] == [True, True, False]


def test_the_page_is_inside_the_admin(marketing, program):
    # when
    html = marketing.get(DASHBOARD_URL).content.decode()

    # then: the admin's header, breadcrumbs and sidebar
    assert '<div id="site-name"><a href="/admin/">' in html
    assert '<a href="/admin/">Home</a> &rsaquo; Dashboard' in html
    assert 'id="nav-sidebar"' in html


# Static files ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "start"),
    [
        ("/static/loyalty/vendor/chartjs/chart.umd.min.js", b"/*!\n * Chart.js v4.6.1\n"),
        ("/static/loyalty/dashboard.js", b"/* Draws the back-office dashboard"),
        ("/static/loyalty/dashboard.css", b"/* The back-office dashboard"),
    ],
)
def test_the_dashboard_static_files_are_served(client, path, start):
    # when
    response = client.get(path)

    # then
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body.startswith(start)


def test_the_vendored_chartjs_has_no_source_map_reference():
    """The production static storage follows source-map comments and collectstatic fails on a missing map."""
    finder = importlib.import_module("django.contrib.staticfiles.finders")
    path = finder.find("loyalty/vendor/chartjs/chart.umd.min.js")
    with open(path, encoding="utf-8") as vendored:
        assert "sourceMappingURL" not in vendored.read()


# Query budget ----------------------------------------------------------------------------------------------------


def test_the_page_runs_a_fixed_number_of_queries_whatever_the_data(
    marketing, program, customer_factory, store_factory, django_assert_num_queries, coupon_definition_factory
):
    # given: a little data
    Program.objects.filter(pk=program.pk).update(pending_days=0)
    checkout(enrol(customer_factory, "2026-03-02T10:00:00"), "Q1", "10", "2026-03-03T10:00:00")
    with django_assert_num_queries(PAGE_QUERIES), time_machine.travel(NOW, tick=False):
        small = marketing.get(DASHBOARD_URL)
    # and then more of everything: stores, tiers, coupons, redemptions, accounts, ledger entries
    Tier.objects.create(program=program, rank=1, code="silver", name="Silver", threshold=Decimal("100"))
    for number in range(5):
        store = store_factory(code=f"Q{number}", name="")
        account = enrol(customer_factory, "2026-03-04T10:00:00", store=store)
        checkout(account, f"Q{number}-1", "150", "2026-03-05T10:00:00")
        checkout(account, f"Q{number}-2", "20", "2026-03-10T10:00:00", burned=30)
        definition = coupon_definition_factory(
            program=program,
            code=f"q-{number}",
            name=f"Q {number}",
            kind=CouponDefinition.Kind.AMOUNT,
            value=Decimal("5"),
        )
        _redeem(definition, f"QR{number}", "2026-03-11T10:00:00")

    # when
    with django_assert_num_queries(PAGE_QUERIES), time_machine.travel(NOW, tick=False):
        large = marketing.get(DASHBOARD_URL)

    # then
    assert (small.status_code, large.status_code) == (200, 200)
    assert len(_table(large, "table-enrolments-per-store")) == 6
