"""The customer page: the profile, consents and addresses, and (through crm.admin.CustomerPageExtension) the loyalty
panel with the account, tier progress, balances, latest ledger entries, purchases and vouchers, in a fixed number of
queries whatever the customer's history; each role sees what it may."""

import re
from decimal import Decimal

import pytest
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from crm.admin import (
    CustomerPageExtension,
    CustomerPagePanel,
    customer_page_extension_register,
    customer_page_panels_render,
)
from crm.models import ConsentChange, Customer
from crm.roles import MARKETING, STORE_MANAGERS
from crm.services.consents import consents_set
from crm.services.context import ChangeContext
from loyalty.models import CouponDefinition, Tier
from loyalty.services.points import points_adjust_by_admin
from tests.loyalty.factories import LoyaltyAccountFactory, PurchaseFactory, VoucherFactory
from tests.roles import admin_roles_reset

CUSTOMERS_URL = "/admin/crm/customer/"
# Session, user, the customer (profile address and stores joined), the inlines (consent history,
# addresses, consents); the loyalty panel: accounts, then per account the tiers, the qualifying value now and at
# the tier's expiry, purchase totals, balances, the latest entries and purchases; and the vouchers. The glance on
# top shares the panel's reads (its consents come joined to the customer) and adds the open lots (points expiring
# soon) and the usable vouchers.
CUSTOMER_PAGE_QUERIES = 17


@pytest.fixture
def silver_and_gold(program):
    """Above the default program's Member tier: Silver from 500 points, Gold from 1,000 (kept with 800)."""
    Tier.objects.create(program=program, rank=1, code="silver", name="Silver", threshold=500)
    Tier.objects.create(program=program, rank=2, code="gold", name="Gold", threshold=1000, renewal_threshold=800)


@pytest.fixture
def spring_coupon(coupon_definition_factory):
    return coupon_definition_factory(
        code="spring-10", name="Spring 10", kind=CouponDefinition.Kind.PERCENT, value=Decimal("10")
    )


def _customer_with_history(size, *, user, customer_factory, address_factory, store, coupon):
    """A Silver member with `size` addresses, consent changes, purchases (each one ledger entry) and vouchers."""
    customer = customer_factory()
    for _index in range(size):
        address_factory(customer=customer)
    for index in range(size):
        consents_set(customer=customer, changes={"sms_sign_up": index % 2 == 0}, context=ChangeContext())
    account = LoyaltyAccountFactory(customer=customer)
    points_adjust_by_admin(account=account, points=600, user=user, note="Welcome back")
    for index in range(size):
        PurchaseFactory(account=account, transaction_id=f"T{customer.pk}-{index}", total="10.00", store=store)
    for _index in range(size):
        VoucherFactory(definition=coupon, customer=customer)
    return customer


def _page_queries(client: Client, customer: Customer) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{CUSTOMERS_URL}{customer.pk}/change/")
    assert response.status_code == 200
    return [query["sql"] for query in queries]


