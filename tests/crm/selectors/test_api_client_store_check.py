"""crm.selectors.api_client_store_check: a key restricted to some stores may name only those, and, where the write
records a store (store_required), must name one; an unrestricted key may name any store, or none."""

import pytest

from core.exceptions import ApplicationError
from crm.models import ApiClient
from crm.selectors import api_client_store_check
from crm.services.api_clients import api_client_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def restricted(store_factory):
    client, _key = api_client_create(name="pos", scopes=["loyalty:write"])
    client.allowed_stores.add(store_factory(code="NYC01"), store_factory(code="SFO01"))
    return ApiClient.objects.get(pk=client.pk)


@pytest.fixture
def unrestricted():
    client, _key = api_client_create(name="web-shop", scopes=["loyalty:write"])
    return client


def _refusal(client, store_code, *, store_required):
    try:
        api_client_store_check(
            client=client, store_code=store_code, field="data.store_id", store_required=store_required
        )
    except ApplicationError as error:
        return error.code, error.status, error.message, error.extra
    return None


@pytest.mark.parametrize("store_required", [True, False])
@pytest.mark.parametrize("store_code", ["NYC01", " SFO01 "])
def test_a_restricted_key_may_name_its_stores(restricted, store_code, store_required):
    assert _refusal(restricted, store_code, store_required=store_required) is None


@pytest.mark.parametrize("store_required", [True, False])
def test_a_restricted_key_may_not_name_another_store(restricted, store_required):
    assert _refusal(restricted, "BER01", store_required=store_required) == (
        "STORE_NOT_ALLOWED",
        403,
        "This API key may not act for store BER01.",
        {"field": "data.store_id"},
    )


@pytest.mark.parametrize("store_code", [None, ""])
def test_a_restricted_key_must_name_a_store_where_one_is_required(restricted, store_code):
    assert _refusal(restricted, store_code, store_required=True) == (
        "STORE_REQUIRED",
        403,
        "Required: this API key may act only for some stores.",
        {"field": "data.store_id"},
    )
    assert _refusal(restricted, store_code, store_required=False) is None


@pytest.mark.parametrize("store_required", [True, False])
@pytest.mark.parametrize("store_code", [None, "", "BER01"])
def test_an_unrestricted_key_may_name_any_store_or_none(unrestricted, store_code, store_required):
    assert _refusal(unrestricted, store_code, store_required=store_required) is None
