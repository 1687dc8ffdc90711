"""Customer imports in the back office (loyalty/admin/imports.py): upload for a dry run, the JSON status the
progress bar polls, the reports, "Import these rows"; who may do what; a bad file refused with nothing written."""

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from crm.models import Customer
from crm.roles import MARKETING, STORE_MANAGERS
from loyalty.models import ImportJob

LIST_URL = "/admin/loyalty/importjob/"
UPLOAD_URL = f"{LIST_URL}upload/"
CSV_TEXT = (
    "external_id,first_name,last_name,email,points_balance\n"
    "X-1,Ada,Lovelace,ada@example.com,100\n"
    "X-2,Bad,Points,bad@example.com,lots\n"
)
STATUS_QUERIES = 4  # session, user, the job; permissions are the superuser's


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _upload(client, text: str, *, dry_run: bool = True):
    data = {"file": SimpleUploadedFile("crm.csv", text.encode(), content_type="text/csv")}
    if dry_run:
        data["is_dry_run"] = "on"
    return client.post(UPLOAD_URL, data)


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.django_db
def test_dry_run_then_import_from_the_admin(admin_client, program, django_capture_on_commit_callbacks):
    # when: the upload (Celery runs eagerly in the test settings, after the commit)
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(admin_client, CSV_TEXT)

    # then
    dry_run = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{LIST_URL}{dry_run.pk}/change/"
    status = admin_client.get(f"{LIST_URL}{dry_run.pk}/status/").json()
    assert {key: status[key] for key in ("status", "rows_total", "rows_done", "percent", "created", "rejected")} == {
        "status": "succeeded",
        "rows_total": 2,
        "rows_done": 2,
        "percent": 100,
        "created": 1,
        "rejected": 1,
    }
    assert not Customer.objects.filter(email="ada@example.com").exists()
    page = admin_client.get(f"{LIST_URL}{dry_run.pk}/change/").content.decode()
    assert "Import these rows" in page
    assert 'id="import-progress-bar" value="100"' in page
    assert _csv(admin_client.get(f"{LIST_URL}{dry_run.pk}/rejected.csv")) == [
        ["line", "reason", "external_id", "first_name", "last_name", "email", "points_balance"],
        ["2", "points_balance: 'lots' is not a whole number of points, 0 or more.", "X-2", "Bad", "Points",
         "bad@example.com", "lots"],
    ]  # fmt: skip

    # when: the import of the same file
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{LIST_URL}{dry_run.pk}/import/")

    # then
    job = ImportJob.objects.get(is_dry_run=False)
    assert response["Location"] == f"{LIST_URL}{job.pk}/change/"
    assert (job.status, job.created_count, job.rejected_count, job.dry_run_of_id) == ("succeeded", 1, 1, dry_run.pk)
    ada = Customer.objects.get(email="ada@example.com")
    assert ada.loyalty_accounts.get().points_balance == 100
    assert not Customer.objects.filter(email="bad@example.com").exists()
    assert LogEntry.objects.filter(object_id__in=[str(dry_run.pk), str(job.pk)]).count() == 2

    # when: importing the dry run again (its file was deleted by the import)
    response = admin_client.post(f"{LIST_URL}{dry_run.pk}/import/", follow=True)

    # then
    assert "no longer kept" in response.content.decode()
    assert ImportJob.objects.count() == 2


@pytest.mark.django_db
def test_a_bad_header_is_a_400_naming_the_columns_and_writes_nothing(admin_client, program, media_root):
    # when
    response = _upload(admin_client, "external_id,nickname\nX,Y\n")

    # then
    assert response.status_code == 400
    assert "Unknown columns: nickname." in response.content.decode()
    assert not ImportJob.objects.exists()
    assert not list(media_root.rglob("*.csv"))


@pytest.mark.django_db
def test_the_upload_form_lists_the_columns(admin_client):
    # when
    response = admin_client.get(UPLOAD_URL)

    # then
    assert response.status_code == 200
    assert "external_id, salutation, first_name" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("group_name", [STORE_MANAGERS, MARKETING])
def test_roles_may_not_import_or_see_imports(role_client, group_name, program):
    # given
    client = role_client(group_name)

    # when
    responses = [_upload(client, CSV_TEXT), client.get(LIST_URL), client.get(f"{LIST_URL}1/status/")]

    # then
    assert [response.status_code for response in responses] == [403, 403, 403]
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_status_endpoint_keeps_its_query_budget(
    admin_client, program, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    # given
    with django_capture_on_commit_callbacks(execute=True):
        _upload(admin_client, CSV_TEXT)
    job = ImportJob.objects.get()

    # when / then
    with django_assert_max_num_queries(STATUS_QUERIES):
        response = admin_client.get(f"{LIST_URL}{job.pk}/status/")
    assert response.status_code == 200


@pytest.mark.django_db
def test_a_stalled_job_can_be_resumed_and_finishes(admin_client, program, django_capture_on_commit_callbacks):
    # given: a job whose worker died before its first chunk (queued ten minutes ago, never run)
    from io import BytesIO

    from loyalty.services.customer_import import import_job_create

    job = import_job_create(upload=BytesIO(CSV_TEXT.encode()), file_name="crm.csv", user=None, enqueue=False)
    ImportJob.objects.filter(pk=job.pk).update(updated_at=timezone.now() - timedelta(minutes=11))
    assert "import-resume-form" in admin_client.get(f"{LIST_URL}{job.pk}/change/").content.decode()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{LIST_URL}{job.pk}/resume/")

    # then
    job.refresh_from_db()
    assert response.status_code == 302
    assert (job.status, job.rows_done, job.created_count, job.rejected_count) == ("succeeded", 2, 1, 1)


@pytest.mark.django_db
def test_a_job_that_moves_cannot_be_resumed(admin_client, program):
    # given
    from io import BytesIO

    from loyalty.services.customer_import import import_job_create

    job = import_job_create(upload=BytesIO(CSV_TEXT.encode()), file_name="crm.csv", user=None, enqueue=False)

    # when
    response = admin_client.post(f"{LIST_URL}{job.pk}/resume/", follow=True)

    # then
    assert "Only a job that has made no progress for 10 minutes can be resumed." in response.content.decode()
    job.refresh_from_db()
    assert (job.status, job.rows_done) == ("queued", 0)
