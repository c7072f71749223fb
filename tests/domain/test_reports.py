"""Report figures from grouped counts, against figures worked out by hand."""

import math

import pytest

from cati.domain.reports import counts_of, question_summary, rates_of, t975


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
