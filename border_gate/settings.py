"""Typed settings read once from the environment (and an optional file), checked at start.

Nothing is required for the embedded default: a SQLite file and an in-process broker under
DATA_DIR. Every wrong value is reported at once, each with what was expected.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from border_gate.reports.sla import ServiceLevels, service_levels


class SettingsError(ValueError):
    """One or more settings are wrong; `problems` lists each with what to do."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            "Cấu hình sai / invalid settings:\n" + "\n".join(f"  - {p}" for p in problems)
        )
        self.problems = problems


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    data_dir: Path
    database_url: str  # the async SQLAlchemy URL the platform picked drivers for
    broker_url: str | None  # amqp://… for RabbitMQ; None = in-process broker
    secret_key: str
    secret_key_generated: bool
    token_ttl_minutes: int
    timezone: str
    public_url: str
    gates_file: Path | None
    max_body_bytes: int
    log_level: str
    worker_threads: int
    # Documents (issue: paperless clearance documents)
    authority_key_file: Path | None
    authority_cert_file: Path | None
    document_store: str  # "database" or a directory path
    # Screening and workers
    customs_rules_file: Path | None
    quarantine_rules_file: Path | None
    document_expiry_warning_days: int
    screening_seed: int
    check_max_retries: int
    check_time_limit_ms: int
    demo: bool
    # Reports: the service-level target per stage and the share that must meet it
    report_service_levels: ServiceLevels = msgspec.field(default_factory=lambda: service_levels({}))
    # Gate fees and webhook notifications (docs/fees-and-notifications.md)
    fee_tariff_file: Path | None = None
    payment_callback_secret: str | None = None
    payment_callback_tolerance_seconds: int = 300
    webhook_allow_private_targets: bool = False
    webhook_max_attempts: int = 8
    webhook_min_backoff_ms: int = 1000
    webhook_max_backoff_ms: int = 600_000
    webhook_timeout_seconds: int = 10
    webhook_expected_time_threshold_minutes: int = 15
    queue_file: Path | None = None  # the electronic queue's capacity and rules (QUEUE_FILE)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def async_database_url(raw: str, data_dir: Path) -> str:
    """Map a user's DATABASE_URL to the async driver the platform uses for it."""
    if not raw:
        return f"sqlite+aiosqlite:///{(data_dir / 'border-gate.sqlite3').resolve()}"
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    rest = raw[len(parts.scheme) :]
    if scheme in ("sqlite", "sqlite+aiosqlite"):
        path = raw.split(":///", 1)[1] if ":///" in raw else ""
        if not path:
            raise ValueError("sqlite URL needs a path: sqlite:///path/to/file.sqlite3")
        return f"sqlite+aiosqlite:///{path}"
    if scheme in (
        "postgresql",
        "postgres",
        "postgresql+asyncpg",
        "postgresql+psycopg",
        "postgresql+psycopg2",
    ):
        if not parts.hostname and not parts.path.strip("/"):
            raise ValueError(
                "postgresql URL needs a host and a database: postgresql://user@host:5432/db"
            )
        return "postgresql+asyncpg" + rest
    raise ValueError(
        f"unsupported scheme {parts.scheme!r}: use sqlite:///path or postgresql://user@host:port/db"
    )


def _int(
    env: dict[str, str], name: str, default: int, low: int, high: int, problems: list[str]
) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        problems.append(f"{name}={raw!r}: cần một số nguyên / expected an integer")
        return default
    if not low <= value <= high:
        problems.append(
            f"{name}={value}: phải trong khoảng {low}..{high} / must be within {low}..{high}"
        )
    return value


