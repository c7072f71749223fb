"""A job's result: its English line, and the same said in Vietnamese from the stored figures."""

from __future__ import annotations

import json

import pytest

from cati.domain.job_results import _MESSAGES, JobResult, describe, describe_stored

ERASED = {
    "rounds": 1,
    "members": 2,
    "cases": 3,
    "recordings_deleted": 1,
    "recordings_left": 2,
    "opt_outs_hashed": 1,
    "hotline_messages": 0,
}
RESULTS = [
    # (key, figures, English, Vietnamese)
    ("nothing_due", {}, "nothing due", "chưa đến hạn việc nào"),
    (
        "sampled",
        {
            "week": "2026-W47",
            "rounds": [
                {"flow": "mscore", "id": 3, "members": 431},
                {"flow": "sipas", "id": 4, "members": None},
            ],
        },
        "2026-W47: mscore round 3 sampled, 431 members; sipas round 4 already sampled",
        "2026-W47: mscore đợt 3 đã chọn 431 người; sipas đợt 4 đã chọn mẫu từ trước",
    ),
    (
        "outside_hours",
        {"next_at": "2026-11-30T08:00:00+07:00"},
        "outside calling hours (next from Mon 30/11 08:00)",
        "ngoài giờ gọi (gọi lại từ T2 30/11 08:00)",
    ),
    ("outside_hours", {"next_at": None}, "outside calling hours", "ngoài giờ gọi"),
    (
        "dialed",
        {"rounds": 1, "placed": 3, "invalid_numbers": 0, "deferred": 2},
        "1 rounds due: 3 calls placed, 0 invalid numbers, 2 deferred",
        "1 đợt đến hạn: đã gọi 3 cuộc, 0 số không hợp lệ, 2 cuộc hoãn lại",
    ),
    (
        "dialed",
        {"rounds": 2, "placed": 3, "invalid_numbers": 0, "deferred": 0, "skipped": 1},
        "2 rounds due: 3 calls placed, 0 invalid numbers, 0 deferred, "
        "1 skipped (questionnaire missing or invalid)",
        "2 đợt đến hạn: đã gọi 3 cuộc, 0 số không hợp lệ, 0 cuộc hoãn lại, "
        "bỏ qua 1 đợt (thiếu hoặc sai bảng hỏi)",
    ),
    (
        "reaped",
        {"reconciled": 1, "still_live": 2, "released": 3, "errors": 0, "leases_returned": 4},
        "1 calls reconciled, 2 still live, 3 never placed and requeued, 0 errors, "
        "4 expired console leases returned",
        "đã đối chiếu 1 cuộc gọi, 2 cuộc còn đang gọi, 3 cuộc chưa gọi được xếp lại, 0 lỗi, "
        "4 ca của điều tra viên hết hạn được trả lại",
    ),
    ("closed", {"rounds": 2}, "2 rounds closed", "đã đóng 2 đợt"),
    (
        "digests_sent",
        {"offices": 3},
        "follow-up digests mailed to 3 offices",
        "đã gửi thư tổng hợp phản ánh cho 3 đơn vị",
    ),
    (
        "digest_off",
        {},
        "no CATI_SMTP_URL: no digest mailed",
        "chưa đặt CATI_SMTP_URL: không gửi thư tổng hợp",
    ),
    (
        "erased",
        ERASED,
        "1 round erased: 2 members, 3 cases, 1 recording deleted (2 left for the next run), "
        "1 opt-out kept as a hash, 0 hotline messages",
        "đã xóa dữ liệu của 1 đợt: 2 người được khảo sát, 3 hồ sơ, 1 bản ghi âm "
        "(còn 2 bản cho lần sau), 1 số từ chối chỉ còn giữ dạng băm, 0 lời nhắn đường dây nóng",
    ),
    (
        "erased",
        {**ERASED, "recordings_left": 0, "counter_ratings": 3},
        "1 round erased: 2 members, 3 cases, 1 recording deleted, 1 opt-out kept as a hash, "
        "0 hotline messages, 3 counter ratings",
        "đã xóa dữ liệu của 1 đợt: 2 người được khảo sát, 3 hồ sơ, 1 bản ghi âm, 1 số từ chối "
        "chỉ còn giữ dạng băm, 0 lời nhắn đường dây nóng, 3 phiếu đánh giá tại quầy và qua mã QR",
    ),
    ("ok", {}, "ok", "bình thường"),
    ("lost_lead", {}, "lost the leadership lock", "mất quyền điều phối"),
    (
        "error",
        {"message": "database error (OperationalError)"},
        "error: database error (OperationalError)",
        "lỗi: database error (OperationalError)",
    ),
]


@pytest.mark.parametrize(
    ("key", "figures", "english", "vietnamese"),
    RESULTS,
    ids=[f"{r[0]}-{i}" for i, r in enumerate(RESULTS)],
)
def test_a_result_is_its_english_line_and_says_the_same_in_vietnamese(
    key, figures, english, vietnamese
):
    result = JobResult(key, **figures)
    assert result == english and isinstance(result, str)
    stored = result.data()
    assert describe_stored(stored, "en") == english
    assert describe_stored(stored, "vi") == vietnamese
    assert json.loads(stored) == {"key": key, "params": figures}  # plain JSON, no objects


def test_every_result_is_worded_in_both_languages_and_tested():
    assert set(_MESSAGES["vi"]) == set(_MESSAGES["en"]) == {key for key, *_ in RESULTS}


def test_english_counts_are_plural_except_for_one():
    plural = dict(ERASED, rounds=2, recordings_deleted=0, recordings_left=0, opt_outs_hashed=3)
    assert describe("erased", plural, "en") == (
        "2 rounds erased: 2 members, 3 cases, 0 recordings deleted, 3 opt-outs kept as hashes, "
        "0 hotline messages"
    )


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "",
        "a line from an older version",
        "[]",
        '{"key": "gone", "params": {}}',
        '{"key": "closed", "params": {"round": 1}}',
    ],
)
def test_what_cannot_be_read_is_left_to_the_english_line(stored):
    assert describe_stored(stored, "vi") is None


def test_an_unknown_language_falls_back_to_english():
    assert describe("closed", {"rounds": 1}, "fr") == "1 rounds closed"
