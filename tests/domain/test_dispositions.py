"""cati.domain.dispositions: AAPOR codes, the roll-up of call attempts, and outcome rates."""

from __future__ import annotations

import pytest

from cati.domain.dispositions import (
    LABELS,
    NON_CONTACT_ORDER,
    OUTCOME_LABELS,
    RATE_KEYS,
    AttemptOutcome,
    Code,
    Counts,
    Disposition,
    attempt_code,
    call_success_rate,
    default_e,
    family,
    is_final_now,
    is_human_contact,
    rates,
    roll_up,
    roll_up_disposition,
    was_reached,
)

A = AttemptOutcome
KEYS = {*RATE_KEYS, "e"}

# --------------------------------------------------------------------------------------------
# Rates against hand-computed figures
# --------------------------------------------------------------------------------------------

# No unknown eligibility: I=50 P=10 R=20 NC=15 O=5 UH=0 UO=0 NE=10.
# I+P = 60, R+NC+O = 40, known eligible = 100, UH+UO = 0, contacted (I+P)+R+O = 85.
# e = 100 / (100 + 10) = 10/11, but e·(UH+UO) = 0, so rr3 = rr1 = rr5 and so on.
NO_UNKNOWN = Counts(I=50, P=10, R=20, NC=15, O=5, UH=0, UO=0, NE=10)
NO_UNKNOWN_RATES = {
    "rr1": 50 / 100,  # I / 100
    "rr2": 60 / 100,  # (I+P) / 100
    "rr3": 50 / 100,
    "rr4": 60 / 100,
    "rr5": 50 / 100,
    "rr6": 60 / 100,
    "coop1": 50 / 85,  # I / ((I+P)+R+O) = 50 / (60+20+5)
    "coop2": 60 / 85,
    "coop3": 50 / 80,  # I / ((I+P)+R) = 50 / (60+20)
    "coop4": 60 / 80,
    "ref1": 20 / 100,
    "ref2": 20 / 100,
    "ref3": 20 / 100,
    "con1": 85 / 100,  # 85 / (85 + NC 15 + 0)
    "con2": 85 / 100,
    "con3": 85 / 100,
    "e": 100 / 110,
}

# Unknown eligibility: I=40 P=10 R=20 NC=20 O=10 UH=30 UO=10 NE=25.
# I+P = 50, R+NC+O = 50, known eligible = 100, UH+UO = 40, all cases but NE = 140,
# contacted (I+P)+R+O = 80. e = 100 / (100 + 25) = 0.8, so e·(UH+UO) = 32 and 100 + 32 = 132.
UNKNOWN = Counts(I=40, P=10, R=20, NC=20, O=10, UH=30, UO=10, NE=25)
UNKNOWN_RATES = {
    "rr1": 40 / 140,  # I / (100 + 40)
    "rr2": 50 / 140,
    "rr3": 40 / 132,  # I / (100 + 0.8·40)
    "rr4": 50 / 132,
    "rr5": 40 / 100,  # I / 100
    "rr6": 50 / 100,
    "coop1": 40 / 80,  # I / (50 + 20 + 10)
    "coop2": 50 / 80,
    "coop3": 40 / 70,  # I / (50 + 20)
    "coop4": 50 / 70,
    "ref1": 20 / 140,
    "ref2": 20 / 132,
    "ref3": 20 / 100,
    "con1": 80 / 140,  # 80 / (80 + NC 20 + 40)
    "con2": 80 / 132,  # 80 / (80 + 20 + 32)
    "con3": 80 / 100,  # 80 / (80 + 20)
    "e": 0.8,
}

# The same counts with e = 0.5 given: e·(UH+UO) = 20, so the e-rates divide by 120.
UNKNOWN_E_HALF = {
    **UNKNOWN_RATES,
    "rr3": 40 / 120,
    "rr4": 50 / 120,
    "ref2": 20 / 120,
    "con2": 80 / 120,  # 80 / (80 + 20 + 20)
    "e": 0.5,
}


@pytest.mark.parametrize(
    ("counts", "e", "expected"),
    [
        (NO_UNKNOWN, None, NO_UNKNOWN_RATES),
        (UNKNOWN, None, UNKNOWN_RATES),
        (UNKNOWN, 0.5, UNKNOWN_E_HALF),
        (UNKNOWN, 0.8, UNKNOWN_RATES),  # the default, given explicitly
    ],
    ids=["no-unknown-default-e", "unknown-default-e", "unknown-e-0.5", "unknown-e-0.8-explicit"],
)
def test_rates_match_hand_computed_figures(counts, e, expected):
    result = rates(counts, e)
    assert set(result) == KEYS
    assert result == pytest.approx(expected)


