"""The back-office roles as production gets them after every migration: each group holds exactly its permissions,
each role sees, adds, changes and deletes exactly what it should on every registered admin page, and is refused
the rest.

The groups are set by crm/migrations/0002_admin_roles.py and its successors (each sets the whole table; the newest
is tests.roles.LATEST_ROLES_MIGRATION).
"""

import importlib
import logging
import sys
from decimal import Decimal

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.operations import RunPython
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from crm.models import Address, ConsentChange, Consents
from crm.roles import FINANCE, MARKETING, STORE_MANAGERS
from loyalty.models import CouponDefinition, PointsEntry
from tests.admin_forms import admin_form_data
from tests.roles import LATEST_ROLES_MIGRATION, admin_roles_reset, latest_roles

CUSTOMERS_URL = "/admin/crm/customer/"
COUPON_DEFINITIONS_URL = "/admin/loyalty/coupondefinition/"
ACCOUNTS_URL = "/admin/loyalty/loyaltyaccount/"

FINAL_PERMISSIONS = {
    STORE_MANAGERS: {
        "crm.view_customer",
        "crm.change_customer",
        "crm.erase_customer",
        "crm.view_address",
        "crm.add_address",
        "crm.change_address",
        "crm.view_consents",
        "crm.add_consents",
        "crm.change_consents",
        "crm.view_consentchange",
        "crm.view_store",
        "crm.view_associate",
        "loyalty.view_loyaltyaccount",
        "loyalty.change_loyaltyaccount",
        "loyalty.view_purchase",
        "loyalty.view_pointsentry",
        "loyalty.view_card",
        "loyalty.add_card",
        "loyalty.change_card",
        "loyalty.view_scanandgomember",
        "loyalty.change_scanandgomember",
        "loyalty.view_scanandgopolicy",
        "loyalty.view_scanandgostoreoverride",
        "loyalty.view_scanandgodenialmessage",
        "loyalty.view_spotcheckriskrule",
        "loyalty.view_customerdataexport",
    },
    MARKETING: {
        "crm.view_customer",
        "crm.view_store",
        "loyalty.add_program",
        "loyalty.change_program",
        "loyalty.view_program",
        "loyalty.add_tier",
        "loyalty.change_tier",
        "loyalty.view_tier",
        "loyalty.add_coupondefinition",
        "loyalty.change_coupondefinition",
        "loyalty.view_coupondefinition",
        "loyalty.add_voucher",
        "loyalty.change_voucher",
        "loyalty.view_voucher",
        "loyalty.add_voucherbatch",
        "loyalty.change_voucherbatch",
        "loyalty.view_voucherbatch",
        "loyalty.add_tierbenefitcoupon",
        "loyalty.change_tierbenefitcoupon",
        "loyalty.view_tierbenefitcoupon",
        "loyalty.view_tierbenefitgrant",
        "loyalty.view_card",
        "loyalty.view_scanandgomember",
        *(
            f"loyalty.{action}_{model}"
            for model in ("scanandgopolicy", "scanandgostoreoverride", "scanandgodenialmessage", "spotcheckriskrule")
            for action in ("view", "add", "change", "delete")
        ),
        "loyalty.view_pointsliability",
    },
    FINANCE: {"loyalty.view_pointsliability", "loyalty.view_program"},
}

# What each role may do with each registered ModelAdmin's stock pages: "view" its list, "add", "change" (save)
# and "delete". This is what the ModelAdmin allows, not which codenames the group holds: an account is view-only
# to store managers although they hold "change loyalty account" (it allows "Adjust points"). A model not listed
# is closed to the role, so registering a new ModelAdmin closes it to both until it is added here.
ADMIN_PAGES = {
    STORE_MANAGERS: {
        "crm.Associate": {"view"},
        "crm.ConsentChange": {"view"},
        "crm.Customer": {"view", "change"},
        "crm.Store": {"view"},
        "loyalty.Card": {"view", "add", "change"},
        "loyalty.LoyaltyAccount": {"view"},
        "loyalty.PointsEntry": {"view"},
        "loyalty.Purchase": {"view"},
        "loyalty.ScanAndGoMember": {"view", "change"},
        "loyalty.ScanAndGoPolicy": {"view"},
    },
    MARKETING: {
        "crm.Customer": {"view"},
        "crm.Store": {"view"},
        "loyalty.Card": {"view"},
        "loyalty.CouponDefinition": {"view", "add", "change"},
        "loyalty.Program": {"view", "add", "change"},
        "loyalty.ScanAndGoMember": {"view"},
        "loyalty.ScanAndGoPolicy": {"view", "add", "change", "delete"},
        "loyalty.Tier": {"view", "add", "change"},
        "loyalty.TierBenefitCoupon": {"view", "add", "change"},
        "loyalty.TierBenefitGrant": {"view"},
        # Vouchers are issued through the coupon's "Generate vouchers" and the voucher list's "Issue" pages, and
        # cancelled by an action: their stock add and change pages stay closed.
        "loyalty.Voucher": {"view"},
        "loyalty.VoucherBatch": {"view"},
    },
    FINANCE: {"loyalty.Program": {"view"}},
}


