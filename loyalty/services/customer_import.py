"""Customer import from another CRM: a CSV file mapped to customers, addresses, consents, loyalty accounts, cards
and opening points balances, written through the services (crm customers, consents and addresses; loyalty
enrolment, cards and the points ledger), idempotent by the other system's id (crm.ExternalCustomerId, source
"import").

The file is read with the csv module over the stored file, row by row, so memory stays flat whatever its size. Each
row runs in its own savepoint: a rejected row writes nothing and the rows around it are kept. Rows are committed a
chunk at a time (CHUNK_ROWS, one transaction) together with the job's counters and `rows_done`, so progress is exact
and a run that stops (a worker restart, the task's time budget) resumes after the last committed row. A dry run
does the same work and rolls every row's savepoint back: it reports what each row would do, conflicts included.

Every row's outcome is appended to the job's report file (line, outcome, customer id, reason, then the row as it
was); the report is cut back to `rows_done` rows when a run resumes, so each row is in it exactly once.
Columns are in IMPORT_COLUMNS and docs/finance-and-migration.md.
"""

import csv
import itertools
import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.enqueue import enqueue_after_commit
from core.exceptions import ApplicationError
from crm.models import CONSENT_NAMES, ConsentChange
from crm.selectors import customer_get_by_external_id
from crm.services.context import ChangeContext
from crm.services.customers import customer_create, customer_update
from crm.services.external_ids import external_id_link
from loyalty.card_numbers import card_number_normalise
from loyalty.models import Card, ImportJob, LoyaltyAccount, Program
from loyalty.selectors.accounts import program_get_default
from loyalty.services.cards import card_issue
from loyalty.services.enrolment import loyalty_account_enrol
from loyalty.services.ledger import EntrySource
from loyalty.services.points import points_add

logger = logging.getLogger(__name__)

IMPORT_SOURCE = "import"
# The opening balance is one ledger entry per account under this key: importing the file again adds nothing.
OPENING_BALANCE_KEY = "import-opening-balance"
CHUNK_ROWS = 500
IMPORTS_DIR = "imports"
REPORT_COLUMNS = ("line", "outcome", "customer_id", "reason")

PROFILE_COLUMNS = (
    "salutation",
    "first_name",
    "last_name",
    "email",
    "phone_mobile",
    "phone_home",
    "birthday",
    "gender",
    "preferred_language",
    "customer_group",
    "tax_id",
    "country",
    "postal_code",
)
# address_<field> columns make the profile address (the first entry of the address list).
ADDRESS_COLUMNS = (
    "address_line1",
    "address_line2",
    "address_city",
    "address_state",
    "address_postal_code",
    "address_country_code",
    "address_phone",
)
LOYALTY_COLUMNS = ("loyalty_member", "program", "card_number", "points_balance")
IMPORT_COLUMNS = ("external_id", *PROFILE_COLUMNS, *ADDRESS_COLUMNS, *CONSENT_NAMES, *LOYALTY_COLUMNS)
TRUE_VALUES = frozenset({"true", "yes", "y", "1"})
FALSE_VALUES = frozenset({"false", "no", "n", "0"})


class ImportFileError(ValueError):
    """The file as a whole cannot be imported (no header, unknown or missing columns, not UTF-8 text)."""


class RowRejected(ValueError):
    """A row that cannot be imported, with the reason a person can act on."""


class _DryRunRollback(Exception):  # noqa: N818 - a control-flow signal, not an error
    pass


@dataclass(frozen=True)
class ImportRow:
    external_id: str
    fields: dict[str, Any]
    address: dict[str, str] | None
    consents: dict[str, bool | None]
    loyalty_member: bool
    program_code: str
    card_number: str
    points_balance: int


@dataclass(frozen=True)
class RowOutcome:
    outcome: str  # "create", "update" or "reject"
    customer_id: str = ""
    reason: str = ""


