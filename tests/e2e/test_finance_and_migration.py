"""The finance and migration tools in a real browser: marketing reads the points liability report and downloads
its CSV; an administrator uploads a customer file with a bad row, sees the dry run's progress and the rejected row
with its reason, imports the file, and exports an imported customer's personal data. Screenshots of every step land
in test-artifacts/e2e/<test name>/."""

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from crm.models import Customer
from crm.roles import MARKETING
from loyalty.models import ImportJob, Program
from loyalty.services.ledger import EntrySource
from loyalty.services.points import points_add

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"
IMPORT_CSV = (
    "external_id,first_name,last_name,email,news_letter_sign_up,card_number,points_balance\n"
    "OLD-1,Ada,Lovelace,ada@example.com,yes,7001-0001,120\n"
    "OLD-2,Bad,Row,bad@example.com,perhaps,,\n"
)


def _log_in(page, screenshots, *, username: str) -> None:
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Username:").fill(username)
    page.get_by_label("Password:").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")
    screenshots.take("admin-index")


def test_marketing_reads_the_points_liability_report(
    page, screenshots, admin_roles, program, loyalty_account_factory, django_user_model
):
    # given: a burn value of 0.01 and 1,500 points outstanding
    Program.objects.filter(pk=program.pk).update(burn_value=Decimal("0.01"))
    for points in (1000, 500):
        points_add(account=loyalty_account_factory(), points=points, origin=EntrySource(source="admin"))
    user = django_user_model.objects.create_user(username="marketing", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=MARKETING))
    _log_in(page, screenshots, username="marketing")

    # when: the report, from the Tools on the admin's home page
    page.locator("#tool-points-liability").click()

    # then
    expect(page.locator("#liability-points")).to_have_text("1,500")
    expect(page.locator("#liability-value")).to_have_text("15.00")
    expect(page.locator("#table-by-expiry tbody tr")).to_have_count(1)
    expect(page.locator("#breakage-formula")).to_contain_text("expired / (expired + redeemed)")
    expect(page.locator("#chart-liability-by-expiry")).to_be_visible()
    screenshots.take("points-liability", full_page=True)

    # when: the CSV
    with page.expect_download() as download:
        page.locator("#liability-csv").click()

    # then
    rows = list(csv.reader(io.StringIO(download.value.path().read_text())))
    assert rows[0][:3] == ["section", "month", "spendable_points"]
    assert ["total", "", "1500", "0", "0", "1500", "15.00", program.currency] in rows


def test_an_import_with_a_bad_row_shows_its_progress_and_the_rejected_row(
    page, screenshots, program, django_user_model, settings, tmp_path
):
    # given
    settings.MEDIA_ROOT = tmp_path / "media"
    django_user_model.objects.create_superuser(username="migration", password=PASSWORD, email="m@example.com")
    upload = tmp_path / "old-crm.csv"
    upload.write_text(IMPORT_CSV)
    _log_in(page, screenshots, username="migration")

    # when: the dry run (Celery runs eagerly in the test settings: the job is done when the page answers)
    page.goto("/admin/loyalty/importjob/")
    page.get_by_role("link", name="Import customers").click()
    page.get_by_label("CSV file:").set_input_files(str(upload))
    screenshots.take("upload-form", full_page=True)
    page.get_by_role("button", name="Upload").click()

    # then
    expect(page.locator("#import-status")).to_have_text("Finished")
    expect(page.locator("#import-progress-bar")).to_have_attribute("value", "100")
    expect(page.locator("#import-progress-text")).to_have_text("2 of 2 rows (100%)")
    expect(page.locator("#import-created")).to_have_text("1")
    expect(page.locator("#import-rejected")).to_have_text("1")
    rejected_row = page.locator("#import-rejected-rows tbody tr")
    expect(rejected_row).to_have_count(1)
    expect(rejected_row).to_contain_text("OLD-2")
    expect(rejected_row).to_contain_text("news_letter_sign_up: 'perhaps' is not true or false")
    expect(page.locator("#import-error")).to_be_hidden()
    screenshots.take("dry-run-done", full_page=True)
    assert not Customer.objects.filter(email="ada@example.com").exists()

    # when: the rejected rows
    with page.expect_download() as download:
        page.locator("#import-rejected-link").click()

    # then
    rejected = list(csv.reader(io.StringIO(download.value.path().read_text())))
    assert rejected[1][:3] == ["2", "news_letter_sign_up: 'perhaps' is not true or false (yes/no, 1/0 also accepted).",
                               "OLD-2"]  # fmt: skip

    # when: the import itself
    page.get_by_role("button", name="Import these rows").click()

    # then
    expect(page.locator("#import-progress-title")).to_have_text("Import")
    expect(page.locator("#import-status")).to_have_text("Finished")
    expect(page.locator("#import-created")).to_have_text("1")
    expect(page.locator("#import-rejected")).to_have_text("1")
    screenshots.take("import-done", full_page=True)
    ada = Customer.objects.get(email="ada@example.com")
    assert ada.loyalty_accounts.get().points_balance == 120
    assert not Customer.objects.filter(email="bad@example.com").exists()
    assert ImportJob.objects.filter(is_dry_run=False, status="succeeded").count() == 1

    # when: the subject-access export of the imported customer, from the customer page
    page.goto(f"/admin/crm/customer/{ada.pk}/change/")
    page.get_by_role("link", name="Export personal data").click()

    # then
    expect(page.locator("#content")).to_contain_text(f"Everything held about customer {ada.public_id}")
    expect(page.get_by_role("region", name="External ids")).to_contain_text("OLD-1")
    screenshots.take("subject-access-export", full_page=True)
