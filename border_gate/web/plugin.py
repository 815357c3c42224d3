"""Mounting the pages on the app: one router (session, CSRF, guard, error pages), static files, templates."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from litestar import Router
from litestar.config.app import AppConfig
from litestar.exceptions import HTTPException
from litestar.middleware import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.plugins import InitPlugin
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from border_gate.queue.pages import BookingPages, QuotaPages, WaitingAreaPages
from border_gate.settings import Settings
from border_gate.web.auth import AuthPages
from border_gate.web.dashboard import DashboardPages
from border_gate.web.declarations import DeclarationPages
from border_gate.web.documents import DocumentPages
from border_gate.web.errors import PAGE_EXCEPTION_HANDLERS, pages_or_api
from border_gate.web.queue import QueuePage
from border_gate.web.render import STATIC, template_engine
from border_gate.web.session import PageSessionMiddleware, csrf_config, page_access
from border_gate.web.watchlist import WatchlistPages
from border_gate.web.yard import YardPages

PAGE_CONTROLLERS = [
    AuthPages,
    DeclarationPages,
    QueuePage,
    YardPages,
    WatchlistPages,
    DashboardPages,
    DocumentPages,
    WaitingAreaPages,
    QuotaPages,
    BookingPages,
]


def pages_router(settings: Settings) -> Router:
    """Every page route: session cookie and CSRF here only, so the JSON API is untouched."""
    return Router(
        path="/",
        route_handlers=PAGE_CONTROLLERS,
        guards=[page_access],
        middleware=[
            DefineMiddleware(PageSessionMiddleware, settings=settings),
            DefineMiddleware(CSRFMiddleware, config=csrf_config(settings)),
        ],
        exception_handlers=PAGE_EXCEPTION_HANDLERS,
        # The API's bearer-token middleware skips these routes: pages sign in with the session.
        opt={"exclude_from_auth": True},
        include_in_schema=False,
    )


class WebPlugin(InitPlugin):
    """Adds the pages to an app built by border_gate.app.create_app."""

    def __init__(self, settings: Settings, extra_template_dirs: Iterable[Path] = ()) -> None:
        self.settings = settings
        self.extra_template_dirs = tuple(extra_template_dirs)

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.extend(
            [
                pages_router(self.settings),
                create_static_files_router(
                    path="/static",
                    directories=[STATIC],
                    opt={"exclude_from_auth": True},
                    include_in_schema=False,
                ),
            ]
        )
        app_config.template_config = TemplateConfig(
            instance=template_engine(self.extra_template_dirs)
        )
        # Paths no route matches: problem+json under /api (as before), a friendly page elsewhere.
        # A new mapping: the one given to Litestar is the API's module-level dict, shared by
        # every app built in this process.
        handlers = dict(app_config.exception_handlers)
        for error in (HTTPException, Exception):
            handlers[error] = pages_or_api(handlers.get(error))
        app_config.exception_handlers = handlers
        return app_config


def web_plugin(settings: Settings, extra_template_dirs: Iterable[Path] = ()) -> WebPlugin:
    """The pages as one plugin: `Litestar(..., plugins=[web_plugin(settings)])`."""
    return WebPlugin(settings, extra_template_dirs)
