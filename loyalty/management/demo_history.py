"""Twelve weeks of loyalty activity for the demo (seed_demo), recorded through the same services the tills, the
loyalty API and the periodic jobs call, each at its own moment in the past: the services read the time from the
clock (timezone.now(), auto_now_add), so every step runs inside time_machine.travel() to its moment. The ledger,
purchases, vouchers and tier changes therefore carry their real dates, and the dashboard's weekly charts, the
clienteling home and the customer pages show a program with a history on the first `make run`.

What happens, day by day over HISTORY_DAYS up to now, for the enrolled demo customers (seeded random, so every run
on an empty database writes the same history):

- checkouts at the customer's home store (sometimes another store, sometimes the web shop), at the till or with
  Scan & Go, regulars more often than others; some burn points, some redeem a voucher;
- refunds of a few purchases some days later, in full or in part;
- the periodic jobs every night: pending points confirmed (when the program has a return window), points expired
  after DEMO_POINTS_EXPIRY_DAYS, vouchers expired;
- tier upgrades as members pass the Silver and Gold thresholds (tier_recalculate, at checkout or confirmation);
- vouchers: a welcome coupon for each new member, a "$5 off" campaign every other Monday with a three-week expiry.

The history is written once: a database that has demo purchases (transaction ids starting HISTORY_PREFIX) gets
nothing more, so running seed_demo again changes nothing.
"""

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

import time_machine
from django.db.models import Q
from django.utils import timezone

from core.exceptions import ApplicationError
from crm.models import Customer, Store
from loyalty.models import CouponDefinition, LoyaltyAccount, Program, Purchase, Tier, Voucher
from loyalty.rules.coupons import CartLine
from loyalty.rules.earning import PurchaseLine
from loyalty.services.coupon_definitions import coupon_definition_create
from loyalty.services.coupon_redemptions import voucher_redeem
from loyalty.services.jobs import accounts_expire_points_due, purchases_confirm_due
from loyalty.services.purchases import purchase_checkout, purchase_refund, request_fingerprint
from loyalty.services.vouchers import voucher_issue, vouchers_expire_due

HISTORY_WEEKS = 12
HISTORY_DAYS = HISTORY_WEEKS * 7
HISTORY_PREFIX = "DEMO-T"
HISTORY_SEED = 20250102
# The demo program's points expire after 60 days, so that points of the first weeks expire in the last ones and the
# expiry chart has something to show. (No return window: confirming every purchase later would cost the seed a
# third more time for no chart.)
DEMO_POINTS_EXPIRY_DAYS = 60
# (rank, code, name, qualifying points, earn multiplier) above the program's entry tier.
DEMO_TIERS = (
    (1, "silver", "Silver", Decimal("400"), Decimal("1.25")),
    (2, "gold", "Gold", Decimal("1000"), Decimal("1.5")),
)
WELCOME_COUPON = ("demo-welcome-10", "Welcome: 10 % off", CouponDefinition.Kind.PERCENT, Decimal("10"))
CAMPAIGN_COUPON = ("demo-5-off", "$5 off your next visit", CouponDefinition.Kind.AMOUNT, Decimal("5"))
CAMPAIGN_EVERY_DAYS = 14
CAMPAIGN_SIZE = 12
CAMPAIGN_VALID_DAYS = 21
# Chance that a member shops on a given day; regulars (a fifth of the members) shop four times as often.
DAILY_PURCHASE_CHANCE = 0.045
REGULAR_SHARE = 0.2
REGULAR_FACTOR = 4
REFUND_CHANCE = 0.06
BURN_CHANCE = 0.3
REDEEM_CHANCE = 0.6
SCAN_AND_GO_SHARE = 0.25
WEB_SHARE = 0.15
AWAY_STORE_SHARE = 0.1
PRODUCTS = ("SKU-TEE", "SKU-JEANS", "SKU-SNEAKER", "SKU-JACKET", "SKU-SOCKS", "SKU-BAG", "SKU-SCARF", "SKU-CAP")


@dataclass
class _Member:
    account: LoyaltyAccount
    customer: Customer
    home_store: Store | None
    joined: datetime
    is_regular: bool


@dataclass(frozen=True)
class HistorySummary:
    purchases: int
    refunds: int
    redemptions: int
    vouchers_issued: int

    def line(self) -> str:
        return (
            f"{self.purchases} purchases, {self.refunds} refunds, {self.vouchers_issued} vouchers issued, "
            f"{self.redemptions} redeemed over {HISTORY_WEEKS} weeks"
        )


def history_is_present() -> bool:
    return Purchase.objects.filter(transaction_id__startswith=HISTORY_PREFIX).exists()


