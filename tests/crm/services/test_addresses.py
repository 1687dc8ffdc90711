"""The Customer Address SPI's services (crm/services/addresses.py), without HTTP: an address changed in place keeps
its id and whoever points at it, a change is a merge, an id is looked up only among the customer's own addresses,
and a deleted profile or loyalty address leaves those empty."""

import pytest

from core.exceptions import ApplicationError
from crm.models import Address
from crm.services.addresses import customer_address_create, customer_address_delete, customer_address_update
from tests.crm.factories import AddressFactory, CustomerFactory
from tests.loyalty.factories import LoyaltyAccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    customer = CustomerFactory()
    customer.profile_address = AddressFactory(customer=customer, address_line1="1 Main St", address_line2="")
    customer.save()
    return customer


def test_an_update_merges_in_place_and_the_profile_and_loyalty_addresses_follow(customer):
    # given
    account = LoyaltyAccountFactory(customer=customer)
    account.address = customer.profile_address
    account.save(update_fields=["address"])
    address_id = customer.profile_address.public_id

    # when
    customer_address_update(
        public_id=customer.public_id,
        address_id=address_id,
        changes={"address_line2": "Unit 2", "state": "", "city": None},
    )

    # then
    address = Address.objects.get()
    assert (address.public_id, address.address_line1, address.address_line2, address.state, address.city) == (
        address_id,
        "1 Main St",
        "Unit 2",
        "",
        "",
    )
    account.refresh_from_db()
    customer.refresh_from_db()
    assert account.address_id == customer.profile_address_id == address.pk


def test_another_customers_address_is_not_found_and_nothing_changes(customer):
    # given
    stranger = AddressFactory(city="Peoria")

    # when
    with pytest.raises(ApplicationError) as error:
        customer_address_update(public_id=customer.public_id, address_id=stranger.public_id, changes={"city": "X"})

    # then
    assert (error.value.code, error.value.status) == ("ADDRESS_NOT_FOUND", 404)
    stranger.refresh_from_db()
    assert stranger.city == "Peoria"


def test_an_update_to_another_entrys_content_is_409_naming_it(customer):
    # given
    other = customer_address_create(public_id=customer.public_id, data={"address_line1": "9 Elm St"})

    # when
    with pytest.raises(ApplicationError) as error:
        customer_address_update(
            public_id=customer.public_id,
            address_id=other.public_id,
            changes={
                "address_line1": "1 MAIN ST",
                "city": "Springfield",
                "state": "IL",
                "postal_code": "62701",
                "country_code": "us",
            },
        )

    # then
    assert (error.value.code, error.value.status) == ("ADDRESS_ALREADY_IN_LIST", 409)
    assert customer.profile_address.public_id in error.value.message
    assert Address.objects.get(pk=other.pk).address_line1 == "9 Elm St"


def test_an_update_that_would_leave_nothing_is_refused(customer):
    # when
    with pytest.raises(ApplicationError) as error:
        customer_address_update(
            public_id=customer.public_id,
            address_id=customer.profile_address.public_id,
            changes=dict.fromkeys(("address_line1", "city", "state", "postal_code", "country_code"), ""),
        )

    # then
    assert error.value.code == "INVALID_FIELD"
    assert Address.objects.get().address_line1 == "1 Main St"


def test_deleting_the_profile_and_loyalty_address_leaves_both_empty_and_promotes_none(customer):
    # given
    account = LoyaltyAccountFactory(customer=customer)
    account.address = customer.profile_address
    account.save(update_fields=["address"])
    kept = customer_address_create(public_id=customer.public_id, data={"address_line1": "9 Elm St"})

    # when
    customer_address_delete(public_id=customer.public_id, address_id=customer.profile_address.public_id)

    # then
    customer.refresh_from_db()
    account.refresh_from_db()
    assert (customer.profile_address_id, account.address_id) == (None, None)
    assert list(Address.objects.values_list("pk", flat=True)) == [kept.pk]
