"""The back office for a store manager in a real browser: the clienteling home finds a customer as they type, the
customer page answers "who is this" above the fold of a 1280x800 window, and points are adjusted from there; no
admin page scrolls sideways in a 1280 px window; and the demo opens with twelve weeks of history. Screenshots land in
test-artifacts/e2e/<test name>/."""

import io

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db.models import Count
from django.test import override_settings
from playwright.sync_api import expect

from crm.roles import STORE_MANAGERS
from loyalty.models import LoyaltyAccount, Purchase
from loyalty.services.points import points_adjust_by_admin
from tests.loyalty.factories import LoyaltyAccountFactory
from tests.test_admin_smoke import FACTORIES

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"
WINDOW_WIDTH = 1280
ABOVE_THE_FOLD = {"width": WINDOW_WIDTH, "height": 800}


def _log_in(page, screenshots, *, username: str, password: str = PASSWORD) -> None:
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Username:").fill(username)
    page.get_by_label("Password:").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_a_store_manager_finds_a_customer_from_the_home_search_and_adjusts_points(
    page, screenshots, admin_roles, program, customer_factory, store_factory, django_user_model
):
    # given: Ada, a member with 120 points, among other customers
    store = store_factory(code="NYC01", name="New York flagship")
    ada = customer_factory(first_name="Ada", last_name="Lovelace", phone_mobile="+14155550134", created_store=store)
    account = LoyaltyAccountFactory(customer=ada, enrolled_store=store)
    admin_user = django_user_model.objects.create_superuser(username="root", password=PASSWORD)
    points_adjust_by_admin(account=account, points=120, user=admin_user, note="Welcome")
    customer_factory(first_name="Grace", last_name="Hopper")
    manager = django_user_model.objects.create_user(username="manager", password=PASSWORD, is_staff=True)
    manager.groups.add(Group.objects.get(name=STORE_MANAGERS))
    page.set_viewport_size(ABOVE_THE_FOLD)
    _log_in(page, screenshots, username="manager")
    expect(page.get_by_role("heading", name="Find a customer")).to_be_visible()
    expect(page.locator("#site-name")).to_have_text("Retail CRM")
    screenshots.take("clienteling-home")

    # when: she types the start of the name, and the results come as she types
    page.get_by_role("searchbox", name="Find a customer").press_sequentially("lovel", delay=30)
    result = page.locator("#home-search-results a")
    expect(result).to_have_count(1)
    expect(result).to_contain_text("Ada Lovelace")
    expect(result).to_contain_text("120 points")
    screenshots.take("search-as-you-type")
    result.click()

    # then: who this is, above the fold
    glance = page.locator("#customer-glance")
    expect(glance).to_be_visible()
    expect(page.locator("#glance-name")).to_have_text("Ada Lovelace")
    expect(glance.locator(".glance-spendable")).to_have_text("120")
    expect(glance.locator(".glance-home-store")).to_have_text("NYC01 · New York flagship")
    box = glance.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= ABOVE_THE_FOLD["height"], f"the glance ends at {box['y'] + box['height']} px"
    screenshots.take("customer-at-a-glance")

    # when: points adjusted from the glance
    glance.get_by_role("link", name="Adjust points").click()
    page.get_by_label("Points:").fill("30")
    page.get_by_label("Note:").fill("Late delivery")
    screenshots.take("adjust-points-form")
    page.get_by_role("button", name="Adjust points").click()

    # then
    expect(page.locator(".messagelist")).to_contain_text("Adjusted 1 account(s) by +30 points.")
    screenshots.take("points-adjusted")
    assert LoyaltyAccount.objects.get(pk=account.pk).points_balance == 150
    page.goto(f"/admin/crm/customer/{ada.pk}/change/")
    expect(page.locator("#customer-glance .glance-spendable")).to_have_text("150")
    screenshots.take("customer-after-adjustment")


def _admin_pages(objects) -> list[str]:
    """Every registered model's changelist, and the change page of the object made for it."""
    urls = ["/admin/", "/admin/dashboard/"]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        urls.append(f"/admin/{opts.app_label}/{opts.model_name}/")
        obj = objects.get(opts.label)
        if obj is not None and model_admin.has_view_permission:
            urls.append(f"/admin/{opts.app_label}/{opts.model_name}/{obj.pk}/change/")
    return urls


def test_no_admin_page_scrolls_sideways_in_a_1280_px_window(page, screenshots, program, django_user_model):
    # given: one object of every model with an admin page (the admin smoke test's factories)
    objects = {label: make() for label, make in FACTORIES.items() if apps.get_model(label) in admin.site._registry}
    django_user_model.objects.create_superuser(username="root", password=PASSWORD)
    _log_in(page, screenshots, username="root")

    # when
    too_wide = {}
    for url in _admin_pages(objects):
        response = page.goto(url)
        assert response is not None
        assert response.status == 200, f"{url} answered {response.status}"
        width = page.evaluate("document.scrollingElement.scrollWidth")
        if width > WINDOW_WIDTH:
            too_wide[url] = width
            screenshots.take(f"too-wide-{url.strip('/').replace('/', '-')}", full_page=True)

    # then
    assert too_wide == {}
    page.goto(f"/admin/crm/customer/{objects['crm.Customer'].pk}/change/")
    screenshots.take("customer-page-full", full_page=True)


def test_the_demo_opens_with_history_on_the_home_page_the_dashboard_and_a_customer(page, screenshots, admin_roles):
    # given: the demo as `make run` seeds it (fewer customers, same history)
    with override_settings(DEBUG=True):
        call_command("seed_demo", "--customers", "40", stdout=io.StringIO())
    regular = Purchase.objects.values("account__customer").annotate(count=Count("id")).order_by("-count").first()
    _log_in(page, screenshots, username="manager", password="manager")

    # then: the home page knows the stores' customers
    expect(page.locator("#home-recent tbody tr")).to_have_count(8)
    screenshots.take("demo-home", full_page=True)
    page.goto("/admin/dashboard/")
    expect(page.locator("body")).to_contain_text("Points earned, burned and expired per week")
    screenshots.take("demo-dashboard", full_page=True)
    page.goto(f"/admin/crm/customer/{regular['account__customer']}/change/")
    expect(page.locator("#customer-glance .glance-purchases li")).to_have_count(3)
    screenshots.take("demo-customer-at-a-glance")
