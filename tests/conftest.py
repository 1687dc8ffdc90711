import importlib
import itertools

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import connection
from django.utils import translation
from rest_framework.test import APIClient

from crm.api_key_cache import api_client_cache
from crm.services.api_clients import api_client_create
from tests.crm.factories import AddressFactory, AssociateFactory, CustomerFactory, StoreFactory
from tests.loyalty.factories import (
    CouponDefinitionFactory,
    LoyaltyAccountFactory,
    ProgramFactory,
    PurchaseFactory,
    TierFactory,
    VoucherFactory,
)
from webhooks.selectors import receiving_cache


@pytest.fixture
def customer_factory(db):
    return CustomerFactory


@pytest.fixture
def address_factory(db):
    return AddressFactory


@pytest.fixture
def store_factory(db):
    return StoreFactory


@pytest.fixture
def associate_factory(db):
    return AssociateFactory


@pytest.fixture
def program_factory(db):
    return ProgramFactory


@pytest.fixture
def tier_factory(db):
    return TierFactory


@pytest.fixture
def loyalty_account_factory(db):
    return LoyaltyAccountFactory


@pytest.fixture
def coupon_definition_factory(db):
    return CouponDefinitionFactory


@pytest.fixture
def voucher_factory(db):
    return VoucherFactory


@pytest.fixture
def purchase_factory(db):
    return PurchaseFactory


@pytest.fixture
def make_api_client(db):
    """make_api_client("clienteling", "scan_and_go") -> (APIClient sending that key as Bearer, key)."""
    counter = itertools.count()

    def make(*scopes: str) -> tuple[APIClient, str]:
        _client, key = api_client_create(name=f"test-client-{next(counter)}", scopes=scopes)
        http = APIClient()
        http.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        return http, key

    return make


@pytest.fixture
def pos_client(make_api_client):
    """An HTTP client authenticated as a POS connector (scope clienteling)."""
    http, _key = make_api_client("clienteling")
    return http


@pytest.fixture
def deterministic_ids(monkeypatch):
    """Public ids C0000000001, A0000000001, ..., account numbers 500000000001 + Luhn and voucher codes
    <pattern with V000000000001>, in creation order."""
    from loyalty.account_numbers import luhn_check_digit
    from loyalty.coupon_codes import PLACEHOLDER

    customers = itertools.count(1)
    addresses = itertools.count(1)
    accounts = itertools.count(1)
    vouchers = itertools.count(1)
    monkeypatch.setattr("crm.services.customers.generate_customer_id", lambda: f"C{next(customers):012d}")
    monkeypatch.setattr("crm.services.addresses.generate_address_id", lambda: f"A{next(addresses):012d}")
    monkeypatch.setattr(
        "loyalty.services.vouchers.voucher_code_generate",
        lambda pattern=PLACEHOLDER: pattern.replace(PLACEHOLDER, f"V{next(vouchers):012d}"),
    )

    def account_number() -> str:
        body = f"5{next(accounts):010d}"
        return body + luhn_check_digit(body)

    monkeypatch.setattr("loyalty.services.enrolment.generate_account_number", account_number)


@pytest.fixture
def on_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://...")


def _uses_database(request) -> bool:
    return bool(
        request.node.get_closest_marker("django_db")
        or {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    )


@pytest.fixture(autouse=True)
def cache_clear():
    """Throttle counters live in the cache (local memory in tests): start every test with none."""
    cache.clear()


@pytest.fixture(autouse=True)
def webhook_receivers_cache_clear():
    """Each process caches which webhook endpoints exist (webhooks.selectors.receiving_cache); a test's endpoints
    are rolled back with it, so start every test with no copy."""
    receiving_cache.clear()


@pytest.fixture(autouse=True)
def api_client_cache_clear():
    """Each process caches the API clients it authenticated (crm/api_key_cache.py): start every test with none."""
    api_client_cache.clear()


@pytest.fixture(autouse=True)
def language_reset():
    """A request with Accept-Language leaves its language active in the thread (LocaleMiddleware activates it and
    nothing deactivates it): put the default back after every test, so that messages never depend on test order."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def migrated_data_present(request, django_db_blocker):
    """Transactional tests end by emptying every table, and with it what the data migrations created: the default
    program and the back-office groups. Put them back before each database test, so that neither test order nor a
    database kept by --reuse-db after such a test matters. A flush empties every table at once, so a missing default
    program tells both: one query per test."""
    if not _uses_database(request):
        return
    request.getfixturevalue("django_db_setup")
    from loyalty.models import Program
    from tests.roles import admin_roles_reset

    with django_db_blocker.unblock():
        if not Program.objects.filter(is_default=True).exists():
            migration = importlib.import_module("loyalty.migrations.0002_default_program")
            migration.create_default_program(apps, None)
            admin_roles_reset()


@pytest.fixture
def program(db):
    from loyalty.models import Program

    return Program.objects.get(is_default=True)


@pytest.fixture
def enrolled_account(loyalty_account_factory, program):
    """enrolled_account(**program_changes) -> a fresh account in the default program (entry tier, no points)."""
    from loyalty.models import Program

    def make(**program_changes):
        if program_changes:
            Program.objects.filter(pk=program.pk).update(**program_changes)
        return loyalty_account_factory()

    return make


@pytest.fixture
def role_client(db, django_user_model):
    """role_client(group_name) -> a test client logged in as a new staff user of that back-office role, the groups
    set as the newest roles migration sets them. The user is named after the group ("Store-managers")."""
    from django.contrib.auth.models import Group
    from django.test import Client

    from tests.roles import admin_roles_reset

    admin_roles_reset()

    def make(group_name: str) -> Client:
        user = django_user_model.objects.create_user(username=group_name.replace(" ", "-"), is_staff=True)
        user.groups.add(Group.objects.get(name=group_name))
        client = Client()
        client.force_login(user)
        return client

    return make
