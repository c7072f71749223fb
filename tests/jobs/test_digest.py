"""The offices' daily digest, mailed through a real SMTP server on the loopback."""

from __future__ import annotations

import dataclasses
import socket
from datetime import timedelta
from email import message_from_bytes, policy

import pytest

from cati.jobs.digest import send_digests
from cati.services.flows import load_flows
from cati.services.follow_ups import raise_for_answer, update_status
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
