"""GET /api/v1/customers/{id}/transactions: the customer's points ledger, filtered by kind and date, cursor-paged."""

from base64 import b64encode

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import Customer
from loyalty.models import PointsEntry, Program, Voucher
from loyalty.services.ledger import EntrySource
from loyalty.services.points import points_add, points_reserve_for_transaction, points_subtract
from tests.loyalty.factories import PurchaseFactory

pytestmark = pytest.mark.django_db
ERASED = {"message": "Customer is deleted after PII delete request", "code": "CUSTOMER_ERASED", "extra": {}}
# The customer, one page of entries with their purchases and lots (the API key is the process's copy,
# crm/api_key_cache.py).
QUERY_BUDGET = 2


@pytest.fixture
def reader(make_api_client):
    http, _key = make_api_client("loyalty:read")
    return http


@pytest.fixture
def ada(customer_factory, program, loyalty_account_factory):
    """Ada, enrolled on 2026-01-05 in a program whose points are spendable at once and expire after 365 days."""
    Program.objects.filter(pk=program.pk).update(points_expiry_days=365, pending_days=0)
    with time_machine.travel("2026-01-05T10:00:00+00:00", tick=False):
        customer = customer_factory(first_name="Ada", last_name="Lovelace")
        account = loyalty_account_factory(customer=customer)
    return customer, account


def _url(customer):
    return f"/api/v1/customers/{customer.public_id}/transactions"


def _checkout(account, transaction_id, total, moment):
    with time_machine.travel(moment, tick=False):
        PurchaseFactory(account=account, transaction_id=transaction_id, total=total)


def _history(account):
    """A goodwill bonus, a purchase, a reservation (two entries written at the same moment) and a correction."""
    with time_machine.travel("2026-01-10T10:00:00+00:00", tick=False):
        points_add(account=account, points=100, origin=EntrySource(source="event", note="Welcome bonus"))
    _checkout(account, "T1", "300.00", "2026-02-01T10:00:00+00:00")
    with time_machine.travel("2026-03-01T10:00:00+00:00", tick=False):
        points_reserve_for_transaction(account=account, transaction_id="R-1", points=50, origin=EntrySource("event"))
    with time_machine.travel("2026-04-01T10:00:00+00:00", tick=False):
        points_subtract(account=account, points=30, origin=EntrySource(source="admin", note="Correction"))


def _ids(account):
    """The account's entry ids, newest first, as the endpoint lists them."""
    return [
        str(pk)
        for pk in PointsEntry.objects.filter(account=account)
        .order_by("-created_at", "-id")
        .values_list("id", flat=True)
    ]


def _entry(entry_id, kind, points, created_at, **changes):
    row = {
        "id": entry_id,
        "kind": kind,
        "bucket": "spendable",
        "points": points,
        "transaction_id": None,
        "source": "event",
        "note": "",
        "expdate": "2027-01-10",
        "created_at": created_at,
    }
    row.update(changes)
    return row


def _ledger(account):
    """_history's entries, newest first."""
    correction, reserved, reserve, earn, bonus = _ids(account)
    return [
        _entry(correction, "adjust", -30, "2026-04-01T10:00:00Z", source="admin", note="Correction"),
        _entry(
            reserved,
            "reserve",
            50,
            "2026-03-01T10:00:00Z",
            bucket="reserved",
            transaction_id="R-1",
            note="Reserved for R-1",
            expdate=None,
        ),
        _entry(reserve, "reserve", -50, "2026-03-01T10:00:00Z", transaction_id="R-1", note="Reserved for R-1"),
        _entry(
            earn,
            "earn",
            300,
            "2026-02-01T10:00:00Z",
            transaction_id="T1",
            source="purchase",
            note="Checkout T1",
            expdate="2027-02-01",
        ),
        _entry(bonus, "adjust", 100, "2026-01-10T10:00:00Z", note="Welcome bonus"),
    ]


