"""Declaration pages: the list, filing and editing (firms), one declaration, officers' decisions."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

import segno
from litestar import Controller, Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.params import Parameter
from markupsafe import Markup

from border_gate.db.repository import DeclarationFilters
from border_gate.declarations import service
from border_gate.errors import Conflict, InvalidInput, PreconditionFailed
from border_gate.fees.service import declaration_fees, vnd
from border_gate.identity.service import CurrentUser
from border_gate.platform import Platform
from border_gate.queue.pages import booking_panel
from border_gate.web import i18n
from border_gate.web.documents import documents_for
from border_gate.web.forms import (
    DeclarationForm,
    add_service_error,
    blank_line,
    facts_from_form,
    form_fingerprint,
    form_from_facts,
    form_from_post,
    new_form,
)
from border_gate.web.render import OFFICER_ROLES, redirect, render, set_flash, viewer
from workflows.errors import InvalidTransition, ReasonRequired, WorkflowError
from workflows.machine import Decision, verify_chain
from workflows.model import (
    DONE_STATES,
    Declaration,
    Direction,
    Stage,
    StageState,
    Status,
)
from workflows.roles import ROLE_STAGE, Role

PAGE_SIZE = 25
FIRM = frozenset({Role.FIRM_USER})
EDITABLE = (Status.DRAFT, Status.AMENDMENT_REQUESTED)

#: The buttons an officer gets for their stage's state, most common first.
DECISIONS_FOR: dict[StageState, tuple[Decision, ...]] = {
    StageState.IN_REVIEW: (
        Decision.APPROVE,
        Decision.REQUEST_AMENDMENT,
        Decision.HOLD,
        Decision.REJECT,
        Decision.START_REVIEW,
    ),
    StageState.ON_HOLD: (Decision.RESUME, Decision.REQUEST_AMENDMENT, Decision.REJECT),
}


def _user(request: Request[Any, Any, Any]) -> CurrentUser:
    user = viewer(request)
    assert user is not None  # the guard let only signed-in people through
    return user


def _int(raw: Any) -> int | None:
    try:
        return int(str(raw))
    except ValueError:
        return None


def qr_svg(platform: Platform, declaration: Declaration) -> Markup:
    """The declaration's page URL as an inline SVG QR code: a scanner types it at the yard."""
    url = f"{platform.settings.public_url}/declarations/{declaration.id}"
    code = segno.make(url, error="m")
    return Markup(code.svg_inline(border=2, omitsize=True, title=declaration.number, svgclass="qr"))


def my_decisions(
    user: CurrentUser, declaration: Declaration
) -> tuple[Stage | None, list[Decision], str | None]:
    """The officer's stage on this declaration, the buttons to show, or why there are none."""
    stage = ROLE_STAGE.get(user.role)
    if stage is None or user.role is Role.YARD_OPERATOR:
        return None, [], None
    if stage not in declaration.stages:
        return stage, [], "decide.not_in_workflow"
    record = declaration.stages[stage]
    if declaration.status is Status.AMENDMENT_REQUESTED:
        return stage, [], "decide.with_firm"
    if record.state is StageState.PENDING:
        return stage, [], "decide.not_open"
    if record.state in DONE_STATES or record.state is StageState.REJECTED:
        return stage, [], "decide.done"
    choices = list(DECISIONS_FOR.get(record.state, ()))
    if record.assignee == f"user:{user.username}" and Decision.START_REVIEW in choices:
        choices.remove(Decision.START_REVIEW)  # already theirs
    return stage, choices, None


