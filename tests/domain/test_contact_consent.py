"""The contact question: asked last, only when the answers raise a follow-up (table-driven).

1 is yes; any other key or silence is no; '*' repeats it. The questions before it keep their
order and keys, and a hang-up there leaves the interview a complete.
"""

from __future__ import annotations

import copy

import pytest

from cati.domain.flow import (
    CONTACT_CONSENT,
    FlowError,
    FlowRun,
    Outcome,
    classify_interview,
    load_flow,
    missing_scripts,
)
from tests.domain.test_flow import CASE, DELETE, SOURCE, both, edited, lines, play

CONTACT = {
    "prompt": both("contact"),
    "label": both("contact label"),
    "script": both("contact script"),
}
RULES = {
    "/questions/1/follow_up": "low_score",  # staff (scale)
    "/questions/1/at_most": 3,
    "/questions/6/follow_up": "comment",  # comment (record)
    "/contact_consent": CONTACT,
}
# consent 1, staff, on_time 1, channel 1, fee 2, overall 9, then the comment's key
GOOD = ["1", "9", "1", "1", "2", "9"]
LOW = ["1", "2", "1", "1", "2", "9"]
ASKED = ["< VI contact", "? contact_consent [1 *]"]
CLOSED = ["< VI closing", "# complete"]


def flow(changes=None):
    merged = {**RULES, **(changes or {})}
    kept = copy.deepcopy({k: v for k, v in merged.items() if v is not DELETE})
    return load_flow(edited(kept), SOURCE)


def run_with(keys, changes=None) -> tuple[FlowRun, list[str]]:
    run = FlowRun(flow(changes), CASE, "vi")
    run.start()
    return run, play(run, keys)


@pytest.mark.parametrize(
    ("keys", "last", "contact"),
    [
        # no reason: the interview ends as it always did, the question never comes
        ([*GOOD, "2"], CLOSED, None),
        ([*GOOD, "1", "rec"], ASKED, None),  # a recorded comment is a reason (asked next)
        # a low score: asked after the comment; the comment declined is saved as no answer,
        # as the interview goes on (the IVR's next turn resumes after it)
        ([*LOW, "2"], ["= comment: no answer", *ASKED], None),
        ([*LOW, "2", "1"], ["= contact_consent: 1", *CLOSED], "1"),
        ([*LOW, "2", "5"], ["= contact_consent: 2", *CLOSED], "2"),  # any other key is no
        ([*LOW, "2", "0"], ["= contact_consent: 2", *CLOSED], "2"),
        ([*LOW, "2", "#"], ["= contact_consent: 2", *CLOSED], "2"),
        ([*LOW, "2", ""], ["= contact_consent: 2", *CLOSED], "2"),  # silence is no, at once
        ([*LOW, "2", None], ["= contact_consent: 2", *CLOSED], "2"),
        ([*LOW, "2", "*"], ASKED, None),  # '*' repeats it
        ([*LOW, "2", "*", "1"], ["= contact_consent: 1", *CLOSED], "1"),
        ([*GOOD, "1", "rec", "1"], ["= contact_consent: 1", *CLOSED], "1"),
        # pressing after the end changes nothing
        ([*LOW, "2", "1", "2"], [], "1"),
    ],
    ids=repr,
)
def test_the_contact_question(keys, last, contact):
    run, said = run_with(keys)
    assert said == last
    assert run.answered.get(CONTACT_CONSENT) == contact
    assert run.outcome is Outcome.COMPLETE


@pytest.mark.parametrize("keys", [[*GOOD, "2"], [*LOW, "2"]], ids=["no reason", "low score"])
def test_the_questions_before_it_keep_their_order_and_keys(keys):
    """With or without the contact question in the flow, the same keys give the same
    transcript up to the end of the questionnaire."""
    with_contact = FlowRun(flow(), CASE, "vi")
    without = FlowRun(flow({"/contact_consent": DELETE}), CASE, "vi")
    said = [lines(with_contact.start()), lines(without.start())]
    for key in keys[:-1]:
        said.append(lines(with_contact.press(key)))
        said.append(lines(without.press(key)))
    assert said[0::2] == said[1::2]
    assert with_contact.answered == without.answered