@pytest.mark.parametrize(
    ("e", "same_as"),
    [
        (0, {"rr3": "rr5", "rr4": "rr6", "ref2": "ref3", "con2": "con3"}),
        (1, {"rr3": "rr1", "rr4": "rr2", "ref2": "ref1", "con2": "con1"}),
    ],
    ids=["e=0-ignores-unknowns", "e=1-counts-all-unknowns"],
)
def test_extreme_e_meets_the_other_rates(e, same_as):
    result = rates(UNKNOWN, e)
    for rate, other in same_as.items():
        assert result[rate] == pytest.approx(result[other])


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        (NO_UNKNOWN, 100 / 110),  # (50+10+20+15+5) / (100 + NE 10)
        (UNKNOWN, 100 / 125),  # (40+10+20+20+10) / (100 + NE 25)
        (Counts(NC=3, NE=1), 3 / 4),
        (Counts(NE=5), 0.0),  # every known case is ineligible
        (Counts(UH=4, UO=2), None),  # no case of known eligibility
        (Counts(), None),
    ],
    ids=["no-unknown", "unknown", "nc-and-ne", "only-ne", "only-unknown", "empty"],
)
def test_default_e(counts, expected):
    assert default_e(counts) == (expected if expected is None else pytest.approx(expected))


# Zero denominators, family by family: the listed rates are None, the others are numbers.
E_RATES = {"rr3", "rr4", "ref2", "con2"}


@pytest.mark.parametrize(
    ("counts", "e", "none"),
    [
        (Counts(), None, KEYS),  # nothing at all, e included
        (Counts(NE=5), None, set(RATE_KEYS)),  # e = 0/5 = 0.0; every denominator is 0
        # Only non-contacts: nobody cooperated or refused, so coop1-4 have no denominator;
        # rr1 = 0/10, ref1 = 0/10, con1 = 0/(0 + 10) are 0.0.
        (Counts(NC=10), None, {"coop1", "coop2", "coop3", "coop4"}),
        # Only "other": coop1 = 0/3 but coop3 = I / ((I+P)+R) = 0/0; con1 = 3/3.
        (Counts(O=3), None, {"coop3", "coop4"}),
        # Only unknowns: rr5/rr6/ref3/con3 divide by the known 0; e is unknown (0/0), so the
        # e-rates are None; coop has no denominator either; rr1 = 0/4, con1 = 0/(0+0+4).
        (
            Counts(UH=4),
            None,
            {"rr5", "rr6", "ref3", "con3", "e"} | E_RATES | {f"coop{i}" for i in range(1, 5)},
        ),
        # The same with e = 0.5: the e-rates are 0/(0 + 0.5·4) = 0.0.
        (
            Counts(UH=4),
            0.5,
            {"rr5", "rr6", "ref3", "con3"} | {f"coop{i}" for i in range(1, 5)},
        ),
        # And with e = 0: 0/(0 + 0·4) has no denominator.
        (
            Counts(UH=4),
            0.0,
            {"rr5", "rr6", "ref3", "con3"} | E_RATES | {f"coop{i}" for i in range(1, 5)},
        ),
    ],
    ids=["empty", "only-ne", "only-nc", "only-other", "only-uh", "only-uh-e-0.5", "only-uh-e-0"],
)
def test_zero_denominators_give_none(counts, e, none):
    result = rates(counts, e)
    assert {key for key, value in result.items() if value is None} == none
    assert all(isinstance(value, float) for key, value in result.items() if key not in none)


def test_zero_denominators_raise_no_warning(recwarn):
    rates(Counts())
    default_e(Counts())
    call_success_rate(0, 0)
    assert not recwarn.list


@pytest.mark.parametrize("e", [-0.1, 1.1, float("nan"), True], ids=["neg", "gt1", "nan", "bool"])
def test_explicit_e_must_be_a_share(e):
    with pytest.raises(ValueError, match="e must be between 0 and 1"):
        rates(UNKNOWN, e)


