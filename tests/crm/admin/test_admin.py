"""The back office: every page loads, search finds customers however they were typed, and writes go through the
services (normalised columns, consent history, API keys shown once)."""

import hashlib
import re
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.models import Address, ApiClient, ConsentChange, Consents, Customer
from crm.normalisation import address_fingerprint
from crm.services.api_clients import api_client_create
from crm.services.consents import consents_set
from crm.services.context import ChangeContext
from loyalty.models import LoyaltyAccount, Program
from tests.admin_forms import admin_form_data

CUSTOMERS_URL = "/admin/crm/customer/"
API_CLIENTS_URL = "/admin/crm/apiclient/"
# Session, user, the COUNT(*) capped by LargeTablePaginator, the page of customers with their store joined, the stores
# for the "created store" filter.
CUSTOMER_CHANGELIST_QUERIES = 5


def _messages(response) -> list[tuple[int, str]]:
    return [(message.level, message.message) for message in get_messages(response.wsgi_request)]


def _search(admin_client, term: str) -> list[str]:
    response = admin_client.get(CUSTOMERS_URL, {"q": term})
    assert response.status_code == 200
    return [customer.public_id for customer in response.context["cl"].result_list]


def _inline(response, model) -> Any:
    return next(inline for inline in response.context["inline_admin_formsets"] if inline.formset.model is model)


def test_customer_admin_pages_load(
    admin_client, customer_factory, address_factory, store_factory, loyalty_account_factory
):
    # given
    customer = customer_factory(created_store=store_factory())
    address_factory(customer=customer)
    consents_set(customer=customer, changes={"agree_to_tc": True}, context=ChangeContext())
    loyalty_account_factory(customer=customer)

    # when
    changelist = admin_client.get(CUSTOMERS_URL)
    change = admin_client.get(f"{CUSTOMERS_URL}{customer.pk}/change/")
    add = admin_client.get(f"{CUSTOMERS_URL}add/")

    # then
    assert (changelist.status_code, change.status_code, add.status_code) == (200, 200, 200)


def test_store_admin_pages_load(admin_client, store_factory):
    # given
    store = store_factory()

    # when
    changelist = admin_client.get("/admin/crm/store/")
    change = admin_client.get(f"/admin/crm/store/{store.pk}/change/")

    # then
    assert (changelist.status_code, change.status_code) == (200, 200)


def test_associate_admin_pages_load(admin_client, associate_factory):
    # given
    associate = associate_factory()

    # when
    changelist = admin_client.get("/admin/crm/associate/")
    change = admin_client.get(f"/admin/crm/associate/{associate.pk}/change/")

    # then
    assert (changelist.status_code, change.status_code) == (200, 200)


def test_api_client_admin_pages_load(admin_client):
    # given
    client, _key = api_client_create(name="pos-connector", scopes=["clienteling"])

    # when
    changelist = admin_client.get(API_CLIENTS_URL)
    change = admin_client.get(f"{API_CLIENTS_URL}{client.pk}/change/")
    add = admin_client.get(f"{API_CLIENTS_URL}add/")

    # then
    assert (changelist.status_code, change.status_code, add.status_code) == (200, 200, 200)
    assert client.key_hash not in change.content.decode()


def test_program_admin_pages_load(admin_client, db):
    # given
    program = Program.objects.get(is_default=True)

    # when
    changelist = admin_client.get("/admin/loyalty/program/")
    change = admin_client.get(f"/admin/loyalty/program/{program.pk}/change/")

    # then
    assert (changelist.status_code, change.status_code) == (200, 200)


def test_loyalty_account_admin_pages_load(admin_client, loyalty_account_factory):
    # given
    account = loyalty_account_factory()

    # when
    changelist = admin_client.get("/admin/loyalty/loyaltyaccount/")
    change = admin_client.get(f"/admin/loyalty/loyaltyaccount/{account.pk}/change/")

    # then
    assert (changelist.status_code, change.status_code) == (200, 200)