# ------------------------------------------------------------------------------------------------- listing


def test_lists_the_customers_ledger_newest_first(reader, ada, enrolled_account):
    # given
    customer, account = ada
    _history(account)
    someone_else = enrolled_account()
    points_add(account=someone_else, points=7, origin=EntrySource(source="event"))

    # when
    response = reader.get(_url(customer))

    # then
    assert response.status_code == 200
    assert response.json() == {"next": None, "previous": None, "results": _ledger(account)}


def test_a_customer_who_never_enrolled_has_an_empty_ledger(reader, customer_factory):
    # given
    guest = customer_factory()

    # when
    response = reader.get(_url(guest))

    # then
    assert response.status_code == 200
    assert response.json() == {"next": None, "previous": None, "results": []}


@pytest.mark.parametrize(
    ("query", "positions"),
    [
        ("kind=earn", [3]),
        ("kind=reserve", [1, 2]),
        ("kind=earn,adjust", [0, 3, 4]),
        ("kind=earn&kind=adjust", [0, 3, 4]),
        ("kind=expire", []),
    ],
)
def test_filters_by_one_or_several_kinds(reader, ada, query, positions):
    # given
    customer, account = ada
    _history(account)
    ledger = _ledger(account)

    # when
    response = reader.get(f"{_url(customer)}?{query}")

    # then
    assert response.status_code == 200
    assert response.json()["results"] == [ledger[position] for position in positions]


@pytest.mark.parametrize(
    ("query", "positions"),
    [
        # created_after is inclusive, created_before exclusive: adjacent ranges neither overlap nor leave a gap.
        ("created_after=2026-02-01T10:00:00Z", [0, 1, 2, 3]),
        ("created_before=2026-02-01T10:00:00Z", [4]),
        ("created_after=2026-02-01T10:00:00Z&created_before=2026-04-01T10:00:00Z", [1, 2, 3]),
        # A date alone is midnight UTC, a moment without an offset UTC; an offset is honoured (%2B is "+").
        ("created_after=2026-03-01&created_before=2026-03-02", [1, 2]),
        ("created_before=2026-02-01T11:00:00%2B01:00", [4]),
        ("created_after=2026-04-01T10:00:00", [0]),
        ("created_after=2026-03-01T10:00:00.000001Z", [0]),
        ("created_after=2026-04-02T00:00:00Z", []),
        ("kind=reserve,earn&created_after=2026-02-15T00:00:00Z", [1, 2]),
    ],
)
def test_filters_by_date_range(reader, ada, query, positions):
    # given
    customer, account = ada
    _history(account)
    ledger = _ledger(account)

    # when
    response = reader.get(f"{_url(customer)}?{query}")

    # then
    assert response.status_code == 200
    assert response.json()["results"] == [ledger[position] for position in positions]


def test_a_parameter_given_empty_filters_nothing(reader, ada):
    # given: as a serializer reads a query string, and as the coupons list's status= always did
    customer, account = ada
    _history(account)

    # when
    response = reader.get(f"{_url(customer)}?kind=&created_after=&created_before=&page_size=")

    # then
    assert response.status_code == 200
    assert response.json()["results"] == _ledger(account)


# ------------------------------------------------------------------------------------------------- paging


def _many_entries(account):
    """Eight bonuses on five moments, three of them shared: ties in created_at that the cursor must not lose."""
    moments = [
        "2026-01-01",
        "2026-01-02",
        "2026-01-02",
        "2026-01-02",
        "2026-01-03",
        "2026-01-04",
        "2026-01-04",
        "2026-01-05",
    ]
    for points, moment in enumerate(moments, start=1):
        with time_machine.travel(f"{moment}T09:00:00+00:00", tick=False):
            points_add(account=account, points=points, origin=EntrySource(source="event"))


