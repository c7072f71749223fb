"""Questionnaires as data, and the engine that runs them.

A flow is a versioned document (YAML or JSON, parsed before it gets here) with an ordered list
of questions. `load_flow` validates it and returns a `Flow`; `FlowRun` runs it: it takes keys
pressed (or silence) and gives back events — what to say, what was answered, how the
interview ended. The IVR, the interviewer console and `cati flows try` all run this engine, so
they ask the same questions in the same order and accept the same keys.
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

SPEC_VERSION = 1
DONT_KNOW = "0"
REPEAT = "*"
MAX_TRIES = 3  # the first asking included; then the question is left without an answer
PLACEHOLDERS = frozenset({"office", "procedure", "returned_date"})
# An interviewer's script may also name the interviewer ("Em là {interviewer}, …").
SCRIPT_PLACEHOLDERS = PLACEHOLDERS | {"interviewer"}
MESSAGES = ("invalid", "no_input", "welcome_back", "goodbye", "record_start")
DOCUMENT_KEYS = (
    "spec_version", "id", "title", "languages", "questions", "messages", "closing", "script",
    "contact_consent",
)  # fmt: skip
QUESTION_KEYS = (
    "id", "type", "prompt", "options", "max_seconds", "required", "follow_up", "at_most",
    "label", "script", "low", "high", "satisfied_from",
)  # fmt: skip
OPTION_KEYS = ("label", "end", "next", "opt_out", "follow_up", "script")
SCRIPT_KEYS = ("opening", "closing")
YES, NO = "1", "2"  # the keys of a yes/no question
# The optional last question, asked only when the answers raise a follow-up: may the office
# contact the citizen (and so learn who they are)? Saved as an answer under this id: YES, or
# NO for any other key or silence. A flow may not use the id for a question of its own.
CONTACT_CONSENT = "contact_consent"
CONTACT_CONSENT_KEYS = ("prompt", "label", "script")


class QuestionType(StrEnum):
    SCALE = "scale"
    YES_NO = "yes_no"
    CHOICE = "choice"
    RECORD = "record"


class Outcome(StrEnum):
    """How an interview ended inside the flow (the call itself may end otherwise)."""

    COMPLETE = "complete"
    REFUSED = "refused"
    NOT_ELIGIBLE = "not_eligible"
    NO_CONSENT = (
        "no_consent"  # a required question (consent) got no valid key: silence is not consent
    )
    HANDOVER = "handover"  # the citizen asked to talk to a person: an interviewer calls back


CORE_TYPES = (QuestionType.SCALE, QuestionType.YES_NO)


class FlowError(ValueError):
    """A flow document is invalid: names the source, the path inside it and the reason."""

    def __init__(self, source: str, path: str, reason: str) -> None:
        super().__init__(f"{source}: {path}: {reason}")
        self.source, self.path, self.reason = source, path, reason


@dataclass(frozen=True)
class Prompt:
    """One prompt in every language: text to speak, or a recorded audio URL."""

    text: Mapping[str, str]
    audio: Mapping[str, str]

    def render(self, language: str, case: Mapping[str, str]) -> tuple[str | None, str | None]:
        """(text, audio URL) in `language`, placeholders filled from `case`."""
        if language in self.audio:
            return None, self.audio[language]
        return _fill(self.text[language], case), None


@dataclass(frozen=True)
class Option:
    key: str
    label: Mapping[str, str]
    end: Outcome | None = None
    next: str | None = None
    opt_out: bool = False  # the citizen asked never to be called again
    follow_up: str | None = None  # choosing it raises a follow-up for the office, this reason
    script: Mapping[str, str] | None = None  # the interviewer's words for it, when not the label


@dataclass(frozen=True)
class Question:
    id: str
    type: QuestionType
    prompt: Prompt
    options: tuple[Option, ...] = ()
    max_seconds: int = 60  # for `record`
    required: bool = False  # no skipping: '0' is not accepted and no answer ends the interview
    # The keys whose answer raises a follow-up for the office, with its reason (`follow_up`).
    follow_ups: Mapping[str, str] = field(default_factory=dict, compare=False)
    # For people (the console): a short name, the words an interviewer reads aloud (the IVR
    # keeps `prompt`), and a scale's end labels.
    label: Mapping[str, str] | None = None
    script: Mapping[str, str] | None = None
    low: Mapping[str, str] | None = None
    high: Mapping[str, str] | None = None
    # A scale question's lowest satisfied score (the provinces' "satisfied" share counts the
    # answers at or above it); None when the flow does not say.
    satisfied_from: int | None = None

    def follow_up_reason(self, value: str | None) -> str | None:
        """The follow-up reason this answer raises, if any ('0' and no answer raise none)."""
        return self.follow_ups.get(value) if value else None

    @property
    def keys(self) -> tuple[str, ...]:
        """The keys that answer this question, '0' (don't know) included unless required."""
        if self.type is QuestionType.SCALE:
            keys = tuple("123456789")
        elif self.type is QuestionType.YES_NO:
            keys = ("1", "2")
        elif self.type is QuestionType.RECORD:
            return ("1",)
        else:
            keys = tuple(option.key for option in self.options)
        return keys if self.required else (*keys, DONT_KNOW)

    @property
    def is_core(self) -> bool:
        return self.type in CORE_TYPES

    def option(self, key: str) -> Option | None:
        for option in self.options:  # a loop: called for every saved answer at every turn
            if option.key == key:
                return option
        return None


@dataclass(frozen=True)
class Flow:
    id: str
    version: int
    title: Mapping[str, str]
    languages: tuple[str, ...]
    questions: tuple[Question, ...]
    messages: Mapping[str, Prompt]
    closing: Prompt
    # The interviewer's opening and closing lines (the console); None when the flow has none.
    opening_script: Mapping[str, str] | None = None
    closing_script: Mapping[str, str] | None = None
    # The contact question (`contact_consent` in the document), as a yes/no question whose id
    # is CONTACT_CONSENT; None when the flow asks none. Not one of `questions`.
    contact_consent: Question | None = None

    def question(self, question_id: str) -> Question:
        return self._by_id[question_id]

    def asks_contact(self, answers: Mapping[str, str | None]) -> bool:
        """Whether these answers lead to the contact question: the flow has one and they
        raise a follow-up reason (`follow_up_reasons`). The IVR, the console and any other
        mode ask it, or show it, on the same condition."""
        return self.contact_consent is not None and bool(follow_up_reasons(self, answers))

    def index(self, question_id: str) -> int:
        return self._index[question_id]

    @property
    def core_questions(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.is_core)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {q.id: q for q in self.questions})
        object.__setattr__(self, "_index", {q.id: i for i, q in enumerate(self.questions)})


