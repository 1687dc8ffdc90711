"""The back office in a real browser, as its two groups of users meet it: marketing creates a percent coupon for
Gold members and issues ten voucher codes; a store manager finds a customer by phone and is kept out of the coupon
configuration. Screenshots of every step land in test-artifacts/e2e/<test name>/."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from crm.roles import MARKETING, STORE_MANAGERS
from loyalty.models import CouponDefinition, Tier, Voucher, VoucherBatch

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"
COUPON_DEFINITIONS_URL = "/admin/loyalty/coupondefinition/"


def _staff_user(django_user_model, *, username: str, group_name: str):
    user = django_user_model.objects.create_user(username=username, password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user


def _log_in(page, screenshots, *, username: str) -> None:
    """Through the admin's login form, as a person would."""
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Username:").fill(username)
    page.get_by_label("Password:").fill(PASSWORD)
    screenshots.take("login-form")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    screenshots.take("admin-index")


def test_marketing_creates_a_gold_coupon_and_issues_ten_vouchers(
    page, screenshots, admin_roles, program, django_user_model
):
    # given
    Tier.objects.create(program=program, rank=1, code="gold", name="Gold", threshold=Decimal("1000"))
    _staff_user(django_user_model, username="marketing", group_name=MARKETING)
    _log_in(page, screenshots, username="marketing")

    # when: the coupon
    page.goto(f"{COUPON_DEFINITIONS_URL}add/")
    page.get_by_label("Program:").select_option(label=program.name)
    page.get_by_label("Code:", exact=True).fill("gold-10")
    page.get_by_label("Name:", exact=True).fill("Gold members 10 %")
    page.get_by_label("Kind:").select_option(label="Percent off")
    page.get_by_label("Value:").fill("10")
    page.get_by_label("Point of sale").check()
    page.get_by_label("Scan & Go").check()
    page.get_by_label("Web shop").uncheck()
    page.locator("#id_eligible_tiers_from").select_option(label=f"Gold ({program.code})")
    page.get_by_role("button", name="Choose selected eligible tiers").click()
    screenshots.take("coupon-form", full_page=True)
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    screenshots.take("coupon-saved")

    # then
    definition = CouponDefinition.objects.get(program=program, code="gold-10")
    assert (definition.name, definition.kind, definition.value, definition.channels) == (
        "Gold members 10 %",
        CouponDefinition.Kind.PERCENT,
        Decimal("10.00"),
        ["pos", "scan_and_go"],
    )
    assert list(definition.eligible_tiers.values_list("code", flat=True)) == ["gold"]

    # when: ten vouchers (Celery is eager in the test settings, so the batch is done when the page answers)
    page.get_by_role("link", name="Generate vouchers").click()
    page.wait_for_url(f"**{COUPON_DEFINITIONS_URL}{definition.pk}/generate-vouchers/")
    page.locator("input[name=count]").fill("10")
    screenshots.take("generate-form")
    page.get_by_role("button", name="Generate vouchers").click()
    expect(page.locator("#content")).to_contain_text("Issued 10 of 10")
    screenshots.take("batch-done")
    page.get_by_role("link", name="View vouchers").click()
    batch = VoucherBatch.objects.get(definition=definition)
    page.wait_for_url(re.compile(rf"/admin/loyalty/voucher/\?batch__id__exact={batch.pk}$"))
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(10)
    screenshots.take("vouchers")

    # then
    assert (batch.requested_count, batch.issued_count, batch.status) == (10, 10, VoucherBatch.Status.DONE)
    vouchers = Voucher.objects.filter(definition=definition)
    assert vouchers.count() == 10
    codes_on_page = page.locator("#result_list tbody th").all_inner_texts()
    assert sorted(codes_on_page) == sorted(vouchers.values_list("code", flat=True))


def test_a_store_manager_finds_a_customer_by_phone_and_cannot_open_coupon_configuration(
    page, screenshots, admin_roles, customer_factory, django_user_model
):
    # given
    customer_factory(first_name="Ada", last_name="Lovelace", phone_mobile="+14155550134")
    customer_factory(first_name="Grace", last_name="Hopper", phone_mobile="+14155550199")
    _staff_user(django_user_model, username="store-manager", group_name=STORE_MANAGERS)
    _log_in(page, screenshots, username="store-manager")

    # when: a search by phone, typed the way the customer says it
    page.goto("/admin/crm/customer/")
    page.locator("#searchbar").fill("(415) 555-0134")
    page.locator("#searchbar").press("Enter")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Lovelace")
    screenshots.take("search-by-phone")
    rows.locator("th a").click()

    # then
    expect(page.locator("#id_first_name")).to_have_value("Ada")
    expect(page.locator("#id_last_name")).to_have_value("Lovelace")
    expect(page.locator("#id_phone_mobile")).to_have_value("+14155550134")
    screenshots.take("customer-page")

    # when: the coupon configuration
    response = page.goto(COUPON_DEFINITIONS_URL)

    # then
    assert response.status == 403
    expect(page.locator("body")).to_contain_text("403 Forbidden")
    screenshots.take("coupon-configuration-refused")
    page.goto("/admin/")
    expect(page.locator("#crm-customer").get_by_role("link", name="Customers")).to_be_visible()
    expect(page.locator(f'a[href="{COUPON_DEFINITIONS_URL}"]')).to_have_count(0)
    expect(page.get_by_role("link", name="Coupon definitions")).to_have_count(0)
    screenshots.take("admin-index-without-coupons")
