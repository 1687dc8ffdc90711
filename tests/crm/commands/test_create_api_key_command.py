import hashlib
import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from crm.models import ApiClient


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
