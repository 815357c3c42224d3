"""An officer's work queue: declarations waiting for their stage at their gates, oldest first."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import Parameter

from border_gate.db.repository import DeclarationFilters
from border_gate.declarations import service
from border_gate.web.render import OFFICER_ROLES, render, viewer
from workflows.model import Channel, StageState
from workflows.roles import ROLE_STAGE

#: The queue reads at most this many declarations (pages of the service's largest page).
QUEUE_LIMIT = 1000

OPEN = (StageState.IN_REVIEW, StageState.ON_HOLD)
WITH_FIRM = (StageState.AMENDMENT_REQUESTED,)


class QueuePage(Controller):
    path = "/queue"
    opt = {"roles": OFFICER_ROLES}

    @get("/", name="page-queue")
    async def queue(
        self,
        request: Request[Any, Any, Any],
        channel: Channel | None = None,
        attention: bool = False,
        waiting: Annotated[str, Parameter(pattern=r"^(open|firm)$")] = "open",
        gate: Annotated[str | None, Parameter(max_length=32)] = None,
    ) -> Any:
        user = viewer(request)
        assert user is not None
        platform = request.app.state.platform
        stage = ROLE_STAGE[user.role]
        states = OPEN if waiting == "open" else WITH_FIRM
        filters = DeclarationFilters(
            channel=channel.value if channel else None,
            gate=gate or None,
            needs_attention=True if attention else None,
        )
        items = await service.stage_queue(
            platform, user, filters, states=tuple(states), limit=QUEUE_LIMIT + 1
        )
        truncated = len(items) > QUEUE_LIMIT
        return render(
            request,
            "queue.html",
            items=items[:QUEUE_LIMIT],
            truncated=truncated,
            limit=QUEUE_LIMIT,
            stage=stage,
            channels=list(Channel),
            query={
                "channel": channel.value if channel else "",
                "attention": attention,
                "waiting": waiting,
                "gate": gate or "",
            },
            my_gates=user.gates,
        )
