"""Adapter to the documents part (built elsewhere): the list a declaration page shows.

It answers what `GET /api/v1/declarations/{id}/documents` would: the declaration's
documents, newest first. Until a `border_gate.documents` service exists it answers None
and the page says "no documents yet". The integrator changes only this function.
"""

from __future__ import annotations

import importlib
from datetime import datetime
from typing import Any

import msgspec

from border_gate.identity.service import CurrentUser
from border_gate.platform import Platform
from workflows.model import Declaration


class DocumentLink(msgspec.Struct, frozen=True):
    title_vi: str
    title_en: str
    url: str
    issued_at: datetime | None = None
    current: bool = True


def _field(item: Any, *names: str, default: Any = None) -> Any:
    for name in names:
        value = item.get(name) if isinstance(item, dict) else getattr(item, name, None)
        if value is not None:
            return value
    return default


async def documents_for(
    platform: Platform, user: CurrentUser, declaration: Declaration
) -> list[DocumentLink] | None:
    """The declaration's documents, or None while the documents service does not exist."""
    try:
        documents = importlib.import_module("border_gate.documents.service")
    except ImportError:
        return None
    list_documents = getattr(documents, "list_documents", None)
    if list_documents is None:
        return None
    items = await list_documents(platform, user, declaration.id)
    links = []
    for item in items:
        kind = str(_field(item, "kind", default="document"))
        links.append(
            DocumentLink(
                title_vi=str(_field(item, "title_vi", "title", default=kind)),
                title_en=str(_field(item, "title_en", "title", default=kind)),
                url=str(_field(item, "verify_url", "url", default="#")),
                issued_at=_field(item, "issued_at", "created_at"),
                current=_field(item, "status", default="current") == "current",
            )
        )
    return links
