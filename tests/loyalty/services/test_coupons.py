"""Voucher services (loyalty/services/vouchers.py and coupon_redemptions.py): issue, claim, validate, redeem, cancel
and expire vouchers, with their limits, their refusals (which write nothing) and the webhook events they put in the
outbox."""

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core.exceptions import ApplicationError
from loyalty.error_codes import LoyaltyErrorCode
from loyalty.models import CouponDefinition, LoyaltyAccount, Tier, Voucher
from loyalty.rules.coupons import CartLine
from loyalty.services.coupon_definitions import coupon_definition_create
from loyalty.services.coupon_redemptions import VoucherValidation, voucher_redeem, voucher_validate
from loyalty.services.vouchers import voucher_cancel, voucher_claim, voucher_issue, vouchers_expire_due
from webhooks.models import WebhookEvent

NOW = datetime(2026, 3, 1, 9, 10, tzinfo=UTC)
UNTIL = datetime(2026, 5, 16, 21, 59, tzinfo=UTC)
CART = [CartLine("SHIRT", Decimal("40.00")), CartLine("SOCKS", Decimal("9.99"), quantity=2)]  # 59.98


@pytest.fixture
def gold(program):
    return Tier.objects.create(program=program, rank=1, code="gold", name="Gold", threshold=Decimal("1000"))


@pytest.fixture
def welcome(program, coupon_definition_factory):
    return coupon_definition_factory(
        program=program,
        code="welcome-10",
        name="Welcome_10",
        kind=CouponDefinition.Kind.PERCENT,
        value=Decimal("10"),
        valid_from=datetime(2026, 1, 1, tzinfo=UTC),
        valid_until=UNTIL,
        code_pattern="WELCOME-{code}",
    )


@pytest.fixture
def member(enrolled_account):
    return enrolled_account().customer


def _events(event_type=None):
    """Coupon events in the outbox, oldest first (enrolling the member wrote a loyalty.enrolled before)."""
    events = WebhookEvent.objects.filter(type__startswith="coupon.").order_by("id")
    if event_type:
        events = events.filter(type=event_type)
    return [json.loads(event.body) for event in events]


def _error(call, **kwargs):
    with pytest.raises(ApplicationError) as raised:
        call(**kwargs)
    return raised.value


def _redeem(voucher, customer, transaction_id="SF01-0042-10001", store=None, **changes):
    arguments = {
        "code": voucher.code,
        "transaction_id": transaction_id,
        "customer": customer,
        "channel": "pos",
        "lines": CART,
        "store_code": store.code if store is not None else None,
        "now": NOW + timedelta(minutes=10),
        **changes,
    }
    return voucher_redeem(**arguments)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "percent", "value": Decimal("100.01")}, "__all__"),
        ({"kind": "percent", "value": Decimal("0")}, "__all__"),
        ({"kind": "amount", "value": Decimal("0")}, "__all__"),
        ({"kind": "free_item", "value": Decimal("0"), "product_id": ""}, "__all__"),
        ({"channels": ["pos", "fax"]}, "channels"),
        ({"channels": []}, "channels"),
        ({"code_pattern": "WELCOME"}, "code_pattern"),
        ({"limit_total": 0}, "__all__"),
        ({"valid_from": UNTIL, "valid_until": UNTIL}, "__all__"),
    ],
)
def test_definition_values_out_of_range_are_refused(program, changes, field):
    # given
    arguments = {"program": program, "code": "c", "name": "C", "kind": "amount", "value": Decimal("5"), **changes}

    # when
    with pytest.raises(ValidationError) as raised:
        coupon_definition_create(**arguments)

    # then
    assert field in raised.value.message_dict
    assert CouponDefinition.objects.count() == 0