# --------------------------------------------------------------------------------------------
# Counts
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "group"),
    [
        (Code.COMPLETE, "I"),
        (Code.PARTIAL, "P"),
        (Code.REFUSAL, "R"),
        (Code.BREAK_OFF, "R"),
        ("2.10", "R"),
        (Code.NON_CONTACT, "NC"),
        ("2.22", "NC"),
        (Code.OTHER, "O"),
        ("2.33", "O"),
        (Code.UNKNOWN_HOUSEHOLD, "UH"),
        (Code.NOT_ATTEMPTED, "UH"),
        ("3.20", "UO"),
        (Code.UNKNOWN_OTHER, "UO"),
        (Code.NOT_ELIGIBLE, "NE"),
        ("4.10", "NE"),
    ],
    ids=str,
)
def test_family(code, group):
    assert family(code) == group


@pytest.mark.parametrize("code", ["1.3", "2.40", "3.0", "5.1", "", "busy", "1.1x"])
def test_family_rejects_non_codes(code):
    with pytest.raises(ValueError, match="not an AAPOR"):
        family(code)


def test_every_code_has_a_family_and_labels():
    for code in Code:
        family(code)
        assert set(LABELS[code]) == {"vi", "en"} and all(LABELS[code].values())
    for outcome in AttemptOutcome:
        labels = OUTCOME_LABELS[outcome]
        assert set(labels) == {"vi", "en"} and all(labels.values())


def test_counts_from_codes_sums_sub_codes():
    counts = Counts.from_codes(
        {Code.COMPLETE: 50, "1.2": 10, Code.REFUSAL: 12, Code.BREAK_OFF: 8, "2.20": 15, "2.30": 5}
        | {Code.NOT_ATTEMPTED: 2, Code.UNKNOWN_OTHER: 1, Code.NOT_ELIGIBLE: 10}
    )
    assert counts == Counts(I=50, P=10, R=20, NC=15, O=5, UH=2, UO=1, NE=10)
    assert counts.total == 113


def test_counts_tally_one_code_per_case():
    codes = [Code.COMPLETE, Code.COMPLETE, "2.20", Code.REFUSAL, Code.BREAK_OFF, "4.70"]
    assert Counts.tally(codes) == Counts(I=2, R=2, NC=1, NE=1)


@pytest.mark.parametrize("bad", [-1, 1.5, True], ids=["negative", "float", "bool"])
def test_counts_must_be_whole_numbers(bad):
    with pytest.raises(ValueError, match=r"Counts\.NC"):
        Counts(NC=bad)


# --------------------------------------------------------------------------------------------
# Call success rate (M.Score)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("contacted", "attempted", "expected"),
    [(30, 40, 0.75), (0, 40, 0.0), (40, 40, 1.0), (0, 0, None)],
    ids=["some", "none-reached", "all-reached", "none-dialled"],
)
def test_call_success_rate(contacted, attempted, expected):
    assert call_success_rate(contacted, attempted) == expected


@pytest.mark.parametrize(("contacted", "attempted"), [(5, 4), (-1, 3)], ids=["more", "negative"])
def test_call_success_rate_rejects_impossible_counts(contacted, attempted):
    with pytest.raises(ValueError):
        call_success_rate(contacted, attempted)


@pytest.mark.parametrize(
    ("outcomes", "reached"),
    [
        ([A.NO_ANSWER, A.MACHINE, A.BUSY], False),
        ([A.NO_ANSWER, A.BREAK_OFF], True),
        ([A.APPOINTMENT], True),
        ([], False),
    ],
    ids=["only-non-contacts", "break-off", "appointment", "never-dialled"],
)
def test_was_reached(outcomes, reached):
    assert was_reached(outcomes) is reached


# --------------------------------------------------------------------------------------------
# One attempt
# --------------------------------------------------------------------------------------------

# outcome: (AAPOR code alone, a person was reached, final at once)
ATTEMPTS = {
    A.COMPLETE: (Code.COMPLETE, True, True),
    A.PARTIAL: (Code.PARTIAL, True, False),
    A.BREAK_OFF: (Code.BREAK_OFF, True, False),
    A.REFUSED: (Code.REFUSAL, True, True),
    A.NOT_ELIGIBLE: (Code.NOT_ELIGIBLE, True, True),
    A.APPOINTMENT: (Code.REFUSAL, True, False),  # alone: a broken appointment
    A.OTHER: (Code.OTHER, True, True),
    A.MACHINE: (Code.NON_CONTACT, False, False),
    A.FAX: (Code.NON_CONTACT, False, False),
    A.BUSY: (Code.NON_CONTACT, False, False),
    A.NO_ANSWER: (Code.NON_CONTACT, False, False),
    A.UNREACHABLE: (Code.NON_CONTACT, False, False),
    A.INVALID_NUMBER: (Code.NON_CONTACT, False, True),  # the number cannot be reached at all
    A.FAILED: (Code.NON_CONTACT, False, False),
}


