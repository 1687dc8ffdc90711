"""The kernel's housekeeping task, as beat runs it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import IdempotencyRecord
from core.tasks import delete_expired_idempotency_records_task

pytestmark = pytest.mark.django_db


def _record(key: str, *, age: timedelta) -> None:
    created_at = timezone.now() - age
    IdempotencyRecord.objects.create(
        owner="api_client:1",
        key=key,
        request_fingerprint="f",
        created_at=created_at,
        expires_at=created_at + timedelta(hours=24),
    )


def test_the_task_deletes_only_records_past_their_24_hours_and_a_second_run_deletes_nothing():
    # given
    _record("old", age=timedelta(hours=25))
    _record("fresh", age=timedelta(hours=23))

    # when
    delete_expired_idempotency_records_task.delay()
    delete_expired_idempotency_records_task.delay()

    # then
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh"]
