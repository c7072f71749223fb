"""AAPOR final disposition codes, the roll-up of call attempts, and outcome rates.

Codes and formulas follow AAPOR Standard Definitions (9th ed., 2016; the 10th ed. keeps the
formulas). Our sample is a list of citizens known to have used the service, so every failed
dial (busy, no answer, switched off, invalid number, fax, answering machine, failed call) is a
non-contact, 2.20, with the attempt outcome as its readable sub-code (`Disposition.reason`),
instead of AAPOR's unknown-eligibility codes 3.1x used for random-digit samples.

How one interview (IVR or interviewer) becomes an attempt outcome — the values of
`AttemptOutcome` are the strings `cati.domain.flow.classify_interview` returns:

- consent '2' → `REFUSED` (2.11; the flow also puts the number on the opt-out list);
- consent '3' → `NOT_ELIGIBLE` (4.70, did not do the procedure / wrong person);
- no consent given (silence or no valid key) → `BREAK_OFF` (2.12): someone picked up and the
  interview started, but nobody agreed, so it is neither a refusal nor a non-contact;
- reaching the end → `COMPLETE` (1.1), whatever was skipped or answered '0' (don't know);
- cut short with at least half of the core questions answered → `PARTIAL` (1.2), fewer →
  `BREAK_OFF` (2.12).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from enum import StrEnum
from types import MappingProxyType


class Code(StrEnum):
    """A final AAPOR disposition code, kept as AAPOR writes it."""

    COMPLETE = "1.1"
    PARTIAL = "1.2"
    REFUSAL = "2.11"
    BREAK_OFF = "2.12"
    NON_CONTACT = "2.20"  # sub-code in Disposition.reason: busy, no_answer, machine, ...
    OTHER = "2.30"  # language barrier, physically or mentally unable
    UNKNOWN_HOUSEHOLD = "3.10"
    NOT_ATTEMPTED = "3.11"  # sampled but never dialled (AAPOR: unknown eligibility, UH)
    UNKNOWN_OTHER = "3.90"
    NOT_ELIGIBLE = "4.70"  # did not do the procedure / wrong person


def _labels(pairs: Mapping) -> Mapping:
    return MappingProxyType(
        {key: MappingProxyType({"vi": vi, "en": en}) for key, (vi, en) in pairs.items()}
    )


LABELS: Mapping[Code, Mapping[str, str]] = _labels(
    {
        Code.COMPLETE: ("Hoàn thành", "Complete"),
        Code.PARTIAL: ("Hoàn thành một phần", "Partial"),
        Code.REFUSAL: ("Từ chối", "Refusal"),
        Code.BREAK_OFF: ("Bỏ dở", "Break-off"),
        Code.NON_CONTACT: ("Không liên lạc được", "Non-contact"),
        Code.OTHER: (
            "Lý do khác (ngôn ngữ, không thể trả lời)",
            "Other (language, unable to answer)",
        ),
        Code.UNKNOWN_HOUSEHOLD: ("Chưa rõ có thuộc đối tượng", "Unknown eligibility"),
        Code.NOT_ATTEMPTED: ("Chưa gọi", "Not attempted"),
        Code.UNKNOWN_OTHER: ("Chưa rõ có thuộc đối tượng (khác)", "Unknown eligibility, other"),
        Code.NOT_ELIGIBLE: (
            "Không thuộc đối tượng (không làm thủ tục, nhầm người)",
            "Not eligible (did not do the procedure, wrong person)",
        ),
    }
)


class AttemptOutcome(StrEnum):
    """The outcome of ONE call attempt, by the IVR or an interviewer."""

    COMPLETE = "complete"
    PARTIAL = "partial"
    BREAK_OFF = "break_off"  # hung up mid-interview, or gave no consent
    REFUSED = "refused"
    NOT_ELIGIBLE = "not_eligible"
    APPOINTMENT = "appointment"  # asked to be called back
    OTHER = "other"  # language barrier, physically or mentally unable
    MACHINE = "machine"  # answering machine / voicemail
    FAX = "fax"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    UNREACHABLE = "unreachable"  # switched off or out of coverage ("không liên lạc được")
    INVALID_NUMBER = "invalid_number"  # the network says the number does not exist
    FAILED = "failed"  # the call could not be placed (carrier or system error)


OUTCOME_LABELS: Mapping[AttemptOutcome, Mapping[str, str]] = _labels(
    {
        AttemptOutcome.COMPLETE: ("Hoàn thành", "Complete"),
        AttemptOutcome.PARTIAL: ("Hoàn thành một phần", "Partial"),
        AttemptOutcome.BREAK_OFF: ("Bỏ dở giữa chừng", "Break-off"),
        AttemptOutcome.REFUSED: ("Từ chối", "Refused"),
        AttemptOutcome.NOT_ELIGIBLE: ("Không thuộc đối tượng", "Not eligible"),
        AttemptOutcome.APPOINTMENT: ("Hẹn gọi lại", "Asked to be called back"),
        AttemptOutcome.OTHER: (
            "Khác (ngôn ngữ, không thể trả lời)",
            "Other (language, unable to answer)",
        ),
        AttemptOutcome.MACHINE: ("Hộp thư thoại", "Answering machine"),
        AttemptOutcome.FAX: ("Máy fax", "Fax"),
        AttemptOutcome.BUSY: ("Máy bận", "Busy"),
        AttemptOutcome.NO_ANSWER: ("Không nghe máy", "No answer"),
        AttemptOutcome.UNREACHABLE: ("Thuê bao tạm thời không liên lạc được", "Unreachable"),
        AttemptOutcome.INVALID_NUMBER: ("Số máy không có thực", "Invalid number"),
        AttemptOutcome.FAILED: ("Cuộc gọi lỗi", "Call failed"),
    }
)

_CODE_OF: Mapping[AttemptOutcome, Code] = MappingProxyType(
    {
        AttemptOutcome.COMPLETE: Code.COMPLETE,
        AttemptOutcome.PARTIAL: Code.PARTIAL,
        AttemptOutcome.BREAK_OFF: Code.BREAK_OFF,
        AttemptOutcome.REFUSED: Code.REFUSAL,
        AttemptOutcome.NOT_ELIGIBLE: Code.NOT_ELIGIBLE,
        AttemptOutcome.APPOINTMENT: Code.REFUSAL,  # alone, it is a broken appointment
        AttemptOutcome.OTHER: Code.OTHER,
        AttemptOutcome.MACHINE: Code.NON_CONTACT,
        AttemptOutcome.FAX: Code.NON_CONTACT,
        AttemptOutcome.BUSY: Code.NON_CONTACT,
        AttemptOutcome.NO_ANSWER: Code.NON_CONTACT,
        AttemptOutcome.UNREACHABLE: Code.NON_CONTACT,
        AttemptOutcome.INVALID_NUMBER: Code.NON_CONTACT,
        AttemptOutcome.FAILED: Code.NON_CONTACT,
    }
)

# Non-contacts, most informative first: a device answered (a machine proves the number is live
# and, usually, the citizen's; a fax proves it is live but not a voice line), then the line was
# live (busy: in use right now; no answer: it rang), then the network says the phone is off,
# then that the number does not exist (least likely to reach the citizen), then nothing known.
NON_CONTACT_ORDER: tuple[AttemptOutcome, ...] = (
    AttemptOutcome.MACHINE,
    AttemptOutcome.FAX,
    AttemptOutcome.BUSY,
    AttemptOutcome.NO_ANSWER,
    AttemptOutcome.UNREACHABLE,
    AttemptOutcome.INVALID_NUMBER,
    AttemptOutcome.FAILED,
)
_RANK = {outcome: rank for rank, outcome in enumerate(NON_CONTACT_ORDER)}

FINAL_NOW = frozenset(
    {
        AttemptOutcome.COMPLETE,
        AttemptOutcome.REFUSED,
        AttemptOutcome.NOT_ELIGIBLE,
        AttemptOutcome.OTHER,
        AttemptOutcome.INVALID_NUMBER,
    }
)


def attempt_code(outcome: AttemptOutcome) -> Code:
    """The final code this attempt would give if it were the only one."""
    return _CODE_OF[AttemptOutcome(outcome)]


def is_human_contact(outcome: AttemptOutcome) -> bool:
    """True when a person answered (machines, fax and network messages are not people)."""
    return AttemptOutcome(outcome) not in _RANK


def is_final_now(outcome: AttemptOutcome) -> bool:
    """True when no further attempt is made after this outcome.

    Complete, refusal, not eligible, other (language, unable: calling again will not help) and
    an invalid number (the provider rejected it: no call can reach it) end the case at once.
    Partials, break-offs, appointments and the other non-contacts stay pending while attempts
    remain.
    """
    return AttemptOutcome(outcome) in FINAL_NOW


@dataclass(frozen=True)
class Disposition:
    """A final code and the attempt outcome that decided it (for 2.20, its sub-code)."""

    code: Code
    reason: AttemptOutcome


def roll_up_disposition(outcomes: Sequence[AttemptOutcome]) -> Disposition | None:
    """Roll a case's attempts (oldest first) up into its final disposition.

    1. No attempts: None (a sampled case never dialled is `Code.NOT_ATTEMPTED` if the caller
       wants to count it).
    2. An interview wins: any complete gives 1.1, else any partial gives 1.2. A later
       complete or partial converts an earlier refusal, and answers once given are kept
       whatever later calls bring.
    3. Otherwise, when a person was reached, the last human contact decides:
       a. not eligible → 4.70 (the latest finding on eligibility, even after a refusal);
       b. else a refusal at any contact → 2.11: it stays a refusal unless converted (step 2);
       c. else an appointment → 2.11, a broken appointment: the citizen asked to be called
          back and was not reached again;
       d. else its own code: break-off (or no consent) 2.12, other 2.30.
    4. Otherwise (no person ever reached) → 2.20, with the most informative non-contact as
       reason (`NON_CONTACT_ORDER`), whatever the order of the attempts.
    5. "Maximum attempts reached" is not an outcome or a code: when attempts run out the
       caller stops calling and rolls up the attempts made, by steps 1-4.
    """
    attempts = [AttemptOutcome(outcome) for outcome in outcomes]
    # 1. Nothing to roll up.
    if not attempts:
        return None
    # 2. The best interview.
    for interview in (AttemptOutcome.COMPLETE, AttemptOutcome.PARTIAL):
        if interview in attempts:
            return Disposition(attempt_code(interview), interview)
    # 3. The last human contact.
    contacts = [outcome for outcome in attempts if is_human_contact(outcome)]
    if contacts:
        last = contacts[-1]
        if last is AttemptOutcome.NOT_ELIGIBLE:
            return Disposition(Code.NOT_ELIGIBLE, last)
        if AttemptOutcome.REFUSED in contacts:
            return Disposition(Code.REFUSAL, AttemptOutcome.REFUSED)
        return Disposition(attempt_code(last), last)  # appointment → 2.11 via attempt_code
    # 4. The most informative non-contact.
    best = min(attempts, key=_RANK.__getitem__)
    return Disposition(Code.NON_CONTACT, best)


def roll_up(outcomes: Sequence[AttemptOutcome]) -> Code | None:
    """The final code of a case's attempts (oldest first); None when there are none."""
    disposition = roll_up_disposition(outcomes)
    return disposition.code if disposition else None


