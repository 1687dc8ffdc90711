"""Migration 0010's guess of origin and batch for vouchers issued before Voucher recorded them (see its docstring):
AUTO- codes were auto-applied, granted ones tier benefits, customer-less ones bulk generated (and linked to the batch
of their coupon that ran when they were issued), the rest manual."""

import importlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.apps import apps

from loyalty.models import CouponDefinition, TierBenefitCoupon, TierBenefitGrant, Voucher, VoucherBatch
from loyalty.services.coupon_definitions import coupon_definition_create
from loyalty.services.vouchers import voucher_issue

migration = importlib.import_module("loyalty.migrations.0010_voucher_origin_batch_and_indexes")

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _old_voucher(definition, code, *, customer=None, issued_at=NOW) -> Voucher:
    """A voucher as an issue before 0010 left it: origin at the column's default, no batch."""
    voucher = voucher_issue(definition=definition, customer=customer, now=issued_at)
    Voucher.objects.filter(pk=voucher.pk).update(
        code=code, normalised_code=code.replace("-", ""), origin=Voucher.Origin.MANUAL, batch=None
    )
    return voucher


def _batch(definition, *, started_at, finished_at) -> VoucherBatch:
    return VoucherBatch.objects.create(
        definition=definition,
        requested_count=10,
        issued_count=10,
        status=VoucherBatch.Status.DONE,
        started_at=started_at,
        finished_at=finished_at,
    )


def test_the_data_migration_derives_origin_and_batch_of_old_vouchers(program, enrolled_account):
    # given
    coupon = coupon_definition_create(
        program=program, code="spring", name="Spring", kind=CouponDefinition.Kind.AMOUNT, value=Decimal("5")
    )
    other_coupon = coupon_definition_create(
        program=program, code="summer", name="Summer", kind=CouponDefinition.Kind.AMOUNT, value=Decimal("5")
    )
    account = enrolled_account()
    customer = account.customer
    march = _batch(coupon, started_at=NOW, finished_at=NOW + timedelta(minutes=1))
    april = _batch(coupon, started_at=NOW + timedelta(days=30), finished_at=NOW + timedelta(days=30, minutes=1))
    auto = _old_voucher(coupon, "AUTO-SPRING-AAAA", customer=customer)
    granted = _old_voucher(coupon, "SPRING-BBBB", customer=customer)
    benefit = TierBenefitCoupon.objects.create(tier=account.tier, definition=coupon, on_enrolment=True)
    TierBenefitGrant.objects.create(
        account=account, benefit=benefit, occasion="enrolment", outcome="issued", voucher=granted, created_at=NOW
    )
    in_march = _old_voucher(coupon, "SPRING-CCCC", issued_at=NOW + timedelta(seconds=30))
    in_april = _old_voucher(coupon, "SPRING-DDDD", issued_at=NOW + timedelta(days=30))
    between = _old_voucher(coupon, "SPRING-EEEE", issued_at=NOW + timedelta(days=10))
    other_coupon_then = _old_voucher(other_coupon, "SUMMER-FFFF", issued_at=NOW + timedelta(seconds=30))
    manual = _old_voucher(coupon, "SPRING-GGGG", customer=customer, issued_at=NOW + timedelta(seconds=30))

    # when
    migration.origin_derive(apps, None)
    migration.origin_derive(apps, None)  # twice: the same answer

    # then
    derived = dict(Voucher.objects.values_list("pk", "origin"))
    batches = dict(Voucher.objects.values_list("pk", "batch"))
    assert {pk: (derived[pk], batches[pk]) for pk in derived} == {
        auto.pk: ("auto_apply", None),
        granted.pk: ("tier_benefit", None),
        in_march.pk: ("batch", march.pk),
        in_april.pk: ("batch", april.pk),
        between.pk: ("batch", None),
        other_coupon_then.pk: ("batch", None),
        manual.pk: ("manual", None),
    }
