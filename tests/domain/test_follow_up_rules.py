"""Which answers raise a follow-up: `follow_up` and `at_most` in a flow, and the reasons a
member's answers give (pure domain, table-driven)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cati.domain.flow import FlowError, follow_up_reasons
from cati.services.flows import read_flow_file
from tests.domain.test_flow import flow

FLOWS = Path(__file__).resolve().parents[2] / "call_flows"
RULES = {
    "/questions/1/follow_up": "low_score",  # staff (scale)
    "/questions/1/at_most": 3,
    "/questions/2/follow_up": {False: "not_on_time"},  # on_time: `no` as YAML reads it
    "/questions/3/options/2/follow_up": "online_channel",  # channel (choice)
    "/questions/4/follow_up": "paid_without_receipt",  # fee (yes_no): a string means yes
    "/questions/5/follow_up": "low_score",  # overall
    "/questions/5/at_most": 2,
    "/questions/6/follow_up": "comment",  # record
}


@pytest.mark.parametrize(
    ("answers", "reasons"),
    [
        ({}, []),
        ({"consent": "1", "staff": "4", "on_time": "1", "fee": "2", "overall": "9"}, []),
        ({"staff": "3"}, ["low_score"]),
        ({"staff": "1"}, ["low_score"]),
        ({"staff": "0"}, []),  # don't know is no complaint
        ({"staff": None}, []),  # no answer either
        ({"on_time": "2"}, ["not_on_time"]),
        ({"on_time": "1"}, []),
        ({"fee": "1"}, ["paid_without_receipt"]),
        ({"fee": "2"}, []),
        ({"channel": "2"}, ["online_channel"]),
        ({"channel": "1"}, []),
        ({"overall": "3"}, []),  # at_most 2 on this one
        ({"overall": "2"}, ["low_score"]),
        ({"comment": "1"}, ["comment"]),
        # every reason once, in the flow's order
        (
            {"staff": "2", "on_time": "2", "fee": "1", "overall": "1", "comment": "1"},
            ["low_score", "not_on_time", "paid_without_receipt", "comment"],
        ),
    ],
)
def test_the_reasons_a_members_answers_raise(answers, reasons):
    assert follow_up_reasons(flow(RULES), answers) == reasons


def test_yes_no_follow_ups_written_as_strings_in_json():
    rules = {
        "/questions/2/follow_up": {"no": "not_on_time"},
        "/questions/4/follow_up": {"yes": "x"},
    }
    assert follow_up_reasons(flow(rules), {"on_time": "2", "fee": "1"}) == ["not_on_time", "x"]


def test_the_flow_says_which_reason_a_key_raises():
    question = flow(RULES).question("staff")
    assert [question.follow_up_reason(k) for k in "01234"] == [None, *["low_score"] * 3, None]


@pytest.mark.parametrize(
    ("changes", "path", "reason"),
    [
        ({"/questions/1/follow_up": "low_score"}, "/questions/1/at_most", "needs at_most"),
        ({"/questions/1/at_most": 3}, "/questions/1/at_most", "needs a follow_up"),
        (
            {"/questions/1/follow_up": "low_score", "/questions/1/at_most": 10},
            "/questions/1/at_most",
            "from 1 to 9",
        ),
        (
            {"/questions/1/follow_up": "low_score", "/questions/1/at_most": 0},
            "/questions/1/at_most",
            "from 1 to 9",
        ),
        (
            {"/questions/1/follow_up": "low_score", "/questions/1/at_most": True},
            "/questions/1/at_most",
            "from 1 to 9",
        ),
        (
            {"/questions/1/follow_up": "low_score", "/questions/1/at_most": "3"},
            "/questions/1/at_most",
            "from 1 to 9",
        ),
        ({"/questions/2/at_most": 1}, "/questions/2/at_most", "only scale questions"),
        (
            {"/questions/1/follow_up": "Low Score", "/questions/1/at_most": 3},
            "/questions/1/follow_up",
            "lower-case identifier",
        ),
        ({"/questions/4/follow_up": 5}, "/questions/4/follow_up", "{yes: reason}"),
        ({"/questions/4/follow_up": {}}, "/questions/4/follow_up", "{yes: reason}"),
        ({"/questions/4/follow_up": {"maybe": "x"}}, "/questions/4/follow_up/maybe", "yes, no"),
        (
            {"/questions/4/follow_up": {"yes": "bad-reason"}},
            "/questions/4/follow_up/yes",
            "lower-case identifier",
        ),
        ({"/questions/3/follow_up": "x"}, "/questions/3/follow_up", "on its options"),
        (
            {"/questions/3/options/2/follow_up": ""},
            "/questions/3/options/2/follow_up",
            "lower-case identifier",
        ),
        ({"/questions/6/follow_up": ["comment"]}, "/questions/6/follow_up", "identifier"),
        ({"/questions/1/follow_ups": "x"}, "/questions/1/follow_ups", "did you mean 'follow_up'"),
        (
            {"/questions/3/options/2/folow_up": "x"},
            "/questions/3/options/2/folow_up",
            "did you mean 'follow_up'",
        ),
    ],
)
def test_bad_follow_up_declarations_are_refused_with_their_path(changes, path, reason):
    with pytest.raises(FlowError) as caught:
        flow(changes)
    assert caught.value.path == path
    assert reason in caught.value.reason


def test_a_flow_without_follow_ups_raises_none():
    assert follow_up_reasons(flow(), {"staff": "1", "fee": "1", "comment": "1"}) == []


MSCORE_ALL_GOOD = {
    "consent": "1", "staff_attitude": "9", "guidance_quality": "8", "on_time": "1",
    "asked_to_return": "2", "paid_without_receipt": "2", "overall": "7",
}  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "reasons"),
    [
        ({}, []),
        ({"staff_attitude": "4", "guidance_quality": "4", "overall": "4"}, []),
        ({"staff_attitude": "3"}, ["low_score"]),
        ({"guidance_quality": "1"}, ["low_score"]),
        ({"overall": "2"}, ["low_score"]),
        ({"on_time": "2"}, ["not_on_time"]),
        ({"asked_to_return": "1"}, ["asked_to_return"]),
        ({"paid_without_receipt": "1"}, ["paid_without_receipt"]),
        ({"comment": "1"}, ["comment"]),
        ({"comment": None, "on_time": "0"}, []),
        (
            {"paid_without_receipt": "1", "overall": "1", "staff_attitude": "2", "comment": "1"},
            ["low_score", "paid_without_receipt", "comment"],
        ),
    ],
)
def test_the_shipped_mscore_declares_the_issues_reasons(changes, reasons):
    mscore = read_flow_file(FLOWS / "mscore.yaml")
    assert follow_up_reasons(mscore, {**MSCORE_ALL_GOOD, **changes}) == reasons


def test_the_shipped_sipas_raises_low_scores():
    sipas = read_flow_file(FLOWS / "sipas.yaml")
    good = {q.id: "9" for q in sipas.questions if q.type == "scale"}
    assert follow_up_reasons(sipas, good) == []
    for question in ("access", "procedure", "civil_servant", "result", "feedback_handling"):
        assert follow_up_reasons(sipas, {**good, question: "3"}) == ["low_score"]
