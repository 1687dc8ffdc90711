"""GET_CUSTOMER and SEARCH_CUSTOMERS run a fixed number of queries however many addresses, results or vouchers
there are: no API key lookup (the warm-up request's copy of the key answers, crm/api_key_cache.py), 1 customer
query (profile address, consents, store and associate joined, order count annotated), 1 addresses prefetch,
1 loyalty accounts prefetch (program, tier, address joined, balances, qualifying value and next tier annotated),
1 recent purchases prefetch, 1 usable vouchers prefetch (their coupon joined) for loyaltyProfile.coupons."""

from decimal import Decimal

import pytest

from tests.loyalty.factories import LoyaltyAccountFactory, VoucherFactory

QUERIES_PER_REQUEST = 5


@pytest.fixture
def coupon(coupon_definition_factory):
    return coupon_definition_factory(code="budget", name="Budget", kind="percent", value=Decimal(5))


def _customer_with_addresses(customer_factory, address_factory, count: int, vouchers=(), **fields):
    customer = customer_factory(**fields)
    for _ in range(count):
        customer.profile_address = address_factory(customer=customer)
    customer.save()
    LoyaltyAccountFactory(customer=customer)
    for definition in vouchers:
        VoucherFactory(definition=definition, customer=customer)
    return customer


@pytest.mark.parametrize(("address_count", "voucher_count"), [(1, 0), (25, 12)])
def test_get_customer_query_count_does_not_grow_with_addresses_or_vouchers(
    pos_client, customer_factory, address_factory, coupon, django_assert_num_queries, address_count, voucher_count
):
    # given
    customer = _customer_with_addresses(customer_factory, address_factory, address_count, [coupon] * voucher_count)
    pos_client.get("/endpoint/sa/customers/warm-up")  # records the key's last use, a write outside the budget

    # when
    with django_assert_num_queries(QUERIES_PER_REQUEST):
        response = pos_client.get(f"/endpoint/sa/customers/{customer.public_id}")

    # then
    assert response.status_code == 200
    body = response.json()["customer"]
    assert len(body["addressList"]) == address_count
    assert len(body["loyaltyProfile"]["coupons"]) == voucher_count


@pytest.mark.parametrize(("result_count", "vouchers_each"), [(1, 0), (40, 3)])
def test_search_query_count_does_not_grow_with_results_or_vouchers(
    pos_client, customer_factory, address_factory, coupon, django_assert_num_queries, result_count, vouchers_each
):
    # given
    for _ in range(result_count):
        _customer_with_addresses(customer_factory, address_factory, 3, [coupon] * vouchers_each, last_name="Budget")
    pos_client.get("/endpoint/sa/customers/warm-up")

    # when
    with django_assert_num_queries(QUERIES_PER_REQUEST):
        response = pos_client.get("/endpoint/sa/customers?lastName=budget&limit=100")

    # then
    customers = response.json()["customers"]
    assert len(customers) == result_count
    assert [len(customer["loyaltyProfile"]["coupons"]) for customer in customers] == [vouchers_each] * result_count
