import base64
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.http import HttpRequest
from django.test import override_settings
from rest_framework.test import APIClient

from crm.models import Address, ApiClient, Associate, ConsentChange, Consents, Customer, Store
from loyalty.models import LoyaltyAccount
from tests.roles import admin_roles_reset

pytestmark = pytest.mark.django_db


def run_seed_demo(*args: str) -> str:
    """Without the loyalty history, which test_seed_demo_history.py covers: it would only make these slower."""
    stdout = io.StringIO()
    call_command("seed_demo", "--customers", "20", "--no-history", *args, stdout=stdout)
    return stdout.getvalue()


def printed_key(output: str) -> str:
    return re.search(r"^API key   (rk_\S+)$", output, re.MULTILINE).group(1)


def row_counts() -> dict[str, int]:
    models = (Customer, Address, Consents, ConsentChange, LoyaltyAccount, Store, Associate, ApiClient)
    counts = {model.__name__: model.objects.count() for model in models}
    counts["User"] = get_user_model().objects.count()
    return counts


@override_settings(DEBUG=True)
def test_seed_demo_creates_the_requested_customers_stores_and_associates():
    # when
    run_seed_demo()

    # then
    assert Customer.objects.count() == 20
    assert sorted(Customer.objects.values_list("alternate_customer_id", flat=True)) == [
        f"DEMO-{number:04d}" for number in range(1, 21)
    ]
    assert list(Store.objects.values_list("code", flat=True)) == ["BOS01", "CHI01", "NYC01", "SEA01", "SFO01"]
    assert Associate.objects.count() == 15
    assert Consents.objects.filter(agree_to_tc=True).count() == 20
    assert Address.objects.count() == 35
    assert set(Customer.objects.values_list("country", flat=True)) == {"US"}


@override_settings(DEBUG=True)
def test_seed_demo_data_is_deterministic_and_goes_through_the_services():
    # when
    run_seed_demo()

    # then
    customer = Customer.objects.get(alternate_customer_id="DEMO-0003")
    assert (customer.first_name, customer.last_name) == ("José", "Müller")
    assert customer.last_name_search == "muller"
    assert customer.email == "jose.muller.3@example.com"
    assert customer.phone_mobile == "+13125550174"
    assert (customer.created_store.code, customer.created_associate.code) == ("CHI01", "CHI01-3")
    assert customer.profile_address.city == "Chicago"
    assert set(ConsentChange.objects.filter(customer=customer).values_list("channel", flat=True)) == {"system"}


@override_settings(DEBUG=True)
def test_seed_demo_enrols_exactly_the_customers_who_gave_loyalty_consent():
    # when
    run_seed_demo()

    # then
    consenting = set(Customer.objects.filter(consents__loyalty_sign_up=True).values_list("pk", flat=True))
    enrolled = set(LoyaltyAccount.objects.values_list("customer_id", flat=True))
    assert len(consenting) == 15
    assert enrolled == consenting
    assert set(LoyaltyAccount.objects.values_list("state", flat=True)) == {LoyaltyAccount.State.ENROLLED}


@override_settings(DEBUG=True)
def test_seed_demo_run_twice_creates_nothing_new_and_prints_a_working_key():
    # given
    first_output = run_seed_demo()
    counts_after_first_run = row_counts()

    # when
    second_output = run_seed_demo()

    # then
    assert row_counts() == counts_after_first_run
    assert "  customers   already present (20), 15 of 20 enrolled in the loyalty program" in second_output
    assert '  API client  "Demo POS" already present, new key issued' in second_output
    customer_id = Customer.objects.get(alternate_customer_id="DEMO-0002").public_id
    http = APIClient()
    fresh = http.get(f"/endpoint/sa/customers/{customer_id}?api_key={printed_key(second_output)}")
    stale = http.get(f"/endpoint/sa/customers/{customer_id}?api_key={printed_key(first_output)}")
    assert fresh.status_code == 200
    assert fresh.json()["customer"]["profile"]["customerId"] == customer_id
    assert stale.status_code == 401


