"""The same address added from two tills at once (a double-tapped save at checkout), on PostgreSQL: the customer's
row lock makes the second see the first's entry, so both answer it and the list holds it once, rather than the
second hitting the unique constraint (a 500). SQLite serialises writers, so this is skipped there."""

import pytest

from crm.models import Address
from crm.services.addresses import customer_address_create, customer_address_update
from tests.crm.factories import AddressFactory, CustomerFactory
from tests.loyalty.services.concurrency import in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_eight_concurrent_creates_of_one_address_add_it_once(on_postgres):
    # given
    customer = CustomerFactory()

    # when
    results = in_threads(
        8, lambda _index: customer_address_create(public_id=customer.public_id, data={"address_line1": "9 Elm St"})
    )

    # then
    assert results == ["ok"] * 8
    assert list(Address.objects.values_list("address_line1", "position")) == [("9 Elm St", 0)]


def test_concurrent_creates_of_different_addresses_get_distinct_positions(on_postgres):
    # given
    customer = CustomerFactory()

    # when
    results = in_threads(
        6,
        lambda index: customer_address_create(public_id=customer.public_id, data={"address_line1": f"{index} Elm St"}),
    )

    # then
    assert results == ["ok"] * 6
    assert sorted(Address.objects.values_list("position", flat=True)) == [0, 1, 2, 3, 4, 5]


def test_two_addresses_changed_at_once_to_the_same_content_keep_one_and_refuse_the_other(on_postgres):
    # given
    customer = CustomerFactory()
    first = AddressFactory(customer=customer, address_line1="1 Oak St")
    second = AddressFactory(customer=customer, address_line1="2 Oak St")
    targets = [first.public_id, second.public_id]

    # when
    results = in_threads(
        2,
        lambda index: customer_address_update(
            public_id=customer.public_id, address_id=targets[index], changes={"address_line1": "3 Oak St"}
        ),
    )

    # then
    assert sorted(results, key=str) == [("ADDRESS_ALREADY_IN_LIST", 409), "ok"]
    untouched = "2 Oak St" if results[0] == "ok" else "1 Oak St"
    assert sorted(Address.objects.values_list("address_line1", flat=True)) == sorted([untouched, "3 Oak St"])
