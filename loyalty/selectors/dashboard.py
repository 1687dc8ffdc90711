"""Reads behind the back-office dashboard (loyalty/admin/dashboard.py). Nothing here writes.

Every figure is one aggregate query grouped in the database, so the page runs the same handful of queries however
large the ledger grows; Python only fills in the weeks without activity and names the groups. Weeks start on
Monday 00:00 UTC whatever the server's or the viewer's time zone, and a period of N weeks is the current,
unfinished week and the N - 1 weeks before it. What each figure counts, in the words of its users, is in
docs/back-office.md ("Dashboard"); the tests in tests/loyalty/admin/test_dashboard.py pin it.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TypeVar

from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce, TruncWeek

from loyalty.models import LoyaltyAccount, PointsEntry, Program, Tier, Voucher

Kind = PointsEntry.Kind
Bucket = PointsEntry.Bucket

PERIOD_WEEKS = (4, 12, 26, 52)
DEFAULT_PERIOD_WEEKS = 12
# Bar charts of coupons and stores show this many bars, the rest summed into one "other" bar.
TOP_GROUPS = 20
NO_TIER = "No tier"
NO_STORE = "No store / online"
OTHER_COUPONS = "Other coupons"
OTHER_STORES = "Other stores"

# Earned: the earn lots, i.e. points that became spendable, at checkout or when the return window closed
# (the pending earn entry and its confirmation are not counted: a pending point is not earned until then, and a
# pending point cancelled by a rejection or a refund is never earned). Adjustments and refunds are not earnings.
EARNED = Q(kind=Kind.EARN, bucket=Bucket.SPENDABLE)
# Burned: every burn entry, from the lots directly or from a reservation (which already took them from the lots
# with reserve entries): together they are exactly the points checkouts spent.
BURNED = Q(kind=Kind.BURN)
EXPIRED = Q(kind=Kind.EXPIRE)
CHARTED_KINDS = (Kind.EARN, Kind.BURN, Kind.EXPIRE)

Row = TypeVar("Row")
AMOUNT = DecimalField(max_digits=14, decimal_places=2)


@dataclass(frozen=True)
class DashboardPeriod:
    weeks: int
    start: datetime  # Monday 00:00 UTC of the first week, inclusive
    end: datetime  # Monday 00:00 UTC after the current week, exclusive

    @property
    def week_starts(self) -> list[date]:
        first = self.start.date()
        return [first + timedelta(weeks=index) for index in range(self.weeks)]


def dashboard_period(*, weeks: int, now: datetime) -> DashboardPeriod:
    """The `weeks` calendar weeks (Monday to Sunday, UTC) ending with the week of `now`."""
    today = now.astimezone(UTC).date()
    this_monday = today - timedelta(days=today.weekday())
    first_monday = this_monday - timedelta(weeks=weeks - 1)
    return DashboardPeriod(
        weeks=weeks,
        start=datetime.combine(first_monday, time.min, tzinfo=UTC),
        end=datetime.combine(this_monday + timedelta(weeks=1), time.min, tzinfo=UTC),
    )


def dashboard_programs() -> list[Program]:
    """Every program, the default one first: the dashboard's program filter."""
    return list(Program.objects.order_by("-is_default", "code"))


@dataclass(frozen=True)
class Headlines:
    members: int
    points_outstanding: int
    active_vouchers: int


def dashboard_headlines(*, program: Program, now: datetime) -> Headlines:
    """Members (enrolled accounts), points outstanding (the cached spendable balances of every account of the
    program, whatever its state, owed points counting negative) and active vouchers (issued or claimed, not past
    their expiry, of an active coupon that has not ended). Two queries."""
    accounts = LoyaltyAccount.objects.filter(program=program).aggregate(
        members=Count("pk", filter=Q(state=LoyaltyAccount.State.ENROLLED)),
        points_outstanding=Coalesce(Sum("points_balance"), 0),
    )
    active_vouchers = (
        Voucher.objects.filter(
            definition__program=program,
            definition__is_active=True,
            status__in=(Voucher.Status.ISSUED, Voucher.Status.CLAIMED),
        )
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .filter(Q(definition__valid_until__isnull=True) | Q(definition__valid_until__gt=now))
        .count()
    )
    return Headlines(
        members=accounts["members"], points_outstanding=accounts["points_outstanding"], active_vouchers=active_vouchers
    )


@dataclass(frozen=True)
class TierMembers:
    tier: str
    members: int


def dashboard_members_per_tier(*, program: Program) -> list[TierMembers]:
    """Enrolled accounts by their current tier: every tier of the program by rank (zeros included), then "No tier"
    if some enrolled accounts have none. Guests and blocked accounts are not members. Two queries."""
    # Keyed by tier pk; None for the accounts without a tier.
    counts: dict[int | None, int] = dict(
        LoyaltyAccount.objects.filter(program=program, state=LoyaltyAccount.State.ENROLLED)
        .values("tier")
        .annotate(members=Count("pk"))
        .order_by()
        .values_list("tier", "members")
    )
    tiers = Tier.objects.filter(program=program).order_by("rank").values_list("pk", "name")
    rows = [TierMembers(tier=name, members=counts.get(pk, 0)) for pk, name in tiers]
    if counts.get(None):
        rows.append(TierMembers(tier=NO_TIER, members=counts[None]))
    return rows


