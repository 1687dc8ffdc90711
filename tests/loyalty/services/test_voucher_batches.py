"""Bulk voucher generation (loyalty/services/voucher_batches.py): a queued batch, a chunked job whose progress is
committed as it goes, limits respected, code collisions retried, and a second run that adds nothing."""

import re
import tracemalloc
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from core.exceptions import ApplicationError
from loyalty.coupon_codes import ALPHABET, GROUP_SIZE, GROUPS, PLACEHOLDER, code_normalise
from loyalty.error_codes import LoyaltyErrorCode
from loyalty.models import CouponDefinition, Voucher, VoucherBatch
from loyalty.services import voucher_batches
from loyalty.services.voucher_batches import voucher_batch_create, voucher_batch_generate
from loyalty.tasks import generate_voucher_batch_task

# The peak of Python memory (tracemalloc) while the job makes 20,000 or 100,000 codes, measured: about 1 MB on SQLite
# and on PostgreSQL, one chunk of 2,000's worth (its random characters, codes, normalised codes and rows: 0.6 to
# 0.9 MB). Holding all 100,000 would take 16 MB as bare code strings, 59 MB as the Voucher instances bulk_create used
# to be given. 4 MB leaves room for the allocator and the spy, and fails once the job keeps about ten chunks' codes:
# so 20,000 codes (ten chunks) already prove the bound, and the 100,000 run under the slow mark.
PEAK_MEMORY_BOUND = 4_000_000


@pytest.fixture
def definition(program, coupon_definition_factory):
    return coupon_definition_factory(
        program=program,
        code="spring-5",
        name="Spring 5 off",
        kind=CouponDefinition.Kind.AMOUNT,
        value=Decimal("5"),
        code_pattern="SPRING-{code}",
    )


@pytest.fixture
def voucher_table_vacuumed_afterwards(django_db_blocker):
    """On PostgreSQL, VACUUM the voucher table once the test's transaction has rolled back (request this fixture
    before the database). 100,000 rolled-back rows leave 70 MB of dead tuples, and a --reuse-db database on a server
    without autovacuum (like the development one here) would grow by that much, and slow down, on every run."""
    yield
    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(f"VACUUM {connection.ops.quote_name(Voucher._meta.db_table)}")


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


def test_each_voucher_records_the_batch_that_made_it(definition, voucher_factory):
    # given: a voucher issued to a customer by hand, and two batches of the same coupon
    by_hand = voucher_factory(definition=definition)
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


def test_a_code_collision_retries_the_chunk_with_new_codes(definition, monkeypatch, voucher_factory):
    # given: the last code of the first chunk drawn is one that already exists
    existing = voucher_factory(definition=definition)
    original = voucher_batches.voucher_codes_generate
    draws = []

    def first_draw_collides(count, pattern):
        codes, normalised_codes = original(count, pattern)
        if not draws:
            codes[-1], normalised_codes[-1] = existing.code, existing.normalised_code
        draws.append(codes)
        return codes, normalised_codes

    monkeypatch.setattr(voucher_batches, "voucher_codes_generate", first_draw_collides)
    batch = queued(definition, 5)

    # when
    voucher_batch_generate(batch_pk=batch.pk)

    # then: the chunk's other four codes were thrown away with the colliding one, and the retry's five kept
    batch.refresh_from_db()
    assert (batch.status, batch.issued_count) == ("done", 5)
    assert [len(codes) for codes in draws] == [5, 5]
    assert set(batch.vouchers.values_list("code", flat=True)) == set(draws[1])
    assert Voucher.objects.filter(definition=definition).count() == 6


