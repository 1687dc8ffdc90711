"""The customer import (loyalty/services/customer_import.py, manage.py import_customers): rows mapped through the
services to customers, addresses, consents, accounts, cards and opening balances; a dry run that writes nothing;
rejected rows that write nothing; idempotent by external id; resumable chunk by chunk; the upload deleted after."""

import csv
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from crm.models import Address, ConsentChange, Consents, Customer, ExternalCustomerId
from loyalty.models import Card, ImportJob, LoyaltyAccount, PointsEntry
from loyalty.services import customer_import
from loyalty.services.customer_import import (
    ImportFileError,
    import_job_create,
    import_job_from_dry_run,
    import_job_run,
    import_report_rows,
)

HEADER = (
    "external_id,first_name,last_name,email,phone_mobile,birthday,address_line1,address_city,address_postal_code,"
    "address_country_code,news_letter_sign_up,sms_sign_up,card_number,points_balance\n"
)
GOOD_ROWS = (
    "A-1,Ada,Lovelace,ada@example.com,+1 202 555 0101,1990-12-10,1 Main St,Springfield,12345,US,yes,no,7001 0001,250\n"
    "A-2,Grace,Hopper,grace@example.com,,,,,,,true,,,\n"
)
BAD_ROW = "A-3,Bad,Birthday,bad@example.com,,31-12-1990,,,,,,,,\n"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _job(text: str, *, is_dry_run: bool, user=None) -> ImportJob:
    job = import_job_create(
        upload=io.BytesIO(text.encode()), file_name="crm.csv", user=user, is_dry_run=is_dry_run, enqueue=False
    )
    import_job_run(job_pk=job.pk)
    job.refresh_from_db()
    return job


def _written() -> tuple[int, ...]:
    return (
        Customer.objects.count(),
        Address.objects.count(),
        Consents.objects.count(),
        ConsentChange.objects.count(),
        ExternalCustomerId.objects.count(),
        LoyaltyAccount.objects.count(),
        Card.objects.count(),
        PointsEntry.objects.count(),
    )


@pytest.mark.django_db
def test_dry_run_reports_each_row_and_writes_nothing(program, media_root):
    # given
    before = _written()

    # when
    job = _job(HEADER + GOOD_ROWS + BAD_ROW, is_dry_run=True)

    # then
    assert _written() == before
    assert (job.status, job.rows_total, job.rows_done) == (ImportJob.Status.SUCCEEDED, 3, 3)
    assert (job.created_count, job.updated_count, job.rejected_count) == (2, 0, 1)
    report = list(import_report_rows(job, rejected_only=False))
    assert [row[:2] for row in report] == [["line", "outcome"], ["1", "create"], ["2", "create"], ["3", "reject"]]
    assert report[3][3] == "birthday: '31-12-1990' is not a date in the form YYYY-MM-DD."
    assert (media_root / job.stored_file).exists(), "a dry run keeps the file for the import that follows"


