"""The running platform's shared parts, built once per process (or per event loop)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from border_gate.db.engine import create_engine, session_factory
from border_gate.db.uow import UnitOfWork
from border_gate.gates import GateRegistry, load_gates
from border_gate.settings import Settings


def utc_now() -> datetime:
    return datetime.now(UTC)


#: While a worker handles a message: the time its work was requested plus the real time
#: that has passed since. With the real clock everywhere that is simply now; when the
#: simulator runs a compressed clock, automated results land right after what caused them.
_message_clock: ContextVar[Callable[[], datetime] | None] = ContextVar(
    "message_clock", default=None
)


@contextmanager
def message_time(requested_at: str | None, requested_real: str | None) -> Iterator[None]:
    """Within this block `Platform.now()` follows the message's own clock (see above)."""
    if not requested_at or not requested_real:
        yield
        return
    at = datetime.fromisoformat(requested_at)
    real = datetime.fromisoformat(requested_real)
    token = _message_clock.set(lambda: at + max(utc_now() - real, timedelta(0)))
    try:
        yield
    finally:
        _message_clock.reset(token)


@dataclass
class Platform:
    """Settings, gates, the database and the clock: what every application service needs."""

    settings: Settings
    gates: GateRegistry
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Callable[[], datetime] = utc_now
    #: Called after a commit that wrote outbox rows, to wake an in-process relay.
    outbox_listeners: list[Callable[[], None]] = field(default_factory=list)
    #: Run inside each transition's transaction, after its state and events are written
    #: (e.g. document revocation, report rollups): (uow, before, after, events).
    transition_hooks: list[Callable[..., Awaitable[None]]] = field(default_factory=list)
    #: Background parts running in this process (relay, broker, worker), for probes and tests.
    background: dict[str, Any] = field(default_factory=dict)
    #: Things loaded once on first use (the signing authority, the document store).
    cache: dict[str, Any] = field(default_factory=dict)

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.sessions)

    def now(self) -> datetime:
        """The time to stamp on what happens now: the message's clock in a worker, else ours."""
        override = _message_clock.get()
        return override() if override is not None else self.clock()

    def authority(self) -> Any:
        """The gate authority that signs documents (created on first use if embedded)."""
        if "authority" not in self.cache:
            from border_gate.documents.authority import load_or_create_authority

            self.cache["authority"] = load_or_create_authority(
                self.settings.data_dir,
                self.settings.authority_key_file,
                self.settings.authority_cert_file,
            )
        return self.cache["authority"]

    def document_store(self) -> Any:
        if "document_store" not in self.cache:
            from border_gate.documents.store import build_store

            self.cache["document_store"] = build_store(self.settings)
        return self.cache["document_store"]

    def outbox_written(self) -> None:
        for listener in self.outbox_listeners:
            listener()

    async def close(self) -> None:
        await self.engine.dispose()


def build_platform(settings: Settings, *, pool_size: int = 10) -> Platform:
    gates = load_gates(settings.gates_file)
    engine = create_engine(settings.database_url, pool_size=pool_size)
    platform = Platform(
        settings=settings, gates=gates, engine=engine, sessions=session_factory(engine)
    )
    from border_gate.documents.service import documents_hook
    from border_gate.fees.service import fees_hook
    from border_gate.fees.tariff import load_tariff
    from border_gate.notifications.service import notifications_hook
    from border_gate.queue.service import queue_config, queue_hook
    from border_gate.reports.rollups import rollup_hook

    # A bad tariff fails here, at start-up, naming the rule and the fault.
    tariff = load_tariff(settings.fee_tariff_file, gates.codes)
    platform.cache["tariff"] = tariff
    platform.transition_hooks.append(documents_hook)
    platform.transition_hooks.append(rollup_hook)
    platform.transition_hooks.append(fees_hook(platform, tariff))
    queue_config(platform)  # a wrong queue file stops start-up here
    platform.transition_hooks.append(queue_hook(platform))
    platform.transition_hooks.append(notifications_hook(platform))
    return platform