def _text(response) -> str:
    """The page's text with tags and runs of white space collapsed, to assert what a person reads."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def _client_in(django_user_model, group_name: str) -> Client:
    admin_roles_reset()
    user = django_user_model.objects.create_user(username=group_name.lower().replace(" ", "-"), is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    client = Client()
    client.force_login(user)
    return client


def test_customer_page_costs_the_same_queries_for_1_or_30_of_everything(
    admin_client, admin_user, customer_factory, address_factory, store_factory, silver_and_gold, spring_coupon
):
    # given
    store = store_factory()
    small, large = (
        _customer_with_history(
            size,
            user=admin_user,
            customer_factory=customer_factory,
            address_factory=address_factory,
            store=store,
            coupon=spring_coupon,
        )
        for size in (1, 30)
    )
    # The content type of the "History" link is cached for the process; load it before counting.
    ContentType.objects.get_for_model(Customer)

    # when
    small_page = _page_queries(admin_client, small)
    large_page = _page_queries(admin_client, large)

    # then
    assert len(small_page) == CUSTOMER_PAGE_QUERIES
    assert len(large_page) == CUSTOMER_PAGE_QUERIES


def test_loyalty_panel_shows_account_tier_progress_and_balances(
    admin_client, admin_user, customer_factory, program, silver_and_gold, loyalty_account_factory
):
    # given
    customer = customer_factory()
    account = loyalty_account_factory(customer=customer)
    points_adjust_by_admin(account=account, points=600, user=admin_user, note="Goodwill")
    points_adjust_by_admin(account=account, points=-50, user=admin_user, note="Correction")
    account.refresh_from_db()

    # when
    response = admin_client.get(f"{CUSTOMERS_URL}{customer.pk}/change/")

    # then
    text = _text(response)
    assert f"Loyalty account {account.account_number} · Loyalty program" in text
    assert (
        f"Tier: Silver · since {account.tier_achieved_at:%Y-%m-%d} · expires {account.tier_expires_at:%Y-%m-%d}" in text
    )
    assert "Qualifying: 600 points over the last 365 days" in text
    assert "Next tier: Gold at 1,000 points: 400 points to go" in text
    assert "Renewal: keep Silver with 500 points by its expiry: met" in text
    assert "spendable pending reserved expired spent lifetime 550 0 0 0 0 600" in text
    html = response.content.decode()
    assert f'href="/admin/loyalty/loyaltyaccount/{account.pk}/change/"' in html
    assert f'href="/admin/loyalty/loyaltyaccount/{account.pk}/adjust-points/"' in html


def test_loyalty_panel_shows_the_latest_20_entries_10_purchases_and_20_vouchers_with_links(
    admin_client,
    admin_user,
    customer_factory,
    store_factory,
    spring_coupon,
    loyalty_account_factory,
    voucher_factory,
    purchase_factory,
):
    # given
    customer = customer_factory()
    account = loyalty_account_factory(customer=customer)
    store = store_factory(code="S042")
    for index in range(12):
        purchase_factory(account=account, transaction_id=f"T-{index:02d}", total="10.00", store=store)
    for index in range(10):
        points_adjust_by_admin(account=account, points=index + 1, user=admin_user, note=f"Goodwill {index}")
    codes = [voucher_factory(definition=spring_coupon, customer=customer).code for _index in range(22)]

    # when
    response = admin_client.get(f"{CUSTOMERS_URL}{customer.pk}/change/")

    # then
    html = response.content.decode()
    entries = re.findall(r'<tr class="ledger-entry">(.*?)</tr>', html)
    assert len(entries) == 20
    assert "Goodwill 9" in entries[0]
    assert "T-02" in entries[-1]
    assert "T-01" not in "".join(entries)
    purchases = re.findall(r'<tr class="purchase"><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td>', html)
    assert purchases == [(f"T-{index:02d}", "S042") for index in range(11, 1, -1)]
    vouchers = re.findall(r'<tr class="voucher"><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>', html)
    assert vouchers == [(code, "Spring 10", "Issued") for code in reversed(codes[2:])]
    assert f'href="/admin/loyalty/pointsentry/?account={account.pk}"' in html
    assert f'href="/admin/loyalty/purchase/?account={account.pk}"' in html
    assert f'href="/admin/loyalty/voucher/?customer={customer.pk}"' in html


def test_the_full_lists_behind_the_panel_links_hold_only_this_customer(
    admin_client, customer_factory, spring_coupon, loyalty_account_factory, voucher_factory, purchase_factory
):
    # given
    customer, other = customer_factory(), customer_factory()
    account = loyalty_account_factory(customer=customer)
    other_account = loyalty_account_factory(customer=other)
    purchase_factory(account=account, transaction_id="T-1", total="10.00")
    purchase_factory(account=other_account, transaction_id="T-2", total="10.00")
    mine = voucher_factory(definition=spring_coupon, customer=customer)
    voucher_factory(definition=spring_coupon, customer=other)

    # when
    ledger = admin_client.get("/admin/loyalty/pointsentry/", {"account": account.pk})
    purchases = admin_client.get("/admin/loyalty/purchase/", {"account": account.pk})
    vouchers = admin_client.get("/admin/loyalty/voucher/", {"customer": customer.pk})

    # then
    assert [entry.account_id for entry in ledger.context["cl"].result_list] == [account.pk]
    assert [purchase.transaction_id for purchase in purchases.context["cl"].result_list] == ["T-1"]
    assert [voucher.code for voucher in vouchers.context["cl"].result_list] == [mine.code]


def test_a_customer_without_account_shows_not_enrolled(admin_client, customer_factory):
    # given
    customer = customer_factory()

    # when
    response = admin_client.get(f"{CUSTOMERS_URL}{customer.pk}/change/")

    # then
    text = _text(response)
    assert "Not enrolled in a loyalty program." in text
    assert "No vouchers." in text


def test_store_manager_sees_contacts_account_ledger_and_vouchers_without_the_voucher_admin_link(
    django_user_model, customer_factory, address_factory, spring_coupon, loyalty_account_factory, voucher_factory
):
    # given
    store_manager = _client_in(django_user_model, STORE_MANAGERS)
    customer = customer_factory(email="ada@example.com", phone_mobile="+12175550100")
    address_factory(customer=customer, address_line1="12 Analytical Row")
    account = loyalty_account_factory(customer=customer)
    voucher = voucher_factory(definition=spring_coupon, customer=customer)

    # when
    response = store_manager.get(f"{CUSTOMERS_URL}{customer.pk}/change/")

    # then
    html = response.content.decode()
    assert response.context["has_change_permission"] is True
    assert ('value="ada@example.com"' in html, 'value="+12175550100"' in html) == (True, True)
    assert 'value="12 Analytical Row"' in html
    assert f"Loyalty account {account.account_number}" in _text(response)
    assert f'href="/admin/loyalty/loyaltyaccount/{account.pk}/adjust-points/"' in html
    assert f'href="/admin/loyalty/pointsentry/?account={account.pk}"' in html
    assert voucher.code in html
    # Store managers have no voucher admin (coupon configuration is marketing's).
    assert "/admin/loyalty/voucher/" not in html
    assert f'href="/admin/crm/consentchange/?customer={customer.pk}"' in html


def test_marketing_sees_the_customer_page_read_only_without_contact_details_or_account(
    django_user_model, customer_factory, address_factory, spring_coupon, loyalty_account_factory, voucher_factory
):
    # given
    marketing = _client_in(django_user_model, MARKETING)
    customer = customer_factory(email="ada@example.com", phone_mobile="+12175550100", postal_code="62701")
    address = address_factory(customer=customer, address_line1="12 Analytical Row")
    Customer.objects.filter(pk=customer.pk).update(profile_address=address)
    account = loyalty_account_factory(customer=customer)
    consents_set(customer=customer, changes={"sms_sign_up": True}, context=ChangeContext())
    voucher = voucher_factory(definition=spring_coupon, customer=customer)
    url = f"{CUSTOMERS_URL}{customer.pk}/change/"

    # when
    response = marketing.get(url)
    post = marketing.post(url, {"first_name": "Renamed", "email": "grace@example.com", "status": "active"})

    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    shown_fields = set(flatten_fieldsets(response.context["adminform"].fieldsets))
    assert not shown_fields & {"email", "phone_mobile", "phone_home", "postal_code", "profile_address"}
    assert {"first_name", "last_name", "birthday"} <= shown_fields
    for private in ("ada@example.com", "+12175550100", "62701", "12 Analytical Row"):
        assert private not in html
    assert account.account_number not in html
    assert "/admin/loyalty/pointsentry/" not in html
    assert "consentchange" not in html
    # Vouchers are marketing's own domain.
    assert voucher.code in html
    assert f'href="/admin/loyalty/voucher/?customer={customer.pk}"' in html
    assert post.status_code == 403
    customer.refresh_from_db()
    assert (customer.first_name, customer.email) != ("Renamed", "grace@example.com")
    assert customer.email == "ada@example.com"


def test_consent_history_shows_the_latest_20_and_links_to_the_whole_history(admin_client, customer_factory):
    # given
    customer = customer_factory()
    for index in range(25):
        consents_set(customer=customer, changes={"sms_sign_up": index % 2 == 0}, context=ChangeContext())
    other = customer_factory()
    consents_set(customer=other, changes={"sms_sign_up": True}, context=ChangeContext())
    newest_first = list(
        ConsentChange.objects.filter(customer=customer).order_by("-changed_at", "-id").values_list("pk", flat=True)
    )

    # when
    page = admin_client.get(f"{CUSTOMERS_URL}{customer.pk}/change/")
    history = admin_client.get("/admin/crm/consentchange/", {"customer": customer.pk})

    # then
    inline = next(inline for inline in page.context["inline_admin_formsets"] if inline.formset.model is ConsentChange)
    assert [form.instance.pk for form in inline.formset.forms] == newest_first[:20]
    assert f'href="/admin/crm/consentchange/?customer={customer.pk}"' in page.content.decode()
    assert sorted(change.pk for change in history.context["cl"].result_list) == sorted(newest_first)


def test_consent_change_admin_is_view_only(admin_client, customer_factory):
    # given
    customer = customer_factory()
    consents_set(customer=customer, changes={"sms_sign_up": True}, context=ChangeContext())
    change = ConsentChange.objects.get()

    # when
    add = admin_client.get("/admin/crm/consentchange/add/")
    edit = admin_client.post(f"/admin/crm/consentchange/{change.pk}/change/", {"new_value": "false"})
    delete = admin_client.post(f"/admin/crm/consentchange/{change.pk}/delete/", {"post": "yes"})
    view = admin_client.get(f"/admin/crm/consentchange/{change.pk}/change/")

    # then
    assert (add.status_code, edit.status_code, delete.status_code, view.status_code) == (403, 403, 403, 200)
    change.refresh_from_db()
    assert change.new_value is True
    assert ConsentChange.objects.count() == 1


class ShownPanel(CustomerPageExtension):
    def panel(self, request, customer):
        return CustomerPagePanel(template_name="admin/loyalty/customer_panel.html", context={"vouchers": []})


def test_an_extension_whose_panel_is_none_shows_nothing(rf, admin_user, customer_factory, monkeypatch):
    # given: an extension without a panel, and one registered twice
    customer = customer_factory()
    request = rf.get("/")
    request.user = admin_user
    monkeypatch.setattr("crm.admin._customer_page_extensions", [])
    customer_page_extension_register(CustomerPageExtension())
    shown = ShownPanel()
    customer_page_extension_register(shown)
    customer_page_extension_register(shown)

    # when
    panels = customer_page_panels_render(request, customer)

    # then
    assert len(panels) == 1
    assert "No vouchers." in panels[0]