def test_issue_to_a_customer_emits_coupon_issued(welcome, member):
    # when
    voucher = voucher_issue(definition=welcome, customer=member, now=NOW)

    # then
    assert re.fullmatch(r"WELCOME-(\w{4}-){3}\w{4}", voucher.code)
    assert voucher.normalised_code == voucher.code.replace("-", "")
    assert (voucher.status, voucher.customer, voucher.issued_at, voucher.expires_at) == ("issued", member, NOW, UNTIL)
    assert (voucher.origin, voucher.batch) == (Voucher.Origin.MANUAL, None)
    [event] = _events()
    assert event["type"] == "coupon.issued"
    assert event["entity"]["id"] == voucher.code
    assert event["data"] == {
        "customer_id": member.public_id,
        "coupon": {
            "code": voucher.code,
            "status": "issued",
            "type": "percentage",
            "value": "10",
            "name": "Welcome_10",
            "expires_at": "2026-05-16T21:59:00Z",
            "created_at": "2026-03-01T09:10:00Z",
        },
    }


def test_anonymous_issue_emits_nothing_and_can_expire_earlier(welcome):
    # when
    voucher = voucher_issue(definition=welcome, expires_at=NOW + timedelta(days=7), now=NOW)

    # then
    assert (voucher.customer, voucher.status, voucher.expires_at) == (None, "issued", NOW + timedelta(days=7))
    assert _events() == []


def test_issue_with_an_unknown_origin_is_refused_and_writes_nothing(welcome, member):
    # when
    with pytest.raises(ValidationError) as raised:
        voucher_issue(definition=welcome, customer=member, origin="gift", now=NOW)

    # then
    assert raised.value.message_dict == {"origin": ["Value 'gift' is not a valid choice."]}
    assert not Voucher.objects.exists()
    assert _events() == []


def test_limit_total_counts_live_vouchers_and_cancelled_ones_free_their_place(welcome, voucher_factory):
    # given
    CouponDefinition.objects.filter(pk=welcome.pk).update(limit_total=2)
    first = voucher_factory(definition=welcome, now=NOW)
    voucher_factory(definition=welcome, now=NOW)

    # when
    error = _error(voucher_issue, definition=welcome, now=NOW)

    # then
    assert (error.code, error.status) == (LoyaltyErrorCode.COUPON_LIMIT_REACHED, 409)
    assert Voucher.objects.count() == 2
    voucher_cancel(code=first.code, now=NOW)
    assert voucher_issue(definition=welcome, now=NOW).status == "issued"
    assert Voucher.objects.filter(status="issued").count() == 2


def test_limit_per_customer_on_issue(welcome, member, customer_factory, voucher_factory):
    # given
    CouponDefinition.objects.filter(pk=welcome.pk).update(limit_per_customer=1)
    voucher_factory(definition=welcome, customer=member, now=NOW)

    # when
    error = _error(voucher_issue, definition=welcome, customer=member, now=NOW)

    # then
    assert (error.code, error.status) == (LoyaltyErrorCode.COUPON_LIMIT_REACHED, 409)
    assert len(_events("coupon.issued")) == 1
    assert voucher_issue(definition=welcome, customer=customer_factory(), now=NOW).status == "issued"


@pytest.mark.parametrize(
    ("changes", "reasons"),
    [({"is_active": False}, ["inactive"]), ({"valid_until": NOW}, ["ended"])],
)
def test_issue_of_an_inactive_or_ended_definition_is_refused(welcome, member, changes, reasons):
    # given
    CouponDefinition.objects.filter(pk=welcome.pk).update(**changes)

    # when
    error = _error(voucher_issue, definition=welcome, customer=member, now=NOW)

    # then
    assert (error.code, error.status, error.extra) == (LoyaltyErrorCode.COUPON_NOT_ELIGIBLE, 422, {"reasons": reasons})
    assert Voucher.objects.count() == 0
    assert _events() == []


def test_claim_of_an_anonymous_code_binds_it_and_emits_the_voucher_claimed_fields(welcome, member, voucher_factory):
    # given
    voucher = voucher_factory(definition=welcome, now=NOW)
    typed = voucher.code.lower().replace("-", " ")

    # when
    claimed = voucher_claim(code=typed, customer=member, now=NOW + timedelta(minutes=2))

    # then
    assert (claimed.pk, claimed.status, claimed.customer) == (voucher.pk, "claimed", member)
    [event] = _events()
    assert event["type"] == "coupon.claimed"
    assert event["data"] == {
        "consentGuid": member.public_id,
        "customerId": member.public_id,
        "voucherCode": voucher.code,
        "voucherStatus": "claimed",
        "voucherType": "percentage",
        "value": "10",
        "voucherName": "Welcome_10",
        "expiresAt": "2026-05-16T21:59:00+00:00",
        "createdAt": "2026-03-01T09:10:00+00:00",
        "claimedAt": "2026-03-01T09:12:00+00:00",
        "eventName": "voucher_claimed",
    }


