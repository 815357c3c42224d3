"""Reading the reports' query parameters: each wrong one is a 400 naming it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import msgspec

from border_gate.gates import Gate
from border_gate.platform import Platform
from border_gate.reports.figures import local_midnight
from border_gate.reports.schemas import InvalidQuery
from workflows.model import Direction

GRANULARITIES = ("hour", "day")
MAX_SPAN = {"hour": timedelta(days=31), "day": timedelta(days=366)}
MAX_OPEN_DATA_DAYS = 92
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


class ReportQuery(msgspec.Struct, frozen=True):
    gate: Gate
    direction: str | None
    start: datetime  # UTC, on a whole hour
    end: datetime  # UTC, exclusive
    granularity: str


def parse_gate(platform: Platform, raw: str | None, *, required: bool = True) -> Gate | None:
    if raw is None or not raw.strip():
        if not required:
            return None
        raise InvalidQuery(
            f"Thiếu tham số gate (có: {', '.join(platform.gates.codes)})",
            f"the gate parameter is required (known: {', '.join(platform.gates.codes)})",
            field="gate",
        )
    code = raw.strip().upper()
    if code not in platform.gates:
        shown = code[:32] if code.isprintable() else "?"
        raise InvalidQuery(
            f"Cửa khẩu không tồn tại: {shown} (có: {', '.join(platform.gates.codes)})",
            f"unknown gate {shown} (known: {', '.join(platform.gates.codes)})",
            field="gate",
        )
    return platform.gates.get(code)


def parse_moment(raw: str, gate: Gate, name: str, *, is_end: bool) -> datetime:
    """A date (a local day; as `to`, the whole day is included) or an ISO 8601 time.

    A time without an offset is read in the gate's zone. Reports count per hour, so a
    time must be on a whole hour.
    """
    text = raw.strip()
    if len(text) > 40 or not text.isprintable():
        raise InvalidQuery(f"{name} quá dài", f"{name} is too long", field=name)
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = local_midnight(day + timedelta(days=1) if is_end else day, gate.zone)
        else:
            moment = datetime.fromisoformat(text.replace(" ", "T").replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=gate.zone)
    except (ValueError, OverflowError):
        raise InvalidQuery(
            f"{name} không phải ngày (YYYY-MM-DD) hay thời điểm ISO 8601: {text[:40]!r}",
            f"{name} is not a date (YYYY-MM-DD) or an ISO 8601 time: {text[:40]!r}",
            field=name,
        ) from None
    if moment.minute or moment.second or moment.microsecond:
        raise InvalidQuery(
            f"{name} phải là giờ chẵn (ví dụ 2026-11-01T08:00+07:00)",
            f"{name} must be on a whole hour (e.g. 2026-11-01T08:00+07:00)",
            field=name,
        )
    moment = moment.astimezone(UTC)
    if moment < EARLIEST or moment.year > 9000:
        raise InvalidQuery(
            f"{name} ngoài khoảng hợp lệ", f"{name} is out of range (2000 onwards)", field=name
        )
    return moment


def parse_report_query(
    platform: Platform,
    *,
    gate: str | None,
    direction: str | None,
    start: str | None,
    end: str | None,
    granularity: str | None,
) -> ReportQuery:
    chosen = parse_gate(platform, gate)
    assert chosen is not None
    if direction is not None and direction.strip():
        if direction.strip() not in (d.value for d in Direction):
            raise InvalidQuery(
                "direction phải là export hoặc import",
                "direction must be export or import",
                field="direction",
            )
        direction = direction.strip()
    else:
        direction = None
    now = platform.now()
    end_at = (
        parse_moment(end, chosen, "to", is_end=True)
        if end
        else now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    )
    start_at = (
        parse_moment(start, chosen, "from", is_end=False) if start else end_at - timedelta(hours=24)
    )
    if start_at >= end_at:
        raise InvalidQuery("from phải trước to", "from must be before to", field="from")
    if granularity is None or not granularity.strip():
        granularity = "hour" if end_at - start_at <= timedelta(days=2) else "day"
    granularity = granularity.strip()
    if granularity not in GRANULARITIES:
        raise InvalidQuery(
            "granularity phải là hour hoặc day",
            "granularity must be hour or day",
            field="granularity",
        )
    if end_at - start_at > MAX_SPAN[granularity]:
        days = MAX_SPAN[granularity].days
        raise InvalidQuery(
            f"Khoảng thời gian quá dài cho granularity={granularity} (tối đa {days} ngày)",
            f"the period is too long for granularity={granularity} (at most {days} days)"
            + ("; use granularity=day" if granularity == "hour" else ""),
            field="to",
        )
    return ReportQuery(chosen, direction, start_at, end_at, granularity)


def parse_open_data_days(
    platform: Platform, gate: Gate | None, start: str | None, end: str | None
) -> tuple[date, date]:
    """Local days from and to (inclusive); default the last 7 full days."""
    zone = gate.zone if gate else platform.settings.zone
    today = platform.now().astimezone(zone).date()
    days: list[date] = []
    for name, raw, default in (
        ("from", start, today - timedelta(days=7)),
        ("to", end, today - timedelta(days=1)),
    ):
        if raw is None or not raw.strip():
            days.append(default)
            continue
        try:
            if len(raw.strip()) != 10:
                raise ValueError
            days.append(date.fromisoformat(raw.strip()))
        except ValueError:
            raise InvalidQuery(
                f"{name} phải là ngày YYYY-MM-DD",
                f"{name} must be a date YYYY-MM-DD",
                field=name,
            ) from None
    first, last = days
    if first > last:
        raise InvalidQuery(
            "from phải trước hoặc bằng to", "from must not be after to", field="from"
        )
    if (last - first).days + 1 > MAX_OPEN_DATA_DAYS:
        raise InvalidQuery(
            f"Tối đa {MAX_OPEN_DATA_DAYS} ngày mỗi lần",
            f"at most {MAX_OPEN_DATA_DAYS} days per request",
            field="to",
        )
    if first.year < 2000:
        raise InvalidQuery("from ngoài khoảng hợp lệ", "from is out of range", field="from")
    return first, last
