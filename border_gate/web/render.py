"""Rendering pages: the Jinja2 environment, what every page knows, flash messages, local times."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, pass_context
from litestar.connection import Request
from litestar.enums import MediaType
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect, Template
from markupsafe import Markup

from border_gate.identity.service import CurrentUser
from border_gate.web import i18n
from workflows.labels import (
    CHANNEL_LABELS,
    DIRECTION_LABELS,
    STAGE_LABELS,
    STAGE_STATE_LABELS,
    STATUS_LABELS,
)
from workflows.model import Channel, Direction, Stage, StageState, Status
from workflows.roles import ROLE_STAGE, Role

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

#: Roles that work a stage's queue (the yard works at the gate instead).
OFFICER_ROLES = frozenset(role for role in ROLE_STAGE if role is not Role.YARD_OPERATOR)
BOARD_ROLES = frozenset({Role.MANAGEMENT, Role.ADMIN})


def home_for(user: CurrentUser) -> str:
    """Where each role starts."""
    if user.role is Role.FIRM_USER:
        return "/declarations"
    if user.role is Role.YARD_OPERATOR:
        return "/yard"
    if user.role in OFFICER_ROLES:
        return "/queue"
    return "/dashboard"


def nav_items(user: CurrentUser | None) -> list[tuple[str, str]]:
    """(path, text key) of the menu for this role."""
    if user is None:
        return []
    role = user.role
    items: list[tuple[str, str]] = []
    if role in OFFICER_ROLES:
        items.append(("/queue", "nav.queue"))
    if role is Role.YARD_OPERATOR:
        items.append(("/yard", "nav.yard"))
        items.append(("/waiting-area", "nav.waiting_area"))
    if role in BOARD_ROLES:
        items.append(("/dashboard", "nav.dashboard"))
        items.append(("/waiting-area", "nav.waiting_area"))
        items.append(("/quota", "nav.quota"))
    items.append(("/declarations", "nav.declarations"))
    if role is Role.FIRM_USER:
        items.append(("/declarations/new", "nav.new"))
    if role in (Role.BORDER_GUARD_OFFICER, Role.ADMIN):
        items.append(("/watchlist", "nav.watchlist"))
    return items


# --- Times in the gate's zone ------------------------------------------------------------------


def local(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    return value.astimezone(zone) if value is not None else None


def offset_text(value: datetime) -> str:
    """'UTC+07:00' for a local time: the zone named without depending on the tz database's abbreviations."""
    offset = value.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def format_time(value: datetime | None, zone: ZoneInfo, *, with_zone: bool = True) -> Markup:
    """A <time> element: dd/mm/yyyy HH:MM in the gate's zone, machine-readable ISO inside."""
    if value is None:
        return Markup("—")
    shown = value.astimezone(zone)
    body = shown.strftime("%d/%m/%Y %H:%M")
    suffix = f" <small>{offset_text(shown)}</small>" if with_zone else ""
    return Markup('<time datetime="{iso}" title="{zone}">{body}{suffix}</time>').format(
        iso=shown.isoformat(timespec="seconds"), zone=zone.key, body=body, suffix=Markup(suffix)
    )


def zone_note(zone: ZoneInfo, lang: str) -> str:
    now = datetime.now(UTC).astimezone(zone)
    return f"{i18n.text('time.zone_note', lang)}: {zone.key} ({offset_text(now)})"


def duration_text(delta: timedelta | None, lang: str) -> str:
    """'2 giờ 05 phút' / '2 h 05 min': how long someone has waited."""
    if delta is None:
        return "—"
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    words = {
        "d": i18n.text("common.days", lang),
        "h": i18n.text("common.hours", lang),
        "m": i18n.text("common.minutes_ago", lang),
    }
    if days:
        return f"{days} {words['d']} {hours} {words['h']}"
    if hours:
        return f"{hours} {words['h']} {mins:02d} {words['m']}"
    return f"{mins} {words['m']}"


# --- The Jinja environment ------------------------------------------------------------------------


@pass_context
def _t(context: Any, key: str) -> str:
    return i18n.text(key, context.get("lang", i18n.DEFAULT_LANGUAGE))


@pass_context
def _label(context: Any, pair: tuple[str, str] | None) -> str:
    if pair is None:
        return "—"
    return i18n.pick(pair, context.get("lang", i18n.DEFAULT_LANGUAGE))


@pass_context
def _other(context: Any, pair: tuple[str, str]) -> str:
    """The other language, for bilingual error pages."""
    lang = context.get("lang", i18n.DEFAULT_LANGUAGE)
    return i18n.pick(pair, "vi" if lang == "en" else "en")


def _lang_of(context: Any) -> str:
    return str(context.get("lang", i18n.DEFAULT_LANGUAGE))


@pass_context
def _status(context: Any, status: Status | str) -> str:
    return i18n.pick(STATUS_LABELS[Status(status)], _lang_of(context))


@pass_context
def _stage(context: Any, stage: Stage | str) -> str:
    return i18n.pick(STAGE_LABELS[Stage(stage)], _lang_of(context))