@pytest.mark.django_db
def test_import_writes_through_the_services_and_a_rejected_row_writes_nothing(program, media_root, admin_user):
    # when
    dry_run = _job(HEADER + GOOD_ROWS + BAD_ROW, is_dry_run=True)
    job = import_job_from_dry_run(dry_run=dry_run, user=admin_user)
    import_job_run(job_pk=job.pk)
    job.refresh_from_db()

    # then
    assert (job.status, job.created_count, job.updated_count, job.rejected_count) == ("succeeded", 2, 0, 1)
    ada = ExternalCustomerId.objects.get(source="import", external_id="A-1").customer
    assert (ada.first_name, ada.email, ada.phone_mobile, str(ada.birthday)) == (
        "Ada",
        "ada@example.com",
        "+12025550101",
        "1990-12-10",
    )
    assert (ada.profile_address.address_line1, ada.profile_address.city, ada.profile_address.country_code) == (
        "1 Main St",
        "Springfield",
        "US",
    )
    assert (ada.consents.news_letter_sign_up, ada.consents.sms_sign_up) == (True, False)
    assert ConsentChange.objects.filter(customer=ada, user=admin_user, channel="admin").count() == 2
    account = LoyaltyAccount.objects.get(customer=ada)
    assert sorted(account.cards.values_list("number", flat=True)) == sorted([account.account_number, "7001 0001"])
    assert account.points_balance == 250
    ledger = PointsEntry.objects.filter(account=account, bucket="spendable").aggregate(total=Sum("points"))["total"]
    assert ledger == 250
    assert PointsEntry.objects.get(account=account).source == "import"
    grace = ExternalCustomerId.objects.get(external_id="A-2").customer
    assert not LoyaltyAccount.objects.filter(customer=grace).exists()
    assert not Customer.objects.filter(email="bad@example.com").exists()
    assert not ExternalCustomerId.objects.filter(external_id="A-3").exists()
    assert list(import_report_rows(job, rejected_only=True))[1][:3] == [
        "3",
        "birthday: '31-12-1990' is not a date in the form YYYY-MM-DD.",
        "A-3",
    ]
    assert not (media_root / dry_run.stored_file).exists(), "the upload is deleted once imported"
    dry_run.refresh_from_db()
    assert dry_run.stored_file == ""


@pytest.mark.django_db
def test_importing_the_same_file_again_updates_and_adds_no_points_or_cards(program):
    # given
    _job(HEADER + GOOD_ROWS, is_dry_run=False)
    before = _written()

    # when
    changed = GOOD_ROWS.replace("Grace,Hopper", "Grace,Hopper-Murray")
    job = _job(HEADER + changed, is_dry_run=False)

    # then
    assert (job.created_count, job.updated_count, job.rejected_count) == (0, 2, 0)
    assert _written() == before
    assert Customer.objects.get(email="grace@example.com").last_name == "Hopper-Murray"
    assert LoyaltyAccount.objects.get(customer__email="ada@example.com").points_balance == 250


@pytest.mark.django_db
def test_rows_refused_by_the_services_are_rejected_with_their_reason(program, customer_factory):
    # given: the email is another customer's; the card number is taken by A-1 of the same file
    customer_factory(email="taken@example.com")
    rows = (
        "B-1,Tom,Taken,taken@example.com,,,,,,,,,,\n"
        "B-2,Ann,Card,ann@example.com,,,,,,,,,CARD-1,\n"
        "B-3,Bob,Card,bob@example.com,,,,,,,,,CARD-1,10\n"
        "B-4,,,,,,,,,,,,,\n"
        ",No,Id,noid@example.com,,,,,,,,,,\n"
        "B-6,Pat,Points,pat@example.com,,,,,,,,,,-5\n"
    )
    before_emails = set(Customer.objects.values_list("email", flat=True))

    # when
    job = _job(HEADER + rows, is_dry_run=False)

    # then
    reasons = [(row[0], row[1]) for row in list(import_report_rows(job, rejected_only=True))[1:]]
    assert reasons == [
        ("1", "email: This email address is already used by another customer."),
        ("3", "number: Another card already has this number."),
        ("4", "A customer needs at least a first name, last name, email or phone number."),
        ("5", "external_id: required."),
        ("6", "points_balance: '-5' is not a whole number of points, 0 or more."),
    ]
    assert set(Customer.objects.values_list("email", flat=True)) - before_emails == {"ann@example.com"}
    assert (job.created_count, job.rejected_count) == (1, 5)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The file is empty"),
        ("external_id,nickname\nX,Y\n", "Unknown columns: nickname."),
        ("first_name\nAda\n", "The external_id column is required"),
        ("external_id,email,email\nX,a,b\n", "Columns named twice: email."),
        (HEADER, "The file has a header row but no customers."),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_whole(program, media_root, text, message):
    # when / then
    with pytest.raises(ImportFileError, match=message.replace(".", r"\.")):
        import_job_create(upload=io.BytesIO(text.encode()), file_name="x.csv", user=None, enqueue=False)
    assert not ImportJob.objects.exists()
    assert list((media_root / "imports").glob("*.csv")) == []


