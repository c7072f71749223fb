"""POST /api/cases: a JSON list of dossier records, validated and upserted like a file import."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from cati.models import Case
from cati.runtime import Runtime
from cati.web import create_app
from cati.web.api import views
from tests.conftest import NOW
from tests.factories import create_case

URL = "/api/cases"
AUTH = {"Authorization": "Bearer test-token"}
EMPTY_SUMMARY = {"imported": 0, "updated": 0, "unchanged": 0, "rejected": [], "no_phone": 0}

ENGLISH = {
    "dossier_code": "HS-1",
    "citizen_name": "Nguyễn Văn An",
    "phone": "0912 345 678",
    "office_code": "QT-DONGHA",
    "office_name": "Bộ phận một cửa thành phố Đông Hà",
    "procedure_code": "1.004194",
    "procedure_name": "Đăng ký thường trú",
    "officer": "Võ Văn Hùng",
    "channel": "in_person",
    "immediate_result": False,
    "received_at": "2026-11-13 16:55",
    "due_at": "2026-11-20",
    "returned_at": "2026-11-18 09:43",
}
VIETNAMESE = {
    "Mã hồ sơ": "HS-2",
    "Họ và tên": "Trần Thị Bình",
    "Số điện thoại": "01662345678",
    "Mã đơn vị": "QT-DONGHA",
    "Đơn vị": "Bộ phận một cửa thành phố Đông Hà",
    "Thủ tục": "Đăng ký khai sinh",
    "Người tiếp nhận": "Lê Quang Huy",
    "Hình thức nộp": "Trực tuyến",
    "Trả kết quả ngay": "có",
    "Ngày tiếp nhận": "20/11/2026 08:00",
    "Ngày hẹn trả": "",
    "Ngày trả kết quả": "23/11/2026 00:10",
}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def case(**values) -> dict:
    return {**ENGLISH, **values}


def post(client, body, query: str = "", headers: dict | None = None):
    return client.post(URL + query, json=body, headers=AUTH if headers is None else headers)


def stored(session) -> dict[str, Case]:
    session.expire_all()
    return {c.dossier_code: c for c in session.scalars(select(Case))}


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(Case))


def test_records_are_stored(client, session):
    response = post(client, [ENGLISH, VIETNAMESE])
    assert response.status_code == 200
    assert response.get_json() == {**EMPTY_SUMMARY, "imported": 2}

    cases = stored(session)
    one, two = cases["HS-1"], cases["HS-2"]
    assert (one.citizen_name, one.phone, one.phone_type) == ("Nguyễn Văn An", "+84912345678",
                                                             "mobile")  # fmt: skip
    assert (one.office.code, one.office.name) == ("QT-DONGHA", ENGLISH["office_name"])
    assert (one.procedure_code, one.procedure_name, one.officer) == (
        "1.004194",
        "Đăng ký thường trú",
        "Võ Văn Hùng",
    )
    assert (one.channel, one.immediate_result) == ("in_person", False)
    assert (one.received_at, one.due_at, one.returned_at) == (
        utc(2026, 11, 13, 9, 55),
        utc(2026, 11, 19, 17, 0),
        utc(2026, 11, 18, 2, 43),
    )
    assert (one.created_at, one.updated_at) == (NOW, NOW)
    assert (two.citizen_name, two.phone, two.procedure_name, two.officer) == (
        "Trần Thị Bình",
        "+84362345678",
        "Đăng ký khai sinh",
        "Lê Quang Huy",
    )
    assert (two.channel, two.immediate_result, two.due_at) == ("online", True, None)
    assert two.returned_at == utc(2026, 11, 22, 17, 10)  # Monday 00:10 local, Sunday in UTC


JSON_VALUES = [
    ("bool-true", {"immediate_result": True}, "immediate_result", True),
    ("bool-false", {"immediate_result": False}, "immediate_result", False),
    ("int-one", {"immediate_result": 1}, "immediate_result", True),
    ("null-yes-no", {"immediate_result": None}, "immediate_result", False),
    ("int-phone", {"phone": 912345678}, "phone", "+84912345678"),
    ("null-phone", {"phone": None}, "phone", None),
    ("null-returned", {"returned_at": None}, "returned_at", None),
    ("int-dossier-code", {"dossier_code": 123456}, "dossier_code", "123456"),
    ("padded-channel", {"channel": " TRỰC TIẾP "}, "channel", "in_person"),
    ("bcci", {"channel": "BCCI"}, "channel", "postal"),
    ("mixed-case-key", {"Phone": "0233 3852 123"}, "phone", "+842333852123"),
]


@pytest.mark.parametrize(
    ("values", "attribute", "expected"),
    [v[1:] for v in JSON_VALUES],
    ids=[v[0] for v in JSON_VALUES],
)
def test_json_values(client, session, values, attribute, expected):
    body = {k: v for k, v in ENGLISH.items() if k.lower() not in {k.lower() for k in values}}
    response = post(client, [{**body, **values}])
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["imported"] == 1
    [stored_case] = stored(session).values()
    assert getattr(stored_case, attribute) == expected


def test_no_phone_is_counted(client, session):
    body = [
        case(dossier_code=f"HS-{i}", phone=p)
        for i, p in enumerate(["", "12345", None, "0912345678"])
    ]
    response = post(client, body)
    assert response.get_json() == {**EMPTY_SUMMARY, "imported": 4, "no_phone": 3}
    assert count(session) == 4


REJECTIONS = [
    ("impossible-date", {"received_at": "31/02/2026"}, "received_at", "impossible"),
    ("unreadable-date", {"due_at": 46342}, "due_at", "cannot read date"),
    ("returned-before-received", {"returned_at": "2026-11-13 16:54"}, "returned_at", "before"),
    ("unknown-channel", {"channel": "fax"}, "channel", "unknown channel"),
    ("bad-yes-no", {"immediate_result": "maybe"}, "immediate_result", "yes/no"),
    ("missing-dossier-code", {"dossier_code": None}, "dossier_code", "missing"),
    ("missing-office-code", {"office_code": ""}, "office_code", "missing"),
    ("missing-received-at", {"received_at": "  "}, "received_at", "missing"),
    ("too-long-name", {"citizen_name": "Ặ" * 256}, "citizen_name", "longer than 255"),
    ("too-long-code", {"dossier_code": "H" * 101}, "dossier_code", "longer than 100"),
    ("nul-character", {"officer": "Hùng\u0000"}, "officer", "NUL"),
]


@pytest.mark.parametrize(
    ("values", "column", "reason"), [r[1:] for r in REJECTIONS], ids=[r[0] for r in REJECTIONS]
)
def test_rejected_record_is_reported_by_position(client, session, values, column, reason):
    body = [
        case(dossier_code="A"),
        case(**{"dossier_code": "BAD", **values}),
        case(dossier_code="B"),
    ]
    response = post(client, body)
    assert response.status_code == 200
    summary = response.get_json()
    assert (summary["imported"], summary["updated"], summary["unchanged"]) == (2, 0, 0)
    [rejection] = summary["rejected"]
    assert (rejection["line"], rejection["column"]) == (2, column)
    assert reason in rejection["reason"]
    assert sorted(stored(session)) == ["A", "B"]


def test_record_without_required_keys(client, session):
    response = post(client, [{"citizen_name": "An"}])
    assert response.status_code == 200
    assert sorted(r["column"] for r in response.get_json()["rejected"]) == [
        "dossier_code",
        "office_code",
        "received_at",
    ]
    assert count(session) == 0


def test_duplicate_dossier_code_in_one_request(client, session):
    response = post(client, [case(citizen_name="first"), case(dossier_code="HS-2"),
                             case(citizen_name="second")])  # fmt: skip
    assert response.get_json()["rejected"] == [
        {"line": 3, "column": "dossier_code", "reason": "dossier code already on line 1"}
    ]
    assert stored(session)["HS-1"].citizen_name == "first"


def test_reposting_is_idempotent_and_changes_are_updates(client, session):
    body = [case(returned_at=None), case(dossier_code="HS-2")]
    assert post(client, body).get_json() == {**EMPTY_SUMMARY, "imported": 2}
    case_id = stored(session)["HS-1"].id
    assert post(client, body).get_json() == {**EMPTY_SUMMARY, "unchanged": 2}

    body[0]["returned_at"] = "2026-11-23 00:10"
    assert post(client, body).get_json() == {**EMPTY_SUMMARY, "updated": 1, "unchanged": 1}
    updated = stored(session)["HS-1"]
    assert (updated.id, updated.returned_at) == (case_id, utc(2026, 11, 22, 17, 10))
    assert count(session) == 2


@pytest.mark.parametrize("strict", ["1", "true", "yes"])
def test_strict_rejection_stores_nothing(client, session, strict):
    create_case(session, dossier_code="OLD", returned_at=None)
    body = [
        case(dossier_code="NEW"),
        case(dossier_code="OLD", returned_at="2026-11-18 09:43"),
        case(dossier_code="BAD", channel="fax"),
    ]
    response = post(client, body, f"?strict={strict}")
    assert response.status_code == 422
    summary = response.get_json()
    assert {k: v for k, v in summary.items() if k != "rejected"} == {
        "imported": 0,
        "updated": 0,
        "unchanged": 0,
        "no_phone": 0,
    }
    assert [(r["line"], r["column"]) for r in summary["rejected"]] == [(3, "channel")]
    cases = stored(session)
    assert sorted(cases) == ["OLD"]
    assert cases["OLD"].returned_at is None


def test_strict_without_rejections_stores_everything(client, session):
    response = post(client, [case(dossier_code="A"), case(dossier_code="B")], "?strict=1")
    assert response.status_code == 200
    assert response.get_json() == {**EMPTY_SUMMARY, "imported": 2}
    assert sorted(stored(session)) == ["A", "B"]


@pytest.mark.parametrize("strict", ["0", "", "false"])
def test_not_strict_stores_the_valid_records(client, session, strict):
    response = post(client, [case(dossier_code="A"), case(dossier_code="B", channel="fax")],
                    f"?strict={strict}")  # fmt: skip
    assert response.status_code == 200
    assert sorted(stored(session)) == ["A"]


def test_empty_list(client, session):
    response = post(client, [])
    assert (response.status_code, response.get_json()) == (200, EMPTY_SUMMARY)


# --------------------------------------------------------------------------------------------
# Authentication and bad requests
# --------------------------------------------------------------------------------------------

BAD_AUTH = [
    ("none", {}),
    ("wrong-token", {"Authorization": "Bearer wrong-token"}),
    ("token-prefix", {"Authorization": "Bearer test-tok"}),
    ("token-longer", {"Authorization": "Bearer test-token2"}),
    ("no-scheme", {"Authorization": "test-token"}),
    ("basic-scheme", {"Authorization": "Basic test-token"}),
    ("empty-bearer", {"Authorization": "Bearer "}),
    ("other-header", {"X-Api-Token": "test-token"}),
]


@pytest.mark.parametrize("headers", [h for _, h in BAD_AUTH], ids=[n for n, _ in BAD_AUTH])
def test_unauthorised_requests_are_refused(client, session, headers):
    response = post(client, [case()], headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "error" in response.get_json()
    assert count(session) == 0


def test_authorisation_scheme_is_case_insensitive(client, session):
    response = post(client, [case()], headers={"Authorization": "bearer test-token"})
    assert response.status_code == 200
    assert count(session) == 1


def test_no_token_configured_refuses_everyone(settings, session_factory, session):
    runtime = Runtime(dataclasses.replace(settings, api_token=None), session_factory,
                      clock=lambda: NOW)  # fmt: skip
    client = create_app(runtime, {"TESTING": True}).test_client()
    for headers in (AUTH, {"Authorization": "Bearer "}, {"Authorization": "Bearer None"}):
        assert post(client, [case()], headers=headers).status_code == 401
    assert count(session) == 0


BAD_BODIES = [
    ("object", {"dossier_code": "HS-1"}),
    ("wrapped-list", {"cases": [ENGLISH]}),
    ("string", "HS-1"),
    ("number", 42),
    ("null", None),
    ("list-of-strings", ["HS-1", "HS-2"]),
    ("list-of-lists", [["HS-1", "QT", "2026-11-16"]]),
    ("one-non-object", [ENGLISH, "HS-2"]),
    ("null-item", [ENGLISH, None]),
]


@pytest.mark.parametrize("body", [b for _, b in BAD_BODIES], ids=[n for n, _ in BAD_BODIES])
def test_body_that_is_not_a_list_of_objects(client, session, body):
    response = post(client, body)
    assert response.status_code == 400
    assert "error" in response.get_json()
    assert count(session) == 0


RAW_BODIES = [
    ("invalid-json", "[{", "application/json"),
    ("empty-body", "", "application/json"),
    ("form", "dossier_code=HS-1", "application/x-www-form-urlencoded"),
    ("json-as-text", '[{"dossier_code": "HS-1"}]', "text/plain"),
]


@pytest.mark.parametrize(
    ("data", "content_type"), [r[1:] for r in RAW_BODIES], ids=[r[0] for r in RAW_BODIES]
)
def test_body_that_is_not_json(client, session, data, content_type):
    response = client.post(URL, data=data, content_type=content_type, headers=AUTH)
    assert response.status_code == 400
    assert count(session) == 0


def test_too_many_records(client, session, monkeypatch):
    monkeypatch.setattr(views, "MAX_CASES_PER_REQUEST", 2)
    response = post(client, [case(dossier_code=c) for c in "ABC"])
    assert response.status_code == 413
    assert count(session) == 0


# --------------------------------------------------------------------------------------------
# Oversize and malformed requests: a 4xx with a JSON error, never a 500
# --------------------------------------------------------------------------------------------

MALFORMED = [
    ("many-brackets", "[" * 100_000),
    ("deep-object", '{"a":' * 5000 + "1" + "}" * 5000),
    ("deep-inside-a-record", '[{"dossier_code":' + "[" * 5000 + "]" * 5000 + "}]"),
    ("lone-surrogate", '"\\ud800"'),
    ("not-utf8", b'[{"dossier_code": "\xff"}]'),
    ("trailing-garbage", "[]]"),
]


@pytest.mark.parametrize("data", [m[1] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_body_is_a_400_with_a_json_error(client, session, data):
    response = client.post(URL, data=data, content_type="application/json", headers=AUTH)
    assert response.status_code == 400
    assert isinstance(response.get_json()["error"], str)
    assert count(session) == 0


def test_body_past_the_size_limit_is_a_413_with_a_json_error(app, session):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = post(app.test_client(), [case(citizen_name="x" * 2000)])
    assert response.status_code == 413
    assert "error" in response.get_json()
    assert count(session) == 0


NOT_TEXT = [
    ("object", '{"x": 1}', "officer", "object"),
    ("list", '["a", "b"]', "citizen_name", "list"),
    ("nan", "NaN", "phone", "NaN"),
    ("infinity", "Infinity", "dossier_code", "Infinity"),
    ("minus-infinity", "-Infinity", "office_code", "-Infinity"),
    ("true", "true", "procedure_name", "true"),
    ("lone-surrogate", '"V\\u00f5 \\ud800"', "officer", "surrogate"),
    ("lone-surrogate-name", '"\\udfff"', "citizen_name", "surrogate"),
    ("object-for-a-date", '{"d": "2026-11-16"}', "received_at", "object"),
    ("list-for-yes-no", "[true]", "immediate_result", "list"),
    ("nan-for-a-date", "NaN", "returned_at", "NaN"),
]


@pytest.mark.parametrize(
    ("literal", "column", "reason"), [n[1:] for n in NOT_TEXT], ids=[n[0] for n in NOT_TEXT]
)
def test_a_value_that_is_not_text_rejects_its_record_naming_the_field(
    client, session, literal, column, reason
):
    import json

    bad = json.dumps(case(**{"dossier_code": "BAD", column: "@"}), ensure_ascii=True)
    bad = bad.replace('"@"', literal)
    body = f"[{json.dumps(case(dossier_code='A'))}, {bad}, {json.dumps(case(dossier_code='B'))}]"
    response = client.post(URL, data=body, content_type="application/json", headers=AUTH)
    assert response.status_code == 200, response.get_data()
    summary = response.get_json()
    assert [(r["line"], r["column"]) for r in summary["rejected"]] == [(2, column)]
    assert reason in summary["rejected"][0]["reason"]
    assert (summary["imported"], summary["updated"]) == (2, 0)
    assert sorted(stored(session)) == ["A", "B"]


def test_a_lone_surrogate_in_strict_mode_stores_nothing(client, session):
    body = '[{"dossier_code": "HS-1", "office_code": "QT", "received_at": "2026-11-16",' \
        ' "citizen_name": "\\ud83d"}]'  # fmt: skip
    response = client.post(
        URL + "?strict=1", data=body, content_type="application/json", headers=AUTH
    )
    assert response.status_code == 422
    assert [r["column"] for r in response.get_json()["rejected"]] == ["citizen_name"]
    assert count(session) == 0


def test_whole_numbers_are_read_as_their_digits(client, session):
    response = post(client, [case(dossier_code=2026001, phone=912345678.0, office_code=7)])
    assert response.status_code == 200 and response.get_json()["imported"] == 1
    [stored_case] = stored(session).values()
    assert (stored_case.dossier_code, stored_case.phone) == ("2026001", "+84912345678")
    assert stored_case.office.code == "7"


def test_a_return_in_the_future_is_rejected(client, session):
    # NOW is Monday 23/11/2026 10:00 in Vietnam
    body = [case(dossier_code="A", returned_at="2026-11-23 10:00"),
            case(dossier_code="B", returned_at="2026-11-23 10:01")]  # fmt: skip
    summary = post(client, body).get_json()
    assert [(r["line"], r["column"]) for r in summary["rejected"]] == [(2, "returned_at")]
    assert "future" in summary["rejected"][0]["reason"]
    assert sorted(stored(session)) == ["A"]
