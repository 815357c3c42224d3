"""Issuing documents in workers, keeping their status true, and verifying them for anyone.

- Which decisions issue which document is `document_follow_ups` (part of the outbox policy).
- `issue_document` runs in a worker: render and sign outside any transaction, then store
  the bytes and the row, supersede the previous copy, and record the work id, in one.
- `documents_hook` runs inside every transition's transaction: an amendment supersedes
  the declaration's documents, a hold revokes what the held stage had issued (and the
  clearance certificate), a rejection or cancellation revokes everything. The verify page
  reads the same rows, so it says so at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import select

from border_gate.db.models import DocumentRow, Organisation, ProcessedMessage
from border_gate.db.uow import UnitOfWork
from border_gate.documents.policy import (
    CLEARANCE_CERTIFICATE,
    CUSTOMS_RELEASE,
    FEE_RECEIPT,
    QUARANTINE_CERTIFICATE,
    RENDER_ACTOR,
    YARD_TICKET,
    stage_document,
)
from border_gate.errors import InvalidInput, NotFound, declaration_not_found
from border_gate.identity.service import CurrentUser
from border_gate.ids import looks_like_id, new_id
from border_gate.notifications.service import notify
from border_gate.notifications.topics import DOCUMENT_ISSUED, Notice
from border_gate.platform import Platform
from workflows.machine import Event
from workflows.model import Declaration, Stage, StageState, Status
from workflows.roles import can_see

log = logging.getLogger("border_gate.documents")


# --- Keeping statuses true ----------------------------------------------------------------


async def _mark(
    uow: UnitOfWork,
    declaration_id: str,
    status: str,
    reason: str,
    at: datetime,
    *,
    kinds: list[tuple[str, str | None]] | None = None,
) -> None:
    rows = (
        await uow.session.scalars(
            select(DocumentRow).where(
                DocumentRow.declaration_id == declaration_id, DocumentRow.status == "current"
            )
        )
    ).all()
    for row in rows:
        if kinds is not None and (row.kind, row.stage) not in kinds:
            continue
        if row.kind == FEE_RECEIPT:
            continue  # a receipt records a payment made: no later decision undoes it
        row.status = status
        row.status_changed_at = at
        row.status_reason = reason


async def documents_hook(
    uow: UnitOfWork, before: Declaration, after: Declaration, events: list[Event]
) -> None:
    """Runs in the transition's transaction: documents the change made wrong stop being current."""
    at = events[-1].at
    for event in events:
        if event.action == "amend":
            await _mark(
                uow,
                after.id,
                "superseded",
                "Tờ khai đã được sửa đổi / the declaration was amended",
                at,
            )
        elif event.action in ("reject", "cancel"):
            words = (
                "Tờ khai bị từ chối / the declaration was rejected"
                if event.action == "reject"
                else "Tờ khai đã huỷ / the declaration was cancelled"
            )
            await _mark(uow, after.id, "revoked", f"{words}: {event.reason or ''}".rstrip(": "), at)
        elif event.action == "hold" and event.stage is not None:
            held: list[tuple[str, str | None]] = [(CLEARANCE_CERTIFICATE, None)]
            if (kind := stage_document(event.stage)) is not None:
                held.append((kind, event.stage.value if kind == QUARANTINE_CERTIFICATE else None))
            await _mark(
                uow,
                after.id,
                "revoked",
                f"Tạm dừng giai đoạn {event.stage.value} / stage {event.stage.value} put on hold: "
                f"{event.reason or ''}",
                at,
                kinds=held,
            )


# --- Issuing in workers ------------------------------------------------------------------


def _still_due(declaration: Declaration, kind: str, stage: Stage | None) -> bool:
    if declaration.status in (Status.REJECTED, Status.CANCELLED):
        return False
    if kind == YARD_TICKET:
        return declaration.arrived_at is not None
    if kind == CUSTOMS_RELEASE:
        return declaration.stages.get(Stage.CUSTOMS) is not None and (
            declaration.stages[Stage.CUSTOMS].state is StageState.APPROVED
        )
    if kind == QUARANTINE_CERTIFICATE:
        return (
            stage is not None
            and stage in declaration.stages
            and (declaration.stages[stage].state is StageState.APPROVED)
        )
    if kind == CLEARANCE_CERTIFICATE:
        return declaration.status in (Status.CLEARED, Status.DEPARTED)
    return False


def _due(
    declaration: Declaration,
    kind: str,
    stage: Stage | None,
    receipt_facts: list[tuple[str, str, str]] | None,
) -> bool:
    if kind == FEE_RECEIPT:
        return receipt_facts is not None  # the fee is paid, whatever became of the truck
    return _still_due(declaration, kind, stage)


