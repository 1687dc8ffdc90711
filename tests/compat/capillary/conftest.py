import base64
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from rest_framework.test import APIClient

from crm.services.api_clients import api_client_create
from loyalty.models import Program, Tier
from tests.crm.factories import StoreFactory
from tests.loyalty.factories import PurchaseFactory

NOW = "2026-06-01T00:00:00+00:00"


def checkout(account, transaction_id, total, moment, burned=0):
    with time_machine.travel(moment, tick=False):
        return PurchaseFactory(account=account, transaction_id=transaction_id, total=total, points_burned=burned)


def basic(key: str, user: str = "rr.till") -> str:
    """Capillary's till credentials: the password on the wire is our API key."""
    return "Basic " + base64.b64encode(f"{user}:{key}".encode()).decode()


@pytest.fixture
def till(db):
    """A Capillary-configured till: Basic auth, scope loyalty:read."""
    _client, key = api_client_create(name="capillary-till", scopes=["loyalty:read"])
    http = APIClient()
    http.credentials(HTTP_AUTHORIZATION=basic(key))
    return http


@pytest.fixture
def tiers(program):
    silver = Tier.objects.create(
        program=program,
        rank=1,
        code="silver",
        name="Silver",
        title="Silver member",
        threshold=Decimal("1000"),
        renewal_threshold=Decimal("800"),
        earn_multiplier=Decimal("1.5"),
    )
    gold = Tier.objects.create(
        program=program, rank=2, code="gold", name="Gold", title="Gold member", threshold=Decimal("5000")
    )
    return silver, gold


@pytest.fixture
def ada(customer_factory, program, loyalty_account_factory, tiers):
    """Ada, enrolled at store S001 on 2026-01-05 (points expire after 365 days), Silver from 2026-02-01: 600 and 500
    spent, then 100 at Silver's 1.5x while burning 200."""
    Program.objects.filter(pk=program.pk).update(points_expiry_days=365)
    with time_machine.travel("2026-01-05T10:00:00+00:00", tick=False):
        customer = customer_factory(
            first_name="Ada",
            last_name="Lovelace",
            email="ada@example.com",
            phone_mobile="+12175550100",
            birthday=date(1980, 12, 10),
            gender="Female",
            preferred_language="en-US",
            country="US",
            alternate_customer_id="shop-1001",
            created_store=StoreFactory(code="S001", name="Main Street"),
        )
        account = loyalty_account_factory(customer=customer)
    checkout(account, "T1", "600.00", "2026-01-10T10:00:00+00:00")
    checkout(account, "T2", "500.00", "2026-02-01T10:00:00+00:00")
    checkout(account, "T3", "100.00", "2026-03-01T10:00:00+00:00", burned=200)
    account.refresh_from_db()
    return customer, account
