import io

import pytest
from django.core.management import CommandError, call_command

from webhooks.models import WebhookEndpoint


@pytest.mark.django_db
def test_prints_only_the_secret():
    # given
    stdout = io.StringIO()

    # when
    call_command(
        "create_webhook_endpoint",
        "https://hooks.example.com/crm",
        "--events",
        "customer.created,loyalty.points_changed",
        stdout=stdout,
    )

    # then
    secret = stdout.getvalue().strip()
    assert stdout.getvalue() == secret + "\n"
    assert secret.startswith("whsec_")
    assert len(secret) == 50
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.url, endpoint.event_types, endpoint.secret, endpoint.is_active) == (
        "https://hooks.example.com/crm",
        ["customer.created", "loyalty.points_changed"],
        secret,
        True,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "events", "message"),
    [
        (
            "https://hooks.example.com/crm",
            "customer.created,customer.deleted",
            "Unknown event types: customer.deleted. Known event types: customer.created, customer.updated, "
            "customer.erased, loyalty.enrolled, loyalty.opted_out, loyalty.points_changed, loyalty.tier_changed, "
            "coupon.issued, coupon.claimed, coupon.redeemed, purchase.accepted, purchase.refunded.",
        ),
        ("https://hooks.example.com/crm", "", "Give at least one event type with --events (or * for all)."),
        ("not a url", "*", "url: Enter a valid URL."),
    ],
)
def test_refuses_bad_input_and_creates_nothing(url, events, message):
    # given
    stdout = io.StringIO()

    # when
    with pytest.raises(CommandError) as error:
        call_command("create_webhook_endpoint", url, "--events", events, stdout=stdout)

    # then
    assert str(error.value) == message
    assert stdout.getvalue() == ""
    assert WebhookEndpoint.objects.count() == 0
