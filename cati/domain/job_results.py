"""What a scheduler job did, said in the reader's language.

A job returns a `JobResult`: its English line (what logs and `cati scheduler status` show) that
also keeps a message key and the figures, so that the dashboard can say the same thing in
Vietnamese. The figures are stored beside the English line (`scheduler_jobs.last_result_data`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

WEEKDAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "vi": ("T2", "T3", "T4", "T5", "T6", "T7", "CN"),
}


class JobResult(str):
    """The English line of a job's result, with its message key and figures."""

    key: str
    params: dict[str, Any]

    def __new__(cls, key: str, **params: Any) -> JobResult:
        self = super().__new__(cls, describe(key, params, "en"))
        self.key, self.params = key, params
        return self

    def data(self) -> str:
        return json.dumps({"key": self.key, "params": self.params}, ensure_ascii=False)


def describe_stored(data: str | None, language: str) -> str | None:
    """The stored result (`JobResult.data()`) in `language`; None when there is none or it
    cannot be read (the caller then shows the English line)."""
    if not data:
        return None
    try:
        stored = json.loads(data)
        return describe(stored["key"], stored["params"], language)
    except (ValueError, KeyError, TypeError):
        return None


def describe(key: str, params: Mapping[str, Any], language: str) -> str:
    return _MESSAGES[language if language in _MESSAGES else "en"][key](**params)


def _when(iso: str | None, language: str) -> str:
    if iso is None:
        return ""
    moment = datetime.fromisoformat(iso)
    day = WEEKDAYS[language][moment.weekday()]
    return f"{day} {moment:%d/%m %H:%M}"


def _en_count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _en_sampled(week: str, rounds: list[dict[str, Any]]) -> str:
    parts = [
        f"{r['flow']} round {r['id']} "
        + ("already sampled" if r["members"] is None else f"sampled, {r['members']} members")
        for r in rounds
    ]
    return f"{week}: " + "; ".join(parts)


def _vi_sampled(week: str, rounds: list[dict[str, Any]]) -> str:
    parts = [
        f"{r['flow']} đợt {r['id']} "
        + ("đã chọn mẫu từ trước" if r["members"] is None else f"đã chọn {r['members']} người")
        for r in rounds
    ]
    return f"{week}: " + "; ".join(parts)


def _counter_ratings(n: dict[str, int]) -> int:
    """Counter ratings erased: said only when some were (results stored by earlier versions
    have no such figure)."""
    return n.get("counter_ratings", 0)


def _en_erased(**n: int) -> str:
    deleted = _en_count(n["recordings_deleted"], "recording") + " deleted"
    if n["recordings_left"]:
        deleted += f" ({n['recordings_left']} left for the next run)"
    counter = _counter_ratings(n)
    return (
        f"{_en_count(n['rounds'], 'round')} erased: {_en_count(n['members'], 'member')}, "
        f"{_en_count(n['cases'], 'case')}, {deleted}, "
        f"{_en_count(n['opt_outs_hashed'], 'opt-out')} kept as "
        f"{'a hash' if n['opt_outs_hashed'] == 1 else 'hashes'}, "
        f"{_en_count(n['hotline_messages'], 'hotline message')}"
        + (f", {_en_count(counter, 'counter rating')}" if counter else "")
    )


def _vi_erased(**n: int) -> str:
    left = f" (còn {n['recordings_left']} bản cho lần sau)" if n["recordings_left"] else ""
    counter = _counter_ratings(n)
    return (
        f"đã xóa dữ liệu của {n['rounds']} đợt: {n['members']} người được khảo sát, "
        f"{n['cases']} hồ sơ, {n['recordings_deleted']} bản ghi âm{left}, "
        f"{n['opt_outs_hashed']} số từ chối chỉ còn giữ dạng băm, "
        f"{n['hotline_messages']} lời nhắn đường dây nóng"
        + (f", {counter} phiếu đánh giá tại quầy và qua mã QR" if counter else "")
    )


_MESSAGES: dict[str, dict[str, Callable[..., str]]] = {
    "en": {
        "nothing_due": lambda: "nothing due",
        "sampled": _en_sampled,
        "outside_hours": lambda next_at: (
            "outside calling hours" + (f" (next from {_when(next_at, 'en')})" if next_at else "")
        ),
        "dialed": lambda rounds, placed, invalid_numbers, deferred, skipped=0, sms_sent=0: (
            f"{rounds} rounds due: {placed} calls placed, {invalid_numbers} invalid numbers, "
            f"{deferred} deferred"
            + (f", {skipped} skipped (questionnaire missing or invalid)" if skipped else "")
            + (f", {sms_sent} invitation SMS sent" if sms_sent else "")
        ),
        "reaped": lambda reconciled, still_live, released, errors, leases_returned: (
            f"{reconciled} calls reconciled, {still_live} still live, {released} never placed "
            f"and requeued, {errors} errors, {leases_returned} expired console leases returned"
        ),
        "closed": lambda rounds: f"{rounds} rounds closed",
        "digests_sent": lambda offices: f"follow-up digests mailed to {offices} offices",
        "digest_off": lambda: "no CATI_SMTP_URL: no digest mailed",
        "erased": _en_erased,
        "ok": lambda: "ok",
        "lost_lead": lambda: "lost the leadership lock",
        "error": lambda message: f"error: {message}",
    },
    "vi": {
        "nothing_due": lambda: "chưa đến hạn việc nào",
        "sampled": _vi_sampled,
        "outside_hours": lambda next_at: (
            "ngoài giờ gọi" + (f" (gọi lại từ {_when(next_at, 'vi')})" if next_at else "")
        ),
        "dialed": lambda rounds, placed, invalid_numbers, deferred, skipped=0, sms_sent=0: (
            f"{rounds} đợt đến hạn: đã gọi {placed} cuộc, {invalid_numbers} số không hợp lệ, "
            f"{deferred} cuộc hoãn lại"
            + (f", bỏ qua {skipped} đợt (thiếu hoặc sai bảng hỏi)" if skipped else "")
            + (f", đã gửi {sms_sent} tin nhắn mời" if sms_sent else "")
        ),
        "reaped": lambda reconciled, still_live, released, errors, leases_returned: (
            f"đã đối chiếu {reconciled} cuộc gọi, {still_live} cuộc còn đang gọi, {released} "
            f"cuộc chưa gọi được xếp lại, {errors} lỗi, {leases_returned} ca của điều tra viên "
            "hết hạn được trả lại"
        ),
        "closed": lambda rounds: f"đã đóng {rounds} đợt",
        "digests_sent": lambda offices: f"đã gửi thư tổng hợp phản ánh cho {offices} đơn vị",
        "digest_off": lambda: "chưa đặt CATI_SMTP_URL: không gửi thư tổng hợp",
        "erased": _vi_erased,
        "ok": lambda: "bình thường",
        "lost_lead": lambda: "mất quyền điều phối",
        "error": lambda message: f"lỗi: {message}",
    },
}
