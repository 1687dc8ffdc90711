"""Customer at a glance: the top of the customer page answers "who is this" (name, tier and progress, points
spendable, pending and expiring soon, member since, home store, consents, last purchases, usable vouchers, lifetime
value) with the actions the user may take, above the edit form; each role sees what it may."""

import html as html_module
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from crm.models import Customer
from crm.roles import MARKETING, STORE_MANAGERS
from crm.services.consents import consents_set
from crm.services.context import ChangeContext
from loyalty.models import CouponDefinition, Program, Tier
from loyalty.services.points import points_adjust_by_admin
from tests.loyalty.factories import LoyaltyAccountFactory, PurchaseFactory, VoucherFactory

CUSTOMERS_URL = "/admin/crm/customer/"
NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)


def _glance_text(response) -> str:
    html = response.content.decode()
    glance = html[html.index('<section class="customer-glance"') : html.index("</section>")]
    return html_module.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", glance)).strip())


@pytest.fixture
def member(program, customer_factory, store_factory, admin_user, coupon_definition_factory):
    """Ada, a Silver member of the New York store with 600 points that expire in 20 days, 4 purchases and a
    voucher."""
    Program.objects.filter(pk=program.pk).update(points_expiry_days=20)
    Tier.objects.create(program=program, rank=1, code="silver", name="Silver", threshold=500)
    Tier.objects.create(program=program, rank=2, code="gold", name="Gold", threshold=1000)
    store = store_factory(code="NYC01", name="New York flagship")
    with time_machine.travel(NOW - timedelta(days=40), tick=False):
        customer = customer_factory(salutation="Ms", first_name="Ada", last_name="Lovelace", created_store=store)
        consents_set(customer=customer, changes={"agree_to_tc": True, "sms_sign_up": False}, context=ChangeContext())
        account = LoyaltyAccountFactory(customer=customer, enrolled_store=store)
    for day, total in ((10, "10.00"), (8, "20.00"), (6, "30.00"), (4, "40.00")):
        with time_machine.travel(NOW - timedelta(days=day), tick=False):
            PurchaseFactory(account=account, total=total, store=store)
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        points_adjust_by_admin(account=account, points=500, user=admin_user, note="Goodwill")
    coupon = coupon_definition_factory(code="spring-10", name="Spring 10", kind=CouponDefinition.Kind.PERCENT)
    VoucherFactory(definition=coupon, customer=customer)
    account.refresh_from_db()
    return account


def test_store_manager_sees_who_this_is_above_the_form_with_adjust_points_and_erase(role_client, member):
    # given
    customer = member.customer
    client = role_client(STORE_MANAGERS)

    # when
    with time_machine.travel(NOW, tick=False):
        response = client.get(f"{CUSTOMERS_URL}{customer.pk}/change/")

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index('id="customer-glance"') < html.index('id="id_first_name"')
    text = _glance_text(response)
    assert text.startswith(f"Ms Ada Lovelace {customer.public_id} Active Silver Adjust points Erase personal data")
    assert "Tier Silver 400 points to Gold (600 of 1,000 points)" in text
    # 100 points from the purchases (1 a unit) and 500 by hand, all expiring within 20 days.
    assert "Points 600 spendable 0 pending 600 expiring within 30 days (from " in text
    assert f"Member since {member.enrolled_at:%Y-%m-%d} · enrolled Account {member.account_number}" in text
    assert "Home store: NYC01 · New York flagship" in text
    assert "Lifetime value 100.00 USD 4 purchases" in text
    assert "Consents ✓ Agreed to T&C Direct mail sign up E-receipt" in text
    assert '<span class="badge badge-on" title="given">✓ Agreed to T&amp;C</span>' in html
    assert '<span class="badge badge-unknown" title="never asked">Direct mail sign up</span>' in html
    assert '<span class="badge badge-off" title="refused or withdrawn">SMS sign-up</span>' in html
    assert "Last purchases 2026-03-07 · 40.00 USD · NYC01 2026-03-05 · 30.00 USD · NYC01 2026-03-03 · 20.00 USD" in text
    assert "Usable vouchers Spring 10 · " in text
    assert f'href="/admin/loyalty/loyaltyaccount/{member.pk}/adjust-points/"' in html
    assert f'href="/admin/crm/customer/{customer.pk}/erase/"' in html
    # Store managers issue no vouchers (coupon configuration is marketing's).
    assert "glance-issue-voucher" not in html


def test_marketing_sees_the_customer_without_points_and_may_issue_a_voucher(role_client, member):
    # given
    customer = member.customer
    client = role_client(MARKETING)

    # when
    response = client.get(f"{CUSTOMERS_URL}{customer.pk}/change/")

    # then
    assert response.status_code == 200
    text = _glance_text(response)
    assert text.startswith(f"Ms Ada Lovelace {customer.public_id} Active Issue a voucher Consents")
    assert "spendable" not in text
    assert "Lifetime value" not in text
    assert "Usable vouchers Spring 10" in text
    html = response.content.decode()
    assert f'href="/admin/loyalty/voucher/issue/?customer={customer.public_id}"' in html
    assert "glance-adjust-points" not in html
    assert "glance-erase" not in html


def test_a_customer_without_account_or_consents_says_so(role_client, customer_factory):
    # given
    customer = customer_factory(first_name="Grace", last_name="Hopper")
    client = role_client(STORE_MANAGERS)

    # when
    response = client.get(f"{CUSTOMERS_URL}{customer.pk}/change/")

    # then
    text = _glance_text(response)
    assert "Loyalty Not a member of the loyalty program. Home store: online" in text
    assert "Consents Never asked." in text
    assert "Usable vouchers None." in text


def test_an_erased_customer_offers_no_actions(role_client, member, admin_user):
    # given
    Customer.objects.filter(pk=member.customer_id).update(status=Customer.Status.ERASED)
    client = role_client(STORE_MANAGERS)

    # when
    response = client.get(f"{CUSTOMERS_URL}{member.customer_id}/change/")

    # then
    html = response.content.decode()
    assert "Erased" in _glance_text(response)
    assert "glance-adjust-points" not in html
    assert "glance-erase" not in html
    assert Decimal(member.points_balance) == Decimal(600)