def import_header_check(header: list[str] | None) -> list[str]:
    """The header row, checked: every column known, none twice, external_id present. Raises ImportFileError."""
    if not header:
        raise ImportFileError("The file is empty: the first row must name the columns (external_id, ...).")
    columns = [name.strip().lower() for name in header]
    unknown = [name for name in columns if name not in IMPORT_COLUMNS]
    if unknown:
        raise ImportFileError(f"Unknown columns: {', '.join(unknown)}. Known columns: {', '.join(IMPORT_COLUMNS)}.")
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        raise ImportFileError(f"Columns named twice: {', '.join(repeated)}.")
    if "external_id" not in columns:
        raise ImportFileError("The external_id column is required: it makes a second import update, not duplicate.")
    return columns


def _flag(value: str, column: str) -> bool | None:
    text = value.strip().lower()
    if not text:
        return None
    if text in TRUE_VALUES:
        return True
    if text in FALSE_VALUES:
        return False
    raise RowRejected(f"{column}: {value!r} is not true or false (yes/no, 1/0 also accepted).")


def import_row_parse(values: dict[str, str]) -> ImportRow:
    """A CSV row (column -> text) as what the services take. Blank cells are left out: an update keeps the value
    held. Raises RowRejected."""
    cells = {name: (value or "").strip() for name, value in values.items() if name is not None}
    external_id = cells.get("external_id", "")
    if not external_id:
        raise RowRejected("external_id: required.")
    fields: dict[str, Any] = {name: cells[name] for name in PROFILE_COLUMNS if cells.get(name)}
    if "birthday" in fields:
        try:
            fields["birthday"] = date.fromisoformat(fields["birthday"])
        except ValueError:
            raise RowRejected(f"birthday: {cells['birthday']!r} is not a date in the form YYYY-MM-DD.") from None
    address = None
    if any(cells.get(name) for name in ADDRESS_COLUMNS):
        address = {
            "first_name": cells.get("first_name", ""),
            "last_name": cells.get("last_name", ""),
            "address_line1": cells.get("address_line1", ""),
            "address_line2": cells.get("address_line2", ""),
            "city": cells.get("address_city", ""),
            "state": cells.get("address_state", ""),
            "postal_code": cells.get("address_postal_code", ""),
            "country_code": cells.get("address_country_code", ""),
            "phone": cells.get("address_phone", ""),
        }
    consents: dict[str, bool | None] = {}
    for name in CONSENT_NAMES:
        flag = _flag(cells.get(name, ""), name)
        if flag is not None:
            consents[name] = flag
    points_text = cells.get("points_balance", "")
    if points_text and not (points_text.isdigit() and points_text.isascii()):
        raise RowRejected(f"points_balance: {points_text!r} is not a whole number of points, 0 or more.")
    return ImportRow(
        external_id=external_id,
        fields=fields,
        address=address,
        consents=consents,
        loyalty_member=bool(_flag(cells.get("loyalty_member", ""), "loyalty_member")),
        program_code=cells.get("program", ""),
        card_number=cells.get("card_number", ""),
        points_balance=int(points_text or 0),
    )


def _reason(error: Exception) -> str:
    if isinstance(error, ApplicationError):
        field = (error.extra or {}).get("field")
        return f"{field}: {error.message}" if field else str(error.message)
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            return "; ".join(
                f"{field}: {' '.join(messages)}" if field != "__all__" else " ".join(messages)
                for field, messages in error.message_dict.items()
            )
        return " ".join(error.messages)
    return str(error)


def _program(code: str, programs: dict[str, Program]) -> Program:
    if not code:
        return programs[""]
    if code not in programs:
        program = Program.objects.filter(code=code).first()
        if program is None:
            raise RowRejected(f"program: no program {code!r}.")
        programs[code] = program
    return programs[code]