def test_the_table_covers_every_outcome():
    assert set(ATTEMPTS) == set(AttemptOutcome)


@pytest.mark.parametrize(("outcome", "expected"), ATTEMPTS.items(), ids=str)
def test_one_attempt(outcome, expected):
    code, human, final = expected
    assert attempt_code(outcome) is code
    assert attempt_code(outcome.value) is code  # stored strings are accepted
    assert is_human_contact(outcome) is human
    assert is_final_now(outcome) is final
    assert roll_up([outcome]) is code  # one attempt rolls up to its own code


def test_non_contact_order_lists_every_non_contact_once():
    non_contacts = {o for o in AttemptOutcome if not is_human_contact(o)}
    assert set(NON_CONTACT_ORDER) == non_contacts
    assert len(NON_CONTACT_ORDER) == len(non_contacts)
    assert NON_CONTACT_ORDER[0] is A.MACHINE


def test_outcomes_match_the_interview_classification_strings():
    # cati.domain.flow.classify_interview returns these; AttemptOutcome(result) must work.
    for kind in ("complete", "partial", "break_off", "refused", "not_eligible"):
        assert AttemptOutcome(kind).value == kind


# --------------------------------------------------------------------------------------------
# Roll-up
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcomes", "code", "reason"),
    [
        # 1. nothing
        ([], None, None),
        # 2. interviews win and convert refusals
        ([A.REFUSED, A.COMPLETE], Code.COMPLETE, A.COMPLETE),
        ([A.REFUSED, A.NO_ANSWER, A.PARTIAL], Code.PARTIAL, A.PARTIAL),
        ([A.COMPLETE], Code.COMPLETE, A.COMPLETE),
        ([A.NO_ANSWER, A.BUSY, A.COMPLETE], Code.COMPLETE, A.COMPLETE),
        ([A.PARTIAL, A.COMPLETE], Code.COMPLETE, A.COMPLETE),
        ([A.COMPLETE, A.REFUSED], Code.COMPLETE, A.COMPLETE),
        ([A.PARTIAL, A.BREAK_OFF], Code.PARTIAL, A.PARTIAL),
        ([A.PARTIAL, A.REFUSED, A.NO_ANSWER], Code.PARTIAL, A.PARTIAL),
        ([A.APPOINTMENT, A.COMPLETE], Code.COMPLETE, A.COMPLETE),
        # 3. the last human contact decides; refusals stick; broken appointments are refusals
        ([A.REFUSED, A.NO_ANSWER, A.NO_ANSWER], Code.REFUSAL, A.REFUSED),
        ([A.REFUSED, A.MACHINE, A.BUSY], Code.REFUSAL, A.REFUSED),
        ([A.REFUSED, A.BREAK_OFF], Code.REFUSAL, A.REFUSED),
        ([A.BREAK_OFF, A.REFUSED], Code.REFUSAL, A.REFUSED),
        ([A.REFUSED, A.APPOINTMENT, A.NO_ANSWER], Code.REFUSAL, A.REFUSED),
        ([A.OTHER, A.REFUSED], Code.REFUSAL, A.REFUSED),
        ([A.APPOINTMENT], Code.REFUSAL, A.APPOINTMENT),
        ([A.APPOINTMENT, A.NO_ANSWER, A.BUSY], Code.REFUSAL, A.APPOINTMENT),
        ([A.BREAK_OFF, A.APPOINTMENT, A.MACHINE], Code.REFUSAL, A.APPOINTMENT),
        ([A.APPOINTMENT, A.BREAK_OFF, A.NO_ANSWER], Code.BREAK_OFF, A.BREAK_OFF),
        ([A.BREAK_OFF, A.NO_ANSWER, A.UNREACHABLE], Code.BREAK_OFF, A.BREAK_OFF),
        ([A.MACHINE, A.BREAK_OFF, A.MACHINE], Code.BREAK_OFF, A.BREAK_OFF),
        ([A.NO_ANSWER, A.OTHER], Code.OTHER, A.OTHER),
        ([A.APPOINTMENT, A.OTHER], Code.OTHER, A.OTHER),
        ([A.NOT_ELIGIBLE, A.BREAK_OFF], Code.BREAK_OFF, A.BREAK_OFF),
        ([A.REFUSED, A.NOT_ELIGIBLE], Code.NOT_ELIGIBLE, A.NOT_ELIGIBLE),
        ([A.NO_ANSWER, A.NOT_ELIGIBLE, A.BUSY], Code.NOT_ELIGIBLE, A.NOT_ELIGIBLE),
        # 4. no human contact: the most informative non-contact, whatever the order
        ([A.MACHINE, A.BUSY, A.NO_ANSWER], Code.NON_CONTACT, A.MACHINE),
        ([A.BUSY, A.NO_ANSWER, A.MACHINE], Code.NON_CONTACT, A.MACHINE),
        ([A.NO_ANSWER, A.MACHINE, A.BUSY], Code.NON_CONTACT, A.MACHINE),
        ([A.BUSY, A.BUSY, A.BUSY], Code.NON_CONTACT, A.BUSY),
        ([A.NO_ANSWER, A.BUSY, A.NO_ANSWER], Code.NON_CONTACT, A.BUSY),
        ([A.INVALID_NUMBER, A.UNREACHABLE, A.FAILED], Code.NON_CONTACT, A.UNREACHABLE),
        ([A.FAILED, A.INVALID_NUMBER], Code.NON_CONTACT, A.INVALID_NUMBER),
        ([A.FAX, A.NO_ANSWER], Code.NON_CONTACT, A.FAX),
        # 5. attempts ran out: there is no "max attempts" outcome, the attempts roll up
        ([A.NO_ANSWER] * 6, Code.NON_CONTACT, A.NO_ANSWER),
        ([A.PARTIAL, A.NO_ANSWER, A.NO_ANSWER, A.NO_ANSWER], Code.PARTIAL, A.PARTIAL),
    ],
    ids=[
        "empty",
        "refusal-then-complete",
        "refusal-then-partial",
        "complete-then-nothing",
        "non-contacts-then-complete",
        "partial-then-complete",
        "complete-then-refusal",
        "partial-then-break-off",
        "partial-then-refusal",
        "appointment-then-complete",
        "refusal-then-no-answers",
        "refusal-then-machine-busy",
        "refusal-then-break-off",
        "break-off-then-refusal",
        "refusal-then-appointment",
        "other-then-refusal",
        "appointment-alone",
        "appointment-then-no-contact",
        "break-off-then-broken-appointment",
        "appointment-then-break-off",
        "break-off-then-non-contacts",
        "break-off-between-machines",
        "other",
        "appointment-then-other",
        "wrong-person-then-break-off",
        "refusal-then-not-eligible",
        "not-eligible-among-non-contacts",
        "machine-first",
        "machine-last",
        "machine-middle",
        "only-busies",
        "busy-beats-no-answer",
        "unreachable-beats-invalid-and-failed",
        "invalid-beats-failed",
        "fax-beats-no-answer",
        "max-attempts-no-answers",
        "max-attempts-after-partial",
    ],
)
def test_roll_up(outcomes, code, reason):
    assert roll_up(outcomes) == code
    disposition = roll_up_disposition(outcomes)
    assert disposition == (None if code is None else Disposition(code, reason))


