"""Auto-apply coupons redeemed by their coupon code (loyalty/services/coupon_redemptions.py): Scan & Go devices and
shopper sessions offer an auto-apply coupon's own code (CouponDefinition.code) to a customer who holds no voucher of
it; validating it answers for the voucher that redeeming it issues, and redeeming it issues and redeems that
voucher."""

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from core.exceptions import ApplicationError
from loyalty.coupon_codes import code_normalise
from loyalty.error_codes import LoyaltyErrorCode
from loyalty.models import CouponDefinition, LoyaltyAccount, Program, Tier, Voucher
from loyalty.rules.coupons import CartLine
from loyalty.services.coupon_redemptions import VoucherValidation, voucher_redeem, voucher_validate
from loyalty.services.vouchers import voucher_cancel, voucher_issue
from webhooks.models import WebhookEvent

NOW = datetime(2026, 3, 1, 9, 10, tzinfo=UTC)
LATER = NOW + timedelta(minutes=10)
UNTIL = datetime(2026, 5, 16, 21, 59, tzinfo=UTC)
CART = [CartLine("SHIRT", Decimal("40.00")), CartLine("SOCKS", Decimal("9.99"), quantity=2)]  # 59.98


@pytest.fixture
def gold(program):
    return Tier.objects.create(program=program, rank=1, code="gold", name="Gold", threshold=Decimal("1000"))


@pytest.fixture
def gold_ten(program, gold, coupon_definition_factory):
    """The coupon Scan & Go offers gold members without a voucher: 10% off, once per customer."""
    return coupon_definition_factory(
        program=program,
        code="gold-10",
        name="Gold 10%",
        kind=CouponDefinition.Kind.PERCENT,
        value=Decimal("10"),
        valid_until=UNTIL,
        auto_apply=True,
        eligible_tiers=[gold],
        limit_per_customer=1,
        code_pattern="GOLD-{code}",
    )


@pytest.fixture
def member(enrolled_account, gold):
    account = enrolled_account()
    LoyaltyAccount.objects.filter(pk=account.pk).update(tier=gold)
    return account.customer


def _events():
    events = WebhookEvent.objects.filter(type__startswith="coupon.").order_by("id")
    return [json.loads(event.body) for event in events]


def _written():
    vouchers = Voucher.objects.order_by("pk").values_list(
        "code", "status", "customer_id", "redeemed_transaction_id", "redemption_amount"
    )
    return list(vouchers), WebhookEvent.objects.filter(type__startswith="coupon.").count()


def _error(call, **kwargs):
    with pytest.raises(ApplicationError) as raised:
        call(**kwargs)
    return raised.value


def _redeem(customer, transaction_id="SF01-0042-10001", code="gold-10", store=None, **changes):
    arguments = {
        "code": code,
        "transaction_id": transaction_id,
        "customer": customer,
        "channel": "scan_and_go",
        "lines": CART,
        "store_code": store.code if store is not None else None,
        "now": LATER,
        **changes,
    }
    return voucher_redeem(**arguments)


def _validate(customer, code="gold-10", **changes):
    return voucher_validate(
        **{"code": code, "customer": customer, "channel": "scan_and_go", "lines": CART, "now": NOW, **changes}
    )


# ------------------------------------------------------------------------------------------------- validate


def test_validate_answers_for_the_voucher_redeeming_would_issue_and_writes_nothing(gold_ten, member):
    # when
    result = _validate(member)

    # then
    assert result == VoucherValidation(eligible=True, reasons=[], discount=Decimal("6.00"))
    assert _written() == ([], 0)


def test_validate_lists_every_reason_the_coupon_does_not_apply(gold_ten, customer_factory, loyalty_account_factory):
    # given: a member without a tier, a web-only coupon with a minimum basket that has not started yet
    CouponDefinition.objects.filter(pk=gold_ten.pk).update(
        channels=["web"], min_basket=Decimal("60.00"), valid_from=NOW + timedelta(days=1)
    )
    guest_tier = loyalty_account_factory().customer

    # when
    result = _validate(guest_tier)

    # then
    assert result == VoucherValidation(
        eligible=False, reasons=["not_yet_valid", "channel_not_allowed", "tier_not_eligible", "basket_below_minimum"]
    )


