"""The `border-gate` command: serve, migrate, org, user, audit (and worker, documents, simulate)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any

import msgspec

from border_gate.errors import ApplicationError
from border_gate.fees.tariff import TariffError
from border_gate.gates import GateConfigError, load_gates
from border_gate.queue.config import QueueConfigError
from border_gate.settings import Settings, SettingsError, load_settings

log = logging.getLogger("border_gate.cli")


def _fail(message: str, code: int = 2) -> int:
    print(message, file=sys.stderr)
    return code


def _settings() -> Settings:
    return load_settings()


def _run(coro: Coroutine[Any, Any, int]) -> int:
    return asyncio.run(coro)


async def _with_platform(
    settings: Settings, body: Callable[[Any], Coroutine[Any, Any, int]]
) -> int:
    from border_gate.platform import build_platform

    platform = build_platform(settings, pool_size=2)
    try:
        return await body(platform)
    finally:
        await platform.close()


def ensure_schema(settings: Settings) -> None:
    """Embedded SQLite migrates itself; PostgreSQL must already be at head (border-gate migrate)."""
    from border_gate.db.migrate import schema_is_current, upgrade_to_head

    if settings.is_sqlite:
        upgrade_to_head(settings.database_url)
        return
    if not schema_is_current(settings.database_url):
        raise SettingsError(
            [
                "Cơ sở dữ liệu chưa ở phiên bản mới nhất: chạy `border-gate migrate` trước / "
                "the database schema is not at the newest migration: run `border-gate migrate` first"
            ]
        )


# --- Commands ----------------------------------------------------------------------------------


def cmd_migrate(args: argparse.Namespace) -> int:
    from border_gate.db.migrate import upgrade_to_head

    settings = _settings()
    upgrade_to_head(settings.database_url)
    print(
        f"Đã nâng cấp cơ sở dữ liệu lên phiên bản mới nhất / database upgraded to head: {_safe_url(settings)}"
    )
    return 0


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.database_url).render_as_string(hide_password=True)


def check_configuration(settings: Settings) -> None:
    """Read the gates, the fee tariff and the queue file now, so a mistake in one of them is
    a one-line message naming the file and the fault, not a traceback from the server."""
    from border_gate.fees.tariff import load_tariff
    from border_gate.queue.config import load_queue_config

    gates = load_gates(settings.gates_file)
    load_tariff(settings.fee_tariff_file, gates.codes)
    load_queue_config(settings.queue_file, gates)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = _settings()
    if not os.environ.get("PUBLIC_URL"):
        # Links, QR codes and printed logins should point where this server listens.
        shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
        settings = msgspec.structs.replace(settings, public_url=f"http://{shown}:{args.port}")
    check_configuration(settings)
    ensure_schema(settings)
    from border_gate.runtime import describe_startup

    describe_startup(settings, args.host, args.port)
    if args.workers > 1:
        uvicorn.run(
            "border_gate.runtime:app_from_environment",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level=settings.log_level.lower(),
            proxy_headers=True,
        )
        return 0
    from border_gate.runtime import serve_app

    uvicorn.run(
        serve_app(settings, demo=args.demo),
        host=args.host,
        port=args.port,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
    )
    return 0


def cmd_org_add(args: argparse.Namespace) -> int:
    from border_gate.identity.service import create_organisation

    async def body(platform: Any) -> int:
        org = await create_organisation(platform, code=args.code, kind=args.kind, name=args.name)
        print(f"Đã tạo tổ chức / organisation created: {org.code} ({org.kind}) {org.name}")
        return 0

    settings = _settings()
    ensure_schema(settings)
    return _run(_with_platform(settings, body))


def cmd_org_list(args: argparse.Namespace) -> int:
    from border_gate.identity.service import list_organisations

    async def body(platform: Any) -> int:
        for org in await list_organisations(platform):
            print(f"{org.code:<20} {org.kind:<18} {org.name}")
        return 0

    settings = _settings()
    ensure_schema(settings)
    return _run(_with_platform(settings, body))


def cmd_user_add(args: argparse.Namespace) -> int:
    from border_gate.identity.service import create_user

    if not args.password_stdin:
        return _fail("Cần --password-stdin (mật khẩu đọc từ stdin) / --password-stdin is required")
    password = sys.stdin.readline().rstrip("\r\n")

    async def body(platform: Any) -> int:
        user = await create_user(
            platform,
            username=args.username,
            role=args.role,
            organisation_code=args.org,
            password=password,
            gates=args.gate,
            full_name=args.full_name,
        )
        gates = f" tại / at {', '.join(user.gates)}" if user.gates else ""
        print(
            f"Đã tạo người dùng / user created: {user.username} ({user.role.value}, {user.organisation_code}){gates}"
        )
        return 0

    settings = _settings()
    ensure_schema(settings)
    return _run(_with_platform(settings, body))


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from border_gate.audit import verify_all

    settings = _settings()
    ensure_schema(settings)

    async def body(platform: Any) -> int:
        report = await verify_all(
            platform, declaration_id=args.declaration, progress=not args.quiet
        )
        print(report.summary())
        return 0 if report.ok else 1

    return _run(_with_platform(settings, body))


def cmd_worker(args: argparse.Namespace) -> int:
    from border_gate.workers.runner import run_worker_process

    settings = _settings()
    check_configuration(settings)
    ensure_schema(settings)
    queues = set(args.queue) if args.queue else None
    return run_worker_process(settings, threads=args.threads, queues=queues)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="border-gate",
        description="Cửa khẩu số — digital border gate. Settings come from the environment "
        "(DATABASE_URL, BROKER_URL, SECRET_KEY, …; see docs/configuration.md).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser(
        "serve", help="run the API (embedded default: SQLite + in-process workers)"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="API processes (PostgreSQL only)")
    serve.add_argument("--demo", action="store_true", help="seed demo users and simulate traffic")
    serve.set_defaults(func=cmd_serve)

    worker = sub.add_parser("worker", help="run Dramatiq workers against BROKER_URL (RabbitMQ)")
    worker.add_argument("--threads", type=int, default=8, help="worker threads in this process")
    worker.add_argument(
        "--queue", action="append", default=[], help="only these queues (repeat); default all"
    )
    worker.set_defaults(func=cmd_worker)

    migrate = sub.add_parser("migrate", help="upgrade the database schema to the newest migration")
    migrate.set_defaults(func=cmd_migrate)

    org = sub.add_parser("org", help="organisations").add_subparsers(
        dest="org_command", required=True
    )
    org_add = org.add_parser("add", help="create an organisation")
    org_add.add_argument("--code", required=True)
    org_add.add_argument(
        "--kind", required=True, help="firm, customs, plant_quarantine, …, yard, management"
    )
    org_add.add_argument("--name", required=True)
    org_add.set_defaults(func=cmd_org_add)
    org_list = org.add_parser("list", help="list organisations")
    org_list.set_defaults(func=cmd_org_list)

    user = sub.add_parser("user", help="users").add_subparsers(dest="user_command", required=True)
    user_add = user.add_parser("add", help="create a user (password read from stdin)")
    user_add.add_argument("--username", required=True)
    user_add.add_argument("--role", required=True)
    user_add.add_argument("--org", required=True, help="organisation code")
    user_add.add_argument("--gate", action="append", default=[], help="gate code (repeat)")
    user_add.add_argument("--full-name")
    user_add.add_argument("--password-stdin", action="store_true")
    user_add.set_defaults(func=cmd_user_add)

    audit = sub.add_parser("audit", help="the audit trail").add_subparsers(
        dest="audit_command", required=True
    )
    audit_verify = audit.add_parser(
        "verify", help="check every hash chain and replay every trail against the stored state"
    )
    audit_verify.add_argument("--declaration", help="only this declaration id")
    audit_verify.add_argument("--quiet", action="store_true")
    audit_verify.set_defaults(func=cmd_audit_verify)

    from border_gate.documents.cli import add_documents_commands
    from border_gate.reports.cli import add_reports_commands
    from border_gate.simulation.command import add_simulate_command

    add_documents_commands(sub)
    add_simulate_command(sub)
    add_reports_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except SettingsError as exc:
        return _fail(str(exc))
    except GateConfigError as exc:
        return _fail(f"Cấu hình cửa khẩu sai / invalid gates configuration: {exc}")
    except TariffError as exc:
        return _fail(f"Biểu phí sai / invalid fee tariff: {exc}")
    except QueueConfigError as exc:
        return _fail(f"Cấu hình hàng chờ sai / invalid queue configuration: {exc}")
    except ApplicationError as exc:
        return _fail(f"Lỗi / error: {exc.vi} / {exc.en}", 1)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