def test_loyalty_account_admin_is_view_only(admin_client, loyalty_account_factory):
    # given
    account = loyalty_account_factory()
    account_number = account.account_number
    url = f"/admin/loyalty/loyaltyaccount/{account.pk}/change/"

    # when
    add = admin_client.get("/admin/loyalty/loyaltyaccount/add/")
    change = admin_client.post(url, {"account_number": "111111111111", "points_balance": "1000"})
    delete = admin_client.post(f"/admin/loyalty/loyaltyaccount/{account.pk}/delete/", {"post": "yes"})

    # then
    assert (add.status_code, change.status_code, delete.status_code) == (403, 403, 403)
    account.refresh_from_db()
    assert (account.account_number, account.points_balance) == (account_number, 0)
    assert LoyaltyAccount.objects.count() == 1


def test_customer_changelist_query_count_does_not_grow_with_customers(
    admin_client, customer_factory, store_factory, django_assert_max_num_queries
):
    # given
    for index in range(30):
        customer_factory(created_store=store_factory(code=f"S{index:03d}"))

    # when
    with django_assert_max_num_queries(CUSTOMER_CHANGELIST_QUERIES):
        response = admin_client.get(CUSTOMERS_URL)

    # then
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 30


def test_search_finds_accented_name_typed_without_accents(admin_client, customer_factory):
    # given
    muller = customer_factory(first_name="Jürgen", last_name="Müller")
    customer_factory(first_name="Ada", last_name="Lovelace")

    # when
    found = _search(admin_client, "muller")

    # then
    assert found == [muller.public_id]


def test_search_finds_first_and_last_name_prefixes_together(admin_client, customer_factory):
    # given
    ada_lovelace = customer_factory(first_name="Ada", last_name="Lovelace")
    customer_factory(first_name="Ada", last_name="Byron")
    customer_factory(first_name="Grace", last_name="Lovelace")

    # when
    found = _search(admin_client, "Ada Love")

    # then
    assert found == [ada_lovelace.public_id]


def test_search_finds_phone_typed_in_any_format(admin_client, customer_factory):
    # given
    mobile = customer_factory(phone_mobile="+12175550100", phone_home="")
    home = customer_factory(phone_mobile="+12175550101", phone_home="+12175550100")
    customer_factory(phone_mobile="+12175550102", phone_home="")

    # when
    found = _search(admin_client, "(217) 555-0100")

    # then
    assert sorted(found) == sorted([mobile.public_id, home.public_id])


def test_search_finds_email_typed_in_upper_case(admin_client, customer_factory):
    # given
    ada = customer_factory(email="ada@example.com")
    customer_factory(email="grace@example.com")

    # when
    found = _search(admin_client, " ADA@Example.COM ")

    # then
    assert found == [ada.public_id]


def test_search_finds_customer_id(admin_client, customer_factory):
    # given
    ada = customer_factory()
    customer_factory()

    # when
    found = _search(admin_client, ada.public_id.lower())

    # then
    assert found == [ada.public_id]


def test_search_finds_loyalty_account_number(admin_client, customer_factory, loyalty_account_factory):
    # given
    member = customer_factory()
    account = loyalty_account_factory(customer=member)
    loyalty_account_factory()

    # when
    found = _search(admin_client, account.account_number)

    # then
    assert found == [member.public_id]


def test_search_never_matches_inside_a_column(admin_client, customer_factory):
    # given
    customer_factory(first_name="Ada", last_name="Lovelace")

    # when
    with CaptureQueriesContext(connection) as queries:
        found = _search(admin_client, "velace")

    # then
    assert found == []
    assert [query["sql"] for query in queries if "LIKE '%" in query["sql"]] == []