def test_validate_counts_every_live_voucher_of_the_coupon_against_the_limits(
    gold_ten, member, enrolled_account, gold, voucher_factory
):
    # given: the member holds an unredeemed voucher of the coupon (limit 1 per customer); the coupon's total is 2
    CouponDefinition.objects.filter(pk=gold_ten.pk).update(limit_total=2)
    voucher_factory(definition=gold_ten, customer=member, now=NOW)
    other = enrolled_account()
    LoyaltyAccount.objects.filter(pk=other.pk).update(tier=gold)

    # when
    mine = _validate(member)
    theirs = _validate(other.customer)
    voucher_issue(definition=gold_ten, now=NOW)  # an anonymous code takes the last place
    theirs_now = _validate(other.customer)

    # then
    assert mine == VoucherValidation(eligible=False, reasons=["customer_limit_reached"])
    assert theirs == VoucherValidation(eligible=True, reasons=[], discount=Decimal("6.00"))
    assert theirs_now == VoucherValidation(eligible=False, reasons=["total_limit_reached"])


def test_validate_without_a_customer_needs_one(gold_ten):
    # when
    result = _validate(None)

    # then
    assert result == VoucherValidation(eligible=False, reasons=["customer_required"])
    assert _written() == ([], 0)


def test_validate_of_a_coupon_code_that_is_not_auto_apply_is_not_found(gold_ten, member):
    # given
    CouponDefinition.objects.filter(pk=gold_ten.pk).update(auto_apply=False)

    # when
    with_customer = _error(_validate, customer=member)
    without = _error(_validate, customer=None)

    # then
    assert (with_customer.code, with_customer.status) == (LoyaltyErrorCode.COUPON_NOT_FOUND, 404)
    assert (without.code, without.status) == (LoyaltyErrorCode.COUPON_NOT_FOUND, 404)


# ------------------------------------------------------------------------------------------------- redeem


def test_redeem_issues_the_customer_a_voucher_and_redeems_it(gold_ten, member, store_factory):
    # given
    store = store_factory(code="SF01")

    # when
    voucher = _redeem(member, store=store)

    # then
    assert re.fullmatch(r"AUTO-GOLD-(\w{4}-){3}\w{4}", voucher.code)
    assert (voucher.origin, voucher.batch) == (Voucher.Origin.AUTO_APPLY, None)
    assert voucher.normalised_code == code_normalise(voucher.code)
    assert (voucher.definition, voucher.customer, voucher.status) == (gold_ten, member, Voucher.Status.REDEEMED)
    assert (voucher.issued_at, voucher.claimed_at, voucher.redeemed_at, voucher.expires_at) == (
        LATER,
        None,
        LATER,
        UNTIL,
    )
    assert (voucher.redeemed_transaction_id, voucher.redemption_amount, voucher.redeemed_store) == (
        "SF01-0042-10001",
        Decimal("6.00"),
        store,
    )
    assert Voucher.objects.get() == voucher
    coupon = {
        "code": voucher.code,
        "type": "percentage",
        "value": "10",
        "name": "Gold 10%",
        "expires_at": "2026-05-16T21:59:00Z",
        "created_at": "2026-03-01T09:20:00Z",
    }
    assert [(event["type"], event["entity"]["id"], event["data"]) for event in _events()] == [
        ("coupon.issued", voucher.code, {"customer_id": member.public_id, "coupon": {**coupon, "status": "issued"}}),
        (
            "coupon.redeemed",
            voucher.code,
            {
                "customer_id": member.public_id,
                "coupon": {**coupon, "status": "redeemed"},
                "redeemed_at": "2026-03-01T09:20:00Z",
                "transaction_id": "SF01-0042-10001",
                "store": "SF01",
            },
        ),
    ]


def test_redeem_again_in_the_same_transaction_returns_the_first_and_issues_nothing(gold_ten, member):
    # given: the coupon without a per-customer limit, so that only idempotency stops a second voucher
    CouponDefinition.objects.filter(pk=gold_ten.pk).update(limit_per_customer=None)
    first = _redeem(member)
    before = _written()

    # when
    again = _redeem(member, now=LATER + timedelta(minutes=1))

    # then
    assert again == first
    assert (again.code, again.redeemed_at, again.redemption_amount) == (first.code, LATER, Decimal("6.00"))
    assert _written() == before


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"lines": [CartLine("SHIRT", Decimal("40.00"))]},
            "Transaction SF01-0042-10001 already redeemed this coupon for 6.00; this cart would give another discount.",
        ),
        ({"store": "SF02"}, "Transaction SF01-0042-10001 already redeemed this coupon at another store."),
    ],
)
def test_the_same_transaction_with_another_discount_or_store_is_409_and_issues_nothing(
    gold_ten, member, store_factory, changes, message
):
    # given: no per-customer limit, so that only the retry rule stops a second voucher
    CouponDefinition.objects.filter(pk=gold_ten.pk).update(limit_per_customer=None)
    store = store_factory(code="SF01")
    _redeem(member, store=store)
    before = _written()
    if "store" in changes:
        changes = {**changes, "store": store_factory(code=changes["store"])}

    # when
    error = _error(_redeem, customer=member, **{"store": store, **changes})

    # then
    assert (error.code, error.status, error.message, error.extra) == (
        LoyaltyErrorCode.TX_ALREADY_EXISTS,
        409,
        message,
        {"field": "transaction_id", "discount": "6.00"},
    )
    assert _written() == before


