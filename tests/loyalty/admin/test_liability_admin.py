"""The points liability page (loyalty/admin/liability.py) and `manage.py points_liability`: who may read it, its
figures and CSV with exact values, bad filters answered 400, its query budget."""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command

from crm.roles import FINANCE, MARKETING, STORE_MANAGERS
from loyalty.services.ledger import EntrySource
from loyalty.services.points import points_add, points_expire
from loyalty.services.purchases import purchase_checkout, request_fingerprint

URL = "/admin/points-liability/"
NOW = datetime(2026, 5, 20, 12, tzinfo=UTC)
# Session and user; the user's and their groups' permissions; the programs; the report's four.
PAGE_QUERIES = 8
EXPECTED_CSV = [
    ["section", "month", "spendable_points", "pending_points", "reserved_points", "points", "value", "currency"],
    ["issued", "2026-02", "300", "0", "0", "300", "6.00", "USD"],
    ["issued", "2026-05", "0", "25", "0", "25", "0.50", "USD"],
    ["expiring", "2026-05", "300", "0", "0", "300", "6.00", "USD"],
    ["expiring", "2026-08", "0", "25", "0", "25", "0.50", "USD"],
    ["total", "", "300", "25", "0", "325", "6.50", "USD"],
    ["expected_breakage", "", "", "", "", "108", "2.16", "USD"],
    ["net_of_breakage", "", "", "", "", "217", "4.34", "USD"],
]


@pytest.fixture
def ledger(enrolled_account):
    """Burn value 0.02, expiry 90 days, return window 7 days. 1 Feb: 100 points to one member (expired 2 May,
    taken on 3 May); 10 Feb: 500 points to another, 200 of them burned at a checkout, the rest due to expire on
    11 May (outstanding until the expiry job takes them); 20 May: a 25.00 purchase, 25 points pending (expected to
    expire 20 May + 7 + 90 days = 15 Aug). History: 100 expired, 200 redeemed: breakage 1/3."""
    account = enrolled_account(burn_value=Decimal("0.02"), points_expiry_days=90, pending_days=7)
    with time_machine.travel(datetime(2026, 2, 1, 12, tzinfo=UTC), tick=False) as clock:
        points_add(account=account, points=100, origin=EntrySource(source="admin"))
        clock.shift(timedelta(days=9))
        other = enrolled_account()
        points_add(account=other, points=500, origin=EntrySource(source="admin"))
        payload = {"transaction_id": "B1", "total": "0"}
        purchase_checkout(
            account=other, transaction_id="B1", total=Decimal("0"), lines=[], items=[], points_burned=200,
            fingerprint=request_fingerprint(payload),
        )  # fmt: skip
        clock.move_to(datetime(2026, 5, 3, tzinfo=UTC))
        points_expire(account=account)
        clock.move_to(NOW)
        payload = {"transaction_id": "T1", "total": "25.00"}
        purchase_checkout(
            account=account, transaction_id="T1", total=Decimal("25.00"), lines=[], items=[], points_burned=0,
            fingerprint=request_fingerprint(payload),
        )  # fmt: skip
    return account


@pytest.mark.django_db
@pytest.mark.parametrize("group_name", [MARKETING, FINANCE])
def test_marketing_and_finance_read_the_report(role_client, group_name, ledger):
    # given
    client = role_client(group_name)

    # when
    with time_machine.travel(NOW, tick=False):
        response = client.get(URL)

    # then
    assert response.status_code == 200
    report = response.context["report"]
    assert (report.spendable, report.pending, report.value, response.context["breakage_percent"]) == (
        300, 25, Decimal("6.50"), "33.3",
    )  # fmt: skip
    assert response.context["chart_data"] == {
        "labels": ["2026-05", "2026-08"],
        "spendable": [300, 0],
        "pending": [0, 25],
    }
    page = response.content.decode()
    assert "expired / (expired + redeemed)" in page
    assert 'id="liability-value">6.50<' in page


@pytest.mark.django_db
def test_store_managers_are_refused(role_client, ledger):
    # when
    response = role_client(STORE_MANAGERS).get(URL)

    # then
    assert response.status_code == 403


@pytest.mark.django_db
def test_csv_export_has_every_row_with_exact_values(admin_client, ledger):
    # when
    with time_machine.travel(NOW, tick=False):
        response = admin_client.get(URL, {"format": "csv", "as_of": "2026-05-20"})

    # then
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="points-liability-default-2026-05-20.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == EXPECTED_CSV


@pytest.mark.django_db
def test_as_of_before_the_purchase_leaves_it_out(admin_client, ledger):
    # when
    with time_machine.travel(NOW, tick=False):
        response = admin_client.get(URL, {"as_of": "2026-05-19"})

    # then
    report = response.context["report"]
    assert (report.spendable, report.pending) == (300, 0)


@pytest.mark.django_db
@pytest.mark.parametrize("as_of", ["2026-13-01", "2026-05-21", "yesterday"])
def test_a_bad_or_future_day_is_a_400_naming_the_filter(admin_client, ledger, as_of):
    # when
    with time_machine.travel(NOW, tick=False):
        response = admin_client.get(URL, {"as_of": as_of})

    # then
    assert response.status_code == 400
    assert "As of (end of day, UTC):" in response.content.decode()


@pytest.mark.django_db
def test_page_keeps_its_query_budget(admin_client, ledger, django_assert_max_num_queries):
    # when / then
    with django_assert_max_num_queries(PAGE_QUERIES):
        response = admin_client.get(URL)
    assert response.status_code == 200


@pytest.mark.django_db
def test_command_prints_the_same_csv(ledger):
    # given
    out = io.StringIO()

    # when
    with time_machine.travel(NOW, tick=False):
        call_command("points_liability", "--as-of", "2026-05-20", "--format", "csv", stdout=out)

    # then
    assert list(csv.reader(io.StringIO(out.getvalue()))) == EXPECTED_CSV


@pytest.mark.django_db
def test_command_table_names_the_breakage_formula(ledger):
    # given
    out = io.StringIO()

    # when
    with time_machine.travel(NOW, tick=False):
        call_command("points_liability", stdout=out)

    # then
    text = out.getvalue()
    assert "burn value 0.0200 USD a point" in text
    assert "Breakage rate: 33.3 % = expired / (expired + redeemed)" in text
    assert "(100 expired, 200 redeemed)" in text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--as-of", "20-05-2026"], "--as-of: not a date in the form YYYY-MM-DD: '20-05-2026'"),
        (["--as-of", "2026-05-21"], "--as-of: the report cannot look into the future."),
        (["--program", "nope"], "No program 'nope'."),
    ],
)
def test_command_refuses_bad_arguments(ledger, arguments, message):
    # when / then
    with time_machine.travel(NOW, tick=False), pytest.raises(CommandError, match=message.replace("(", r"\(")):
        call_command("points_liability", *arguments)