def was_reached(outcomes: Iterable[AttemptOutcome]) -> bool:
    """True when at least one attempt reached a person (for `call_success_rate`)."""
    return any(is_human_contact(outcome) for outcome in outcomes)


# --------------------------------------------------------------------------------------------
# Counts and rates
# --------------------------------------------------------------------------------------------

_AAPOR = re.compile(r"^([1-4])\.(\d)\d*$")


def family(code: Code | str) -> str:
    """The `Counts` field an AAPOR code counts in: '2.22' → 'NC', '3.11' → 'UH', '4.70' → 'NE'.

    Any AAPOR sub-code is accepted, not only the members of `Code`.
    """
    match = _AAPOR.match(str(code))
    if match:
        major, minor = int(match[1]), int(match[2])
        if major == 1 and minor in (1, 2):
            return "I" if minor == 1 else "P"
        if major == 2 and 1 <= minor <= 3:
            return ("R", "NC", "O")[minor - 1]
        if major == 3 and minor >= 1:
            return "UH" if minor == 1 else "UO"
        if major == 4:
            return "NE"
    raise ValueError(f"{code!r} is not an AAPOR final disposition code")


@dataclass(frozen=True)
class Counts:
    """Cases per AAPOR group: interviews I, P; eligible non-interviews R, NC, O; unknown
    eligibility UH, UO; not eligible NE."""

    I: int = 0  # noqa: E741 - AAPOR's name
    P: int = 0
    R: int = 0
    NC: int = 0
    O: int = 0  # noqa: E741 - AAPOR's name
    UH: int = 0
    UO: int = 0
    NE: int = 0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"Counts.{f.name} must be a whole number >= 0, got {value!r}")

    @classmethod
    def from_codes(cls, counts: Mapping[Code | str, int]) -> Counts:
        """Sum case counts keyed by final code ('2.20', Code.REFUSAL, AAPOR sub-codes too)."""
        totals: Counter[str] = Counter()
        for code, n in counts.items():
            totals[family(code)] += n
        return cls(**totals)

    @classmethod
    def tally(cls, codes: Iterable[Code | str]) -> Counts:
        """Count one final code per case."""
        return cls.from_codes(Counter(str(code) for code in codes))

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def default_e(c: Counts) -> float | None:
    """AAPOR's default e, the eligible share of cases whose eligibility is known.

    e = (I+P+R+NC+O) / (I+P+R+NC+O+NE); None when no case has a known eligibility.
    """
    eligible = c.I + c.P + c.R + c.NC + c.O
    return _ratio(eligible, eligible + c.NE)


