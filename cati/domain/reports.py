"""Report figures from grouped counts: disposition counts and AAPOR rates, question summaries,
and each mode's response figures.

Everything here takes counts already aggregated by the database (one row per group and
disposition, or per group, question and key), so a report never loops over members.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from cati.domain.dispositions import Counts, call_success_rate, family, rates

# Student's t, 0.975 quantile, for 1..30 degrees of freedom; then the usual table points.
_T975 = (
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
)
_T975_LARGE = ((40, 2.021), (60, 2.000), (120, 1.980))
_Z975 = 1.959964

COUNT_KEYS = (
    "sampled",
    "attempted",
    "contacted",
    "complete",
    "partial",
    "refusal",
    "non_contact",
    "other",
    "unknown",
    "not_eligible",
    "pending",
    "attempts",
)
_FAMILY_KEY = {
    "I": "complete",
    "P": "partial",
    "R": "refusal",
    "NC": "non_contact",
    "O": "other",
    "UH": "unknown",
    "UO": "unknown",
    "NE": "not_eligible",
}


def t975(df: int) -> float:
    """The two-sided 95 % critical value of Student's t with `df` degrees of freedom.

    Exact (to three decimals) up to 30; between table points beyond that it interpolates in
    1/df, which is how printed tables are read.
    """
    if df < 1:
        raise ValueError("a t-interval needs at least 2 observations")
    if df <= 30:
        return _T975[df - 1]
    points = ((30, _T975[-1]), *_T975_LARGE, (math.inf, _Z975))
    for (lo_df, lo_t), (hi_df, hi_t) in pairwise(points):
        if df <= hi_df:
            x, x0, x1 = 1 / df, 1 / lo_df, (0.0 if hi_df == math.inf else 1 / hi_df)
            return hi_t + (lo_t - hi_t) * (x - x1) / (x0 - x1)
    return _Z975


def counts_of(
    dispositions: Mapping[str | None, int], *, attempted: int, contacted: int, attempts: int
) -> dict[str, int]:
    """The `counts` object: members by final disposition family, plus call counts.

    `dispositions` maps an AAPOR code (None for members without a final one) to a count.
    """
    counts = dict.fromkeys(COUNT_KEYS, 0)
    for code, n in dispositions.items():
        counts["sampled"] += n
        if code is None:
            counts["pending"] += n
        else:
            counts[_FAMILY_KEY[family(code)]] += n
    counts.update(attempted=attempted, contacted=contacted, attempts=attempts)
    return counts


def rates_of(dispositions: Mapping[str | None, int], counts: Mapping[str, int]) -> dict[str, Any]:
    """AAPOR rates over the members with a final disposition (pending ones are not yet
    cases of any family), completion rate and the M.Score call success rate."""
    final = {code: n for code, n in dispositions.items() if code is not None}
    sampled = counts["sampled"]
    return {
        **rates(Counts.from_codes(final)),
        "completion_rate": counts["complete"] / sampled if sampled else None,
        "call_success_rate": call_success_rate(counts["contacted"], counts["attempted"]),
    }


def question_summary(
    kind: str,
    keys: Mapping[str | None, int],
    scale: tuple[int, int] = (1, 9),
    satisfied_from: int | None = None,
) -> dict[str, Any]:
    """One question's figures from its key counts ('0' is don't know; None, no answer).

    Scale questions: n, dont_know, mean, ci95, the distribution over the `scale` (lowest,
    highest score), and the provinces' satisfied share: `satisfied_from` (the lowest satisfied
    score, as the flow declares it), `satisfied` (scores at or above it) and `satisfied_share`
    (satisfied ÷ n, don't know left out; None when n is 0); all three None when the flow
    declares no `satisfied_from`. Yes/no questions: n, dont_know, yes, no, yes_share. Others:
    n, dont_know and the counts.
    """
    dont_know = keys.get("0", 0)
    given = {k: n for k, n in keys.items() if k not in (None, "0")}
    n = sum(given.values())
    summary: dict[str, Any] = {"n": n, "dont_know": dont_know}
    if kind == "scale":
        low, high = scale
        distribution = {str(score): given.get(str(score), 0) for score in range(low, high + 1)}
        total = sum(int(k) * c for k, c in distribution.items())
        mean = total / n if n else None
        summary.update(
            mean=round(mean, 4) if mean is not None else None,
            ci95=mean_interval(distribution, scale),
            distribution=distribution,
            **satisfaction(distribution, satisfied_from),
        )
    elif kind == "yes_no":
        yes, no = given.get("1", 0), given.get("2", 0)
        summary.update(yes=yes, no=no, yes_share=yes / (yes + no) if yes + no else None)
    else:
        summary["keys"] = dict(sorted(given.items()))
    return summary


def satisfaction(distribution: Mapping[str, int], satisfied_from: int | None) -> dict[str, Any]:
    """`satisfied_from`, `satisfied` (scores at or above it) and `satisfied_share` (of the
    scores given; None when there is none); all None without a `satisfied_from`."""
    if satisfied_from is None:
        return {"satisfied_from": None, "satisfied": None, "satisfied_share": None}
    n = sum(distribution.values())
    satisfied = sum(c for k, c in distribution.items() if int(k) >= satisfied_from)
    return {
        "satisfied_from": satisfied_from,
        "satisfied": satisfied,
        "satisfied_share": satisfied / n if n else None,
    }


def mean_interval(distribution: Mapping[str, int], scale: tuple[int, int]) -> list[float] | None:
    """The 95 % t-interval of the mean score, kept inside the `scale`; None under 2 scores.

    With few scores the t-interval reaches past the scale (two scores of 6 and 8 give
    7 ± 12.706), yet no mean can lie outside it: the interval is clamped to the scale, the
    plausible values it can speak for.
    """
    n = sum(distribution.values())
    if n < 2:
        return None
    mean = sum(int(k) * c for k, c in distribution.items()) / n
    squares = sum(c * (int(k) - mean) ** 2 for k, c in distribution.items())
    half = t975(n - 1) * math.sqrt(squares / (n - 1)) / math.sqrt(n)
    low, high = scale
    return [round(max(low, mean - half), 4), round(min(high, mean + half), 4)]


# --------------------------------------------------------------------------------------------
# Each mode's response (a web round followed by the phone)
# --------------------------------------------------------------------------------------------

PHONE_MODES = ("ivr", "interviewer")  # the attempts that are calls
# The order of the pages' other tables by mode.
RESPONSE_MODES = ("interviewer", "ivr", "web")


@dataclass(frozen=True)
class ModeResult:
    """What one member's attempts in one mode add up to, as the database groups them: whether
    one of them was a complete, a partial, a refusal; whether one reached a person, and
    whether the last that did found the member not eligible, or unable to answer (other);
    whether one has ended (has an outcome) at all."""

    complete: bool = False
    partial: bool = False
    refused: bool = False
    reached: bool = False
    last_not_eligible: bool = False
    last_other: bool = False
    ended: bool = False


def mode_family(result: ModeResult) -> str | None:
    """The disposition family (a `counts` key) of one member's attempts in one mode, rolled up
    as `cati.domain.dispositions.roll_up` rolls up all of a member's attempts: an interview
    wins; else the last person reached decides not eligible, any refusal is one, then other,
    and a break-off or an appointment not kept is a refusal; else a non-contact. None when
    no attempt in that mode has ended."""
    if result.complete:
        return "complete"
    if result.partial:
        return "partial"
    if result.reached:
        if result.last_not_eligible:
            return "not_eligible"
        if result.refused:
            return "refusal"
        return "other" if result.last_other else "refusal"
    return "non_contact" if result.ended else None


def modes_response(rows: Iterable[tuple[str, ModeResult, int, int]]) -> list[dict[str, Any]]:
    """The `modes_response` of a report: for each mode used (in `RESPONSE_MODES` order), the
    members offered it (`members`: invited to the web, or dialled at least once by the IVR
    or an interviewer), their `attempts` in it (web visits, calls that ended), how many
    completed (1.1), left a partial (1.2), refused or broke off (2.1x) and were found not
    eligible (4.70) in that mode, and its `response_rate`.

    Each mode counts a member's attempts in that mode alone (`mode_family`), so a member who
    left the web half-way and completed by phone is a web partial and a phone complete; the
    round's own figures keep one disposition per member. The response rate is AAPOR RR1 with
    the members offered the mode as its sample: completes in the mode ÷ (members offered it −
    those found not eligible in it); a member who has not answered in it (yet) counts in the
    denominator. `rows`: (mode, result, members, attempts) as grouped by the database.
    """
    members: Counter[str] = Counter()
    attempts: Counter[str] = Counter()
    families: dict[str, Counter[str | None]] = {}
    for mode, result, n, tries in rows:
        members[mode] += n
        attempts[mode] += tries
        families.setdefault(mode, Counter())[mode_family(result)] += n
    order = {mode: i for i, mode in enumerate(RESPONSE_MODES)}
    figures = []
    for mode in sorted(members, key=lambda m: (order.get(m, len(order)), m)):
        f = families[mode]
        counts = Counts(I=f["complete"], P=f["partial"], R=f["refusal"], NC=f["non_contact"],
                        O=f["other"], UH=f[None], NE=f["not_eligible"])  # fmt: skip
        figures.append(
            {
                "mode": mode,
                "members": members[mode],
                "attempts": attempts[mode],
                "completes": counts.I,
                "partials": counts.P,
                "refusals": counts.R,
                "not_eligible": counts.NE,
                "response_rate": rates(counts)["rr1"],
            }
        )
    return figures
