"""Liveness and readiness probes."""

from __future__ import annotations

from litestar import Controller, get
from msgspec import Struct
from sqlalchemy import text

from border_gate.errors import Unavailable
from border_gate.platform import Platform


class HealthOut(Struct, frozen=True):
    status: str
    database: str | None = None


class HealthController(Controller):
    path = "/health"
    tags = ["health"]
    opt = {"exclude_from_auth": True}

    @get("/live", summary="The process is up")
    async def live(self) -> HealthOut:
        return HealthOut(status="ok")

    @get("/ready", summary="The process can serve: the database answers")
    async def ready(self, platform: Platform) -> HealthOut:
        try:
            async with platform.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:  # any failure means not ready; say which
            raise Unavailable(
                "Cơ sở dữ liệu không phản hồi",
                f"the database is not answering ({type(exc).__name__})",
            ) from None
        return HealthOut(status="ok", database="ok")
