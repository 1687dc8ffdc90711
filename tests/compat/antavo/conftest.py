import pytest
from rest_framework.test import APIClient

from crm.services.api_clients import api_client_create

EVENTS = "/compat/antavo/events"
BULK = "/compat/antavo/events/bulk"
CUSTOMER_ID = "a222e90f-2c59-468d-9b81-62f560084379"
NOW = "2026-06-24T10:15:00+00:00"


@pytest.fixture
def unsigned_allowed(settings):
    """Clients without an Escher secret may call unsigned (COMPAT_ANTAVO_ALLOW_UNSIGNED)."""
    settings.COMPAT_ANTAVO_ALLOW_UNSIGNED = True


@pytest.fixture
def antavo_key(db):
    """The API key of a client with both loyalty scopes, as Antavo's clients hold one key."""
    _client, key = api_client_create(name="antavo-till", scopes=["loyalty:read", "loyalty:write"])
    return key


@pytest.fixture
def antavo(antavo_key, unsigned_allowed):
    """An HTTP client that sends the key as Antavo's SDK does: ?api_key= on every request."""

    class AntavoClient:
        def __init__(self) -> None:
            self.http = APIClient()

        def post(self, path, body, **extra):
            return self.http.post(f"{path}?api_key={antavo_key}", body, format="json", **extra)

        def get(self, path, **params):
            return self.http.get(path, {"api_key": antavo_key, **params})

    return AntavoClient()


@pytest.fixture(autouse=True)
def _frozen_time(time_machine):
    time_machine.move_to(NOW, tick=False)