def sign_up_moment(number: int, now: datetime) -> datetime:
    """When demo customer `number` signed up: spread over the twelve weeks (the last few today), the same moment
    for the same customer on every run started the same day."""
    rng = random.Random(HISTORY_SEED + number)  # noqa: S311 - demo data, not secrets
    days_ago = rng.choices((rng.randrange(1, HISTORY_DAYS), 0), weights=(97, 3))[0]
    day = timezone.localdate(now) - timedelta(days=days_ago)
    moment = timezone.make_aware(datetime.combine(day, time(9))) + timedelta(minutes=rng.randrange(11 * 60))
    return min(moment, now - timedelta(minutes=1))


def sign_up_travel(number: int, now: datetime) -> time_machine.travel:
    """Travel to the moment demo customer `number` signed up, for the sign-up."""
    return time_machine.travel(sign_up_moment(number, now), tick=False)


def _configure_program(program: Program) -> Program:
    """The program's settings and tiers are configuration the admin saves through its stock forms (no service
    owns them): saved the same way, validated first."""
    program.points_expiry_days = DEMO_POINTS_EXPIRY_DAYS
    program.full_clean()
    program.save(update_fields=["points_expiry_days", "updated_at"])
    for rank, code, name, threshold, multiplier in DEMO_TIERS:
        if not program.tiers.filter(code=code).exists():
            tier = Tier(program=program, rank=rank, code=code, name=name, title=name, threshold=threshold)
            tier.earn_multiplier = multiplier
            tier.full_clean()
            tier.save()
    return program


def _coupon(program: Program, spec: tuple[str, str, str, Decimal], valid_from: datetime) -> CouponDefinition:
    code, name, kind, value = spec
    existing = CouponDefinition.objects.filter(program=program, code=code).first()
    if existing is not None:
        return existing
    return coupon_definition_create(
        program=program, code=code, name=name, kind=kind, value=value, valid_from=valid_from, limit_per_customer=None
    )


def _day_moment(day: datetime, rng: random.Random, now: datetime) -> datetime:
    return min(day + timedelta(hours=9, minutes=rng.randrange(11 * 60)), now - timedelta(minutes=1))