# --------------------------------------------------------------------------------------------
# Loading and validation
# --------------------------------------------------------------------------------------------

_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def load_flow(document: Any, source: str) -> Flow:
    """Validate a parsed flow document; raise `FlowError` at the first problem found."""

    def fail(path: str, reason: str) -> FlowError:
        return FlowError(source, path, reason)

    if not isinstance(document, Mapping):
        raise fail("/", "a flow must be a mapping")
    version = document.get("spec_version")
    if type(version) is not int or version != SPEC_VERSION:
        raise fail("/spec_version", f"must be {SPEC_VERSION} (got {version!r})")
    _known_keys(document, DOCUMENT_KEYS, "", fail)
    flow_id = document.get("id")
    if not isinstance(flow_id, str) or not _ID.fullmatch(flow_id):
        raise fail("/id", "a lower-case identifier is required (letters, digits, _)")
    languages = document.get("languages")
    if (
        not isinstance(languages, list)
        or not languages
        or not all(isinstance(lang, str) and lang for lang in languages)
        or len(set(languages)) != len(languages)
    ):
        raise fail("/languages", "a list of distinct language codes is required, e.g. [vi, en]")
    langs = tuple(languages)

    def prompt(value: Any, path: str) -> Prompt:
        if not isinstance(value, Mapping):
            raise fail(path, f"give the prompt in every language: {', '.join(langs)}")
        text: dict[str, str] = {}
        audio: dict[str, str] = {}
        for lang in langs:
            item = value.get(lang)
            if isinstance(item, str) and item.strip():
                _check_placeholders(item, f"{path}/{lang}", fail)
                text[lang] = item.strip()
            elif isinstance(item, Mapping) and isinstance(item.get("audio"), str):
                _known_keys(item, ("audio", "text"), f"{path}/{lang}", fail)
                if not item["audio"].startswith(("https://", "http://")):
                    raise fail(f"{path}/{lang}/audio", "must be an http(s) URL")
                audio[lang] = item["audio"]
                if isinstance(item.get("text"), str):
                    text[lang] = item["text"].strip()
            else:
                raise fail(f"{path}/{lang}", "missing: text, or {audio: URL}")
        unknown = sorted(map(str, set(value) - set(langs)))
        if unknown:
            raise fail(path, f"language(s) not declared in /languages: {', '.join(unknown)}")
        return Prompt(text, audio)

    title = prompt(document.get("title"), "/title").text
    raw_questions = document.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        raise fail("/questions", "a non-empty list of questions is required")
    questions: list[Question] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_questions):
        path = f"/questions/{i}"
        if not isinstance(raw, Mapping):
            raise fail(path, "a question must be a mapping")
        _known_keys(raw, QUESTION_KEYS, path, fail)
        qid = raw.get("id")
        if not isinstance(qid, str) or not _ID.fullmatch(qid):
            raise fail(f"{path}/id", "a lower-case identifier is required")
        if qid in seen:
            raise fail(f"{path}/id", f"duplicate question id {qid!r}")
        seen.add(qid)
        try:
            qtype = QuestionType(raw.get("type"))
        except ValueError:
            raise fail(
                f"{path}/type", f"must be one of {', '.join(t.value for t in QuestionType)}"
            ) from None
        options = _options(raw, qtype, path, langs, fail, prompt)
        max_seconds = raw.get("max_seconds", 60)
        if type(max_seconds) is not int or not 1 <= max_seconds <= 300:
            raise fail(f"{path}/max_seconds", "a whole number of seconds from 1 to 300")
        required = raw.get("required", False)
        if not isinstance(required, bool) or (required and qtype is QuestionType.RECORD):
            raise fail(f"{path}/required", "true or false (a recording cannot be required)")
        text = prompt(raw.get("prompt"), f"{path}/prompt")
        follow_ups = _follow_ups(raw, qtype, options, path, fail)
        words = {
            name: _words(raw.get(name), f"{path}/{name}", langs, fail, allowed)
            for name, allowed in (("label", frozenset()), ("script", SCRIPT_PLACEHOLDERS))
        }
        ends = {
            name: _words(raw.get(name), f"{path}/{name}", langs, fail, frozenset())
            for name in ("low", "high")
        }
        if qtype is not QuestionType.SCALE and any(v is not None for v in ends.values()):
            name = next(name for name, value in ends.items() if value is not None)
            raise fail(f"{path}/{name}", f"only scale questions have end labels, not {qtype}")
        satisfied_from = _satisfied_from(raw, qtype, path, fail)
        questions.append(Question(qid, qtype, text, options, max_seconds, required,
                                  follow_ups, **words, **ends,
                                  satisfied_from=satisfied_from))  # fmt: skip
    _check_graph(questions, fail)

    raw_messages = document.get("messages")
    if not isinstance(raw_messages, Mapping):
        raise fail("/messages", f"required: {', '.join(MESSAGES)}")
    _known_keys(raw_messages, MESSAGES, "/messages", fail)
    messages = {name: prompt(raw_messages.get(name), f"/messages/{name}") for name in MESSAGES}
    closing = prompt(document.get("closing"), "/closing")
    script = document.get("script")
    if script is not None and not isinstance(script, Mapping):
        raise fail("/script", "a mapping with the interviewer's opening and closing lines")
    script = script or {}
    _known_keys(script, SCRIPT_KEYS, "/script", fail)
    opening_script, closing_script = (
        _words(script.get(name), f"/script/{name}", langs, fail, SCRIPT_PLACEHOLDERS)
        for name in SCRIPT_KEYS
    )
    contact = _contact_consent(document.get("contact_consent"), langs, fail, prompt)
    if contact is not None and CONTACT_CONSENT in seen:
        index = next(i for i, q in enumerate(questions) if q.id == CONTACT_CONSENT)
        reason = f"{CONTACT_CONSENT!r} is the contact question's id: name this one otherwise"
        raise fail(f"/questions/{index}/id", reason)
    return Flow(flow_id, SPEC_VERSION, title, langs, tuple(questions), messages, closing,
                opening_script, closing_script, contact)  # fmt: skip


