"""Stripe-style idempotency keys for our POST endpoints.

A client sends `Idempotency-Key: <up to 255 characters>` with a write. Keys are scoped per owner (the API client)
and kept for 24 hours (KEY_TTL); after that the same key is a new request. Expired rows are only skipped, not
deleted: `idempotency_records_delete_expired` is there for a periodic cleanup.

- First request with a key: the key is claimed (a record is inserted), the work runs, and the response is stored
  with the work's own writes.
- Same key, same request fingerprint, completed: the stored response is replayed; nothing runs again.
- Same key, different fingerprint: 409 IDEMPOTENCY_KEY_REUSED.
- Same key while the first request is still running: 409 IDEMPOTENCY_REQUEST_IN_PROGRESS, never a second write.
- The work raises (a business 4xx, an unexpected 5xx, the database going away): nothing was written and the claim
  is gone with the attempt, so a retry with the same key simply runs again. Only successful responses are stored.

A claim never outlives a failed attempt, whatever the database does:

- Work in one transaction (an event): the claim is inserted in the work's transaction, so a failure rolls it back
  with the work; there is nothing to release. On PostgreSQL the request first takes a transaction-level advisory
  lock on the key without waiting (`pg_try_advisory_xact_lock`): a duplicate that finds it taken is answered 409
  at once rather than waiting on the uncommitted claim. SQLite serialises writers, so a duplicate waits for the
  first request's transaction and then sees its stored response (or, after a rollback, runs).
- Work of many transactions (a bulk whose events each commit): the claim is committed before the work and
  released (deleted) if the work fails. On PostgreSQL the claimant also holds a session-level advisory lock on the
  key until it completes or releases; the server drops that lock with the connection, so a claim still in progress
  whose key lock is free was left by a claimant that is gone (even if its release failed), and a retry takes it
  over at once. SQLite has no such lock: a claim whose release failed is taken over after IN_PROGRESS_TIMEOUT.
"""

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.models import IdempotencyRecord

logger = logging.getLogger(__name__)

KEY_TTL = timedelta(hours=24)
# Where no key lock tells whether the claimant still runs (SQLite), a committed claim still "in progress" after
# this long belongs to a request that died between the claim and its release (a request never runs this long);
# the key may then be claimed again.
IN_PROGRESS_TIMEOUT = timedelta(minutes=10)
MAX_KEY_LENGTH = 255
HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"


class IdempotencyErrorCode(StrEnum):
    IDEMPOTENCY_KEY_INVALID = "IDEMPOTENCY_KEY_INVALID"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    IDEMPOTENCY_REQUEST_IN_PROGRESS = "IDEMPOTENCY_REQUEST_IN_PROGRESS"


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: Any


@dataclass(frozen=True)
class IdempotentResult:
    status: int
    body: Any
    replayed: bool


def idempotency_key_clean(key: str, *, field: str = HEADER) -> str:
    """The key, stripped. Raises IDEMPOTENCY_KEY_INVALID (400) for an empty, too long or non-printable key."""
    cleaned = key.strip()
    if not cleaned or len(cleaned) > MAX_KEY_LENGTH or not cleaned.isprintable():
        raise ApplicationError(
            _("%(field)s: use 1 to %(length)d printable characters.") % {"field": field, "length": MAX_KEY_LENGTH},
            code=IdempotencyErrorCode.IDEMPOTENCY_KEY_INVALID,
            extra={"field": field},
        )
    return cleaned


def _in_progress_error() -> ApplicationError:
    return ApplicationError(
        _("A request with this idempotency key is still being processed. Retry later."),
        code=IdempotencyErrorCode.IDEMPOTENCY_REQUEST_IN_PROGRESS,
        status=409,
        extra={"field": HEADER},
    )


def _is_abandoned(record: IdempotencyRecord, now: datetime, *, key_locked: bool) -> bool:
    if record.expires_at <= now:
        return True
    if record.state != IdempotencyRecord.State.IN_PROGRESS:
        return False
    return key_locked or record.created_at <= now - IN_PROGRESS_TIMEOUT


def idempotency_record_claim(
    *, owner: str, key: str, fingerprint: str, now: datetime | None = None, key_locked: bool = False
) -> IdempotencyRecord | StoredResponse:
    """Claim the key for a new request (returns the new record), or return the stored response to replay.

    The insert runs under a savepoint: outside any transaction it commits at once, and a concurrent duplicate then
    fails on the unique constraint at once; inside the work's transaction it commits (or rolls back) with the
    work. A record still in progress was left by a claimant that is gone when the caller holds the key's lock
    (`key_locked`: a live claimant would hold it), otherwise once it is IN_PROGRESS_TIMEOUT old; either way it is
    taken over. Raises IDEMPOTENCY_KEY_REUSED (409) for a different request under a live key,
    IDEMPOTENCY_REQUEST_IN_PROGRESS (409) while the first request runs.
    """
    now = now or timezone.now()
    # Two rounds: a key freed meanwhile (released, expired or abandoned) is claimed on the second.
    for _round in range(2):
        record = IdempotencyRecord(
            owner=owner, key=key, request_fingerprint=fingerprint, created_at=now, expires_at=now + KEY_TTL
        )
        record.full_clean(validate_unique=False, validate_constraints=False)
        try:
            with transaction.atomic():
                record.save()
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(owner=owner, key=key).first()
            if existing is None:
                continue
            if _is_abandoned(existing, now, key_locked=key_locked):
                IdempotencyRecord.objects.filter(pk=existing.pk).delete()
                continue
            if existing.request_fingerprint != fingerprint:
                raise ApplicationError(
                    _("This idempotency key was already used for a different request."),
                    code=IdempotencyErrorCode.IDEMPOTENCY_KEY_REUSED,
                    status=409,
                    extra={"field": HEADER},
                ) from None
            if existing.state == IdempotencyRecord.State.IN_PROGRESS:
                raise _in_progress_error() from None
            return StoredResponse(status=existing.response_status, body=existing.response_body)  # type: ignore[arg-type]
        return record
    raise _in_progress_error()