@pytest.mark.django_db
def test_a_run_stopped_between_chunks_resumes_after_the_last_committed_row(program, monkeypatch):
    # given: chunks of 2 rows, and a deadline already past (the run stops after its first chunk)
    monkeypatch.setattr(customer_import, "CHUNK_ROWS", 2)
    rows = "".join(f"C-{n},First{n},,c{n}@example.com,,,,,,,,,,\n" for n in range(5))
    job = import_job_create(upload=io.BytesIO((HEADER + rows).encode()), file_name="c.csv", user=None, enqueue=False)

    # when
    finished = import_job_run(job_pk=job.pk, deadline=0)
    job.refresh_from_db()

    # then
    assert (finished, job.status, job.rows_done, job.created_count, job.percent_done) == (False, "running", 2, 2, 40)

    # when: the continuation
    assert import_job_run(job_pk=job.pk) is True
    job.refresh_from_db()

    # then
    assert (job.status, job.rows_done, job.created_count) == ("succeeded", 5, 5)
    assert [row[0] for row in import_report_rows(job, rejected_only=False)] == ["line", "1", "2", "3", "4", "5"]


@pytest.mark.django_db
def test_command_dry_run_prints_rejected_rows_and_a_summary(program, tmp_path):
    # given
    path = tmp_path / "crm.csv"
    path.write_text(HEADER + GOOD_ROWS + BAD_ROW)
    out = io.StringIO()

    # when
    call_command("import_customers", str(path), "--dry-run", stdout=out)

    # then
    lines = out.getvalue().splitlines()
    assert list(csv.reader(lines[:2]))[1][:3] == [
        "3",
        "birthday: '31-12-1990' is not a date in the form YYYY-MM-DD.",
        "A-3",
    ]
    assert lines[-1].endswith(": 3 rows, 2 customers would be created, 0 updated, 1 rows rejected.")
    assert not Customer.objects.filter(email="ada@example.com").exists()


@pytest.mark.django_db
def test_command_refuses_a_bad_header(program, tmp_path):
    # given
    path = tmp_path / "crm.csv"
    path.write_text("id,name\n1,Ada\n")

    # when / then
    with pytest.raises(CommandError, match="Unknown columns: id, name"):
        call_command("import_customers", str(path))


# Statements a new customer's row costs through the services (customer with email check, consents and their
# history, profile address, external id, enrolment with its tier and digital card, the card, the opening balance in
# the ledger, three webhook events, and the savepoints the services open): measured 64 in December 2026
# (docs/finance-and-migration.md, Throughput). A change that adds statements per row slows a 100,000-row import.
STATEMENTS_PER_NEW_ROW = 64
STATEMENTS_PER_RUN = 10  # the job's claim, chunk lock, progress and finish, and the default program, per run


@pytest.mark.django_db
def test_a_new_customer_row_stays_within_its_statement_budget(program, django_assert_max_num_queries):
    # given: ten new customers, each with an address, two consents, a card and an opening balance
    rows = "".join(
        f"B-{n},First{n},Last{n},b{n}@example.com,,1990-01-1{n},{n} Main St,Springfield,12345,US,yes,no,"
        f"8001 {n:04d},{100 + n}\n"
        for n in range(10)
    )
    job = import_job_create(
        upload=io.BytesIO((HEADER + rows).encode()), file_name="crm.csv", user=None, is_dry_run=False, enqueue=False
    )

    # when
    with django_assert_max_num_queries(10 * STATEMENTS_PER_NEW_ROW + STATEMENTS_PER_RUN):
        import_job_run(job_pk=job.pk)

    # then
    job.refresh_from_db()
    assert (job.created_count, job.updated_count, job.rejected_count) == (10, 0, 0)
    assert Card.objects.filter(number__startswith="8001").count() == 10
    assert PointsEntry.objects.aggregate(total=Sum("points"))["total"] == sum(100 + n for n in range(10))
