"""Errors of the application layer, each with a stable code and a message in both languages.

They are mapped to RFC 9457 problem details in one place (border_gate/api/problems.py),
together with the workflow's own errors.
"""

from __future__ import annotations


class ApplicationError(Exception):
    code = "error"
    status = 400

    def __init__(self, vi: str, en: str, *, field: str | None = None, **context: object) -> None:
        super().__init__(f"{vi} / {en}")
        self.vi = vi
        self.en = en
        self.field = field
        self.context = context


class NotFound(ApplicationError):
    code = "not-found"
    status = 404


class Conflict(ApplicationError):
    code = "conflict"
    status = 409


class PreconditionFailed(ApplicationError):
    """If-Match named a version that is not the current one."""

    code = "precondition-failed"
    status = 412


class PreconditionRequired(ApplicationError):
    code = "precondition-required"
    status = 428


class InvalidInput(ApplicationError):
    code = "invalid-input"
    status = 422


class Unauthorized(ApplicationError):
    code = "unauthorized"
    status = 401


class Forbidden(ApplicationError):
    code = "forbidden"
    status = 403


class TooManyAttempts(ApplicationError):
    code = "too-many-attempts"
    status = 429


class Unavailable(ApplicationError):
    code = "unavailable"
    status = 503


def declaration_not_found(declaration_id: str) -> NotFound:
    shown = declaration_id if declaration_id.isprintable() and len(declaration_id) <= 40 else "?"
    return NotFound(f"Không tìm thấy tờ khai {shown}", f"declaration {shown} not found")
