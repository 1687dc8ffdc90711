"""The subject-access export (loyalty/selectors/subject_access.py, loyalty/admin/subject_access.py,
manage.py export_customer): everything held about one customer as JSON and as a page, who may export, the record
of who exported whom, its query budget."""

import io
import json
import logging

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import CommandError, call_command

from crm.models import ExternalCustomerId
from crm.roles import MARKETING, STORE_MANAGERS
from crm.services.external_ids import external_id_link
from loyalty.selectors.subject_access import customer_subject_access_data

# Twelve tables, one query each.
EXPORT_QUERIES = 12


@pytest.fixture
def member(loyalty_account_factory, voucher_factory, purchase_factory):
    account = loyalty_account_factory(points=40)
    external_id_link(customer=account.customer, source="import", external_id="OLD-1")
    voucher_factory(customer=account.customer)
    purchase_factory(account=account)
    return account


def _url(account, suffix: str = "") -> str:
    return f"/admin/crm/customer/{account.customer.pk}/subject-access/{suffix}"


@pytest.mark.django_db
def test_json_holds_every_table_of_the_customer(role_client, member):
    # when
    response = role_client(STORE_MANAGERS).get(_url(member, "?format=json"))

    # then
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="customer-{member.customer.public_id}.json"'
    data = json.loads(response.content)
    assert list(data) == [
        "exported_at", "customer", "addresses", "consents", "consent_history", "external_ids", "loyalty_accounts",
        "cards", "tier_changes", "points_ledger", "purchases", "vouchers", "webhook_deliveries",
    ]  # fmt: skip
    assert data["customer"]["public_id"] == member.customer.public_id
    assert data["customer"]["email"] == member.customer.email
    assert "first_name_search" not in data["customer"]
    assert [row["external_id"] for row in data["external_ids"]] == ["OLD-1"]
    assert [row["account_number"] for row in data["loyalty_accounts"]] == [member.account_number]
    assert sum(row["points"] for row in data["points_ledger"] if row["bucket"] == "spendable") == 40 + sum(
        row["points_earned"] for row in data["purchases"]
    )
    assert len(data["purchases"]) == 1
    assert len(data["vouchers"]) == 1


@pytest.mark.django_db
def test_each_export_is_recorded_with_who_exported_whom(role_client, member, caplog):
    # given
    client = role_client(STORE_MANAGERS)
    caplog.set_level(logging.INFO, logger="loyalty.admin.subject_access")

    # when
    page = client.get(_url(member))
    client.get(_url(member, "?format=json"))

    # then
    assert page.status_code == 200
    assert "Personal data held about customer" in page.content.decode()
    entries = LogEntry.objects.filter(object_id=str(member.customer.pk)).order_by("pk")
    assert [(entry.user.username, entry.get_change_message()) for entry in entries] == [
        ("Store-managers", "Subject-access export (printable page)"),
        ("Store-managers", "Subject-access export (JSON)"),
    ]
    assert f"subject access export of customer {member.customer.public_id}" in caplog.text


@pytest.mark.django_db
def test_customer_page_links_the_export_for_those_who_may(role_client, member):
    # when
    manager_page = role_client(STORE_MANAGERS).get(f"/admin/crm/customer/{member.customer.pk}/change/")
    marketing_page = role_client(MARKETING).get(f"/admin/crm/customer/{member.customer.pk}/change/")

    # then
    assert _url(member) in manager_page.content.decode()
    assert _url(member) not in marketing_page.content.decode()


@pytest.mark.django_db
def test_marketing_may_not_export_and_nothing_is_recorded(role_client, member):
    # when
    response = role_client(MARKETING).get(_url(member, "?format=json"))

    # then
    assert response.status_code == 403
    assert not LogEntry.objects.exists()


@pytest.mark.django_db
def test_export_reads_a_fixed_number_of_queries(member, django_assert_num_queries):
    # when / then
    with django_assert_num_queries(EXPORT_QUERIES):
        customer_subject_access_data(customer=member.customer)


@pytest.mark.django_db
def test_command_prints_the_json_by_public_id_or_number(member):
    # given
    out, by_number = io.StringIO(), io.StringIO()

    # when
    call_command("export_customer", member.customer.public_id.lower(), stdout=out)
    call_command("export_customer", str(member.customer.pk), stdout=by_number)

    # then
    assert json.loads(out.getvalue())["customer"]["public_id"] == member.customer.public_id
    assert json.loads(by_number.getvalue())["external_ids"][0]["external_id"] == "OLD-1"
    assert ExternalCustomerId.objects.count() == 1


@pytest.mark.django_db
def test_command_refuses_an_unknown_customer(db):
    # when / then
    with pytest.raises(CommandError, match="No customer 'C0NOPE'."):
        call_command("export_customer", "C0NOPE")
