import pytest
from rest_framework.test import APIClient

from crm.services.api_clients import api_client_create
from tests.compat.capillary.conftest import ada, tiers  # noqa: F401  # the same Silver member and tiers

BASE = "/compat/loyaltylion/headless/2025-06/4812"


@pytest.fixture
def storefront(db):
    """A headless storefront's server: Bearer key with both loyalty scopes, as LoyaltyLion's API keys carry
    read_customers and write_customers."""
    _client, key = api_client_create(name="loyaltylion-storefront", scopes=["loyalty:read", "loyalty:write"])
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return http
