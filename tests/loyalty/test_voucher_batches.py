"""Bulk voucher generation (loyalty/services/voucher_batches.py): a queued batch, a chunked job whose progress is
committed as it goes, limits respected, code collisions retried, and a second run that adds nothing."""

import os
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction

from core.exceptions import ApplicationError
from loyalty import coupon_codes
from loyalty.coupon_codes import code_normalise
from loyalty.error_codes import LoyaltyErrorCode
from loyalty.models import CouponDefinition, Voucher, VoucherBatch
from loyalty.services import voucher_batches
from loyalty.services.coupons import coupon_definition_create, voucher_issue
from loyalty.services.voucher_batches import voucher_batch_create, voucher_batch_generate
from loyalty.tasks import generate_voucher_batch_task

# 100,000 codes take about 20 s here (generation alone; measured by hand with VOUCHER_BULK_COUNT=100000): the
# suite runs 20,000, the same code path in five times fewer chunks.
BULK_COUNT = int(os.environ.get("VOUCHER_BULK_COUNT", "20000"))


@pytest.fixture
def definition(program):
    return coupon_definition_create(
        program=program,
        code="spring-5",
        name="Spring 5 off",
        kind=CouponDefinition.Kind.AMOUNT,
        value=Decimal("5"),
        code_pattern="SPRING-{code}",
    )


def queued(definition, count):
    """A batch created without its job running (as if the broker had not delivered it yet)."""
    return VoucherBatch.objects.create(definition=definition, requested_count=count)


def test_creating_a_batch_queues_the_job_after_commit_and_the_job_issues_anonymous_codes(
    definition, django_capture_on_commit_callbacks, admin_user
):
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        batch = voucher_batch_create(definition=definition, count=25, user=admin_user)

    # then
    assert (batch.status, batch.issued_count, batch.created_by) == ("queued", 0, admin_user)
    assert not Voucher.objects.exists()
    assert len(callbacks) == 1

    # when
    callbacks[0]()

    # then
    batch.refresh_from_db()
    assert (batch.status, batch.issued_count, batch.progress_percent) == ("done", 25, 100)
    assert batch.started_at is not None
    assert batch.finished_at is not None
    vouchers = Voucher.objects.filter(definition=definition)
    assert vouchers.count() == 25
    assert set(vouchers.values_list("status", flat=True)) == {"issued"}
    assert not vouchers.filter(customer__isnull=False).exists()
    assert all(code.startswith("SPRING-") for code in vouchers.values_list("code", flat=True))
    assert set(vouchers.values_list("origin", "batch")) == {("batch", batch.pk)}


def test_each_voucher_records_the_batch_that_made_it(definition):
    # given: a voucher issued to a customer by hand, and two batches of the same coupon
    by_hand = voucher_issue(definition=definition)
    first = queued(definition, 3)
    second = queued(definition, 2)

    # when
    voucher_batch_generate(batch_pk=first.pk, chunk_size=2)
    voucher_batch_generate(batch_pk=second.pk)

    # then
    assert first.vouchers.count() == 3
    assert second.vouchers.count() == 2
    assert set(first.vouchers.values_list("origin", flat=True)) == {"batch"}
    assert not set(first.vouchers.values_list("pk", flat=True)) & set(second.vouchers.values_list("pk", flat=True))
    by_hand.refresh_from_db()
    assert (by_hand.origin, by_hand.batch) == ("manual", None)


def test_deleting_a_batch_keeps_its_vouchers(definition):
    # given
    batch = queued(definition, 2)
    voucher_batch_generate(batch_pk=batch.pk)

    # when
    batch.delete()

    # then
    assert list(Voucher.objects.values_list("origin", "batch")) == [("batch", None), ("batch", None)]


def test_progress_is_committed_after_every_chunk(definition, monkeypatch):
    # given
    batch = queued(definition, 7)
    seen = []
    original = voucher_batches._insert_chunk

    def spy(batch_row, definition, size, *, now):
        seen.append((VoucherBatch.objects.get(pk=batch.pk).issued_count, size))
        original(batch_row, definition, size, now=now)

    monkeypatch.setattr(voucher_batches, "_insert_chunk", spy)

    # when
    voucher_batch_generate(batch_pk=batch.pk, chunk_size=3)

    # then
    assert seen == [(0, 3), (3, 3), (6, 1)]
    assert VoucherBatch.objects.get(pk=batch.pk).issued_count == 7


