"""The running platform's shared parts, built once per process (or per event loop)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from border_gate.db.engine import create_engine, session_factory
from border_gate.db.uow import UnitOfWork
from border_gate.gates import GateRegistry, load_gates
from border_gate.settings import Settings


def utc_now() -> datetime:
    return datetime.now(UTC)


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

    platform.transition_hooks.append(documents_hook)
    return platform