class _History:
    def __init__(self, program: Program, now: datetime) -> None:
        self.program = program
        self.now = now
        self.rng = random.Random(HISTORY_SEED)  # noqa: S311 - demo data, not secrets
        self.stores = list(Store.objects.order_by("code"))
        self.sequence = 0
        self.purchases = self.refunds = self.redemptions = self.vouchers_issued = 0
        self.refunds_due: dict[int, list[tuple[Purchase, Decimal | None]]] = {}

    def members(self, customer_pks: list[int]) -> list[_Member]:
        accounts = (
            LoyaltyAccount.objects.filter(program=self.program, customer_id__in=customer_pks)
            .select_related("customer__created_store", "program")
            .order_by("customer__alternate_customer_id")
        )
        return [
            _Member(
                account=account,
                customer=account.customer,
                home_store=account.customer.created_store,
                joined=account.enrolled_at or account.created_at,
                is_regular=self.rng.random() < REGULAR_SHARE,
            )
            for account in accounts
        ]

    def run(self, members: list[_Member]) -> HistorySummary:
        start_day = timezone.make_aware(
            datetime.combine(timezone.localdate(self.now) - timedelta(days=HISTORY_DAYS), time.min)
        )
        welcome = _coupon(self.program, WELCOME_COUPON, start_day)
        campaign = _coupon(self.program, CAMPAIGN_COUPON, start_day)
        welcomed: set[int] = set()
        for day_index in range(HISTORY_DAYS + 1):
            day = start_day + timedelta(days=day_index)
            if day > self.now:
                break
            self._nightly_jobs(day + timedelta(hours=2))
            for member in members:
                if member.account.pk not in welcomed and member.joined < day + timedelta(days=1):
                    welcomed.add(member.account.pk)
                    self._issue(welcome, member, max(member.joined, day) + timedelta(minutes=5), expires_at=None)
            if day_index % CAMPAIGN_EVERY_DAYS == 7:
                joined = [member for member in members if member.joined < day]
                for member in self.rng.sample(joined, min(CAMPAIGN_SIZE, len(joined))):
                    moment = day + timedelta(hours=8)
                    self._issue(campaign, member, moment, expires_at=moment + timedelta(days=CAMPAIGN_VALID_DAYS))
            for purchase, amount in self.refunds_due.pop(day_index, []):
                self._refund(purchase, amount, _day_moment(day, self.rng, self.now))
            for member in members:
                chance = DAILY_PURCHASE_CHANCE * (REGULAR_FACTOR if member.is_regular else 1)
                if self.rng.random() < chance:
                    moment = _day_moment(day, self.rng, self.now)
                    if moment > member.joined:
                        self._checkout(member, moment, day_index)
        return HistorySummary(
            purchases=self.purchases,
            refunds=self.refunds,
            redemptions=self.redemptions,
            vouchers_issued=self.vouchers_issued,
        )

    def _nightly_jobs(self, moment: datetime) -> None:
        """What beat runs every night (setup_periodic_tasks), at that night."""
        if moment > self.now:
            return
        with time_machine.travel(moment, tick=False):
            purchases_confirm_due(now=moment, limit=100_000)
            accounts_expire_points_due(now=moment, limit=100_000)
            vouchers_expire_due(now=moment, batch_size=100_000)

    def _issue(
        self, definition: CouponDefinition, member: _Member, moment: datetime, *, expires_at: datetime | None
    ) -> None:
        if moment > self.now:
            return
        with time_machine.travel(moment, tick=False):
            try:
                voucher_issue(definition=definition, customer=member.customer, expires_at=expires_at, now=moment)
            except ApplicationError:
                return  # e.g. the campaign coupon's per-customer limit: that member has one already
        self.vouchers_issued += 1

    def _where(self, member: _Member) -> tuple[Store | None, str]:
        draw = self.rng.random()
        if draw < WEB_SHARE or member.home_store is None:
            return None, "web"
        store = member.home_store
        if draw < WEB_SHARE + AWAY_STORE_SHARE:
            store = self.rng.choice(self.stores)
        channel = "scan_and_go" if self.rng.random() < SCAN_AND_GO_SHARE else "pos"
        return store, channel

    def _checkout(self, member: _Member, moment: datetime, day_index: int) -> None:
        self.sequence += 1
        transaction_id = f"{HISTORY_PREFIX}{self.sequence:06d}"
        store, channel = self._where(member)
        product = self.rng.choice(PRODUCTS)
        gross = Decimal(self.rng.randrange(1500, 22000)) / 100
        with time_machine.travel(moment, tick=False):
            account = LoyaltyAccount.objects.get(pk=member.account.pk)
            discount = self._redeem_one(member, transaction_id, channel, store, product, gross, moment)
            total = max(gross - discount, Decimal("0.00"))
            burned = 0
            if account.points_balance >= 200 and self.rng.random() < BURN_CHANCE:
                # At most half the basket, in hundreds of points, at the program's burn value.
                affordable = int(total / 2 / self.program.burn_value)
                burned = min(account.points_balance, affordable) // 100 * 100
            payload = {"transaction_id": transaction_id, "total": str(total), "points_burned": burned}
            result = purchase_checkout(
                account=account,
                transaction_id=transaction_id,
                total=total,
                lines=[PurchaseLine(product_id=product, subtotal=total)],
                items=[{"productId": product, "quantity": 1, "price": str(total)}],
                points_burned=burned,
                fingerprint=request_fingerprint(payload),
                purchased_at=moment,
                store=store,
                channel=channel,
            )
        self.purchases += 1
        if self.rng.random() < REFUND_CHANCE:
            amount = None if self.rng.random() < 0.5 else (total / 2).quantize(Decimal("0.01"))
            due = day_index + self.rng.randrange(2, 10)
            self.refunds_due.setdefault(due, []).append((result.purchase, amount))

    def _redeem_one(
        self,
        member: _Member,
        transaction_id: str,
        channel: str,
        store: Store | None,
        product: str,
        gross: Decimal,
        moment: datetime,
    ) -> Decimal:
        """Redeem one of the member's usable vouchers in this basket, sometimes; the discount it gave."""
        if self.rng.random() >= REDEEM_CHANCE:
            return Decimal("0")
        voucher = (
            Voucher.objects.filter(customer=member.customer, status=Voucher.Status.ISSUED)
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=moment))
            .order_by("issued_at", "id")
            .first()
        )
        if voucher is None:
            return Decimal("0")
        try:
            redeemed = voucher_redeem(
                code=voucher.code,
                transaction_id=transaction_id,
                customer=member.customer,
                channel=channel,
                lines=[CartLine(product_id=product, unit_price=gross)],
                store_code=store.code if store is not None else None,
                now=moment,
            )
        except ApplicationError:
            return Decimal("0")  # not usable on this channel or basket: the till would simply not apply it
        self.redemptions += 1
        return redeemed.redemption_amount or Decimal("0")

    def _refund(self, purchase: Purchase, amount: Decimal | None, moment: datetime) -> None:
        if moment > self.now:
            return
        with time_machine.travel(moment, tick=False):
            try:
                purchase_refund(purchase=Purchase.objects.get(pk=purchase.pk), amount=amount)
            except ApplicationError:
                return
        self.refunds += 1


def demo_history_seed(*, program: Program, customer_pks: list[int], now: datetime) -> HistorySummary | None:
    """Write the demo history for the enrolled customers among `customer_pks`, or nothing (None) when a history
    is present already. Runs in the caller's transaction."""
    if history_is_present():
        return None
    program = _configure_program(program)
    history = _History(program, now)
    return history.run(history.members(customer_pks))
