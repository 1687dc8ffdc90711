"""The back office for webhooks: every page loads, secrets are shown once, the actions call the services."""

import re

import pytest
from django.contrib import messages

from tests.webhooks.helpers import closed_port_url, emit_customer_created
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.services.endpoints import webhook_endpoint_create, webhook_endpoint_disable

ENDPOINTS_URL = "/admin/webhooks/webhookendpoint/"
DELIVERIES_URL = "/admin/webhooks/webhookdelivery/"
EVENTS_URL = "/admin/webhooks/webhookevent/"


def _messages(response) -> list[tuple[int, str]]:
    """The messages shown on the page the post redirected to (post with follow=True); showing them uses them up."""
    return [(message.level, message.message) for message in response.context["messages"]]


def _act(admin_client, url: str, action: str, *pks: int):
    return admin_client.post(url, {"action": action, "_selected_action": list(pks)}, follow=True)


@pytest.fixture
def delivered(receiver, django_capture_on_commit_callbacks):
    """An endpoint that received one customer.created: (endpoint, secret, event, delivery)."""
    endpoint, secret = webhook_endpoint_create(url=receiver.url, event_types=["*"], description="warehouse")
    with django_capture_on_commit_callbacks(execute=True):
        event = emit_customer_created()
    return endpoint, secret, event, WebhookDelivery.objects.get()


@pytest.mark.django_db
def test_webhook_admin_pages_load(admin_client, delivered):
    # given
    endpoint, secret, event, delivery = delivered

    # when
    pages = {
        url: admin_client.get(url)
        for url in (
            ENDPOINTS_URL,
            f"{ENDPOINTS_URL}add/",
            f"{ENDPOINTS_URL}{endpoint.pk}/change/",
            DELIVERIES_URL,
            f"{DELIVERIES_URL}?status=succeeded&endpoint__id__exact={endpoint.pk}&event_type=customer.created",
            f"{DELIVERIES_URL}{delivery.pk}/change/",
            EVENTS_URL,
            f"{EVENTS_URL}?type=customer.created&q={event.entity_id}",
            f"{EVENTS_URL}{event.pk}/change/",
        )
    }

    # then
    assert {url: response.status_code for url, response in pages.items()} == dict.fromkeys(pages, 200)
    assert secret not in pages[f"{ENDPOINTS_URL}{endpoint.pk}/change/"].content.decode()
    assert list(pages[DELIVERIES_URL].context["cl"].result_list) == [delivery]
    filtered = pages[f"{DELIVERIES_URL}?status=succeeded&endpoint__id__exact={endpoint.pk}&event_type=customer.created"]
    assert list(filtered.context["cl"].result_list) == [delivery]
    change = pages[f"{DELIVERIES_URL}{delivery.pk}/change/"].content.decode()
    assert event.public_id in change
    assert "Lovelace" in change  # the payload as sent
    assert list(pages[f"{EVENTS_URL}?type=customer.created&q={event.entity_id}"].context["cl"].result_list) == [event]


@pytest.mark.django_db
@pytest.mark.parametrize("url", [EVENTS_URL, DELIVERIES_URL])
def test_search_finds_exact_event_ids_and_entity_ids_only(admin_client, url):
    # given: three events of two customers, and a delivery of each
    endpoint, _secret = webhook_endpoint_create(url=closed_port_url(), event_types=["*"], description="warehouse")
    first = emit_customer_created(customer_id="C000000000001")
    second = emit_customer_created(customer_id="C000000000001", version=2)
    other = emit_customer_created(customer_id="C000000000002")
    for event in (first, second, other):
        WebhookDelivery.objects.create(endpoint=endpoint, event=event)

    def found(term: str) -> set[str]:
        rows = admin_client.get(url, {"q": term}).context["cl"].result_list
        return {row.public_id if url == EVENTS_URL else row.event.public_id for row in rows}

    # when
    by_entity = found(" C000000000001 ")
    by_event = found(other.public_id)
    by_part = found("C00000000000")

    # then
    assert by_entity == {first.public_id, second.public_id}
    assert by_event == {other.public_id}
    assert by_part == set()


@pytest.mark.django_db
def test_deliveries_attempts_and_events_are_view_only(admin_client, delivered):
    # given
    _endpoint, _secret, event, delivery = delivered

    # when
    responses = [
        admin_client.get(f"{DELIVERIES_URL}add/"),
        admin_client.get(f"{EVENTS_URL}add/"),
        admin_client.post(f"{DELIVERIES_URL}{delivery.pk}/change/", {"status": "pending"}),
        admin_client.post(f"{EVENTS_URL}{event.pk}/delete/", {"post": "yes"}),
    ]

    # then
    assert [response.status_code for response in responses] == [403, 403, 403, 403]
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.SUCCEEDED
    assert WebhookEvent.objects.count() == 1


@pytest.mark.django_db
def test_adding_an_endpoint_with_antavo_payload_format(admin_client):
    # when
    admin_client.post(
        f"{ENDPOINTS_URL}add/",
        {"url": "https://pos.example.com/antavo", "event_types": ["coupon.claimed"], "payload_format": "antavo"},
    )

    # then
    assert WebhookEndpoint.objects.get().payload_format == "antavo"