@pytest.mark.parametrize(
    ("better", "worse"),
    [
        (NON_CONTACT_ORDER[i], NON_CONTACT_ORDER[j])
        for i in range(len(NON_CONTACT_ORDER))
        for j in range(i + 1, len(NON_CONTACT_ORDER))
    ],
    ids=str,
)
def test_non_contact_order_holds_both_ways(better, worse):
    assert roll_up_disposition([better, worse]) == Disposition(Code.NON_CONTACT, better)
    assert roll_up_disposition([worse, better]) == Disposition(Code.NON_CONTACT, better)


def test_roll_up_accepts_stored_strings():
    assert roll_up(["refused", "no_answer", "complete"]) is Code.COMPLETE


def test_max_attempts_is_not_a_code_or_an_outcome():
    names = {m.name for m in Code} | {m.name for m in AttemptOutcome}
    values = {m.value for m in Code} | {m.value for m in AttemptOutcome}
    assert not any("MAX" in name for name in names)
    assert not any("max" in value for value in values)
    with pytest.raises(ValueError):
        roll_up(["max_attempts"])


def test_codes_are_aapor_strings():
    assert Code.NON_CONTACT == "2.20"
    assert f"{Code.REFUSAL}" == "2.11"
    assert Code("4.70") is Code.NOT_ELIGIBLE
