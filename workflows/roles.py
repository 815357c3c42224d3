"""Who may do what: roles, the organisations they belong to, and who sees which record."""

from __future__ import annotations

from enum import StrEnum

from msgspec import Struct

from workflows.model import Stage


class OrganisationKind(StrEnum):
    FIRM = "firm"
    CUSTOMS = "customs"
    PLANT_QUARANTINE = "plant_quarantine"
    ANIMAL_QUARANTINE = "animal_quarantine"
    HEALTH_QUARANTINE = "health_quarantine"
    BORDER_GUARD = "border_guard"
    YARD = "yard"
    MANAGEMENT = "management"


class Role(StrEnum):
    FIRM_USER = "firm_user"
    CUSTOMS_OFFICER = "customs_officer"
    PLANT_QUARANTINE_OFFICER = "plant_quarantine_officer"
    ANIMAL_QUARANTINE_OFFICER = "animal_quarantine_officer"
    HEALTH_QUARANTINE_OFFICER = "health_quarantine_officer"
    BORDER_GUARD_OFFICER = "border_guard_officer"
    YARD_OPERATOR = "yard_operator"
    MANAGEMENT = "management"
    ADMIN = "admin"
    SYSTEM = "system"  # automated checks and the workflow itself; never a login


#: The role that decides each stage.
STAGE_ROLE: dict[Stage, Role] = {
    Stage.YARD: Role.YARD_OPERATOR,
    Stage.CUSTOMS: Role.CUSTOMS_OFFICER,
    Stage.PLANT_QUARANTINE: Role.PLANT_QUARANTINE_OFFICER,
    Stage.ANIMAL_QUARANTINE: Role.ANIMAL_QUARANTINE_OFFICER,
    Stage.HEALTH_QUARANTINE: Role.HEALTH_QUARANTINE_OFFICER,
    Stage.BORDER_GUARD: Role.BORDER_GUARD_OFFICER,
}

ROLE_STAGE: dict[Role, Stage] = {role: stage for stage, role in STAGE_ROLE.items()}

#: Who may fire the electronic queue's actions (workflows/queueing.py).
QUEUE_ACTION_ROLES: dict[str, tuple[Role, ...]] = {
    "book_slot": (Role.FIRM_USER,),
    "cancel_booking": (Role.FIRM_USER,),
    "arrive_waiting_area": (Role.YARD_OPERATOR,),
    "queue_position": (Role.SYSTEM,),
    "call_forward": (Role.SYSTEM,),
}

#: The kind of organisation a user of each role must belong to.
ROLE_ORGANISATION_KIND: dict[Role, OrganisationKind] = {
    Role.FIRM_USER: OrganisationKind.FIRM,
    Role.CUSTOMS_OFFICER: OrganisationKind.CUSTOMS,
    Role.PLANT_QUARANTINE_OFFICER: OrganisationKind.PLANT_QUARANTINE,
    Role.ANIMAL_QUARANTINE_OFFICER: OrganisationKind.ANIMAL_QUARANTINE,
    Role.HEALTH_QUARANTINE_OFFICER: OrganisationKind.HEALTH_QUARANTINE,
    Role.BORDER_GUARD_OFFICER: OrganisationKind.BORDER_GUARD,
    Role.YARD_OPERATOR: OrganisationKind.YARD,
    Role.MANAGEMENT: OrganisationKind.MANAGEMENT,
    Role.ADMIN: OrganisationKind.MANAGEMENT,
}

#: Roles that work at particular gates and see only those gates' declarations.
GATE_BOUND_ROLES = frozenset({*STAGE_ROLE.values()})
#: Roles that read every declaration.
READ_ALL_ROLES = frozenset({Role.MANAGEMENT, Role.ADMIN, Role.SYSTEM})


class Actor(Struct, frozen=True):
    """Whoever fires an action: a person (by username) or a named system worker."""

    name: str  # "user:<username>" or "system:<worker>"
    role: Role
    organisation: str | None = None  # organisation code
    gates: frozenset[str] = frozenset()

    @property
    def is_system(self) -> bool:
        return self.role is Role.SYSTEM


def system_actor(worker: str) -> Actor:
    return Actor(name=f"system:{worker}", role=Role.SYSTEM)


def can_see(actor: Actor, *, organisation: str, gate: str) -> bool:
    """Whether the actor may know a declaration of `organisation` at `gate` exists."""
    if actor.role in READ_ALL_ROLES:
        return True
    if actor.role is Role.FIRM_USER:
        return actor.organisation == organisation
    if actor.role in GATE_BOUND_ROLES:
        return gate in actor.gates
    return False
