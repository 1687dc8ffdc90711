"""crm.services.privacy.customer_erase: PII erasure that keeps the pseudonymous record."""

from datetime import date

import pytest
import time_machine
from django.db import connection, models
from django.test.utils import CaptureQueriesContext

from crm.models import Address, ConsentChange, Consents, Customer
from crm.services.api_clients import api_client_create
from crm.services.context import ChangeContext
from crm.services.privacy import customer_erase
from loyalty.models import LoyaltyAccount

# Case-sensitive on purpose: public ids are upper-case Crockford base32 and could contain "ADA" by chance.
PII = (
    "Countess",
    "Ada",
    "ada",
    "Lovelace",
    "lovelace",
    "ada@example.com",
    "+12175550100",
    "+12175550111",
    "+442079460000",
    "woman",
    "ERP-0042",
    "DE123456789",
    "SW1A",
    "1AA",
    "Byron",
    "1 Main St",
    "Flat 2",
    "London",
    "Marylebone",
)


@pytest.fixture
def ada(customer_factory, address_factory, store_factory, loyalty_account_factory):
    customer = customer_factory(
        salutation="Countess",
        first_name="Ada",
        last_name="Lovelace",
        first_name_search="ada",
        last_name_search="lovelace",
        email="ada@example.com",
        phone_mobile="+12175550100",
        phone_home="+12175550111",
        birthday=date(1815, 12, 10),
        gender="woman",
        preferred_language="en-GB",
        customer_group="vip",
        alternate_customer_id="ERP-0042",
        tax_id="DE123456789",
        country="GB",
        postal_code="SW1A 1AA",
        postal_code_search="SW1A1AA",
        allow_sms_notifications=True,
        custom_attributes={"nickname": "Byron"},
        created_store=store_factory(code="S1"),
    )
    customer.profile_address = address_factory(
        customer=customer,
        first_name="Ada",
        last_name="Lovelace",
        address_line1="1 Main St",
        address_line2="Flat 2",
        city="London",
        state="Marylebone",
        postal_code="SW1A 1AA",
        postal_code_search="SW1A1AA",
        country_code="GB",
        phone="+442079460000",
    )
    customer.save()
    address_factory(customer=customer, address_line1="1 Main St", address_line2="Flat 3", city="London")
    Consents.objects.create(customer=customer, agree_to_tc=True, sms_sign_up=True, e_receipt=False)
    account = loyalty_account_factory(customer=customer)
    return customer, account


@pytest.fixture
def privacy_context(db):
    client, _key = api_client_create(name="privacy-desk", scopes=["privacy"])
    return ChangeContext(channel=ConsentChange.Channel.API, api_client=client)


def _text_values(instance: models.Model) -> list[str]:
    return [
        getattr(instance, field.attname)
        for field in instance._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField) and getattr(instance, field.attname)
    ]


def test_no_pii_string_is_left_in_any_text_column(ada, privacy_context):
    # given
    customer, _account = ada

    # when
    customer_erase(customer=customer, context=privacy_context)

    # then
    erased = Customer.objects.get(pk=customer.pk)
    leftovers = [(value, pii) for value in _text_values(erased) for pii in PII if pii in value]
    assert leftovers == []
    for address in Address.objects.all():
        assert [(value, pii) for value in _text_values(address) for pii in PII if pii in value] == []
    assert Address.objects.filter(customer=customer).count() == 0


def test_erasure_blanks_identity_and_keeps_the_pseudonymous_record(ada, privacy_context):
    # given
    customer, account = ada

    # when
    erased = customer_erase(customer=customer, context=privacy_context)

    # then
    erased.refresh_from_db()
    assert erased.status == Customer.Status.ERASED
    assert (erased.birthday, erased.allow_sms_notifications, erased.custom_attributes) == (None, None, {})
    assert (erased.profile_address, erased.public_id) == (None, customer.public_id)
    assert (erased.preferred_language, erased.country, erased.customer_group) == ("en-GB", "GB", "vip")
    assert erased.created_store.code == "S1"
    kept = LoyaltyAccount.objects.get(pk=account.pk)
    assert (kept.address, kept.account_number, kept.customer_id) == (None, account.account_number, customer.pk)


def test_consents_are_withdrawn_and_the_history_names_who_erased(ada, privacy_context):
    # given
    customer, _account = ada

    # when
    with time_machine.travel("2026-11-22T10:00:00+00:00", tick=False):
        erased = customer_erase(customer=customer, context=privacy_context)

    # then
    consents = Consents.objects.get(customer=customer)
    assert [getattr(consents, name) for name in ("agree_to_tc", "sms_sign_up", "e_receipt", "loyalty_sign_up")] == [
        False,
        False,
        False,
        False,
    ]
    history = ConsentChange.objects.filter(customer=customer)
    assert sorted(change.consent for change in history) == [
        "agree_to_tc",
        "direct_mail_sign_up",
        "loyalty_sign_up",
        "news_letter_sign_up",
        "phone_sign_up",
        "sms_sign_up",
    ]
    assert {(change.channel, change.api_client.name, change.new_value) for change in history} == {
        ("api", "privacy-desk", False)
    }
    assert erased.updated_at.isoformat() == "2026-11-22T10:00:00+00:00"


def test_customer_without_consents_gets_every_consent_withdrawn(customer_factory, privacy_context):
    # given
    customer = customer_factory()

    # when
    customer_erase(customer=customer, context=privacy_context)

    # then
    assert ConsentChange.objects.filter(customer=customer, new_value=False).count() == 7


def test_erasing_twice_changes_nothing_the_second_time(ada, privacy_context):
    # given
    customer, _account = ada
    with time_machine.travel("2026-11-22T10:00:00+00:00", tick=False):
        first = customer_erase(customer=customer, context=privacy_context)
    history = ConsentChange.objects.count()

    # when
    with time_machine.travel("2026-11-23T10:00:00+00:00", tick=False):
        with CaptureQueriesContext(connection) as context:
            second = customer_erase(customer=customer, context=privacy_context)

    # then
    writes = [
        query["sql"] for query in context.captured_queries if query["sql"].split()[0] in {"INSERT", "UPDATE", "DELETE"}
    ]
    assert writes == []
    assert second.updated_at == first.updated_at
    assert ConsentChange.objects.count() == history


def test_other_customers_are_untouched(ada, privacy_context, customer_factory, address_factory):
    # given
    customer, _account = ada
    other = customer_factory(first_name="Grace", email="grace@example.com")
    address = address_factory(customer=other, city="Arlington")

    # when
    customer_erase(customer=customer, context=privacy_context)

    # then
    other.refresh_from_db()
    assert (other.first_name, other.email, other.status) == ("Grace", "grace@example.com", "active")
    assert Address.objects.get(pk=address.pk).city == "Arlington"