def test_a_second_run_continues_from_the_committed_progress_and_never_exceeds_the_request(definition):
    # given: a run that died after two chunks of 3
    batch = queued(definition, 10)
    with transaction.atomic():
        voucher_batches._chunk_generate(batch.pk, chunk_size=3)
    with transaction.atomic():
        voucher_batches._chunk_generate(batch.pk, chunk_size=3)
    assert VoucherBatch.objects.get(pk=batch.pk).status == "running"

    # when
    generate_voucher_batch_task(batch.pk)
    generate_voucher_batch_task(batch.pk)

    # then
    batch.refresh_from_db()
    assert (batch.status, batch.issued_count) == ("done", 10)
    assert Voucher.objects.filter(definition=definition).count() == 10


def test_a_code_collision_retries_the_chunk_with_new_codes(definition, monkeypatch):
    # given: the first code drawn is one that already exists
    existing = voucher_issue(definition=definition)
    body = existing.code.removeprefix("SPRING-")
    draws = iter([body])
    original = coupon_codes.code_body_generate
    monkeypatch.setattr(coupon_codes, "code_body_generate", lambda: next(draws, None) or original())
    batch = queued(definition, 5)

    # when
    voucher_batch_generate(batch_pk=batch.pk)

    # then
    batch.refresh_from_db()
    assert (batch.status, batch.issued_count) == ("done", 5)
    assert Voucher.objects.filter(definition=definition).count() == 6


def test_the_definitions_total_limit_is_respected(definition):
    # given
    CouponDefinition.objects.filter(pk=definition.pk).update(limit_total=10)
    voucher_issue(definition=definition)

    # when refused up front
    with pytest.raises(ApplicationError) as raised:
        voucher_batch_create(definition=definition, count=10)

    # then
    assert raised.value.code == LoyaltyErrorCode.COUPON_LIMIT_REACHED
    assert not VoucherBatch.objects.exists()

    # given: vouchers issued after the batch was queued leave less room than it asked for
    batch = queued(definition, 9)
    voucher_issue(definition=definition)
    voucher_issue(definition=definition)

    # when
    voucher_batch_generate(batch_pk=batch.pk, chunk_size=4)

    # then
    batch.refresh_from_db()
    assert (batch.status, batch.issued_count) == ("failed", 7)
    assert "limit" in batch.error
    assert Voucher.objects.filter(definition=definition).count() == 10


@pytest.mark.parametrize("count", [0, voucher_batches.MAX_BATCH + 1])
def test_a_count_out_of_range_is_refused(definition, count):
    with pytest.raises(ApplicationError) as raised:
        voucher_batch_create(definition=definition, count=count)
    assert raised.value.code == LoyaltyErrorCode.COUPON_NOT_ELIGIBLE


def test_an_inactive_coupon_is_refused_and_a_batch_stops_when_the_coupon_is_deactivated(definition):
    # given
    batch = queued(definition, 5)
    CouponDefinition.objects.filter(pk=definition.pk).update(is_active=False)

    # when
    with pytest.raises(ApplicationError):
        voucher_batch_create(definition=definition, count=5)
    voucher_batch_generate(batch_pk=batch.pk)

    # then
    batch.refresh_from_db()
    assert (batch.status, batch.issued_count) == ("failed", 0)
    assert batch.error


def test_a_finished_batch_is_left_alone(definition):
    # given
    batch = queued(definition, 3)
    voucher_batch_generate(batch_pk=batch.pk)
    finished_at = VoucherBatch.objects.get(pk=batch.pk).finished_at

    # when
    generate_voucher_batch_task(batch.pk)
    generate_voucher_batch_task(batch.pk + 1000)  # gone: logged, not raised

    # then
    assert VoucherBatch.objects.get(pk=batch.pk).finished_at == finished_at
    assert Voucher.objects.count() == 3


@pytest.mark.skipif(connection.vendor != "sqlite", reason="timed on the SQLite test database")
def test_bulk_codes_are_generated_unique_in_bounded_time(definition):
    # given
    batch = queued(definition, BULK_COUNT)

    # when
    started = time.monotonic()
    generate_voucher_batch_task(batch.pk)
    elapsed = time.monotonic() - started
    print(f"{BULK_COUNT} codes generated in {elapsed:.2f} s")  # noqa: T201 (shown with -s)

    # then
    batch.refresh_from_db()
    assert (batch.status, batch.issued_count) == ("done", BULK_COUNT)
    codes = list(Voucher.objects.filter(definition=definition).values_list("code", "normalised_code"))
    assert len(codes) == BULK_COUNT
    assert len({code for code, _ in codes}) == BULK_COUNT
    assert all(normalised == code_normalise(code) for code, normalised in codes)
    assert elapsed < BULK_COUNT / 2000, f"{BULK_COUNT} codes took {elapsed:.1f} s"
