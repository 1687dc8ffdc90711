"""crm/api_key_cache.py: an API key is read from the database at most once per API_KEY_CACHE_SECONDS and process,
and a key deactivated or rotated anywhere is refused within that many seconds (at once in the process that
changed it)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from crm.authentication import LAST_USED_RESOLUTION, api_client_by_key
from crm.models import ApiClient
from crm.services.api_clients import api_client_create, api_client_deactivate, api_client_rotate_key, api_key_hash

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TTL = timedelta(seconds=5)  # API_KEY_CACHE_SECONDS's default (base.py); the test settings keep copies longer


@pytest.fixture(autouse=True)
def lifetime(settings):
    settings.API_KEY_CACHE_SECONDS = TTL.total_seconds()


@pytest.fixture
def client_and_key(db):
    with time_machine.travel(START, tick=False):
        return api_client_create(name="shopreme", scopes=["scan_and_go"])


def test_a_key_seen_within_the_lifetime_costs_no_query(client_and_key, django_assert_num_queries):
    # given
    client, key = client_and_key
    with time_machine.travel(START, tick=False):
        api_client_by_key(key)

        # when
        with django_assert_num_queries(0):
            found = api_client_by_key(key)

    # then
    assert found is not None
    assert found.pk == client.pk


def test_a_key_deactivated_by_another_process_is_refused_within_the_lifetime(client_and_key):
    # given: this process has the client; another process (a plain update here, nothing clears this copy) deactivates it
    client, key = client_and_key
    with time_machine.travel(START, tick=False):
        api_client_by_key(key)
    ApiClient.objects.filter(pk=client.pk).update(is_active=False)

    # when
    with time_machine.travel(START + TTL - timedelta(milliseconds=1), tick=False):
        just_before = api_client_by_key(key)
    with time_machine.travel(START + TTL, tick=False):
        at_the_lifetime = api_client_by_key(key)

    # then
    assert just_before is not None
    assert at_the_lifetime is None


def test_a_key_rotated_by_another_process_is_refused_within_the_lifetime_and_the_new_key_works_at_once(
    client_and_key,
):
    # given
    client, old_key = client_and_key
    with time_machine.travel(START, tick=False):
        api_client_by_key(old_key)
    ApiClient.objects.filter(pk=client.pk).update(key_hash=api_key_hash("rk_new-key"))

    # when
    with time_machine.travel(START + timedelta(seconds=1), tick=False):
        new_key_at_once = api_client_by_key("rk_new-key")
    with time_machine.travel(START + TTL, tick=False):
        old_key_after = api_client_by_key(old_key)

    # then
    assert new_key_at_once is not None
    assert new_key_at_once.pk == client.pk
    assert old_key_after is None


def test_a_key_deactivated_or_rotated_in_this_process_is_refused_at_once(client_and_key, db):
    # given
    client, key = client_and_key
    other, other_key = api_client_create(name="pos", scopes=["clienteling"])
    with time_machine.travel(START, tick=False):
        api_client_by_key(key)
        api_client_by_key(other_key)

        # when
        api_client_deactivate(client=client)
        new_other_key = api_client_rotate_key(client=other)

        # then
        assert api_client_by_key(key) is None
        assert api_client_by_key(other_key) is None
        assert api_client_by_key(new_other_key).pk == other.pk


def test_last_use_is_written_once_per_resolution_with_the_copy_cached(client_and_key, django_assert_num_queries):
    # given
    client, key = client_and_key
    with time_machine.travel(START, tick=False):
        api_client_by_key(key)
    moments = [START + timedelta(seconds=seconds) for seconds in (1, 2, 3, 4)]

    # when: four lookups within the lifetime, all from the copy, none writing
    with django_assert_num_queries(0):
        for moment in moments:
            with time_machine.travel(moment, tick=False):
                api_client_by_key(key)
    # and one past the resolution (the copy read again, the use written)
    with time_machine.travel(START + LAST_USED_RESOLUTION + timedelta(seconds=1), tick=False):
        with django_assert_num_queries(2):
            api_client_by_key(key)

    # then
    client.refresh_from_db()
    assert client.last_used_at == START + LAST_USED_RESOLUTION + timedelta(seconds=1)
