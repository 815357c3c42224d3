"""Pure parts of notifications: the signature scheme, URL checks, topics from events."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from border_gate.notifications import topics
from border_gate.notifications.signature import (
    SignatureError,
    signature_header,
    verify_signature,
)
from border_gate.notifications.targets import TargetRefused, check_target_url
from workflows.machine import Event
from workflows.model import (
    Channel,
    Declaration,
    DeclarationFacts,
    Stage,
    StageRecord,
    StageState,
)
from workflows.roles import Role

SECRET = "whsec_test-secret"
NOW = 1_790_000_000
AT = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


# --- Signatures ----------------------------------------------------------------------------


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = b'{"id":"x"}'
    header = signature_header(SECRET, NOW, body)
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + body, hashlib.sha256).hexdigest()
    assert header == f"t={NOW},v1={expected}"
    assert verify_signature(SECRET, header, body, now=NOW + 10, tolerance_seconds=300) == NOW


@pytest.mark.parametrize(
    ("header", "body", "now", "fault"),
    [
        (None, b"{}", NOW, "missing"),
        ("", b"{}", NOW, "missing"),
        ("garbage", b"{}", NOW, "malformed"),
        (f"t={NOW}", b"{}", NOW, "malformed"),
        ("t=abc,v1=00", b"{}", NOW, "malformed"),
        (signature_header(SECRET, NOW, b"{}"), b"{ }", NOW, "does not match"),  # body changed
        (signature_header("other", NOW, b"{}"), b"{}", NOW, "does not match"),  # wrong secret
        (signature_header(SECRET, NOW, b"{}"), b"{}", NOW + 301, "timestamp"),  # replayed later
        (signature_header(SECRET, NOW, b"{}"), b"{}", NOW - 301, "timestamp"),  # from the future
        # the signed timestamp cannot be swapped for a fresh one
        (
            signature_header(SECRET, NOW, b"{}").replace(f"t={NOW}", f"t={NOW + 1000}"),
            b"{}",
            NOW + 1000,
            "does not match",
        ),
    ],
)
def test_bad_signatures_are_refused(header: str | None, body: bytes, now: int, fault: str) -> None:
    with pytest.raises(SignatureError, match=fault):
        verify_signature(SECRET, header, body, now=now, tolerance_seconds=300)


def test_one_of_several_v1_signatures_may_match_during_secret_rotation() -> None:
    good = signature_header(SECRET, NOW, b"{}").split(",")[1]
    header = f"t={NOW},v1={'0' * 64},{good}"
    assert verify_signature(SECRET, header, b"{}", now=NOW, tolerance_seconds=5) == NOW


# --- Webhook target URLs -------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/hook",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "http://",
        "https://user:pass@example.com/hook",
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.1.1/hook",
        "http://169.254.169.254/latest/meta-data",  # cloud metadata
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "http://db.internal/hook",
        "http://printer.local/hook",
        "http://intranet/hook",
        "https://example.com:99999/hook",
        "https://exa mple.com/hook",
        "https://example.com/" + "a" * 2100,
    ],
)
def test_internal_or_unusable_targets_are_refused(url: str) -> None:
    with pytest.raises(TargetRefused):
        check_target_url(url, allow_private=False)


def test_public_targets_pass_and_the_setting_allows_local_ones() -> None:
    assert check_target_url("https://hooks.example.com/bg", allow_private=False)
    assert check_target_url("http://8.8.8.8:8443/x", allow_private=False) is not None
    assert check_target_url("http://127.0.0.1:8080/hook", allow_private=True)
    with pytest.raises(TargetRefused):
        check_target_url("ftp://127.0.0.1/hook", allow_private=True)  # still http(s) only


# --- Topics from events ----------------------------------------------------------------------


def declaration(**changes: object) -> Declaration:
    facts = msgspec.convert(
        {
            "direction": "export",
            "gate": "HUU_NGHI",
            "vehicle": {"plate": "12C-345.67"},
            "driver": {"name": "A", "document_number": "C1234567", "nationality": "VN"},
            "cargo": [
                {
                    "hs_code": "081060",
                    "description": "Sầu riêng",
                    "gross_weight_kg": 100,
                    "packages": 1,
                    "value": 1,
                    "currency": "USD",
                    "origin_country": "VN",
                }
            ],
            "consignor": "A",
            "consignee": "B",
            "planned_arrival": "2026-11-24T00:00:00+00:00",
        },
        DeclarationFacts,
    )
    base = Declaration(
        id="0193f1e2-0000-7000-8000-000000000001",
        number="HN-2026-000001",
        organisation="FIRM_A",
        facts=facts,
        workflow={Stage.YARD: (), Stage.CUSTOMS: (Stage.YARD,)},
        stages={Stage.YARD: StageRecord(), Stage.CUSTOMS: StageRecord()},
        submitted=True,
        screening_round=1,
    )
    return msgspec.structs.replace(base, **changes)


def event(action: str, version: int = 5, **fields: object) -> Event:
    return Event(
        version=version, at=AT, actor="system:queue", role=Role.SYSTEM, action=action, **fields
    )  # type: ignore[arg-type]


THRESHOLD = timedelta(minutes=15)


def names(before: Declaration, after: Declaration, events: list[Event]) -> list[str]:
    return [
        n.topic
        for n in topics.notices_for(before, after, events, expected_time_threshold=THRESHOLD)
    ]


def test_queue_events_map_by_action_name() -> None:
    d = declaration()
    slot = {"slot_start": "2026-11-24T08:00:00+07:00", "booking_id": "b1"}
    notices = topics.notices_for(
        d,
        d,
        [event("book_slot", data=slot), event("call_forward", data={"lane": 2})],
        expected_time_threshold=THRESHOLD,
    )
    assert [(n.topic, n.data) for n in notices] == [
        (topics.SLOT_CONFIRMED, slot),
        (topics.CALLED_FORWARD, {"lane": 2}),
    ]


@pytest.mark.parametrize(
    ("previous", "new", "notified"),
    [
        ("2026-11-24T08:00:00+07:00", "2026-11-24T08:15:00+07:00", False),  # exactly the threshold
        ("2026-11-24T08:00:00+07:00", "2026-11-24T08:16:00+07:00", True),
        ("2026-11-24T08:00:00+07:00", "2026-11-24T07:30:00+07:00", True),  # earlier counts too
        (None, "2026-11-24T08:00:00+07:00", False),  # a first estimate is not a change
        ("not a time", "2026-11-24T09:00:00+07:00", False),
        ("2026-11-24T08:00:00", "2026-11-24T09:00:00+07:00", False),  # naive: ignored
    ],
)
def test_expected_time_change_beyond_threshold(
    previous: str | None, new: str, notified: bool
) -> None:
    d = declaration()
    e = event(
        "queue_position",
        data={"expected_call_at": new, "previous_expected_call_at": previous, "position": 7},
    )
    notices = topics.notices_for(d, d, [e], expected_time_threshold=THRESHOLD)
    assert [n.topic for n in notices] == ([topics.EXPECTED_TIME_CHANGED] if notified else [])
    if notified:
        assert notices[0].data["position"] == 7
        assert abs(notices[0].data["change_minutes"]) > 15


def test_screened_once_when_the_last_screening_lands_with_the_channel() -> None:
    before = declaration()  # submitted, not screened: status submitted
    screened_stages = {
        Stage.YARD: StageRecord(state=StageState.IN_REVIEW, screened=True),
        Stage.CUSTOMS: StageRecord(screened=True),
    }
    after = declaration(stages=screened_stages, channel=Channel.GREEN)
    notices = topics.notices_for(
        before, after, [event("screen")], expected_time_threshold=THRESHOLD
    )
    assert [n.topic for n in notices] == [topics.SCREENED]
    assert notices[0].data["channel"] == "green"
    # a later event on the screened declaration says nothing more
    assert names(after, after, [event("start_review")]) == []


def test_amendment_requested_and_cleared() -> None:
    before = declaration(
        stages={
            Stage.YARD: StageRecord(state=StageState.APPROVED, screened=True),
            Stage.CUSTOMS: StageRecord(state=StageState.IN_REVIEW, screened=True),
        }
    )
    asked = event("request_amendment", stage=Stage.CUSTOMS, reason="Thiếu hoá đơn")
    notices = topics.notices_for(before, before, [asked], expected_time_threshold=THRESHOLD)
    assert [(n.topic, n.data) for n in notices] == [
        (topics.AMENDMENT_REQUESTED, {"stage": "customs", "reason": "Thiếu hoá đơn"})
    ]
    cleared = declaration(
        stages={
            Stage.YARD: StageRecord(state=StageState.APPROVED, screened=True),
            Stage.CUSTOMS: StageRecord(state=StageState.APPROVED, screened=True),
        }
    )
    assert names(before, cleared, [event("approve", stage=Stage.CUSTOMS)]) == [topics.CLEARED]
    assert names(cleared, cleared, [event("start_review")]) == []


def test_unrelated_events_say_nothing() -> None:
    d = declaration()
    assert names(d, d, [event("amend"), event("needs_attention")]) == []
