"""Users who may not see customers' contact details (marketing: customers read-only) cannot look customers up by
them either: the customer search ignores email and phones for them, and the changelist refuses URL filters on
contact columns. Store managers, who fix profiles, search and filter by them."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from crm.roles import MARKETING, STORE_MANAGERS
from tests.roles import admin_roles_reset

CUSTOMERS_URL = "/admin/crm/customer/"


@pytest.fixture
def ada(customer_factory):
    return customer_factory(
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        phone_mobile="+14155550134",
        phone_home="+14155550100",
        postal_code="94105",
        postal_code_search="94105",
    )


def _client_in(django_user_model, group_name: str) -> Client:
    admin_roles_reset()
    user = django_user_model.objects.create_user(username=group_name.lower().replace(" ", "-"), is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    client = Client()
    client.force_login(user)
    return client


def _found(response) -> list[str]:
    assert response.status_code == 200
    return [customer.public_id for customer in response.context["cl"].result_list]


@pytest.mark.parametrize(
    ("group_name", "term", "finds_ada"),
    [
        (MARKETING, "ada@example.com", False),
        (MARKETING, "ADA@EXAMPLE.COM", False),
        (MARKETING, "(415) 555-0134", False),
        (MARKETING, "+14155550100", False),
        (MARKETING, "Ada", True),
        (MARKETING, "ada love", True),
        (STORE_MANAGERS, "ada@example.com", True),
        (STORE_MANAGERS, "(415) 555-0134", True),
        (STORE_MANAGERS, "+14155550100", True),
        (STORE_MANAGERS, "Ada", True),
    ],
)
def test_only_users_who_see_contact_details_find_customers_by_them(
    django_user_model, ada, customer_factory, group_name, term, finds_ada
):
    # given
    customer_factory(first_name="Grace", last_name="Hopper", email="grace@example.com", phone_mobile="+14155550199")
    http = _client_in(django_user_model, group_name)

    # when
    response = http.get(CUSTOMERS_URL, {"q": term})

    # then
    assert _found(response) == ([ada.public_id] if finds_ada else [])


def test_marketing_finds_customers_by_customer_id_and_loyalty_account_number(
    django_user_model, ada, loyalty_account_factory
):
    # given
    account = loyalty_account_factory(customer=ada)
    http = _client_in(django_user_model, MARKETING)

    # when
    by_id = http.get(CUSTOMERS_URL, {"q": ada.public_id.lower()})
    by_account = http.get(CUSTOMERS_URL, {"q": account.account_number})

    # then
    assert (_found(by_id), _found(by_account)) == ([ada.public_id], [ada.public_id])


def test_the_customer_lookup_popup_ignores_contact_details_for_marketing(django_user_model, ada):
    # given: the raw-id popup that picks a customer, e.g. for a voucher
    http = _client_in(django_user_model, MARKETING)

    # when
    by_email = http.get(CUSTOMERS_URL, {"_to_field": "id", "_popup": "1", "q": "ada@example.com"})
    by_name = http.get(CUSTOMERS_URL, {"_to_field": "id", "_popup": "1", "q": "Lovelace"})

    # then
    assert (_found(by_email), _found(by_name)) == ([], [ada.public_id])


def test_each_role_reads_the_search_help_for_what_it_may_search(django_user_model, db):
    # when
    marketing = _client_in(django_user_model, MARKETING).get(CUSTOMERS_URL)
    store_manager = _client_in(django_user_model, STORE_MANAGERS).get(CUSTOMERS_URL)

    # then
    assert marketing.context["cl"].search_help_text == (
        "First or last name (or “first last”), customer id or loyalty account number."
    )
    assert store_manager.context["cl"].search_help_text == (
        "First or last name (or “first last”), email, phone, customer id or loyalty account number."
    )


@pytest.mark.parametrize(
    "lookup",
    [
        {"email": "ada@example.com"},
        {"email__startswith": "ada"},
        {"phone_mobile": "+14155550134"},
        {"phone_home__contains": "555"},
        {"postal_code": "94105"},
        {"postal_code_search__startswith": "941"},
        {"allow_sms_notifications__isnull": "True"},
        {"profile_address__isnull": "True"},
        {"addresses__city": "Springfield"},
    ],
)
def test_marketing_cannot_filter_customers_on_contact_columns_from_the_url(django_user_model, ada, lookup):
    # given
    http = _client_in(django_user_model, MARKETING)

    # when
    response = http.get(CUSTOMERS_URL, lookup)

    # then
    assert response.status_code == 400
    assert "cl" not in (response.context or {})


def test_store_managers_and_marketing_keep_the_other_url_filters(django_user_model, ada):
    # when
    store_manager = _client_in(django_user_model, STORE_MANAGERS).get(CUSTOMERS_URL, {"email": "ada@example.com"})
    marketing = _client_in(django_user_model, MARKETING).get(CUSTOMERS_URL, {"status__exact": "active"})

    # then
    assert (_found(store_manager), _found(marketing)) == ([ada.public_id], [ada.public_id])
