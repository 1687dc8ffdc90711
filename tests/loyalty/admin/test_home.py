"""The back office's home page: branded with the retailer's name; for store managers a clienteling home (one search
box answering as they type, today's numbers of their store, its latest customers) above the usual applications;
marketing keeps its index as it was. The search endpoint runs the customer list's own search."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from crm.models import Customer
from crm.roles import MARKETING, STORE_MANAGERS
from loyalty.admin.home import HOME_STORE_SESSION_KEY
from loyalty.services.purchases import purchase_refund
from tests.loyalty.factories import LoyaltyAccountFactory, PurchaseFactory

HOME_URL = "/admin/"
SEARCH_URL = "/admin/customer-search/"
NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)
# Session, user, groups' permissions; stores, today's sign-ups, today's purchases, the recent customers; the app
# list's permissions are cached with the user's.
HOME_QUERIES = 8
# Session, user, permissions, the customers whose card or account number it is (the loyalty extension's part of the
# search), the customers found, their default-program accounts.
SEARCH_QUERIES = 7


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture
def two_stores(store_factory):
    return store_factory(code="NYC01", name="New York flagship"), store_factory(code="BOS01", name="Boston")


def test_every_page_carries_the_retailers_name(role_client):
    # when
    response = role_client(MARKETING).get(HOME_URL)

    # then
    assert response.status_code == 200
    assert "<title>Home | Retail CRM</title>" in response.content.decode()
    assert '<div id="site-name"><a href="/admin/">Retail CRM</a></div>' in response.content.decode()


def test_store_manager_home_shows_todays_numbers_of_the_chosen_store_and_its_recent_customers(
    role_client, two_stores, customer_factory, django_assert_max_num_queries
):
    # given: yesterday and today at New York, today at Boston
    new_york, boston = two_stores
    ada = LoyaltyAccountFactory(customer=customer_factory(first_name="Ada", last_name="Lovelace"))
    grace = LoyaltyAccountFactory(customer=customer_factory(first_name="Grace", last_name="Hopper"))
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        customer_factory(created_store=new_york)
        PurchaseFactory(account=grace, total="80.00", store=new_york)
    with time_machine.travel(NOW - timedelta(hours=3), tick=False):
        customer_factory(created_store=new_york)
        customer_factory(created_store=new_york)
        customer_factory(created_store=boston)
        PurchaseFactory(account=ada, total="120.00", store=new_york)
        refunded = PurchaseFactory(account=ada, total="30.00", store=new_york)
        PurchaseFactory(account=grace, total="55.00", store=boston)
    with time_machine.travel(NOW - timedelta(hours=2), tick=False):
        purchase_refund(purchase=refunded, amount=Decimal("10.00"))
    client = role_client(STORE_MANAGERS)
    client.get(HOME_URL, {"store": "NYC01"})  # chosen once, remembered in the session

    # when
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(HOME_QUERIES):
        response = client.get(HOME_URL)

    # then
    assert response.status_code == 200
    assert client.session[HOME_STORE_SESSION_KEY] == "NYC01"
    home = response.context["clienteling"]
    assert home["store"] == new_york
    numbers = home["numbers"]
    # Sales net of the refund: 120 + 30 - 10; points as the default program earns them (1 per unit).
    assert (numbers.sign_ups, numbers.purchases, numbers.sales, numbers.points_issued) == (2, 2, Decimal("140.00"), 150)
    assert [recent.customer.first_name for recent in home["recent_customers"]] == ["Ada", "Grace"]
    text = _text(response)
    assert "Find a customer" in text
    assert "Today at New York flagship" in text
    assert 'id="home-search-input"' in response.content.decode()
    assert "Ada Lovelace" in text
    # The applications stay below it.
    assert 'id="crm-customer"' in response.content.decode()


def test_all_stores_is_the_default_and_an_unknown_store_goes_back_to_it(role_client, two_stores, customer_factory):
    # given
    customer_factory(created_store=two_stores[0])
    customer_factory(created_store=two_stores[1])
    client = role_client(STORE_MANAGERS)

    # when
    first = client.get(HOME_URL)
    chosen = client.get(HOME_URL, {"store": "BOS01"})
    unknown = client.get(HOME_URL, {"store": "NOPE"})

    # then
    assert first.context["clienteling"]["store"] is None
    assert first.context["clienteling"]["numbers"].sign_ups == 2
    assert chosen.context["clienteling"]["numbers"].sign_ups == 1
    assert unknown.context["clienteling"]["store"] is None
    assert HOME_STORE_SESSION_KEY not in client.session


def test_marketing_keeps_the_index_without_the_clienteling_home(role_client):
    # when
    response = role_client(MARKETING).get(HOME_URL)

    # then
    assert response.status_code == 200
    assert "clienteling" not in response.context
    assert "Find a customer" not in _text(response)
    assert "Coupon definitions" in _text(response)


def test_search_finds_by_name_phone_as_typed_card_number_and_customer_id(
    role_client, customer_factory, django_assert_max_num_queries
):
    # given
    ada = customer_factory(first_name="Ada", last_name="Lovelace", phone_mobile="+14155550134", email="ada@example.com")
    account = LoyaltyAccountFactory(customer=ada)
    customer_factory(first_name="Grace", last_name="Hopper", phone_mobile="+14155550199")
    card = account.cards.get()
    client = role_client(STORE_MANAGERS)
    client.get(HOME_URL)

    # when
    with django_assert_max_num_queries(SEARCH_QUERIES):
        by_name = client.get(SEARCH_URL, {"q": "lov"})
    by_phone = client.get(SEARCH_URL, {"q": "(415) 555-0134"})
    by_card = client.get(SEARCH_URL, {"q": card.number})
    by_id = client.get(SEARCH_URL, {"q": ada.public_id.lower()})

    # then
    expected = {
        "id": ada.public_id,
        "name": "Ada Lovelace",
        "status": "Active",
        "store": "",
        "tier": account.tier.name,
        "points": 0,
        "email": "ada@example.com",
        "phone": "+14155550134",
        "url": f"/admin/crm/customer/{ada.pk}/change/",
    }
    for response in (by_name, by_phone, by_card, by_id):
        assert response.status_code == 200
        assert response.json() == {"results": [expected], "more": False}


def test_search_shows_marketing_no_contact_details_and_does_not_search_them(role_client, customer_factory):
    # given
    ada = customer_factory(first_name="Ada", last_name="Lovelace", phone_mobile="+14155550134")
    client = role_client(MARKETING)

    # when
    by_name = client.get(SEARCH_URL, {"q": "Ada"})
    by_phone = client.get(SEARCH_URL, {"q": "(415) 555-0134"})

    # then
    assert by_name.json()["results"] == [
        {
            "id": ada.public_id,
            "name": "Ada Lovelace",
            "status": "Active",
            "store": "",
            "tier": "",
            "points": None,
            "url": f"/admin/crm/customer/{ada.pk}/change/",
        }
    ]
    assert by_phone.json() == {"results": [], "more": False}


def test_search_says_when_there_are_more_than_ten(role_client, customer_factory):
    # given
    for _index in range(11):
        customer_factory(last_name="Smith")
    client = role_client(STORE_MANAGERS)

    # when
    response = client.get(SEARCH_URL, {"q": "smi"})

    # then
    assert len(response.json()["results"]) == 10
    assert response.json()["more"] is True


def test_search_refuses_a_term_too_short_to_search_with_400(role_client):
    # when
    response = role_client(STORE_MANAGERS).get(SEARCH_URL, {"q": " a "})

    # then
    assert response.status_code == 400
    assert response.json()["code"] == "SEARCH_TOO_SHORT"
    assert response.json()["extra"]["fields"]["q"] == [
        "Type at least 2 characters of a name, email, phone, card number or id."
    ]


def test_search_refuses_staff_who_may_not_view_customers_with_403(client, django_user_model, customer_factory):
    # given
    customer_factory(first_name="Ada")
    user = django_user_model.objects.create_user(username="clerk", is_staff=True)
    client.force_login(user)

    # when
    response = client.get(SEARCH_URL, {"q": "Ada"})

    # then
    assert response.status_code == 403
    assert response.json() == {"message": "You may not view customers.", "code": "PERMISSION_DENIED"}
    assert Customer.objects.count() == 1


def test_search_sends_anonymous_users_to_the_login_page(client):
    # when
    response = client.get(SEARCH_URL, {"q": "Ada"})

    # then
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
