"""What actors need in a worker process: a platform bound to the actors' event loop, rules."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from border_gate.platform import Platform, build_platform, utc_now
from border_gate.screening.rules import ScreeningRules, load_screening_rules
from border_gate.settings import Settings


class WorkerContext:
    """Built once per worker process; the platform is created lazily inside the actors' loop.

    Async actors all run on Dramatiq's one event-loop thread, so a single engine (whose
    connections belong to that loop) serves every actor of the process.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        outbox_listeners: list[Callable[[], None]] | None = None,
        clock: Callable[[], datetime] = utc_now,
        configure: Callable[[Platform], None] | None = None,
    ) -> None:
        self.settings = settings
        self.rules: ScreeningRules = load_screening_rules(settings)
        self._listeners = outbox_listeners if outbox_listeners is not None else []
        self._clock = clock
        self._configure = configure
        self._platform: Platform | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def platform(self) -> Platform:
        loop = asyncio.get_running_loop()
        if self._platform is None or self._loop is not loop:
            platform = build_platform(self.settings, pool_size=5)
            platform.clock = self._clock
            platform.outbox_listeners = self._listeners
            if self._configure is not None:
                self._configure(platform)
            self._platform, self._loop = platform, loop
        return self._platform

    async def close(self) -> None:
        if self._platform is not None:
            await self._platform.close()
            self._platform = None