def idempotency_record_complete(*, record: IdempotencyRecord, status: int, body: Any) -> None:
    """Store the response of the claimed request. Compare-and-set: if the claim was taken over meanwhile (it had
    been given up as abandoned), raises IDEMPOTENCY_REQUEST_IN_PROGRESS so that the caller's transaction, and with
    it the work, rolls back."""
    completed = IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyRecord.State.IN_PROGRESS).update(
        state=IdempotencyRecord.State.COMPLETED, response_status=status, response_body=body, completed_at=timezone.now()
    )
    if completed != 1:
        raise _in_progress_error()


def idempotency_record_release(*, record: IdempotencyRecord) -> None:
    """Forget a committed claim whose request failed, so that a retry with the same key runs."""
    IdempotencyRecord.objects.filter(pk=record.pk).delete()


def _key_lock_id(owner: str, key: str) -> int:
    """The 64-bit PostgreSQL advisory lock id of a key (a collision only answers one request 409 IN_PROGRESS)."""
    digest = hashlib.sha256(f"idempotency-key:{owner}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _key_lock_try(lock_id: int, *, until_unlocked: bool) -> bool | None:
    """Take the key's advisory lock without waiting: until the transaction ends, or `until_unlocked` (a session
    lock, which the server also drops with the connection). False: another request holds it. None: the database
    has no advisory locks (SQLite)."""
    if connection.vendor != "postgresql":
        return None
    sql = "SELECT pg_try_advisory_lock(%s)" if until_unlocked else "SELECT pg_try_advisory_xact_lock(%s)"
    with connection.cursor() as cursor:
        cursor.execute(sql, [lock_id])
        return bool(cursor.fetchone()[0])


def _key_unlock(lock_id: int) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])
    except DatabaseError:
        # The connection is broken: closing it makes sure the server ends the session, and the lock with it.
        logger.warning("Idempotency-Key lock not released; closing the connection", exc_info=True)
        connection.close()


def _release_after_failure(record: IdempotencyRecord) -> None:
    """Release the claim of a failed request, or leave it for the next claim of the key to find abandoned when
    the database refuses (it is down): the error that failed the request is the one to report."""
    try:
        idempotency_record_release(record=record)
    except DatabaseError:
        logger.warning("Idempotency-Key claim %s not released", record.pk, exc_info=True)


@transaction.atomic
def _call_in_one_transaction(
    *, owner: str, key: str, fingerprint: str, work: Callable[[], tuple[int, Any]]
) -> IdempotentResult:
    key_locked = _key_lock_try(_key_lock_id(owner, key), until_unlocked=False)
    if key_locked is False:
        raise _in_progress_error()
    claim = idempotency_record_claim(owner=owner, key=key, fingerprint=fingerprint, key_locked=bool(key_locked))
    if isinstance(claim, StoredResponse):
        return IdempotentResult(status=claim.status, body=claim.body, replayed=True)
    status, body = work()
    idempotency_record_complete(record=claim, status=status, body=body)
    return IdempotentResult(status=status, body=body, replayed=False)


def _call_across_transactions(
    *, owner: str, key: str, fingerprint: str, work: Callable[[], tuple[int, Any]]
) -> IdempotentResult:
    lock_id = _key_lock_id(owner, key)
    key_locked = _key_lock_try(lock_id, until_unlocked=True)
    if key_locked is False:
        raise _in_progress_error()
    try:
        claim = idempotency_record_claim(owner=owner, key=key, fingerprint=fingerprint, key_locked=bool(key_locked))
        if isinstance(claim, StoredResponse):
            return IdempotentResult(status=claim.status, body=claim.body, replayed=True)
        finished = False
        try:
            status, body = work()
            idempotency_record_complete(record=claim, status=status, body=body)
            finished = True
        finally:
            if not finished:
                _release_after_failure(claim)
        return IdempotentResult(status=status, body=body, replayed=False)
    finally:
        if key_locked:
            _key_unlock(lock_id)


def idempotent_call(
    *,
    owner: str,
    key: str,
    fingerprint: str,
    work: Callable[[], tuple[int, Any]],
    in_one_transaction: bool = True,
) -> IdempotentResult:
    """Run `work` (returning status and a JSON-able body) at most once per key, as the module docstring says.

    With `in_one_transaction` the claim, the work and the stored response commit together, in a transaction
    opened here. Without it (a bulk request whose events each commit on their own) the claim is committed first
    and the response stored after the work. Whatever `work` raises propagates, and the key is free again.
    """
    if in_one_transaction:
        return _call_in_one_transaction(owner=owner, key=key, fingerprint=fingerprint, work=work)
    return _call_across_transactions(owner=owner, key=key, fingerprint=fingerprint, work=work)


def idempotency_records_delete_expired(*, now: datetime | None = None) -> int:
    """Delete records past their 24 hours. Returns how many were deleted. For a periodic job."""
    deleted, _details = IdempotencyRecord.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
