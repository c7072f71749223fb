"""Report figures from grouped counts, against figures worked out by hand."""

import itertools
import math

import pytest

from cati.domain.dispositions import AttemptOutcome, family, is_human_contact, roll_up
from cati.domain.reports import (
    ModeResult,
    counts_of,
    mode_family,
    modes_response,
    question_summary,
    rates_of,
    t975,
)


@pytest.mark.parametrize(
    ("df", "expected"),
    [(1, 12.706), (9, 2.262), (30, 2.042), (40, 2.021), (60, 2.000), (120, 1.980),
     (10**9, 1.960)],
)  # fmt: skip
def test_t975_matches_the_printed_table(df, expected):
    assert t975(df) == pytest.approx(expected, abs=5e-4)


def test_t975_between_table_points_lies_between_them():
    assert 2.000 < t975(50) < 2.021
    with pytest.raises(ValueError):
        t975(0)


def test_scale_summary_by_hand():
    # Scores 9, 9, 8, 7, 7 and one don't know: mean 8.0; s² = (1+1+0+1+1)/4 = 1; s = 1;
    # half-width = t(4) · s / √5 = 2.776 / 2.2361 = 1.2415; 8 + 1.2415 is past 9: kept at 9.
    summary = question_summary("scale", {"9": 2, "8": 1, "7": 2, "0": 1, None: 3})
    assert (summary["n"], summary["dont_know"], summary["mean"]) == (5, 1, 8.0)
    assert summary["ci95"] == pytest.approx([8 - 1.2415, 9], abs=1e-3)
    assert summary["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0, "6": 0,
                                       "7": 2, "8": 1, "9": 2}  # fmt: skip


@pytest.mark.parametrize(
    ("keys", "ci95"),
    [
        # 6 and 8: mean 7, s = √2, half = t(1) · √2 / √2 = 12.706: [-5.706, 19.706] → [1, 9].
        ({"6": 1, "8": 1}, [1, 9]),
        # 1 and 2: mean 1.5, s = 0.7071, half = 12.706 · 0.7071 / 1.4142 = 6.353 → [1, 7.853].
        ({"1": 1, "2": 1}, [1, 7.853]),
        # 4, 5, 6: mean 5, s = 1, half = 4.303 / √3 = 2.4844: inside the scale, unchanged.
        ({"4": 1, "5": 1, "6": 1}, [2.5156, 7.4844]),
        # 9 and 9: s = 0, the interval is the point.
        ({"9": 2}, [9, 9]),
        ({"7": 1}, None),  # one score: no interval
        ({"0": 3, None: 2}, None),  # no score at all
    ],
    ids=["both-ends", "low-end", "inside", "no-spread", "one-score", "none"],
)
def test_the_interval_stays_on_the_scale(keys, ci95):
    summary = question_summary("scale", keys)
    assert summary["ci95"] == (ci95 if ci95 is None else pytest.approx(ci95, abs=1e-3))


def test_the_interval_follows_the_questions_scale():
    # Scores 1 and 5 on a 1–5 scale: mean 3, s = √8, half = 12.706 · √8 / √2 = 25.412 → [1, 5].
    summary = question_summary("scale", {"1": 1, "5": 1}, scale=(1, 5))
    assert summary["ci95"] == [1, 5] and list(summary["distribution"]) == ["1", "2", "3", "4", "5"]


def test_scale_summary_with_one_or_no_answer():
    assert question_summary("scale", {"6": 1})["ci95"] is None
    empty = question_summary("scale", {"0": 2})
    assert (empty["n"], empty["mean"], empty["ci95"]) == (0, None, None)


def test_yes_no_summary():
    assert question_summary("yes_no", {"1": 3, "2": 1, "0": 2}) == {
        "n": 4, "dont_know": 2, "yes": 3, "no": 1, "yes_share": 0.75}  # fmt: skip
    assert question_summary("yes_no", {})["yes_share"] is None


def test_counts_and_rates_by_hand():
    dispositions = {"1.1": 6, "1.2": 1, "2.11": 1, "2.20": 1, "4.70": 1, None: 2}
    counts = counts_of(dispositions, attempted=10, contacted=9, attempts=17)
    assert counts == {"sampled": 12, "attempted": 10, "contacted": 9, "complete": 6,
                      "partial": 1, "refusal": 1, "non_contact": 1, "other": 0, "unknown": 0,
                      "not_eligible": 1, "pending": 2, "attempts": 17}  # fmt: skip
    rates = rates_of(dispositions, counts)
    # Final cases: I=6 P=1 R=1 NC=1 NE=1. RR1 = 6/9; COOP1 = 6/8; e = 9/10.
    assert rates["rr1"] == pytest.approx(6 / 9) and rates["rr2"] == pytest.approx(7 / 9)
    assert rates["coop1"] == pytest.approx(6 / 8) and rates["ref1"] == pytest.approx(1 / 9)
    assert rates["e"] == pytest.approx(0.9)
    assert rates["completion_rate"] == pytest.approx(6 / 12)
    assert rates["call_success_rate"] == pytest.approx(9 / 10)


def test_zero_denominators_are_null():
    counts = counts_of({}, attempted=0, contacted=0, attempts=0)
    rates = rates_of({}, counts)
    assert all(value is None for value in rates.values()), rates
    assert not any(isinstance(v, float) and math.isnan(v) for v in rates.values())


