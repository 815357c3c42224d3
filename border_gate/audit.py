"""Checking the audit trail: every hash chain intact, every trail replaying to the stored state."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from sqlalchemy import func, select

from border_gate.db.models import DeclarationRow
from border_gate.platform import Platform
from workflows.machine import replay, verify_chain


@dataclass
class AuditReport:
    checked: int = 0
    broken_chains: list[tuple[str, int]] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.broken_chains and not self.mismatches

    def summary(self) -> str:
        lines = [f"Đã kiểm tra / checked: {self.checked} tờ khai / declarations"]
        for declaration_id, version in self.broken_chains:
            lines.append(f"  CHUỖI HỎNG / broken chain: {declaration_id} at event {version}")
        for declaration_id in self.mismatches:
            lines.append(f"  LỆCH / replay differs from stored state: {declaration_id}")
        lines.append("OK" if self.ok else "KHÔNG ĐẠT / FAILED")
        return "\n".join(lines)


async def check_declaration(platform: Platform, declaration_id: str) -> tuple[int | None, bool]:
    """(first broken event version or None, whether the replay equals the stored state)."""
    async with platform.unit_of_work() as uow:
        stored = await uow.declarations.get(declaration_id)
        events = await uow.declarations.events(declaration_id)
    broken = verify_chain(events)
    if stored is None or not events:
        return broken, stored is None and not events
    return broken, replay(events) == stored


async def verify_all(
    platform: Platform,
    *,
    declaration_id: str | None = None,
    progress: bool = True,
    batch: int = 500,
) -> AuditReport:
    report = AuditReport()
    if declaration_id is not None:
        ids = [declaration_id]
        total = 1
    else:
        async with platform.unit_of_work() as uow:
            total = (await uow.session.execute(select(func.count(DeclarationRow.id)))).scalar_one()
        ids = []
    last = ""
    while True:
        if declaration_id is None:
            async with platform.unit_of_work() as uow:
                ids = list(
                    (
                        await uow.session.scalars(
                            select(DeclarationRow.id)
                            .where(DeclarationRow.id > last)
                            .order_by(DeclarationRow.id)
                            .limit(batch)
                        )
                    ).all()
                )
            if not ids:
                break
            last = ids[-1]
        for one in ids:
            broken, same = await check_declaration(platform, one)
            report.checked += 1
            if broken is not None:
                report.broken_chains.append((one, broken))
            if not same:
                report.mismatches.append(one)
            if progress and (report.checked % 100 == 0 or report.checked == total):
                print(f"\r  {report.checked}/{total}", end="", file=sys.stderr, flush=True)
        if declaration_id is not None:
            break
    if progress and total:
        print(file=sys.stderr)
    return report