def test_adding_an_endpoint_shows_its_secret_once(admin_client):
    # when
    response = admin_client.post(
        f"{ENDPOINTS_URL}add/",
        {"url": "https://hooks.example.com/crm", "description": "e-mail", "event_types": ["customer.created"]},
        follow=True,
    )

    # then
    endpoint = WebhookEndpoint.objects.get()
    assert response.redirect_chain == [(ENDPOINTS_URL, 302)]
    assert (endpoint.url, endpoint.description, endpoint.event_types) == (
        "https://hooks.example.com/crm",
        "e-mail",
        ["customer.created"],
    )
    assert _messages(response)[0] == (
        messages.SUCCESS,
        f"The signing secret of https://hooks.example.com/crm is {endpoint.secret}. Copy it now: it cannot be shown "
        "again. Verify deliveries with it as described in docs/webhooks.md.",
    )
    assert endpoint.secret not in admin_client.get(f"{ENDPOINTS_URL}{endpoint.pk}/change/").content.decode()


@pytest.mark.django_db
def test_editing_an_endpoint_goes_through_the_service(admin_client):
    # given
    endpoint, secret = webhook_endpoint_create(url="https://hooks.example.com/a", event_types=["customer.created"])

    # when
    response = admin_client.post(
        f"{ENDPOINTS_URL}{endpoint.pk}/change/",
        {"url": "https://hooks.example.com/b", "description": "moved", "event_types": ["*", "coupon.claimed"]},
    )
    refused = admin_client.post(
        f"{ENDPOINTS_URL}{endpoint.pk}/change/",
        {"url": "ftp://hooks.example.com/b", "description": "moved", "event_types": ["*"]},
    )

    # then
    endpoint.refresh_from_db()
    assert (response.status_code, refused.status_code) == (302, 200)
    assert (endpoint.url, endpoint.description, endpoint.event_types, endpoint.secret) == (
        "https://hooks.example.com/b",
        "moved",
        ["*"],
        secret,
    )


@pytest.mark.django_db
def test_endpoint_actions_ping_rotate_disable_and_re_enable(admin_client, receiver, django_capture_on_commit_callbacks):
    # given
    endpoint, old_secret = webhook_endpoint_create(url=receiver.url, event_types=["customer.created"])

    # when
    with django_capture_on_commit_callbacks(execute=True):
        ping = _act(admin_client, ENDPOINTS_URL, "send_test_ping", endpoint.pk)
    rotate = _act(admin_client, ENDPOINTS_URL, "rotate_secret", endpoint.pk)
    endpoint.refresh_from_db()
    rotated = (endpoint.secret, endpoint.previous_secret)
    disable = _act(admin_client, ENDPOINTS_URL, "disable", endpoint.pk)
    endpoint.refresh_from_db()
    disabled = (endpoint.is_active, endpoint.disabled_reason)
    refused_ping = _act(admin_client, ENDPOINTS_URL, "send_test_ping", endpoint.pk)
    re_enable = _act(admin_client, ENDPOINTS_URL, "re_enable", endpoint.pk)

    # then
    endpoint.refresh_from_db()
    ping_event = WebhookEvent.objects.get(type="webhook.ping")
    assert _messages(ping) == [
        (
            messages.INFO,
            f"Test ping {ping_event.public_id} queued for {receiver.url}; its result shows under Webhook deliveries.",
        )
    ]
    assert [request.headers["webhook-id"] for request in receiver.requests] == [ping_event.public_id]
    rotate_messages = _messages(rotate)
    assert rotate_messages[0] == (
        messages.SUCCESS,
        f"The signing secret of {receiver.url} is {rotated[0]}. Copy it now: it cannot be shown again. "
        "Verify deliveries with it as described in docs/webhooks.md.",
    )
    assert re.fullmatch(
        rf"Until \d{{4}}-\d\d-\d\dT\d\d:\d\d\+00:00 deliveries to {re.escape(receiver.url)} carry a signature "
        "with the old secret too.",
        rotate_messages[1][1],
    )
    assert rotated[1] == old_secret
    assert _messages(disable) == [(messages.INFO, "1 endpoints disabled.")]
    assert disabled == (False, "Disabled by admin.")
    assert _messages(refused_ping) == [(messages.ERROR, f"{receiver.url} is disabled: re-enable it first.")]
    assert _messages(re_enable) == [(messages.INFO, "1 endpoints re-enabled.")]
    assert (endpoint.is_active, endpoint.disabled_at, endpoint.disabled_reason) == (True, None, "")


@pytest.mark.django_db
def test_replay_action_resends_many_and_reports_what_it_could_not(
    admin_client, receiver, django_capture_on_commit_callbacks
):
    # given
    endpoint, _secret = webhook_endpoint_create(url=receiver.url, event_types=["*"])
    other, _secret = webhook_endpoint_create(url=closed_port_url(), event_types=["*"])
    with django_capture_on_commit_callbacks(execute=True):
        first = emit_customer_created(customer_id="C000000000001")
        second = emit_customer_created(customer_id="C000000000002")
    webhook_endpoint_disable(endpoint=other, reason="test")
    replayable = list(WebhookDelivery.objects.filter(endpoint=endpoint).values_list("pk", flat=True))
    refused = WebhookDelivery.objects.filter(endpoint=other).order_by("pk").first()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = _act(admin_client, DELIVERIES_URL, "replay", *replayable, refused.pk)

    # then
    assert sorted(_messages(response)) == [
        (messages.INFO, "2 deliveries queued for replay."),
        (messages.ERROR, f"Delivery {refused.pk}: its endpoint is disabled; re-enable it first."),
    ]
    assert sorted(request.headers["webhook-id"] for request in receiver.requests) == sorted(
        [first.public_id, first.public_id, second.public_id, second.public_id]
    )