@dataclass(frozen=True)
class PointsWeek:
    week_start: date
    earned: int
    burned: int
    expired: int


def dashboard_points_per_week(*, program: Program, period: DashboardPeriod) -> list[PointsWeek]:
    """Points earned, burned and expired per week of the period, from the ledger (see EARNED, BURNED, EXPIRED),
    as positive numbers; one row per week, weeks without activity as zeros. Two queries."""
    entries = PointsEntry.objects.filter(
        created_at__gte=period.start, created_at__lt=period.end, kind__in=CHARTED_KINDS
    )
    # The ledger has no program column: the program is the account's. With one program, every entry is its own, and
    # the join that would say so costs more than the rest of the query (6 times as long at a million entries).
    if Program.objects.exclude(pk=program.pk).exists():
        entries = entries.filter(account__program=program)
    rows = (
        # The time zone is named so that a week is a UTC week even where another time zone is active.
        entries.annotate(week=TruncWeek("created_at", tzinfo=UTC))
        .values("week")
        .annotate(
            earned=Coalesce(Sum("points", filter=EARNED), 0),
            burned=Coalesce(Sum("points", filter=BURNED), 0),
            expired=Coalesce(Sum("points", filter=EXPIRED), 0),
        )
        .order_by()
    )
    by_week = {row["week"].astimezone(UTC).date(): row for row in rows}
    empty = {"earned": 0, "burned": 0, "expired": 0}
    return [
        PointsWeek(
            week_start=week,
            earned=by_week.get(week, empty)["earned"],
            burned=-by_week.get(week, empty)["burned"],
            expired=-by_week.get(week, empty)["expired"],
        )
        for week in period.week_starts
    ]


@dataclass(frozen=True)
class CouponRedemptions:
    coupon: str
    redemptions: int
    discount: Decimal


def dashboard_redemptions_per_coupon(*, program: Program, period: DashboardPeriod) -> list[CouponRedemptions]:
    """Vouchers redeemed in the period per coupon definition, with the discount they gave, most redeemed first
    (coupons without a redemption in the period are left out); past TOP_GROUPS coupons the rest are summed as
    "Other coupons". One query."""
    rows = (
        Voucher.objects.filter(
            definition__program=program,
            status=Voucher.Status.REDEEMED,
            redeemed_at__gte=period.start,
            redeemed_at__lt=period.end,
        )
        .values("definition", "definition__code", "definition__name")
        .annotate(
            redemptions=Count("pk"),
            discount=Coalesce(Sum("redemption_amount"), Value(Decimal("0")), output_field=AMOUNT),
        )
        .order_by("-redemptions", "definition__name", "definition__code")
    )
    coupons = [
        CouponRedemptions(
            coupon=f"{row['definition__name']} ({row['definition__code']})",
            redemptions=row["redemptions"],
            discount=row["discount"],
        )
        for row in rows
    ]
    return _top_with_rest(coupons, lambda rest: CouponRedemptions(
        coupon=OTHER_COUPONS,
        redemptions=sum(row.redemptions for row in rest),
        discount=sum((row.discount for row in rest), Decimal("0")),
    ))  # fmt: skip


@dataclass(frozen=True)
class StoreEnrolments:
    store: str
    enrolments: int


def dashboard_enrolments_per_store(*, program: Program, period: DashboardPeriod) -> list[StoreEnrolments]:
    """Accounts of the program enrolled in the period, per enrolment store, most first, whatever the account's
    state today; accounts enrolled without a store (web, app, API) count as "No store / online". Past TOP_GROUPS
    stores the rest are summed as "Other stores". One query."""
    rows = (
        LoyaltyAccount.objects.filter(program=program, enrolled_at__gte=period.start, enrolled_at__lt=period.end)
        .values("enrolled_store", "enrolled_store__code", "enrolled_store__name")
        .annotate(enrolments=Count("pk"))
        .order_by("-enrolments", "enrolled_store__code")
    )
    stores = [
        StoreEnrolments(
            store=f"{row['enrolled_store__code']} {row['enrolled_store__name']}".strip()
            if row["enrolled_store__code"] is not None
            else NO_STORE,
            enrolments=row["enrolments"],
        )
        for row in rows
    ]
    return _top_with_rest(
        stores, lambda rest: StoreEnrolments(store=OTHER_STORES, enrolments=sum(row.enrolments for row in rest))
    )


def _top_with_rest(rows: Sequence[Row], summed: Callable[[Sequence[Row]], Row]) -> list[Row]:
    """The first TOP_GROUPS grouped rows, and the others summed into one (rows are groups, never ledger rows)."""
    if len(rows) <= TOP_GROUPS:
        return list(rows)
    return [*rows[:TOP_GROUPS], summed(rows[TOP_GROUPS:])]