def test_claim_of_ones_own_voucher_twice_claims_it_once(welcome, member, voucher_factory):
    # given
    voucher = voucher_factory(definition=welcome, customer=member, now=NOW)

    # when
    voucher_claim(code=voucher.code, customer=member, now=NOW + timedelta(minutes=2))
    again = voucher_claim(code=voucher.code, customer=member, now=NOW + timedelta(minutes=5))

    # then
    assert (again.status, again.claimed_at) == ("claimed", NOW + timedelta(minutes=2))
    assert [event["type"] for event in _events()] == ["coupon.issued", "coupon.claimed"]


def test_claim_of_another_customers_voucher_is_not_found(welcome, member, customer_factory, voucher_factory):
    # given
    voucher = voucher_factory(definition=welcome, customer=customer_factory(), now=NOW)

    # when
    error = _error(voucher_claim, code=voucher.code, customer=member, now=NOW)

    # then
    assert (error.code, error.status) == (LoyaltyErrorCode.COUPON_NOT_FOUND, 404)
    assert Voucher.objects.get(pk=voucher.pk).status == "issued"
    assert len(_events("coupon.claimed")) == 0


def test_claim_respects_the_per_customer_limit(welcome, member, voucher_factory):
    # given
    CouponDefinition.objects.filter(pk=welcome.pk).update(limit_per_customer=1)
    voucher_factory(definition=welcome, customer=member, now=NOW)
    anonymous = voucher_factory(definition=welcome, now=NOW)

    # when
    error = _error(voucher_claim, code=anonymous.code, customer=member, now=NOW)

    # then
    assert (error.code, error.status) == (LoyaltyErrorCode.COUPON_LIMIT_REACHED, 409)
    assert Voucher.objects.get(pk=anonymous.pk).customer is None


def test_validate_returns_the_discount_and_writes_nothing(welcome, member, voucher_factory):
    # given
    voucher = voucher_factory(definition=welcome, customer=member, now=NOW)
    before = Voucher.objects.values().get(pk=voucher.pk)

    # when
    result = voucher_validate(code=voucher.code, customer=member, channel="web", lines=CART, now=NOW)

    # then
    assert result == VoucherValidation(eligible=True, reasons=[], discount=Decimal("6.00"))
    assert Voucher.objects.values().get(pk=voucher.pk) == before
    assert len(_events()) == 1


def test_validate_lists_every_reason(welcome, member, gold, voucher_factory):
    # given
    welcome.eligible_tiers.set([gold])
    CouponDefinition.objects.filter(pk=welcome.pk).update(min_basket=Decimal("60.00"), channels=["pos"])
    voucher = voucher_factory(definition=welcome, customer=member, now=NOW)

    # when
    result = voucher_validate(code=voucher.code, customer=member, channel="web", lines=CART, now=NOW)

    # then
    assert result == VoucherValidation(
        eligible=False, reasons=["channel_not_allowed", "tier_not_eligible", "basket_below_minimum"]
    )


def test_gold_member_is_eligible_for_a_gold_coupon(welcome, member, gold, voucher_factory):
    # given
    welcome.eligible_tiers.set([gold])
    LoyaltyAccount.objects.filter(customer=member).update(tier=gold)
    voucher = voucher_factory(definition=welcome, customer=member, now=NOW)

    # when
    result = voucher_validate(code=voucher.code, customer=member, channel="scan_and_go", lines=CART, now=NOW)

    # then
    assert result == VoucherValidation(eligible=True, reasons=[], discount=Decimal("6.00"))


def test_validate_of_an_unknown_code_is_not_found(welcome):
    # when
    error = _error(voucher_validate, code="WELCOME-AAAA-AAAA-AAAA-AAAA", customer=None, channel="pos", lines=CART)

    # then
    assert (error.code, error.status) == (LoyaltyErrorCode.COUPON_NOT_FOUND, 404)


