"""Driving simulated traffic through the platform, on a compressed clock.

The simulator acts like the people do — firms file and answer amendment requests, yard
operators gate trucks in and out, officers take declarations from their queues and decide
after a service time — through the same application services the API calls. Automated
screening and documents are left to the workers of the platform it is pointed at (the
database and broker of DATABASE_URL and BROKER_URL): the simulator only waits for them.

Time: simulated time runs `speedup` times faster than real time, starting `hours` before
now, so a simulated day ends at about the present and never lies in the future.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import math
import random
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import func, select

from border_gate.db.models import DeclarationRow
from border_gate.db.repository import DeclarationFilters
from border_gate.declarations import service
from border_gate.errors import ApplicationError, Conflict
from border_gate.fees.models import FeeCharge
from border_gate.fees.service import PaymentCallback, apply_payment
from border_gate.gates import Gate
from border_gate.identity.service import CurrentUser, authenticate, create_organisation, create_user
from border_gate.platform import Platform
from border_gate.simulation.traffic import SimTruck, firms, trucks
from workflows.errors import WorkflowError
from workflows.labels import STATUS_LABELS
from workflows.machine import Decision
from workflows.model import Channel, Declaration, DeclarationFacts, Direction, Stage, Status

log = logging.getLogger("border_gate.simulation")

SIM_PASSWORD = "mo-phong-khong-dang-nhap-2026"

#: Officers on duty per stage (configurable with --staff stage=N).
DEFAULT_STAFF: dict[Stage, int] = {
    Stage.CUSTOMS: 4,
    Stage.PLANT_QUARANTINE: 4,
    Stage.ANIMAL_QUARANTINE: 2,
    Stage.HEALTH_QUARANTINE: 3,
    Stage.BORDER_GUARD: 3,
}
#: Mean minutes an officer needs per declaration (lognormal, sigma 0.5).
DEFAULT_SERVICE_MINUTES: dict[Stage, float] = {
    Stage.CUSTOMS: 18.0,
    Stage.PLANT_QUARANTINE: 22.0,
    Stage.ANIMAL_QUARANTINE: 25.0,
    Stage.HEALTH_QUARANTINE: 15.0,
    Stage.BORDER_GUARD: 6.0,
}
RED_CHANNEL_FACTOR = 2.2  # physical inspection takes longer than a document check

ROLE_FOR = {
    Stage.CUSTOMS: ("customs_officer", "customs", "SIM_HQ", "Chi cục Hải quan (mô phỏng)"),
    Stage.PLANT_QUARANTINE: (
        "plant_quarantine_officer",
        "plant_quarantine",
        "SIM_KDTV",
        "Trạm KDTV (mô phỏng)",
    ),
    Stage.ANIMAL_QUARANTINE: (
        "animal_quarantine_officer",
        "animal_quarantine",
        "SIM_KDDV",
        "Trạm KDĐV (mô phỏng)",
    ),
    Stage.HEALTH_QUARANTINE: (
        "health_quarantine_officer",
        "health_quarantine",
        "SIM_KDYT",
        "Trung tâm KDYT (mô phỏng)",
    ),
    Stage.BORDER_GUARD: (
        "border_guard_officer",
        "border_guard",
        "SIM_BP",
        "Đồn Biên phòng (mô phỏng)",
    ),
}


@dataclass
class SimulationConfig:
    gate: str
    trucks: int
    hours: float
    speedup: float
    seed: int = 2026
    staff: dict[Stage, int] = field(default_factory=lambda: dict(DEFAULT_STAFF))
    service_minutes: dict[Stage, float] = field(
        default_factory=lambda: dict(DEFAULT_SERVICE_MINUTES)
    )
    amendment_rate: float = 0.03
    rejection_rate: float = 0.007
    hold_rate: float = 0.01
    start: datetime | None = None  # default: `hours` before now
    progress: bool = True
    tag: str = "SIM"  # distinguishes users of several simulations on one platform


class SimulatedClock:
    """start + (real time elapsed) × speedup, never past `end`.

    While a scheduled action runs, the clock shows that action's own time: a machine too
    slow for the speed-up makes the simulation take longer, not its timeline wrong.
    """

    def __init__(self, start: datetime, speedup: float, end: datetime) -> None:
        self.start = start
        self.speedup = speedup
        self.end = end
        self.pinned: datetime | None = None
        self._real_start = time.monotonic()

    def paced(self) -> datetime:
        elapsed = (time.monotonic() - self._real_start) * self.speedup
        return min(self.start + timedelta(seconds=elapsed), self.end)

    def __call__(self) -> datetime:
        return self.pinned if self.pinned is not None else self.paced()

    def real_seconds_until(self, moment: datetime) -> float:
        return max(0.0, (moment - self.paced()).total_seconds() / self.speedup)


@dataclass
class Tally:
    filed: int = 0
    gated_in: int = 0
    departed: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    conflicts: int = 0
    waits: int = 0  # a truck at the gate that could not enter yet (screening, full yard)
    fees_paid: int = 0


class Simulation:
    def __init__(self, platform: Platform, config: SimulationConfig) -> None:
        self.platform = platform
        self.config = config
        self.gate: Gate = platform.gates.get(config.gate)
        self.rng = random.Random(config.seed)
        start = config.start or (datetime.now(UTC) - timedelta(hours=config.hours))
        self.start = start
        self.end = start + timedelta(hours=config.hours)
        self.clock = SimulatedClock(start, config.speedup, self.end)
        self.tally = Tally()
        self._queue: list[tuple[datetime, int, Callable[[], Awaitable[None]]]] = []
        self._seq = itertools.count()
        self.firm_users: dict[str, CurrentUser] = {}
        self.officers: dict[Stage, list[CurrentUser]] = {}
        self.busy: dict[str, datetime] = {}  # officer username -> free again at
        self.taken: set[tuple[str, Stage]] = set()  # (declaration id, stage) being worked
        self.yard_user: CurrentUser | None = None
        self.ids: dict[int, str] = {}  # truck index -> declaration id
        self.arrived: set[str] = set()  # declarations whose truck is physically at the gate

    # --- set-up ---------------------------------------------------------------------------

    async def _org(self, code: str, kind: str, name: str) -> None:
        try:
            await create_organisation(self.platform, code=code, kind=kind, name=name)
        except Conflict:
            pass

    async def _user(
        self, username: str, role: str, org: str, gates: list[str] | None = None
    ) -> CurrentUser:
        try:
            return await create_user(
                self.platform,
                username=username,
                role=role,
                organisation_code=org,
                password=SIM_PASSWORD,
                gates=gates,
            )
        except Conflict:
            user = await authenticate(self.platform, username, SIM_PASSWORD)
            if user is None:
                raise
            return user

    async def prepare(self) -> list[SimTruck]:
        """Organisations and users the simulation needs (reused if they exist), and its trucks."""
        tag = self.config.tag.lower()
        firm_list = firms()
        for firm in firm_list:
            await self._org(firm.code, "firm", firm.name)
            self.firm_users[firm.code] = await self._user(
                f"{tag}-{firm.code.lower()}", "firm_user", firm.code
            )
        for stage, (role, kind, org, name) in ROLE_FOR.items():
            await self._org(org, kind, name)
            self.officers[stage] = [
                await self._user(
                    f"{tag}-{kind}-{self.gate.code.lower()}-{i + 1}", role, org, [self.gate.code]
                )
                for i in range(self.config.staff.get(stage, 1))
            ]
        await self._org("SIM_BAI", "yard", "Doanh nghiệp kho bãi (mô phỏng)")
        self.yard_user = await self._user(
            f"{tag}-yard-{self.gate.code.lower()}", "yard_operator", "SIM_BAI", [self.gate.code]
        )
        return trucks(
            self.config.seed,
            self.config.trucks,
            gate=self.gate.code,
            start=self.start,
            hours=self.config.hours,
            firm_list=firm_list,
        )

    # --- scheduling -----------------------------------------------------------------------

    def at(self, moment: datetime, action: Callable[[], Awaitable[None]]) -> None:
        heapq.heappush(self._queue, (moment, next(self._seq), action))

    async def run(self) -> Tally:
        day = await self.prepare()
        self.platform.clock = self.clock
        for truck in day:
            self.at(truck.filing, lambda t=truck: self.file(t))
        self.at(self.start, self.dispatch)
        last_progress = 0.0
        while self._queue:
            moment, _, action = self._queue[0]
            if moment > self.end:
                break
            wait = self.clock.real_seconds_until(moment)
            if wait > 0:
                await asyncio.sleep(min(wait, 0.25))
                continue
            heapq.heappop(self._queue)
            self.clock.pinned = moment
            try:
                await action()
            except (ApplicationError, WorkflowError) as exc:
                log.debug("simulated action refused: %s", exc)
            finally:
                self.clock.pinned = None
            if self.config.progress and time.monotonic() - last_progress > 0.5:
                last_progress = time.monotonic()
                await self.show_progress()
        if self.config.progress:
            await self.show_progress(final=True)
        return self.tally

    # --- people ---------------------------------------------------------------------------

    async def file(self, truck: SimTruck) -> None:
        user = self.firm_users[truck.firm.code]
        facts = msgspec.convert(truck.body, DeclarationFacts)
        declaration, _ = await service.file_declaration(self.platform, user, facts)
        await service.submit_declaration(self.platform, user, declaration.id, expected_version=None)
        self.ids[truck.index] = declaration.id
        self.tally.filed += 1
        self.at(truck.arrival, lambda: self.arrive(truck, declaration.id))

    async def arrive(self, truck: SimTruck, declaration_id: str) -> None:
        self.arrived.add(declaration_id)
        if truck.direction is Direction.IMPORT:
            return  # the border guard admits it first; gate-in follows their approval
        await self.gate_in(truck.plate, declaration_id)

    async def gate_in(self, plate: str, declaration_id: str) -> None:
        assert self.yard_user is not None
        try:
            await service.record_gate_event(
                self.platform,
                self.yard_user,
                self.gate.code,
                "gate_in",
                plate,
                self.clock(),
                declaration_id=declaration_id,
            )
            self.tally.gated_in += 1
            # The driver pays the infrastructure fee at the kiosk a few minutes later.
            self.at(
                self.clock() + timedelta(minutes=self.rng.uniform(2, 12)),
                lambda: self.pay_fee(declaration_id),
            )
        except (ApplicationError, WorkflowError):
            # not screened yet, or the yard is full: the driver waits and tries again
            self.tally.waits += 1
            declaration = await self._declaration(declaration_id)
            if declaration is not None and declaration.status not in (
                Status.CANCELLED,
                Status.REJECTED,
            ):
                self.at(
                    self.clock() + timedelta(minutes=3), lambda: self.gate_in(plate, declaration_id)
                )

    async def pay_fee(self, declaration_id: str) -> None:
        """What the payment provider's callback would apply (the simulator is trusted)."""
        async with self.platform.unit_of_work() as uow:
            charge = await uow.session.scalar(
                select(FeeCharge).where(FeeCharge.declaration_id == declaration_id)
            )
        if charge is None or charge.status != "due":
            return
        callback = PaymentCallback(
            reference=f"SIM-{charge.id[:8]}-{self.rng.randrange(10**6):06d}",
            charge_id=charge.id,
            amount_vnd=charge.amount_vnd,
            paid_at=self.clock(),
        )
        try:
            await apply_payment(self.platform, callback)
            self.tally.fees_paid += 1
        except ApplicationError:
            pass  # paid meanwhile: nothing to do

    async def gate_out(self, plate: str, declaration_id: str) -> None:
        assert self.yard_user is not None
        await service.record_gate_event(
            self.platform,
            self.yard_user,
            self.gate.code,
            "gate_out",
            plate,
            self.clock(),
            declaration_id=declaration_id,
        )
        self.tally.departed += 1

    async def _declaration(self, declaration_id: str) -> Declaration | None:
        async with self.platform.unit_of_work() as uow:
            return await uow.declarations.get(declaration_id)

    async def dispatch(self) -> None:
        """Every two simulated minutes: officers look at their queues, cleared trucks leave."""
        now = self.clock()
        for stage in self.officers:
            await self.dispatch_stage(stage)
        await self._departures(now)
        self.at(now + timedelta(minutes=2), self.dispatch)

    async def dispatch_stage(self, stage: Stage) -> None:
        """Free officers of `stage` take the longest-waiting declarations of their queue."""
        now = self.clock()
        free = [o for o in self.officers[stage] if self.busy.get(o.username, now) <= now]
        if not free:
            return
        queue = await service.stage_queue(
            self.platform, free[0], DeclarationFilters(gate=self.gate.code), limit=50
        )
        for declaration in queue:
            if not free:
                break
            if (declaration.id, stage) in self.taken:
                continue
            if stage is Stage.BORDER_GUARD and declaration.facts.direction is Direction.IMPORT:
                if declaration.id not in self.arrived:
                    continue  # the truck is not at the border yet
            officer = free.pop(0)
            self.taken.add((declaration.id, stage))
            minutes = self.rng.lognormvariate(math.log(self.config.service_minutes[stage]), 0.5)
            if stage is Stage.CUSTOMS and declaration.channel is Channel.RED:
                minutes *= RED_CHANNEL_FACTOR
            done = now + timedelta(minutes=minutes)
            self.busy[officer.username] = done
            await self._decide(officer, declaration.id, stage, Decision.START_REVIEW, None)
            self.at(done, lambda o=officer, d=declaration.id, s=stage: self.conclude(o, d, s))

    async def conclude(self, officer: CurrentUser, declaration_id: str, stage: Stage) -> None:
        roll = self.rng.random()
        cfg = self.config
        if roll < cfg.rejection_rate:
            decision, reason = (
                Decision.REJECT,
                "Hàng không phù hợp với khai báo / goods do not match the declaration",
            )
        elif roll < cfg.rejection_rate + cfg.amendment_rate:
            decision, reason = (
                Decision.REQUEST_AMENDMENT,
                "Bổ sung chứng từ xuất xứ / add the certificate of origin",
            )
        elif roll < cfg.rejection_rate + cfg.amendment_rate + cfg.hold_rate:
            decision, reason = Decision.HOLD, "Chờ kết quả kiểm nghiệm / waiting for a lab result"
        else:
            decision, reason = Decision.APPROVE, "Đạt yêu cầu / in order"
        applied = await self._decide(officer, declaration_id, stage, decision, reason)
        self.taken.discard((declaration_id, stage))
        self.busy[officer.username] = self.clock()
        await self.dispatch_stage(stage)  # the officer takes the next one at once
        if applied is None:
            return
        if decision is Decision.HOLD:
            self.taken.add((declaration_id, stage))
            self.at(
                self.clock() + timedelta(minutes=self.rng.uniform(15, 45)),
                lambda: self._resume(officer, declaration_id, stage),
            )
        elif decision is Decision.REQUEST_AMENDMENT:
            self.at(
                self.clock() + timedelta(minutes=self.rng.uniform(20, 90)),
                lambda: self.answer_amendment(applied),
            )
        elif decision is Decision.APPROVE and applied.status is Status.CLEARED:
            self.taken.add((declaration_id, Stage.YARD))
            self.at(
                self.clock() + timedelta(minutes=self.rng.uniform(5, 15)),
                lambda: self.gate_out(applied.facts.vehicle.plate, declaration_id),
            )
        elif (
            decision is Decision.APPROVE
            and stage is Stage.BORDER_GUARD
            and applied.facts.direction is Direction.IMPORT
        ):
            self.at(
                self.clock() + timedelta(minutes=self.rng.uniform(3, 10)),
                lambda: self.gate_in(applied.facts.vehicle.plate, declaration_id),
            )

    async def _resume(self, officer: CurrentUser, declaration_id: str, stage: Stage) -> None:
        self.taken.discard((declaration_id, stage))
        await self._decide(
            officer, declaration_id, stage, Decision.RESUME, "Đã có kết quả / result received"
        )

    async def answer_amendment(self, declaration: Declaration) -> None:
        user = next(
            u for u in self.firm_users.values() if u.organisation_code == declaration.organisation
        )
        current = await service.get_declaration(self.platform, user, declaration.id)
        if current.status is not Status.AMENDMENT_REQUESTED:
            return
        line = current.facts.cargo[0]
        facts = msgspec.structs.replace(
            current.facts,
            cargo=[
                msgspec.structs.replace(line, packages=line.packages + 1),
                *current.facts.cargo[1:],
            ],
        )
        amended = await service.amend_declaration(
            self.platform, user, declaration.id, facts, expected_version=current.version
        )
        await service.submit_declaration(
            self.platform, user, declaration.id, expected_version=amended.version
        )

    async def _decide(
        self,
        officer: CurrentUser,
        declaration_id: str,
        stage: Stage,
        decision: Decision,
        reason: str | None,
    ) -> Declaration | None:
        try:
            current = await service.get_declaration(self.platform, officer, declaration_id)
            result = await service.decide_stage(
                self.platform,
                officer,
                declaration_id,
                stage,
                decision,
                reason,
                expected_version=current.version,
            )
        except (ApplicationError, WorkflowError) as exc:
            self.tally.conflicts += 1
            log.debug("%s %s on %s refused: %s", decision, stage, declaration_id, exc)
            return None
        self.tally.decisions[decision.value] += 1
        return result

    async def _departures(self, now: datetime) -> None:
        """Cleared trucks leave; rejected trucks that had entered are turned back."""
        assert self.yard_user is not None
        for truck_in_yard in await service.yard_occupants(
            self.platform, self.yard_user, self.gate.code
        ):
            if truck_in_yard.status in (Status.CLEARED, Status.REJECTED) and (
                (truck_in_yard.id, Stage.YARD) not in self.taken
            ):
                self.taken.add((truck_in_yard.id, Stage.YARD))
                delay = timedelta(minutes=self.rng.uniform(5, 15))
                self.at(
                    now + delay, lambda d=truck_in_yard: self.gate_out(d.facts.vehicle.plate, d.id)
                )

    # --- progress -------------------------------------------------------------------------

    async def counts(self) -> Counter[str]:
        """Declarations of this simulation by status (one grouped query)."""
        statement = (
            select(DeclarationRow.status, func.count(DeclarationRow.id))
            .where(
                DeclarationRow.gate == self.gate.code,
                DeclarationRow.organisation_code.in_(list(self.firm_users)),
                DeclarationRow.planned_arrival >= self.start,
            )
            .group_by(DeclarationRow.status)
        )
        async with self.platform.unit_of_work() as uow:
            return Counter(
                {status: int(n) for status, n in (await uow.session.execute(statement)).all()}
            )

    async def show_progress(self, *, final: bool = False) -> None:
        counts = await self.counts()
        local = self.clock().astimezone(self.gate.zone)
        parts = [f"{STATUS_LABELS[s][0]} {counts[s.value]}" for s in Status if counts[s.value]]
        line = (
            f"\r[{local:%d/%m %H:%M}] khai/filed {self.tally.filed}/{self.config.trucks} · "
            + " · ".join(parts)
        )
        print(line[:160].ljust(160), end="\n" if final else "", file=sys.stderr, flush=True)


def parse_pairs(text: str | None, convert: Callable[[str], Any]) -> dict[Stage, Any]:
    """'customs=3,plant_quarantine=2' → {Stage.CUSTOMS: 3, …}; names are checked."""
    result: dict[Stage, Any] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, _, value = part.partition("=")
        try:
            result[Stage(name.strip())] = convert(value.strip())
        except ValueError:
            known = ", ".join(s.value for s in Stage if s is not Stage.YARD)
            raise ValueError(f"'{part}': use stage=value with stage one of {known}") from None
    return result
