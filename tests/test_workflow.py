"""The content object state machine: one checked function, audited, roles enforced."""

import pytest
from hypothesis import given, settings, strategies as st

from app import workflow
from app.models import ContentObject, ObjectStatus as S, Role


class Person:
    def __init__(self, role):
        self.role, self.id = role, None

    def has_role(self, *roles):
        return self.role is Role.ADMIN or self.role in roles


EDITOR, APPROVER, ADMIN = Person(Role.EDITOR), Person(Role.APPROVER), Person(Role.ADMIN)


def test_editor_cannot_approve_and_approver_cannot_submit(app):
    with app.test_request_context():
        obj = ContentObject(title="t", status=S.IN_REVIEW)
        with pytest.raises(workflow.InvalidTransition):
            workflow.transition(obj, S.APPROVED, actor=EDITOR)
        draft = ContentObject(title="t", status=S.DRAFT)
        with pytest.raises(workflow.InvalidTransition):
            workflow.transition(draft, S.IN_REVIEW, actor=APPROVER)


def test_people_cannot_make_system_moves_and_the_system_cannot_approve(app):
    with app.test_request_context():
        with pytest.raises(workflow.InvalidTransition):
            workflow.transition(ContentObject(title="t", status=S.PUBLISHING), S.PUBLISHED, actor=ADMIN)
        with pytest.raises(workflow.InvalidTransition):
            workflow.transition(ContentObject(title="t", status=S.IN_REVIEW), S.APPROVED, actor=None)


def test_transition_writes_an_audit_event(app):
    from app.extensions import db
    from app.models import AuditEvent, Campaign

    with app.app_context():
        obj = ContentObject(campaign=Campaign(name="c"), title="t", status=S.IN_REVIEW)
        db.session.add(obj)
        db.session.flush()
        workflow.transition(obj, S.CHANGES_REQUESTED, actor=APPROVER, comment="Le visuel est flou")
        event = db.session.scalars(db.select(AuditEvent)).one()
        assert (event.action, event.comment, event.data) == (
            "status:changes_requested",
            "Le visuel est flou",
            {"from": "in_review"},
        )
        db.session.rollback()


ACTORS = st.sampled_from([EDITOR, APPROVER, ADMIN, None])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(list(S)), ACTORS), max_size=40))
def test_nothing_is_published_without_an_approval_of_what_was_last_reviewed(steps):
    """Whatever sequence of moves people and the system attempt, an object only reaches the
    approved-and-after states through an approver's decision since it last went to review."""
    obj = ContentObject(title="t", status=S.DRAFT)
    approved_since_review = False
    for target, actor in steps:
        allowed = workflow.can(obj, target, actor)
        before = obj.status
        if allowed and before is not target:
            obj.status = target  # the checked move, without the audit (no database here)
            if target is S.IN_REVIEW:
                approved_since_review = False
            if target is S.APPROVED:
                assert actor is not None and actor.has_role(Role.APPROVER)
                approved_since_review = True
        assert obj.status in set(S)
        if obj.status in (S.APPROVED, S.SCHEDULED, S.PUBLISHING, S.PUBLISHED, S.FAILED):
            assert approved_since_review, (before, target)
