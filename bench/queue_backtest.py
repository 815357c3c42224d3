"""Backtest of the queue's expected times on simulated traffic: how far were the estimates?

A morning at one gate, minute by minute: trucks from border_gate/simulation/traffic.py
arrive at the waiting area (some with a booked slot), the far side's quota is cut in half at
09:00, trucks are called by the live queue's own pure functions (workflows/queueing.py:
call_order, release_schedule, estimate_calls) with the bundled queue.toml, travel to the
yard gate and spend a random time in the yard. Each truck's estimate is recorded when it
checks in (what the firm is first told) and compared with what then happened.

    .venv/bin/python -m bench.queue_backtest [--trucks 260] [--seed 7] [--cut-at 9]

Prints the median and 90th percentile absolute error of the expected call and crossing
times, for all trucks and for those that checked in after the cut was announced.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from border_gate.gates import load_gates
from border_gate.queue.config import load_queue_config
from border_gate.simulation.traffic import firms, trucks
from workflows.model import Direction
from workflows.queueing import (
    StageTimes,
    WaitingTruck,
    bookable,
    estimate_calls,
    expected_crossing,
    hourly_calls,
    median,
    percentile,
    planned_calls,
    release_schedule,
    released_by,
    scale_to_total,
    walk_in_lane_for,
)

GATE = "HUU_NGHI"
MINUTE = timedelta(minutes=1)


@dataclass
class Truck:
    truck_id: str
    arrival: datetime
    lane_truck: WaitingTruck
    travel: timedelta  # call -> yard gate-in
    dwell: timedelta  # yard gate-in -> gate-out
    estimate_call: datetime | None = None
    estimate_crossing: datetime | None = None
    called_at: datetime | None = None
    gate_in_at: datetime | None = None
    departed_at: datetime | None = None
    called_lane: str = ""


def run(count: int, seed: int, cut_hour: int, booked_share: float, queue_file: Path | None) -> None:
    gates = load_gates()
    config = load_queue_config(queue_file, gates)
    zone = gates.get(GATE).zone
    capacity = config.capacity_for(GATE, Direction.EXPORT)
    day = date(2026, 11, 24)
    start = datetime(day.year, day.month, day.day, 6, tzinfo=zone)
    cut_at = datetime(day.year, day.month, day.day, cut_hour, tzinfo=zone)
    rng = random.Random(seed)

    normal = hourly_calls(capacity.yard_in, capacity.far_side)
    halved = hourly_calls(
        capacity.yard_in, scale_to_total(capacity.far_side, capacity.default_quota // 2)
    )

    def calls_for_day(now: datetime):  # type: ignore[no-untyped-def]
        def plan(which: date) -> list[int]:
            return halved if which == day and now >= cut_at else normal

        return plan

    slot_left = {hour: bookable(normal[hour], config.booking_share) for hour in range(24)}
    fleet: list[Truck] = []
    for sim in trucks(
        seed, count, gate=GATE, start=start, hours=6, firm_list=firms(), export_share=1.0
    ):
        hs_codes = [line["hs_code"] for line in sim.body["cargo"]]
        hour = sim.arrival.astimezone(zone).hour
        slot = None
        if rng.random() < booked_share and slot_left[hour] > 0:
            slot_left[hour] -= 1
            slot = sim.arrival.astimezone(zone).replace(minute=0, second=0, microsecond=0)
        channel_minutes = rng.choices([60, 120, 240], weights=[0.6, 0.3, 0.1])[0]
        fleet.append(
            Truck(
                truck_id=f"{sim.index:04d}",
                arrival=sim.arrival,
                lane_truck=WaitingTruck(
                    declaration_id=f"{sim.index:04d}",
                    waiting_since=sim.arrival,
                    walk_in_lane=walk_in_lane_for(hs_codes, sim.firm.code, config.policy),
                    slot_start=slot,
                ),
                travel=timedelta(minutes=rng.lognormvariate(2.9, 0.35)),  # median ~18 min
                dwell=timedelta(minutes=channel_minutes * rng.lognormvariate(0, 0.3)),
            )
        )

    called_today = 0
    credits: dict[str, int] = {}
    now = start
    end = start + timedelta(days=2)
    while now < end and any(t.departed_at is None for t in fleet):
        done = [t for t in fleet if t.departed_at is not None and t.departed_at <= now]
        recent = sorted(done, key=lambda t: t.departed_at or now)[-config.measure_last :]
        times = StageTimes(
            call_to_gate_in=median(
                [(t.gate_in_at - t.called_at).total_seconds() for t in recent],  # type: ignore[operator]
                config.default_stage_times.call_to_gate_in,
            ),
            gate_in_to_gate_out=median(
                [(t.departed_at - t.gate_in_at).total_seconds() for t in recent],  # type: ignore[operator]
                config.default_stage_times.gate_in_to_gate_out,
            ),
        )
        waiting = [t for t in fleet if t.arrival <= now and t.called_at is None]
        outstanding = sum(
            1 for t in fleet if t.called_at is not None and (t.gate_in_at or end) > now
        )
        plan = calls_for_day(now)
        released = released_by(now, zone, plan(now.astimezone(zone).date()))
        by_id = {t.truck_id: t for t in waiting}
        planned = planned_calls([t.lane_truck for t in waiting], now, config.policy, credits)
        order = [by_id[w.declaration_id] for _, w, _ in planned]
        lanes = [lane for lane, _, _ in planned]
        to_call = min(
            max(0, released - called_today), max(0, config.call_window - outstanding), len(order)
        )
        schedule = release_schedule(now, zone, plan, called_today, days=3)
        estimates = estimate_calls(len(order), to_call, schedule, now, times)
        for truck, estimate in zip(order, estimates, strict=True):
            if truck.estimate_call is None:  # what the firm is told at check-in
                truck.estimate_call = estimate
                truck.estimate_crossing = expected_crossing(estimate, times)
        if to_call:
            credits = planned[to_call - 1][2]  # kept between minutes, as the live queue does
        for lane, truck in zip(lanes[:to_call], order[:to_call], strict=True):
            truck.called_lane = lane.value
            truck.called_at = now
            truck.gate_in_at = now + truck.travel
            truck.departed_at = truck.gate_in_at + truck.dwell
            called_today += 1
        now += MINUTE

    report(fleet, cut_at, count, seed)


def _minutes(pairs: list[tuple[datetime | None, datetime | None]]) -> list[float]:
    return [abs((a - b).total_seconds()) / 60 for a, b in pairs if a is not None and b is not None]


def report(fleet: list[Truck], cut_at: datetime, count: int, seed: int) -> None:
    print(
        f"Queue backtest: {count} export trucks at {GATE}, seed {seed}, quota halved at {cut_at:%H:%M}"
    )
    crossed = [t for t in fleet if t.departed_at is not None]
    print(f"  trucks crossed: {len(crossed)}/{len(fleet)}")
    waits = [(t.called_at - t.arrival).total_seconds() / 60 for t in crossed if t.called_at]
    print(
        f"  wait in the waiting area (min): median {median(waits, 0):.0f}, p90 {percentile(waits, 0.9):.0f}"
    )
    for lane in ("booked", "perishable", "aeo", "other"):
        lane_waits = [
            (t.called_at - t.arrival).total_seconds() / 60
            for t in crossed
            if t.called_at and t.called_lane == lane
        ]
        if lane_waits:
            print(
                f"    called from the {lane:<10} lane: n={len(lane_waits):>3}, wait median "
                f"{median(lane_waits, 0):4.0f} min, mean {sum(lane_waits) / len(lane_waits):4.0f}, "
                f"p90 {percentile(lane_waits, 0.9):4.0f}"
            )
    for label, group in (
        ("all trucks", crossed),
        ("checked in after the cut", [t for t in crossed if t.arrival >= cut_at]),
        ("checked in before the cut", [t for t in crossed if t.arrival < cut_at]),
    ):
        call = _minutes([(t.estimate_call, t.called_at) for t in group])
        crossing = _minutes([(t.estimate_crossing, t.departed_at) for t in group])
        if not call:
            continue
        print(
            f"  {label:<26} n={len(group):>3}  call error median {median(call, 0):6.1f} min, "
            f"p90 {percentile(call, 0.9):6.1f}  |  crossing error median "
            f"{median(crossing, 0):6.1f} min, p90 {percentile(crossing, 0.9):6.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trucks", type=int, default=260)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--cut-at", type=int, default=9, help="local hour the quota is halved")
    parser.add_argument("--booked-share", type=float, default=0.5)
    parser.add_argument("--queue-file", type=Path, default=None, help="instead of queue.toml")
    args = parser.parse_args()
    run(args.trucks, args.seed, args.cut_at, args.booked_share, args.queue_file)


if __name__ == "__main__":
    main()