@pytest.fixture(autouse=True)
def admin_roles(db):
    """The newest roles migration's groups: run again, since a transactional test elsewhere may have emptied the
    tables (and running it twice must be harmless)."""
    admin_roles_reset()


def _client_in(django_user_model, group_name: str) -> Client:
    user = django_user_model.objects.create_user(username=group_name.lower().replace(" ", "-"), is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def store_manager(django_user_model) -> Client:
    return _client_in(django_user_model, STORE_MANAGERS)


@pytest.fixture
def marketing(django_user_model) -> Client:
    return _client_in(django_user_model, MARKETING)


@pytest.fixture
def account(loyalty_account_factory):
    return loyalty_account_factory()


@pytest.fixture
def definition(coupon_definition_factory):
    return coupon_definition_factory(
        code="spring-10", name="Spring 10", kind=CouponDefinition.Kind.PERCENT, value=Decimal("10")
    )


def _codenames(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {
        f"{app_label}.{codename}"
        for app_label, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


def _roles_migrations_in_migrate_order() -> list:
    """Every migration that sets the roles (its module has a ROLE_PERMISSIONS table), in the order `migrate`
    applies them to an empty database."""
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes(), clean_start=True)
    return [
        migration
        for migration, _backwards in plan
        if hasattr(sys.modules[type(migration).__module__], "ROLE_PERMISSIONS")
    ]


def test_each_group_holds_exactly_its_final_permissions():
    # then
    assert {name: _codenames(name) for name in (STORE_MANAGERS, MARKETING, FINANCE)} == FINAL_PERMISSIONS


def test_the_roles_migrations_applied_in_migrate_order_end_in_the_final_permissions():
    # given: a database before any roles migration ran
    Group.objects.filter(name__in=(STORE_MANAGERS, MARKETING, FINANCE)).delete()
    migrations = _roles_migrations_in_migrate_order()

    # when: each runs forwards, as `migrate` runs it
    for migration in migrations:
        for operation in migration.operations:
            if isinstance(operation, RunPython):
                operation.code(apps, None)

    # then
    assert [type(migration).__module__ for migration in migrations] == [
        "crm.migrations.0002_admin_roles",
        "crm.migrations.0003_admin_roles_vouchers",
        "crm.migrations.0005_admin_roles_erasure",
        "crm.migrations.0006_admin_roles_scan_and_go",
        "crm.migrations.0007_admin_roles_profile_fixes",
        "loyalty.migrations.0015_admin_roles_finance",
    ]
    assert type(migrations[-1]).__module__ == LATEST_ROLES_MIGRATION
    assert {name: _codenames(name) for name in (STORE_MANAGERS, MARKETING, FINANCE)} == FINAL_PERMISSIONS


def test_running_the_latest_roles_migration_again_resets_permissions_changed_by_hand():
    # given
    group = Group.objects.get(name=MARKETING)
    group.permissions.remove(Permission.objects.get(content_type__app_label="crm", codename="view_store"))
    group.permissions.add(Permission.objects.get(content_type__app_label="crm", codename="change_customer"))

    # when
    admin_roles_reset()
    admin_roles_reset()

    # then
    assert Group.objects.filter(name__in=(STORE_MANAGERS, MARKETING, FINANCE)).count() == 3
    assert _codenames(MARKETING) == FINAL_PERMISSIONS[MARKETING]


def test_reversing_the_latest_roles_migration_restores_what_0007_gave():
    # when
    latest_roles.restore_previous_roles(apps, None)

    # then
    assert FINAL_PERMISSIONS[STORE_MANAGERS] - _codenames(STORE_MANAGERS) == {"loyalty.view_customerdataexport"}
    assert _codenames(STORE_MANAGERS) <= FINAL_PERMISSIONS[STORE_MANAGERS]
    assert FINAL_PERMISSIONS[MARKETING] - _codenames(MARKETING) == {"loyalty.view_pointsliability"}
    assert _codenames(MARKETING) <= FINAL_PERMISSIONS[MARKETING]
    assert not Group.objects.filter(name=FINANCE).exists()


def _registered_models() -> list[type[Model]]:
    # Some registrations happen in modules the URLconf imports; load it before reading the registry.
    importlib.import_module(settings.ROOT_URLCONF)
    return sorted(admin.site._registry, key=lambda model: model._meta.label)


def _stock_page_statuses(http: Client, model: type[Model]) -> tuple[int, int, int, int]:
    """The list (GET), add page (GET), a change (POST) and the delete page (GET). No object is needed: the change
    and delete views check the permission before they look the object up, and answer a missing one with a
    redirect. So 403 means refused and 302 allowed, and the POST writes nothing."""
    prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    return (
        http.get(reverse(f"{prefix}_changelist")).status_code,
        http.get(reverse(f"{prefix}_add")).status_code,
        http.post(reverse(f"{prefix}_change", args=("0",)), {}).status_code,
        http.get(reverse(f"{prefix}_delete", args=("0",))).status_code,
    )


def _expected_statuses(allowed: set[str]) -> tuple[int, int, int, int]:
    return (
        200 if "view" in allowed else 403,
        200 if "add" in allowed else 403,
        302 if "change" in allowed else 403,
        302 if "delete" in allowed else 403,
    )


@pytest.mark.parametrize("group_name", [STORE_MANAGERS, MARKETING, FINANCE])
def test_each_role_sees_adds_changes_and_deletes_exactly_what_it_should(group_name, django_user_model, caplog):
    # given
    http = _client_in(django_user_model, group_name)
    models = _registered_models()
    # Every refusal logs a warning with a traceback: formatting ~100 of them would be most of this test's time.
    caplog.set_level(logging.ERROR, logger="django.request")

    # when
    statuses = {model._meta.label: _stock_page_statuses(http, model) for model in models}
    index = http.get(reverse("admin:index"))

    # then
    allowed = ADMIN_PAGES[group_name]
    assert statuses == {
        model._meta.label: _expected_statuses(allowed.get(model._meta.label, set())) for model in models
    }
    assert index.status_code == 200
    shown = {
        f"{app['app_label']}.{entry['object_name']}" for app in index.context["app_list"] for entry in app["models"]
    }
    assert shown == set(allowed)


def test_store_manager_cannot_open_coupon_tier_or_program_configuration(store_manager, definition, program):
    # when
    pages = [
        store_manager.get(COUPON_DEFINITIONS_URL),
        store_manager.get(f"{COUPON_DEFINITIONS_URL}add/"),
        store_manager.get(f"{COUPON_DEFINITIONS_URL}{definition.pk}/change/"),
        store_manager.get("/admin/loyalty/voucher/"),
        store_manager.get("/admin/loyalty/tier/"),
        store_manager.get(f"/admin/loyalty/program/{program.pk}/change/"),
        store_manager.get("/admin/loyalty/voucherbatch/"),
        store_manager.get(f"{COUPON_DEFINITIONS_URL}{definition.pk}/generate-vouchers/"),
        store_manager.get("/admin/loyalty/tierbenefitcoupon/add/"),
        store_manager.get("/admin/loyalty/tierbenefitgrant/"),
    ]

    # then
    assert [page.status_code for page in pages] == [403] * 10


def test_store_manager_opens_and_changes_a_customer(store_manager, account):
    # given
    customer = account.customer
    url = f"{CUSTOMERS_URL}{customer.pk}/change/"
    page = store_manager.get(url)
    data = admin_form_data(page)
    data["first_name"] = "Renamed"

    # when
    response = store_manager.post(url, data)

    # then
    assert page.status_code == 200
    assert page.context["has_change_permission"] is True
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.first_name == "Renamed"


def test_store_manager_fixes_a_profile_adding_an_address_and_the_first_consents(
    store_manager, customer_factory, django_user_model
):
    # given: a customer without addresses or a consents row yet
    customer = customer_factory(first_name="Ada", last_name="Lovelace")
    url = f"{CUSTOMERS_URL}{customer.pk}/change/"
    page = store_manager.get(url)
    data = admin_form_data(page)
    data.update(
        {
            "last_name": "King",
            "addresses-TOTAL_FORMS": 1,
            "addresses-0-customer": customer.pk,
            "addresses-0-position": 0,
            "addresses-0-address_line1": " 12 St James's Square ",
            "addresses-0-city": "London",
            "addresses-0-postal_code": "sw1y 4jh",
            "addresses-0-country_code": "gb",
            "consents-0-agree_to_tc": "true",
            "consents-0-sms_sign_up": "false",
        }
    )

    # when
    response = store_manager.post(url, data)

    # then
    inlines = {inline.formset.model: inline for inline in page.context["inline_admin_formsets"]}
    assert (inlines[Address].has_add_permission, inlines[Consents].has_add_permission) == (True, True)
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.first_name, customer.last_name) == ("Ada", "King")
    address = Address.objects.get(customer=customer)
    assert (address.address_line1, address.city, address.country_code, address.postal_code_search) == (
        "12 St James's Square",
        "London",
        "GB",
        "SW1Y4JH",
    )
    assert address.public_id.startswith("A")
    consents = Consents.objects.get(customer=customer)
    assert (consents.agree_to_tc, consents.sms_sign_up, consents.e_receipt) == (True, False, None)
    user = django_user_model.objects.get(username="store-managers")
    assert sorted(
        ConsentChange.objects.filter(customer=customer).values_list(
            "consent", "previous_value", "new_value", "channel", "user"
        )
    ) == [("agree_to_tc", None, True, "admin", user.pk), ("sms_sign_up", None, False, "admin", user.pk)]


def test_store_manager_sees_contact_columns_and_the_account(store_manager, account):
    # when
    changelist = store_manager.get(CUSTOMERS_URL)
    account_page = store_manager.get(f"{ACCOUNTS_URL}{account.pk}/change/")

    # then
    assert {"email", "phone_mobile"} <= set(changelist.context["cl"].list_display)
    assert account_page.status_code == 200
    assert account_page.context["has_change_permission"] is False


def test_store_manager_may_adjust_points(store_manager, account):
    # when
    response = store_manager.post(
        ACCOUNTS_URL,
        {
            "action": "adjust_points",
            "_selected_action": [account.pk],
            "points": 50,
            "note": "Goodwill",
            "apply": "Adjust points",
        },
    )

    # then
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.points_balance == 50
    assert PointsEntry.objects.filter(account=account, points=50).count() == 1


def test_marketing_opens_coupon_tier_and_program_configuration(marketing, definition, program):
    # when
    pages = [
        marketing.get(f"{COUPON_DEFINITIONS_URL}add/"),
        marketing.get(f"{COUPON_DEFINITIONS_URL}{definition.pk}/change/"),
        marketing.get("/admin/loyalty/voucher/"),
        marketing.get("/admin/loyalty/tier/add/"),
        marketing.get(f"/admin/loyalty/program/{program.pk}/change/"),
        marketing.get("/admin/loyalty/voucherbatch/"),
        marketing.get(f"{COUPON_DEFINITIONS_URL}{definition.pk}/generate-vouchers/"),
        marketing.get("/admin/loyalty/tierbenefitcoupon/add/"),
        marketing.get("/admin/loyalty/tierbenefitgrant/"),
    ]

    # then
    assert [page.status_code for page in pages] == [200] * 9


def test_marketing_cannot_open_accounts_or_the_ledger(marketing, account):
    # when
    pages = [
        marketing.get(ACCOUNTS_URL),
        marketing.get(f"{ACCOUNTS_URL}{account.pk}/adjust-points/"),
        marketing.get("/admin/loyalty/pointsentry/"),
    ]

    # then
    assert [page.status_code for page in pages] == [403] * 3


def test_marketing_sees_customers_read_only_without_contact_columns(marketing, account):
    # given
    customer = account.customer
    first_name = customer.first_name
    url = f"{CUSTOMERS_URL}{customer.pk}/change/"

    # when
    changelist = marketing.get(CUSTOMERS_URL)
    page = marketing.get(url)
    post = marketing.post(url, {"first_name": "Renamed", "last_name": customer.last_name, "status": "active"})

    # then
    assert changelist.status_code == 200
    columns = set(changelist.context["cl"].list_display)
    assert {"public_id", "first_name", "last_name"} <= columns
    assert not columns & {"email", "phone_mobile", "phone_home"}
    assert customer.email not in changelist.content.decode()
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert post.status_code == 403
    customer.refresh_from_db()
    assert customer.first_name == first_name
