"""Two tills at the same moment, on PostgreSQL: a voucher is redeemed once and a limit is never overrun, also when an
auto-apply coupon is redeemed by its coupon code (a voucher issued and redeemed at once), and when anonymous codes
are bound to one customer by redeeming or claiming them. SQLite serialises writers, so these tests are skipped
there."""

import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from core.exceptions import ApplicationError
from loyalty.models import Voucher
from loyalty.rules.coupons import CartLine
from loyalty.services import coupon_redemptions, vouchers
from loyalty.services.coupon_redemptions import voucher_redeem
from loyalty.services.vouchers import voucher_claim, voucher_issue
from tests.loyalty.factories import CouponDefinitionFactory
from tests.loyalty.services.concurrency import in_threads
from webhooks.models import WebhookEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NOW = datetime(2026, 3, 1, 9, 10, tzinfo=UTC)


def test_two_tills_redeeming_one_voucher_at_once_exactly_one_succeeds(
    on_postgres, program, enrolled_account, coupon_definition_factory, voucher_factory
):
    # given
    customer = enrolled_account().customer
    definition = coupon_definition_factory(
        program=program, code="five-off", name="5 off", kind="amount", value=Decimal("5")
    )
    voucher = voucher_factory(definition=definition, customer=customer, now=NOW)

    def redeem(index):
        voucher_redeem(
            code=voucher.code,
            transaction_id=f"TILL{index}-0001",
            customer=customer,
            channel="pos",
            lines=[CartLine("SHIRT", Decimal("40.00"))],
            now=NOW,
        )

    # when
    results = in_threads(2, redeem)

    # then
    assert sorted(results, key=str) == [("COUPON_ALREADY_REDEEMED", 409), "ok"]
    redeemed = Voucher.objects.get(pk=voucher.pk)
    winner = results.index("ok")
    assert (redeemed.status, redeemed.redeemed_transaction_id) == ("redeemed", f"TILL{winner}-0001")
    assert redeemed.redemption_amount == Decimal("5.00")
    assert WebhookEvent.objects.filter(type="coupon.redeemed").count() == 1


def test_concurrent_issues_never_overrun_the_total_limit(on_postgres, program, coupon_definition_factory):
    # given
    definition = coupon_definition_factory(
        program=program, code="last-one", name="Last one", kind="amount", value=Decimal("5"), limit_total=1
    )

    # when
    results = in_threads(4, lambda _index: voucher_issue(definition=definition, now=NOW))

    # then
    assert sorted(results, key=str) == [("COUPON_LIMIT_REACHED", 409)] * 3 + ["ok"]
    assert Voucher.objects.filter(definition=definition).count() == 1


def _auto_apply_coupon(program, **limits):
    return CouponDefinitionFactory(
        program=program, code="gold-10", name="Gold 10", kind="percent", value=Decimal("10"), auto_apply=True, **limits
    )


def _redeem_coupon_code(customer, transaction_id):
    return voucher_redeem(
        code="gold-10",
        transaction_id=transaction_id,
        customer=customer,
        channel="scan_and_go",
        lines=[CartLine("SHIRT", Decimal("40.00"))],
        now=NOW,
    )


def test_two_tills_redeeming_an_auto_apply_coupon_once_per_customer_exactly_one_succeeds(
    on_postgres, program, enrolled_account
):
    # given
    customer = enrolled_account().customer
    definition = _auto_apply_coupon(program, limit_per_customer=1)

    # when
    results = in_threads(2, lambda index: _redeem_coupon_code(customer, f"TILL{index}-0001"))

    # then
    assert sorted(results, key=str) == [("COUPON_NOT_ELIGIBLE", 422), "ok"]
    [voucher] = Voucher.objects.filter(definition=definition)
    winner = results.index("ok")
    assert (voucher.customer_id, voucher.status, voucher.redeemed_transaction_id) == (
        customer.pk,
        "redeemed",
        f"TILL{winner}-0001",
    )
    assert voucher.redemption_amount == Decimal("4.00")
    assert WebhookEvent.objects.filter(type="coupon.issued").count() == 1
    assert WebhookEvent.objects.filter(type="coupon.redeemed").count() == 1


def test_a_till_retrying_an_auto_apply_redemption_at_once_gets_one_voucher(on_postgres, program, enrolled_account):
    # given: no per-customer limit, so that only the transaction id keeps the retry from a second voucher
    customer = enrolled_account().customer
    definition = _auto_apply_coupon(program)
    codes = []

    # when
    results = in_threads(3, lambda _index: codes.append(_redeem_coupon_code(customer, "TILL1-0001").code))

    # then
    assert results == ["ok"] * 3
    [voucher] = Voucher.objects.filter(definition=definition)
    assert codes == [voucher.code] * 3
    assert WebhookEvent.objects.filter(type="coupon.redeemed").count() == 1


