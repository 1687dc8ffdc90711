"""Admin login lockout (django-axes): AXES_FAILURE_LIMIT wrong passwords for one username from one address lock
that pair out, the right password included, until AXES_COOLOFF_TIME passes without another try."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
NOW = "2026-06-24T10:15:00+00:00"


@pytest.fixture(autouse=True)
def _frozen_time(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def manager():
    return User.objects.create_user(username="manager", password="right-password", is_staff=True)


def _log_in(client: Client, password: str, username: str = "manager"):
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})


def _is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_wrong_passwords_up_to_the_limit_then_the_right_one_is_refused(manager, settings):
    # given
    settings.AXES_FAILURE_LIMIT = 5
    browser = Client(REMOTE_ADDR="198.51.100.7")
    wrong = [_log_in(browser, f"guess-{n}").status_code for n in range(5)]

    # when
    response = _log_in(browser, "right-password")

    # then
    assert wrong == [200, 200, 200, 200, 429]
    assert response.status_code == 429
    assert not _is_signed_in(browser)


def test_the_right_password_before_the_limit_signs_in(manager, settings):
    # given
    settings.AXES_FAILURE_LIMIT = 5
    browser = Client(REMOTE_ADDR="198.51.100.7")
    for n in range(4):
        _log_in(browser, f"guess-{n}")

    # when
    response = _log_in(browser, "right-password")

    # then
    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert _is_signed_in(browser)


def test_the_lockout_is_per_username_and_address(manager, settings):
    # given
    settings.AXES_FAILURE_LIMIT = 3
    attacker = Client(REMOTE_ADDR="198.51.100.7")
    for n in range(3):
        _log_in(attacker, f"guess-{n}")

    # when
    colleague = Client(REMOTE_ADDR="198.51.100.8")
    response = _log_in(colleague, "right-password")

    # then
    assert response.status_code == 302
    assert _is_signed_in(colleague)


def test_the_lockout_ends_after_the_cool_off(manager, settings, time_machine):
    # given
    settings.AXES_FAILURE_LIMIT = 3
    browser = Client(REMOTE_ADDR="198.51.100.7")
    for n in range(3):
        _log_in(browser, f"guess-{n}")
    assert _log_in(browser, "right-password").status_code == 429

    # when
    time_machine.shift(settings.AXES_COOLOFF_TIME + timedelta(seconds=1))
    response = _log_in(browser, "right-password")

    # then
    assert response.status_code == 302
    assert _is_signed_in(browser)


def test_the_configured_lockout():
    # given
    from django.conf import settings

    # then
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AXES_HANDLER == "axes.handlers.database.AxesDatabaseHandler"
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"


def test_force_login_still_opens_the_admin(admin_client):
    # when
    response = admin_client.get("/admin/")

    # then
    assert response.status_code == 200
