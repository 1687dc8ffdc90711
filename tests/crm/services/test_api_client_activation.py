"""Deactivating an API client locks its key out (401) until it is reactivated: through crm.services.api_clients,
and from the API clients admin with the Deactivate and Reactivate actions."""

from django.contrib import messages
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from rest_framework.test import APIClient

from crm.models import ApiClient
from crm.services.api_clients import api_client_create, api_client_deactivate, api_client_reactivate

API_CLIENTS_URL = "/admin/crm/apiclient/"
# A customer that does not exist: an authenticated POS connector gets a 404, a refused key a 401.
SPI_CUSTOMER_URL = "/endpoint/sa/customers/C000000000001"


def _spi_get(key: str):
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return http.get(SPI_CUSTOMER_URL)


def _messages(response) -> list[tuple[int, str]]:
    return [(message.level, message.message) for message in get_messages(response.wsgi_request)]


def _state(client: ApiClient) -> tuple:
    client.refresh_from_db()
    return client.is_active, client.updated_at, client.key_hash, client.scopes


def test_a_deactivated_key_is_refused_with_401(db):
    # given
    client, key = api_client_create(name="pos-connector", scopes=["clienteling"])
    before = _spi_get(key)
    updated_at = client.updated_at

    # when
    changed = api_client_deactivate(client=client)

    # then
    after = _spi_get(key)
    assert changed is True
    assert before.status_code == 404
    assert (after.status_code, after.content) == (401, b"")
    client.refresh_from_db()
    assert (client.is_active, client.scopes) == (False, ["clienteling"])
    assert client.updated_at > updated_at


def test_deactivating_an_inactive_client_changes_nothing(db):
    # given
    client, _key = api_client_create(name="pos-connector", scopes=["clienteling"])
    api_client_deactivate(client=client)
    before = _state(client)

    # when
    changed = api_client_deactivate(client=ApiClient.objects.get(pk=client.pk))

    # then
    assert changed is False
    assert _state(client) == before


def test_a_reactivated_client_gets_in_again_with_the_same_key(db):
    # given
    client, key = api_client_create(name="pos-connector", scopes=["clienteling"])
    api_client_deactivate(client=client)

    # when
    changed = api_client_reactivate(client=client)
    again = api_client_reactivate(client=client)

    # then
    assert (changed, again) == (True, False)
    assert _spi_get(key).status_code == 404
    assert ApiClient.objects.get(pk=client.pk).is_active is True


def test_the_deactivate_action_locks_the_selected_keys_out(admin_client, db):
    # given
    pos, pos_key = api_client_create(name="pos-connector", scopes=["clienteling"])
    cart, cart_key = api_client_create(name="smart-cart", scopes=["clienteling"])
    other, other_key = api_client_create(name="web-shop", scopes=["clienteling"])

    # when
    response = admin_client.post(API_CLIENTS_URL, {"action": "deactivate", "_selected_action": [cart.pk, pos.pk]})

    # then
    assert response.status_code == 302
    assert _messages(response) == [(messages.SUCCESS, "Deactivated: pos-connector, smart-cart.")]
    assert dict(ApiClient.objects.values_list("name", "is_active")) == {
        "pos-connector": False,
        "smart-cart": False,
        "web-shop": True,
    }
    assert [_spi_get(key).status_code for key in (pos_key, cart_key, other_key)] == [401, 401, 404]
    assert sorted(LogEntry.objects.values_list("object_repr", "change_message", "user__username")) == [
        ("pos-connector", "Deactivated.", "admin"),
        ("smart-cart", "Deactivated.", "admin"),
    ]


def test_the_deactivate_action_tells_which_clients_were_inactive_already(admin_client, db):
    # given
    pos, _key = api_client_create(name="pos-connector", scopes=["clienteling"])
    cart, _key = api_client_create(name="smart-cart", scopes=["clienteling"])
    api_client_deactivate(client=pos)
    before = _state(pos)

    # when
    response = admin_client.post(API_CLIENTS_URL, {"action": "deactivate", "_selected_action": [pos.pk, cart.pk]})

    # then
    assert _messages(response) == [
        (messages.SUCCESS, "Deactivated: smart-cart."),
        (messages.WARNING, "Already deactivated: pos-connector."),
    ]
    assert _state(pos) == before
    assert ApiClient.objects.get(pk=cart.pk).is_active is False
    assert list(LogEntry.objects.values_list("object_repr", "change_message")) == [("smart-cart", "Deactivated.")]


def test_the_reactivate_action_lets_the_keys_in_again(admin_client, db):
    # given
    pos, pos_key = api_client_create(name="pos-connector", scopes=["clienteling"])
    cart, _key = api_client_create(name="smart-cart", scopes=["clienteling"])
    api_client_deactivate(client=pos)
    cart_before = _state(cart)

    # when
    response = admin_client.post(API_CLIENTS_URL, {"action": "reactivate", "_selected_action": [pos.pk, cart.pk]})

    # then
    assert _messages(response) == [
        (messages.SUCCESS, "Reactivated: pos-connector."),
        (messages.WARNING, "Already active: smart-cart."),
    ]
    assert _spi_get(pos_key).status_code == 404
    assert _state(cart) == cart_before
    assert list(LogEntry.objects.values_list("object_repr", "change_message")) == [("pos-connector", "Reactivated.")]


def test_the_change_page_offers_no_is_active_field_the_actions_do(admin_client, db):
    # given
    client, _key = api_client_create(name="pos-connector", scopes=["clienteling"])
    url = f"{API_CLIENTS_URL}{client.pk}/change/"

    # when
    page = admin_client.get(url)
    post = admin_client.post(url, {"scopes": ["clienteling"], "is_active": ""})

    # then
    assert page.status_code == 200
    assert 'name="is_active"' not in page.content.decode()
    assert post.status_code == 302
    assert ApiClient.objects.get(pk=client.pk).is_active is True
