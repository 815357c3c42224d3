"""Produce one signed document: QR → template → PDF/A-3u → signature → hash, each step timed.

This is the function a document worker calls. It does no I/O of its own: storing the bytes
and recording the hash are the caller's business.
"""

from __future__ import annotations

import hashlib
import time

import msgspec

from border_gate.documents.authority import Authority
from border_gate.documents.content import Content, DocumentKind
from border_gate.documents.render import html_to_pdf, render_html, verification_qr_svg
from border_gate.documents.sign import sign_pdf


class StepTimings(msgspec.Struct, frozen=True, kw_only=True):
    """Milliseconds spent in each step of one `produce` call (for profiling and logs)."""

    qr_ms: float
    templating_ms: float
    render_ms: float
    signing_ms: float
    hashing_ms: float

    @property
    def total_ms(self) -> float:
        return self.qr_ms + self.templating_ms + self.render_ms + self.signing_ms + self.hashing_ms


class ProducedDocument(msgspec.Struct, frozen=True, kw_only=True):
    document_id: str
    kind: DocumentKind
    pdf: bytes  # signed PDF/A-3u
    sha256: str  # hex digest of `pdf`, what the verify page looks a file up by
    size: int
    timings: StepTimings


def produce(content: Content, authority: Authority) -> ProducedDocument:
    """Render `content` and sign it as `authority`.

    Raises DocumentRenderError / ResourceRefused (render) or SigningError (sign). Not for
    use inside a running event loop (pyHanko runs its own): call it from a worker thread,
    or through asyncio.to_thread.
    """
    started = time.perf_counter()
    qr_svg = verification_qr_svg(content.verify_url)
    after_qr = time.perf_counter()
    html = render_html(content, qr_svg=qr_svg)
    after_templating = time.perf_counter()
    unsigned = html_to_pdf(html)
    after_render = time.perf_counter()
    signed = sign_pdf(unsigned, authority, content.document_id)
    after_signing = time.perf_counter()
    digest = hashlib.sha256(signed).hexdigest()
    finished = time.perf_counter()
    return ProducedDocument(
        document_id=content.document_id,
        kind=content.kind,
        pdf=signed,
        sha256=digest,
        size=len(signed),
        timings=StepTimings(
            qr_ms=(after_qr - started) * 1000,
            templating_ms=(after_templating - after_qr) * 1000,
            render_ms=(after_render - after_templating) * 1000,
            signing_ms=(after_signing - after_render) * 1000,
            hashing_ms=(finished - after_signing) * 1000,
        ),
    )
