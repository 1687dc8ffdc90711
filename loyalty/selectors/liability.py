"""The points liability a program carries, for finance: what members could still spend, what it is worth at the
program's burn value, when it was issued and when it expires, and how much of it history says will never be spent.

Read from the ledger (PointsEntry) as it stood at the end of a day, so that a month-end report run days later gives
the month-end numbers. Every figure is one aggregate query grouped in the database (four queries in all, whatever
the size of the ledger); Python only names the groups and adds days to dates. Nothing here writes.

- Spendable points by month of issue and of expiry: the remainders of the earn lots (a lot's points plus the
  entries that consumed it or gave points back), grouped by the lot's creation and expiry dates. Owed points
  (spendable entries without a lot: a refund took back points already spent) are one negative row, so that every
  table adds up to the ledger's spendable sum, which is the sum of the accounts' balances.
- Pending points (purchases still inside their return window) by month of issue; their expiry is expected:
  issue + the program's pending days + its expiry days (they expire that long after they are confirmed).
- Reserved points (held for a payment under way) are outstanding too, in the totals only: they left their lots.
- Breakage rate = expired / (expired + redeemed), both summed over the trailing window (default 365 days) before
  the end of the day reported; redeemed is every burn entry (points spent at checkouts). Expected breakage =
  rate x (spendable + pending + reserved) points.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Case, DateTimeField, F, Q, Sum, When
from django.db.models.functions import Coalesce, TruncDate, TruncMonth

from loyalty.models import PointsEntry, Program

Kind = PointsEntry.Kind
Bucket = PointsEntry.Bucket

BREAKAGE_WINDOW_DAYS = 365
BREAKAGE_FORMULA = "expired / (expired + redeemed), points summed over the trailing window"
CENT = Decimal("0.01")
NEVER = "Never expires"
OWED = "Owed (refunds of spent points)"


@dataclass(frozen=True)
class LiabilityRow:
    """One group of outstanding points: a month (its first day), or a label for what has no month."""

    label: str
    month: date | None
    spendable: int
    pending: int

    @property
    def points(self) -> int:
        return self.spendable + self.pending


@dataclass(frozen=True)
class Breakage:
    window_start: datetime  # inclusive
    window_end: datetime  # exclusive
    expired: int
    redeemed: int

    @property
    def rate(self) -> Decimal | None:
        """expired / (expired + redeemed), 4 decimals; None without history (nothing expired or redeemed)."""
        settled = self.expired + self.redeemed
        if settled <= 0:
            return None
        return (Decimal(self.expired) / Decimal(settled)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class PointsLiability:
    program: Program
    as_of: date
    cutoff: datetime  # entries created before this count: midnight UTC after `as_of`
    spendable: int
    pending: int
    reserved: int
    owed: int
    by_issue_month: list[LiabilityRow] = field(default_factory=list)
    by_expiry_month: list[LiabilityRow] = field(default_factory=list)
    breakage: Breakage | None = None

    @property
    def burn_value(self) -> Decimal:
        return self.program.burn_value

    @property
    def points(self) -> int:
        return self.spendable + self.pending + self.reserved

    def value_of(self, points: int) -> Decimal:
        """Money value of `points` at the program's burn value, to the cent."""
        return (Decimal(points) * self.burn_value).quantize(CENT, rounding=ROUND_HALF_UP)

    @property
    def value(self) -> Decimal:
        return self.value_of(self.points)

    @property
    def expected_breakage_points(self) -> int | None:
        rate = self.breakage.rate if self.breakage else None
        if rate is None:
            return None
        return int((Decimal(self.points) * rate).to_integral_value(rounding=ROUND_HALF_UP))

    @property
    def net_points(self) -> int:
        """Outstanding points that history says will be spent (all of them without history)."""
        return self.points - (self.expected_breakage_points or 0)


def liability_cutoff(as_of: date) -> datetime:
    return datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=UTC)


def _month(moment: datetime | None) -> date | None:
    return None if moment is None else moment.astimezone(UTC).date().replace(day=1)


