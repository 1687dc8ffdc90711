"""On PostgreSQL at 100,000 customers (inserted set-based, about a second), a page of every SPI search is read from an
index: no sequential scan of the customers and no sort of more than a page. The last-name prefix is the one that
read and sorted its whole match set before (10,300 rows for a common prefix at 1,000,000 customers)."""

import json

import pytest
from django.db import connection

from clienteling.spi.views import spi_customer_queryset
from crm.selectors import CustomerSearchCriteria, customer_search_queryset

pytestmark = pytest.mark.postgres

CUSTOMER_COUNT = 100_000
PAGE = 20
# A postal code or an email matches a few customers, sorted in memory; a name prefix matched thousands.
LARGE_SORT_ROWS = 1000
# Ten surnames, so that a three-letter prefix matches a tenth of the customers (10,000 rows).
FILL = """
INSERT INTO crm_customer (created_at, updated_at, public_id, status, salutation, first_name, last_name,
  first_name_search, last_name_search, email, phone_mobile, phone_home, gender, preferred_language, customer_group,
  alternate_customer_id, tax_id, country, postal_code, postal_code_search, custom_attributes)
SELECT now(), now(), 'C' || lpad(i::text, 12, '0'), 'active', '', 'First' || (i %% 50), surname,
  'first' || (i %% 50), lower(surname), 'c' || i || '@example.com', '+1217' || lpad(i::text, 7, '0'), '', '', 'en', '',
  '', '', 'US', lpad((i %% 4000)::text, 5, '0'), lpad((i %% 4000)::text, 5, '0'), '{}'
FROM generate_series(1, %s) AS i,
  LATERAL (SELECT (ARRAY['Smith', 'Johnson', 'Muller', 'Garcia', 'Nguyen', 'Okafor', 'Rossi', 'Kowalski', 'Tanaka',
    'Dubois'])[1 + i %% 10] AS surname) AS names
"""


@pytest.fixture
def hundred_thousand_customers(on_postgres, db):
    with connection.cursor() as cursor:
        cursor.execute(FILL, [CUSTOMER_COUNT])
        cursor.execute("ANALYZE crm_customer")


def _nodes(plan: dict) -> list[dict]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _nodes(child))]


def _plan_problems(criteria: CustomerSearchCriteria) -> list[str]:
    queryset = customer_search_queryset(criteria=criteria, queryset=spi_customer_queryset())[:PAGE]
    (root,) = json.loads(queryset.explain(format="json"))
    problems = []
    for node in _nodes(root["Plan"]):
        if node["Node Type"] == "Seq Scan" and node.get("Relation Name") == "crm_customer":
            problems.append("Seq Scan on crm_customer")
        if node["Node Type"] in ("Sort", "Incremental Sort") and node["Plan Rows"] > LARGE_SORT_ROWS:
            problems.append(f"{node['Node Type']} of {node['Plan Rows']} rows")
    return problems


SEARCHES = {
    "last-name-prefix-common": CustomerSearchCriteria(last_name="smi"),
    "last-name-prefix-folded": CustomerSearchCriteria(last_name="Mül"),
    "last-and-first-name": CustomerSearchCriteria(last_name="smith", first_name="first1"),
    "email": CustomerSearchCriteria(email="C4242@example.com"),
    "phone": CustomerSearchCriteria(phone="(217) 004-2424"),
    "postal-code": CustomerSearchCriteria(postal_code="01234"),
    "customer-id": CustomerSearchCriteria(customer_id="C000000004242"),
}


def test_every_search_page_is_read_from_an_index(hundred_thousand_customers):
    # when: one fill for every criterion (the insert is most of the test's time)
    problems = {name: _plan_problems(criteria) for name, criteria in SEARCHES.items()}
    found = list(customer_search_queryset(criteria=SEARCHES["last-name-prefix-common"])[:PAGE])

    # then
    assert problems == dict.fromkeys(SEARCHES, [])
    # Smith, First0 first (every tenth customer is a Smith, every fiftieth a First0), then by id.
    assert [(customer.last_name, customer.first_name) for customer in found] == [("Smith", "First0")] * PAGE
    assert [customer.public_id for customer in found] == [f"C{number:012d}" for number in range(50, 1001, 50)]
