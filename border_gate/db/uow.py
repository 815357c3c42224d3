"""The unit of work: one session, one transaction, the repositories that share it."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from border_gate.db.repository import DeclarationRepository
from border_gate.messaging.outbox import Outbox


class UnitOfWork:
    """`async with UnitOfWork(sessions) as uow: ...; await uow.commit()` — rollback otherwise."""

    session: AsyncSession
    declarations: DeclarationRepository
    outbox: Outbox

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessions()
        self.declarations = DeclarationRepository(self.session)
        self.outbox = Outbox(self.session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() ends any open transaction without expiring what was read, so rows loaded
        # here stay readable after the block; on an error we roll back explicitly first.
        try:
            if exc_type is not None:
                await self.session.rollback()
        finally:
            await self.session.close()

    async def commit(self) -> None:
        await self.session.commit()