def customer_import_row(*, row: ImportRow, context: ChangeContext, programs: dict[str, Program]) -> RowOutcome:
    """Create or update one customer from an import row, enrol them and give them their card and opening balance.
    Raises ApplicationError, ValidationError or RowRejected. Call it inside a savepoint of its own (import_row_apply
    opens one, which a dry run also needs to roll back), so a rejected row leaves nothing behind; it opens none
    itself, which would be a second SAVEPOINT/RELEASE pair per row."""
    customer = customer_get_by_external_id(source=IMPORT_SOURCE, external_id=row.external_id)
    if customer is None:
        customer = customer_create(
            fields=row.fields, context=context, consents=row.consents, profile_address=row.address
        )
        external_id_link(customer=customer, source=IMPORT_SOURCE, external_id=row.external_id)
        outcome = "create"
    else:
        customer = customer_update(
            customer=customer, fields=row.fields, context=context, consents=row.consents, profile_address=row.address
        )
        outcome = "update"
    if row.loyalty_member or row.card_number or row.points_balance:
        program = _program(row.program_code, programs)
        account = loyalty_account_enrol(customer=customer, context=context, program=program)
        if row.card_number:
            # A customer created by this row has no card yet: the check for one already held is for a re-import.
            _card_give(account, row.card_number, is_new_account=outcome == "create")
        if row.points_balance:
            origin = EntrySource(
                source=IMPORT_SOURCE,
                note="Opening balance (import)",
                idempotency_key=OPENING_BALANCE_KEY,
                created_by=context.user,
            )
            points_add(account=account, points=row.points_balance, origin=origin)
    return RowOutcome(outcome=outcome, customer_id=customer.public_id)


def _card_give(account: LoyaltyAccount, number: str, *, is_new_account: bool) -> None:
    """Issue the card unless this account already has it (a second import); another account's card is refused."""
    if not is_new_account:
        strip_zeros = account.program.card_number_strip_leading_zeros
        normalised = card_number_normalise(number, strip_leading_zeros=strip_zeros)
        if normalised and Card.objects.filter(account=account, normalised_number=normalised).exists():
            return
    card_issue(account=account, number=number)


def import_row_apply(
    values: dict[str, str], *, context: ChangeContext, programs: dict[str, Program], is_dry_run: bool
) -> RowOutcome:
    """One row, in a savepoint of its own (rolled back on a dry run, or when the row is rejected)."""
    try:
        row = import_row_parse(values)
        with transaction.atomic():
            outcome = customer_import_row(row=row, context=context, programs=programs)
            if is_dry_run:
                raise _DryRunRollback
    except _DryRunRollback:
        return outcome
    except (RowRejected, ApplicationError, ValidationError, ValueError) as error:
        return RowOutcome(outcome="reject", reason=_reason(error))
    return outcome


# Files: where the upload and the report live (MEDIA_ROOT, which the web process and the worker both see).


def _media_path(relative: str) -> Path:
    return Path(settings.MEDIA_ROOT) / relative


def _open_rows(path: Path) -> tuple[IO[str], list[str], Iterator[dict[str, str]]]:
    handle = path.open(newline="", encoding="utf-8-sig")
    reader = csv.reader(handle)
    columns = import_header_check(next(reader, None))
    rows = (dict(zip(columns, cells, strict=False)) for cells in reader if any(cell.strip() for cell in cells))
    return handle, columns, rows


def import_file_store(*, source: IO[bytes]) -> tuple[str, int]:
    """Copy an upload to MEDIA_ROOT/imports/ in chunks, check its header and count its rows (streaming both).
    Returns (path relative to MEDIA_ROOT, number of rows). Raises ImportFileError; nothing is kept then."""
    relative = f"{IMPORTS_DIR}/{uuid.uuid4().hex}.csv"
    path = _media_path(relative)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as target:
        for chunk in iter(lambda: source.read(1024 * 1024), b""):
            target.write(chunk)
    try:
        handle, _columns, rows = _open_rows(path)
        with handle:
            count = sum(1 for _row in rows)
    except (ImportFileError, UnicodeDecodeError, csv.Error) as error:
        path.unlink(missing_ok=True)
        if isinstance(error, ImportFileError):
            raise
        raise ImportFileError(f"Not a UTF-8 CSV file: {error}") from error
    if count == 0:
        path.unlink(missing_ok=True)
        raise ImportFileError("The file has a header row but no customers.")
    return relative, count