def test_redeem_records_the_discount_and_emits_coupon_redeemed(welcome, member, store_factory, voucher_factory):
    # given
    store = store_factory(code="SF01")
    voucher = voucher_factory(definition=welcome, customer=member, now=NOW)

    # when
    redeemed = _redeem(voucher, member, store=store)

    # then
    assert (redeemed.status, redeemed.redemption_amount, redeemed.redeemed_transaction_id) == (
        "redeemed",
        Decimal("6.00"),
        "SF01-0042-10001",
    )
    assert (redeemed.redeemed_at, redeemed.redeemed_store) == (NOW + timedelta(minutes=10), store)
    [event] = _events("coupon.redeemed")
    assert event["data"] == {
        "customer_id": member.public_id,
        "coupon": {
            "code": voucher.code,
            "status": "redeemed",
            "type": "percentage",
            "value": "10",
            "name": "Welcome_10",
            "expires_at": "2026-05-16T21:59:00Z",
            "created_at": "2026-03-01T09:10:00Z",
        },
        "redeemed_at": "2026-03-01T09:20:00Z",
        "transaction_id": "SF01-0042-10001",
        "store": "SF01",
    }


def test_redeem_again_with_the_same_transaction_returns_the_first_result(
    welcome, member, store_factory, voucher_factory
):
    # given
    store = store_factory(code="SF01")
    voucher = voucher_factory(definition=welcome, customer=member, now=NOW)
    first = _redeem(voucher, member, store=store)

    # when
    again = _redeem(voucher, member, store=store, now=NOW + timedelta(hours=1))

    # then
    assert (again.pk, again.redemption_amount, again.redeemed_at) == (first.pk, Decimal("6.00"), first.redeemed_at)
    assert again.redeemed_store == store
    assert len(_events("coupon.redeemed")) == 1


def test_a_retry_whose_cart_gives_the_same_discount_returns_the_first_result(welcome, member, voucher_factory):
    # given: redeemed with the cart's lines; the retry sends only its total (as the events API's amount does)
    voucher = voucher_factory(definition=welcome, customer=member, now=NOW)
    first = _redeem(voucher, member)
    before = Voucher.objects.values().get(pk=voucher.pk)

    # when
    again = _redeem(voucher, member, lines=[CartLine("", Decimal("59.98"))], now=NOW + timedelta(hours=1))

    # then
    assert (again.pk, again.redemption_amount, again.redeemed_at) == (first.pk, Decimal("6.00"), first.redeemed_at)
    assert Voucher.objects.values().get(pk=voucher.pk) == before
    assert len(_events("coupon.redeemed")) == 1


def test_an_amount_coupon_retried_with_a_larger_cart_returns_the_first_result(
    program, member, coupon_definition_factory, voucher_factory
):
    # given: 5 off whatever the cart, so the larger cart gives the same discount
    five_off = coupon_definition_factory(
        program=program, code="five-off", name="5 off", kind="amount", value=Decimal("5")
    )
    voucher = voucher_factory(definition=five_off, customer=member, now=NOW)
    first = _redeem(voucher, member)

    # when
    again = _redeem(voucher, member, lines=[*CART, CartLine("SCARF", Decimal("25.00"))])

    # then
    assert (again.pk, again.redemption_amount) == (first.pk, Decimal("5.00"))
    assert len(_events("coupon.redeemed")) == 1


def test_the_same_transaction_with_a_cart_giving_another_discount_is_409_and_writes_nothing(
    welcome, member, voucher_factory
):
    # given
    voucher = voucher_factory(definition=welcome, customer=member, now=NOW)
    _redeem(voucher, member)
    before = Voucher.objects.values().get(pk=voucher.pk)

    # when
    error = _error(_redeem, voucher=voucher, customer=member, lines=[CartLine("SHIRT", Decimal("1000.00"))])

    # then
    assert (error.code, error.status, error.extra) == (
        LoyaltyErrorCode.TX_ALREADY_EXISTS,
        409,
        {"field": "transaction_id", "discount": "6.00"},
    )
    assert error.message == (
        "Transaction SF01-0042-10001 already redeemed this coupon for 6.00; this cart would give another discount."
    )
    assert Voucher.objects.values().get(pk=voucher.pk) == before
    assert len(_events("coupon.redeemed")) == 1


