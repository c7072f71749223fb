"""The offices' daily digest, mailed through a real SMTP server on the loopback."""

from __future__ import annotations

import dataclasses
import socket
from datetime import date, timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from cati.jobs.digest import send_digests
from cati.models import DigestSend
from cati.services.flows import load_flows
from cati.services.follow_ups import claim_digest, raise_for_answer, update_status
from tests.conftest import NOW
from tests.factories import create_member, create_office, create_round


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content,
                              policy=policy.default)))  # fmt: skip
        return "250 OK"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", inbox
    finally:
        controller.stop()


def test_each_office_gets_its_new_and_overdue_follow_ups(runtime, session, smtp_server):
    url, inbox = smtp_server
    runtime = dataclasses.replace(
        runtime,
        settings=dataclasses.replace(runtime.settings, smtp_url=url, smtp_from="ks@snv.gov.vn"),
    )
    mscore = load_flows(runtime.settings.flows_dir)["mscore"]
    round_ = create_round(session)
    dh = [create_member(session, round_, office_code="DH", citizen_name="Trần Thị Bình")
          for _ in range(3)]  # fmt: skip
    hl = create_member(session, round_, office_code="HL")
    create_office(session, "DH").email = "motcua@dongha.gov.vn"
    create_office(session, "QT").email = "motcua@quangtri.gov.vn"  # nothing to report
    old = raise_for_answer(session, mscore, dh[0].id, "paid_without_receipt", "1",
                           NOW - timedelta(days=10))  # fmt: skip
    new = raise_for_answer(session, mscore, dh[1].id, "overall", "1", NOW)
    handled = raise_for_answer(session, mscore, dh[2].id, "on_time", "2", NOW)
    update_status(session, handled, "in_progress", None, user_id=None, now=NOW)
    raise_for_answer(session, mscore, hl.id, "overall", "1", NOW)  # HL has no address
    session.flush()

    result = send_digests(runtime)

    assert result.key == "digests_sent" and result.params == {"offices": 1}
    [(recipients, mail)] = inbox.messages
    assert recipients == ["motcua@dongha.gov.vn"]
    assert mail["From"] == "ks@snv.gov.vn"
    assert mail["Subject"].endswith("1 phản ánh mới, 1 quá hạn")
    body = mail.get_content()
    assert f"Số {old}: nộp tiền không có biên lai" in body
    assert f"Số {new}: chấm điểm thấp" in body
    assert f"Số {handled}:" not in body  # being handled and not overdue
    assert "Trần Thị Bình" not in body and dh[0].phone not in body
    assert "/followups" in body


def test_without_an_smtp_url_nothing_is_mailed(runtime):
    assert send_digests(runtime).key == "digest_off"


@pytest.fixture
def mailing(runtime, session, smtp_server):
    """DH with an address and one new follow-up; the runtime mailing through the server."""
    url, inbox = smtp_server
    runtime = dataclasses.replace(
        runtime, settings=dataclasses.replace(runtime.settings, smtp_url=url)
    )
    mscore = load_flows(runtime.settings.flows_dir)["mscore"]
    member = create_member(session, create_round(session), office_code="DH")
    create_office(session, "DH").email = "motcua@dongha.gov.vn"
    raise_for_answer(session, mscore, member.id, "overall", "1", NOW)
    session.flush()
    return runtime, inbox


def at(runtime, moment):
    return dataclasses.replace(runtime, clock=lambda: moment)


def test_a_job_run_twice_the_same_day_mails_each_office_once(mailing, session):
    runtime, inbox = mailing
    assert send_digests(at(runtime, NOW)).params == {"offices": 1}
    # later the same local day (Monday 23/11, 22:00 in Vietnam), a second run
    assert send_digests(at(runtime, NOW + timedelta(hours=12))).params == {"offices": 0}
    assert len(inbox.messages) == 1
    [sent] = session.scalars(select(DigestSend)).all()
    assert (sent.day, sent.new_count, sent.overdue_count) == (date(2026, 11, 23), 1, 0)
    # the next local day (Tuesday 00:30 in Vietnam, still Monday in UTC): mailed again
    assert send_digests(at(runtime, NOW + timedelta(hours=14, minutes=30))).params == {
        "offices": 1}  # fmt: skip
    assert len(inbox.messages) == 2


def test_a_digest_that_could_not_go_is_sent_by_the_next_run(mailing, session):
    runtime, inbox = mailing
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"smtp://127.0.0.1:{probe.getsockname()[1]}"
    down = dataclasses.replace(runtime, settings=dataclasses.replace(runtime.settings,
                               smtp_url=closed))  # fmt: skip
    with pytest.raises(OSError):
        send_digests(at(down, NOW))
    assert session.scalars(select(DigestSend)).all() == []
    assert send_digests(at(runtime, NOW + timedelta(minutes=5))).params == {"offices": 1}
    assert len(inbox.messages) == 1


def test_two_runs_at_once_claim_an_office_s_digest_once(tmp_path):
    import threading

    from cati.db import make_engine, make_session_factory
    from cati.migrate import upgrade
    from tests.conftest import fresh_database

    with fresh_database(tmp_path) as url:
        upgrade(url)
        engines = [make_engine(url), make_engine(url)]
        with make_session_factory(engines[0]).begin() as session:
            office_id = create_office(session, "DH").id
        barrier, claims = threading.Barrier(2), []

        def run(engine):
            with make_session_factory(engine)() as session:
                barrier.wait()
                claims.append(claim_digest(session, office_id, date(2026, 11, 23), NOW,
                                           new=1, overdue=0))  # fmt: skip
                session.commit()

        threads = [threading.Thread(target=run, args=(engine,)) for engine in engines]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for engine in engines:
            engine.dispose()
    assert sorted(claims, key=lambda c: c is None)[1:] == [None] and claims.count(None) == 1
