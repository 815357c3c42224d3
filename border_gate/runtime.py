"""Assembling the served application with its background parts, and the start-up banner."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from sqlalchemy.engine import make_url

from border_gate.app import create_app
from border_gate.settings import Settings, load_settings


def background_parts(settings: Settings, *, demo: bool = False) -> list[Any]:
    """What runs beside the API in this process: the outbox relay, with no BROKER_URL the
    Dramatiq worker threads (embedded default), and with `demo` the demo users and traffic."""
    from border_gate.workers.runner import start_in_process

    parts: list[Any] = [start_in_process]
    if demo:
        from border_gate.simulation.demo import start_demo

        parts.append(start_demo)
    return parts


def serve_app(settings: Settings, *, demo: bool = False) -> Litestar:
    return create_app(settings, background=background_parts(settings, demo=demo))


def app_from_environment() -> Litestar:
    """Factory for `uvicorn --factory` with several API processes."""
    settings = load_settings()
    return create_app(settings, background=background_parts(settings))


def describe_startup(settings: Settings, host: str, port: int) -> None:
    database = make_url(settings.database_url).render_as_string(hide_password=True)
    broker = settings.broker_url or "trong tiến trình / in-process"
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    lines = [
        "Cửa khẩu số — Digital Border Gate",
        f"  Địa chỉ / URL:           http://{shown_host}:{port}/",
        f"  API docs:                http://{shown_host}:{port}/schema/swagger",
        f"  Cơ sở dữ liệu / database: {database}",
        f"  Hàng đợi / broker:        {broker}",
        f"  Thư mục dữ liệu / data:   {settings.data_dir.resolve()}",
    ]
    try:
        from border_gate.documents.authority import load_or_create_authority

        authority = load_or_create_authority(
            settings.data_dir, settings.authority_key_file, settings.authority_cert_file
        )
        made = " (vừa tạo / just created, self-signed)" if authority.created else ""
        lines.append(f"  Chứng thư ký số / signing certificate: {authority.cert_file}{made}")
    except Exception as exc:  # the server can still start; issuing documents will report it
        lines.append(f"  Chứng thư ký số / signing certificate: LỖI / ERROR {exc}")
    if settings.secret_key_generated:
        lines.append(
            f"  Khoá ký token tự tạo tại / token key generated in {settings.data_dir.resolve() / 'secret_key'}"
            " (đặt SECRET_KEY khi chạy thật / set SECRET_KEY in production)"
        )
    print("\n".join(lines), flush=True)