async def _receipt_facts(
    platform: Platform, uow: UnitOfWork, declaration_id: str, kind: str
) -> list[tuple[str, str, str]] | None:
    """For a fee receipt: the paid charge's lines; None when nothing is paid (or not a receipt)."""
    if kind != FEE_RECEIPT:
        return None
    from border_gate.fees.service import paid_charge, receipt_facts

    charge = await paid_charge(uow.session, declaration_id)
    return receipt_facts(platform, charge) if charge is not None else None


def _person(actor: str | None) -> str:
    return (actor or "system").removeprefix("user:")


def build_content(
    platform: Platform,
    declaration: Declaration,
    firm_name: str,
    kind: str,
    stage: Stage | None,
    document_id: str,
    extra_facts: list[tuple[str, str, str]] | None = None,
) -> Any:
    """What the document shows, from the declaration as it is now."""
    from border_gate.documents.content import CargoLine, DocumentContent, DocumentKind

    gate = platform.gates.get(declaration.facts.gate)
    facts = declaration.facts
    issuer: str
    reason: str | None = None
    if kind == YARD_TICKET:
        issuer = _person(declaration.stages[Stage.YARD].decided_by)
    elif kind == FEE_RECEIPT:
        issuer = "system:fees"
    elif kind in (CUSTOMS_RELEASE, QUARANTINE_CERTIFICATE):
        record = declaration.stages[Stage.CUSTOMS if kind == CUSTOMS_RELEASE else stage]  # type: ignore[index]
        issuer = _person(record.decided_by)
        reason = record.reason
    else:
        issuer = _person(declaration.stages[Stage.BORDER_GUARD].decided_by)
    issued_at = platform.now()
    return DocumentContent(
        document_id=document_id,
        kind=DocumentKind(kind),
        declaration_id=declaration.id,
        declaration_number=declaration.number,
        direction=facts.direction,
        gate_code=gate.code,
        gate_name_vi=gate.name_vi,
        gate_name_en=gate.name_en,
        plate=facts.vehicle.plate,
        trailer_plate=facts.vehicle.trailer_plate,
        driver_name=facts.driver.name,
        firm_name=firm_name,
        issued_at=issued_at,
        issuer=issuer,
        verify_url=f"{platform.settings.public_url}/verify/{document_id}",
        stage=stage if kind == QUARANTINE_CERTIFICATE else None,
        channel=declaration.channel if kind == CUSTOMS_RELEASE else None,
        decision_reason=(reason or None) and reason[:4000],
        yard_position=declaration.yard_position if kind == YARD_TICKET else None,
        cargo=[CargoLine.from_declared(line) for line in facts.cargo],
        facts=extra_facts or [],
        timezone=gate.timezone,
    )


