"""Interviewers' notes are bounded: the use case refuses too long a text, whoever calls it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from cati.models import Attempt, Member
from cati.services.console import (
    MAX_NOTES_LENGTH,
    TextTooLongError,
    check_notes,
    claim_next_case,
)
from tests.conftest import NOW
from tests.services.test_console import flows, lan, outcome, queue  # noqa: F401 (fixtures)


def test_notes_over_the_limit_are_refused_and_nothing_changes(session, queue, lan, flows, settings):  # noqa: F811
    member_id = claim_next_case(session, lan.id, NOW)
    member = session.get(Member, member_id)
    with pytest.raises(TextTooLongError, match="notes: 2001 characters, at most 2000") as error:
        outcome(session, member, lan, flows, settings, "busy", notes="n" * 2001)
    assert (error.value.length, error.value.limit) == (2001, MAX_NOTES_LENGTH)
    session.expire_all()
    member = session.get(Member, member_id)
    assert (member.status, member.claimed_by, member.notes) == ("in_progress", lan.id, None)
    assert session.scalars(select(Attempt.outcome)).all() == [None]


def test_notes_at_the_limit_are_kept_trimmed(session, queue, lan, flows, settings):  # noqa: F811
    member_id = claim_next_case(session, lan.id, NOW)
    member = session.get(Member, member_id)
    outcome(session, member, lan, flows, settings, "busy", notes="  " + "n" * 2000 + "\n")
    assert member.notes == "n" * 2000
    assert session.scalars(select(Attempt.notes)).all() == ["n" * 2000]


@pytest.mark.parametrize(("text", "kept"), [(None, None), ("", None), ("  \n", None), (" a ", "a")])
def test_check_notes(text, kept):
    assert check_notes(text) == kept
