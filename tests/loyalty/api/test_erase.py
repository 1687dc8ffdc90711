"""POST /api/v1/customers/{id}/erase (scope privacy) and what every API answers afterwards."""

import pytest
import time_machine

from crm.models import Address, Customer
from loyalty.models import LoyaltyAccount, PointsEntry, Purchase
from loyalty.services.ledger import account_balances

ERASED = {"message": "Customer is deleted after PII delete request", "code": "CUSTOMER_ERASED", "extra": {}}


@pytest.fixture
def privacy(make_api_client):
    http, _key = make_api_client("privacy")
    return http


@pytest.fixture
def ada(customer_factory, address_factory, loyalty_account_factory, purchase_factory):
    customer = customer_factory(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    customer.profile_address = address_factory(customer=customer)
    customer.save()
    account = loyalty_account_factory(customer=customer)
    purchase_factory(account=account, transaction_id="T1", total="120.00")
    return customer, account


def _erase(http, customer_id):
    return http.post(f"/api/v1/customers/{customer_id}/erase")


def test_erase_answers_the_erased_customer(privacy, ada):
    # given
    customer, _account = ada

    # when
    with time_machine.travel("2026-11-22T10:00:00+00:00", tick=False):
        response = _erase(privacy, customer.public_id)

    # then
    assert response.status_code == 200
    assert response.json() == {"id": customer.public_id, "status": "erased", "erased_at": "2026-11-22T10:00:00Z"}
    erased = Customer.objects.get(pk=customer.pk)
    assert (erased.status, erased.first_name, erased.email) == ("erased", "", "")


def test_ledger_purchases_and_account_number_are_kept(privacy, ada):
    # given
    customer, account = ada
    before = (PointsEntry.objects.filter(account=account).count(), Purchase.objects.filter(account=account).count())

    # when
    _erase(privacy, customer.public_id)

    # then
    kept = LoyaltyAccount.objects.get(pk=account.pk)
    after = (PointsEntry.objects.filter(account=account).count(), Purchase.objects.filter(account=account).count())
    assert after == before == (1, 1)
    assert (kept.account_number, kept.points_balance, account_balances(kept).earned) == (
        account.account_number,
        120,
        120,
    )
    assert kept.address is None
    assert Address.objects.filter(customer=customer).count() == 0


def test_afterwards_the_loyalty_api_answers_410_and_the_spi_404(privacy, ada, make_api_client, pos_client):
    # given
    customer, account = ada
    reader, _key = make_api_client("loyalty:read")
    _erase(privacy, customer.public_id)

    # when
    loyalty_get = reader.get(f"/api/v1/customers/{customer.public_id}")
    by_card = reader.get("/api/v1/customers/lookup", {"identifier": "card", "value": account.account_number})
    by_email = reader.get("/api/v1/customers/lookup", {"identifier": "email", "value": "ada@example.com"})
    spi_get = pos_client.get(f"/endpoint/sa/customers/{customer.public_id}")
    spi_searches = [
        pos_client.get(f"/endpoint/sa/customers?{query}")
        for query in (
            "lastName=Lovelace",
            "email=ada@example.com",
            f"loyaltyId={account.account_number}",
            f"customerId={customer.public_id}",
        )
    ]

    # then
    assert (loyalty_get.status_code, loyalty_get.json()) == (410, ERASED)
    assert (by_card.status_code, by_card.json()) == (410, ERASED)
    assert by_email.status_code == 404
    assert (spi_get.status_code, spi_get.json()) == (
        404,
        {"errorCode": "CUSTOMER_NOT_FOUND", "errorMessage": "Customer not found."},
    )
    assert [(search.status_code, search.json()) for search in spi_searches] == [(200, {"customers": []})] * 4


def test_erasing_twice_answers_200_with_the_same_body(privacy, ada):
    # given
    customer, _account = ada
    with time_machine.travel("2026-11-22T10:00:00+00:00", tick=False):
        first = _erase(privacy, customer.public_id)

    # when
    with time_machine.travel("2026-11-25T10:00:00+00:00", tick=False):
        second = _erase(privacy, customer.public_id)

    # then
    assert (second.status_code, second.json()) == (200, first.json())


def test_unknown_customer_is_404(privacy, db):
    # when
    response = _erase(privacy, "C000000000000")

    # then
    assert response.status_code == 404
    assert response.json() == {
        "message": "Customer not found.",
        "code": "CUSTOMER_NOT_FOUND",
        "extra": {"field": "customer"},
    }


@pytest.mark.parametrize("scopes", [(), ("loyalty:read",), ("loyalty:write",), ("clienteling", "scan_and_go")])
def test_key_without_privacy_scope_is_403_and_erases_nothing(make_api_client, ada, scopes):
    # given
    http, _key = make_api_client(*scopes)
    customer, _account = ada

    # when
    response = _erase(http, customer.public_id)

    # then
    assert response.status_code == 403
    assert response.json() == {
        "message": "This API key lacks the 'privacy' scope.",
        "code": "permission_denied",
        "extra": {},
    }
    kept = Customer.objects.get(pk=customer.pk)
    assert (kept.status, kept.first_name, Address.objects.filter(customer=customer).count()) == ("active", "Ada", 1)


def test_get_is_not_allowed_on_erase(privacy, ada):
    # given
    customer, _account = ada

    # when
    response = privacy.get(f"/api/v1/customers/{customer.public_id}/erase")

    # then
    assert response.status_code == 405
    assert Customer.objects.get(pk=customer.pk).status == "active"
