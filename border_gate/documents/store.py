"""Where signed document bytes live: the database (default) or a directory.

An S3-compatible store would be a third class with the same two methods.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from border_gate.db.models import DocumentBlob
from border_gate.settings import Settings


class DocumentStore(Protocol):
    name: str

    async def put(self, session: AsyncSession, document_id: str, data: bytes) -> str:
        """Keep `data` under the document's id; part of the caller's transaction."""
        ...

    async def get(self, session: AsyncSession, key: str) -> bytes | None: ...


class DatabaseStore:
    """Bytes in `document_blobs`, committed together with the document's row."""

    name = "database"

    async def put(self, session: AsyncSession, document_id: str, data: bytes) -> str:
        session.add(DocumentBlob(document_id=document_id, content=data))
        return document_id

    async def get(self, session: AsyncSession, key: str) -> bytes | None:
        blob = await session.get(DocumentBlob, key)
        return blob.content if blob is not None else None


class DirectoryStore:
    """Bytes in files under a directory. A file is written (atomically) before the row
    commits; if the commit fails the file is an orphan nobody points to, never the reverse."""

    name = "directory"

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / key[2:4] / f"{key}.pdf"

    def _write(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        with open(partial, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)

    async def put(self, session: AsyncSession, document_id: str, data: bytes) -> str:
        await asyncio.to_thread(self._write, document_id, data)
        return document_id

    async def get(self, session: AsyncSession, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None


def build_store(settings: Settings) -> DocumentStore:
    """DOCUMENT_STORE=database (default) or a directory path."""
    if settings.document_store in ("", "database"):
        return DatabaseStore()
    return DirectoryStore(Path(settings.document_store))