@pytest.fixture
def other_member(enrolled_account, gold):
    account = enrolled_account()
    LoyaltyAccount.objects.filter(pk=account.pk).update(tier=gold)
    return account.customer


def test_the_same_transaction_from_another_customer_is_already_redeemed_and_writes_nothing(
    gold_ten, member, other_member
):
    # given: no limit per customer or in total, so that only the replay rule stops the second voucher
    CouponDefinition.objects.filter(pk=gold_ten.pk).update(limit_per_customer=None)
    first = _redeem(member)
    before = _written()

    # when
    error = _error(_redeem, customer=other_member, now=LATER + timedelta(minutes=1))

    # then
    assert (error.code, error.status, error.message) == (
        LoyaltyErrorCode.COUPON_ALREADY_REDEEMED,
        409,
        "The coupon was already redeemed.",
    )
    assert _written() == before
    assert list(Voucher.objects.values_list("pk", "customer")) == [(first.pk, member.pk)]


def test_the_same_transaction_after_a_voucher_code_of_the_coupon_another_customer_redeemed_is_refused(
    gold_ten, member, other_member, voucher_factory
):
    # given: the other member redeemed a voucher of the coupon (held, by its own code) in the transaction
    held = voucher_factory(definition=gold_ten, customer=other_member, now=NOW)
    _redeem(other_member, code=held.code)
    before = _written()

    # when
    error = _error(_redeem, customer=member)

    # then
    assert (error.code, error.status) == (LoyaltyErrorCode.COUPON_ALREADY_REDEEMED, 409)
    assert _written() == before


def test_the_same_transaction_id_for_another_coupon_is_not_a_replay(
    gold_ten, member, other_member, program, gold, coupon_definition_factory
):
    # given
    coupon_definition_factory(
        program=program,
        code="gold-5",
        name="Gold 5%",
        kind=CouponDefinition.Kind.PERCENT,
        value=Decimal("5"),
        auto_apply=True,
        eligible_tiers=[gold],
    )
    _redeem(member)

    # when
    voucher = _redeem(other_member, code="gold-5")

    # then
    assert (voucher.customer, voucher.definition.code, voucher.redemption_amount) == (
        other_member,
        "gold-5",
        Decimal("3.00"),
    )


def test_redeem_in_another_transaction_is_refused_by_the_per_customer_limit_and_writes_nothing(gold_ten, member):
    # given
    _redeem(member)
    before = _written()

    # when
    error = _error(_redeem, customer=member, transaction_id="SF02-0001-20002")

    # then
    assert (error.code, error.status, error.extra) == (
        LoyaltyErrorCode.COUPON_NOT_ELIGIBLE,
        422,
        {"reasons": ["customer_limit_reached"]},
    )
    assert _written() == before


def test_without_a_per_customer_limit_each_transaction_gets_its_own_voucher(gold_ten, member):
    # given
    CouponDefinition.objects.filter(pk=gold_ten.pk).update(limit_per_customer=None)
    first = _redeem(member)

    # when
    second = _redeem(member, transaction_id="SF02-0001-20002")

    # then
    assert second.pk != first.pk
    assert Voucher.objects.filter(customer=member, status="redeemed").count() == 2


def test_the_total_limit_holds_across_customers(gold_ten, member, enrolled_account, gold):
    # given
    CouponDefinition.objects.filter(pk=gold_ten.pk).update(limit_total=1)
    other = enrolled_account()
    LoyaltyAccount.objects.filter(pk=other.pk).update(tier=gold)
    _redeem(member)
    before = _written()

    # when
    error = _error(_redeem, customer=other.customer, transaction_id="SF02-0001-20002")

    # then
    assert (error.code, error.extra) == (LoyaltyErrorCode.COUPON_NOT_ELIGIBLE, {"reasons": ["total_limit_reached"]})
    assert _written() == before


def test_a_cancelled_voucher_of_the_coupon_frees_its_place(gold_ten, member, voucher_factory):
    # given
    held = voucher_factory(definition=gold_ten, customer=member, now=NOW)
    voucher_cancel(code=held.code, now=NOW)

    # when
    voucher = _redeem(member)

    # then
    assert (voucher.status, voucher.redemption_amount) == (Voucher.Status.REDEEMED, Decimal("6.00"))