async def issue_document(
    platform: Platform,
    *,
    declaration_id: str,
    kind: str,
    stage: str | None,
    work_id: str,
    actor_name: str = RENDER_ACTOR,
) -> str:
    """Render, sign and store one document for a declaration, once per work id."""
    from border_gate.documents.pipeline import produce

    which = Stage(stage) if stage else None
    async with platform.unit_of_work() as uow:
        if await uow.session.get(ProcessedMessage, work_id) is not None:
            return "duplicate"
        declaration = await uow.declarations.get(declaration_id)
        extra_facts = await _receipt_facts(platform, uow, declaration_id, kind)
        if declaration is None or not _due(declaration, kind, which, extra_facts):
            outcome = "stale"
        else:
            outcome = ""
            firm = await uow.session.get(Organisation, declaration.organisation)
            firm_name = firm.name if firm else declaration.organisation
            current = await uow.session.scalar(
                select(DocumentRow.id).where(
                    DocumentRow.declaration_id == declaration_id,
                    DocumentRow.kind == kind,
                    DocumentRow.stage == stage if stage else DocumentRow.stage.is_(None),
                    DocumentRow.status == "current",
                )
            )
            if current is not None:
                outcome = "already-current"
    if outcome:
        await _record_processed(platform, work_id, actor_name)
        return outcome
    assert declaration is not None
    document_id = new_id()
    content = build_content(platform, declaration, firm_name, kind, which, document_id, extra_facts)
    produced = await asyncio.to_thread(produce, content, platform.authority())
    async with platform.unit_of_work() as uow:
        # Hold the declaration still while we check nothing made this copy wrong meanwhile.
        now_declaration = await uow.declarations.get(declaration_id, lock=True)
        if await uow.session.get(ProcessedMessage, work_id) is not None:
            return "duplicate"
        if now_declaration is None or (
            kind != FEE_RECEIPT
            and (
                now_declaration.facts != declaration.facts
                or not _still_due(now_declaration, kind, which)
            )
        ):
            uow.session.add(_processed(platform, work_id, actor_name))
            await uow.commit()
            return "stale"
        store = platform.document_store()
        previous = (
            await uow.session.scalars(
                select(DocumentRow).where(
                    DocumentRow.declaration_id == declaration_id,
                    DocumentRow.kind == kind,
                    DocumentRow.stage == stage if stage else DocumentRow.stage.is_(None),
                    DocumentRow.status == "current",
                )
            )
        ).all()
        issued_at = content.issued_at
        uow.session.add(
            DocumentRow(
                id=document_id,
                declaration_id=declaration_id,
                kind=kind,
                stage=stage,
                status="current",
                sha256=produced.sha256,
                size=produced.size,
                storage=store.name,
                storage_key=document_id,
                issued_at=issued_at,
                issued_by=content.issuer,
                declaration_version=now_declaration.version,
                declaration_number=declaration.number,
                plate=declaration.facts.vehicle.plate,
                gate=declaration.facts.gate,
            )
        )
        await uow.session.flush()  # the row first: the stored bytes refer to it
        await store.put(uow.session, document_id, produced.pdf)
        for row in previous:
            row.status = "superseded"
            row.superseded_by = document_id
            row.status_changed_at = issued_at
            row.status_reason = "Đã có bản mới / replaced by a newer copy"
        uow.session.add(_processed(platform, work_id, actor_name))
        notified = await notify(
            platform,
            uow,
            now_declaration,
            [
                Notice(
                    topic=DOCUMENT_ISSUED,
                    at=issued_at,
                    data={
                        "document_id": document_id,
                        "kind": kind,
                        "stage": stage,
                        "download": f"/api/v1/documents/{document_id}",
                        "verify": content.verify_url,
                    },
                )
            ],
        )
        await uow.commit()
    if notified:
        platform.outbox_written()
    log.info(
        "issued %s %s for %s in %.0f ms (render %.0f ms)",
        kind,
        document_id,
        declaration.number,
        produced.timings.total_ms,
        produced.timings.render_ms,
    )
    return "issued"


def _processed(platform: Platform, work_id: str, actor_name: str) -> ProcessedMessage:
    return ProcessedMessage(message_id=work_id, actor_name=actor_name, processed_at=platform.now())


async def _record_processed(platform: Platform, work_id: str, actor_name: str) -> None:
    from border_gate.screening.service import mark_processed

    await mark_processed(platform, work_id, actor_name)


# --- Reading and verifying -------------------------------------------------------------------


class DocumentOut(msgspec.Struct, frozen=True):
    id: str
    kind: str
    stage: str | None
    status: str
    sha256: str
    size: int
    issued_at: datetime
    issued_by: str
    status_changed_at: datetime | None
    status_reason: str | None
    superseded_by: str | None
    download: str
    verify: str


def document_out(row: DocumentRow, platform: Platform) -> DocumentOut:
    zone = (
        platform.gates.get(row.gate).zone if row.gate in platform.gates else platform.settings.zone
    )
    return DocumentOut(
        id=row.id,
        kind=row.kind,
        stage=row.stage,
        status=row.status,
        sha256=row.sha256,
        size=row.size,
        issued_at=row.issued_at.astimezone(zone),
        issued_by=row.issued_by,
        status_changed_at=row.status_changed_at.astimezone(zone) if row.status_changed_at else None,
        status_reason=row.status_reason,
        superseded_by=row.superseded_by,
        download=f"/api/v1/documents/{row.id}",
        verify=f"{platform.settings.public_url}/verify/{row.id}",
    )


async def declaration_documents(
    platform: Platform, user: CurrentUser, declaration_id: str
) -> list[DocumentRow]:
    if not looks_like_id(declaration_id):
        raise declaration_not_found(declaration_id)
    async with platform.unit_of_work() as uow:
        declaration = await uow.declarations.get(declaration_id)
        if declaration is None or not can_see(
            user.actor, organisation=declaration.organisation, gate=declaration.facts.gate
        ):
            raise declaration_not_found(declaration_id)
        return list(
            (
                await uow.session.scalars(
                    select(DocumentRow)
                    .where(DocumentRow.declaration_id == declaration_id)
                    .order_by(DocumentRow.issued_at)
                )
            ).all()
        )


def _document_not_found(document_id: str) -> NotFound:
    shown = document_id if looks_like_id(document_id) else "?"
    return NotFound(f"Không có văn bản {shown}", f"no document {shown}")


