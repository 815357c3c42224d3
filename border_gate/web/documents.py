"""Documents on the pages: the list a declaration page shows, and downloads with the session."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get

from border_gate.documents import service as documents
from border_gate.documents.content import KIND_TITLES, DocumentKind
from border_gate.identity.service import CurrentUser
from border_gate.platform import Platform
from border_gate.web.render import viewer
from workflows.labels import STAGE_LABELS
from workflows.model import Declaration, Stage


class DocumentLink(msgspec.Struct, frozen=True):
    title_vi: str
    title_en: str
    url: str  # the PDF, downloaded with the page session
    verify_url: str
    issued_at: datetime | None = None
    current: bool = True
    status: str = "current"


def _titles(kind: str, stage: str | None) -> tuple[str, str]:
    vi, en = KIND_TITLES.get(DocumentKind(kind), (kind, kind))
    if stage:
        stage_vi, stage_en = STAGE_LABELS[Stage(stage)]
        return f"{vi} – {stage_vi}", f"{en} – {stage_en}"
    return vi, en


async def documents_for(
    platform: Platform, user: CurrentUser, declaration: Declaration
) -> list[DocumentLink] | None:
    """The declaration's documents, newest first (None never: the service exists)."""
    rows = await documents.declaration_documents(platform, user, declaration.id)
    links = []
    for row in sorted(rows, key=lambda r: r.issued_at, reverse=True):
        vi, en = _titles(row.kind, row.stage)
        links.append(
            DocumentLink(
                title_vi=vi,
                title_en=en,
                url=f"/documents/{row.id}",
                verify_url=f"/verify/{row.id}",
                issued_at=row.issued_at,
                current=row.status == "current",
                status=row.status,
            )
        )
    return links


class DocumentPages(Controller):
    @get("/documents/{document_id:str}", name="document-download")
    async def download(
        self, request: Request[Any, Any, Any], platform: Platform, document_id: str
    ) -> Response[bytes]:
        user = viewer(request)
        assert user is not None  # the guard let only signed-in people through
        row, data = await documents.document_bytes(platform, user, document_id)
        name = f"{row.declaration_number or 'document'}-{row.kind}.pdf"
        return Response(
            content=data,
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{name}"'},
        )
