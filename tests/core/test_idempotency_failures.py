"""core.idempotency when the database fails mid-request: the key's claim never outlives the failed attempt, so the
retry with the same key runs (instead of 409 IDEMPOTENCY_REQUEST_IN_PROGRESS) and nothing of the attempt stays."""

import pytest
from django.db import OperationalError

import core.idempotency as idempotency
from core.idempotency import IdempotentResult, idempotent_call
from core.models import IdempotencyRecord
from crm.models import Store

pytestmark = pytest.mark.django_db


def database_gone(**_arguments):
    raise OperationalError("server closed the connection unexpectedly")


@pytest.fixture
def release_fails(monkeypatch):
    """Deleting the claim fails too: the database is still down when the attempt gives up."""
    monkeypatch.setattr(idempotency, "idempotency_record_release", database_gone)


def store_written_then_database_gone():
    Store.objects.create(code="S1", name="Half written")
    database_gone()


def store_written(code):
    def work():
        Store.objects.create(code=code, name="Written")
        return 200, {"store": code}

    return work


def test_a_database_failure_during_the_work_leaves_nothing_and_the_retry_runs(release_fails):
    # given
    with pytest.raises(OperationalError):
        idempotent_call(owner="o", key="k", fingerprint="f", work=store_written_then_database_gone)

    # when
    retry = idempotent_call(owner="o", key="k", fingerprint="f", work=store_written("S2"))

    # then
    assert retry == IdempotentResult(status=200, body={"store": "S2"}, replayed=False)
    assert list(Store.objects.values_list("code", flat=True)) == ["S2"]
    record = IdempotencyRecord.objects.get()
    assert (record.state, record.response_body) == ("completed", {"store": "S2"})


def test_a_database_failure_before_the_claim_is_complete_leaves_no_record(release_fails, monkeypatch):
    # given: the work commits its writes, then storing its response fails
    monkeypatch.setattr(idempotency, "idempotency_record_complete", database_gone)

    # when
    with pytest.raises(OperationalError):
        idempotent_call(owner="o", key="k", fingerprint="f", work=store_written("S1"))

    # then
    assert (Store.objects.count(), IdempotencyRecord.objects.count()) == (0, 0)


def test_a_work_of_many_transactions_that_fails_frees_its_key_at_once_on_postgresql(on_postgres, release_fails):
    # given: a bulk's work commits as it goes; the database fails in the middle, and again at the release
    def second_write_fails():
        Store.objects.create(code="S1", name="Committed")
        database_gone()

    with pytest.raises(OperationalError):
        idempotent_call(owner="o", key="k", fingerprint="f", work=second_write_fails, in_one_transaction=False)

    # when
    retry = idempotent_call(owner="o", key="k", fingerprint="f", work=store_written("S2"), in_one_transaction=False)

    # then: the claimant's key lock went with it, so its claim is known abandoned
    assert retry == IdempotentResult(status=200, body={"store": "S2"}, replayed=False)
    assert sorted(Store.objects.values_list("code", flat=True)) == ["S1", "S2"]
    assert list(IdempotencyRecord.objects.values_list("state", flat=True)) == ["completed"]