def test_pages_through_three_pages_with_no_duplicate_and_no_gap(reader, ada):
    # given
    customer, account = ada
    _many_entries(account)

    # when
    first = reader.get(_url(customer), {"page_size": 3}).json()
    second = reader.get(first["next"]).json()
    third = reader.get(second["next"]).json()
    back = reader.get(third["previous"]).json()

    # then
    assert [[row["points"] for row in page["results"]] for page in (first, second, third)] == [
        [8, 7, 6],
        [5, 4, 3],
        [2, 1],
    ]
    listed = [row["id"] for page in (first, second, third) for row in page["results"]]
    assert listed == _ids(account)
    assert (first["previous"], third["next"]) == (None, None)
    assert back["results"] == second["results"]


def test_paging_keeps_the_filters(reader, ada):
    # given
    customer, account = ada
    _many_entries(account)
    with time_machine.travel("2026-01-02T09:00:00+00:00", tick=False):
        points_subtract(account=account, points=1, origin=EntrySource(source="event"))

    # when
    first = reader.get(_url(customer), {"page_size": 2, "kind": "adjust", "created_before": "2026-01-04"}).json()
    second = reader.get(first["next"]).json()
    third = reader.get(second["next"]).json()

    # then
    assert [[row["points"] for row in page["results"]] for page in (first, second, third)] == [
        [5, -1],
        [4, 3],
        [2, 1],
    ]
    assert third["next"] is None


def test_default_page_size_is_50(reader, ada):
    # given
    customer, account = ada
    for _ in range(51):
        points_add(account=account, points=1, origin=EntrySource(source="event"))

    # when
    first = reader.get(_url(customer)).json()
    second = reader.get(first["next"]).json()

    # then
    assert (len(first["results"]), len(second["results"]), second["next"]) == (50, 1, None)


# ------------------------------------------------------------------------------------------------- refused


def _cursor(text):
    return b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"kind": "gift"}, "kind", '"gift" is not a valid choice.'),
        ({"kind": "earn,gift"}, "kind", '"gift" is not a valid choice.'),
        ({"kind": "100%d"}, "kind", '"100%d" is not a valid choice.'),
        ({"created_after": "yesterday"}, "created_after", "Enter a valid date/time."),
        ({"created_before": "2026-13-01T00:00:00Z"}, "created_before", "Enter a valid date/time."),
        ({"created_before": "9999-12-31T23:00:00-05:00"}, "created_before", "Enter a valid date/time."),
        ({"page_size": 0}, "page_size", "Ensure this value is greater than or equal to 1."),
        ({"page_size": 201}, "page_size", "Ensure this value is less than or equal to 200."),
        ({"page_size": "ten"}, "page_size", "A valid integer is required."),
        ({"cursor": "not base64!"}, "cursor", "Invalid cursor."),
        ({"cursor": _cursor("o=many")}, "cursor", "Invalid cursor."),
        ({"cursor": _cursor("p=not a moment")}, "cursor", "Invalid cursor."),
        ({"cursor": _cursor("p=")}, "cursor", "Invalid cursor."),
        ({"cursor": _cursor("p=9999-12-31 23:00:00-05:00")}, "cursor", "Invalid cursor."),
    ],
)
def test_a_bad_parameter_is_400_naming_it(reader, ada, query, field, message):
    # given
    customer, _account = ada

    # when
    response = reader.get(_url(customer), query)

    # then
    assert response.status_code == 400
    assert response.json() == {
        "message": f"{field}: {message}",
        "code": "validation_error",
        "extra": {"fields": {field: [message]}},
    }


def test_without_a_key_the_answer_is_401(client, ada):
    # given
    customer, _account = ada

    # when
    response = client.get(_url(customer))

    # then
    assert response.status_code == 401
    assert response.json() == {
        "message": "Authentication credentials were not provided.",
        "code": "not_authenticated",
        "extra": {},
    }


