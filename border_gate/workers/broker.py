"""The one place the Dramatiq broker is built: RabbitMQ (BROKER_URL) or in-process (embedded)."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import (
    AgeLimit,
    AsyncIO,
    Callbacks,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

from border_gate.settings import Settings

#: Backoff between retries of a failing check: 0.5 s doubling up to 60 s (with jitter).
MIN_BACKOFF_MS = 500
MAX_BACKOFF_MS = 60_000


def build_broker(settings: Settings) -> dramatiq.Broker:
    """RabbitMQ with publisher confirms when BROKER_URL is set; an in-process broker otherwise.

    Both get the same middleware, so the actors behave the same: retries with backoff, a
    time limit well below RabbitMQ's consumer timeout (30 min by default), async actors on
    one event loop per process.
    """
    middleware = [
        AgeLimit(),
        TimeLimit(time_limit=settings.check_time_limit_ms),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        Retries(
            max_retries=settings.check_max_retries,
            min_backoff=MIN_BACKOFF_MS,
            max_backoff=MAX_BACKOFF_MS,
        ),
        AsyncIO(),
    ]
    broker: dramatiq.Broker
    if settings.broker_url:
        broker = RabbitmqBroker(
            url=settings.broker_url, confirm_delivery=True, middleware=middleware
        )
    else:
        broker = StubBroker(middleware=middleware)
        broker.emit_after("process_boot")
    dramatiq.set_broker(broker)
    return broker
