"""No task message for an event no endpoint receives (webhook_event_has_receivers), and the sweeper that makes good a
process's stale copy of the endpoints."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.webhooks.helpers import emit_customer_created, endpoint_create_before
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from webhooks.selectors import receiving_cache
from webhooks.services.deliveries import SweepResult, webhook_deliveries_sweep
from webhooks.services.endpoints import webhook_endpoint_create, webhook_endpoint_disable, webhook_endpoint_update
from webhooks.signing import secret_generate

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def emit_and_capture(django_capture_on_commit_callbacks) -> tuple[WebhookEvent, list]:
    with time_machine.travel(START, tick=False), django_capture_on_commit_callbacks(execute=False) as callbacks:
        event = emit_customer_created()
    return event, callbacks


def sweep_after_grace(django_capture_on_commit_callbacks) -> SweepResult:
    with (
        time_machine.travel(START + timedelta(seconds=30), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        return webhook_deliveries_sweep()


def endpoint_created_by_another_process(*, url: str, event_types: list[str]) -> WebhookEndpoint:
    """Written without the service, as another web process's write looks to this one: this process's cached copy
    of the endpoints is not cleared."""
    with time_machine.travel(START - timedelta(minutes=1), tick=False):
        return WebhookEndpoint.objects.create(url=url, event_types=event_types, secret=secret_generate())


@pytest.mark.django_db
def test_an_event_no_endpoint_receives_queues_no_task_and_the_sweeper_marks_it(django_capture_on_commit_callbacks):
    # when
    event, callbacks = emit_and_capture(django_capture_on_commit_callbacks)
    result = sweep_after_grace(django_capture_on_commit_callbacks)

    # then
    assert callbacks == []
    assert result == SweepResult(reclaimed=0, events_queued=0, deliveries_queued=0, events_without_receivers=1)
    event.refresh_from_db()
    assert event.fanned_out_at == START + timedelta(seconds=30)
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_an_endpoint_of_other_types_or_created_after_the_event_does_not_receive_it(
    django_capture_on_commit_callbacks,
):
    # given: one endpoint for another type, one created after the event occurred
    endpoint_create_before(START, url="https://a.example/hooks", event_types=["loyalty.points_changed"])
    endpoint_create_before(START + timedelta(minutes=2), url="https://b.example/hooks", event_types=["*"])

    # when
    event, callbacks = emit_and_capture(django_capture_on_commit_callbacks)
    result = sweep_after_grace(django_capture_on_commit_callbacks)

    # then
    assert callbacks == []
    assert result == SweepResult(reclaimed=0, events_queued=0, deliveries_queued=0, events_without_receivers=1)
    assert not WebhookDelivery.objects.exists()


@pytest.mark.django_db
def test_a_subscribed_endpoint_gets_the_task_at_once(receiver, django_capture_on_commit_callbacks):
    # given
    endpoint, _secret = endpoint_create_before(START, url=receiver.url, event_types=["customer.created"])

    # when
    event, callbacks = emit_and_capture(django_capture_on_commit_callbacks)

    # then
    assert [callback.__qualname__ for callback in callbacks] == ["enqueue_after_commit.<locals>.send_task_after_commit"]
    assert WebhookEvent.objects.get(pk=event.pk).fanned_out_at is None


@pytest.mark.django_db
def test_an_endpoint_created_in_this_process_is_seen_by_the_next_event(django_capture_on_commit_callbacks):
    # given: the copy was read while there was no endpoint
    _first, callbacks_before = emit_and_capture(django_capture_on_commit_callbacks)
    endpoint_create_before(START, url="https://a.example/hooks", event_types=["*"])

    # when
    _second, callbacks_after = emit_and_capture(django_capture_on_commit_callbacks)

    # then
    assert (len(callbacks_before), len(callbacks_after)) == (0, 1)


@pytest.mark.django_db
def test_an_endpoint_disabled_or_unsubscribed_in_this_process_no_longer_costs_a_task(
    django_capture_on_commit_callbacks,
):
    # given
    endpoint, _secret = endpoint_create_before(START, url="https://a.example/hooks", event_types=["*"])
    _first, callbacks_subscribed = emit_and_capture(django_capture_on_commit_callbacks)
    webhook_endpoint_update(endpoint=endpoint, url=endpoint.url, event_types=["loyalty.points_changed"], description="")
    _second, callbacks_unsubscribed = emit_and_capture(django_capture_on_commit_callbacks)
    webhook_endpoint_update(endpoint=endpoint, url=endpoint.url, event_types=["*"], description="")

    # when
    webhook_endpoint_disable(endpoint=endpoint, reason="test")
    _third, callbacks_disabled = emit_and_capture(django_capture_on_commit_callbacks)

    # then
    assert (len(callbacks_subscribed), len(callbacks_unsubscribed), len(callbacks_disabled)) == (1, 0, 0)


@pytest.mark.django_db
def test_an_endpoint_another_process_created_within_the_cache_lifetime_still_gets_the_event_from_the_sweeper(
    receiver, django_capture_on_commit_callbacks
):
    # given: this process read the endpoints while there were none; another process then created one (a minute
    # before START, so it receives both events)
    first, _callbacks = emit_and_capture(django_capture_on_commit_callbacks)
    endpoint = endpoint_created_by_another_process(url=receiver.url, event_types=["customer.created"])

    # when: an event from this process's stale copy, then the sweep
    second, callbacks = emit_and_capture(django_capture_on_commit_callbacks)
    result = sweep_after_grace(django_capture_on_commit_callbacks)

    # then: no task at the time, both delivered by the sweep
    assert callbacks == []
    assert result == SweepResult(reclaimed=0, events_queued=2, deliveries_queued=0, events_without_receivers=0)
    assert sorted(WebhookDelivery.objects.values_list("endpoint", "event", "status")) == [
        (endpoint.pk, first.pk, WebhookDelivery.Status.SUCCEEDED),
        (endpoint.pk, second.pk, WebhookDelivery.Status.SUCCEEDED),
    ]
    assert sorted(request.headers["webhook-id"] for request in receiver.requests) == sorted(
        [first.public_id, second.public_id]
    )


@pytest.mark.django_db
def test_the_copy_is_read_again_once_its_lifetime_is_over(settings, django_capture_on_commit_callbacks):
    # given: a copy read with no endpoint, then an endpoint created elsewhere
    emit_and_capture(django_capture_on_commit_callbacks)
    endpoint_created_by_another_process(url="https://a.example/hooks", event_types=["*"])
    _stale, callbacks_stale = emit_and_capture(django_capture_on_commit_callbacks)

    # when: the lifetime is over (0 s here; 5 s by default)
    settings.WEBHOOK_RECEIVERS_CACHE_SECONDS = 0
    _fresh, callbacks_fresh = emit_and_capture(django_capture_on_commit_callbacks)

    # then
    assert (len(callbacks_stale), len(callbacks_fresh)) == (0, 1)


@pytest.mark.django_db
def test_emitting_with_the_copy_read_costs_one_insert(django_assert_num_queries, django_capture_on_commit_callbacks):
    # given
    webhook_endpoint_create(url="https://a.example/hooks", event_types=["loyalty.points_changed"])
    emit_and_capture(django_capture_on_commit_callbacks)

    # when
    with django_assert_num_queries(1) as queries:
        emit_customer_created(customer_id="C000000000002")

    # then: the event's insert in the caller's transaction (no savepoint of its own), no read of the endpoints
    assert [query["sql"].split()[0] for query in queries.captured_queries] == ["INSERT"]
    assert receiving_cache.endpoints()[0].event_types == ("loyalty.points_changed",)