def test_a_hang_up_at_the_contact_question_leaves_a_complete():
    run, _ = run_with([*LOW, "2"])
    assert run.current.id == CONTACT_CONSENT
    assert classify_interview(run.flow, run.answered, run.outcome) == "complete"


def test_an_interview_that_ends_early_is_never_asked():
    run, said = run_with(["2"])  # declined the survey
    assert said == ["= consent: 2", "< VI goodbye", "# refused"]
    assert run.current is None


def test_a_flow_without_the_question_asks_nothing_more():
    _, said = run_with([*LOW, "2"], {"/contact_consent": DELETE})
    assert said == CLOSED


def test_resuming_after_the_questions_asks_it_without_welcome_back():
    """The turn after a recording: the IVR resumes the run from the database."""
    answers = {
        "consent": "1",
        "staff": "2",
        "on_time": "1",
        "channel": "1",
        "fee": "2",
        "overall": "9",
        "comment": "1",
    }
    run = FlowRun.resume(flow(), CASE, "vi", answers)
    assert lines(run.start()) == ASKED
    assert lines(run.press("1")) == ["= contact_consent: 1", *CLOSED]
    done = FlowRun.resume(flow(), CASE, "vi", {**answers, CONTACT_CONSENT: "2"})
    assert done.current is None
    assert lines(done.start()) == CLOSED


def test_skipping_it_leaves_the_choice_unknown():
    """An interviewer who did not ask it goes past it: no answer, the interview complete."""
    run, _ = run_with([*LOW, "2"])
    assert lines(run.skip()) == ["= contact_consent: no answer", *CLOSED]
    assert CONTACT_CONSENT not in run.answered


@pytest.mark.parametrize(
    ("answers", "asks"),
    [
        ({}, False),
        ({"staff": "9", "comment": None}, False),
        ({"staff": "3"}, True),
        ({"staff": "0"}, False),
        ({"comment": "1"}, True),
    ],
)
def test_asks_contact_is_the_rule_every_mode_uses(answers, asks):
    assert flow().asks_contact(answers) is asks
    assert flow({"/contact_consent": DELETE}).asks_contact(answers) is False


def test_the_contact_question_has_the_interviewer_words():
    question = flow().contact_consent
    assert (question.id, question.type.value) == (CONTACT_CONSENT, "yes_no")
    assert question.label == both("contact label")
    assert question.script == both("contact script")
    assert CONTACT_CONSENT not in {q.id for q in flow().questions}


@pytest.mark.parametrize(
    ("changes", "path", "reason"),
    [
        ({"/contact_consent": "yes"}, "/contact_consent", "a mapping"),
        ({"/contact_consent": {"label": both("x")}}, "/contact_consent/prompt", "every language"),
        (
            {"/contact_consent": {"prompt": {"vi": "VI only"}}},
            "/contact_consent/prompt/en",
            "missing",
        ),
        (
            {"/contact_consent": {**CONTACT, "promt": both("x")}},
            "/contact_consent/promt",
            "did you mean 'prompt'",
        ),
        (
            {"/contact_consent/script": {"vi": "{nobody}", "en": "x"}},
            "/contact_consent/script/vi",
            "unknown placeholder",
        ),
        (
            {
                "/questions/5/id": "contact_consent",
                "/questions/3/options/2/next": "contact_consent",
            },
            "/questions/5/id",
            "the contact question's id",
        ),
    ],
)
def test_an_invalid_contact_question_is_refused(changes, path, reason):
    with pytest.raises(FlowError) as error:
        flow(changes)
    assert error.value.path == path
    assert reason in error.value.reason


def test_flows_check_names_a_contact_question_without_a_script():
    without = flow({"/contact_consent": {"prompt": both("contact")}})
    assert "/contact_consent/script" in missing_scripts(without)
    assert "/contact_consent/script" not in missing_scripts(flow())