@transaction.atomic
def import_job_create(
    *, upload: IO[bytes], file_name: str, user: Any, is_dry_run: bool = True, enqueue: bool = True
) -> ImportJob:
    """Store the upload and queue its run (customer_import_run_task after commit; `enqueue=False`: the caller runs
    it, as `manage.py import_customers` does). Raises ImportFileError; nothing is kept then."""
    stored, rows_total = import_file_store(source=upload)
    job = ImportJob(
        is_dry_run=is_dry_run, file_name=file_name[:255], stored_file=stored, rows_total=rows_total, created_by=user
    )
    return _job_queue(job, enqueue=enqueue)


@transaction.atomic
def import_job_from_dry_run(*, dry_run: ImportJob, user: Any) -> ImportJob:
    """The real import of a finished dry run's file. Raises ImportFileError when there is none to import."""
    if not dry_run.is_dry_run or dry_run.status != ImportJob.Status.SUCCEEDED:
        raise ImportFileError("Only a finished dry run can be imported.")
    if not dry_run.stored_file or not _media_path(dry_run.stored_file).exists():
        raise ImportFileError("The dry run's file is no longer kept (it was imported already?); upload it again.")
    return _job_queue(
        ImportJob(
            is_dry_run=False,
            file_name=dry_run.file_name,
            stored_file=dry_run.stored_file,
            rows_total=dry_run.rows_total,
            dry_run_of=dry_run,
            created_by=user,
        )
    )


# A running job's progress moves every chunk (seconds) and its task hands over every 240 s: one that has not moved
# for this long lost its worker (a restart, a lost message) and may be resumed.
STALLED_AFTER = timedelta(minutes=10)


def import_job_is_stalled(job: ImportJob, *, now: datetime) -> bool:
    return job.status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING) and job.updated_at < now - STALLED_AFTER


@transaction.atomic
def import_job_resume(*, job: ImportJob) -> None:
    """Queue a stalled job's run again; it goes on after its last committed row. Raises ImportFileError for a job
    that is not stalled (a second run beside a live one would stop at its first chunk anyway)."""
    from loyalty.tasks import customer_import_run_task

    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if not import_job_is_stalled(job, now=timezone.now()):
        raise ImportFileError("Only a job that has made no progress for 10 minutes can be resumed.")
    ImportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now())
    enqueue_after_commit(customer_import_run_task, job.pk)


def _job_queue(job: ImportJob, *, enqueue: bool = True) -> ImportJob:
    from loyalty.tasks import customer_import_run_task

    job.full_clean()
    job.save()
    job.report_file = f"{IMPORTS_DIR}/reports/{job.pk}.csv"
    job.save(update_fields=["report_file", "updated_at"])
    if enqueue:
        enqueue_after_commit(customer_import_run_task, job.pk)
    return job