@override_settings(DEBUG=True)
def test_seed_demo_with_more_customers_adds_only_the_missing_ones():
    # given
    run_seed_demo()
    first_customer_pk = Customer.objects.get(alternate_customer_id="DEMO-0001").pk

    # when
    stdout = io.StringIO()
    call_command("seed_demo", "--customers", "25", stdout=stdout)

    # then
    assert Customer.objects.count() == 25
    assert Customer.objects.get(alternate_customer_id="DEMO-0001").pk == first_customer_pk
    assert "  customers   5 created, 20 already present, " in stdout.getvalue()


@override_settings(DEBUG=True)
def test_seed_demo_gives_a_hand_made_customer_s_email_to_no_demo_customer(customer_factory):
    # given
    customer_factory(email="jose.muller.3@example.com")

    # when
    run_seed_demo()

    # then
    assert Customer.objects.get(alternate_customer_id="DEMO-0003").email == ""
    assert Customer.objects.filter(email="jose.muller.3@example.com").count() == 1


@override_settings(DEBUG=True)
def test_seed_demo_prints_urls_for_the_given_host_and_port_and_a_get_customer_curl_that_works():
    # when
    output = run_seed_demo("--host", "localhost", "--port", "9000")

    # then
    key = printed_key(output)
    assert "Admin     http://localhost:9000/admin/   login admin / admin" in output
    assert "API docs  http://localhost:9000/api/docs/" in output
    first_curl = next(line for line in output.splitlines() if line.lstrip().startswith("curl"))
    url = re.fullmatch(r"  curl '(\S+)'", first_curl).group(1)
    assert url.startswith("http://localhost:9000/endpoint/sa/customers/C")
    assert url.endswith(f"?api_key={key}")
    response = APIClient().get(url.removeprefix("http://localhost:9000"))
    assert response.status_code == 200
    assert response.json()["customer"]["profile"]["alternateCustomerId"] == "DEMO-0002"
    assert "loyaltyProfile" in response.json()["customer"]


@override_settings(DEBUG=True)
def test_seed_demo_search_and_create_curls_work():
    # given
    output = run_seed_demo()
    curls = [line.strip() for line in output.splitlines() if line.strip().startswith(("curl", "-d"))]
    search_url = re.fullmatch(r"curl '(\S+)'", curls[1]).group(1).removeprefix("http://127.0.0.1:8000")
    create_url = re.search(r"-X POST '(\S+)'", curls[2]).group(1).removeprefix("http://127.0.0.1:8000")
    create_body = re.fullmatch(r"-d '(.+)'", curls[3]).group(1)

    # when
    found = APIClient().get(search_url)
    created = APIClient().post(create_url, data=create_body, content_type="application/json")

    # then
    assert search_url.startswith("/endpoint/sa/customers?lastName=Andersson&api_key=rk_")
    assert found.status_code == 200
    assert {customer["profile"]["lastName"] for customer in found.json()["customers"]} == {"Andersson"}
    assert created.status_code == 200
    assert created.json()["customer"]["profile"]["lastName"] == "Lovelace"
    assert Customer.objects.count() == 21


@override_settings(DEBUG=True)
def test_seed_demo_creates_the_admin_only_when_there_is_none():
    # given
    get_user_model().objects.create_user(username="admin", password="a-better-one")

    # when
    output = run_seed_demo()

    # then
    admin = get_user_model().objects.get(username="admin")
    assert admin.check_password("a-better-one")
    assert admin.is_superuser is False
    assert "  admin user  already present (password left as it was)" in output


@override_settings(DEBUG=True)
def test_seed_demo_creates_a_superuser_admin_and_the_demo_api_client():
    # when
    run_seed_demo()

    # then
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser is True
    assert admin.check_password("admin")
    client = ApiClient.objects.get(name="Demo POS")
    assert client.scopes == ["clienteling", "loyalty:read", "loyalty:write", "privacy", "scan_and_go"]