def test_satisfied_share_by_hand():
    # Scores 9, 9, 8, 7, 6, 3 and two don't know, satisfied from 7: 4 of the 6 scores
    # (9, 9, 8, 7) are at or above it; the don't knows count nowhere: 4 / 6.
    summary = question_summary(
        "scale", {"9": 2, "8": 1, "7": 1, "6": 1, "3": 1, "0": 2, None: 1}, satisfied_from=7
    )
    assert (summary["n"], summary["satisfied_from"], summary["satisfied"]) == (6, 7, 4)
    assert summary["satisfied_share"] == pytest.approx(4 / 6)
    assert summary["mean"] == pytest.approx(42 / 6)  # existing keys keep their meaning


def test_satisfied_on_a_five_point_scale_counts_the_top_two_boxes():
    # 1–5 scale, satisfied from 4: 5, 4, 4 satisfied; 3, 2 not: 3 / 5.
    summary = question_summary(
        "scale", {"5": 1, "4": 2, "3": 1, "2": 1}, scale=(1, 5), satisfied_from=4
    )
    assert (summary["satisfied"], summary["satisfied_share"]) == (3, 0.6)


def test_satisfied_share_is_null_without_scores_or_declaration():
    nobody = question_summary("scale", {"0": 3, None: 1}, satisfied_from=7)
    assert (nobody["satisfied"], nobody["satisfied_share"]) == (0, None)
    undeclared = question_summary("scale", {"9": 4})
    assert [undeclared[k] for k in ("satisfied_from", "satisfied", "satisfied_share")] == [
        None,
        None,
        None,
    ]
    assert "satisfied_share" not in question_summary("yes_no", {"1": 2}, satisfied_from=7)


# Each mode's response ------------------------------------------------------------------------


def _result_of(outcomes) -> ModeResult:
    """A member's attempts in one mode (oldest first) as the report's query groups them."""
    people = [o for o in outcomes if is_human_contact(o)]
    return ModeResult(
        complete=AttemptOutcome.COMPLETE in outcomes,
        partial=AttemptOutcome.PARTIAL in outcomes,
        refused=AttemptOutcome.REFUSED in outcomes,
        reached=bool(people),
        last_not_eligible=bool(people) and people[-1] is AttemptOutcome.NOT_ELIGIBLE,
        last_other=bool(people) and people[-1] is AttemptOutcome.OTHER,
        ended=bool(outcomes),
    )


_FAMILIES = {"I": "complete", "P": "partial", "R": "refusal", "NC": "non_contact",
             "O": "other", "NE": "not_eligible"}  # fmt: skip


def test_a_modes_family_is_what_rolling_up_its_attempts_gives():
    """Every sequence of up to three attempts: the family from the grouped flags is the one
    `roll_up` gives for the same attempts."""
    outcomes = list(AttemptOutcome)
    for length in range(4):
        for sequence in itertools.product(outcomes, repeat=length):
            code = roll_up(sequence)
            expected = None if code is None else _FAMILIES[family(code)]
            assert mode_family(_result_of(sequence)) == expected, sequence


def test_modes_response_by_hand():
    """A web round followed by the IVR, then interviewers. Web: 10 invited, 4 complete, 1
    partial (left half-way), 1 declined, 1 not eligible, 3 never answered; 9 visits. IVR: 5
    dialled (the 5 who did not finish on the web), 2 complete (one of them the web partial),
    1 no answer, 2 still ringing; 7 calls ended. Interviewer: 1 dialled, a broken appointment.
    """
    web, ivr, person = "web", "ivr", "interviewer"
    rows = [
        (web, _result_of([AttemptOutcome.COMPLETE]), 3, 3),
        (web, _result_of([AttemptOutcome.PARTIAL, AttemptOutcome.COMPLETE]), 1, 2),
        (web, _result_of([AttemptOutcome.PARTIAL]), 1, 1),
        (web, _result_of([AttemptOutcome.REFUSED]), 1, 1),
        (web, _result_of([AttemptOutcome.NOT_ELIGIBLE]), 1, 2),
        (web, ModeResult(), 3, 0),
        (ivr, _result_of([AttemptOutcome.NO_ANSWER, AttemptOutcome.COMPLETE]), 2, 4),
        (ivr, _result_of([AttemptOutcome.NO_ANSWER, AttemptOutcome.BUSY]), 1, 2),
        (ivr, _result_of([AttemptOutcome.NO_ANSWER]), 1, 1),
        (ivr, ModeResult(), 1, 0),  # dialled, still ringing
        (person, _result_of([AttemptOutcome.APPOINTMENT]), 1, 1),
    ]
    assert modes_response(rows) == [
        {"mode": "interviewer", "members": 1, "attempts": 1, "completes": 0, "partials": 0,
         "refusals": 1, "not_eligible": 0, "response_rate": 0.0},
        {"mode": "ivr", "members": 5, "attempts": 7, "completes": 2, "partials": 0,
         "refusals": 0, "not_eligible": 0, "response_rate": 2 / 5},
        # RR1 over the invited less the not eligible: 4 / (10 - 1).
        {"mode": "web", "members": 10, "attempts": 9, "completes": 4, "partials": 1,
         "refusals": 1, "not_eligible": 1, "response_rate": 4 / 9},
    ]  # fmt: skip


def test_modes_response_of_nothing():
    assert modes_response([]) == []
    [only] = modes_response([("web", _result_of([AttemptOutcome.NOT_ELIGIBLE]), 2, 2)])
    assert (only["members"], only["not_eligible"], only["response_rate"]) == (2, 2, None)
