"""Errors on the pages: a friendly bilingual page with the right status, never a stack trace."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)

from border_gate.errors import ApplicationError
from border_gate.web import i18n
from border_gate.web.render import render
from border_gate.web.session import LoginRequired, login_url
from workflows import errors as workflow_errors
from workflows.definitions import DefinitionError

log = logging.getLogger("border_gate.web")

#: The same statuses the API gives the workflow's refusals (border_gate/api/problems.py).
_WORKFLOW_STATUS: list[tuple[type[workflow_errors.WorkflowError], int]] = [
    (workflow_errors.NotVisible, 404),
    (workflow_errors.NotPermitted, 403),
    (workflow_errors.StageNotInWorkflow, 422),
    (workflow_errors.ReasonRequired, 422),
]

#: Paths that belong to the JSON API and its documentation: their errors stay problem+json.
API_PREFIXES = ("/api/", "/api", "/schema", "/health")


def workflow_status(exc: workflow_errors.WorkflowError) -> int:
    return next((s for cls, s in _WORKFLOW_STATUS if isinstance(exc, cls)), 409)


def error_page(
    request: Request[Any, Any, Any],
    status: int,
    pair: tuple[str, str],
    *,
    detail: tuple[str, str] | None = None,
    error_id: str | None = None,
    role_page: bool = False,
) -> Response[Any]:
    return render(
        request,
        "error.html",
        status=status,
        status_code=status,
        headline=pair,
        detail=detail,
        error_id=error_id,
        role_page=role_page,
    )


def _text(key: str) -> tuple[str, str]:
    return i18n.TEXTS[key]


def on_login_required(request: Request[Any, Any, Any], exc: LoginRequired) -> Response[Any]:
    from litestar.response import Redirect

    return Redirect(path=login_url(exc.next_path, expired=exc.expired), status_code=303)


def on_application_error(request: Request[Any, Any, Any], exc: ApplicationError) -> Response[Any]:
    headline = {
        404: _text("error.not_found"),
        403: _text("error.forbidden"),
    }.get(exc.status, _text("error.title"))
    # The pages' guard names the role it refused: say which role this person has.
    role_page = exc.status == 403 and "role" in exc.context
    return error_page(request, exc.status, headline, detail=(exc.vi, exc.en), role_page=role_page)


def on_workflow_error(
    request: Request[Any, Any, Any], exc: workflow_errors.WorkflowError
) -> Response[Any]:
    status = workflow_status(exc)
    headline = {404: _text("error.not_found"), 403: _text("error.not_permitted")}.get(
        status, _text("decide.refused")
    )
    return error_page(request, status, headline, detail=(exc.vi, exc.en))


def on_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if isinstance(exc, PermissionDeniedException) and "CSRF" in str(exc.detail):
        return error_page(request, 403, _text("error.csrf"))
    if isinstance(exc, PermissionDeniedException):
        return error_page(request, 403, _text("error.forbidden"))
    if isinstance(exc, NotFoundException):
        return error_page(request, 404, _text("error.not_found"))
    if isinstance(exc, MethodNotAllowedException):
        return error_page(request, 405, _text("error.method"))
    if exc.status_code == 413:
        return error_page(request, 413, _text("error.too_large"))
    if isinstance(exc, ValidationException) or 400 <= exc.status_code < 500:
        return error_page(request, exc.status_code, _text("error.bad_request"))
    return on_unexpected(request, exc)


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    error_id = uuid.uuid4().hex[:12]
    log.error("page error %s on %s %s", error_id, request.method, request.url.path, exc_info=exc)
    try:
        return error_page(request, 500, _text("error.internal"), error_id=error_id)
    except Exception:  # the error page itself failed: plain text, still no traceback
        return Response(
            content=f"Lỗi hệ thống / internal error: {error_id}",
            status_code=500,
            media_type="text/plain; charset=utf-8",
        )


def on_bad_input(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Input no page form sends (hand-made requests): a plain 400, never the API's JSON."""
    return error_page(request, 400, _text("error.bad_request"))


#: A route's handlers merge the app's (the API's, keyed by exception type) with these, and
#: the most specific type wins: so every type the API maps is mapped here too, or a page
#: would answer with the API's problem+json. tests/unit/test_pages_texts.py checks it.
PAGE_EXCEPTION_HANDLERS: dict[int | type[Exception], Any] = {
    LoginRequired: on_login_required,
    ApplicationError: on_application_error,
    workflow_errors.WorkflowError: on_workflow_error,
    HTTPException: on_http_error,
    ValidationException: on_http_error,
    msgspec.ValidationError: on_bad_input,
    msgspec.DecodeError: on_bad_input,
    RecursionError: on_bad_input,
    DefinitionError: on_unexpected,
    Exception: on_unexpected,
}


def is_api_path(path: str) -> bool:
    return path == "/api" or path.startswith(API_PREFIXES)


def pages_or_api(
    api_handler: Callable[[Request[Any, Any, Any], Exception], Response[Any]] | None,
) -> Callable[[Request[Any, Any, Any], Exception], Response[Any]]:
    """For requests no route matched: the API's problem+json under /api, a page elsewhere."""

    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        if is_api_path(request.url.path) and api_handler is not None:
            return api_handler(request, exc)
        if isinstance(exc, HTTPException):
            return on_http_error(request, exc)
        return on_unexpected(request, exc)

    return handle
