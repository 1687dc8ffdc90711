"""crm/selectors.py's allowed stores of an API client: loaded with the key in the authentication query (no query
of their own, on SQLite and PostgreSQL alike), or read on their own for a client loaded without them."""

import pytest

from crm.api_key_cache import api_client_cache
from crm.authentication import api_client_by_key
from crm.models import ApiClient
from crm.selectors import api_client_allowed_store_codes, api_client_may_act_for_store
from crm.services.api_clients import api_client_create
from crm.services.stores import store_get_or_create


@pytest.fixture
def key(db):
    _client, key = api_client_create(name="shopreme", scopes=["scan_and_go"])
    return key


def _restrict(key: str, *codes: str) -> None:
    ApiClient.objects.get(name="shopreme").allowed_stores.add(*(store_get_or_create(code=code) for code in codes))


@pytest.mark.parametrize("codes", [(), ("NYC01",), ("NYC01", "SFO-02", "BER.3", "X:4")])
def test_the_key_lookup_loads_the_allowed_stores_in_its_own_query(key, django_assert_num_queries, codes):
    # given
    _restrict(key, *codes)
    api_client_by_key(key)  # records the last use
    api_client_cache.clear()  # the lookup reads the database again (crm/api_key_cache.py)

    # when
    with django_assert_num_queries(1):
        client = api_client_by_key(key)
        allowed = api_client_allowed_store_codes(client=client)

    # then
    assert allowed == frozenset(codes)


def test_a_client_loaded_without_them_reads_them_in_one_query(key, django_assert_num_queries):
    # given
    _restrict(key, "NYC01", "SFO01")
    client = ApiClient.objects.get(name="shopreme")

    # when
    with django_assert_num_queries(1):
        allowed = api_client_allowed_store_codes(client=client)

    # then
    assert allowed == frozenset({"NYC01", "SFO01"})


def test_may_act_for_store(key):
    # given
    _restrict(key, "NYC01")
    restricted = api_client_by_key(key)
    _other, other_key = api_client_create(name="pos", scopes=["clienteling"])
    unrestricted = api_client_by_key(other_key)

    # when
    answers = [
        api_client_may_act_for_store(client=restricted, store_code="NYC01"),
        api_client_may_act_for_store(client=restricted, store_code=" NYC01 "),
        api_client_may_act_for_store(client=restricted, store_code="SFO01"),
        api_client_may_act_for_store(client=unrestricted, store_code="SFO01"),
    ]

    # then
    assert answers == [True, True, False, True]