def _bool(env: dict[str, str], name: str, default: bool, problems: list[str]) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    problems.append(f"{name}={raw!r}: dùng true/false / expected true or false")
    return default


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read the environment (plus SETTINGS_FILE, a TOML of the same names) and check it."""
    env = dict(os.environ if environ is None else environ)
    problems: list[str] = []
    settings_file = env.get("SETTINGS_FILE")
    if settings_file:
        try:
            with open(settings_file, "rb") as handle:
                for key, value in tomllib.load(handle).items():
                    env.setdefault(key.upper(), str(value))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            problems.append(f"SETTINGS_FILE={settings_file!r}: {exc}")

    data_dir = Path(env.get("DATA_DIR") or ".data").expanduser()
    try:
        database_url = async_database_url(env.get("DATABASE_URL", ""), data_dir)
    except ValueError as exc:
        problems.append(f"DATABASE_URL: {exc}")
        database_url = async_database_url("", data_dir)

    broker_url = env.get("BROKER_URL") or None
    if broker_url is not None:
        scheme = urlsplit(broker_url).scheme
        if scheme not in ("amqp", "amqps"):
            problems.append(
                f"BROKER_URL={broker_url!r}: cần amqp://user:pass@host:5672/vhost "
                "hoặc để trống để chạy trong tiến trình / expected amqp://… or unset for in-process"
            )

    secret_key = env.get("SECRET_KEY") or ""
    generated = False
    if secret_key and len(secret_key) < 32:
        problems.append("SECRET_KEY: cần ít nhất 32 ký tự / must be at least 32 characters")
    if not secret_key:
        secret_key, generated = _local_secret(data_dir)

    timezone = env.get("TIMEZONE", "Asia/Ho_Chi_Minh")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"TIMEZONE={timezone!r}: không phải múi giờ IANA / not an IANA zone name")
        timezone = "Asia/Ho_Chi_Minh"

    public_url = env.get("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
    if urlsplit(public_url).scheme not in ("http", "https"):
        problems.append(f"PUBLIC_URL={public_url!r}: cần http(s)://host / expected http(s)://host")

    gates_file = Path(env["GATES_FILE"]) if env.get("GATES_FILE") else None
    if gates_file is not None and not gates_file.is_file():
        problems.append(f"GATES_FILE={str(gates_file)!r}: không có tệp này / no such file")

    queue_file = Path(env["QUEUE_FILE"]) if env.get("QUEUE_FILE") else None
    if queue_file is not None and not queue_file.is_file():
        problems.append(f"QUEUE_FILE={str(queue_file)!r}: không có tệp này / no such file")

    log_level = env.get("LOG_LEVEL", "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        problems.append(f"LOG_LEVEL={log_level!r}: DEBUG, INFO, WARNING or ERROR")

    key_file = Path(env["AUTHORITY_KEY_FILE"]) if env.get("AUTHORITY_KEY_FILE") else None
    cert_file = Path(env["AUTHORITY_CERT_FILE"]) if env.get("AUTHORITY_CERT_FILE") else None
    if (key_file is None) != (cert_file is None):
        problems.append(
            "AUTHORITY_KEY_FILE và AUTHORITY_CERT_FILE phải đặt cùng nhau / set both or neither"
        )
    for name, path in (("AUTHORITY_KEY_FILE", key_file), ("AUTHORITY_CERT_FILE", cert_file)):
        if path is not None and not path.is_file():
            problems.append(f"{name}={str(path)!r}: không có tệp này / no such file")

    rules_files: dict[str, Path | None] = {}
    for name in ("CUSTOMS_RULES_FILE", "QUARANTINE_RULES_FILE"):
        rules_files[name] = Path(env[name]) if env.get(name) else None
        if rules_files[name] is not None and not rules_files[name].is_file():  # type: ignore[union-attr]
            problems.append(f"{name}={env[name]!r}: không có tệp này / no such file")

    fee_tariff_file = Path(env["FEE_TARIFF_FILE"]) if env.get("FEE_TARIFF_FILE") else None
    if fee_tariff_file is not None and not fee_tariff_file.is_file():
        problems.append(
            f"FEE_TARIFF_FILE={str(fee_tariff_file)!r}: không có tệp này / no such file"
        )
    payment_secret = env.get("PAYMENT_CALLBACK_SECRET") or None
    if payment_secret is not None and len(payment_secret) < 32:
        problems.append(
            "PAYMENT_CALLBACK_SECRET: cần ít nhất 32 ký tự / must be at least 32 characters"
        )
    webhook_min_backoff = _int(env, "WEBHOOK_MIN_BACKOFF_MS", 1000, 10, 3_600_000, problems)
    webhook_max_backoff = _int(env, "WEBHOOK_MAX_BACKOFF_MS", 600_000, 10, 86_400_000, problems)
    if webhook_max_backoff < webhook_min_backoff:
        problems.append(
            "WEBHOOK_MAX_BACKOFF_MS phải ≥ WEBHOOK_MIN_BACKOFF_MS / "
            "WEBHOOK_MAX_BACKOFF_MS must be at least WEBHOOK_MIN_BACKOFF_MS"
        )

    try:
        levels = service_levels(env)
    except ValueError as exc:
        problems.append(str(exc))
        levels = service_levels({})

    settings = Settings(
        report_service_levels=levels,
        data_dir=data_dir,
        database_url=database_url,
        broker_url=broker_url,
        secret_key=secret_key,
        secret_key_generated=generated,
        token_ttl_minutes=_int(env, "TOKEN_TTL_MINUTES", 480, 1, 7 * 24 * 60, problems),
        timezone=timezone,
        public_url=public_url,
        gates_file=gates_file,
        queue_file=queue_file,
        max_body_bytes=_int(env, "MAX_BODY_BYTES", 1_048_576, 1024, 64 * 1_048_576, problems),
        log_level=log_level,
        worker_threads=_int(env, "WORKER_THREADS", 4, 1, 64, problems),
        authority_key_file=key_file,
        authority_cert_file=cert_file,
        document_store=env.get("DOCUMENT_STORE", "database"),
        customs_rules_file=rules_files["CUSTOMS_RULES_FILE"],
        quarantine_rules_file=rules_files["QUARANTINE_RULES_FILE"],
        document_expiry_warning_days=_int(
            env, "DOCUMENT_EXPIRY_WARNING_DAYS", 30, 0, 365, problems
        ),
        screening_seed=_int(env, "SCREENING_SEED", 20261123, 0, 2**31 - 1, problems),
        check_max_retries=_int(env, "CHECK_MAX_RETRIES", 5, 0, 50, problems),
        check_time_limit_ms=_int(env, "CHECK_TIME_LIMIT_MS", 60_000, 1000, 1_500_000, problems),
        demo=_bool(env, "DEMO", False, problems),
        fee_tariff_file=fee_tariff_file,
        payment_callback_secret=payment_secret,
        payment_callback_tolerance_seconds=_int(
            env, "PAYMENT_CALLBACK_TOLERANCE_SECONDS", 300, 5, 3600, problems
        ),
        webhook_allow_private_targets=_bool(env, "WEBHOOK_ALLOW_PRIVATE_TARGETS", False, problems),
        webhook_max_attempts=_int(env, "WEBHOOK_MAX_ATTEMPTS", 8, 1, 30, problems),
        webhook_min_backoff_ms=webhook_min_backoff,
        webhook_max_backoff_ms=webhook_max_backoff,
        webhook_timeout_seconds=_int(env, "WEBHOOK_TIMEOUT_SECONDS", 10, 1, 60, problems),
        webhook_expected_time_threshold_minutes=_int(
            env, "WEBHOOK_EXPECTED_TIME_THRESHOLD_MINUTES", 15, 0, 24 * 60, problems
        ),
    )
    if problems:
        raise SettingsError(problems)
    return settings


def _local_secret(data_dir: Path) -> tuple[str, bool]:
    """A signing key kept in DATA_DIR so tokens survive restarts of the embedded platform."""
    path = data_dir / "secret_key"
    try:
        if path.is_file():
            return path.read_text().strip(), True
        data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        return key, True
    except FileExistsError:
        return path.read_text().strip(), True
    except OSError:
        return secrets.token_urlsafe(48), True