def test_loyalty_account_search_finds_account_number_and_customer_id(
    admin_client, customer_factory, loyalty_account_factory
):
    # given
    member = customer_factory()
    account = loyalty_account_factory(customer=member)
    loyalty_account_factory()

    # when
    by_number = admin_client.get("/admin/loyalty/loyaltyaccount/", {"q": account.account_number})
    by_customer = admin_client.get("/admin/loyalty/loyaltyaccount/", {"q": member.public_id})

    # then
    assert list(by_number.context["cl"].result_list) == [account]
    assert list(by_customer.context["cl"].result_list) == [account]


def test_adding_a_customer_derives_its_columns_and_consents(admin_client, admin_user, db):
    # given
    data = admin_form_data(admin_client.get(f"{CUSTOMERS_URL}add/"))
    data.update(
        {"first_name": "Zoë", "last_name": "Müller", "email": "Zoe@Example.com", "phone_mobile": "(217) 555-0199"}
    )
    data["consents-0-agree_to_tc"] = "true"

    # when
    response = admin_client.post(f"{CUSTOMERS_URL}add/", data)

    # then
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert customer.public_id.startswith("C")
    assert len(customer.public_id) == 13
    assert (customer.first_name_search, customer.last_name_search) == ("zoe", "muller")
    assert (customer.email, customer.phone_mobile) == ("zoe@example.com", "+12175550199")
    assert customer.consents.agree_to_tc is True
    assert list(ConsentChange.objects.values_list("consent", "previous_value", "new_value", "channel", "user")) == [
        ("agree_to_tc", None, True, "admin", admin_user.pk)
    ]


def test_changing_a_consent_records_one_admin_change(admin_client, admin_user, customer_factory):
    # given
    customer = customer_factory()
    Consents.objects.create(customer=customer, agree_to_tc=True)
    url = f"{CUSTOMERS_URL}{customer.pk}/change/"
    data = admin_form_data(admin_client.get(url))
    data["consents-0-sms_sign_up"] = "true"

    # when
    response = admin_client.post(url, data)

    # then
    assert response.status_code == 302
    history = ConsentChange.objects.filter(customer=customer)
    assert list(history.values_list("consent", "previous_value", "new_value", "channel", "user")) == [
        ("sms_sign_up", None, True, "admin", admin_user.pk)
    ]
    consents = Consents.objects.get(customer=customer)
    assert (consents.agree_to_tc, consents.sms_sign_up) == (True, True)


def test_saving_a_customer_without_changes_records_no_consent_change(admin_client, customer_factory):
    # given
    customer = customer_factory()
    Consents.objects.create(customer=customer, agree_to_tc=True)
    url = f"{CUSTOMERS_URL}{customer.pk}/change/"

    # when
    response = admin_client.post(url, admin_form_data(admin_client.get(url)))

    # then
    assert response.status_code == 302
    assert ConsentChange.objects.count() == 0


def test_consent_history_inline_is_read_only(admin_client, customer_factory):
    # given
    customer = customer_factory()
    consents_set(customer=customer, changes={"news_letter_sign_up": True}, context=ChangeContext())
    consents_set(customer=customer, changes={"news_letter_sign_up": False}, context=ChangeContext())
    url = f"{CUSTOMERS_URL}{customer.pk}/change/"

    # when
    response = admin_client.get(url)
    history = _inline(response, ConsentChange)
    admin_client.post(url, admin_form_data(response) | {"consent_changes-0-new_value": "true"})

    # then
    assert (history.has_add_permission, history.has_change_permission, history.has_delete_permission) == (
        False,
        False,
        False,
    )
    assert [form.instance.new_value for form in history.formset.forms] == [False, True]
    assert 'name="consent_changes-0-new_value"' not in response.content.decode()
    assert list(ConsentChange.objects.order_by("id").values_list("new_value", flat=True)) == [True, False]