def test_concurrent_auto_apply_redemptions_never_overrun_the_total_limit(on_postgres, program, enrolled_account):
    # given
    customers = [enrolled_account().customer for _ in range(4)]
    definition = _auto_apply_coupon(program, limit_total=1)

    # when
    results = in_threads(4, lambda index: _redeem_coupon_code(customers[index], f"TILL{index}-0001"))

    # then
    assert sorted(results, key=str) == [("COUPON_NOT_ELIGIBLE", 422)] * 3 + ["ok"]
    assert Voucher.objects.filter(definition=definition).count() == 1


def _hold_the_counts_open(monkeypatch):
    """Make every per-customer count of a redemption or claim wait a moment before it reads, so that the two threads
    are both inside their count at once unless a lock keeps the second one out: the race, made certain."""
    for module, name in ((coupon_redemptions, "_check"), (vouchers, "vouchers_live_count")):
        original = getattr(module, name)

        def slow(*args, _original=original, **kwargs):
            time.sleep(0.3)
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, name, slow)


def _redeem_anonymous(code, customer, transaction_id):
    return voucher_redeem(
        code=code,
        transaction_id=transaction_id,
        customer=customer,
        channel="pos",
        lines=[CartLine("SHIRT", Decimal("40.00"))],
        now=NOW,
    )


def test_one_customer_redeeming_two_anonymous_codes_at_once_with_one_use_left_gets_one(
    on_postgres, program, enrolled_account, monkeypatch, coupon_definition_factory, voucher_factory
):
    # given: two anonymous codes of a coupon once per customer, taken to two tills by the same customer
    customer = enrolled_account().customer
    definition = coupon_definition_factory(
        program=program, code="once", name="Once", kind="amount", value=Decimal("5"), limit_per_customer=1
    )
    codes = [voucher_factory(definition=definition, now=NOW).code for _ in range(2)]
    _hold_the_counts_open(monkeypatch)
    refusals = []

    def redeem(index):
        try:
            _redeem_anonymous(codes[index], customer, f"TILL{index}-0001")
        except ApplicationError as error:
            refusals.append(error.extra)
            raise

    # when
    results = in_threads(2, redeem)

    # then
    assert sorted(results, key=str) == [("COUPON_NOT_ELIGIBLE", 422), "ok"]
    assert refusals == [{"reasons": ["customer_limit_reached"]}]
    winner = results.index("ok")
    vouchers = {voucher.code: voucher for voucher in Voucher.objects.filter(definition=definition)}
    won, lost = vouchers[codes[winner]], vouchers[codes[1 - winner]]
    assert (won.customer_id, won.status, won.redeemed_transaction_id) == (customer.pk, "redeemed", f"TILL{winner}-0001")
    assert (lost.customer_id, lost.status, lost.redeemed_transaction_id) == (None, "issued", "")
    assert WebhookEvent.objects.filter(type="coupon.redeemed").count() == 1


def test_a_claim_racing_a_redemption_of_another_anonymous_code_for_one_customer_gets_one(
    on_postgres, program, enrolled_account, monkeypatch, coupon_definition_factory, voucher_factory
):
    # given
    customer = enrolled_account().customer
    definition = coupon_definition_factory(
        program=program, code="once", name="Once", kind="amount", value=Decimal("5"), limit_per_customer=1
    )
    claimed_code, redeemed_code = (voucher_factory(definition=definition, now=NOW).code for _ in range(2))
    _hold_the_counts_open(monkeypatch)

    def claim_or_redeem(index):
        if index == 0:
            voucher_claim(code=claimed_code, customer=customer, now=NOW)
        else:
            _redeem_anonymous(redeemed_code, customer, "TILL1-0001")

    # when
    results = in_threads(2, claim_or_redeem)

    # then: whichever came first binds its code, and the other is refused by the limit
    bound = list(Voucher.objects.filter(definition=definition, customer=customer).values_list("code", "status"))
    claimed_count = WebhookEvent.objects.filter(type="coupon.claimed").count()
    redeemed_count = WebhookEvent.objects.filter(type="coupon.redeemed").count()
    if results[0] == "ok":
        assert results == ["ok", ("COUPON_NOT_ELIGIBLE", 422)]
        assert bound == [(claimed_code, "claimed")]
        assert (claimed_count, redeemed_count) == (1, 0)
    else:
        assert results == [("COUPON_LIMIT_REACHED", 409), "ok"]
        assert bound == [(redeemed_code, "redeemed")]
        assert (claimed_count, redeemed_count) == (0, 1)