def points_liability(
    *, program: Program, as_of: date, breakage_window_days: int = BREAKAGE_WINDOW_DAYS
) -> PointsLiability:
    """The program's points liability at the end of `as_of` (UTC). Four queries."""
    cutoff = liability_cutoff(as_of)
    entries = PointsEntry.objects.filter(account__program=program, created_at__lt=cutoff)

    totals = entries.aggregate(
        spendable=Coalesce(Sum("points", filter=Q(bucket=Bucket.SPENDABLE)), 0),
        pending=Coalesce(Sum("points", filter=Q(bucket=Bucket.PENDING)), 0),
        reserved=Coalesce(Sum("points", filter=Q(bucket=Bucket.RESERVED)), 0),
        owed=Coalesce(Sum("points", filter=Q(bucket=Bucket.SPENDABLE, is_lot=False, lot__isnull=True)), 0),
    )

    # A lot and the entries against it, grouped by the lot's own dates: its remainder at the cutoff per month.
    lot_groups = (
        entries.filter(Q(is_lot=True) | Q(lot__isnull=False), bucket=Bucket.SPENDABLE)
        .annotate(
            issued=Case(When(is_lot=True, then=F("created_at")), default=F("lot__created_at")),
            expires=Case(
                When(is_lot=True, then=F("expires_at")), default=F("lot__expires_at"), output_field=DateTimeField()
            ),
        )
        .values(
            issue_month=TruncMonth("issued", tzinfo=UTC, output_field=DateTimeField()),
            expiry_month=TruncMonth("expires", tzinfo=UTC, output_field=DateTimeField()),
        )
        .annotate(points=Sum("points"))
        .order_by()
    )
    issued_spendable: dict[date | None, int] = defaultdict(int)
    expiring_spendable: dict[date | None, int] = defaultdict(int)
    for group in lot_groups:
        issued_spendable[_month(group["issue_month"])] += group["points"]
        expiring_spendable[_month(group["expiry_month"])] += group["points"]

    # Pending points by the day they were earned (the purchase's, for the confirmations and cancellations that
    # move them later): few days, since pending points wait only for the return window.
    pending_days = (
        entries.filter(bucket=Bucket.PENDING)
        .annotate(issued=Coalesce("purchase__created_at", "created_at"))
        .values(day=TruncDate("issued", tzinfo=UTC))
        .annotate(points=Sum("points"))
        .order_by()
    )
    issued_pending: dict[date | None, int] = defaultdict(int)
    expiring_pending: dict[date | None, int] = defaultdict(int)
    for day_group in pending_days:
        day, points = day_group["day"], day_group["points"]
        if not points:
            continue
        issued_pending[day.replace(day=1)] += points
        if program.points_expiry_days is None:
            expiring_pending[None] += points
        else:
            expires = day + timedelta(days=program.pending_days + program.points_expiry_days)
            expiring_pending[expires.replace(day=1)] += points

    window_start = cutoff - timedelta(days=breakage_window_days)
    history = entries.filter(created_at__gte=window_start, kind__in=(Kind.EXPIRE, Kind.BURN)).aggregate(
        expired=Coalesce(Sum("points", filter=Q(kind=Kind.EXPIRE)), 0),
        redeemed=Coalesce(Sum("points", filter=Q(kind=Kind.BURN)), 0),
    )
    owed = -totals["owed"]
    return PointsLiability(
        program=program,
        as_of=as_of,
        cutoff=cutoff,
        spendable=totals["spendable"],
        pending=totals["pending"],
        reserved=totals["reserved"],
        owed=owed,
        by_issue_month=_rows(issued_spendable, issued_pending, owed=owed, none_label=""),
        by_expiry_month=_rows(expiring_spendable, expiring_pending, owed=owed, none_label=NEVER),
        breakage=Breakage(
            window_start=window_start,
            window_end=cutoff,
            expired=-history["expired"],
            redeemed=-history["redeemed"],
        ),
    )


def _rows(
    spendable: dict[date | None, int], pending: dict[date | None, int], *, owed: int, none_label: str
) -> list[LiabilityRow]:
    """Months in order (the undated group last, then owed points), groups that net to nothing left out."""
    months = sorted({month for month in (*spendable, *pending) if month is not None})
    rows = [
        LiabilityRow(label=month.strftime("%Y-%m"), month=month, spendable=spendable[month], pending=pending[month])
        for month in months
        if spendable[month] or pending[month]
    ]
    if spendable[None] or pending[None]:
        rows.append(LiabilityRow(label=none_label, month=None, spendable=spendable[None], pending=pending[None]))
    if owed:
        rows.append(LiabilityRow(label=OWED, month=None, spendable=-owed, pending=0))
    return rows


def liability_programs() -> list[Program]:
    """Every program, the default one first."""
    return list(Program.objects.order_by("-is_default", "code"))
