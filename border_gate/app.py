"""The Litestar application: routes, auth, problems, OpenAPI, and the platform's lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.config.response_cache import ResponseCacheConfig
from litestar.di import Provide
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin

from border_gate.api.http import provide_platform
from border_gate.api.problems import EXCEPTION_HANDLERS
from border_gate.declarations.controller import DeclarationController
from border_gate.documents.controller import DocumentController
from border_gate.fees.controller import FeeController
from border_gate.gates.controller import GateController
from border_gate.health import HealthController
from border_gate.identity.auth import RecentUsers, build_jwt_auth
from border_gate.identity.controller import IdentityController
from border_gate.notifications.controller import WebhookController
from border_gate.platform import Platform, build_platform
from border_gate.queue.controller import BookingController, GateQueueController
from border_gate.reports.controller import OpenDataController, ReportController
from border_gate.screening.controller import CheckFailureController, WatchlistController
from border_gate.settings import Settings, load_settings
from border_gate.web import web_plugin

log = logging.getLogger("border_gate")

#: Hooks that start and stop background parts (workers, relay) with the app.
LifespanHook = Callable[[Platform], Any]


def route_handlers() -> list[Any]:
    return [
        HealthController,
        IdentityController,
        GateController,
        DeclarationController,
        WatchlistController,
        CheckFailureController,
        DocumentController,
        ReportController,
        OpenDataController,
        FeeController,
        WebhookController,
        BookingController,
        GateQueueController,
    ]


def create_app(
    settings: Settings | None = None,
    *,
    platform: Platform | None = None,
    background: list[Callable[[Platform], Any]] | None = None,
) -> Litestar:
    """Build the app. `platform` may be given (tests); otherwise it is built at start-up."""
    settings = settings or (platform.settings if platform else load_settings())
    jwt_auth = build_jwt_auth(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        own = platform is None
        running = platform or build_platform(settings)
        app.state.platform = running
        app.state.jwt_auth = jwt_auth
        app.state.recent_users = RecentUsers()
        stoppers = []
        for start in background or []:
            stop = await start(running)
            if stop is not None:
                stoppers.append(stop)
        try:
            yield
        finally:
            for stop in reversed(stoppers):
                await stop()
            if own:
                await running.close()

    return Litestar(
        route_handlers=route_handlers(),
        dependencies={"platform": Provide(provide_platform, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,
        on_app_init=[jwt_auth.on_app_init],
        plugins=[web_plugin(settings)],  # the pages: border_gate/web/
        lifespan=[lifespan],
        request_max_body_size=settings.max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="Cửa khẩu số — Digital Border Gate API",
            version="1.0.0",
            description="One declaration per truck, shared by customs, quarantine, border guard "
            "and the yard. Errors are RFC 9457 problem details. Times are ISO 8601 with the "
            "gate's offset.",
            path="/schema",
            render_plugins=[SwaggerRenderPlugin(), ScalarRenderPlugin()],
        ),
        logging_config=LoggingConfig(
            root={"level": settings.log_level, "handlers": ["queue_listener"]},
            # WeasyPrint logs every step of every render at INFO: noise beside our own lines.
            loggers={"weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
            log_exceptions="never",
        ),
        response_cache_config=ResponseCacheConfig(),
        debug=False,
    )
