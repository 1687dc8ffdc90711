"""Erasure requests in the back office: store managers erase a customer's personal data from the customer page."""

import pytest
from django.contrib.auth.models import Group, Permission, User

from crm.models import ConsentChange, Customer
from crm.roles import MARKETING, STORE_MANAGERS
from crm.services.consents import consents_set
from crm.services.context import ChangeContext
from loyalty.models import PointsEntry
from loyalty.services.ledger import EntrySource
from loyalty.services.points import points_add
from tests.roles import admin_roles_reset

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_in(db):
    admin_roles_reset()

    def make(group_name: str) -> User:
        user = User.objects.create_user(f"user-{group_name}", password="secret", is_staff=True)
        user.groups.add(Group.objects.get(name=group_name))
        return user

    return make


def test_store_managers_may_erase_and_marketing_may_not():
    admin_roles_reset()
    erase = Permission.objects.get(codename="erase_customer", content_type__app_label="crm")
    assert erase in Group.objects.get(name=STORE_MANAGERS).permissions.all()
    assert erase not in Group.objects.get(name=MARKETING).permissions.all()


def test_the_customer_page_offers_erasure_to_a_store_manager(client, staff_in, customer_factory):
    # given
    customer = customer_factory()
    client.force_login(staff_in(STORE_MANAGERS))

    # when
    page = client.get(f"/admin/crm/customer/{customer.pk}/change/")

    # then
    assert page.status_code == 200
    assert f'href="/admin/crm/customer/{customer.pk}/erase/"' in page.content.decode()


def test_erasing_needs_the_customer_id_typed_and_then_erases_keeping_the_ledger(client, staff_in, enrolled_account):
    # given
    account = enrolled_account()
    points_add(account=account, points=120, origin=EntrySource(source="event", idempotency_key="welcome"))
    customer = account.customer
    consents_set(customer=customer, changes={"news_letter_sign_up": True}, context=ChangeContext())
    user = staff_in(STORE_MANAGERS)
    client.force_login(user)
    url = f"/admin/crm/customer/{customer.pk}/erase/"

    # when: a wrong confirmation
    refused = client.post(url, {"confirm_id": "C000"})

    # then: the page asks again and nothing changed
    assert refused.status_code == 200
    assert f"Type {customer.public_id} exactly to confirm the erasure." in refused.content.decode()
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ACTIVE
    assert customer.first_name != ""

    # when: the right one, in lower case
    done = client.post(url, {"confirm_id": customer.public_id.lower()})

    # then
    assert done.status_code == 302
    assert done["Location"] == f"/admin/crm/customer/{customer.pk}/change/"
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ERASED
    assert (customer.first_name, customer.last_name, customer.email) == ("", "", "")
    assert PointsEntry.objects.filter(account=account).count() == 1
    withdrawal = ConsentChange.objects.filter(customer=customer, consent="news_letter_sign_up").latest("id")
    assert (withdrawal.previous_value, withdrawal.new_value) == (True, False)
    assert (withdrawal.channel, withdrawal.user) == (ConsentChange.Channel.ADMIN, user)


def test_marketing_cannot_open_the_erasure_page_and_nothing_is_written(client, staff_in, customer_factory):
    # given
    customer = customer_factory()
    client.force_login(staff_in(MARKETING))

    # when
    response = client.post(f"/admin/crm/customer/{customer.pk}/erase/", {"confirm_id": customer.public_id})

    # then
    assert response.status_code == 403
    customer.refresh_from_db()
    assert customer.status == Customer.Status.ACTIVE
    page = client.get(f"/admin/crm/customer/{customer.pk}/change/")
    assert "/erase/" not in page.content.decode()
