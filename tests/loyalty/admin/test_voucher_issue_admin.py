"""The admin's "Issue a voucher": one voucher of a coupon for one customer, found by customer id, account number or
card number, through voucher_issue (the coupon's dates and limits apply), reached from the voucher list, the coupon's
page and the customer's page. Driven as the Marketing role; a store manager may not issue."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.utils import timezone

from crm.models import Customer
from crm.roles import MARKETING, STORE_MANAGERS
from loyalty.models import CouponDefinition, Voucher
from webhooks.models import WebhookEvent

ISSUE_URL = "/admin/loyalty/voucher/issue/"


@pytest.fixture
def marketing(role_client):
    return role_client(MARKETING)


@pytest.fixture
def sorry(program, coupon_definition_factory):
    return coupon_definition_factory(
        program=program,
        code="sorry-5",
        name="Sorry 5 off",
        kind=CouponDefinition.Kind.AMOUNT,
        value=Decimal("5"),
        code_pattern="SORRY-{code}",
        limit_per_customer=1,
    )


@pytest.fixture
def member(enrolled_account):
    return enrolled_account()


def _coupon_events():
    return WebhookEvent.objects.filter(type__startswith="coupon.")


def _form(definition, customer_term: str, expires: str = "") -> dict[str, str]:
    date, _, time = expires.partition(" ")
    return {"definition": str(definition.pk), "customer": customer_term, "expires_at_0": date, "expires_at_1": time}


def test_marketing_issues_a_voucher_to_a_customer_found_by_account_number(marketing, sorry, member):
    # when
    response = marketing.post(ISSUE_URL, _form(sorry, f" {member.account_number} "))

    # then
    voucher = Voucher.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/loyalty/voucher/{voucher.pk}/change/"
    assert (voucher.definition, voucher.customer, voucher.status, voucher.origin, voucher.expires_at) == (
        sorry,
        member.customer,
        Voucher.Status.ISSUED,
        Voucher.Origin.MANUAL,
        None,
    )
    assert voucher.code.startswith("SORRY-")
    entry = LogEntry.objects.get()
    assert (entry.action_flag, entry.object_id, entry.user.username) == (ADDITION, str(voucher.pk), "Marketing")
    assert list(_coupon_events().values_list("type", flat=True)) == ["coupon.issued"]
    page = marketing.get(response["Location"])
    assert f"Voucher {voucher.code} of Sorry 5 off issued to {member.customer.public_id}." in page.content.decode()


def test_the_customer_may_be_named_by_public_id_in_any_case_with_an_expiry(marketing, sorry, member):
    # given
    expires = (timezone.now() + timedelta(days=7)).replace(second=0, microsecond=0)

    # when
    response = marketing.post(
        ISSUE_URL, _form(sorry, member.customer.public_id.lower(), expires.strftime("%Y-%m-%d %H:%M:%S"))
    )

    # then
    assert response.status_code == 302
    assert Voucher.objects.get().expires_at == expires


@pytest.mark.parametrize(
    ("term", "expires_in_days", "field", "message"),
    [
        ("C000000000000", None, "customer", "No customer has this id, account number or card number."),
        ("", None, "customer", "This field is required."),
        (None, -1, "expires_at", "The expiry must lie in the future."),
    ],
    ids=["unknown-customer", "no-customer", "expiry-in-the-past"],
)
def test_a_form_error_names_the_field_and_issues_nothing(
    marketing, sorry, member, term, expires_in_days, field, message
):
    # given
    expires = ""
    if expires_in_days is not None:
        expires = (timezone.now() + timedelta(days=expires_in_days)).strftime("%Y-%m-%d %H:%M:%S")

    # when
    response = marketing.post(ISSUE_URL, _form(sorry, member.account_number if term is None else term, expires))

    # then
    assert response.status_code == 200
    assert response.context["form"].errors == {field: [message]}
    assert not Voucher.objects.exists()
    assert not _coupon_events().exists()
    assert not LogEntry.objects.exists()


def test_an_expiry_after_the_coupon_ends_is_refused(marketing, program, member, coupon_definition_factory):
    # given
    ends = timezone.now() + timedelta(days=3)
    definition = coupon_definition_factory(
        program=program, code="weekend", name="Weekend", kind=CouponDefinition.Kind.PERCENT, value=Decimal("10"),
        valid_until=ends,
    )  # fmt: skip

    # when
    response = marketing.post(
        ISSUE_URL, _form(definition, member.account_number, (ends + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S"))
    )

    # then
    assert response.context["form"].errors == {
        "expires_at": ["The coupon ends before this: leave it empty to use the coupon's end."]
    }
    assert not Voucher.objects.exists()


def test_the_coupons_limit_per_customer_is_shown_as_an_error_and_nothing_more_is_issued(marketing, sorry, member):
    # given
    marketing.post(ISSUE_URL, _form(sorry, member.account_number))

    # when
    response = marketing.post(ISSUE_URL, _form(sorry, member.account_number))

    # then
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["The coupon's issue limit is reached."]
    assert Voucher.objects.count() == 1
    assert _coupon_events().count() == 1


def test_an_erased_customer_gets_no_voucher(marketing, sorry, member):
    # given
    Customer.objects.filter(pk=member.customer.pk).update(status=Customer.Status.ERASED)

    # when
    response = marketing.post(ISSUE_URL, _form(sorry, member.account_number))

    # then
    assert response.context["form"].errors == {"customer": ["This customer's personal data was erased."]}
    assert not Voucher.objects.exists()


def test_inactive_coupons_are_not_offered(marketing, sorry, program, coupon_definition_factory):
    # given
    CouponDefinition.objects.filter(pk=sorry.pk).update(is_active=False)
    coupon_definition_factory(
        program=program, code="live", name="Live", kind=CouponDefinition.Kind.PERCENT, value=Decimal("10")
    )

    # when
    page = marketing.get(ISSUE_URL)

    # then
    assert [str(choice) for choice in page.context["form"].fields["definition"].queryset] == ["Live (live)"]


def test_the_voucher_list_the_coupon_page_and_the_customer_page_link_to_the_prefilled_form(marketing, sorry, member):
    # when
    vouchers = marketing.get("/admin/loyalty/voucher/").content.decode()
    coupon = marketing.get(f"/admin/loyalty/coupondefinition/{sorry.pk}/change/").content.decode()
    customer = marketing.get(f"/admin/crm/customer/{member.customer.pk}/change/").content.decode()
    form = marketing.get(f"{ISSUE_URL}?definition={sorry.pk}&customer={member.customer.public_id}")

    # then
    assert f'<a href="{ISSUE_URL}" class="addlink">Issue a voucher</a>' in vouchers
    assert f'<a href="{ISSUE_URL}?definition={sorry.pk}" class="issuevoucher">Issue to a customer</a>' in coupon
    assert f'href="{ISSUE_URL}?customer={member.customer.public_id}">Issue a voucher</a>' in customer
    assert (form.context["form"]["definition"].value(), form.context["form"]["customer"].value()) == (
        str(sorry.pk),
        member.customer.public_id,
    )


def test_a_store_manager_may_not_issue_and_sees_no_link(role_client, sorry, member):
    # given
    store_manager = role_client(STORE_MANAGERS)

    # when
    page = store_manager.get(ISSUE_URL)
    refused = store_manager.post(ISSUE_URL, _form(sorry, member.account_number))
    customer = store_manager.get(f"/admin/crm/customer/{member.customer.pk}/change/").content.decode()

    # then
    assert (page.status_code, refused.status_code) == (403, 403)
    assert "Issue a voucher" not in customer
    assert not Voucher.objects.exists()
