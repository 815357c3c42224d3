"""Every error becomes an RFC 9457 problem (application/problem+json), mapped here only.

A problem has a stable `type` (/problems/<code>), a `title`, the HTTP `status`, a `detail`
in Vietnamese and English, and, for bad input, the offending `field` and every `errors`
entry. Unexpected failures answer 500 with an id to quote to support, never a traceback.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    ClientException,
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from border_gate.errors import ApplicationError
from workflows import errors as workflow_errors
from workflows.definitions import DefinitionError

log = logging.getLogger("border_gate.api")

PROBLEM_JSON = "application/problem+json"

_WORKFLOW_STATUS: list[tuple[type[workflow_errors.WorkflowError], int]] = [
    (workflow_errors.NotVisible, 404),
    (workflow_errors.NotPermitted, 403),
    (workflow_errors.StageNotInWorkflow, 422),
    (workflow_errors.ReasonRequired, 422),
    (workflow_errors.StaleVersion, 409),
    (workflow_errors.StaleScreening, 409),
    (workflow_errors.InvalidTransition, 409),
]

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    428: "Precondition Required",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class FieldError(msgspec.Struct, frozen=True):
    field: str
    message: str


def problem(
    status: int,
    code: str,
    vi: str,
    en: str,
    *,
    request: Request[Any, Any, Any] | None = None,
    field: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": f"{vi} / {en}" if vi != en else en,
        "detail_vi": vi,
        "detail_en": en,
        "code": code,
    }
    if request is not None:
        body["instance"] = request.url.path
    if field is not None:
        body["field"] = field
    if errors:
        body["errors"] = [msgspec.to_builtins(e) for e in errors]
    for key, value in (extra or {}).items():
        if value is None:
            continue
        # context named like a standard member (e.g. a declaration's status) is prefixed
        body[key if key not in body else f"context_{key}"] = value
    return Response(content=body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


# --- Translating validation messages -------------------------------------------------------

_MESSAGES_VI: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^Object missing required field `(.+)`$"), r"Thiếu trường bắt buộc `\1`"),
    (re.compile(r"^Object contains unknown field `(.+)`$"), r"Trường không được phép `\1`"),
    (re.compile(r"^Expected `(\w+)`, got `(\w+)`$"), r"Cần kiểu `\1`, nhận được `\2`"),
    (re.compile(r"^Expected `(\w+)` >= (.+)$"), r"Cần `\1` ≥ \2"),
    (re.compile(r"^Expected `(\w+)` > (.+)$"), r"Cần `\1` > \2"),
    (re.compile(r"^Expected `(\w+)` <= (.+)$"), r"Cần `\1` ≤ \2"),
    (re.compile(r"^Expected `str` of length >= (\d+)$"), r"Cần chuỗi dài ít nhất \1 ký tự"),
    (re.compile(r"^Expected `str` of length <= (\d+)$"), r"Cần chuỗi dài tối đa \1 ký tự"),
    (re.compile(r"^Expected `array` of length >= (\d+)$"), r"Cần ít nhất \1 phần tử"),
    (re.compile(r"^Expected `array` of length <= (\d+)$"), r"Tối đa \1 phần tử"),
    (re.compile(r"^Expected `str` matching regex (.+)$"), r"Sai định dạng (mẫu \1)"),
    (re.compile(r"^Invalid enum value (.+)$"), r"Giá trị không hợp lệ \1"),
    (re.compile(r"^Invalid RFC3339 encoded datetime$"), "Thời gian không đúng định dạng ISO 8601"),
    (re.compile(r"^Expected `datetime` with a timezone component$"), "Thời gian phải có múi giờ"),
]


_CONTROL_CHARACTERS = "must not contain control characters (NUL, escapes)"


def _readable(message: str) -> str:
    if "matching regex" in message and "\\x00" in message:
        return f"Không được chứa ký tự điều khiển / {_CONTROL_CHARACTERS}"
    return message


def message_vi(message: str) -> str:
    message = _readable(message)
    if " / " in message:  # our own validators already speak both languages
        return message.split(" / ", 1)[0]
    for pattern, replacement in _MESSAGES_VI:
        if pattern.match(message):
            return pattern.sub(replacement, message)
    return message


def message_en(message: str) -> str:
    message = _readable(message)
    return message.split(" / ", 1)[1] if " / " in message else message


_UNKNOWN_FIELD = re.compile(r"unknown field `(.+)`")
_MISSING_FIELD = re.compile(r"missing required field `(.+)`")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


#: Our own validators say which field of the object they checked: "plate: …".
_NAMED_FIELD = re.compile(r"^(?P<field>[a-z_]+): (?P<message>.+)$", re.DOTALL)


def field_from(message: str, path: str) -> str:
    """The most precise field name for an error message found at `path`."""
    path = path.removeprefix("$").lstrip(".")
    if path in ("data", "body"):
        path = ""
    path = path.removeprefix("data.")
    if m := _UNKNOWN_FIELD.search(message) or _MISSING_FIELD.search(message):
        return _join(path, m.group(1))
    if m := _NAMED_FIELD.match(message):
        return _join(path, m.group("field"))
    return path or "$"


def without_field(message: str) -> str:
    m = _NAMED_FIELD.match(message)
    return m.group("message") if m else message


def validation_problem(
    request: Request[Any, Any, Any] | None, errors: list[FieldError]
) -> Response[dict[str, Any]]:
    first = errors[0]
    return problem(
        422,
        "invalid-input",
        f"Dữ liệu không hợp lệ ở `{first.field}`: {message_vi(first.message)}",
        f"invalid value at `{first.field}`: {message_en(first.message)}",
        request=request,
        field=first.field,
        errors=errors,
    )


def msgspec_problem(
    request: Request[Any, Any, Any] | None, exc: msgspec.ValidationError, *, root: str = ""
) -> Response[dict[str, Any]]:
    text = str(exc)
    message, _, path = text.rpartition(" - at `")
    if not message:
        message, path = text, ""
    field = field_from(message, path.rstrip("`"))
    message = without_field(message)
    if root:
        field = f"{root}.{field}" if field != "$" else root
    return validation_problem(request, [FieldError(field=field, message=message)])


# --- Handlers ---------------------------------------------------------------------------------


def handle_application_error(
    request: Request[Any, Any, Any], exc: ApplicationError
) -> Response[Any]:
    headers = {}
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="border-gate"'
    if "retry_after" in exc.context:
        headers["Retry-After"] = str(exc.context["retry_after"])
    return problem(
        exc.status,
        exc.code,
        exc.vi,
        exc.en,
        request=request,
        field=exc.field,
        headers=headers or None,
        extra={k: v for k, v in exc.context.items() if _jsonable(v)},
    )


def handle_workflow_error(
    request: Request[Any, Any, Any], exc: workflow_errors.WorkflowError
) -> Response[Any]:
    status = next((s for cls, s in _WORKFLOW_STATUS if isinstance(exc, cls)), 409)
    field = exc.context.get("field")
    extras = {k: v for k, v in exc.context.items() if k != "field" and _jsonable(v)}
    return problem(
        status,
        exc.code,
        exc.vi,
        exc.en,
        request=request,
        field=field if isinstance(field, str) else None,
        extra=extras,
    )


def _jsonable(value: Any) -> bool:
    return isinstance(value, str | int | float | bool | list | dict) or value is None


def handle_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors: list[FieldError] = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "invalid"))
        key = str(item.get("key", ""))
        source = item.get("source")
        field = field_from(message, key)
        message = without_field(message)
        if source in ("query", "path", "header", "cookie") and field != "$":
            field = f"{source}:{field}" if source != "query" else field
        errors.append(FieldError(field=field, message=message))
    if not errors:
        detail = str(exc.detail or "invalid request")
        if "malformed" in detail.lower() or "decode" in detail.lower():
            return problem(
                400,
                "malformed-body",
                "Nội dung gửi lên không phải JSON hợp lệ",
                f"the request body is not valid JSON ({detail})",
                request=request,
            )
        errors.append(FieldError(field="$", message=detail))
    return validation_problem(request, errors)


def handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    detail = str(exc.detail or "")
    if isinstance(exc, NotAuthorizedException):
        return problem(
            401,
            "unauthorized",
            "Cần đăng nhập: gửi Authorization: Bearer <token> còn hạn",
            f"authentication required: send a valid Authorization: Bearer token ({detail})",
            request=request,
            headers={"WWW-Authenticate": 'Bearer realm="border-gate"'},
        )
    if isinstance(exc, PermissionDeniedException):
        return problem(403, "forbidden", "Không có quyền", detail or "forbidden", request=request)
    if isinstance(exc, NotFoundException):
        return problem(404, "not-found", "Không tìm thấy", detail or "not found", request=request)
    if isinstance(exc, MethodNotAllowedException):
        return problem(
            405,
            "method-not-allowed",
            f"Phương thức {request.method} không dùng được ở đây",
            f"method {request.method} is not allowed here",
            request=request,
            headers=exc.headers,
        )
    if status == 413:
        return problem(
            413,
            "body-too-large",
            "Nội dung gửi lên quá lớn",
            "the request body is too large",
            request=request,
        )
    if isinstance(exc, ClientException) and (
        "JSON" in detail or "decode" in detail.lower() or "malformed" in detail.lower()
    ):
        return problem(
            400,
            "malformed-body",
            "Nội dung gửi lên không phải JSON hợp lệ",
            f"the request body is not valid JSON ({detail})",
            request=request,
        )
    if status == 415:
        return problem(
            415,
            "unsupported-media-type",
            "Kiểu nội dung không được hỗ trợ",
            detail or "unsupported media type",
            request=request,
        )
    code = re.sub(r"[^a-z0-9]+", "-", _TITLES.get(status, "error").lower()).strip("-")
    if status >= 500:
        return _internal(request, exc)
    return problem(
        status, code, detail or _TITLES.get(status, "Error"), detail or "error", request=request
    )


def handle_msgspec(request: Request[Any, Any, Any], exc: msgspec.ValidationError) -> Response[Any]:
    return msgspec_problem(request, exc)


def handle_decode(request: Request[Any, Any, Any], exc: msgspec.DecodeError) -> Response[Any]:
    return problem(
        400,
        "malformed-body",
        "Nội dung gửi lên không phải JSON hợp lệ",
        f"the request body is not valid JSON ({exc})",
        request=request,
    )


def handle_recursion(request: Request[Any, Any, Any], exc: RecursionError) -> Response[Any]:
    return problem(
        400,
        "malformed-body",
        "Nội dung gửi lên lồng nhau quá sâu",
        "the request body is nested too deeply",
        request=request,
    )


def handle_definition(request: Request[Any, Any, Any], exc: DefinitionError) -> Response[Any]:
    return problem(422, "invalid-workflow", str(exc), str(exc), request=request)


def _internal(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    error_id = uuid.uuid4().hex[:12]
    log.error(
        "unhandled error %s on %s %s", error_id, request.method, request.url.path, exc_info=exc
    )
    return problem(
        HTTP_500_INTERNAL_SERVER_ERROR,
        "internal-error",
        f"Lỗi hệ thống; báo mã {error_id} cho bộ phận hỗ trợ",
        f"internal error; quote {error_id} to support",
        request=request,
        extra={"error_id": error_id},
    )


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    return _internal(request, exc)


EXCEPTION_HANDLERS: dict[type[Exception], Any] = {
    ApplicationError: handle_application_error,
    workflow_errors.WorkflowError: handle_workflow_error,
    ValidationException: handle_validation,
    HTTPException: handle_http,
    msgspec.ValidationError: handle_msgspec,
    msgspec.DecodeError: handle_decode,
    DefinitionError: handle_definition,
    RecursionError: handle_recursion,
    Exception: handle_unexpected,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM_JSON", "MediaType", "problem"]
