"""The life of a content object: every status change goes through `transition()`.

Statuses and moves are those of docs/external-apis.md §4.3. A move is allowed when it is in
`ALLOWED` and the actor holds one of the roles it names; `SYSTEM` moves (publication results)
are made by the platform itself (`actor=None`). Each change writes an audit event in the same
transaction; the caller commits.
"""

from __future__ import annotations

from app import audit
from app.notifications import events as notifications
from app.models import ContentObject, ObjectStatus as S, Role

SYSTEM = "system"
EDITORS = (Role.EDITOR,)
APPROVERS = (Role.APPROVER,)

# (from, to) -> who may make the move
ALLOWED: dict[tuple[S, S], tuple] = {
    (S.DRAFT, S.IN_REVIEW): EDITORS,
    (S.CHANGES_REQUESTED, S.IN_REVIEW): EDITORS,
    (S.IN_REVIEW, S.DRAFT): EDITORS,  # withdrawn by its editor
    (S.IN_REVIEW, S.APPROVED): APPROVERS,
    (S.IN_REVIEW, S.CHANGES_REQUESTED): APPROVERS,
    # Edited after approval, or a media file changed (a new version found in SharePoint: SYSTEM),
    # or the approval undone by its approver within APPROVAL_UNDO_S (app.reviews.service.undo_approval
    # checks that it is their approval and that the window is open)
    (S.APPROVED, S.IN_REVIEW): (*EDITORS, *APPROVERS, SYSTEM),
    (S.SCHEDULED, S.IN_REVIEW): (*EDITORS, *APPROVERS, SYSTEM),
    (S.APPROVED, S.SCHEDULED): (SYSTEM,),
    (S.SCHEDULED, S.APPROVED): EDITORS,  # unscheduled: approved, without a date
    (S.APPROVED, S.PUBLISHING): (SYSTEM,),
    (S.SCHEDULED, S.PUBLISHING): (SYSTEM,),
    (S.PUBLISHING, S.PUBLISHED): (SYSTEM,),
    (S.PUBLISHING, S.FAILED): (SYSTEM,),
    (S.FAILED, S.PUBLISHED): (SYSTEM,),  # a late callback, or a retry that worked
    (S.FAILED, S.PUBLISHING): EDITORS,  # retry
}


class InvalidTransition(Exception):
    def __init__(self, current: S, target: S, reason: str):
        super().__init__(f"{current.value} -> {target.value}: {reason}")
        self.current, self.target, self.reason = current, target, reason


def allowed_roles(current: S, target: S) -> tuple:
    return ALLOWED.get((current, target), ())


def can(obj: ContentObject, target: S, actor) -> bool:
    roles = allowed_roles(obj.status, target)
    if not roles:
        return False
    if actor is None:
        return SYSTEM in roles
    people = tuple(role for role in roles if role != SYSTEM)
    return bool(people) and actor.has_role(*people)


def transition(
    obj: ContentObject, target: S, *, actor=None, comment: str | None = None, data: dict | None = None
) -> None:
    """Move `obj` to `target` or raise InvalidTransition; records who, what, when, why."""
    if obj.status is target:
        return
    if not allowed_roles(obj.status, target):
        raise InvalidTransition(obj.status, target, "not a move of the workflow")
    if not can(obj, target, actor):
        raise InvalidTransition(obj.status, target, "not allowed for this role")
    previous = obj.status
    obj.status = target
    audit.record(
        f"status:{target.value}", obj, actor=actor, comment=comment, data={"from": previous.value, **(data or {})}
    )
    notifications.on_transition(obj, previous, target, actor=actor, comment=comment)  # rows, same transaction
