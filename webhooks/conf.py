"""Webhook settings, read from django.conf.settings at call time (so tests can override them), with defaults.

Declare them in config/settings/base.py to change them from the environment; every name here works unset.
"""

from datetime import timedelta

from django.conf import settings

# Seconds to wait before each attempt, counted from the failure of the one before: the first is immediate.
# Eight attempts spread over about 27.6 hours, the Standard Webhooks / Svix ladder.
DEFAULT_RETRY_SCHEDULE = (0, 5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
DEFAULT_TIMEOUTS = {"connect": 5.0, "read": 15.0}


def retry_schedule() -> tuple[int, ...]:
    return tuple(getattr(settings, "WEBHOOK_RETRY_SCHEDULE", DEFAULT_RETRY_SCHEDULE))


def timeouts() -> dict[str, float]:
    """Explicit connect and read timeouts for one delivery, in seconds."""
    return {**DEFAULT_TIMEOUTS, **getattr(settings, "WEBHOOK_TIMEOUTS", {})}


def disable_after() -> timedelta:
    """An endpoint whose deliveries have failed without a success for this long is disabled."""
    return timedelta(days=getattr(settings, "WEBHOOK_DISABLE_AFTER_DAYS", 5))


def secret_overlap() -> timedelta:
    """After a rotation, the previous secret still signs deliveries for this long."""
    return timedelta(hours=getattr(settings, "WEBHOOK_SECRET_OVERLAP_HOURS", 24))


def stuck_after() -> timedelta:
    """A delivery claimed this long ago without a result was lost with its worker. Keep it well above the send
    task's hard time limit, or the sweeper would reclaim deliveries that are still being sent."""
    return timedelta(seconds=getattr(settings, "WEBHOOK_STUCK_AFTER_SECONDS", 300))


def sweep_grace() -> timedelta:
    """How long a due delivery or an event waits for its own task message before the sweeper takes it over."""
    return timedelta(seconds=getattr(settings, "WEBHOOK_SWEEP_GRACE_SECONDS", 30))


def sweep_batch_size() -> int:
    return getattr(settings, "WEBHOOK_SWEEP_BATCH_SIZE", 500)


def max_countdown() -> int:
    """Retries due within this many seconds are queued with a countdown; later ones are left to the sweeper,
    because brokers handle long ETAs badly (Redis redelivers them after its visibility timeout)."""
    return getattr(settings, "WEBHOOK_MAX_COUNTDOWN_SECONDS", 300)


def receivers_cache_seconds() -> float:
    """How long a process trusts its copy of which endpoints exist before reading them again
    (webhooks.selectors.webhook_event_has_receivers). An endpoint created elsewhere is seen by then."""
    return float(getattr(settings, "WEBHOOK_RECEIVERS_CACHE_SECONDS", 5))
