"""The offices' daily digest: to each office with a contact address (`cati offices
set-email`), its follow-ups still new and its overdue ones, by email through CATI_SMTP_URL.

The mail names no citizen (an office sees a citizen's identity on the page only when they
agreed to be contacted): only the follow-up's number, reasons, procedure and deadline, and
the link to `/followups`.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from sqlalchemy import select

from cati.domain.follow_ups import Status
from cati.domain.job_results import JobResult
from cati.models import Office
from cati.runtime import Runtime
from cati.services.follow_ups import FollowUpView, claim_digest, forget_digest, list_follow_ups

log = logging.getLogger(__name__)
REASONS_VI = {
    "asked_to_return": "phải đi lại, bổ sung giấy tờ nhiều lần",
    "comment": "có góp ý",
    "hotline_message": "lời nhắn đường dây nóng",
    "low_score": "chấm điểm thấp",
    "not_on_time": "không nhận kết quả đúng hẹn",
    "paid_without_receipt": "nộp tiền không có biên lai",
}


def send_digests(runtime: Runtime) -> JobResult:
    """Mail each office its new and overdue follow-ups; offices with neither get nothing.

    At most once per office and local day, however often the job runs (a restart, a second
    scheduler): each digest is claimed in `digest_sends` before it is mailed, and given back
    when the mail could not go, so that the next run sends it."""
    settings = runtime.settings
    if not settings.smtp_url:
        return JobResult("digest_off")
    now = runtime.clock()
    tz = settings.timezone
    day = now.astimezone(tz).date()
    messages = []
    with runtime.transaction() as session:
        for office in session.scalars(
            select(Office).where(Office.email.is_not(None)).order_by(Office.code)
        ):
            views = list_follow_ups(session, now=now, office_id=office.id, status="open",
                                    manager=False)  # fmt: skip
            new = [v for v in views if v.status == Status.NEW and not v.overdue]
            overdue = [v for v in views if v.overdue]
            if not (new or overdue):
                continue
            claim = claim_digest(session, office.id, day, now, new=len(new),
                                 overdue=len(overdue))  # fmt: skip
            if claim is not None:
                messages.append((claim, _message(settings, office, new, overdue, tz)))
    unsent = [claim for claim, _ in messages]
    try:
        if messages:
            with _connect(settings.smtp_url) as smtp:
                for claim, message in messages:
                    smtp.send_message(message)
                    unsent.remove(claim)
    finally:
        if unsent:
            with runtime.transaction() as session:
                forget_digest(session, unsent)
    return JobResult("digests_sent", offices=len(messages))


def _message(settings, office: Office, new, overdue, tz) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = office.email
    message["Subject"] = (
        f"[Dân chấm điểm] {office.name or office.code}: {len(new)} phản ánh mới, "
        f"{len(overdue)} quá hạn"
    )
    lines = [f"Kính gửi {office.name or office.code},", ""]
    for title, items in (("Phản ánh quá hạn", overdue), ("Phản ánh mới", new)):
        if items:
            lines.append(f"{title} ({len(items)}):")
            lines += [_line(item, tz) for item in items]
            lines.append("")
    lines.append(f"Xem và xử lý tại: {settings.public_url}/followups")
    message.set_content("\n".join(lines))
    return message


def _line(item: FollowUpView, tz) -> str:
    reasons = ", ".join(REASONS_VI.get(r, r) for r in item.reasons)
    due = item.due_at.astimezone(tz).strftime("%d/%m/%Y")
    procedure = f" – {item.procedure}" if item.procedure else ""
    return f"  - Số {item.id}: {reasons}{procedure} (hạn {due})"


def _connect(url: str) -> smtplib.SMTP:
    parts = urlsplit(url)
    if parts.scheme == "smtps":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(parts.hostname, parts.port or 465, timeout=30)
    else:
        smtp = smtplib.SMTP(parts.hostname, parts.port or 25, timeout=30)
        smtp.ehlo()
        if smtp.has_extn("starttls"):
            smtp.starttls()
            smtp.ehlo()
    if parts.username:
        smtp.login(unquote(parts.username), unquote(parts.password or ""))
    return smtp
