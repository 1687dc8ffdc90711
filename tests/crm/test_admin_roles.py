"""The back-office roles set by crm/migrations/0002_admin_roles.py and 0003_admin_roles_vouchers.py: each group holds
exactly its permissions, sees and changes what it should in the admin, and is refused the rest."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.test import Client

from crm.services.context import ChangeContext
from loyalty.models import CouponDefinition, PointsEntry
from loyalty.services.coupons import coupon_definition_create
from loyalty.services.enrolment import loyalty_account_enroll
from tests.admin_forms import admin_form_data

roles = importlib.import_module("crm.migrations.0003_admin_roles_vouchers")
previous_roles = importlib.import_module("crm.migrations.0002_admin_roles")

CUSTOMERS_URL = "/admin/crm/customer/"
COUPON_DEFINITIONS_URL = "/admin/loyalty/coupondefinition/"
ACCOUNTS_URL = "/admin/loyalty/loyaltyaccount/"


@pytest.fixture(autouse=True)
def admin_roles(db):
    """The latest migration's groups: run it again, since a transactional test elsewhere may have emptied the
    tables (and running it twice must be harmless)."""
    roles.create_admin_roles(apps, None)


def _client_in(django_user_model, group_name: str) -> Client:
    user = django_user_model.objects.create_user(username=group_name.lower().replace(" ", "-"), is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def store_manager(django_user_model) -> Client:
    return _client_in(django_user_model, roles.STORE_MANAGERS)


@pytest.fixture
def marketing(django_user_model) -> Client:
    return _client_in(django_user_model, roles.MARKETING)


@pytest.fixture
def account(customer_factory):
    return loyalty_account_enroll(customer=customer_factory(), context=ChangeContext())


@pytest.fixture
def definition(program):
    return coupon_definition_create(
        program=program, code="spring-10", name="Spring 10", kind=CouponDefinition.Kind.PERCENT, value=Decimal("10")
    )


def _codenames(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {
        f"{app_label}.{codename}"
        for app_label, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


def test_each_group_holds_exactly_its_permissions():
    # then
    assert _codenames(roles.STORE_MANAGERS) == {
        "crm.view_customer",
        "crm.change_customer",
        "crm.view_address",
        "crm.change_address",
        "crm.view_consents",
        "crm.change_consents",
        "crm.view_consentchange",
        "crm.view_store",
        "crm.view_associate",
        "loyalty.view_loyaltyaccount",
        "loyalty.change_loyaltyaccount",
        "loyalty.view_purchase",
        "loyalty.view_pointsentry",
    }
    assert _codenames(roles.MARKETING) == {
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
        "crm.view_customer",
    }


def test_running_the_migration_again_resets_the_groups_permissions():
    # given
    group = Group.objects.get(name=roles.MARKETING)
    group.permissions.clear()

    # when
    roles.create_admin_roles(apps, None)
    roles.create_admin_roles(apps, None)

    # then
    assert Group.objects.filter(name__in=(roles.STORE_MANAGERS, roles.MARKETING)).count() == 2
    assert "loyalty.add_coupondefinition" in _codenames(roles.MARKETING)
    assert "loyalty.add_voucherbatch" in _codenames(roles.MARKETING)


def test_reversing_0003_restores_what_0002_gave():
    # when
    roles.restore_previous_roles(apps, None)

    # then
    assert "loyalty.view_voucherbatch" not in _codenames(roles.MARKETING)
    assert len(_codenames(roles.MARKETING)) == len(previous_roles.ROLE_PERMISSIONS[roles.MARKETING]) == 13
    assert len(_codenames(roles.STORE_MANAGERS)) == 13


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
        marketing.get("/admin/crm/store/"),
    ]

    # then
    assert [page.status_code for page in pages] == [403] * 4


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
