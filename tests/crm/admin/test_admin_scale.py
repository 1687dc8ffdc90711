"""Customer changelists built for a million rows: LargeTablePaginator never counts a whole table, the page costs a
fixed number of queries, every search is an indexed lookup, and on PostgreSQL an unfiltered list takes the
planner's row estimate. bench/admin_scale.py measures the same pages on 1,000,000 customers."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.admin import LargeTablePaginator
from crm.models import Customer
from crm.services.consents import consents_set
from crm.services.context import ChangeContext

CUSTOMERS_URL = "/admin/crm/customer/"
# Session, user, the capped count, the page of customers with their store joined, the stores of the filter.
CHANGELIST_QUERIES = 5
# The same, plus the loyalty account number looked up first (loyalty's search extension).
SEARCH_QUERIES = 6
COUNT = re.compile(r"SELECT COUNT\(", re.IGNORECASE)


def _changelist(client, queries_context, **params):
    with queries_context as queries:
        response = client.get(CUSTOMERS_URL, params)
    assert response.status_code == 200
    return response, [query["sql"] for query in queries]


def _bare_counts(sqls: list[str]) -> list[str]:
    """COUNT queries not bounded by a LIMIT: those read every matching row of the table."""
    return [sql for sql in sqls if COUNT.search(sql) and "LIMIT" not in sql.upper()]


def _customers(customer_factory, store_factory, count: int) -> list[Customer]:
    stores = [store_factory(code=f"S{index:03d}") for index in range(3)]
    return [customer_factory(created_store=stores[index % 3]) for index in range(count)]


def test_changelist_runs_a_fixed_number_of_queries_and_no_whole_table_count(
    admin_client, customer_factory, store_factory
):
    # given
    _customers(customer_factory, store_factory, 30)

    # when
    response, sqls = _changelist(admin_client, CaptureQueriesContext(connection))

    # then
    assert len(sqls) == CHANGELIST_QUERIES
    assert _bare_counts(sqls) == []
    assert len([sql for sql in sqls if COUNT.search(sql)]) == 1
    assert response.context["cl"].result_count == 30
    assert "30 customers" in response.content.decode()


@pytest.mark.parametrize("search", ["last-name", "phone", "email", "account-number", "customer-id"])
def test_every_search_runs_a_fixed_number_of_queries_without_a_whole_table_count_or_infix_match(
    admin_client, customer_factory, store_factory, search, loyalty_account_factory
):
    # given
    customers = _customers(customer_factory, store_factory, 30)
    wanted = customers[7]
    Customer.objects.filter(pk=wanted.pk).update(
        last_name="Lovelace", last_name_search="lovelace", email="ada@example.com", phone_mobile="+12175560199"
    )
    account = loyalty_account_factory(customer=wanted)
    term = {
        "last-name": "LOVE",
        "phone": "(217) 556-0199",  # outside the factory's +1217555xxxx numbers
        "email": "Ada@Example.com",
        "account-number": account.account_number,
        "customer-id": wanted.public_id.lower(),
    }[search]

    # when
    response, sqls = _changelist(admin_client, CaptureQueriesContext(connection), q=term)

    # then
    assert [customer.pk for customer in response.context["cl"].result_list] == [wanted.pk]
    assert len(sqls) == SEARCH_QUERIES
    assert _bare_counts(sqls) == []
    assert [sql for sql in sqls if "LIKE '%" in sql or "UPPER(" in sql] == []


def test_a_count_beyond_the_limit_reads_more_than_and_pages_stay_reachable_up_to_it(
    admin_client, customer_factory, store_factory, monkeypatch
):
    # given
    monkeypatch.setattr(LargeTablePaginator, "EXACT_COUNT_LIMIT", 5)
    monkeypatch.setattr("crm.admin.CustomerAdmin.list_per_page", 2)
    customers = _customers(customer_factory, store_factory, 8)

    # when
    page_3 = admin_client.get(CUSTOMERS_URL, {"p": 3, "status": "active"})
    page_4 = admin_client.get(CUSTOMERS_URL, {"p": 4, "status": "active"})

    # then
    assert page_3.context["cl"].result_count == 5
    assert [customer.pk for customer in page_3.context["cl"].result_list] == [customers[3].pk]
    text = page_3.content.decode()
    assert "more than 5 customers" in text
    assert "more than 5 results" in text
    # Beyond the counted rows the admin answers as for any page out of range.
    assert page_4.status_code == 302
    assert page_4["Location"].endswith("?e=1")


def test_paginator_counts_small_lists_exactly(customer_factory):
    # given
    for _index in range(3):
        customer_factory()

    # when
    paginator = LargeTablePaginator(Customer.objects.order_by("-pk"), 2)

    # then
    assert (paginator.count, paginator.num_pages, paginator.count_text) == (3, 2, None)


def test_paginator_counts_a_list_that_is_not_a_queryset(db):
    # when
    paginator = LargeTablePaginator(list(range(7)), 5)

    # then
    assert (paginator.count, paginator.num_pages, paginator.count_text) == (7, 2, None)


def test_on_sqlite_an_unfiltered_list_beyond_the_limit_is_capped(customer_factory, monkeypatch):
    # given
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL estimates instead: see the next test")
    monkeypatch.setattr(LargeTablePaginator, "EXACT_COUNT_LIMIT", 5)
    for _index in range(8):
        customer_factory()

    # when
    paginator = LargeTablePaginator(Customer.objects.order_by("-pk"), 2)

    # then
    assert (paginator.count, paginator.count_text) == (5, "more than 5")


@pytest.mark.postgres
def test_on_postgres_an_unfiltered_list_beyond_the_limit_takes_the_table_estimate(
    on_postgres, customer_factory, monkeypatch
):
    # given
    monkeypatch.setattr(LargeTablePaginator, "EXACT_COUNT_LIMIT", 5)
    for _index in range(8):
        customer_factory()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_customer")

    # when
    with CaptureQueriesContext(connection) as queries:
        unfiltered = LargeTablePaginator(Customer.objects.order_by("-pk"), 2)
        unfiltered_count = unfiltered.count
    filtered = LargeTablePaginator(Customer.objects.filter(status="active").order_by("-pk"), 2)

    # then
    assert (unfiltered_count, unfiltered.count_text, unfiltered.num_pages) == (8, "about 8", 4)
    assert [query["sql"] for query in queries] == [
        'SELECT COUNT(*) FROM (SELECT "crm_customer"."id" AS "col1" FROM "crm_customer" LIMIT 6) subquery',
        "SELECT reltuples::bigint FROM pg_class WHERE oid = 'crm_customer'::regclass",
    ]
    assert (filtered.count, filtered.count_text) == (5, "more than 5")


@pytest.mark.postgres
def test_on_postgres_a_stale_estimate_below_the_limit_falls_back_to_the_cap(on_postgres, customer_factory, monkeypatch):
    # given
    monkeypatch.setattr(LargeTablePaginator, "EXACT_COUNT_LIMIT", 5)
    customer_factory()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE crm_customer")
    for _index in range(7):
        customer_factory()

    # when
    paginator = LargeTablePaginator(Customer.objects.order_by("-pk"), 2)

    # then
    assert (paginator.count, paginator.count_text) == (5, "more than 5")


def test_consent_change_changelist_runs_a_fixed_number_of_queries(admin_client, customer_factory):
    # given
    for _customer in range(10):
        customer = customer_factory()
        for index in range(3):
            consents_set(customer=customer, changes={"sms_sign_up": index % 2 == 0}, context=ChangeContext())

    # when
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get("/admin/crm/consentchange/")

    # then
    sqls = [query["sql"] for query in queries]
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 30
    # Session, user, the capped count, the page with customer, store and user joined.
    assert len(sqls) == 4
    assert _bare_counts(sqls) == []


def test_consent_change_search_finds_a_customers_history(admin_client, customer_factory):
    # given
    customer, other = customer_factory(), customer_factory()
    consents_set(customer=customer, changes={"sms_sign_up": True}, context=ChangeContext())
    consents_set(customer=other, changes={"sms_sign_up": True}, context=ChangeContext())

    # when
    response = admin_client.get("/admin/crm/consentchange/", {"q": customer.public_id.lower()})

    # then
    assert [change.customer_id for change in response.context["cl"].result_list] == [customer.pk]


def test_facets_are_never_counted(admin_client, customer_factory):
    # given
    customer_factory()

    # when
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(CUSTOMERS_URL, {"_facets": "1"})

    # then
    assert response.status_code == 200
    assert len(queries) == CHANGELIST_QUERIES


def test_a_deep_page_reads_its_keys_first_and_shows_the_same_rows_in_the_same_order(customer_factory, monkeypatch):
    # given
    monkeypatch.setattr(LargeTablePaginator, "DEFERRED_JOIN_OFFSET", 4)
    customers = [customer_factory() for _index in range(9)]
    newest_first = [customer.pk for customer in reversed(customers)]
    paginator = LargeTablePaginator(Customer.objects.select_related("created_store").order_by("-pk"), 2)

    # when
    with CaptureQueriesContext(connection) as queries:
        shallow = [customer.pk for customer in paginator.page(2)]
        deep = [customer.pk for customer in paginator.page(3)]
        last = [customer.pk for customer in paginator.page(5)]

    # then
    assert (shallow, deep, last) == (newest_first[2:4], newest_first[4:6], newest_first[8:])
    page_queries = [query["sql"] for query in queries if "COUNT(" not in query["sql"]]
    assert ["IN (SELECT" in sql for sql in page_queries] == [False, True, True]


def test_page_2000_of_the_changelist_uses_the_deferred_join(admin_client, customer_factory, monkeypatch):
    # given
    monkeypatch.setattr(LargeTablePaginator, "DEFERRED_JOIN_OFFSET", 2)
    monkeypatch.setattr("crm.admin.CustomerAdmin.list_per_page", 2)
    customers = [customer_factory() for _index in range(5)]

    # when
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(CUSTOMERS_URL, {"p": 2})

    # then
    assert [customer.pk for customer in response.context["cl"].result_list] == [customers[2].pk, customers[1].pk]
    assert len([query for query in queries if "IN (SELECT" in query["sql"]]) == 1
    assert len(queries) == CHANGELIST_QUERIES
