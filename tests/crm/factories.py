import factory
from factory.django import DjangoModelFactory

from crm.ids import generate_address_id, generate_customer_id
from crm.models import Address, Associate, Consents, Customer, Store
from crm.normalisation import address_fingerprint, fold_for_search, normalise_postal_code


class StoreFactory(DjangoModelFactory):
    class Meta:
        model = Store
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"S{n:03d}")
    name = factory.Sequence(lambda n: f"Store {n}")
    country_code = "US"


class AssociateFactory(DjangoModelFactory):
    class Meta:
        model = Associate

    store = factory.SubFactory(StoreFactory)
    code = factory.Sequence(lambda n: f"A{n:03d}")
    name = factory.Faker("name")


class CustomerFactory(DjangoModelFactory):
    """A customer whose derived search columns are consistent, as the services would have written them."""

    class Meta:
        model = Customer

    public_id = factory.LazyFunction(generate_customer_id)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"customer{n}@example.com")
    phone_mobile = factory.Sequence(lambda n: f"+1217555{n % 10000:04d}")
    postal_code = ""
    first_name_search = factory.LazyAttribute(lambda customer: fold_for_search(customer.first_name))
    last_name_search = factory.LazyAttribute(lambda customer: fold_for_search(customer.last_name))
    postal_code_search = factory.LazyAttribute(lambda customer: normalise_postal_code(customer.postal_code))


class AddressFactory(DjangoModelFactory):
    class Meta:
        model = Address

    customer = factory.SubFactory(CustomerFactory)
    public_id = factory.LazyFunction(generate_address_id)
    position = factory.Sequence(lambda n: n)
    address_line1 = factory.Sequence(lambda n: f"{n} Main St")
    city = "Springfield"
    state = "IL"
    postal_code = "62701"
    country_code = "US"
    postal_code_search = factory.LazyAttribute(lambda address: normalise_postal_code(address.postal_code))
    fingerprint = factory.LazyAttribute(
        lambda address: address_fingerprint(
            {
                "address_line1": address.address_line1,
                "city": address.city,
                "state": address.state,
                "postal_code": address.postal_code,
                "country_code": address.country_code,
            }
        )
    )


class ConsentsFactory(DjangoModelFactory):
    class Meta:
        model = Consents

    customer = factory.SubFactory(CustomerFactory)
