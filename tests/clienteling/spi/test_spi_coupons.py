"""loyaltyProfile.coupons: the vouchers a till can use now (issue 4, item 3): issued or claimed, not expired, their
coupon active, valid now and offered at the POS, of the loyalty profile's own program, newest first."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import override_settings

from crm.models import Customer
from loyalty.models import CouponDefinition, Program
from loyalty.rules.coupons import CartLine
from loyalty.selectors.coupons import customer_vouchers_usable_prefetch
from loyalty.services.coupon_redemptions import voucher_redeem
from loyalty.services.vouchers import voucher_claim, vouchers_expire_due
from tests.loyalty.factories import VoucherFactory

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def program(db):
    return Program.objects.get(is_default=True)


@pytest.fixture
def make_coupon(coupon_definition_factory):
    """make_coupon(code, **fields) -> a coupon of the default program (unless `program` is given), 5.00 off."""

    def make(code, **fields):
        return coupon_definition_factory(code=code, name=code.title(), **fields)

    return make


@pytest.fixture
def member(loyalty_account_factory):
    return loyalty_account_factory().customer


def issue(definition, customer, *, days_ago=1, **fields):
    return VoucherFactory(definition=definition, customer=customer, now=NOW - timedelta(days=days_ago), **fields)


def coupon_codes(http, customer, key="loyaltyProfile"):
    with time_machine.travel(NOW, tick=False):
        response = http.get(f"/endpoint/sa/customers/{customer.public_id}")
    assert response.status_code == 200
    return [coupon["code"] for coupon in response.json()["customer"][key]["coupons"]]


def test_only_vouchers_usable_at_the_till_now_are_listed_newest_first(
    pos_client, member, make_coupon, customer_factory
):
    # given
    pos = make_coupon("pos", channels=["pos"])
    everywhere = make_coupon("everywhere")
    issued = issue(pos, member, days_ago=3)
    claimed = issue(everywhere, member, days_ago=2)
    voucher_claim(code=claimed.code, customer=member, now=NOW - timedelta(days=2))
    issue(make_coupon("web", channels=["web"]), member)
    issue(make_coupon("scan", channels=["scan_and_go"]), member)
    issue(make_coupon("later", valid_from=NOW + timedelta(seconds=1)), member)
    issue(make_coupon("ended", valid_until=NOW), member, expires_at=NOW + timedelta(days=9))
    paused = make_coupon("paused")
    issue(paused, member)
    CouponDefinition.objects.filter(pk=paused.pk).update(is_active=False)
    redeemed = issue(pos, member)
    voucher_redeem(
        code=redeemed.code,
        transaction_id="T1",
        customer=member,
        channel="pos",
        lines=[CartLine(product_id="SKU", unit_price=Decimal("20.00"))],
        now=NOW - timedelta(hours=1),
    )
    lapsed = issue(pos, member, days_ago=5, expires_at=NOW - timedelta(days=1))
    assert vouchers_expire_due(now=NOW) == 1
    issue(pos, member, expires_at=NOW)  # expires_at is exclusive: gone at this instant
    issue(pos, None, days_ago=0)  # anonymous
    issue(pos, customer_factory())  # someone else's

    # when
    codes = coupon_codes(pos_client, member)

    # then
    assert codes == [claimed.code, issued.code]
    assert lapsed.code not in codes


def test_vouchers_of_another_program_stay_out_of_the_default_loyalty_profile(
    pos_client, member, make_coupon, loyalty_account_factory
):
    # given
    other = Program.objects.create(code="partner", name="Partner program")
    loyalty_account_factory(customer=member, program=other)
    own = issue(make_coupon("own"), member)
    issue(make_coupon("partner", program=other), member)

    # when
    codes = coupon_codes(pos_client, member)

    # then
    assert codes == [own.code]


def test_coupon_fields_follow_the_spi_conventions(pos_client, member, make_coupon):
    # given
    definition = make_coupon(
        "bday",
        kind=CouponDefinition.Kind.PERCENT,
        value=Decimal("12.50"),
        description="Happy birthday",
        auto_apply=True,
        min_basket=Decimal("30.00"),
        valid_until=NOW + timedelta(days=30),
    )
    voucher = issue(definition, member, expires_at=NOW + timedelta(days=7))

    # when
    with time_machine.travel(NOW, tick=False):
        response = pos_client.get(f"/endpoint/sa/customers/{member.public_id}")

    # then
    assert response.json()["customer"]["loyaltyProfile"]["coupons"] == [
        {
            "code": voucher.code,
            "title": "Bday",
            "description": "Happy birthday",
            "type": "percent",
            "value": 12.5,
            "minimumBasketTotal": 30.0,
            "status": "issued",
            "autoApply": True,
            "issuedDate": int((NOW - timedelta(days=1)).timestamp() * 1000),
            "expiryDate": int((NOW + timedelta(days=7)).timestamp() * 1000),
        }
    ]


@override_settings(SPI_EMIT_LEGACY_LOYALTY_PROFILE=True)
def test_search_lists_each_customers_own_coupons_also_in_the_legacy_alias(
    pos_client, make_coupon, customer_factory, loyalty_account_factory
):
    # given
    definition = make_coupon("shared")
    codes = {}
    for last_name in ("Aalto", "Berg", "Castro"):
        customer = customer_factory(last_name=last_name, first_name="Coupon")
        loyalty_account_factory(customer=customer)
        codes[last_name] = [issue(definition, customer).code for _ in range(len(codes))]

    # when
    with time_machine.travel(NOW, tick=False):
        response = pos_client.get("/endpoint/sa/customers?firstName=coupon")

    # then
    results = response.json()["customers"]
    listed = {
        result["profile"]["lastName"]: [coupon["code"] for coupon in result["loyaltyProfile"]["coupons"]]
        for result in results
    }
    assert listed == {name: list(reversed(own)) for name, own in codes.items()}
    assert all(result["customerLoyaltyProfile"] == result["loyaltyProfile"] for result in results)


def test_customer_without_loyalty_account_shows_no_coupons(pos_client, customer_factory, make_coupon):
    # given
    guest = customer_factory()
    issue(make_coupon("guest"), guest)

    # when
    response = pos_client.get(f"/endpoint/sa/customers/{guest.public_id}")

    # then
    assert "loyaltyProfile" not in response.json()["customer"]


def test_prefetch_keeps_the_newest_vouchers_up_to_the_limit_per_customer(member, make_coupon, customer_factory):
    # given
    definition = make_coupon("many")
    other = customer_factory()
    mine = [issue(definition, member, days_ago=days).code for days in (4, 3, 2, 1)]
    theirs = [issue(definition, other, days_ago=days).code for days in (2, 1)]

    # when
    prefetch = customer_vouchers_usable_prefetch(channel="pos", now=NOW, limit=3)
    customers = Customer.objects.filter(pk__in=[member.pk, other.pk]).prefetch_related(prefetch).order_by("pk")

    # then
    assert [[voucher.code for voucher in customer.usable_vouchers] for customer in customers] == [
        mine[:0:-1],
        theirs[::-1],
    ]
