"""The public verify page a document's QR code opens (HTML for people)."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from importlib import resources

import jinja2

from border_gate.documents.service import VerifyResult


@cache
def _template() -> jinja2.Template:
    source = (
        resources.files("border_gate.documents")
        .joinpath("templates/verify.html")
        .read_text("utf-8")
    )
    return jinja2.Environment(autoescape=True).from_string(source)


def _when(moment: datetime | None) -> str:
    return f"{moment:%H:%M %d/%m/%Y} (UTC{moment:%z})" if moment else "—"


def render(result: VerifyResult) -> str:
    return _template().render(
        result=result, issued=_when(result.issued_at), changed=_when(result.status_changed_at)
    )
