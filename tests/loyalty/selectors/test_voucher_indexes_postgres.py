"""On PostgreSQL, the two partial indexes on redeemed vouchers are what their queries use, proven with EXPLAIN on a
few thousand vouchers: voucher_redeemed_at for the dashboard's redemptions per coupon in a period, and
voucher_redeemed_transaction for auto_apply_coupon_redeem's replay check (a coupon's voucher redeemed in a
transaction, whoever's)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from loyalty.models import CouponDefinition, Program, Voucher
from loyalty.selectors.dashboard import DashboardPeriod, dashboard_redemptions_per_coupon

pytestmark = pytest.mark.postgres

VOUCHER_COUNT = 6000
REDEEMED_EVERY = 3  # a third redeemed, spread over two years; the rest issued
START = datetime(2024, 3, 1, tzinfo=UTC)


@pytest.fixture
def six_thousand_vouchers(on_postgres, db, coupon_definition_factory):
    program = Program.objects.get(is_default=True)
    coupons = [
        coupon_definition_factory(
            program=program, code=f"c{index}", name=f"C{index}", kind=CouponDefinition.Kind.AMOUNT, value=Decimal("5")
        )
        for index in range(3)
    ]
    vouchers = []
    for index in range(VOUCHER_COUNT):
        issued_at = START + timedelta(hours=3 * index)
        redeemed = index % REDEEMED_EVERY == 0
        vouchers.append(
            Voucher(
                definition=coupons[index % 3],
                code=f"V-{index:06d}",
                normalised_code=f"V{index:06d}",
                status=Voucher.Status.REDEEMED if redeemed else Voucher.Status.ISSUED,
                origin=Voucher.Origin.AUTO_APPLY if redeemed else Voucher.Origin.BATCH,
                issued_at=issued_at,
                redeemed_at=issued_at + timedelta(hours=1) if redeemed else None,
                redeemed_transaction_id=f"T-{index:06d}" if redeemed else "",
                redemption_amount=Decimal("5") if redeemed else None,
            )
        )
    Voucher.objects.bulk_create(vouchers, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE loyalty_voucher; ANALYZE loyalty_coupondefinition")
    return program, coupons


def test_the_dashboard_counts_redemptions_of_a_period_from_the_redeemed_at_index(six_thousand_vouchers):
    # given: one week, 19 of the 2,000 redeemed vouchers
    program, _coupons = six_thousand_vouchers
    start = START + timedelta(days=100)
    period = DashboardPeriod(weeks=1, start=start, end=start + timedelta(days=7))

    # when: the selector's own query, then its plan
    with CaptureQueriesContext(connection) as queries:
        rows = dashboard_redemptions_per_coupon(program=program, period=period)
    [query] = queries.captured_queries
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + query["sql"])
        plan = "\n".join(line for (line,) in cursor.fetchall())

    # then
    assert sum(row.redemptions for row in rows) == 19
    assert "voucher_redeemed_at" in plan
    assert "Seq Scan on loyalty_voucher" not in plan


def test_the_auto_apply_replay_check_finds_the_transaction_from_its_index(six_thousand_vouchers):
    # given
    _program, coupons = six_thousand_vouchers
    query = Voucher.objects.filter(
        definition=coupons[0], status=Voucher.Status.REDEEMED, redeemed_transaction_id="T-000300"
    ).order_by("pk")[:1]

    # when
    plan = query.explain()

    # then
    assert [voucher.code for voucher in query] == ["V-000300"]
    assert "voucher_redeemed_transaction" in plan
    assert "Seq Scan on loyalty_voucher" not in plan