@pass_context
def _stage_state(context: Any, state: StageState | str) -> str:
    return i18n.pick(STAGE_STATE_LABELS[StageState(state)], _lang_of(context))


@pass_context
def _channel(context: Any, channel: Channel | str | None) -> str:
    if channel is None:
        return "—"
    return i18n.pick(CHANNEL_LABELS[Channel(channel)], _lang_of(context))


@pass_context
def _direction(context: Any, direction: Direction | str) -> str:
    return i18n.pick(DIRECTION_LABELS[Direction(direction)], _lang_of(context))


@pass_context
def _role(context: Any, role: Role | str) -> str:
    return i18n.role_label(role, _lang_of(context))


@pass_context
def _action(context: Any, action: str) -> str:
    pair = i18n.ACTION_LABELS.get(action)
    return i18n.pick(pair, _lang_of(context)) if pair else action


@pass_context
def _decision(context: Any, decision: str) -> str:
    return i18n.pick(i18n.DECISION_LABELS[decision], _lang_of(context))


@pass_context
def _actor(context: Any, actor: str) -> str:
    return i18n.actor_label(actor, _lang_of(context))


@pass_context
def _waited(context: Any, since: datetime | None, now: datetime | None = None) -> str:
    if since is None:
        return "—"
    return duration_text((now or datetime.now(UTC)) - since, _lang_of(context))


@pass_context
def _message(context: Any, error: Any) -> str:
    """An application or workflow error (with .vi/.en) in the reader's language."""
    if error is None:
        return ""
    if isinstance(error, tuple):
        return i18n.pick(error, _lang_of(context))
    return str(error.en if _lang_of(context) == "en" else error.vi)


def environment(extra_dirs: Iterable[Path] = ()) -> Environment:
    """Autoescaping on; other teams' template folders may be added so they extend base.html."""
    loader = ChoiceLoader(
        [FileSystemLoader(str(TEMPLATES)), *(FileSystemLoader(str(d)) for d in extra_dirs)]
    )
    env = Environment(loader=loader, autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(
        t=_t,
        label=_label,
        other_language=_other,
        status_label=_status,
        stage_label=_stage,
        stage_state_label=_stage_state,
        channel_label=_channel,
        direction_label=_direction,
        role_label=_role,
        action_label=_action,
        decision_label=_decision,
        actor_label=_actor,
        waited=_waited,
        message=_message,
        format_time=format_time,
        Status=Status,
        StageState=StageState,
        Role=Role,
    )
    return env


def template_engine(extra_dirs: Iterable[Path] = ()) -> JinjaTemplateEngine:
    return JinjaTemplateEngine.from_environment(environment(extra_dirs))


# --- What every page knows ------------------------------------------------------------------------


def viewer(request: Request[Any, Any, Any]) -> CurrentUser | None:
    user = request.scope.get("user")
    return user if isinstance(user, CurrentUser) else None


def set_flash(request: Request[Any, Any, Any], pair: tuple[str, str], kind: str = "ok") -> None:
    """A one-time message shown on the next page (after a redirect)."""
    session = dict(request.session) if isinstance(request.scope.get("session"), dict) else {}
    session["flash"] = {"kind": kind, "vi": pair[0], "en": pair[1]}
    request.set_session(session)


def _take_flash(request: Request[Any, Any, Any]) -> dict[str, str] | None:
    session = request.scope.get("session")
    if not isinstance(session, dict) or "flash" not in session:
        return None
    remaining = {k: v for k, v in session.items() if k != "flash"}
    flash = session["flash"]
    request.set_session(remaining)
    return flash if isinstance(flash, dict) else None


def page_context(request: Request[Any, Any, Any], **context: Any) -> dict[str, Any]:
    """The context base.html needs: language, user and menu, flash, the platform's gates."""
    user = viewer(request)
    platform = request.app.state.platform
    lang = i18n.language_of(request)
    values = {
        "lang": lang,
        "user": user,
        "nav": nav_items(user),
        # A fragment (the yard's refreshing list) must not swallow the next page's message.
        "flash": (
            _take_flash(request)
            if request.scope.get("session") and not context.get("fragment")
            else None
        ),
        "path": request.url.path,
        "full_path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "gates": platform.gates,
        "zone": platform.settings.zone,
        "now": datetime.now(UTC),
        **context,
    }
    values.setdefault("zone_note", zone_note(values["zone"], lang))
    return values


#: Pages carry personal data and CSRF tokens (no-store); everything they load is our own
#: (CSP 'self', so nothing can reach the Internet); no other site may frame the decision buttons.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def render(
    request: Request[Any, Any, Any], template: str, *, status: int = 200, **context: Any
) -> Template:
    return Template(
        template_name=template,
        context=page_context(request, **context),
        status_code=status,
        media_type=MediaType.HTML,  # handlers are typed Any; without this Litestar says JSON
        headers=PAGE_HEADERS,
    )


def redirect(path: str) -> Redirect:
    """303 See Other: after a POST, the browser loads the next page with GET (no resubmission)."""
    return Redirect(path=path, status_code=303)