def _report_prepare(job: ImportJob, columns: list[str]) -> None:
    """The report holds the header and exactly the first `rows_done` rows' lines: a run that stopped after writing
    a chunk's lines but before committing it left lines the resumed run writes again."""
    path = _media_path(job.report_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or job.rows_done == 0:
        with path.open("w", newline="", encoding="utf-8") as report:
            csv.writer(report).writerow((*REPORT_COLUMNS, *columns))
        return
    kept = path.with_suffix(".tmp")
    with path.open(newline="", encoding="utf-8") as old, kept.open("w", newline="", encoding="utf-8") as new:
        writer = csv.writer(new)
        for line in itertools.islice(csv.reader(old), job.rows_done + 1):
            writer.writerow(line)
    os.replace(kept, path)


def _claim(job_pk: int) -> ImportJob | None:
    """Queued -> running (compare-and-set); a running job is a continuation and goes on. None: nothing to do."""
    now = timezone.now()
    ImportJob.objects.filter(pk=job_pk, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING, started_at=now, updated_at=now
    )
    return ImportJob.objects.filter(pk=job_pk, status=ImportJob.Status.RUNNING).select_related("created_by").first()


def import_job_run(*, job_pk: int, deadline: float | None = None) -> bool:
    """Run the job from its first uncommitted row, a chunk per transaction, until the file ends (True) or the
    monotonic `deadline` passes (False: call again to go on). A job already finished or failed is left alone (True).
    A file that cannot be read fails the job, with the reason in `error`."""
    import time

    job = _claim(job_pk)
    if job is None:
        return True
    try:
        handle, columns, rows = _open_rows(_media_path(job.stored_file))
    except (OSError, ImportFileError, UnicodeDecodeError, csv.Error) as error:
        _fail(job, f"The file cannot be read: {error}")
        return True
    context = ChangeContext(channel=ConsentChange.Channel.ADMIN, user=job.created_by)
    programs: dict[str, Program] = {"": program_get_default()}
    with handle:
        _report_prepare(job, columns)
        remaining = itertools.islice(rows, job.rows_done, None)
        line = job.rows_done + 1  # data rows are numbered from 1, the header not counted
        while True:
            chunk = list(itertools.islice(remaining, CHUNK_ROWS))
            if not chunk:
                break
            try:
                lines = _chunk_apply(job, chunk, first_line=line, columns=columns, context=context, programs=programs)
            except _ChunkTaken:
                return True
            with _media_path(job.report_file).open("a", newline="", encoding="utf-8") as report:
                csv.writer(report).writerows(lines)
            line += len(chunk)
            if deadline is not None and time.monotonic() > deadline:
                return False
    _finish(job)
    return True


class _ChunkTaken(Exception):  # noqa: N818 - control flow: another run moved the job on
    pass


@transaction.atomic
def _chunk_apply(
    job: ImportJob,
    chunk: list[dict[str, str]],
    *,
    first_line: int,
    columns: list[str],
    context: ChangeContext,
    programs: dict[str, Program],
) -> list[tuple[Any, ...]]:
    # The job row is locked for the chunk, and must still be where this run left it: a second worker given the
    # same job (a duplicated message) stops here instead of importing the rows twice.
    locked = ImportJob.objects.select_for_update().filter(pk=job.pk).values_list("rows_done", "status").first()
    if locked != (job.rows_done, ImportJob.Status.RUNNING):
        raise _ChunkTaken
    counts = {"create": 0, "update": 0, "reject": 0}
    lines = []
    for offset, values in enumerate(chunk):
        result = import_row_apply(values, context=context, programs=programs, is_dry_run=job.is_dry_run)
        counts[result.outcome] += 1
        lines.append(
            (
                first_line + offset,
                result.outcome,
                result.customer_id,
                result.reason,
                *(values.get(c, "") for c in columns),
            )
        )
    job.rows_done += len(chunk)
    ImportJob.objects.filter(pk=job.pk).update(
        rows_done=job.rows_done,
        created_count=F("created_count") + counts["create"],
        updated_count=F("updated_count") + counts["update"],
        rejected_count=F("rejected_count") + counts["reject"],
        updated_at=timezone.now(),
    )
    return lines


def _finish(job: ImportJob) -> None:
    now = timezone.now()
    ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING).update(
        status=ImportJob.Status.SUCCEEDED, finished_at=now, updated_at=now
    )
    if not job.is_dry_run:
        # The upload holds personal data: once imported it is not kept (nor offered again by its dry run).
        _media_path(job.stored_file).unlink(missing_ok=True)
        ImportJob.objects.filter(stored_file=job.stored_file).update(stored_file="")
    logger.info("customer import %s finished", job.pk)


def _fail(job: ImportJob, error: str) -> None:
    now = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED, error=error[:2000], finished_at=now, updated_at=now
    )
    logger.warning("customer import %s failed: %s", job.pk, error)


def import_report_rows(job: ImportJob, *, rejected_only: bool) -> Iterator[list[str]]:
    """The report's rows, header first, read from its file as they are sent (streaming). Rejected only: the
    reason and the row as it was, ready to be corrected and imported again."""
    path = _media_path(job.report_file) if job.report_file else None
    if path is None or not path.exists():
        return
    with path.open(newline="", encoding="utf-8") as report:
        reader = csv.reader(report)
        header = next(reader, None)
        if header is None:
            return
        if not rejected_only:
            yield header
            yield from reader
            return
        yield ["line", "reason", *header[len(REPORT_COLUMNS) :]]
        for line in reader:
            if line[1] == "reject":
                yield [line[0], line[3], *line[len(REPORT_COLUMNS) :]]