async def detail_page(
    request: Request[Any, Any, Any],
    platform: Platform,
    declaration: Declaration,
    *,
    status: int = 200,
    notice: tuple[str, str] | None = None,
    notice_kind: str = "error",
    reason: str = "",
    reason_error: tuple[str, str] | None = None,
) -> Any:
    user = _user(request)
    events = await service.declaration_events(platform, user, declaration.id)
    gate = platform.gates.get(declaration.facts.gate)
    stage, decisions, why_none = my_decisions(user, declaration)
    waiting = {
        s: [
            p
            for p in declaration.workflow.get(s, ())
            if declaration.stages[p].state not in DONE_STATES
        ]
        for s in declaration.stages
    }
    amendments = [
        (s, r) for s, r in declaration.stages.items() if r.state is StageState.AMENDMENT_REQUESTED
    ]
    is_firm = user.role is Role.FIRM_USER
    return render(
        request,
        "declarations/detail.html",
        status=status,
        d=declaration,
        facts=declaration.facts,
        gate=gate,
        zone=gate.zone,
        events=list(reversed(events)),
        chain_valid=verify_chain(events) is None,
        qr=qr_svg(platform, declaration),
        documents=await documents_for(platform, user, declaration),
        fees=[
            (vnd(charge.amount_vnd), charge)
            for charge in await declaration_fees(platform, user, declaration.id)
        ],
        my_stage=stage,
        decisions=decisions,
        why_no_decision=why_none,
        waiting=waiting,
        amendments=amendments,
        can_edit=is_firm and declaration.status in EDITABLE,
        can_submit=is_firm and declaration.status is Status.DRAFT,
        can_cancel=is_firm
        and declaration.status
        in (Status.DRAFT, Status.SUBMITTED, Status.AWAITING_ARRIVAL, Status.AMENDMENT_REQUESTED)
        and declaration.arrived_at is None,
        screening=declaration.status is Status.SUBMITTED,
        notice=notice,
        notice_kind=notice_kind,
        reason=reason,
        reason_error=reason_error,
        booking=await booking_panel(platform, user, declaration),
    )


def _form_page(
    request: Request[Any, Any, Any],
    form: DeclarationForm,
    *,
    declaration: Declaration | None,
    status: int = 200,
    form_key: str | None = None,
    version: int | None = None,
    notice: tuple[str, str] | None = None,
) -> Any:
    return render(
        request,
        "declarations/form.html",
        status=status,
        form=form,
        d=declaration,
        form_key=form_key or secrets.token_urlsafe(16),
        version=version if version is not None else (declaration.version if declaration else None),
        amending=declaration is not None and declaration.status is Status.AMENDMENT_REQUESTED,
        notice=notice,
        directions=list(Direction),
    )


def _line_op(op: str, form: DeclarationForm) -> bool:
    """Add or remove a cargo line; True if the op was one of those (the form is shown again)."""
    if op == "add_line":
        form.cargo.append(blank_line())
        return True
    if op.startswith("remove:"):
        index = _int(op.removeprefix("remove:"))
        if index is not None and 0 <= index < len(form.cargo) and len(form.cargo) > 1:
            form.cargo.pop(index)
        return True
    return False


