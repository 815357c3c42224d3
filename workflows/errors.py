"""Errors the workflow raises, each with a stable code and a message in Vietnamese and English."""

from __future__ import annotations


class WorkflowError(Exception):
    """Base: `code` is stable (it becomes the problem type), messages are for people."""

    code = "workflow-error"

    def __init__(self, vi: str, en: str, **context: object) -> None:
        super().__init__(f"{vi} / {en}")
        self.vi = vi
        self.en = en
        self.context = context


class NotPermitted(WorkflowError):
    """The actor's role may not fire this action."""

    code = "not-permitted"


class NotVisible(WorkflowError):
    """The actor may not know this declaration exists (answered as not found)."""

    code = "not-found"


class InvalidTransition(WorkflowError):
    """The action does not apply in the current state (names state and action)."""

    code = "invalid-transition"


class StageNotOpen(InvalidTransition):
    code = "stage-not-open"


class StageNotInWorkflow(WorkflowError):
    code = "stage-not-in-workflow"


class ReasonRequired(WorkflowError):
    code = "reason-required"


class StaleVersion(WorkflowError):
    """The change was made against a version that is no longer current."""

    code = "stale-version"


class StaleScreening(WorkflowError):
    """A screening result for an earlier submission round; applying it would be wrong."""

    code = "stale-screening"