@pytest.mark.parametrize(("first_store", "retry_store"), [("SF01", "SF02"), ("SF01", None), (None, "SF02")])
def test_the_same_transaction_from_another_store_is_409_and_writes_nothing(
    welcome, member, store_factory, first_store, retry_store, voucher_factory
):
    # given
    stores = {code: store_factory(code=code) for code in ("SF01", "SF02")}
    voucher = voucher_factory(definition=welcome, customer=member, now=NOW)
    _redeem(voucher, member, store=stores.get(first_store))
    before = Voucher.objects.values().get(pk=voucher.pk)

    # when
    error = _error(_redeem, voucher=voucher, customer=member, store=stores.get(retry_store))

    # then
    assert (error.code, error.status, error.extra) == (
        LoyaltyErrorCode.TX_ALREADY_EXISTS,
        409,
        {"field": "transaction_id", "discount": "6.00"},
    )
    assert error.message == "Transaction SF01-0042-10001 already redeemed this coupon at another store."
    assert Voucher.objects.values().get(pk=voucher.pk) == before
    assert len(_events("coupon.redeemed")) == 1


def test_redeeming_an_anonymous_code_counts_the_vouchers_the_customer_holds(welcome, member, voucher_factory):
    # given: one use per customer, and the member holds a claimed voucher of the coupon
    CouponDefinition.objects.filter(pk=welcome.pk).update(limit_per_customer=1)
    claimed = voucher_claim(code=voucher_factory(definition=welcome, now=NOW).code, customer=member, now=NOW)
    anonymous = voucher_factory(definition=welcome, now=NOW)
    before = list(Voucher.objects.order_by("pk").values())

    # when
    validation = voucher_validate(code=anonymous.code, customer=member, channel="pos", lines=CART, now=NOW)
    error = _error(_redeem, voucher=anonymous, customer=member)

    # then
    assert validation == VoucherValidation(eligible=False, reasons=["customer_limit_reached"])
    assert (error.code, error.status, error.extra) == (
        LoyaltyErrorCode.COUPON_NOT_ELIGIBLE,
        422,
        {"reasons": ["customer_limit_reached"]},
    )
    assert list(Voucher.objects.order_by("pk").values()) == before
    assert _events("coupon.redeemed") == []
    assert _redeem(claimed, member).status == "redeemed"


def test_a_second_anonymous_code_beyond_the_per_customer_limit_is_refused(
    welcome, member, customer_factory, voucher_factory
):
    # given
    CouponDefinition.objects.filter(pk=welcome.pk).update(limit_per_customer=1)
    first, second = (voucher_factory(definition=welcome, now=NOW) for _ in range(2))
    _redeem(first, member)
    before = Voucher.objects.values().get(pk=second.pk)

    # when
    error = _error(_redeem, voucher=second, customer=member, transaction_id="SF01-0042-10002")

    # then
    assert (error.code, error.extra) == (LoyaltyErrorCode.COUPON_NOT_ELIGIBLE, {"reasons": ["customer_limit_reached"]})
    assert Voucher.objects.values().get(pk=second.pk) == before
    assert len(_events("coupon.redeemed")) == 1
    assert _redeem(second, customer_factory(), transaction_id="SF01-0042-10002").status == "redeemed"


def test_redeem_with_another_transaction_is_already_redeemed(welcome, member, voucher_factory):
    # given
    voucher = voucher_factory(definition=welcome, customer=member, now=NOW)
    _redeem(voucher, member)

    # when
    error = _error(_redeem, voucher=voucher, customer=member, transaction_id="SF02-0001-1")

    # then
    assert (error.code, error.status) == (LoyaltyErrorCode.COUPON_ALREADY_REDEEMED, 409)
    assert Voucher.objects.get(pk=voucher.pk).redeemed_transaction_id == "SF01-0042-10001"
    assert len(_events("coupon.redeemed")) == 1


