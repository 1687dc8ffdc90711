"""GET_CUSTOMER and SEARCH_CUSTOMERS run a fixed number of queries however many addresses or results there are:
1 API key lookup, 1 customer query (profile address, consents, store and associate joined, order count
annotated), 1 addresses prefetch, 1 loyalty accounts prefetch (program, tier, address joined, balances,
qualifying value and next tier annotated), 1 recent purchases prefetch."""

import pytest

from crm.services.context import ChangeContext
from loyalty.services.enrolment import loyalty_account_enroll

QUERIES_PER_REQUEST = 5


def _customer_with_addresses(customer_factory, address_factory, count: int, **fields):
    customer = customer_factory(**fields)
    for _ in range(count):
        customer.profile_address = address_factory(customer=customer)
    customer.save()
    loyalty_account_enroll(customer=customer, context=ChangeContext())
    return customer


@pytest.mark.parametrize("address_count", [1, 25])
def test_get_customer_query_count_does_not_grow_with_addresses(
    pos_client, customer_factory, address_factory, django_assert_num_queries, address_count
):
    # given
    customer = _customer_with_addresses(customer_factory, address_factory, address_count)
    pos_client.get("/endpoint/sa/customers/warm-up")  # records the key's last use, a write outside the budget

    # when
    with django_assert_num_queries(QUERIES_PER_REQUEST):
        response = pos_client.get(f"/endpoint/sa/customers/{customer.public_id}")

    # then
    assert response.status_code == 200
    assert len(response.json()["customer"]["addressList"]) == address_count


@pytest.mark.parametrize("result_count", [1, 40])
def test_search_query_count_does_not_grow_with_results(
    pos_client, customer_factory, address_factory, django_assert_num_queries, result_count
):
    # given
    for _ in range(result_count):
        _customer_with_addresses(customer_factory, address_factory, 3, last_name="Budget")
    pos_client.get("/endpoint/sa/customers/warm-up")

    # when
    with django_assert_num_queries(QUERIES_PER_REQUEST):
        response = pos_client.get("/endpoint/sa/customers?lastName=budget&limit=100")

    # then
    assert len(response.json()["customers"]) == result_count