@override_settings(DEBUG=False)
def test_seed_demo_refuses_without_debug_or_force_and_writes_nothing():
    # when
    with pytest.raises(CommandError) as error:
        run_seed_demo()

    # then
    assert str(error.value) == (
        "seed_demo creates an admin user with the password 'admin' and a demo API key, so it only runs with DEBUG "
        "on. Use --force if you really want demo data on this installation."
    )
    assert row_counts() == {
        "Customer": 0,
        "Address": 0,
        "Consents": 0,
        "ConsentChange": 0,
        "LoyaltyAccount": 0,
        "Store": 0,
        "Associate": 0,
        "ApiClient": 0,
        "User": 0,
    }


@override_settings(DEBUG=False)
def test_seed_demo_runs_without_debug_when_forced():
    # when
    run_seed_demo("--force")

    # then
    assert Customer.objects.count() == 20


@override_settings(DEBUG=True)
def test_seed_demo_refuses_a_customer_count_out_of_range():
    # when
    with pytest.raises(CommandError) as error:
        run_seed_demo("--customers", "0")

    # then
    assert str(error.value) == "--customers must be between 1 and 9999."
    assert Customer.objects.count() == 0


@override_settings(DEBUG=True)
def test_seed_demo_gives_demo_cards_and_prints_scan_and_go_curls_that_work():
    # given
    from loyalty.models import Card
    from loyalty.selectors.scan_and_go_config import scan_and_go_config_cache_clear

    scan_and_go_config_cache_clear()
    run_seed_demo()
    output = run_seed_demo()  # a second run keeps the cards and prints a new key

    # when
    key = printed_key(output)
    curls = [line.strip() for line in output.splitlines() if line.strip().startswith("curl -u")]
    answers = []
    for curl in curls:
        user, password, url = re.fullmatch(r"curl -u '([^:]+):(\S+)' '(\S+)'", curl).groups()
        http = APIClient()
        http.credentials(HTTP_AUTHORIZATION="Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())
        answers.append(http.get(url.removeprefix("http://127.0.0.1:8000")))

    # then
    assert len(curls) == 2
    assert all(f"'scan-and-go:{key}'" in curl for curl in curls)
    assert "loyaltyCardNumber=4000%200000%200001&storeId=NYC01&deviceType=smart_cart" in curls[0]
    assert [answer.status_code for answer in answers] == [200, 200]
    assert [answer.json()["unlockingDevices"]["isAllowed"] for answer in answers] == [True, False]
    assert list(Card.objects.filter(kind="physical").order_by("number").values_list("number", "status")) == [
        ("4000 0000 0001", "active"),
        ("4000 0000 0002", "active"),
        ("4000 0000 0003", "blocked"),
    ]


@override_settings(DEBUG=True)
def test_seed_demo_creates_one_login_per_role_that_opens_its_pages(client):
    # given
    admin_roles_reset()

    # when
    output = run_seed_demo()

    # then
    assert "roles: manager / manager (Store managers), marketing / marketing (Marketing)" in output
    users = get_user_model().objects.filter(username__in=("manager", "marketing")).order_by("username")
    described = [(u.username, u.is_staff, u.is_superuser, [g.name for g in u.groups.all()]) for u in users]
    assert described == [
        ("manager", True, False, ["Store managers"]),
        ("marketing", True, False, ["Marketing"]),
    ]
    # django-axes checks a login against the request it came with: the test client must pass one.
    assert client.login(request=HttpRequest(), username="marketing", password="marketing")
    assert client.get("/admin/loyalty/coupondefinition/add/").status_code == 200
    assert client.login(request=HttpRequest(), username="manager", password="manager")
    assert client.get("/admin/loyalty/coupondefinition/").status_code == 403