def test_adding_an_address_fills_its_derived_columns(admin_client, customer_factory, address_factory):
    # given
    customer = customer_factory()
    address_factory(customer=customer, position=0)
    url = f"{CUSTOMERS_URL}{customer.pk}/change/"
    data = admin_form_data(admin_client.get(url))
    data.update(
        {
            "addresses-TOTAL_FORMS": 2,
            "addresses-1-customer": customer.pk,
            "addresses-1-position": 0,
            "addresses-1-address_line1": " 10 Downing St ",
            "addresses-1-city": "London",
            "addresses-1-postal_code": "sw1a 2aa",
            "addresses-1-country_code": "gb",
        }
    )

    # when
    response = admin_client.post(url, data)

    # then
    assert response.status_code == 302
    address = Address.objects.get(customer=customer, city="London")
    assert address.public_id.startswith("A")
    assert (address.address_line1, address.country_code, address.position) == ("10 Downing St", "GB", 1)
    assert address.postal_code_search == "SW1A2AA"
    assert address.fingerprint == address_fingerprint(
        {"address_line1": "10 Downing St", "city": "London", "postal_code": "sw1a 2aa", "country_code": "GB"}
    )


def test_email_clash_shows_an_error_and_writes_nothing(admin_client, customer_factory):
    # given
    customer_factory(email="ada@example.com")
    data = admin_form_data(admin_client.get(f"{CUSTOMERS_URL}add/"))
    data.update({"first_name": "Ada", "email": "ADA@example.com"})
    data["consents-0-agree_to_tc"] = "true"

    # when
    response = admin_client.post(f"{CUSTOMERS_URL}add/", data)

    # then
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "__all__": ["This email address is already used by another customer."]
    }
    assert Customer.objects.count() == 1
    assert (Consents.objects.count(), ConsentChange.objects.count()) == (0, 0)


def test_a_service_error_shows_a_message_and_writes_nothing(admin_client, customer_factory):
    # given
    customer = customer_factory(first_name="Ada")
    url = f"{CUSTOMERS_URL}{customer.pk}/change/"
    data = admin_form_data(admin_client.get(url))
    data.update({"first_name": "Grace", "birthday": (timezone.now() + timedelta(days=2)).date().isoformat()})

    # when
    response = admin_client.post(url, data)

    # then
    assert (response.status_code, response["Location"]) == (302, url)
    assert _messages(response) == [(messages.ERROR, "birthday: Cannot be in the future.")]
    customer.refresh_from_db()
    assert (customer.first_name, customer.birthday) == ("Ada", None)


def test_an_inline_error_rolls_back_the_customer_too(admin_client, customer_factory, address_factory):
    # given
    customer = customer_factory(first_name="Ada")
    existing = address_factory(customer=customer, position=0)
    url = f"{CUSTOMERS_URL}{customer.pk}/change/"
    data = admin_form_data(admin_client.get(url))
    data.update(
        {
            "first_name": "Grace",
            "addresses-TOTAL_FORMS": 2,
            "addresses-1-customer": customer.pk,
            "addresses-1-position": 0,
            "addresses-1-address_line1": existing.address_line1,
            "addresses-1-city": existing.city,
            "addresses-1-state": existing.state,
            "addresses-1-postal_code": existing.postal_code,
            "addresses-1-country_code": existing.country_code,
        }
    )

    # when
    response = admin_client.post(url, data)

    # then
    assert (response.status_code, response["Location"]) == (302, url)
    assert _messages(response) == [(messages.ERROR, "This address is already in the customer's address list.")]
    customer.refresh_from_db()
    assert customer.first_name == "Ada"
    assert Address.objects.filter(customer=customer).count() == 1


def test_a_customer_cannot_be_marked_erased_by_hand(admin_client, customer_factory):
    # given
    customer = customer_factory()
    url = f"{CUSTOMERS_URL}{customer.pk}/change/"
    data = admin_form_data(admin_client.get(url)) | {"status": Customer.Status.ERASED}

    # when
    response = admin_client.post(url, data)

    # then
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"status": ["A customer cannot be marked erased by hand."]}
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ACTIVE