@pytest.mark.parametrize(
    ("changes", "reasons"),
    [
        ({"is_active": False}, ["inactive"]),
        ({"valid_until": LATER}, ["ended"]),
        ({"channels": ["pos"]}, ["channel_not_allowed"]),
        ({"min_basket": Decimal("100")}, ["basket_below_minimum"]),
    ],
)
def test_a_refused_redemption_writes_nothing(gold_ten, member, changes, reasons):
    # given
    CouponDefinition.objects.filter(pk=gold_ten.pk).update(**changes)

    # when
    error = _error(_redeem, customer=member)

    # then
    assert (error.code, error.status, error.extra) == (LoyaltyErrorCode.COUPON_NOT_ELIGIBLE, 422, {"reasons": reasons})
    assert _written() == ([], 0)


def test_a_member_of_another_tier_is_refused(gold_ten, enrolled_account):
    # given: a member without the gold tier
    customer = enrolled_account().customer

    # when
    error = _error(_redeem, customer=customer)

    # then
    assert (error.code, error.extra) == (LoyaltyErrorCode.COUPON_NOT_ELIGIBLE, {"reasons": ["tier_not_eligible"]})
    assert _written() == ([], 0)


def test_a_free_item_coupon_needs_its_item_in_the_basket(program, member, coupon_definition_factory):
    # given
    coupon_definition_factory(
        program=program, code="free-mug", name="Free mug", kind="free_item", product_id="MUG", auto_apply=True
    )

    # when
    error = _error(_redeem, customer=member, code="free-mug")
    voucher = _redeem(member, code="free-mug", lines=[*CART, CartLine("MUG", Decimal("7.50"))])

    # then
    assert error.extra == {"reasons": ["item_not_in_basket"]}
    assert (voucher.status, voucher.redemption_amount) == (Voucher.Status.REDEEMED, Decimal("7.50"))


def test_redeem_without_a_customer_is_refused_and_writes_nothing(gold_ten):
    # when
    error = _error(_redeem, customer=None)

    # then
    assert (error.code, error.status, error.extra) == (
        LoyaltyErrorCode.COUPON_NOT_ELIGIBLE,
        422,
        {"reasons": ["customer_required"]},
    )
    assert _written() == ([], 0)


def test_redeem_of_a_coupon_code_that_is_not_auto_apply_is_not_found_and_writes_nothing(gold_ten, member):
    # given
    CouponDefinition.objects.filter(pk=gold_ten.pk).update(auto_apply=False)

    # when
    error = _error(_redeem, customer=member)

    # then
    assert (error.code, error.status) == (LoyaltyErrorCode.COUPON_NOT_FOUND, 404)
    assert _written() == ([], 0)


def test_the_coupon_code_is_looked_for_in_the_customers_programs_only(
    gold_ten, member, customer_factory, coupon_definition_factory
):
    # given: a partner program with its own auto-apply "gold-10", and one of its members
    partner = Program.objects.create(code="partner", name="Partner program")
    partner_coupon = coupon_definition_factory(
        program=partner, code="gold-10", name="Partner 5", kind="amount", value=Decimal("5"), auto_apply=True
    )
    partner_member = customer_factory()
    LoyaltyAccount.objects.create(customer=partner_member, program=partner, account_number="P0001")
    stranger = customer_factory()  # no loyalty account at all

    # when
    ours = _redeem(member)
    theirs = _redeem(partner_member, transaction_id="P-1")
    error = _error(_redeem, customer=stranger, transaction_id="S-1")

    # then
    assert (ours.definition, ours.redemption_amount) == (gold_ten, Decimal("6.00"))
    assert (theirs.definition, theirs.redemption_amount) == (partner_coupon, Decimal("5.00"))
    assert (error.code, error.status) == (LoyaltyErrorCode.COUPON_NOT_FOUND, 404)


def test_a_voucher_code_takes_precedence_over_an_equal_coupon_code(
    gold_ten, member, program, coupon_definition_factory, voucher_factory
):
    # given: a voucher whose code normalises as "gold-10" does (generated codes never do: see the report)
    other = coupon_definition_factory(program=program, code="five-off", name="5 off", kind="amount", value=Decimal(5))
    voucher_factory(definition=other, code="GOLD-10", customer=member, now=NOW)

    # when
    redeemed = _redeem(member)

    # then
    assert (redeemed.code, redeemed.definition, redeemed.redemption_amount) == ("GOLD-10", other, Decimal("5.00"))
    assert Voucher.objects.count() == 1