async def document_bytes(
    platform: Platform, user: CurrentUser, document_id: str
) -> tuple[DocumentRow, bytes]:
    """The exact signed bytes, for whoever may see the declaration it belongs to."""
    if not looks_like_id(document_id):
        raise _document_not_found(document_id)
    async with platform.unit_of_work() as uow:
        row = await uow.session.get(DocumentRow, document_id)
        if row is None:
            raise _document_not_found(document_id)
        if row.declaration_id is not None:
            declaration = await uow.declarations.get(row.declaration_id)
            if declaration is None or not can_see(
                user.actor, organisation=declaration.organisation, gate=declaration.facts.gate
            ):
                raise _document_not_found(document_id)
        elif user.role.value not in ("management", "admin"):
            raise _document_not_found(document_id)
        data = await platform.document_store().get(uow.session, row.storage_key)
    if data is None or hashlib.sha256(data).hexdigest() != row.sha256:
        log.error("stored bytes of document %s are missing or altered", document_id)
        raise NotFound(
            "Không đọc được bản lưu của văn bản; báo quản trị",
            "the stored copy of this document cannot be read; tell an administrator",
        )
    return row, data


class VerifyResult(msgspec.Struct, frozen=True):
    """What anyone may learn about a document: enough for the gate, nothing a competitor could mine."""

    genuine: bool
    status: str  # current | superseded | revoked | unknown
    document_id: str | None
    reason: str
    kind: str | None = None
    kind_label: str | None = None
    declaration_number: str | None = None
    plate: str | None = None
    gate: str | None = None
    gate_name: str | None = None
    issued_at: datetime | None = None
    status_changed_at: datetime | None = None
    status_reason: str | None = None
    superseded_by: str | None = None


def _kind_label(kind: str) -> str:
    from border_gate.documents.content import KIND_TITLES, DocumentKind

    try:
        vi, en = KIND_TITLES[DocumentKind(kind)]
    except ValueError:
        return kind
    return f"{vi} / {en}"


_STATUS_WORDS = {
    "current": "Văn bản thật, đang có hiệu lực / genuine and current",
    "superseded": "Văn bản thật nhưng đã được thay thế / genuine but superseded",
    "revoked": "Văn bản thật nhưng đã bị thu hồi / genuine but revoked",
}


def _result_for(platform: Platform, row: DocumentRow) -> VerifyResult:
    gate = platform.gates.get(row.gate) if row.gate in platform.gates else None
    zone = gate.zone if gate else platform.settings.zone
    return VerifyResult(
        genuine=True,
        status=row.status,
        document_id=row.id,
        reason=_STATUS_WORDS.get(row.status, row.status),
        kind=row.kind,
        kind_label=_kind_label(row.kind),
        declaration_number=row.declaration_number,
        plate=row.plate,
        gate=row.gate,
        gate_name=f"{gate.name_vi} / {gate.name_en}" if gate else None,
        issued_at=row.issued_at.astimezone(zone),
        status_changed_at=row.status_changed_at.astimezone(zone) if row.status_changed_at else None,
        status_reason=row.status_reason,
        superseded_by=row.superseded_by,
    )


UNKNOWN = "Không phải văn bản do hệ thống cấp / not a document this platform issued"


async def verify_by_id(platform: Platform, document_id: str) -> VerifyResult:
    if not looks_like_id(document_id):
        return VerifyResult(genuine=False, status="unknown", document_id=None, reason=UNKNOWN)
    async with platform.unit_of_work() as uow:
        row = await uow.session.get(DocumentRow, document_id)
    if row is None:
        return VerifyResult(
            genuine=False, status="unknown", document_id=document_id, reason=UNKNOWN
        )
    return _result_for(platform, row)


async def verify_upload(platform: Platform, data: bytes) -> VerifyResult:
    """Genuine only if signed by our authority over the whole file and byte-for-byte the copy we issued."""
    from border_gate.documents.verify import verify_pdf

    if not data:
        raise InvalidInput(
            "Cần gửi nội dung tệp PDF", "send the PDF's bytes as the body", field="body"
        )
    checked = await asyncio.to_thread(verify_pdf, data, platform.authority().certificate)
    if not checked.genuine or checked.document_id is None:
        return VerifyResult(
            genuine=False, status="unknown", document_id=None, reason=checked.reason
        )
    async with platform.unit_of_work() as uow:
        row = await uow.session.get(DocumentRow, checked.document_id)
    if row is None:
        return VerifyResult(
            genuine=False, status="unknown", document_id=checked.document_id, reason=UNKNOWN
        )
    if row.sha256 != checked.sha256:
        return VerifyResult(
            genuine=False,
            status="unknown",
            document_id=row.id,
            reason="Chữ ký hợp lệ nhưng tệp khác bản đã cấp / signed by us, but not the copy we issued",
        )
    return _result_for(platform, row)
