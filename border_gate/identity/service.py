"""Creating organisations and users, checking passwords, and who a token belongs to."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from border_gate.db.models import Organisation, User, UserGate
from border_gate.errors import Conflict, InvalidInput, NotFound, TooManyAttempts
from border_gate.identity.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    hash_password,
    needs_rehash,
    verify_password,
)
from border_gate.ids import new_id
from border_gate.platform import Platform
from workflows.roles import (
    GATE_BOUND_ROLES,
    ROLE_ORGANISATION_KIND,
    Actor,
    OrganisationKind,
    Role,
)

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_\-]{1,31}$")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._\-]{2,63}$")


class CurrentUser(msgspec.Struct, frozen=True):
    """A signed-in person, as the API and pages see them."""

    id: str
    username: str
    full_name: str | None
    role: Role
    organisation_code: str
    organisation_name: str
    organisation_kind: OrganisationKind
    gates: tuple[str, ...]

    @property
    def actor(self) -> Actor:
        return Actor(
            name=f"user:{self.username}",
            role=self.role,
            organisation=self.organisation_code,
            gates=frozenset(self.gates),
        )


async def create_organisation(
    platform: Platform, *, code: str, kind: str, name: str
) -> Organisation:
    code = code.strip().upper()
    if not _CODE.match(code):
        raise InvalidInput(
            "Mã tổ chức chỉ gồm chữ in hoa, số, _ và -, 2–32 ký tự",
            "organisation code: 2-32 upper-case letters, digits, _ or -",
            field="code",
        )
    try:
        org_kind = OrganisationKind(kind)
    except ValueError:
        kinds = ", ".join(k.value for k in OrganisationKind)
        raise InvalidInput(
            f"Loại tổ chức không hợp lệ: {kind!r} (một trong: {kinds})",
            f"unknown organisation kind {kind!r} (one of: {kinds})",
            field="kind",
        ) from None
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise InvalidInput("Tên tổ chức 1–200 ký tự", "name: 1-200 characters", field="name")
    async with platform.unit_of_work() as uow:
        if await uow.session.get(Organisation, code) is not None:
            raise Conflict(f"Tổ chức {code} đã tồn tại", f"organisation {code} already exists")
        org = Organisation(code=code, kind=org_kind.value, name=name, created_at=platform.now())
        uow.session.add(org)
        try:
            await uow.commit()
        except IntegrityError:
            raise Conflict(
                f"Tổ chức {code} đã tồn tại", f"organisation {code} already exists"
            ) from None
        return org


async def create_user(
    platform: Platform,
    *,
    username: str,
    role: str,
    organisation_code: str,
    password: str,
    gates: list[str] | None = None,
    full_name: str | None = None,
) -> CurrentUser:
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise InvalidInput(
            "Tên đăng nhập 3–64 ký tự: chữ thường, số, . _ -",
            "username: 3-64 characters of a-z, 0-9, . _ -",
            field="username",
        )
    try:
        user_role = Role(role)
    except ValueError:
        roles = ", ".join(r.value for r in Role if r is not Role.SYSTEM)
        raise InvalidInput(
            f"Vai trò không hợp lệ: {role!r} (một trong: {roles})",
            f"unknown role {role!r} (one of: {roles})",
            field="role",
        ) from None
    if user_role is Role.SYSTEM:
        raise InvalidInput(
            "Vai trò system không dùng để đăng nhập", "role system cannot log in", field="role"
        )
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"Mật khẩu cần {MIN_PASSWORD_LENGTH}–{MAX_PASSWORD_LENGTH} ký tự",
            f"password must be {MIN_PASSWORD_LENGTH}-{MAX_PASSWORD_LENGTH} characters",
            field="password",
        )
    gate_codes = sorted({g.strip().upper() for g in gates or []})
    for gate in gate_codes:
        if gate not in platform.gates:
            known = ", ".join(platform.gates.codes)
            raise InvalidInput(
                f"Cửa khẩu không tồn tại: {gate} (có: {known})",
                f"unknown gate {gate} (known: {known})",
                field="gate",
            )
    if user_role in GATE_BOUND_ROLES and not gate_codes:
        raise InvalidInput(
            f"Vai trò {user_role.value} phải gắn với ít nhất một cửa khẩu (--gate)",
            f"role {user_role.value} must be bound to at least one gate (--gate)",
            field="gate",
        )
    if user_role not in GATE_BOUND_ROLES and gate_codes:
        raise InvalidInput(
            f"Vai trò {user_role.value} không gắn với cửa khẩu",
            f"role {user_role.value} is not bound to gates",
            field="gate",
        )
    async with platform.unit_of_work() as uow:
        org = await uow.session.get(Organisation, organisation_code.strip().upper())
        if org is None:
            raise NotFound(
                f"Không có tổ chức {organisation_code}",
                f"no organisation {organisation_code}",
                field="org",
            )
        expected_kind = ROLE_ORGANISATION_KIND[user_role]
        if org.kind != expected_kind.value:
            raise InvalidInput(
                f"Vai trò {user_role.value} phải thuộc tổ chức loại {expected_kind.value}, "
                f"{org.code} là {org.kind}",
                f"role {user_role.value} belongs in a {expected_kind.value} organisation; "
                f"{org.code} is {org.kind}",
                field="role",
            )
        exists = await uow.session.scalar(select(User.id).where(User.username == username))
        if exists:
            raise Conflict(f"Tên đăng nhập {username} đã có", f"username {username} is taken")
        user = User(
            id=new_id(),
            username=username,
            full_name=(full_name or "").strip() or None,
            password_hash=hash_password(password),
            role=user_role.value,
            organisation_code=org.code,
            active=True,
            created_at=platform.now(),
            gates=[UserGate(gate=g) for g in gate_codes],
        )
        uow.session.add(user)
        try:
            await uow.commit()
        except IntegrityError:
            raise Conflict(
                f"Tên đăng nhập {username} đã có", f"username {username} is taken"
            ) from None
        return _current(user, org)


def _current(user: User, org: Organisation) -> CurrentUser:
    return CurrentUser(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        role=Role(user.role),
        organisation_code=org.code,
        organisation_name=org.name,
        organisation_kind=OrganisationKind(org.kind),
        gates=tuple(g.gate for g in user.gates),
    )


class LoginThrottle:
    """At most `limit` wrong passwords per username in `window`; then wait, whatever the password.

    Per process: with several API processes an attacker gets `limit` tries per process,
    still far too few to guess a password of ten characters or more.
    """

    def __init__(self, limit: int = 10, window: timedelta = timedelta(minutes=15)) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, list[datetime]] = {}

    def seconds_locked(self, username: str, now: datetime) -> int:
        recent = [t for t in self._failures.get(username, []) if t > now - self.window]
        self._failures[username] = recent
        if len(recent) < self.limit:
            return 0
        return max(1, int((recent[0] + self.window - now).total_seconds()))

    def failed(self, username: str, now: datetime) -> None:
        if len(self._failures) > 100_000:
            self._failures.clear()
        self._failures.setdefault(username, []).append(now)

    def succeeded(self, username: str) -> None:
        self._failures.pop(username, None)


def _throttle(platform: Platform) -> LoginThrottle:
    return platform.cache.setdefault("login_throttle", LoginThrottle())  # type: ignore[no-any-return]


async def authenticate(platform: Platform, username: str, password: str) -> CurrentUser | None:
    """The user if the password is right and the account active; None otherwise.

    Raises TooManyAttempts after repeated wrong passwords for the same username.
    """
    if len(password) > MAX_PASSWORD_LENGTH or len(username) > 64:
        return None
    name = username.strip().lower()
    throttle, now = _throttle(platform), datetime.now(UTC)
    if (wait := throttle.seconds_locked(name, now)) > 0:
        raise TooManyAttempts(
            f"Sai mật khẩu quá nhiều lần; thử lại sau {wait // 60 + 1} phút",
            f"too many wrong passwords; try again in {wait // 60 + 1} minutes",
            retry_after=wait,
        )
    async with platform.unit_of_work() as uow:
        user = await uow.session.scalar(select(User).where(User.username == name))
        if not verify_password(user.password_hash if user else None, password) or user is None:
            throttle.failed(name, now)
            return None
        throttle.succeeded(name)
        if not user.active:
            return None
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
            await uow.commit()
        org = await uow.session.get(Organisation, user.organisation_code)
        assert org is not None
        return _current(user, org)


async def load_user(platform: Platform, user_id: str) -> CurrentUser | None:
    async with platform.unit_of_work() as uow:
        user = await uow.session.get(User, user_id)
        if user is None or not user.active:
            return None
        org = await uow.session.get(Organisation, user.organisation_code)
        assert org is not None
        return _current(user, org)


async def list_organisations(platform: Platform) -> list[Organisation]:
    async with platform.unit_of_work() as uow:
        return list(
            (await uow.session.scalars(select(Organisation).order_by(Organisation.code))).all()
        )
