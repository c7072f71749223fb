"""Web mode's links and what follows them (issue 15): tokens of letters and digits stored only
as hashes, derived again for `cati rounds links`, sampling a web round, and the phone after
CATI_WEB_DAYS for members not done on the web — never for those who completed or declined."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from cati.domain.calling import CallingPolicy
from cati.domain.web_links import derive_token, is_well_formed, token_hash
from cati.domain.weeks import IsoWeek
from cati.jobs.dialing import hand_over_from_web
from cati.models import Member, WebLink
from cati.services.console import claim_next_case
from cati.services.dialer import claim_next_member, list_rounds_to_dial
from cati.services.rounds import SamplingError, SamplingOptions, sample_round
from cati.services.web_links import LinkKeyError, hand_over_web_members, list_links, open_link
from tests.conftest import NOW, TZ
from tests.factories import create_case, create_user, create_web_member
from tests.web.test_survey import ALL, answer_all, post

KEY = "test-secret-key-for-hashes"
POLICY = CallingPolicy(tz=TZ)


def test_tokens_are_23_letters_and_digits_with_over_128_bits():
    tokens = {derive_token(KEY, member_id, f"{member_id:032x}") for member_id in range(2000)}
    assert len(tokens) == 2000
    assert all(re.fullmatch(r"[0-9A-Za-z]{23}", token) for token in tokens)
    assert 23 * 5.954 > 128  # log2(62) bits per character
    # every character position takes many values: no fixed prefix or padding
    assert all(len({token[i] for token in tokens}) > 50 for i in range(1, 23))
    assert derive_token(KEY, 1, "0" * 32) != derive_token(KEY + "x", 1, "0" * 32)
    assert derive_token(KEY, 1, "0" * 32) != derive_token(KEY, 1, "0" * 31 + "1")


def test_only_the_hash_is_stored(session):
    member, token = create_web_member(session, KEY)
    link = session.get(WebLink, member.id)
    assert link.token_hash == token_hash(token) and len(link.token_hash) == 64
    everything = repr(
        [session.execute(text(f"SELECT * FROM {t}")).all() for t in ("web_links", "members")]
    )
    assert token not in everything


def test_well_formed_tokens_only():
    assert is_well_formed("a" * 23) and not is_well_formed("a" * 22)
    assert not is_well_formed("a" * 22 + "-") and not is_well_formed("a" * 22 + "_")


def test_a_link_opens_until_the_calling_period_ends(session):
    member, token = create_web_member(session, KEY)
    round_ = session.get(Member, member.id)
    assert open_link(session, token, NOW).state == "open"
    ends = session.scalar(text(f"SELECT calling_ends_at FROM rounds WHERE id = {round_.round_id}"))
    assert ends is not None
    from cati.models import Round

    end = session.get(Round, member.round_id).calling_ends_at
    assert open_link(session, token, end - timedelta(seconds=1)).state == "open"
    assert open_link(session, token, end).state == "expired"
    assert open_link(session, token[:-1] + "0", NOW).state in ("unknown", "open")
    assert open_link(session, "0" * 23, NOW).state == "unknown"


def test_links_are_derived_again_with_the_key_and_refused_with_another(session):
    member, token = create_web_member(session, KEY)
    from cati.models import Round

    round_ = session.get(Round, member.round_id)
    links = list_links(session, round_, KEY, "https://khaosat.example.vn")
    assert [link.url for link in links] == [f"https://khaosat.example.vn/s/{token}"]
    with pytest.raises(LinkKeyError, match="CATI_SECRET_KEY"):
        list_links(session, round_, "another-key-of-16-chars", "https://khaosat.example.vn")


def test_sampling_a_web_round_gives_every_member_a_link(session):
    for _ in range(6):
        create_case(session)
    options = SamplingOptions(mode="web", then_mode="interviewer", rate=1.0, min_per_office=0)
    round_, created = sample_round(session, IsoWeek.parse("2026-W47"), options, tz=TZ,
                                   resurvey_days=90, now=NOW, link_key=KEY)  # fmt: skip
    assert created and round_.mode == "web" and round_.then_mode == "interviewer"
    members = session.scalars(select(Member).where(Member.round_id == round_.id)).all()
    assert len(members) == 6 and {m.mode for m in members} == {"web"}
    assert len(list_links(session, round_, KEY, "https://x.vn")) == 6


def test_a_web_round_needs_the_key(session):
    create_case(session)
    with pytest.raises(SamplingError, match="CATI_SECRET_KEY"):
        sample_round(session, IsoWeek.parse("2026-W47"), SamplingOptions(mode="web"), tz=TZ,
                     resurvey_days=90, now=NOW)  # fmt: skip


def test_nobody_is_called_before_cati_web_days(session):
    member, _ = create_web_member(session, KEY)
    assert claim_next_member(session, member.round_id, POLICY, NOW) is None
    assert list_rounds_to_dial(session, NOW) == []
    assert hand_over_web_members(session, NOW + timedelta(days=2, hours=23), 3) == 0
    assert claim_next_member(session, member.round_id, POLICY, NOW + timedelta(days=2)) is None


def test_after_cati_web_days_the_ivr_calls_those_not_done(session):
    member, _ = create_web_member(session, KEY)
    later = NOW + timedelta(days=3)
    assert hand_over_web_members(session, later, 3) == 1
    session.expire_all()
    assert session.get(Member, member.id).mode == "ivr"
    assert list_rounds_to_dial(session, later) == [member.round_id]
    claimed = claim_next_member(session, member.round_id, POLICY, later)
    assert claimed is not None and claimed.member_id == member.id


def test_the_dialing_job_hands_over_by_itself(session, runtime):
    _member, _ = create_web_member(session, KEY)
    later = dataclasses.replace(runtime, clock=lambda: NOW + timedelta(days=3, minutes=1))
    assert hand_over_from_web(later) == 1


def test_interviewers_take_them_when_the_round_says_so(session):
    member, _ = create_web_member(session, KEY)
    from cati.models import Round

    session.get(Round, member.round_id).then_mode = "interviewer"
    user = create_user(session)
    later = NOW + timedelta(days=3)
    assert claim_next_case(session, user.id, later) is None
    hand_over_web_members(session, later, 3)
    assert claim_next_case(session, user.id, later) == member.id


@pytest.mark.parametrize("how", ["completed", "declined"])
def test_who_completed_or_declined_on_the_web_is_never_called(client, session, runtime, how):
    member, token = create_web_member(session, KEY)
    if how == "completed":
        answer_all(client, token)
    else:
        post(client, token, "consent", "2")
    later = NOW + timedelta(days=4)
    hand_over_web_members(session, later, 3)
    session.expire_all()
    assert session.get(Member, member.id).status == "final"
    assert claim_next_member(session, member.round_id, POLICY, later) is None
    user = create_user(session)
    from cati.models import Round

    session.get(Round, member.round_id).then_mode = "interviewer"
    assert claim_next_case(session, user.id, later) is None


def test_a_partial_left_on_the_web_is_a_partial_when_the_round_closes(client, session, runtime):
    from cati.services.dialer import close_ended_rounds

    member, token = create_web_member(session, KEY)
    for question, key in ALL[:5]:
        post(client, token, question, key)
    from cati.models import Round

    end = session.get(Round, member.round_id).calling_ends_at
    close_ended_rounds(session, POLICY, end)
    session.flush()
    session.expire_all()
    assert session.get(Member, member.id).disposition == "1.2"
