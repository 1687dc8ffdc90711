"""core.idempotency: claiming a key, replaying, conflicts, expiry and release, without HTTP."""

from datetime import UTC, datetime, timedelta

import pytest

from core.exceptions import ApplicationError
from core.idempotency import (
    IdempotentResult,
    StoredResponse,
    idempotency_record_claim,
    idempotency_record_complete,
    idempotency_records_delete_expired,
    idempotent_call,
)
from core.models import IdempotencyRecord
from loyalty.error_codes import LoyaltyErrorCode

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 24, 10, 15, tzinfo=UTC)


def claim(key="k-1", fingerprint="f-1", owner="api_client:1", now=NOW):
    return idempotency_record_claim(owner=owner, key=key, fingerprint=fingerprint, now=now)


def error_code(call):
    with pytest.raises(ApplicationError) as error:
        call()
    return error.value.code, error.value.status


def test_a_new_key_is_claimed_for_24_hours():
    # when
    record = claim()

    # then
    record.refresh_from_db()
    assert (record.owner, record.key, record.state, record.response_body) == (
        "api_client:1",
        "k-1",
        "in_progress",
        None,
    )
    assert (record.created_at, record.expires_at) == (NOW, datetime(2026, 6, 25, 10, 15, tzinfo=UTC))


def test_the_same_key_while_the_first_request_runs_is_in_progress():
    # given
    claim()

    # when
    code = error_code(lambda: claim(now=NOW + timedelta(seconds=1)))

    # then
    assert code == ("IDEMPOTENCY_REQUEST_IN_PROGRESS", 409)
    assert IdempotencyRecord.objects.count() == 1


def test_the_same_key_with_another_request_is_a_reuse_even_while_running():
    # given
    claim()

    # when
    code = error_code(lambda: claim(fingerprint="f-2"))

    # then
    assert code == ("IDEMPOTENCY_KEY_REUSED", 409)


def test_a_completed_key_replays_its_response():
    # given
    record = claim()
    idempotency_record_complete(record=record, status=200, body={"spendable": 5})

    # when
    replay = claim(now=NOW + timedelta(hours=23))

    # then
    assert replay == StoredResponse(status=200, body={"spendable": 5})


def test_after_24_hours_the_key_is_new_again():
    # given
    record = claim()
    idempotency_record_complete(record=record, status=200, body={"spendable": 5})

    # when
    fresh = claim(fingerprint="f-2", now=NOW + timedelta(hours=24))

    # then
    assert isinstance(fresh, IdempotencyRecord)
    assert list(IdempotencyRecord.objects.values_list("request_fingerprint", "state")) == [("f-2", "in_progress")]


def test_a_claim_abandoned_by_a_dead_worker_can_be_claimed_again_after_ten_minutes():
    # given
    claim()

    # when
    still_running = error_code(lambda: claim(now=NOW + timedelta(minutes=9)))
    taken_over = claim(now=NOW + timedelta(minutes=10))

    # then
    assert still_running == ("IDEMPOTENCY_REQUEST_IN_PROGRESS", 409)
    assert taken_over.created_at == NOW + timedelta(minutes=10)
    assert IdempotencyRecord.objects.count() == 1


def test_the_abandoned_request_cannot_complete_after_its_key_was_taken_over():
    # given
    abandoned = claim()
    claim(now=NOW + timedelta(minutes=10))

    # when
    code = error_code(lambda: idempotency_record_complete(record=abandoned, status=200, body={}))

    # then
    assert code == ("IDEMPOTENCY_REQUEST_IN_PROGRESS", 409)
    assert IdempotencyRecord.objects.get().state == "in_progress"


def test_keys_belong_to_their_owner():
    # given
    claim(owner="api_client:1")

    # when
    other = claim(owner="api_client:2", fingerprint="f-2")

    # then
    assert isinstance(other, IdempotencyRecord)
    assert IdempotencyRecord.objects.count() == 2


def test_idempotent_call_runs_the_work_once_and_replays_it():
    # given
    calls = []

    def work():
        calls.append(1)
        return 200, {"n": len(calls)}

    # when
    first = idempotent_call(owner="o", key="k", fingerprint="f", work=work)
    second = idempotent_call(owner="o", key="k", fingerprint="f", work=work)

    # then
    assert (first, second) == (
        IdempotentResult(status=200, body={"n": 1}, replayed=False),
        IdempotentResult(status=200, body={"n": 1}, replayed=True),
    )
    assert len(calls) == 1
    record = IdempotencyRecord.objects.get()
    assert (record.state, record.response_status, record.response_body) == ("completed", 200, {"n": 1})


def test_a_failed_call_forgets_its_key_so_that_a_retry_runs():
    # given
    def refused():
        raise ApplicationError("Not enough points.", code=LoyaltyErrorCode.INSUFFICIENT_POINTS, status=409)

    with pytest.raises(ApplicationError):
        idempotent_call(owner="o", key="k", fingerprint="f", work=refused)

    # when
    retry = idempotent_call(owner="o", key="k", fingerprint="f", work=lambda: (200, {"ok": True}))

    # then
    assert retry == IdempotentResult(status=200, body={"ok": True}, replayed=False)


def test_an_unexpected_error_also_forgets_the_key():
    # given
    def broken():
        raise RuntimeError("database went away")

    # when
    with pytest.raises(RuntimeError):
        idempotent_call(owner="o", key="k", fingerprint="f", work=broken)

    # then
    assert IdempotencyRecord.objects.count() == 0


def test_expired_records_are_deleted_by_the_cleanup():
    # given
    claim(key="old", now=NOW - timedelta(hours=25))
    claim(key="new", now=NOW - timedelta(hours=1))

    # when
    deleted = idempotency_records_delete_expired(now=NOW)

    # then
    assert deleted == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
