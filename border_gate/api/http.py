"""Conventions shared by the controllers: the platform, the caller, ETags and If-Match."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request
from litestar.datastructures import State

from border_gate.errors import PreconditionFailed, PreconditionRequired, Unauthorized
from border_gate.identity.service import CurrentUser
from border_gate.platform import Platform


def provide_platform(state: State) -> Platform:
    return state.platform  # type: ignore[no-any-return]


def current_user(request: Request[Any, Any, Any]) -> CurrentUser:
    user = request.scope.get("user")
    if not isinstance(user, CurrentUser):
        raise Unauthorized("Cần đăng nhập", "authentication required")
    return user


def etag(version: int) -> str:
    return f'"{version}"'


_TAG = re.compile(r'\s*(?:W/)?"?(\d{1,12})"?\s*')


def parse_if_match(header: str | None, *, required: bool) -> int | None:
    """The version an If-Match header names; 428 if required and missing, 412 if unusable."""
    if header is None or not header.strip():
        if required:
            raise PreconditionRequired(
                'Thiếu If-Match: gửi ETag của tờ khai bạn đã xem (ví dụ If-Match: "7")',
                'If-Match is required: send the ETag of the declaration you looked at (e.g. If-Match: "7")',
                field="If-Match",
            )
        return None
    if header.strip() == "*":
        return None
    for part in header.split(","):
        match = _TAG.fullmatch(part)
        if match:
            return int(match.group(1))
    raise PreconditionFailed(
        f'If-Match không hợp lệ: {header[:60]!r}; dùng ETag nhận được, ví dụ "7"',
        f'If-Match is not a version we issued: {header[:60]!r}; send the ETag you received, e.g. "7"',
        field="If-Match",
    )