def _contact_consent(raw: Any, langs, fail, prompt) -> Question | None:
    """`contact_consent: {prompt: …, label: …, script: …}`: the optional last question, asked
    only when the member's answers raise a follow-up (the IVR: 1 is yes, any other key or
    silence is no)."""
    if raw is None:
        return None
    path = "/contact_consent"
    if not isinstance(raw, Mapping):
        raise fail(path, "a mapping with the prompt (and the interviewer's label and script)")
    _known_keys(raw, CONTACT_CONSENT_KEYS, path, fail)
    text = prompt(raw.get("prompt"), f"{path}/prompt")
    label = _words(raw.get("label"), f"{path}/label", langs, fail, frozenset())
    script = _words(raw.get("script"), f"{path}/script", langs, fail, SCRIPT_PLACEHOLDERS)
    return Question(CONTACT_CONSENT, QuestionType.YES_NO, text, label=label, script=script)


def _words(value: Any, path: str, langs, fail, placeholders) -> Mapping[str, str] | None:
    """Optional words for people (a label, a script line): text in every language, or None."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise fail(path, f"give the text in every language: {', '.join(langs)}")
    unknown = sorted(map(str, set(value) - set(langs)))
    if unknown:
        raise fail(path, f"language(s) not declared in /languages: {', '.join(unknown)}")
    words = {}
    for lang in langs:
        item = value.get(lang)
        if not isinstance(item, str) or not item.strip():
            raise fail(f"{path}/{lang}", "missing: the text in this language")
        _check_placeholders(item, f"{path}/{lang}", fail, placeholders)
        words[lang] = " ".join(item.split())
    return words


def missing_scripts(flow: Flow) -> list[str]:
    """Where a flow has no interviewer wording (the console then reads out the IVR's prompt):
    the opening and closing lines, every question and the contact question without a
    `script`."""
    missing = [
        f"/script/{name}"
        for name, words in (("opening", flow.opening_script), ("closing", flow.closing_script))
        if words is None
    ]
    missing += [f"/questions/{i}/script" for i, q in enumerate(flow.questions) if q.script is None]
    if flow.contact_consent is not None and flow.contact_consent.script is None:
        missing.append("/contact_consent/script")
    return missing


def fill_script(text: str, case: Mapping[str, str]) -> str:
    """A script line with its placeholders (the interviewer's name among them) filled in."""
    return text.format_map({name: case.get(name) or "" for name in SCRIPT_PLACEHOLDERS})


def _options(raw, qtype, path, langs, fail, prompt) -> tuple[Option, ...]:
    raw_options = raw.get("options")
    if qtype is not QuestionType.CHOICE:
        if raw_options is not None:
            raise fail(f"{path}/options", f"only choice questions have options, not {qtype}")
        return ()
    if not isinstance(raw_options, Mapping) or not raw_options:
        raise fail(f"{path}/options", "a choice question needs options keyed by 1-9")
    options = []
    for key, spec in raw_options.items():
        key = str(key)
        opath = f"{path}/options/{key}"
        if key not in tuple("123456789"):
            raise fail(opath, "option keys are single digits 1-9 (0 is don't know, * repeats)")
        if any(option.key == key for option in options):
            raise fail(opath, f"duplicate option key {key!r}")
        if not isinstance(spec, Mapping):
            raise fail(opath, "an option must be a mapping with a label")
        _known_keys(spec, OPTION_KEYS, opath, fail)
        end = spec.get("end")
        if end is not None:
            if end not in (Outcome.REFUSED, Outcome.NOT_ELIGIBLE, Outcome.COMPLETE,
                           Outcome.HANDOVER):  # fmt: skip
                raise fail(f"{opath}/end", "must be refused, not_eligible, complete or handover")
            end = Outcome(end)
        nxt = spec.get("next")
        if nxt is not None and not isinstance(nxt, str):
            raise fail(f"{opath}/next", "must be a question id")
        if end is not None and nxt is not None:
            raise fail(opath, "an option either ends the interview or goes to a question")
        opt_out = spec.get("opt_out", False)
        if not isinstance(opt_out, bool):
            raise fail(f"{opath}/opt_out", "must be true or false")
        follow_up = spec.get("follow_up")
        if follow_up is not None:
            _check_reason(follow_up, f"{opath}/follow_up", fail)
        label = prompt(spec.get("label"), f"{opath}/label").text
        script = _words(spec.get("script"), f"{opath}/script", langs, fail, SCRIPT_PLACEHOLDERS)
        options.append(Option(key, label, end, nxt, opt_out, follow_up, script))
    return tuple(options)


def _satisfied_from(raw: Mapping, qtype: QuestionType, path: str, fail) -> int | None:
    """`satisfied_from: 7` on a scale question: the lowest score counted as satisfied, a
    score of the scale (1 to 9)."""
    value = raw.get("satisfied_from")
    if value is None:
        return None
    if qtype is not QuestionType.SCALE:
        raise fail(f"{path}/satisfied_from", f"only scale questions have it, not {qtype}")
    if type(value) is not int or not 1 <= value <= 9:
        raise fail(f"{path}/satisfied_from", f"a score of the scale, 1 to 9 (got {value!r})")
    return value


def _check_reason(reason: Any, path: str, fail) -> str:
    if not isinstance(reason, str) or not _ID.fullmatch(reason):
        raise fail(path, "a follow-up reason is a lower-case identifier, e.g. low_score")
    return reason


def _follow_ups(raw: Mapping, qtype: QuestionType, options, path: str, fail) -> dict[str, str]:
    """The keys that raise a follow-up, from `follow_up` (and `at_most` on a scale question).

    - scale: `follow_up: low_score` with `at_most: 3` raises on 1, 2 or 3;
    - yes_no: `follow_up: reason` raises on yes; `follow_up: {no: reason}` (or `{yes: …}`)
      chooses the answer;
    - record: raises when a comment is left;
    - choice: on the options (`options: {2: {label: …, follow_up: reason}}`).
    """
    follow_up = raw.get("follow_up")
    at_most = raw.get("at_most")
    if at_most is not None and qtype is not QuestionType.SCALE:
        raise fail(f"{path}/at_most", f"only scale questions have at_most, not {qtype}")
    if qtype is QuestionType.CHOICE:
        if follow_up is not None:
            raise fail(f"{path}/follow_up", "on a choice question, put follow_up on its options")
        return {o.key: o.follow_up for o in options if o.follow_up is not None}
    if follow_up is None:
        if at_most is not None:
            raise fail(f"{path}/at_most", "at_most needs a follow_up reason beside it")
        return {}
    if qtype is QuestionType.SCALE:
        reason = _check_reason(follow_up, f"{path}/follow_up", fail)
        if type(at_most) is not int or not 1 <= at_most <= 9:
            raise fail(f"{path}/at_most", "a scale follow-up needs at_most: a score from 1 to 9")
        return {str(score): reason for score in range(1, at_most + 1)}
    if qtype is QuestionType.RECORD:
        return {"1": _check_reason(follow_up, f"{path}/follow_up", fail)}
    if isinstance(follow_up, str):
        return {YES: _check_reason(follow_up, f"{path}/follow_up", fail)}
    if not isinstance(follow_up, Mapping) or not follow_up:
        raise fail(f"{path}/follow_up", "a reason (raised on yes), or {yes: reason} / {no: reason}")
    keys: dict[str, str] = {}
    for answer, reason in follow_up.items():
        # YAML 1.1 reads a bare yes/no as true/false
        name = ("yes" if answer else "no") if isinstance(answer, bool) else answer
        if name not in ("yes", "no"):
            raise fail(f"{path}/follow_up/{answer}", "the answers of a yes/no question are yes, no")
        keys[YES if name == "yes" else NO] = _check_reason(reason, f"{path}/follow_up/{name}", fail)
    return keys


def follow_up_reasons(flow: Flow, answers: Mapping[str, str | None]) -> list[str]:
    """The follow-up reasons a member's answers raise, each once, in the flow's order."""
    reasons: list[str] = []
    for question in flow.questions:
        reason = question.follow_up_reason(answers.get(question.id))
        if reason is not None and reason not in reasons:
            reasons.append(reason)
    return reasons


def _known_keys(mapping: Mapping, allowed: tuple[str, ...], path: str, fail) -> None:
    """A key the format does not know is refused: a misspelt one would be ignored otherwise
    (`requried: true` would leave consent optional)."""
    for key in mapping:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise fail(f"{path}/{key}", f"unknown key; {hint}known keys: {', '.join(allowed)}")


def _check_graph(questions: list[Question], fail) -> None:
    """Jumps go forward only (so nothing loops), to existing questions, and all are reachable."""
    index = {q.id: i for i, q in enumerate(questions)}
    reachable = {0}
    for i, question in enumerate(questions):
        targets = []
        for option in question.options:
            if option.next is not None:
                if option.next not in index:
                    raise fail(f"/questions/{i}/options/{option.key}/next",
                               f"no question {option.next!r}")  # fmt: skip
                if index[option.next] <= i:
                    raise fail(f"/questions/{i}/options/{option.key}/next",
                               "jumps must go forward (a backward jump would loop)")  # fmt: skip
                targets.append(index[option.next])
        # '0' (don't know) and no answer go on to the next question, except on a required one
        falls_through = (
            not question.required
            or not question.options
            or any(o.next is None and o.end is None for o in question.options)
        )
        if i in reachable:
            reachable.update(targets)
            if falls_through and i + 1 < len(questions):
                reachable.add(i + 1)
    for i, question in enumerate(questions):
        if i not in reachable:
            raise fail(f"/questions/{i}", f"question {question.id!r} can never be reached")


def _check_placeholders(text: str, path: str, fail, allowed=PLACEHOLDERS) -> None:
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise fail(path, f"bad placeholder syntax: {exc}") from None
    unknown = names - allowed
    if unknown:
        raise fail(path, f"unknown placeholder(s) {sorted(unknown)}; use {sorted(allowed)}")


def _fill(text: str, case: Mapping[str, str]) -> str:
    return text.format_map({name: case.get(name) or "" for name in PLACEHOLDERS})


# --------------------------------------------------------------------------------------------
# The engine
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Say:
    """Speak (or play) a prompt."""

    text: str | None
    audio: str | None


@dataclass(frozen=True)
class Ask:
    """Wait for one key for `question_id` (after the preceding `Say` events)."""

    question_id: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class Record:
    """Record the citizen's voice for `question_id`, up to `max_seconds`."""

    question_id: str
    max_seconds: int


@dataclass(frozen=True)
class Answered:
    """Save this answer now: the key pressed, '0' for don't know."""

    question_id: str
    value: str


@dataclass(frozen=True)
class NoAnswer:
    """The question got no valid key in `MAX_TRIES` tries; the interview moves on."""

    question_id: str


@dataclass(frozen=True)
class Finished:
    """The interview is over; say goodbye and hang up."""

    outcome: Outcome


Event = Say | Ask | Record | Answered | NoAnswer | Finished


@dataclass
class FlowRun:
    """The state of one interview: where it stands and how many tries the question has had.

    It does no I/O: callers save each `Answered` event as it comes (and rebuild a run from the
    saved answers with `resume`).
    """

    flow: Flow
    case: Mapping[str, str]
    language: str
    position: int = 0
    tries: int = 0
    answered: dict[str, str] = field(default_factory=dict)
    skipped: set[str] = field(default_factory=set)
    outcome: Outcome | None = None
    recording: bool = False

    @classmethod
    def resume(
        cls,
        flow: Flow,
        case: Mapping[str, str],
        language: str,
        answers: Mapping[str, str],
        no_answer: set[str] | frozenset[str] = frozenset(),
    ) -> FlowRun:
        """A run that goes on after the saved answers (a dropped call, a retry, the hotline)."""
        run = cls(flow, case, language, answered=dict(answers), skipped=set(no_answer))
        run._settle()
        return run

    @property
    def current(self) -> Question | None:
        """The question being asked: the flow's, then the contact question when it is due
        (`asking_contact`); None once the interview is over."""
        if self.asking_contact:
            return self.flow.contact_consent
        if self.outcome is not None or self.position >= len(self.flow.questions):
            return None
        return self.flow.questions[self.position]

    @property
    def asking_contact(self) -> bool:
        """The questions are done (a complete) and the contact question is due: the flow has
        one, the answers raise a follow-up and it has not been answered or passed. The
        interview's `outcome` is already COMPLETE then, so a hang-up here leaves it a complete.
        """
        return (
            self.outcome is Outcome.COMPLETE
            and CONTACT_CONSENT not in self.answered
            and CONTACT_CONSENT not in self.skipped
            and self.flow.asks_contact(self.answered)
        )

    def start(self) -> list[Event]:
        """The opening events: 'welcome back' when resuming, then the current question. The
        contact question is asked without a welcome back: it only ever follows the last
        question in the same call (the turn after a recording); a later call finds the
        interview complete."""
        if self.asking_contact:
            return self._ask_current()
        if self.outcome is not None:
            return self._finish(self.outcome)
        events: list[Event] = []
        if self.answered or self.skipped:
            events.append(self._say(self.flow.messages["welcome_back"]))
        return events + self._ask_current()

    def press(self, key: str | None) -> list[Event]:
        """Handle one key (None or '' for silence) for the current question."""
        question = self.current
        if question is None or self.recording:
            return []
        key = (key or "").strip()[:1]
        if key == REPEAT:
            return self._ask_current()
        if self.asking_contact:
            # Optional, asked once: 1 is yes; any other key or silence is no.
            value = YES if key == YES else NO
            self.answered[CONTACT_CONSENT] = value
            return [Answered(CONTACT_CONSENT, value), *self._advance()]
        if question.type is QuestionType.RECORD:
            # Optional: '1' records a message; any other key or silence declines it.
            if key == "1":
                self.answered[question.id] = key
                self.recording = True
                return [
                    Answered(question.id, key),
                    self._say(self.flow.messages["record_start"]),
                    Record(question.id, question.max_seconds),
                ]
            self.skipped.add(question.id)
            events = self._advance()
            # When the interview goes on (the contact question, a later question), the
            # declined recording is saved as "no answer", so that the next turn resumes after it.
            return events if self.current is None else [NoAnswer(question.id), *events]
        if key and key in question.keys:
            self.answered[question.id] = key
            self.skipped.discard(question.id)
            return [Answered(question.id, key), *self._advance()]
        self.tries += 1
        if self.tries >= MAX_TRIES:
            if question.required:
                self.outcome = Outcome.NO_CONSENT
                return [NoAnswer(question.id), *self._finish(self.outcome)]
            self.skipped.add(question.id)
            return [NoAnswer(question.id), *self._advance()]
        hint = self.flow.messages["invalid" if key else "no_input"]
        return [self._say(hint), *self._ask_current()]

    def skip(self) -> list[Event]:
        """Leave the current question without an answer, as after the tries (an interviewer
        went past it, or the citizen had no comment); a required question cannot be skipped."""
        question = self.current
        if question is None or question.required:
            return []
        if self.asking_contact:  # not asked: the citizen's choice stays unknown
            self.skipped.add(CONTACT_CONSENT)
            return [NoAnswer(CONTACT_CONSENT), *self._advance()]
        self.recording = False
        self.skipped.add(question.id)
        self.answered.pop(question.id, None)
        return [NoAnswer(question.id), *self._advance()]

    def recorded(self) -> list[Event]:
        """The recording for the current `record` question has ended."""
        if self.current is None or not self.recording:
            return []
        self.recording = False
        return self._advance()

    def _advance(self) -> list[Event]:
        self.tries = 0
        self._settle()
        if self.outcome is not None and not self.asking_contact:
            return self._finish(self.outcome)
        return self._ask_current()

    def _settle(self) -> None:
        """Move past the questions answered or given up on, following their jumps and ends."""
        questions = self.flow.questions
        while self.position < len(questions):
            question = questions[self.position]
            if question.id in self.answered:
                option = question.option(self.answered[question.id])
                if option is not None and option.end is not None:
                    self.outcome = option.end
                    return
                if option is not None and option.next is not None:
                    self.position = self.flow.index(option.next)
                    continue
            elif question.id not in self.skipped:
                return
            self.position += 1
        self.outcome = Outcome.COMPLETE

    def _finish(self, outcome: Outcome) -> list[Event]:
        closing = (
            self.flow.closing if outcome is Outcome.COMPLETE else self.flow.messages["goodbye"]
        )
        return [self._say(closing), Finished(outcome)]

    def _ask_current(self) -> list[Event]:
        question = self.current
        if question is None:
            return []
        keys = (YES,) if self.asking_contact else question.keys
        return [self._say(question.prompt), Ask(question.id, keys)]

    def _say(self, prompt: Prompt) -> Say:
        text, audio = prompt.render(self.language, self.case)
        return Say(text, audio)


def classify_interview(flow: Flow, answers: Mapping[str, str], finished: Outcome | None) -> str:
    """'complete', 'refused', 'not_eligible', 'appointment', 'partial' or 'break_off'.

    Reaching the end is a complete, whatever was skipped; no consent is a break-off; asking
    for a person is an appointment (an interviewer calls back). An
    interview cut short is a partial when at least half of the core (scale and yes/no)
    questions have an answer — '0' counts, a question left without an answer does not — and a
    break-off otherwise.
    """
    if finished is Outcome.NO_CONSENT:
        return "break_off"
    if finished is Outcome.HANDOVER:
        return "appointment"
    if finished is not None:
        return finished.value
    core = flow.core_questions
    answered = sum(1 for q in core if q.id in answers)
    return "partial" if core and 2 * answered >= len(core) else "break_off"


def describe(event: Event) -> str:
    """One line of a readable transcript (`cati flows try`, golden transcripts)."""
    match event:
        case Say(text=text, audio=audio):
            return f"< {text}" if text is not None else f"< [audio] {audio}"
        case Ask(question_id=qid, keys=keys):
            return f"? {qid} [{' '.join(keys)} *]"
        case Record(question_id=qid, max_seconds=seconds):
            return f"~ recording {qid}, up to {seconds} s"
        case Answered(question_id=qid, value=value):
            return f"= {qid}: {value}"
        case NoAnswer(question_id=qid):
            return f"= {qid}: no answer"
        case Finished(outcome=outcome):
            return f"# {outcome}"
    raise TypeError(f"not a flow event: {event!r}")
