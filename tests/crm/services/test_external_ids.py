"""crm.services.external_ids and the selector: another system's customer id, one per customer and source."""

import pytest
from django.core.exceptions import ValidationError

from core.exceptions import ApplicationError
from crm.models import ExternalCustomerId
from crm.selectors import customer_get_by_external_id
from crm.services.context import ChangeContext
from crm.services.external_ids import external_id_link
from crm.services.privacy import customer_erase
from tests.crm.factories import CustomerFactory

pytestmark = pytest.mark.django_db

ANTAVO_ID = "a222e90f-2c59-468d-9b81-62f560084379"


def test_link_is_found_and_idempotent():
    customer = CustomerFactory()
    first = external_id_link(customer=customer, source="antavo", external_id=ANTAVO_ID)
    again = external_id_link(customer=customer, source="antavo", external_id=ANTAVO_ID)

    assert again.pk == first.pk
    assert ExternalCustomerId.objects.count() == 1
    assert customer_get_by_external_id(source="antavo", external_id=ANTAVO_ID) == customer
    assert customer_get_by_external_id(source="import", external_id=ANTAVO_ID) is None


def test_same_string_from_two_sources_names_two_customers():
    antavo_customer, imported_customer = CustomerFactory(), CustomerFactory()
    external_id_link(customer=antavo_customer, source="antavo", external_id="42")
    external_id_link(customer=imported_customer, source="import", external_id="42")

    assert customer_get_by_external_id(source="antavo", external_id="42") == antavo_customer
    assert customer_get_by_external_id(source="import", external_id="42") == imported_customer


def test_id_of_another_customer_is_a_409_and_writes_nothing():
    owner, other = CustomerFactory(), CustomerFactory()
    external_id_link(customer=owner, source="antavo", external_id=ANTAVO_ID)

    with pytest.raises(ApplicationError) as raised:
        external_id_link(customer=other, source="antavo", external_id=ANTAVO_ID)

    assert (raised.value.code, raised.value.status) == ("EXTERNAL_ID_CONFLICT", 409)
    assert list(ExternalCustomerId.objects.values_list("customer_id", flat=True)) == [owner.pk]


def test_second_id_from_the_same_source_is_a_409():
    customer = CustomerFactory()
    external_id_link(customer=customer, source="antavo", external_id="first")

    with pytest.raises(ApplicationError) as raised:
        external_id_link(customer=customer, source="antavo", external_id="second")

    assert raised.value.code == "EXTERNAL_ID_CONFLICT"
    assert list(ExternalCustomerId.objects.values_list("external_id", flat=True)) == ["first"]


@pytest.mark.parametrize(("source", "external_id"), [("bad source", "x"), ("antavo", "<b>"), ("antavo", "x" * 129)])
def test_malformed_source_or_id_is_refused(source, external_id):
    with pytest.raises(ValidationError):
        external_id_link(customer=CustomerFactory(), source=source, external_id=external_id)

    assert not ExternalCustomerId.objects.exists()


def test_erasure_deletes_the_links():
    customer = CustomerFactory()
    external_id_link(customer=customer, source="antavo", external_id=ANTAVO_ID)

    customer_erase(customer=customer, context=ChangeContext())

    assert not ExternalCustomerId.objects.exists()
    assert customer_get_by_external_id(source="antavo", external_id=ANTAVO_ID) is None
