"""Who may do what with loyalty cards and the Scan & Go configuration (crm/migrations/0006_admin_roles_scan_and_go)."""

import pytest
from django.contrib.auth.models import Group, User

from crm.roles import MARKETING, STORE_MANAGERS
from loyalty.models import Program, ScanAndGoPolicy
from tests.roles import admin_roles_reset

pytestmark = pytest.mark.django_db


def _client_in(client, group_name: str):
    admin_roles_reset()
    user = User.objects.create_user(f"user-{group_name}", password="secret", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    client.force_login(user)
    return client


def _policy() -> ScanAndGoPolicy:
    policy, _created = ScanAndGoPolicy.objects.get_or_create(program=Program.objects.get(is_default=True))
    return policy


@pytest.mark.parametrize(
    ("group_name", "url", "status"),
    [
        (STORE_MANAGERS, "/admin/loyalty/card/", 200),
        (STORE_MANAGERS, "/admin/loyalty/card/add/", 200),
        (STORE_MANAGERS, "/admin/loyalty/scanandgomember/", 200),
        (STORE_MANAGERS, "/admin/loyalty/scanandgopolicy/", 200),
        (STORE_MANAGERS, "/admin/loyalty/scanandgopolicy/add/", 403),
        (MARKETING, "/admin/loyalty/scanandgopolicy/", 200),
        (MARKETING, "/admin/loyalty/scanandgopolicy/add/", 200),
        (MARKETING, "/admin/loyalty/card/", 200),
        (MARKETING, "/admin/loyalty/card/add/", 403),
    ],
)
def test_each_role_opens_what_it_should(client, group_name, url, status):
    response = _client_in(client, group_name).get(url)

    assert response.status_code == status


def test_a_store_manager_sees_the_policy_read_only_and_cannot_change_it(client):
    # given
    policy = _policy()
    http = _client_in(client, STORE_MANAGERS)

    # when
    page = http.get(f"/admin/loyalty/scanandgopolicy/{policy.pk}/change/")
    post = http.post(f"/admin/loyalty/scanandgopolicy/{policy.pk}/change/", {"unlocking_allowed": ""})

    # then
    assert page.status_code == 200
    assert 'name="unlocking_allowed"' not in page.content.decode()
    assert post.status_code == 403
    policy.refresh_from_db()
    assert policy.unlocking_allowed is True
