import hashlib
import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from crm.models import ApiClient, Store


@pytest.mark.django_db
def test_prints_only_the_key_and_stores_only_its_hash():
    # given
    stdout = io.StringIO()

    # when
    call_command("create_api_key", "POS connector", "--scopes", "clienteling,scan_and_go", stdout=stdout)

    # then
    key = stdout.getvalue().strip()
    assert stdout.getvalue() == key + "\n"
    assert key.startswith("rk_")
    assert len(key) == 46
    client = ApiClient.objects.get()
    assert (client.name, client.scopes) == ("POS connector", ["clienteling", "scan_and_go"])
    assert client.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert client.key_prefix == key[:10]
    response = APIClient().get("/endpoint/sa/customers?lastName=x", HTTP_X_API_KEY=key)
    assert response.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("scopes", "message"),
    [
        (
            "clienteling,admin",
            "Unknown scopes: admin. Known scopes: clienteling, scan_and_go, loyalty:read, loyalty:write, privacy.",
        ),
        ("", "Give at least one scope with --scopes."),
    ],
)
def test_rejects_bad_scopes_and_creates_nothing(scopes, message):
    # when
    with pytest.raises(CommandError) as error:
        call_command("create_api_key", "pos", "--scopes", scopes, stdout=io.StringIO())

    # then
    assert str(error.value) == message
    assert ApiClient.objects.count() == 0


@pytest.mark.django_db
def test_rejects_a_taken_name():
    # given
    call_command("create_api_key", "pos", "--scopes", "clienteling", stdout=io.StringIO())

    # when
    with pytest.raises(CommandError) as error:
        call_command("create_api_key", "pos", "--scopes", "privacy", stdout=io.StringIO())

    # then
    assert str(error.value) == "An API client named pos already exists."
    assert list(ApiClient.objects.values_list("scopes", flat=True)) == [["clienteling"]]


@pytest.mark.django_db
def test_stores_restrict_the_key_and_stdout_is_still_only_the_key(store_factory):
    # given
    store_factory(code="NYC01")
    store_factory(code="SFO01")
    stdout = io.StringIO()

    # when
    call_command("create_api_key", "pos", "--scopes", "loyalty:write", "--stores", "SFO01, NYC01,", stdout=stdout)

    # then
    key = stdout.getvalue().strip()
    assert stdout.getvalue() == key + "\n"
    client = ApiClient.objects.get()
    assert sorted(client.allowed_stores.values_list("code", flat=True)) == ["NYC01", "SFO01"]
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    checkout = {"action": "checkout", "customer": "C1", "data": {"transaction_id": "T1", "total": "1.00"}}
    refused = http.post("/api/v1/events", checkout, format="json")
    assert (refused.status_code, refused.json()["code"]) == (403, "STORE_REQUIRED")


@pytest.mark.django_db
def test_without_stores_the_key_may_act_for_any_store():
    # when
    call_command("create_api_key", "pos", "--scopes", "loyalty:write", stdout=io.StringIO())

    # then
    assert list(ApiClient.objects.get().allowed_stores.all()) == []


@pytest.mark.django_db
def test_unknown_store_codes_are_refused_and_nothing_is_created(store_factory):
    # given
    store_factory(code="NYC01")

    # when
    with pytest.raises(CommandError) as error:
        call_command(
            "create_api_key", "pos", "--scopes", "clienteling", "--stores", "NYC01,HAM01", stdout=io.StringIO()
        )

    # then
    assert str(error.value) == "Unknown stores: HAM01. Add them under Stores in the admin first."
    assert (ApiClient.objects.count(), list(Store.objects.values_list("code", flat=True))) == (0, ["NYC01"])