class DeclarationPages(Controller):
    path = "/declarations"

    @get("/", name="page-declarations")
    async def list_page(
        self,
        request: Request[Any, Any, Any],
        platform: Platform,
        status: Status | None = None,
        gate: Annotated[str | None, Parameter(max_length=32)] = None,
        direction: Direction | None = None,
        plate: Annotated[str | None, Parameter(max_length=20)] = None,
        cursor: Annotated[str | None, Parameter(max_length=100)] = None,
    ) -> Any:
        user = _user(request)
        filters = DeclarationFilters(
            status=(status.value,) if status else (),
            gate=gate or None,
            direction=direction.value if direction else None,
            plate=plate or None,
        )
        items, next_cursor = await service.list_declarations(
            platform, user, filters, cursor=cursor or None, limit=PAGE_SIZE
        )
        query = {
            "status": status.value if status else "",
            "gate": gate or "",
            "direction": direction.value if direction else "",
            "plate": plate or "",
        }
        return render(
            request,
            "declarations/list.html",
            items=items,
            next_cursor=next_cursor,
            query=query,
            statuses=list(Status),
            directions=list(Direction),
            paged=bool(cursor),
        )

    # --- Filing ----------------------------------------------------------------------------

    @get("/new", name="page-declaration-new", opt={"roles": FIRM})
    async def new_page(self, request: Request[Any, Any, Any], platform: Platform) -> Any:
        return _form_page(request, new_form(platform.gates, platform.now()), declaration=None)

    @post("/new", name="page-declaration-file", opt={"roles": FIRM})
    async def file(self, request: Request[Any, Any, Any], platform: Platform) -> Any:
        user = _user(request)
        posted = await request.form()
        op = str(posted.get("op", "save"))
        form = form_from_post(posted)
        form_key = str(posted.get("form_key", ""))[:64] or None
        if _line_op(op, form):
            return _form_page(request, form, declaration=None, form_key=form_key)
        facts = facts_from_form(form, platform.gates, platform.settings.zone)
        if facts is None:
            return _form_page(request, form, declaration=None, status=422, form_key=form_key)
        try:
            # The form's key makes a double-click or a resent form file one declaration only.
            declaration, _replayed = await service.file_declaration(
                platform,
                user,
                facts,
                idempotency_key=f"page:{form_key}" if form_key else None,
                fingerprint=form_fingerprint(posted),
            )
        except InvalidInput as exc:
            add_service_error(form, exc)
            return _form_page(request, form, declaration=None, status=422, form_key=form_key)
        except Conflict:
            # This form filed a declaration already, and was then changed and sent again:
            # keep what they typed, and a new key files it as a new declaration if they mean to.
            form.general.append(i18n.TEXTS["form.sent_before"])
            return _form_page(request, form, declaration=None, status=409)
        if op == "save_submit" and declaration.status is Status.DRAFT:
            declaration = await service.submit_declaration(
                platform, user, declaration.id, expected_version=declaration.version
            )
        set_flash(
            request,
            i18n.TEXTS["form.submitted" if declaration.submitted else "form.saved"],
        )
        return redirect(f"/declarations/{declaration.id}")

    # --- One declaration -------------------------------------------------------------------

    @get("/{declaration_id:str}", name="page-declaration")
    async def detail(
        self, request: Request[Any, Any, Any], platform: Platform, declaration_id: str
    ) -> Any:
        declaration = await service.get_declaration(platform, _user(request), declaration_id)
        return await detail_page(request, platform, declaration)

    @get("/{declaration_id:str}/edit", name="page-declaration-edit", opt={"roles": FIRM})
    async def edit_page(
        self, request: Request[Any, Any, Any], platform: Platform, declaration_id: str
    ) -> Any:
        declaration = await service.get_declaration(platform, _user(request), declaration_id)
        if declaration.status not in EDITABLE:
            set_flash(request, i18n.TEXTS["form.not_editable"], "error")
            return redirect(f"/declarations/{declaration.id}")
        zone = platform.gates.get(declaration.facts.gate).zone
        return _form_page(
            request, form_from_facts(declaration.facts, zone), declaration=declaration
        )

    @post("/{declaration_id:str}/edit", name="page-declaration-amend", opt={"roles": FIRM})
    async def amend(
        self, request: Request[Any, Any, Any], platform: Platform, declaration_id: str
    ) -> Any:
        user = _user(request)
        declaration = await service.get_declaration(platform, user, declaration_id)
        posted = await request.form()
        op = str(posted.get("op", "save"))
        version = _int(posted.get("version", ""))
        form = form_from_post(posted)
        if _line_op(op, form):
            return _form_page(request, form, declaration=declaration, version=version)
        facts = facts_from_form(form, platform.gates, platform.settings.zone)
        if facts is None:
            return _form_page(request, form, declaration=declaration, status=422, version=version)
        try:
            declaration = await service.amend_declaration(
                platform, user, declaration.id, facts, expected_version=version
            )
            if op == "save_submit":
                declaration = await service.submit_declaration(
                    platform, user, declaration.id, expected_version=declaration.version
                )
        except InvalidInput as exc:
            add_service_error(form, exc)
            return _form_page(request, form, declaration=declaration, status=422, version=version)
        except (PreconditionFailed, Conflict):
            # Keep what they typed; the fresh version lets them save deliberately over it.
            fresh = await service.get_declaration(platform, user, declaration.id)
            return _form_page(
                request, form, declaration=fresh, status=409, notice=i18n.TEXTS["form.stale"]
            )
        except InvalidTransition as exc:
            form.general.append((exc.vi, exc.en))
            return _form_page(request, form, declaration=declaration, status=409, version=version)
        set_flash(request, i18n.TEXTS["form.submitted" if op == "save_submit" else "form.saved"])
        return redirect(f"/declarations/{declaration.id}")

    @post("/{declaration_id:str}/submit", name="page-declaration-submit", opt={"roles": FIRM})
    async def submit(
        self, request: Request[Any, Any, Any], platform: Platform, declaration_id: str
    ) -> Any:
        user = _user(request)
        posted = await request.form()
        try:
            declaration = await service.submit_declaration(
                platform, user, declaration_id, expected_version=_int(posted.get("version", ""))
            )
        except (PreconditionFailed, Conflict, InvalidTransition) as exc:
            return await self._refused(request, platform, user, declaration_id, exc)
        set_flash(request, i18n.TEXTS["form.submitted"])
        return redirect(f"/declarations/{declaration.id}")

    @post("/{declaration_id:str}/cancel", name="page-declaration-cancel", opt={"roles": FIRM})
    async def cancel(
        self, request: Request[Any, Any, Any], platform: Platform, declaration_id: str
    ) -> Any:
        user = _user(request)
        posted = await request.form()
        reason = str(posted.get("reason", "")).strip()[:1000] or None
        try:
            declaration = await service.cancel_declaration(
                platform,
                user,
                declaration_id,
                reason=reason,
                expected_version=_int(posted.get("version", "")),
            )
        except (PreconditionFailed, Conflict, InvalidTransition) as exc:
            return await self._refused(request, platform, user, declaration_id, exc)
        set_flash(request, i18n.TEXTS["detail.cancelled"])
        return redirect(f"/declarations/{declaration.id}")

    # --- Officers' decisions ---------------------------------------------------------------

    @post(
        "/{declaration_id:str}/decide", name="page-declaration-decide", opt={"roles": OFFICER_ROLES}
    )
    async def decide(
        self, request: Request[Any, Any, Any], platform: Platform, declaration_id: str
    ) -> Any:
        user = _user(request)
        posted = await request.form()
        stage, decision, version = _decision_fields(posted)
        reason = str(posted.get("reason", "")).strip()
        if stage is None or decision is None or version is None:
            raise InvalidInput(
                "Biểu mẫu quyết định thiếu giai đoạn, quyết định hoặc phiên bản",
                "the decision form lacks the stage, the decision or the version",
            )
        try:
            await service.decide_stage(
                platform,
                user,
                declaration_id,
                stage,
                decision,
                reason or None,
                expected_version=version,
            )
        except (PreconditionFailed, Conflict):
            fresh = await service.get_declaration(platform, user, declaration_id)
            repeated = await _repeated_by_me(platform, user, fresh, version, decision)
            return await detail_page(
                request,
                platform,
                fresh,
                status=409,
                notice=i18n.TEXTS["decide.repeat" if repeated else "decide.conflict"],
                reason=reason,
            )
        except ReasonRequired as exc:
            current = await service.get_declaration(platform, user, declaration_id)
            return await detail_page(
                request,
                platform,
                current,
                status=422,
                reason=reason,
                reason_error=(exc.vi, exc.en),
            )
        except InvalidTransition as exc:
            current = await service.get_declaration(platform, user, declaration_id)
            return await detail_page(
                request, platform, current, status=409, notice=(exc.vi, exc.en), reason=reason
            )
        set_flash(request, i18n.DECIDED_LABELS[decision.value])
        return redirect(f"/declarations/{declaration_id}")

    async def _refused(
        self,
        request: Request[Any, Any, Any],
        platform: Platform,
        user: CurrentUser,
        declaration_id: str,
        exc: Exception,
    ) -> Any:
        fresh = await service.get_declaration(platform, user, declaration_id)
        if isinstance(exc, (PreconditionFailed, Conflict)):
            notice = i18n.TEXTS["form.stale"]
        else:
            assert isinstance(exc, WorkflowError)
            notice = (exc.vi, exc.en)
        return await detail_page(request, platform, fresh, status=409, notice=notice)


def _decision_fields(posted: FormMultiDict) -> tuple[Stage | None, Decision | None, int | None]:
    try:
        stage = Stage(str(posted.get("stage", "")))
    except ValueError:
        stage = None
    try:
        decision = Decision(str(posted.get("decision", "")))
    except ValueError:
        decision = None
    return stage, decision, _int(posted.get("version", ""))


async def _repeated_by_me(
    platform: Platform,
    user: CurrentUser,
    declaration: Declaration,
    version: int,
    decision: Decision,
) -> bool:
    """Whether what changed since `version` is this same person's same decision (a double send)."""
    events = await service.declaration_events(platform, user, declaration.id)
    mine = f"user:{user.username}"
    return any(
        e.version > version and e.actor == mine and e.action == decision.value for e in events
    )