def test_customers_cannot_be_deleted(admin_client, customer_factory):
    # given
    customer = customer_factory()

    # when
    response = admin_client.post(f"{CUSTOMERS_URL}{customer.pk}/delete/", {"post": "yes"})

    # then
    assert response.status_code == 403
    assert Customer.objects.count() == 1


def test_creating_an_api_client_shows_its_key_once(admin_client, db):
    # given
    data = {"name": "pos-connector", "scopes": ["loyalty:read", "clienteling"]}

    # when
    response = admin_client.post(f"{API_CLIENTS_URL}add/", data)

    # then
    assert response.status_code == 302
    shown = _messages(response)
    key = re.search(r" is (rk_[A-Za-z0-9_-]+)\. Copy", shown[0][1]).group(1)
    assert shown[0] == (
        messages.SUCCESS,
        f"The API key of “pos-connector” is {key}. Copy it now: it is not stored and cannot be shown again.",
    )
    assert len(shown) == 2
    client = ApiClient.objects.get()
    assert client.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert (client.name, client.scopes, client.key_prefix) == (
        "pos-connector",
        ["clienteling", "loyalty:read"],
        key[:10],
    )
    redirected_to = admin_client.get(response["Location"]).content.decode()
    next_page = admin_client.get(f"{API_CLIENTS_URL}{client.pk}/change/").content.decode()
    assert (key in redirected_to, key in next_page) == (True, False)
    assert (client.key_hash in redirected_to, client.key_hash in next_page) == (False, False)


def test_rotate_key_action_shows_the_new_key(admin_client, db):
    # given
    client, old_key = api_client_create(name="pos-connector", scopes=["clienteling"])

    # when
    response = admin_client.post(API_CLIENTS_URL, {"action": "rotate_key", "_selected_action": [client.pk]})

    # then
    assert response.status_code == 302
    [(level, text)] = _messages(response)
    key = re.search(r" is (rk_[A-Za-z0-9_-]+)\. Copy", text).group(1)
    assert level == messages.SUCCESS
    assert key != old_key
    client.refresh_from_db()
    assert (client.key_hash, client.key_prefix) == (hashlib.sha256(key.encode()).hexdigest(), key[:10])


def test_generate_escher_secret_action_shows_the_secret_once_and_clear_removes_it(admin_client, db):
    # given
    client, _key = api_client_create(name="antavo-pos", scopes=["loyalty:write"])

    # when
    generated = admin_client.post(
        API_CLIENTS_URL, {"action": "generate_escher_secret", "_selected_action": [client.pk]}
    )
    [(level, text)] = _messages(generated)
    client.refresh_from_db()
    admin_client.get(generated["Location"])  # the list page, where the message is shown
    page = admin_client.get(f"{API_CLIENTS_URL}{client.pk}/change/").content.decode()
    cleared = admin_client.post(API_CLIENTS_URL, {"action": "clear_escher_secret", "_selected_action": [client.pk]})

    # then
    secret = re.search(r" is ([A-Za-z0-9_-]{43})\. Copy", text).group(1)
    assert (level, client.escher_secret) == (messages.SUCCESS, secret)
    assert secret not in page
    assert [text for _level, text in _messages(cleared)] == ["Signing secret removed: antavo-pos."]
    client.refresh_from_db()
    assert client.escher_secret == ""


def test_editing_scopes_goes_through_the_service(admin_client, db):
    # given
    client, _key = api_client_create(name="pos-connector", scopes=["clienteling"])
    key_hash = client.key_hash

    # when
    response = admin_client.post(f"{API_CLIENTS_URL}{client.pk}/change/", {"scopes": ["scan_and_go", "clienteling"]})

    # then
    assert response.status_code == 302
    client.refresh_from_db()
    assert (client.name, client.scopes, client.key_hash) == ("pos-connector", ["clienteling", "scan_and_go"], key_hash)