def test_refused_redeem_writes_nothing(welcome, member, voucher_factory):
    # given
    CouponDefinition.objects.filter(pk=welcome.pk).update(min_basket=Decimal("100.00"))
    voucher = voucher_factory(definition=welcome, customer=member, now=NOW)
    before = Voucher.objects.values().get(pk=voucher.pk)

    # when
    error = _error(_redeem, voucher=voucher, customer=member)

    # then
    assert (error.code, error.status, error.extra) == (
        LoyaltyErrorCode.COUPON_NOT_ELIGIBLE,
        422,
        {"reasons": ["basket_below_minimum"]},
    )
    assert Voucher.objects.values().get(pk=voucher.pk) == before
    assert [event["type"] for event in _events()] == ["coupon.issued"]


def test_redeem_of_another_customers_voucher_is_not_eligible(welcome, member, customer_factory, voucher_factory):
    # given
    voucher = voucher_factory(definition=welcome, customer=customer_factory(), now=NOW)

    # when
    error = _error(_redeem, voucher=voucher, customer=member)

    # then
    assert (error.code, error.extra) == (LoyaltyErrorCode.COUPON_NOT_ELIGIBLE, {"reasons": ["other_customer"]})


def test_anonymous_code_redeemed_by_a_customer_is_bound_to_them(welcome, member, voucher_factory):
    # given
    voucher = voucher_factory(definition=welcome, now=NOW)

    # when
    redeemed = _redeem(voucher, member)

    # then
    assert (redeemed.customer, redeemed.status) == (member, "redeemed")


def test_free_item_coupon_needs_its_item_in_the_basket(program, member, coupon_definition_factory, voucher_factory):
    # given
    coffee = coupon_definition_factory(
        program=program, code="coffee", name="Free coffee", kind="free_item", product_id="COFFEE"
    )
    voucher = voucher_factory(definition=coffee, customer=member, now=NOW)

    # when
    error = _error(_redeem, voucher=voucher, customer=member)
    redeemed = _redeem(voucher, member, lines=[*CART, CartLine("COFFEE", Decimal("3.20"), quantity=2)])

    # then
    assert error.extra == {"reasons": ["item_not_in_basket"]}
    assert redeemed.redemption_amount == Decimal("3.20")


def test_expires_at_is_exclusive(welcome, member, voucher_factory):
    # given
    voucher = voucher_factory(definition=welcome, customer=member, expires_at=NOW + timedelta(minutes=10), now=NOW)

    # when
    error = _error(_redeem, voucher=voucher, customer=member, now=NOW + timedelta(minutes=10))
    redeemed = _redeem(voucher, member, now=NOW + timedelta(minutes=10) - timedelta(microseconds=1))

    # then
    assert (error.code, error.status) == (LoyaltyErrorCode.COUPON_EXPIRED, 409)
    assert redeemed.status == "redeemed"


def test_cancelled_voucher_cannot_be_claimed_or_redeemed(welcome, member, voucher_factory):
    # given
    voucher = voucher_factory(definition=welcome, customer=member, now=NOW)

    # when
    cancelled = voucher_cancel(code=voucher.code, now=NOW)
    again = voucher_cancel(code=voucher.code, now=NOW + timedelta(days=1))

    # then
    assert (cancelled.status, again.cancelled_at) == ("cancelled", NOW)
    for call, kwargs in [
        (voucher_claim, {"code": voucher.code, "customer": member}),
        (_redeem, {"voucher": voucher, "customer": member}),
    ]:
        error = _error(call, **kwargs)
        assert (error.code, error.status) == (LoyaltyErrorCode.COUPON_CANCELLED, 409)


def test_redeemed_voucher_cannot_be_cancelled(welcome, member, voucher_factory):
    # given
    voucher = voucher_factory(definition=welcome, customer=member, now=NOW)
    _redeem(voucher, member)

    # when
    error = _error(voucher_cancel, code=voucher.code)

    # then
    assert (error.code, error.status) == (LoyaltyErrorCode.COUPON_ALREADY_REDEEMED, 409)
    assert Voucher.objects.get(pk=voucher.pk).status == "redeemed"


