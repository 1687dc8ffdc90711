"""The eligibility preview in a real browser: loyalty/static/loyalty/coupon_preview.js sends the coupon form as it is
edited to the preview endpoint and shows the answer. Uses the browser fixtures of tests/e2e (skipped without
Chromium); a screenshot lands in test-artifacts/e2e/<test name>/."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import expect

from loyalty.models import CouponDefinition, LoyaltyAccount, Tier
from tests.e2e import conftest as e2e

# The browser fixtures of tests/e2e, made visible here.
admin_roles, browser, chromium_executable = e2e.admin_roles, e2e.browser, e2e.chromium_executable
orm_beside_playwright, page, screenshots = e2e.orm_beside_playwright, e2e.page, e2e.screenshots

pytestmark = pytest.mark.e2e


def test_the_preview_follows_the_form_and_tests_a_customer(
    page, screenshots, admin_roles, program, enrolled_account, django_user_model, coupon_definition_factory
):
    # given: 2 members in the entry tier, 1 in Gold; a coupon for Gold
    gold = Tier.objects.create(program=program, rank=1, code="gold", name="Gold", threshold=Decimal("1000"))
    accounts = [enrolled_account() for _ in range(3)]
    LoyaltyAccount.objects.filter(pk=accounts[0].pk).update(tier=gold)
    definition = coupon_definition_factory(
        program=program,
        code="gold-10",
        name="Gold 10",
        kind=CouponDefinition.Kind.PERCENT,
        value=Decimal("10"),
        eligible_tiers=[gold],
        min_basket=Decimal("50"),
    )
    user = django_user_model.objects.create_user(username="marketing", password="preview-pass", is_staff=True)
    user.groups.add(Group.objects.get(name="Marketing"))
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Username:").fill("marketing")
    page.get_by_label("Password:").fill("preview-pass")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")

    # when
    page.goto(f"/admin/loyalty/coupondefinition/{definition.pk}/change/")

    # then
    summary = page.locator("#coupon-preview-summary")
    expect(summary).to_have_text("1 of 3 members could use the coupon now.")

    # when: every tier
    page.locator("#id_eligible_tiers_to").select_option(label=f"Gold ({program.code})")
    page.get_by_role("button", name="Remove selected eligible tiers").click()

    # then
    expect(summary).to_have_text("3 of 3 members could use the coupon now.")

    # when: a customer below the minimum basket
    page.locator("#coupon-preview-customer").fill(accounts[1].account_number)
    page.locator("#coupon-preview-basket").fill("49.99")

    # then
    result = page.locator("#coupon-preview-customer-result")
    expect(result).to_contain_text(f"{accounts[1].customer.public_id} (member): not eligible")
    expect(result).to_contain_text("The basket is below the minimum.")

    # when: the coupon switched off
    page.get_by_label("Is active").uncheck()

    # then
    expect(summary).to_have_text("Nobody can use the coupon now: The coupon is not active.")
    screenshots.take("preview", full_page=True)
