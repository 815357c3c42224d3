"""The queue section of the board's throughput report: who waits now, per lane, and for how long
they are expected to wait. Shown when the period asked includes the present moment."""

from __future__ import annotations

import statistics

from border_gate.db.uow import UnitOfWork
from border_gate.platform import Platform
from border_gate.queue.service import QueueEntry, plan_queue
from border_gate.reports.query import ReportQuery
from border_gate.reports.schemas import ExtraSection
from workflows.model import Direction
from workflows.queueing import LANE_LABELS, Lane


def _minutes(values: list[float]) -> int | None:
    return round(statistics.median(values)) if values else None


async def queue_section(
    platform: Platform, uow: UnitOfWork, query: ReportQuery
) -> ExtraSection | None:
    now = platform.now()
    if not query.start <= now < query.end:
        return None  # a past period: the live queue says nothing about it
    directions = [Direction(query.direction)] if query.direction else list(Direction)
    entries: list[QueueEntry] = []
    for direction in directions:
        entries.extend((await plan_queue(uow, platform, query.gate.code, direction, now)).entries)
    rows: list[list[str | int | float | None]] = []
    for lane in Lane:
        mine = [e for e in entries if e.lane == lane.value]
        if not mine:
            continue
        waiting = [e for e in mine if e.position > 0]
        to_call = [(e.expected_call_at - now).total_seconds() / 60 for e in waiting]
        to_cross = [(e.expected_crossing_at - now).total_seconds() / 60 for e in mine]
        label_vi, label_en = LANE_LABELS[lane]
        rows.append(
            [
                f"{label_vi} / {label_en}",
                len(waiting),
                len(mine) - len(waiting),
                _minutes(to_call),
                round(max(to_call)) if to_call else None,
                _minutes(to_cross),
            ]
        )
    if not rows:
        return None
    return ExtraSection(
        key="queue_now",
        title_vi="Hàng chờ lúc này và thời gian dự kiến (phút)",
        title_en="The queue now and expected times (minutes)",
        columns=[
            "lane",
            "waiting",
            "called",
            "median_minutes_to_call",
            "max_minutes_to_call",
            "median_minutes_to_crossing",
        ],
        rows=rows,
    )