def test_a_batch_voucher_has_the_columns_the_model_would_have_given_it(definition):
    # given
    valid_until = timezone.now() + timedelta(days=30)
    CouponDefinition.objects.filter(pk=definition.pk).update(valid_until=valid_until)
    batch = queued(definition, 3)
    before = timezone.now()

    # when
    voucher_batch_generate(batch_pk=batch.pk)

    # then
    vouchers = list(batch.vouchers.all())
    assert len(vouchers) == 3
    for voucher in vouchers:
        voucher.full_clean()
        assert (voucher.definition, voucher.batch, voucher.status, voucher.origin) == (
            definition,
            batch,
            "issued",
            "batch",
        )
        assert voucher.normalised_code == code_normalise(voucher.code)
        assert voucher.expires_at == valid_until
        assert before <= voucher.issued_at <= voucher.created_at <= voucher.updated_at <= timezone.now()
        assert (voucher.customer, voucher.claimed_at, voucher.redeemed_at, voucher.cancelled_at) == (None,) * 4
        assert (voucher.redeemed_transaction_id, voucher.redeemed_store, voucher.redemption_amount) == ("", None, None)


def test_a_code_pattern_saved_past_its_validator_fails_the_batch(definition):
    # given
    CouponDefinition.objects.filter(pk=definition.pk).update(code_pattern="SPRING")
    batch = queued(definition, 3)

    # when
    with pytest.raises(ValidationError):
        voucher_batch_generate(batch_pk=batch.pk)

    # then
    batch.refresh_from_db()
    assert (batch.status, batch.issued_count) == ("failed", 0)
    assert batch.error == "The code pattern must contain {code} exactly once."
    assert not Voucher.objects.exists()


def test_the_definitions_total_limit_is_respected(definition, voucher_factory):
    # given
    CouponDefinition.objects.filter(pk=definition.pk).update(limit_total=10)
    voucher_factory(definition=definition)

    # when refused up front
    with pytest.raises(ApplicationError) as raised:
        voucher_batch_create(definition=definition, count=10)

    # then
    assert raised.value.code == LoyaltyErrorCode.COUPON_LIMIT_REACHED
    assert not VoucherBatch.objects.exists()

    # given: vouchers issued after the batch was queued leave less room than it asked for
    batch = queued(definition, 9)
    voucher_factory(definition=definition)
    voucher_factory(definition=definition)

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


@pytest.mark.parametrize("bulk_count", [20_000, pytest.param(100_000, marks=pytest.mark.slow)])
def test_bulk_generation_makes_unique_codes_in_bounded_memory_and_reports_progress(
    voucher_table_vacuumed_afterwards, definition, monkeypatch, bulk_count
):
    # given: a spy reading the batch's committed issued_count before the job and after each chunk
    batch = queued(definition, bulk_count)
    committed = [VoucherBatch.objects.values_list("issued_count", flat=True).get(pk=batch.pk)]
    original = voucher_batches._chunk_generate

    def spy(batch_pk, *, chunk_size):
        more = original(batch_pk, chunk_size=chunk_size)
        committed.append(VoucherBatch.objects.values_list("issued_count", flat=True).get(pk=batch_pk))
        return more

    monkeypatch.setattr(voucher_batches, "_chunk_generate", spy)

    # when
    tracemalloc.start()
    try:
        generate_voucher_batch_task(batch.pk)
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    # then
    batch.refresh_from_db()
    assert (batch.status, batch.issued_count) == ("done", bulk_count)
    assert committed == list(range(0, bulk_count + 1, voucher_batches.CHUNK_SIZE))
    assert peak < PEAK_MEMORY_BOUND, f"peak {peak:,} bytes"
    codes = list(Voucher.objects.filter(definition=definition).values_list("code", "normalised_code"))
    assert len(codes) == batch.vouchers.count() == bulk_count
    assert len({code for code, _ in codes}) == len({normalised for _, normalised in codes}) == bulk_count
    group = f"[{ALPHABET}]{{{GROUP_SIZE}}}"
    well_formed = re.compile(
        re.escape(definition.code_pattern).replace(re.escape(PLACEHOLDER), "-".join([group] * GROUPS))
    )
    assert all(well_formed.fullmatch(code) and normalised == code_normalise(code) for code, normalised in codes)
