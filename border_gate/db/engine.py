"""Building the async engine and sessions for PostgreSQL (asyncpg) or SQLite (aiosqlite)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def create_engine(database_url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An engine for `database_url` (already mapped to an async driver by settings)."""
    if database_url.startswith("sqlite"):
        path = database_url.split(":///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(database_url, connect_args={"timeout": 60})
        _sqlite_pragmas(engine)
        return engine
    return create_async_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        pool_pre_ping=True,
        pool_recycle=1800,
    )


def _sqlite_pragmas(engine: AsyncEngine) -> None:
    """WAL, foreign keys, a long busy timeout, and BEGIN IMMEDIATE.

    SQLite upgrades a reading transaction to a writing one by failing at once when another
    writer holds the lock; taking the write lock at BEGIN makes writers queue politely
    behind busy_timeout instead. The embedded default has one user at a time, so the
    serialisation costs nothing that matters.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