@pytest.mark.parametrize("scopes", [("loyalty:write",), ("clienteling", "scan_and_go", "privacy")])
def test_a_key_without_the_read_scope_is_403(make_api_client, ada, scopes):
    # given
    customer, _account = ada
    http, _key = make_api_client(*scopes)

    # when
    response = http.get(_url(customer))

    # then
    assert response.status_code == 403
    assert response.json() == {
        "message": "This API key lacks the 'loyalty:read' scope.",
        "code": "permission_denied",
        "extra": {},
    }


def test_an_unknown_customer_is_404(reader, ada):
    # when
    response = reader.get("/api/v1/customers/C9999/transactions")

    # then
    assert response.status_code == 404
    assert response.json() == {
        "message": "Customer not found.",
        "code": "CUSTOMER_NOT_FOUND",
        "extra": {"field": "customer"},
    }


def test_an_erased_customer_is_410(reader, ada):
    # given
    customer, account = ada
    _history(account)
    Customer.objects.filter(pk=customer.pk).update(status=Customer.Status.ERASED)

    # when
    response = reader.get(_url(customer))

    # then
    assert response.status_code == 410
    assert response.json() == ERASED


# ------------------------------------------------------------------------------------------------- budget


def _queries_for_a_page(reader, customer, **query):
    with CaptureQueriesContext(connection) as queries:
        response = reader.get(_url(customer), query)
    assert response.status_code == 200
    return len(queries)


def test_a_page_runs_a_fixed_number_of_queries(reader, ada):
    # given: entries that name a purchase, a lot, a reservation, or nothing
    customer, account = ada
    reader.get(_url(customer))  # the key's first use is recorded once
    _history(account)
    few = _queries_for_a_page(reader, customer)
    _many_entries(account)
    for number in range(2, 12):
        _checkout(account, f"T{number}", "10.00", f"2026-05-{number:02d}T10:00:00+00:00")

    # when
    many = _queries_for_a_page(reader, customer)
    filtered_second_page = reader.get(_url(customer), {"page_size": 5, "kind": "earn,adjust"}).json()["next"]
    with CaptureQueriesContext(connection) as queries:
        reader.get(filtered_second_page)

    # then
    assert few == many == len(queries) == QUERY_BUDGET


# ------------------------------------------------------------------------------------------------- schema


def _parameters(schema, path):
    return {parameter["name"]: parameter for parameter in schema["paths"][path]["get"]["parameters"]}


def test_openapi_documents_the_filters_and_the_paging(client):
    # when
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    # then
    operation = schema["paths"]["/api/v1/customers/{customer_id}/transactions"]["get"]
    assert (operation["operationId"], operation["tags"]) == ("loyalty_customer_transaction_list", ["Loyalty customers"])
    parameters = _parameters(schema, "/api/v1/customers/{customer_id}/transactions")
    assert set(parameters) == {"customer_id", "kind", "created_after", "created_before", "cursor", "page_size"}
    assert parameters["kind"]["schema"] == {
        "type": "array",
        "items": {"type": "string", "enum": sorted(PointsEntry.Kind.values)},
    }
    assert (parameters["kind"]["style"], parameters["kind"]["explode"]) == ("form", False)
    assert parameters["created_after"]["schema"] == {"type": "string", "format": "date-time"}
    assert parameters["created_before"]["schema"] == {"type": "string", "format": "date-time"}
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(schema["components"]["schemas"][page]["properties"]) == {"next", "previous", "results"}


def test_openapi_documents_the_coupon_list_filters(client):
    # when
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    # then
    parameters = _parameters(schema, "/api/v1/customers/{customer_id}/coupons")
    assert set(parameters) == {"customer_id", "status", "channel", "limit"}
    assert parameters["status"]["schema"] == {"type": "string", "enum": sorted(Voucher.Status.values)}
    assert parameters["channel"]["schema"] == {"type": "string", "enum": ["pos", "scan_and_go", "web"]}
    assert parameters["limit"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 200}