def test_expire_due_marks_due_vouchers_in_batches_and_is_safe_to_rerun(welcome, member, voucher_factory):
    # given
    due = [voucher_factory(definition=welcome, expires_at=NOW + timedelta(days=1), now=NOW) for _ in range(3)]
    later = voucher_factory(definition=welcome, expires_at=NOW + timedelta(days=1, seconds=1), now=NOW)
    claimed = voucher_claim(code=due[0].code, customer=member, now=NOW)
    redeemed = voucher_factory(definition=welcome, expires_at=NOW + timedelta(hours=1), now=NOW)
    _redeem(redeemed, member)
    run_at = NOW + timedelta(days=1)

    # when
    counts = [vouchers_expire_due(now=run_at, batch_size=2) for _ in range(3)]

    # then
    assert counts == [2, 1, 0]
    statuses = dict(Voucher.objects.values_list("pk", "status"))
    assert [statuses[voucher.pk] for voucher in due] == ["expired", "expired", "expired"]
    assert (statuses[claimed.pk], statuses[later.pk], statuses[redeemed.pk]) == ("expired", "issued", "redeemed")


def test_a_replay_of_the_transaction_by_another_customer_is_already_redeemed(
    welcome, member, customer_factory, voucher_factory
):
    # given: an anonymous code redeemed by the member (which binds it to them)
    voucher = voucher_factory(definition=welcome, now=NOW)
    _redeem(voucher, member)
    before = Voucher.objects.values().get(pk=voucher.pk)
    stranger = customer_factory()

    # when: the same transaction id, from another customer and from nobody
    by_stranger = _error(_redeem, voucher=voucher, customer=stranger)
    by_nobody = _error(_redeem, voucher=voucher, customer=None)

    # then
    assert (by_stranger.code, by_stranger.status) == (LoyaltyErrorCode.COUPON_ALREADY_REDEEMED, 409)
    assert (by_nobody.code, by_nobody.status) == (LoyaltyErrorCode.COUPON_ALREADY_REDEEMED, 409)
    assert Voucher.objects.values().get(pk=voucher.pk) == before
    assert len(_events("coupon.redeemed")) == 1


def test_an_anonymous_redemption_is_replayed_for_no_customer(welcome, voucher_factory):
    # given
    voucher = voucher_factory(definition=welcome, now=NOW)
    first = _redeem(voucher, None)

    # when
    again = _redeem(voucher, None, now=NOW + timedelta(hours=1))

    # then
    assert (again.pk, again.customer, again.redeemed_at) == (first.pk, None, first.redeemed_at)


def test_claim_after_the_coupon_ended_is_refused_for_a_voucher_without_expiry(welcome, member, voucher_factory):
    # given: issued with no expiry (its coupon had no end then), the coupon ended since
    CouponDefinition.objects.filter(pk=welcome.pk).update(valid_until=None)
    voucher = voucher_factory(definition=welcome, now=NOW)
    assert voucher.expires_at is None
    CouponDefinition.objects.filter(pk=welcome.pk).update(valid_until=UNTIL)

    # when
    at_the_end = _error(voucher_claim, code=voucher.code, customer=member, now=UNTIL)
    before_the_end = voucher_claim(code=voucher.code, customer=member, now=UNTIL - timedelta(seconds=1))

    # then
    assert (at_the_end.code, at_the_end.status) == (LoyaltyErrorCode.COUPON_EXPIRED, 409)
    assert (before_the_end.status, before_the_end.claimed_at) == ("claimed", UNTIL - timedelta(seconds=1))


def test_refused_late_claim_writes_nothing(welcome, member, voucher_factory):
    # given
    CouponDefinition.objects.filter(pk=welcome.pk).update(valid_until=None)
    voucher = voucher_factory(definition=welcome, now=NOW)
    CouponDefinition.objects.filter(pk=welcome.pk).update(valid_until=NOW + timedelta(days=1))
    before = Voucher.objects.values().get(pk=voucher.pk)

    # when
    error = _error(voucher_claim, code=voucher.code, customer=member, now=NOW + timedelta(days=2))

    # then
    assert error.code == LoyaltyErrorCode.COUPON_EXPIRED
    assert Voucher.objects.values().get(pk=voucher.pk) == before
    assert _events("coupon.claimed") == []