RATE_KEYS = (
    *(f"rr{i}" for i in range(1, 7)),
    *(f"coop{i}" for i in range(1, 5)),
    *(f"ref{i}" for i in range(1, 4)),
    *(f"con{i}" for i in range(1, 4)),
)


def rates(c: Counts, e: float | None = None) -> dict[str, float | None]:
    """AAPOR response (rr1-6), cooperation (coop1-4), refusal (ref1-3) and contact (con1-3)
    rates, and "e", the e used (`default_e` unless given).

    A rate whose denominator is 0 is None; so are rr3, rr4, ref2 and con2 when e is None.
    """
    if e is None:
        e = default_e(c)
    elif isinstance(e, bool) or not 0 <= e <= 1:
        raise ValueError(f"e must be between 0 and 1, got {e!r}")
    interviews = c.I + c.P
    non_interviews = c.R + c.NC + c.O
    unknown = c.UH + c.UO
    known = interviews + non_interviews
    cooperating = interviews + c.R + c.O  # contacted: every eligible case but non-contacts
    all_cases = known + unknown

    def with_e(numerator: float, known_part: float) -> float | None:
        return None if e is None else _ratio(numerator, known_part + e * unknown)

    return {
        "rr1": _ratio(c.I, all_cases),
        "rr2": _ratio(interviews, all_cases),
        "rr3": with_e(c.I, known),
        "rr4": with_e(interviews, known),
        "rr5": _ratio(c.I, known),
        "rr6": _ratio(interviews, known),
        "coop1": _ratio(c.I, cooperating),
        "coop2": _ratio(interviews, cooperating),
        "coop3": _ratio(c.I, interviews + c.R),
        "coop4": _ratio(interviews, interviews + c.R),
        "ref1": _ratio(c.R, all_cases),
        "ref2": with_e(c.R, known),
        "ref3": _ratio(c.R, known),
        "con1": _ratio(cooperating, all_cases),
        "con2": with_e(cooperating, known),
        "con3": _ratio(cooperating, known),
        "e": e,
    }


def call_success_rate(contacted: int, attempted: int) -> float | None:
    """M.Score's call success rate (not an AAPOR rate): sample members reached by a person ÷
    sample members dialled at least once; None when nobody was dialled."""
    if not 0 <= contacted <= attempted:
        raise ValueError(f"need 0 <= contacted <= attempted, got {contacted} and {attempted}")
    return _ratio(contacted, attempted)
