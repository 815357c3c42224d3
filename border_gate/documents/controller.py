"""Documents over HTTP: list and download (for whoever may see the declaration), and verify
(public: the page a QR code opens, and an upload check for a PDF file)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, MediaType, Request, Response, get, post

from border_gate.api.http import current_user
from border_gate.documents import service
from border_gate.documents.service import DocumentOut, VerifyResult
from border_gate.errors import InvalidInput
from border_gate.platform import Platform

MAX_PDF_BYTES = 20 * 1024 * 1024


class DocumentController(Controller):
    tags = ["documents"]

    @get(
        "/api/v1/declarations/{declaration_id:str}/documents",
        summary="Documents issued for a declaration",
    )
    async def list_for_declaration(
        self, request: Request[Any, Any, Any], platform: Platform, declaration_id: str
    ) -> list[DocumentOut]:
        rows = await service.declaration_documents(platform, current_user(request), declaration_id)
        return [service.document_out(row, platform) for row in rows]

    @get(
        "/api/v1/documents/{document_id:str}",
        summary="Download the signed PDF, byte for byte as issued",
        media_type="application/pdf",
    )
    async def download(
        self, request: Request[Any, Any, Any], platform: Platform, document_id: str
    ) -> Response[bytes]:
        row, data = await service.document_bytes(platform, current_user(request), document_id)
        name = f"{row.declaration_number or 'document'}-{row.kind}{'-' + row.stage if row.stage else ''}.pdf"
        return Response(
            content=data,
            media_type="application/pdf",
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "ETag": f'"{row.sha256}"',
                "X-Document-Status": row.status,
            },
        )

    @post(
        "/api/v1/documents/verify",
        opt={"exclude_from_auth": True},
        summary="Check a PDF file: genuine only if issued by this platform and unaltered",
        description="Send the file's bytes with `Content-Type: application/pdf`.",
        status_code=200,
        request_max_body_size=MAX_PDF_BYTES,
    )
    async def verify_upload(
        self, request: Request[Any, Any, Any], platform: Platform
    ) -> VerifyResult:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/pdf":
            raise InvalidInput(
                "Gửi tệp với Content-Type: application/pdf",
                f"send the file with Content-Type: application/pdf (got {content_type or 'none'})",
                field="Content-Type",
            )
        return await service.verify_upload(platform, await request.body())

    @get(
        "/verify/{document_id:str}",
        opt={"exclude_from_auth": True},
        summary="Is this document genuine and current? HTML for people, JSON for machines",
        media_type=MediaType.JSON,
    )
    async def verify_page(
        self, request: Request[Any, Any, Any], platform: Platform, document_id: str
    ) -> Response[Any]:
        result = await service.verify_by_id(platform, document_id)
        status = 200 if result.genuine else 404
        accept = request.headers.get("accept", "")
        if "text/html" in accept and "application/json" not in accept.split(",")[0]:
            return Response(
                content=render_verify_html(result),
                media_type=MediaType.HTML,
                status_code=status,
            )
        return Response(content=result, status_code=status, media_type=MediaType.JSON)


def render_verify_html(result: VerifyResult) -> str:
    from border_gate.documents.verify_page import render

    return render(result)
