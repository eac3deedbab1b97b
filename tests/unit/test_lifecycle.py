"""The lifecycle: every action allowed from its states and refused from every other, and who may take it."""

from __future__ import annotations

import pytest
from seva.lifecycle import (
    BY_HAND,
    OPEN,
    TRANSITIONS,
    Action,
    ActorKind,
    Status,
    TransitionRefused,
    may,
    target,
)

EXPECTED = {
    # action: (allowed from, leads to; None keeps the state)
    Action.ROUTE: ({Status.RECEIVED}, Status.ROUTED),
    Action.MARK_NOISE: ({Status.RECEIVED}, Status.NOISE),
    Action.ATTACH: ({Status.RECEIVED}, Status.ATTACHED),
    Action.FOLLOW_UP: ({Status.ROUTED, Status.ACKNOWLEDGED, Status.ON_THE_WAY, Status.REOPENED, Status.RESOLVED}, None),
    Action.ACKNOWLEDGE: ({Status.ROUTED, Status.REOPENED}, Status.ACKNOWLEDGED),
    Action.ON_THE_WAY: ({Status.ROUTED, Status.ACKNOWLEDGED, Status.REOPENED}, Status.ON_THE_WAY),
    Action.RESOLVE: ({Status.ROUTED, Status.ACKNOWLEDGED, Status.ON_THE_WAY, Status.REOPENED}, Status.RESOLVED),
    Action.REOPEN: ({Status.RESOLVED, Status.CLOSED}, Status.REOPENED),
    Action.CLOSE: ({Status.RESOLVED}, Status.CLOSED),
    Action.REASSIGN: ({Status.ROUTED, Status.ACKNOWLEDGED, Status.ON_THE_WAY, Status.REOPENED}, Status.ROUTED),
    Action.NOTE: (
        {Status.ROUTED, Status.ACKNOWLEDGED, Status.ON_THE_WAY, Status.REOPENED, Status.RESOLVED, Status.CLOSED}
        | {Status.NOISE},
        None,
    ),
    Action.TO_COMPLAINT: ({Status.NOISE}, Status.ROUTED),
    Action.TO_NOISE: ({Status.ROUTED}, Status.NOISE),
    Action.FIRST_RESPONSE: (
        {Status.ROUTED, Status.ACKNOWLEDGED, Status.ON_THE_WAY, Status.REOPENED, Status.RESOLVED, Status.CLOSED},
        None,
    ),
    Action.ESCALATE: ({Status.ROUTED, Status.ACKNOWLEDGED, Status.ON_THE_WAY, Status.REOPENED}, None),
    # a person confirms or corrects triage, on any complaint or noise (the state is kept)
    Action.REVIEW: (
        {Status.ROUTED, Status.ACKNOWLEDGED, Status.ON_THE_WAY, Status.REOPENED, Status.RESOLVED, Status.CLOSED}
        | {Status.NOISE},
        None,
    ),
    # events that keep the state, from any state: an edit of the post on X, an erasure of personal data
    Action.EDIT: (set(Status), None),
    Action.ERASE: (set(Status), None),
}


def test_the_table_is_the_lifecycle_we_mean():
    assert set(TRANSITIONS) == set(Action) == set(EXPECTED)
    assert {a: (set(s), t) for a, (s, t) in TRANSITIONS.items()} == EXPECTED


@pytest.mark.parametrize(("action", "status"), [(a, s) for a in Action for s in Status])
def test_every_action_from_every_state_is_allowed_or_refused(action, status):
    allowed, leads_to = EXPECTED[action]
    if status in allowed:
        assert target(action, status) == (leads_to or status)
    else:
        with pytest.raises(TransitionRefused):
            target(action, status)


def test_open_means_someone_must_still_act():
    assert {Status.ROUTED, Status.ACKNOWLEDGED, Status.ON_THE_WAY, Status.REOPENED} == OPEN


@pytest.mark.parametrize("action", list(Action))
def test_the_system_may_take_any_action_and_people_only_theirs(action):
    assert may(ActorKind.SYSTEM, action)
    for kind in (ActorKind.OFFICER, ActorKind.CITIZEN, ActorKind.STATE_CELL):
        assert may(kind, action) == (kind in BY_HAND.get(action, frozenset()))
    assert not may(ActorKind.CITIZEN, Action.RESOLVE)
    assert not may(ActorKind.OFFICER, Action.TO_NOISE)  # only the state cell silences a complaint


def test_only_the_state_cell_erases_by_hand():
    # Given an erasure request / When someone other than the state cell (or the system) asks / Then refused
    assert may(ActorKind.STATE_CELL, Action.ERASE)
    assert not may(ActorKind.OFFICER, Action.ERASE)
    assert not may(ActorKind.CITIZEN, Action.ERASE)
