"""Stripe-style idempotency keys for our POST endpoints.

A client sends `Idempotency-Key: <up to 255 characters>` with a write. Keys are scoped per owner (the API client)
and kept for 24 hours (KEY_TTL); after that the same key is a new request. Expired rows are only skipped, not
deleted: `idempotency_records_delete_expired` is there for a periodic cleanup.

- First request with a key: the record is inserted (and committed) before any work starts, the work runs, and
  the response is stored in the same transaction as the work's own writes.
- Same key, same request fingerprint, completed: the stored response is replayed; nothing runs again.
- Same key, different fingerprint: 409 IDEMPOTENCY_KEY_REUSED.
- Same key while the first request is still running: 409 IDEMPOTENCY_REQUEST_IN_PROGRESS, never a second write.
- The work raises (a business 4xx or an unexpected 5xx): the record is deleted. The work's transaction rolled
  back, so nothing was written and a retry with the same key simply runs again (for instance once the customer
  has enough points). Only successful responses are stored and replayed.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.models import IdempotencyRecord

KEY_TTL = timedelta(hours=24)
# A record still "in progress" after this long belongs to a worker that died between the claim and the end of
# its work (a request never runs this long); the key may then be claimed again.
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


def _is_abandoned(record: IdempotencyRecord, now: datetime) -> bool:
    expired = record.expires_at <= now
    stuck = record.state == IdempotencyRecord.State.IN_PROGRESS and record.created_at <= now - IN_PROGRESS_TIMEOUT
    return expired or stuck


def idempotency_record_claim(
    *, owner: str, key: str, fingerprint: str, now: datetime | None = None
) -> IdempotencyRecord | StoredResponse:
    """Claim the key for a new request (returns the new record), or return the stored response to replay.

    The insert runs in its own transaction so that, outside any caller's transaction, the claim is committed
    before the work begins and a concurrent duplicate fails on the unique constraint at once. Raises
    IDEMPOTENCY_KEY_REUSED (409) for a different request under a live key, IDEMPOTENCY_REQUEST_IN_PROGRESS (409)
    while the first request runs.
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
            if _is_abandoned(existing, now):
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
    been abandoned for IN_PROGRESS_TIMEOUT), raises IDEMPOTENCY_REQUEST_IN_PROGRESS so that the caller's
    transaction, and with it the work, rolls back."""
    completed = IdempotencyRecord.objects.filter(pk=record.pk, state=IdempotencyRecord.State.IN_PROGRESS).update(
        state=IdempotencyRecord.State.COMPLETED, response_status=status, response_body=body, completed_at=timezone.now()
    )
    if completed != 1:
        raise _in_progress_error()


def idempotency_record_release(*, record: IdempotencyRecord) -> None:
    """Forget a claim whose request failed, so that a retry with the same key runs."""
    IdempotencyRecord.objects.filter(pk=record.pk).delete()


def idempotent_call(
    *,
    owner: str,
    key: str,
    fingerprint: str,
    work: Callable[[], tuple[int, Any]],
    in_one_transaction: bool = True,
) -> IdempotentResult:
    """Run `work` (returning status and a JSON-able body) at most once per key, as the module docstring says.

    With `in_one_transaction` the work and the stored response commit together, in a transaction opened here.
    Without it (a bulk request whose events each commit on their own) the response is stored after the work.
    Whatever `work` raises propagates, after the claim is released.
    """
    claim = idempotency_record_claim(owner=owner, key=key, fingerprint=fingerprint)
    if isinstance(claim, StoredResponse):
        return IdempotentResult(status=claim.status, body=claim.body, replayed=True)
    finished = False
    try:
        if in_one_transaction:
            with transaction.atomic():
                status, body = work()
                idempotency_record_complete(record=claim, status=status, body=body)
        else:
            status, body = work()
            idempotency_record_complete(record=claim, status=status, body=body)
        finished = True
    finally:
        if not finished:
            idempotency_record_release(record=claim)
    return IdempotentResult(status=status, body=body, replayed=False)


def idempotency_records_delete_expired(*, now: datetime | None = None) -> int:
    """Delete records past their 24 hours. Returns how many were deleted. For a periodic job."""
    deleted, _details = IdempotencyRecord.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted
