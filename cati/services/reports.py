"""A round's report: counts, AAPOR rates and question scores, for the round and its groups.

Each figure comes from a grouped aggregate query (members by group and disposition; attempts
per member rolled up in SQL; answers by group, question and key), so the cost does not grow
with a Python loop over members.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    and_,
    case,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from cati.db import for_large_statements
from cati.domain.dispositions import AttemptOutcome, is_human_contact
from cati.domain.flow import Flow
from cati.domain.reports import (
    PHONE_MODES,
    ModeResult,
    counts_of,
    modes_response,
    question_summary,
    rates_of,
)
from cati.domain.weeks import IsoWeek
from cati.models import Answer, Attempt, Case, Member, Office, Round, User, WebLink
from cati.services.follow_ups import follow_up_figures

HUMAN_OUTCOMES = [o.value for o in AttemptOutcome if is_human_contact(o)]
# A web round's attempts: visits to the link, and a reply to its SMS declining (a refusal).
WEB_MODES = ("web", "sms")


class ReportError(LookupError):
    """The report cannot be made (no such round)."""


GROUPINGS = ("round", "offices", "officers", "modes", "interviewers")


def is_placed_call():
    """An attempt that counts as a call: by telephone (IVR or interviewer; web visits and SMS
    replies are not calls), and the provider took it (it has a call id) or it has an outcome
    (an interviewer's call, a number the provider refused as invalid). One the dialer queued
    but never placed does not count. `attempted` (members dialled at least once, the call
    success rate's denominator) means this in the report and the dashboard."""
    return and_(
        Attempt.mode.in_(PHONE_MODES),
        or_(Attempt.provider_call_id.is_not(None), Attempt.outcome.is_not(None)),
    )


def member_call_totals(*where):
    """Per member with at least one placed call: `attempts` (calls that ended, with an
    outcome) and `contacted` (1 when one of them reached a person). Members absent from it
    were never dialled."""
    return (
        select(
            Attempt.member_id,
            func.sum(case((Attempt.outcome.is_not(None), 1), else_=0)).label("attempts"),
            func.max(case((Attempt.outcome.in_(HUMAN_OUTCOMES), 1), else_=0)).label("contacted"),
        )
        .join(Member, Member.id == Attempt.member_id)
        .where(*where, is_placed_call())
        .group_by(Attempt.member_id)
        .cte("attempt_totals")
    )


def _finest_grain(round_id: int, dialect: str):
    """One statement for the whole report: the round's members keyed by group (office ×
    officer × mode × interviewer, numbered `k`), each with its disposition and call totals,
    computed once and read twice:

    - member rows (question_id NULL): k, the group, the disposition (in `value`), members,
      attempted, contacted and calls;
    - answer rows: k, the key pressed (`value`), the question and how many pressed it.

    A member's call totals and interviewer (the user of its latest interviewer call) come
    from one pass over its attempts. Answers are grouped by the small number `k` rather
    than by the four columns of the group (scripts/bench_report.py: grouping 100,000s of
    answers by the wide key, and computing the interviewers twice, cost three times the
    floor on PostgreSQL).
    """
    in_round = Member.round_id == round_id
    ended = Attempt.outcome.is_not(None)
    totals = (
        select(
            Attempt.member_id,
            func.sum(case((ended, 1), else_=0)).label("attempts"),
            func.max(case((Attempt.outcome.in_(HUMAN_OUTCOMES), 1), else_=0)).label("contacted"),
            # Each member's interviewer: the one who made its latest interviewer call.
            func.max(case((and_(Attempt.mode == "interviewer", ended), Attempt.id))).label(
                "last_call"
            ),
        )
        .join(Member, Member.id == Attempt.member_id)
        .where(in_round, is_placed_call())
        .group_by(Attempt.member_id)
        .cte("attempt_totals")
    )
    # The user of each member's latest interviewer call: a few thousand lookups by id.
    last_calls = select(totals.c.last_call).where(totals.c.last_call.is_not(None))
    interviewer = (
        select(Attempt.member_id, Attempt.user_id)
        .where(Attempt.id.in_(last_calls))
        .cte("interviewer")
    )
    officer = func.coalesce(Case.officer, "")
    keyed = (
        select(
            Member.id.label("member_id"),
            func.dense_rank()
            .over(order_by=(Member.office_id, officer, Member.mode, interviewer.c.user_id))
            .label("k"),
            Member.office_id,
            officer.label("officer"),
            Member.mode,
            interviewer.c.user_id,
            Member.disposition,
            case((totals.c.member_id.is_not(None), 1), else_=0).label("attempted"),
            func.coalesce(totals.c.contacted, 0).label("contacted"),
            func.coalesce(totals.c.attempts, 0).label("calls"),
        )
        .join(Case, Case.id == Member.case_id)
        .outerjoin(totals, totals.c.member_id == Member.id)
        .outerjoin(interviewer, interviewer.c.member_id == Member.id)
        .where(in_round)
        .cte("keyed")
    )
    if dialect == "postgresql":
        keyed = keyed.prefix_with("MATERIALIZED")  # read twice: computed once
    c = keyed.c
    no_text = null().cast(String)
    no_count = null().cast(Integer)
    members = select(
        c.k, c.office_id, c.officer, c.mode, c.user_id, c.disposition.label("value"),
        no_text.label("question_id"), func.count(), func.sum(c.attempted),
        func.sum(c.contacted), func.sum(c.calls),
    ).group_by(c.k, c.office_id, c.officer, c.mode, c.user_id, c.disposition)  # fmt: skip
    blank = (no_count, no_text, no_text, no_count)  # the group: read from k's member rows
    answers = (
        select(c.k, *blank, Answer.value, Answer.question_id, func.count(), *[no_count] * 3)
        .join(keyed, c.member_id == Answer.member_id)
        .group_by(c.k, Answer.question_id, Answer.value)
    )
    return union_all(members, answers)


def round_report(
    session: Session,
    round_id: int,
    flows: Mapping[str, Flow],
    tz: tzinfo,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The report JSON of `cati report` and `GET /api/rounds/<id>/report`.

    1. Two aggregate queries at the finest grain (office × officer × mode × interviewer):
       members by disposition with their calls, and answers by question and key. Both are
       restricted to the round, and the per-member call totals are computed once.
    2. The five groupings (round, office, officer, mode, interviewer) are added up from
       those few thousand rows, never from members one by one.
    3. Each mode's response (`modes_response`): one more statement groups the members'
       attempts per mode by what they add up to (`_mode_results`).
    """
    round_ = session.get(Round, round_id)
    if round_ is None:
        raise ReportError(f"no round with id {round_id}")
    flow = flows.get(round_.flow)
    connection = session.connection()
    for_large_statements(connection)
    figures = {name: defaultdict(_new_entry) for name in GROUPINGS}
    groups: dict[int, tuple] = {}  # k: (office, officer, mode, interviewer)
    answer_rows = []
    for (
        k,
        office,
        officer,
        mode,
        user,
        value,
        question_id,
        n,
        attempted,
        contacted,
        calls,
    ) in session.execute(_finest_grain(round_id, connection.dialect.name)):
        if question_id is not None:
            answer_rows.append((k, question_id, value, n))
            continue
        groups[k] = (office, officer, mode, user)
        for name, key in zip(GROUPINGS, (round_id, office, officer, mode, user), strict=True):
            entry = figures[name][key]
            # PostgreSQL sums come back as Decimal: keep plain integers for JSON.
            entry["dispositions"][value] += int(n)
            entry["attempted"] += int(attempted or 0)
            entry["contacted"] += int(contacted or 0)
            entry["attempts"] += int(calls or 0)
    for k, question_id, value, n in answer_rows:
        office, officer, mode, user = groups[k]
        for name, key in zip(GROUPINGS, (round_id, office, officer, mode, user), strict=True):
            figures[name][key]["keys"][question_id][value] += int(n)
    sections = {name: _sections(figures[name], flow) for name in GROUPINGS}
    return {
        "round": _round_json(round_, tz),
        **sections["round"].get(round_id, _empty(flow)),
        "offices": _offices(session, sections["offices"]),
        "officers": [{"officer": k, **v} for k, v in sorted(sections["officers"].items()) if k],
        "modes": [{"mode": k, **v} for k, v in sorted(sections["modes"].items())],
        "modes_response": modes_response(_mode_results(session, round_id)),
        "interviewers": _interviewers(session, sections["interviewers"]),
        # The follow-ups raised from the round's members: in all and per office.
        "follow_ups": follow_up_figures(session, round_id=round_id, now=now or datetime.now(UTC)),
    }


# How `_member_results` writes what a member's attempts in a mode add up to, in three
# aggregates (each one costs a pass over the attempts' CASE expressions): the best interview
# or refusal, and the outcome of the last attempt that reached a person.
_BEST = {AttemptOutcome.COMPLETE: 3, AttemptOutcome.PARTIAL: 2, AttemptOutcome.REFUSED: 1}
_LAST = {AttemptOutcome.NOT_ELIGIBLE: 1, AttemptOutcome.OTHER: 2}  # any other person: 0


def _member_results(*where, by_mode: bool):
    """Per member (and per mode when `by_mode`), its attempts matching `where`: `attempts`,
    those that ended; `best`, the best of `_BEST` among them (0: none); `last`, the `_LAST`
    code of the latest that reached a person (NULL: none did; the attempt's id, the latest,
    is packed above the code)."""
    outcome = Attempt.outcome
    ended = outcome.is_not(None)
    last_code = case(*((outcome == o.value, code) for o, code in _LAST.items()), else_=0)
    keys = (Attempt.member_id, Attempt.mode) if by_mode else (Attempt.member_id,)
    return (
        select(
            *keys,
            func.sum(case((ended, 1), else_=0)).label("attempts"),
            func.max(
                case(*((outcome == o.value, rank) for o, rank in _BEST.items()), else_=0)
            ).label("best"),
            (
                func.max(
                    case(
                        (outcome.in_(HUMAN_OUTCOMES), cast(Attempt.id, BigInteger) * 4 + last_code)
                    )
                )
                % 4
            ).label("last"),
        )
        .join(Member, Member.id == Attempt.member_id)
        .where(*where)
        .group_by(*keys)
        .cte("mode_results" if by_mode else "web_results")
    )


def _mode_results(session: Session, round_id: int) -> list[tuple[str, ModeResult, int, int]]:
    """The rows `modes_response` adds up, from one statement: (mode, result, members,
    attempts), grouped by mode and result. The phone's members are those dialled in that mode
    (`is_placed_call`); the web's, those invited (with a link), their visits and SMS replies
    taken together."""
    in_round = Member.round_id == round_id
    phone = _member_results(in_round, is_placed_call(), by_mode=True)
    web = _member_results(
        in_round, Attempt.mode.in_(WEB_MODES), Attempt.outcome.is_not(None), by_mode=False
    )
    statement = union_all(
        select(phone.c.mode, phone.c.best, phone.c.last, phone.c.attempts, func.count()).group_by(
            phone.c.mode, phone.c.best, phone.c.last, phone.c.attempts
        ),
        select(literal_column("'web'"), web.c.best, web.c.last, web.c.attempts, func.count())
        .select_from(WebLink)
        .join(Member, Member.id == WebLink.member_id)
        .outerjoin(web, web.c.member_id == WebLink.member_id)
        .where(in_round)
        .group_by(web.c.best, web.c.last, web.c.attempts),
    )
    return [
        (mode, _result(best, last, int(attempts or 0)), int(n), int(n) * int(attempts or 0))
        for mode, best, last, attempts, n in session.execute(statement)
    ]


def _result(best: int | None, last: int | None, attempts: int) -> ModeResult:
    """`ModeResult` from `_member_results`' columns (all NULL: a member invited to the web
    who never saved an answer there)."""
    last_outcome = {code: o for o, code in _LAST.items()}.get(last)
    return ModeResult(
        complete=best == _BEST[AttemptOutcome.COMPLETE],
        partial=best == _BEST[AttemptOutcome.PARTIAL],
        refused=best == _BEST[AttemptOutcome.REFUSED],
        reached=last is not None,
        last_not_eligible=last_outcome is AttemptOutcome.NOT_ELIGIBLE,
        last_other=last_outcome is AttemptOutcome.OTHER,
        ended=attempts > 0,
    )


def _new_entry() -> dict[str, Any]:
    return {
        "dispositions": defaultdict(int),
        "attempted": 0,
        "contacted": 0,
        "attempts": 0,
        "keys": defaultdict(lambda: defaultdict(int)),
    }


def _sections(entries: Mapping[Any, dict], flow: Flow | None) -> dict[Any, dict]:
    """counts, rates and questions for every group that has a key (None: no interviewer)."""
    result = {}
    for group, entry in entries.items():
        if group is None:
            continue
        dispositions = dict(entry["dispositions"])
        counts = counts_of(
            dispositions,
            attempted=entry["attempted"],
            contacted=entry["contacted"],
            attempts=entry["attempts"],
        )
        result[group] = {
            "counts": counts,
            "rates": rates_of(dispositions, counts),
            "questions": _questions(flow, entry["keys"]),
        }
    return result


def _questions(flow: Flow | None, keys: Mapping[str, Mapping[str | None, int]]) -> dict:
    if flow is None:
        return {}
    return {
        q.id: question_summary(q.type.value, keys.get(q.id, {}), _scale_of(q), q.satisfied_from)
        for q in flow.questions
        if q.type.value in ("scale", "yes_no", "choice")
    }


def _scale_of(question) -> tuple[int, int]:
    """The lowest and highest score of a scale question: its keys, '0' (don't know) aside."""
    scores = [int(k) for k in question.keys if k.isdigit() and k != "0"]
    return (min(scores), max(scores)) if scores else (1, 9)


def _empty(flow: Flow | None) -> dict[str, Any]:
    counts = counts_of({}, attempted=0, contacted=0, attempts=0)
    return {"counts": counts, "rates": rates_of({}, counts), "questions": _questions(flow, {})}


def _offices(session: Session, section: Mapping[Any, dict]) -> list[dict[str, Any]]:
    offices = {
        oid: (code, name)
        for oid, code, name in session.execute(
            select(Office.id, Office.code, Office.name).where(Office.id.in_(list(section)))
        )
    }
    return [
        {"office_code": offices[office_id][0], "office_name": offices[office_id][1], **figures}
        for office_id, figures in sorted(section.items(), key=lambda kv: offices[kv[0]][0])
    ]


def _interviewers(session: Session, section: Mapping[Any, dict]) -> list[dict[str, Any]]:
    usernames = dict(session.execute(select(User.id, User.username)).all())
    return [
        {"interviewer": usernames.get(user_id, str(user_id)), **figures}
        for user_id, figures in sorted(section.items(), key=lambda kv: usernames.get(kv[0], ""))
    ]


def _round_json(round_: Round, tz: tzinfo) -> dict[str, Any]:
    return {
        "id": round_.id,
        "week": round_.week,
        "flow": round_.flow,
        "mode": round_.mode,
        "status": round_.status,
        "week_start": round_.week_start_at.astimezone(tz).isoformat(),
        "frame_size": round_.frame_size,
        "eligible": round_.eligible,
        "sampled": round_.sampled,
    }


def report_table(report: Mapping[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The report flattened for a spreadsheet: one row for the round, then one per office,
    officer, mode and interviewer; counts, rates, then per question n and its mean or share."""
    from cati.domain.reports import COUNT_KEYS

    rate_keys = list(report["rates"])
    questions = list(report["questions"])
    columns = ["scope", "key", "name", *COUNT_KEYS, *rate_keys]
    for question in questions:
        summary = report["questions"][question]
        columns.append(f"{question}_n")
        if "mean" in summary:
            columns += [f"{question}_mean", f"{question}_ci95_low", f"{question}_ci95_high"]
            columns += [f"{question}_satisfied", f"{question}_satisfied_share"]
        elif "yes_share" in summary:
            columns.append(f"{question}_yes_share")

    def row(scope: str, key: Any, name: Any, figures: Mapping[str, Any]) -> list[Any]:
        cells = [
            scope,
            key,
            name,
            *(figures["counts"][k] for k in COUNT_KEYS),
            *(figures["rates"].get(k) for k in rate_keys),
        ]
        for question in questions:
            summary = figures["questions"].get(question, {})
            cells.append(summary.get("n", 0))
            if "mean" in report["questions"][question]:
                low, high = summary.get("ci95") or (None, None)
                cells += [summary.get("mean"), low, high]
                cells += [summary.get("satisfied"), summary.get("satisfied_share")]
            elif "yes_share" in report["questions"][question]:
                cells.append(summary.get("yes_share"))
        return cells

    rows = [row("round", report["round"]["id"], report["round"]["week"], report)]
    rows += [row("office", o["office_code"], o["office_name"], o) for o in report["offices"]]
    rows += [row("officer", o["officer"], o["officer"], o) for o in report["officers"]]
    rows += [row("mode", m["mode"], m["mode"], m) for m in report["modes"]]
    rows += [
        row("interviewer", i["interviewer"], i["interviewer"], i) for i in report["interviewers"]
    ]
    return columns, rows


def rounds_progress(session: Session) -> list[dict[str, Any]]:
    """Every round with its progress: sampled → attempted → contacted → complete (one query),
    counted as the report counts them (`member_call_totals`)."""
    totals = member_call_totals()
    rows = session.execute(
        select(
            Round.id,
            Round.week,
            Round.flow,
            Round.mode,
            Round.status,
            func.count(Member.id),
            func.count(totals.c.member_id),
            func.sum(func.coalesce(totals.c.contacted, 0)),
            func.sum(case((Member.disposition == "1.1", 1), else_=0)),
        )
        .outerjoin(Member, Member.round_id == Round.id)
        .outerjoin(totals, totals.c.member_id == Member.id)
        .group_by(Round.id, Round.week, Round.flow, Round.mode, Round.status)
        .order_by(Round.week.desc(), Round.flow)
    ).all()
    return [
        {
            "id": rid,
            "week": week,
            "flow": flow,
            "mode": mode,
            "status": status,
            "sampled": int(sampled or 0),
            "attempted": int(attempted or 0),
            "contacted": int(reached or 0),
            "complete": int(complete or 0),
        }
        for rid, week, flow, mode, status, sampled, attempted, reached, complete in rows
    ]


def rounds_of_weeks(session: Session, first: IsoWeek, last: IsoWeek) -> list[Round]:
    """The rounds whose week lies in [first, last], oldest first."""
    return session.scalars(
        select(Round)
        .where(Round.week >= str(first), Round.week <= str(last))
        .order_by(Round.week, Round.flow)
    ).all()


def rounds_trend(
    session: Session,
    first,
    last,
    flows: Mapping[str, Flow],
    tz: tzinfo,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The rounds whose week lies in [first, last], oldest first: for each, its counts, rates
    and question summaries (means and yes shares), for comparing weeks; and `follow_ups`, the
    figures of the follow-ups raised in those weeks (local time), per office."""
    items = []
    for round_ in rounds_of_weeks(session, first, last):
        full = round_report(session, round_.id, flows, tz)
        items.append({key: full[key] for key in ("round", "counts", "rates", "questions")})
    period = first.bounds_utc(tz)[0], last.bounds_utc(tz)[1]
    return {
        "weeks": f"{first}..{last}",
        "rounds": items,
        "follow_ups": follow_up_figures(
            session, now=now or datetime.now(UTC), raised_from=period[0], raised_before=period[1]
        ),
    }


def trend_table(trend: Mapping[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """The trend flattened: one spreadsheet row per round."""
    rounds = trend["rounds"]
    if not rounds:
        return ["week"], []
    rate_keys = list(rounds[0]["rates"])
    questions = list(rounds[0]["questions"])
    columns = ["week", "round", "flow", "sampled", "complete", *rate_keys]
    for q in questions:
        summary = rounds[0]["questions"][q]
        if "mean" in summary:
            columns += [f"{q}_mean", f"{q}_satisfied_share"]
        elif "yes_share" in summary:
            columns.append(f"{q}_yes_share")
    rows = []
    for item in rounds:
        row = [
            item["round"]["week"],
            item["round"]["id"],
            item["round"]["flow"],
            item["counts"]["sampled"],
            item["counts"]["complete"],
            *(item["rates"].get(k) for k in rate_keys),
        ]
        for q in questions:
            summary = item["questions"].get(q, {})
            if "mean" in summary:
                row += [summary["mean"], summary.get("satisfied_share")]
            elif "yes_share" in summary:
                row.append(summary["yes_share"])
        rows.append(row)
    return columns, rows
