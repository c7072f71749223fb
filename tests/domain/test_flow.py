"""Flow documents: validation (file, path, reason) and the engine that runs them."""

from __future__ import annotations

import pytest

from cati.domain.flow import (
    Answered,
    Ask,
    Finished,
    FlowError,
    FlowRun,
    NoAnswer,
    Outcome,
    QuestionType,
    Record,
    Say,
    classify_interview,
    describe,
    fill_script,
    load_flow,
    missing_scripts,
)

SOURCE = "flows/demo.yaml"
CASE = {"office": "Bộ phận một cửa Đông Hà", "procedure": "Khai sinh", "returned_date": "18/11"}
AUDIO = "https://audio.example.vn/consent-en.mp3"


def both(name: str) -> dict[str, str]:
    """A prompt in both languages whose text says which language and which prompt it is."""
    return {"vi": f"VI {name}", "en": f"EN {name}"}


def document() -> dict:
    """A small valid flow, as `yaml.safe_load` gives it (option keys are ints); mutate freely.

    Core questions (scale, yes_no): staff, on_time, fee, overall. `channel` 2 jumps to overall.
    """
    return {
        "spec_version": 1,
        "id": "demo",
        "title": both("title"),
        "languages": ["vi", "en"],
        "questions": [
            {
                "id": "consent",
                "type": "choice",
                "required": True,
                "prompt": {"vi": "VI consent {procedure} at {office}", "en": "EN consent {office}"},
                "options": {
                    1: {"label": both("agree")},
                    2: {"label": both("decline"), "end": "refused", "opt_out": True},
                    3: {"label": both("not mine"), "end": "not_eligible"},
                },
            },
            {"id": "staff", "type": "scale", "prompt": both("staff")},
            {"id": "on_time", "type": "yes_no", "prompt": both("on_time by {returned_date}")},
            {
                "id": "channel",
                "type": "choice",
                "prompt": both("channel"),
                "options": {
                    1: {"label": both("in person")},
                    2: {"label": both("online"), "next": "overall"},
                },
            },
            {"id": "fee", "type": "yes_no", "prompt": both("fee")},
            {"id": "overall", "type": "scale", "prompt": both("overall")},
            {"id": "comment", "type": "record", "max_seconds": 30, "prompt": both("comment")},
        ],
        "messages": {
            "invalid": both("invalid"),
            "no_input": both("no_input"),
            "welcome_back": both("welcome_back"),
            "goodbye": both("goodbye"),
            "record_start": both("record_start"),
        },
        "closing": both("closing"),
    }


DELETE = object()


def edit(doc: dict, pointer: str, value: object) -> None:
    """Set (or, with DELETE, remove) the item at a /slash/path; int keys are found by digits."""
    *parents, last = pointer.strip("/").split("/")
    node = doc
    for part in parents:
        node = node[_key(node, part)]
    key = _key(node, last)
    if value is DELETE:
        del node[key]
    else:
        node[key] = value


def _key(node, part: str):
    if isinstance(node, list):
        return int(part)
    if part not in node and part.isdigit() and int(part) in node:
        return int(part)
    return part


def edited(changes: dict[str, object]) -> dict:
    doc = document()
    for pointer, value in changes.items():
        edit(doc, pointer, value)
    return doc


def flow(changes: dict[str, object] | None = None):
    return load_flow(edited(changes or {}), SOURCE)


def lines(events) -> list[str]:
    return [describe(e) for e in events]


def play(run: FlowRun, keys) -> list[str]:
    """Press each key ('rec' ends a recording); the transcript of the last key's events."""
    out: list[str] = []
    for key in keys:
        out = lines(run.recorded() if key == "rec" else run.press(key))
    return out


def started(keys=(), language="vi", case=CASE, changes=None) -> FlowRun:
    run = FlowRun(flow(changes), case, language)
    run.start()
    play(run, keys)
    return run


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def test_the_small_document_is_valid():
    loaded = flow()
    assert loaded.id == "demo"
    assert loaded.version == 1
    assert loaded.languages == ("vi", "en")
    assert loaded.title == {"vi": "VI title", "en": "EN title"}
    assert [(q.id, q.type) for q in loaded.questions] == [
        ("consent", QuestionType.CHOICE),
        ("staff", QuestionType.SCALE),
        ("on_time", QuestionType.YES_NO),
        ("channel", QuestionType.CHOICE),
        ("fee", QuestionType.YES_NO),
        ("overall", QuestionType.SCALE),
        ("comment", QuestionType.RECORD),
    ]
    assert [q.id for q in loaded.core_questions] == ["staff", "on_time", "fee", "overall"]
    consent = loaded.question("consent")
    assert [(o.key, o.end, o.next, o.opt_out) for o in consent.options] == [
        ("1", None, None, False),
        ("2", Outcome.REFUSED, None, True),
        ("3", Outcome.NOT_ELIGIBLE, None, False),
    ]
    assert loaded.question("channel").option("2").next == "overall"
    assert loaded.question("comment").max_seconds == 30


@pytest.mark.parametrize(
    ("question_id", "keys"),
    [
        ("consent", ("1", "2", "3")),  # required: no '0'
        ("staff", ("1", "2", "3", "4", "5", "6", "7", "8", "9", "0")),
        ("on_time", ("1", "2", "0")),
        ("channel", ("1", "2", "0")),
        ("comment", ("1",)),
    ],
    ids=["required-choice", "scale", "yes_no", "choice", "record"],
)
def test_keys_each_question_type_accepts(question_id, keys):
    assert flow().question(question_id).keys == keys


def test_a_flow_error_names_the_source_the_path_and_the_reason():
    with pytest.raises(FlowError) as info:
        flow({"/questions/1/prompt/en": DELETE})
    error = info.value
    assert (error.source, error.path) == (SOURCE, "/questions/1/prompt/en")
    assert error.reason == "missing: text, or {audio: URL}"
    assert str(error) == f"{SOURCE}: /questions/1/prompt/en: missing: text, or {{audio: URL}}"
    assert isinstance(error, ValueError)


@pytest.mark.parametrize("document", [None, [], "spec_version: 1"], ids=["none", "list", "text"])
def test_a_document_that_is_not_a_mapping_is_refused(document):
    with pytest.raises(FlowError) as info:
        load_flow(document, SOURCE)
    assert (info.value.path, info.value.reason) == ("/", "a flow must be a mapping")


INVALID = [
    # (id, changes, path, reason fragment)
    ("spec-version-missing", {"/spec_version": DELETE}, "/spec_version", "must be 1 (got None)"),
    ("spec-version-2", {"/spec_version": 2}, "/spec_version", "must be 1 (got 2)"),
    ("spec-version-string", {"/spec_version": "1"}, "/spec_version", "must be 1 (got '1')"),
    ("spec-version-bool", {"/spec_version": True}, "/spec_version", "must be 1 (got True)"),
    ("spec-version-float", {"/spec_version": 1.0}, "/spec_version", "must be 1 (got 1.0)"),
    ("id-missing", {"/id": DELETE}, "/id", "a lower-case identifier is required"),
    ("id-upper-case", {"/id": "Demo"}, "/id", "a lower-case identifier is required"),
    ("id-dash", {"/id": "m-score"}, "/id", "a lower-case identifier is required"),
    ("id-digit-first", {"/id": "1demo"}, "/id", "a lower-case identifier is required"),
    ("id-trailing-newline", {"/id": "demo\n"}, "/id", "a lower-case identifier is required"),
    ("id-too-long", {"/id": "d" * 65}, "/id", "a lower-case identifier is required"),
    ("languages-missing", {"/languages": DELETE}, "/languages", "distinct language codes"),
    ("languages-empty", {"/languages": []}, "/languages", "distinct language codes"),
    ("languages-string", {"/languages": "vi"}, "/languages", "distinct language codes"),
    ("languages-duplicated", {"/languages": ["vi", "vi"]}, "/languages", "distinct language"),
    ("languages-blank", {"/languages": ["vi", ""]}, "/languages", "distinct language codes"),
    ("title-missing", {"/title": DELETE}, "/title", "give the prompt in every language: vi, en"),
    ("title-missing-en", {"/title/en": DELETE}, "/title/en", "missing: text, or {audio: URL}"),
    (
        "prompt-missing",
        {"/questions/1/prompt": DELETE},
        "/questions/1/prompt",
        "give the prompt in every language: vi, en",
    ),
    (
        "prompt-plain-string",
        {"/questions/1/prompt": "Staff?"},
        "/questions/1/prompt",
        "give the prompt in every language: vi, en",
    ),
    (
        "prompt-missing-language",
        {"/questions/1/prompt/en": DELETE},
        "/questions/1/prompt/en",
        "missing: text, or {audio: URL}",
    ),
    (
        "prompt-blank",
        {"/questions/1/prompt/vi": "   "},
        "/questions/1/prompt/vi",
        "missing: text, or {audio: URL}",
    ),
    (
        "prompt-language-added-to-languages-only",
        {"/languages": ["vi", "en", "fr"]},
        "/title/fr",
        "missing: text, or {audio: URL}",
    ),
    (
        "prompt-undeclared-language",
        {"/questions/1/prompt/fr": "FR staff"},
        "/questions/1/prompt",
        "language(s) not declared in /languages: fr",
    ),
    (
        "prompt-non-string-language",  # YAML reads an `on:` key as True
        {"/messages/goodbye": {**both("goodbye"), True: "on"}},
        "/messages/goodbye",
        "language(s) not declared in /languages: True",
    ),
    (
        "placeholder-unknown",
        {"/questions/1/prompt/vi": "VI staff at {name}"},
        "/questions/1/prompt/vi",
        "unknown placeholder(s) ['name']; use ['office', 'procedure', 'returned_date']",
    ),
    (
        "placeholder-positional",
        {"/questions/1/prompt/en": "EN staff {}"},
        "/questions/1/prompt/en",
        "unknown placeholder(s) ['']",
    ),
    (
        "placeholder-attribute",
        {"/closing/en": "Thanks, {office.name}"},
        "/closing/en",
        "unknown placeholder(s) ['office.name']",
    ),
    (
        "placeholder-open-brace",
        {"/questions/1/prompt/vi": "VI staff {"},
        "/questions/1/prompt/vi",
        "bad placeholder syntax",
    ),
    (
        "placeholder-close-brace",
        {"/questions/1/prompt/vi": "VI staff }"},
        "/questions/1/prompt/vi",
        "bad placeholder syntax",
    ),
    (
        "audio-ftp",
        {"/questions/1/prompt/en": {"audio": "ftp://audio.example.vn/staff.mp3"}},
        "/questions/1/prompt/en/audio",
        "must be an http(s) URL",
    ),
    (
        "audio-relative-path",
        {"/questions/1/prompt/en": {"audio": "audio/staff.mp3"}},
        "/questions/1/prompt/en/audio",
        "must be an http(s) URL",
    ),
    (
        "audio-not-a-string",
        {"/questions/1/prompt/en": {"audio": None}},
        "/questions/1/prompt/en",
        "missing: text, or {audio: URL}",
    ),
    (
        "questions-missing",
        {"/questions": DELETE},
        "/questions",
        "a non-empty list of questions is required",
    ),
    ("questions-empty", {"/questions": []}, "/questions", "a non-empty list of questions"),
    ("question-not-mapping", {"/questions/1": "staff"}, "/questions/1", "must be a mapping"),
    (
        "question-id-missing",
        {"/questions/1/id": DELETE},
        "/questions/1/id",
        "a lower-case identifier is required",
    ),
    (
        "question-id-bad",
        {"/questions/1/id": "Staff Attitude"},
        "/questions/1/id",
        "a lower-case identifier is required",
    ),
    (
        "question-id-duplicate",
        {"/questions/2/id": "staff"},
        "/questions/2/id",
        "duplicate question id 'staff'",
    ),
    (
        "type-unknown",
        {"/questions/1/type": "text"},
        "/questions/1/type",
        "must be one of scale, yes_no, choice, record",
    ),
    (
        "type-missing",
        {"/questions/1/type": DELETE},
        "/questions/1/type",
        "must be one of scale, yes_no, choice, record",
    ),
    (
        "options-on-scale",
        {"/questions/1/options": {1: {"label": both("x")}}},
        "/questions/1/options",
        "only choice questions have options, not scale",
    ),
    (
        "options-on-record",
        {"/questions/6/options": {1: {"label": both("x")}}},
        "/questions/6/options",
        "only choice questions have options, not record",
    ),
    (
        "choice-without-options",
        {"/questions/3/options": DELETE},
        "/questions/3/options",
        "a choice question needs options keyed by 1-9",
    ),
    (
        "choice-empty-options",
        {"/questions/3/options": {}},
        "/questions/3/options",
        "a choice question needs options keyed by 1-9",
    ),
    (
        "choice-options-as-list",
        {"/questions/3/options": [both("in person"), both("online")]},
        "/questions/3/options",
        "a choice question needs options keyed by 1-9",
    ),
    (
        "option-key-0",
        {"/questions/3/options/0": {"label": both("x")}},
        "/questions/3/options/0",
        "option keys are single digits 1-9 (0 is don't know, * repeats)",
    ),
    (
        "option-key-star",
        {"/questions/3/options/*": {"label": both("x")}},
        "/questions/3/options/*",
        "option keys are single digits 1-9",
    ),
    (
        "option-key-10",
        {"/questions/3/options/10": {"label": both("x")}},
        "/questions/3/options/10",
        "option keys are single digits 1-9",
    ),
    (
        "option-key-duplicate",  # YAML keeps both `1:` and `"1":`
        {"/questions/3/options": {1: {"label": both("a")}, "1": {"label": both("b")}}},
        "/questions/3/options/1",
        "duplicate option key '1'",
    ),
    (
        "option-not-mapping",
        {"/questions/3/options/1": "in person"},
        "/questions/3/options/1",
        "an option must be a mapping with a label",
    ),
    (
        "option-label-missing",
        {"/questions/3/options/1/label": DELETE},
        "/questions/3/options/1/label",
        "give the prompt in every language",
    ),
    (
        "option-label-missing-language",
        {"/questions/3/options/1/label/en": DELETE},
        "/questions/3/options/1/label/en",
        "missing: text, or {audio: URL}",
    ),
    (
        "end-unknown",
        {"/questions/0/options/2/end": "declined"},
        "/questions/0/options/2/end",
        "must be refused, not_eligible, complete or handover",
    ),
    (
        "end-no-consent",  # only the engine decides that silence is not consent
        {"/questions/0/options/2/end": "no_consent"},
        "/questions/0/options/2/end",
        "must be refused, not_eligible, complete or handover",
    ),
    (
        "end-and-next",
        {"/questions/3/options/2/end": "complete"},
        "/questions/3/options/2",
        "an option either ends the interview or goes to a question",
    ),
    (
        "next-not-a-string",
        {"/questions/3/options/2/next": 5},
        "/questions/3/options/2/next",
        "must be a question id",
    ),
    (
        "next-missing-question",
        {"/questions/3/options/2/next": "nowhere"},
        "/questions/3/options/2/next",
        "no question 'nowhere'",
    ),
    (
        "next-backward",
        {"/questions/3/options/2/next": "staff"},
        "/questions/3/options/2/next",
        "jumps must go forward (a backward jump would loop)",
    ),
    (
        "next-itself",
        {"/questions/3/options/2/next": "channel"},
        "/questions/3/options/2/next",
        "jumps must go forward (a backward jump would loop)",
    ),
    (
        "opt-out-not-bool",
        {"/questions/0/options/2/opt_out": "yes"},
        "/questions/0/options/2/opt_out",
        "must be true or false",
    ),
    (
        "max-seconds-0",
        {"/questions/6/max_seconds": 0},
        "/questions/6/max_seconds",
        "a whole number of seconds from 1 to 300",
    ),
    (
        "max-seconds-301",
        {"/questions/6/max_seconds": 301},
        "/questions/6/max_seconds",
        "a whole number of seconds from 1 to 300",
    ),
    (
        "max-seconds-string",
        {"/questions/6/max_seconds": "60"},
        "/questions/6/max_seconds",
        "a whole number of seconds from 1 to 300",
    ),
    (
        "max-seconds-float",
        {"/questions/6/max_seconds": 30.5},
        "/questions/6/max_seconds",
        "a whole number of seconds from 1 to 300",
    ),
    (
        "max-seconds-bool",
        {"/questions/6/max_seconds": True},
        "/questions/6/max_seconds",
        "a whole number of seconds from 1 to 300",
    ),
    (
        "required-on-record",
        {"/questions/6/required": True},
        "/questions/6/required",
        "true or false (a recording cannot be required)",
    ),
    (
        "required-not-bool",
        {"/questions/1/required": "yes"},
        "/questions/1/required",
        "true or false",
    ),
    ("messages-missing", {"/messages": DELETE}, "/messages", "required: invalid, no_input"),
    ("messages-not-mapping", {"/messages": "x"}, "/messages", "required: invalid, no_input"),
    (
        "message-missing",
        {"/messages/welcome_back": DELETE},
        "/messages/welcome_back",
        "give the prompt in every language: vi, en",
    ),
    (
        "message-missing-language",
        {"/messages/no_input/vi": DELETE},
        "/messages/no_input/vi",
        "missing: text, or {audio: URL}",
    ),
    ("closing-missing", {"/closing": DELETE}, "/closing", "give the prompt in every language"),
    ("closing-missing-language", {"/closing/en": DELETE}, "/closing/en", "missing: text"),
    # A key the format does not know is refused, never ignored: a typo must not change the survey.
    ("unknown-top-level-key", {"/question": []}, "/question", "did you mean 'questions'?"),
    (
        "misspelt-required",
        {"/questions/0/requried": True},
        "/questions/0/requried",
        "unknown key; did you mean 'required'? known keys: id, type, prompt",
    ),
    (
        "misspelt-option-key",
        {"/questions/0/options/2/opt_uot": True},
        "/questions/0/options/2/opt_uot",
        "did you mean 'opt_out'?",
    ),
    (
        "unknown-message",
        {"/messages/good_bye": {"vi": "Chào", "en": "Bye"}},
        "/messages/good_bye",
        "did you mean 'goodbye'?",
    ),
    (
        "unknown-audio-prompt-key",
        {"/closing/vi": {"audio": "https://example.org/a.mp3", "txt": "Chào"}},
        "/closing/vi/txt",
        "did you mean 'text'?",
    ),
    ("unknown-key-no-hint", {"/colour": "blue"}, "/colour", "unknown key; known keys: spec_v"),
]


@pytest.mark.parametrize(
    ("changes", "path", "reason"),
    [case[1:] for case in INVALID],
    ids=[case[0] for case in INVALID],
)
def test_an_invalid_document_is_refused_with_path_and_reason(changes, path, reason):
    with pytest.raises(FlowError) as info:
        load_flow(edited(changes), SOURCE)
    assert info.value.source == SOURCE
    assert info.value.path == path
    assert reason in info.value.reason


# consent is required: '0' is refused and no answer ends the interview, so the question after
# it is reached only through an option that neither ends nor jumps past it
UNREACHABLE = [
    ("jumps-past", {"/questions/0/options/1/next": "on_time"}, 1, "staff"),
    ("all-end", {"/questions/0/options/1/end": "complete"}, 1, "staff"),
    ("first-of-two-named", {"/questions/0/options/1/next": "channel"}, 1, "staff"),
    (
        "behind-a-required-question",
        {
            "/questions/2/required": True,
            "/questions/3/required": True,
            "/questions/3/options/1/next": "overall",
        },
        4,
        "fee",
    ),
]


@pytest.mark.parametrize(
    ("changes", "index", "question_id"),
    [case[1:] for case in UNREACHABLE],
    ids=[case[0] for case in UNREACHABLE],
)
def test_an_unreachable_question_is_refused(changes, index, question_id):
    with pytest.raises(FlowError) as info:
        flow(changes)
    assert info.value.path == f"/questions/{index}"
    assert info.value.reason == f"question {question_id!r} can never be reached"


def test_dont_know_on_an_optional_branching_question_reaches_the_next_question():
    # every option of channel jumps past fee, yet '0' or no answer goes on to fee
    changes = {"/questions/3/options/1/next": "overall"}
    run = started(["1", "5", "1"], changes=changes)
    assert play(run, ["1"]) == ["= channel: 1", *asks("overall")]
    run = started(["1", "5", "1"], changes=changes)
    assert play(run, ["0"]) == ["= channel: 0", *asks("fee")]
    run = started(["1", "5", "1", "", "", ""], changes=changes)
    assert run.current.id == "fee"


VALID = [
    ("option-keys-as-strings", {"/questions/3/options": {"1": {"label": both("a")}}}),
    ("literal-braces", {"/questions/1/prompt/en": "Press {{1}} at {office} by {returned_date}"}),
    ("audio-https", {"/questions/1/prompt/en": {"audio": AUDIO}}),
    ("audio-http", {"/questions/1/prompt/vi": {"audio": "http://audio.local/staff.mp3"}}),
    ("audio-with-text", {"/questions/1/prompt/en": {"audio": AUDIO, "text": "EN staff"}}),
    ("max-seconds-1", {"/questions/6/max_seconds": 1}),
    ("max-seconds-300", {"/questions/6/max_seconds": 300}),
    ("required-scale", {"/questions/1/required": True}),
    ("option-ends-complete", {"/questions/3/options/2": {"label": both("x"), "end": "complete"}}),
    ("one-language", {"/languages": ["vi"]}),
    # on a question that is not required, '0' and no answer go on to the next question
    ("optional-choice-jumps-past-next", {"/questions/3/options/1/next": "overall"}),
    ("jump-to-the-next-question", {"/questions/3/options/1/next": "fee"}),
    ("jump-to-the-last-question", {"/questions/3/options/2/next": "comment"}),
]


@pytest.mark.parametrize("changes", [c for _, c in VALID], ids=[i for i, _ in VALID])
def test_a_valid_variation_loads(changes):
    doc = edited(changes)
    if doc["languages"] == ["vi"]:
        doc = _only_vi(doc)
    assert load_flow(doc, SOURCE).id == "demo"


def _only_vi(node):
    if isinstance(node, dict):
        return {k: _only_vi(v) for k, v in node.items() if k != "en"}
    if isinstance(node, list):
        return [_only_vi(v) for v in node]
    return node


# --------------------------------------------------------------------------------------------
# The engine
# --------------------------------------------------------------------------------------------

ASK = {
    "consent": "? consent [1 2 3 *]",
    "staff": "? staff [1 2 3 4 5 6 7 8 9 0 *]",
    "on_time": "? on_time [1 2 0 *]",
    "channel": "? channel [1 2 0 *]",
    "fee": "? fee [1 2 0 *]",
    "overall": "? overall [1 2 3 4 5 6 7 8 9 0 *]",
    "comment": "? comment [1 *]",
}
SAY = {
    "consent": "< VI consent Khai sinh at Bộ phận một cửa Đông Hà",
    "staff": "< VI staff",
    "on_time": "< VI on_time by 18/11",
    "channel": "< VI channel",
    "fee": "< VI fee",
    "overall": "< VI overall",
    "comment": "< VI comment",
}


def asks(question_id: str) -> list[str]:
    return [SAY[question_id], ASK[question_id]]


CLOSING = ["< VI closing", "# complete"]


def test_start_says_the_first_prompt_with_placeholders_filled_and_asks_it():
    run = FlowRun(flow(), CASE, "vi")
    assert run.start() == [
        Say("VI consent Khai sinh at Bộ phận một cửa Đông Hà", None),
        Ask("consent", ("1", "2", "3")),
    ]
    assert (run.current.id, run.position, run.outcome) == ("consent", 0, None)


@pytest.mark.parametrize(
    ("case", "said"),
    [
        (CASE, "VI consent Khai sinh at Bộ phận một cửa Đông Hà"),
        ({"office": "UBND phường 1"}, "VI consent  at UBND phường 1"),
        ({"office": None, "procedure": "Hộ tịch"}, "VI consent Hộ tịch at "),
        ({}, "VI consent  at "),
    ],
    ids=["full-case", "missing-procedure", "none-office", "empty-case"],
)
def test_placeholders_are_filled_from_the_case_and_missing_ones_are_empty(case, said):
    assert FlowRun(flow(), case, "vi").start()[0] == Say(said, None)


def test_placeholders_in_later_prompts_and_messages_are_filled_too():
    changes = {"/messages/invalid/vi": "VI {office}: invalid"}
    run = started(["1", "5"], changes=changes)
    assert play(run, ["#"]) == ["< VI Bộ phận một cửa Đông Hà: invalid", *asks("on_time")]


@pytest.mark.parametrize(
    ("keys", "transcript", "answered", "skipped"),
    [
        (["5"], ["= staff: 5", *asks("on_time")], {"staff": "5"}, set()),
        (["9"], ["= staff: 9", *asks("on_time")], {"staff": "9"}, set()),
        (["0"], ["= staff: 0", *asks("on_time")], {"staff": "0"}, set()),
        ([" 7 "], ["= staff: 7", *asks("on_time")], {"staff": "7"}, set()),
        (["*"], asks("staff"), {}, set()),
        (["#"], ["< VI invalid", *asks("staff")], {}, set()),
        (["a"], ["< VI invalid", *asks("staff")], {}, set()),
        ([""], ["< VI no_input", *asks("staff")], {}, set()),
        ([None], ["< VI no_input", *asks("staff")], {}, set()),
        (["#", "", "x"], ["= staff: no answer", *asks("on_time")], {}, {"staff"}),
        (["", "", ""], ["= staff: no answer", *asks("on_time")], {}, {"staff"}),
        (["#", "", "3"], ["= staff: 3", *asks("on_time")], {"staff": "3"}, set()),
        (["#", "*", ""], ["< VI no_input", *asks("staff")], {}, set()),  # '*' is not a try
        (["*", "*", "*", "4"], ["= staff: 4", *asks("on_time")], {"staff": "4"}, set()),
        # a new question starts with fresh tries
        (["#", "", "7", "#", ""], ["< VI no_input", *asks("on_time")], {"staff": "7"}, set()),
        (["8", "1"], ["= on_time: 1", *asks("channel")], {"staff": "8", "on_time": "1"}, set()),
        (["8", "3"], ["< VI invalid", *asks("on_time")], {"staff": "8"}, set()),
        (["8", "0"], ["= on_time: 0", *asks("channel")], {"staff": "8", "on_time": "0"}, set()),
        (
            ["", "", "", "", "", ""],
            ["= on_time: no answer", *asks("channel")],
            {},
            {"staff", "on_time"},
        ),
    ],
    ids=[
        "scale-valid",
        "scale-9",
        "dont-know",
        "key-with-spaces",
        "star-repeats",
        "invalid-hint",
        "letter-invalid",
        "silence-hint",
        "none-is-silence",
        "three-tries-no-answer",
        "three-silences-no-answer",
        "valid-on-third-try",
        "star-between-tries",
        "stars-never-give-up",
        "tries-reset-per-question",
        "yes",
        "yes-no-rejects-3",
        "yes-no-dont-know",
        "two-no-answers",
    ],
)
def test_keys_on_a_question(keys, transcript, answered, skipped):
    run = started(["1"])
    assert play(run, keys) == transcript
    assert run.answered == {"consent": "1", **answered}
    assert run.skipped == skipped
    assert run.outcome is None


def test_answers_and_no_answers_are_events_with_the_question_id():
    run = started(["1"])
    assert run.press("6")[0] == Answered("staff", "6")
    assert run.press("") == [
        Say("VI no_input", None),
        Say("VI on_time by 18/11", None),
        Ask("on_time", ("1", "2", "0")),
    ]
    run.press("#")
    assert run.press("")[0] == NoAnswer("on_time")


@pytest.mark.parametrize(
    ("keys", "transcript", "outcome"),
    [
        (["2"], ["= consent: 2", "< VI goodbye", "# refused"], Outcome.REFUSED),
        (["3"], ["= consent: 3", "< VI goodbye", "# not_eligible"], Outcome.NOT_ELIGIBLE),
        (["0"], ["< VI invalid", *asks("consent")], None),  # no don't know on consent
        (["4"], ["< VI invalid", *asks("consent")], None),
        ([""], ["< VI no_input", *asks("consent")], None),
        (["*"], asks("consent"), None),
        (
            ["", "", ""],
            ["= consent: no answer", "< VI goodbye", "# no_consent"],
            Outcome.NO_CONSENT,
        ),
        (
            ["0", "0", "0"],
            ["= consent: no answer", "< VI goodbye", "# no_consent"],
            Outcome.NO_CONSENT,
        ),
        (
            ["0", "#", ""],
            ["= consent: no answer", "< VI goodbye", "# no_consent"],
            Outcome.NO_CONSENT,
        ),
        (["", "", "1"], ["= consent: 1", *asks("staff")], None),
    ],
    ids=[
        "refuses",
        "not-eligible",
        "zero-not-accepted",
        "key-not-an-option",
        "silence",
        "star-repeats",
        "silence-is-not-consent",
        "zeros-are-not-consent",
        "mixed-tries",
        "agrees-on-third-try",
    ],
)
def test_the_required_consent_question(keys, transcript, outcome):
    run = started()
    assert play(run, keys) == transcript
    assert run.outcome is outcome
    assert "consent" not in run.skipped
    if outcome is not None:
        assert run.current is None
        assert run.press("1") == []
        assert run.recorded() == []


def test_refusal_carries_the_opt_out():
    run = started(["2"])
    option = run.flow.question("consent").option(run.answered["consent"])
    assert (option.end, option.opt_out) == (Outcome.REFUSED, True)
    assert run.flow.question("consent").option("3").opt_out is False


@pytest.mark.parametrize(
    ("keys", "transcript", "answered", "skipped"),
    [
        (["1"], ["= channel: 1", *asks("fee")], {"channel": "1"}, set()),
        (["2"], ["= channel: 2", *asks("overall")], {"channel": "2"}, set()),
        (["0"], ["= channel: 0", *asks("fee")], {"channel": "0"}, set()),
        (["3"], ["< VI invalid", *asks("channel")], {}, set()),
        (["", "", ""], ["= channel: no answer", *asks("fee")], {}, {"channel"}),
        (["2", "7"], ["= overall: 7", *asks("comment")], {"channel": "2", "overall": "7"}, set()),
    ],
    ids=["falls-through", "jumps", "dont-know-falls-through", "invalid", "no-answer", "after"],
)
def test_choice_options_jump_with_next(keys, transcript, answered, skipped):
    run = started(["1", "5", "1"])
    assert play(run, keys) == transcript
    assert run.answered == {"consent": "1", "staff": "5", "on_time": "1", **answered}
    assert run.skipped == skipped
    assert "fee" not in run.answered


def test_an_option_that_ends_complete_says_the_closing():
    changes = {"/questions/3/options/2": {"label": both("x"), "end": "complete"}}
    run = started(["1", "5", "1"], changes=changes)
    assert play(run, ["2"]) == ["= channel: 2", *CLOSING]
    assert run.outcome is Outcome.COMPLETE


TO_COMMENT = ["1", "5", "1", "2", "7"]


def test_pressing_1_on_a_record_question_records_then_closes():
    run = started(TO_COMMENT)
    assert run.current.id == "comment"
    assert run.press("1") == [
        Answered("comment", "1"),
        Say("VI record_start", None),
        Record("comment", 30),
    ]
    assert run.recording
    assert run.press("5") == []  # keys during the recording are ignored
    assert run.press("*") == []
    assert run.recorded() == [Say("VI closing", None), Finished(Outcome.COMPLETE)]
    assert (run.recording, run.outcome, run.answered["comment"]) == (False, Outcome.COMPLETE, "1")
    assert run.recorded() == []


@pytest.mark.parametrize("key", ["2", "9", "0", "#", "", None], ids=repr)
def test_any_other_key_or_silence_declines_the_recording_and_completes(key):
    run = started(TO_COMMENT)
    assert play(run, [key]) == CLOSING
    assert "comment" not in run.answered
    assert "comment" in run.skipped
    assert run.outcome is Outcome.COMPLETE


def test_star_repeats_the_record_question_and_recorded_before_recording_does_nothing():
    run = started(TO_COMMENT)
    assert run.recorded() == []
    assert play(run, ["*"]) == asks("comment")
    assert run.outcome is None


def test_reaching_the_end_with_dont_knows_and_no_answers_is_complete():
    run = started(["1", "0", "", "", "", "1", "0", "0"])
    assert play(run, [""]) == CLOSING
    assert run.outcome is Outcome.COMPLETE
    assert run.skipped == {"on_time", "comment"}
    assert classify_interview(run.flow, run.answered, run.outcome) == "complete"


@pytest.mark.parametrize(
    "finished_by",
    [["2"], ["3"], ["", "", ""], [*TO_COMMENT, "5"], [*TO_COMMENT, "1", "rec"]],
    ids=["refused", "not-eligible", "no-consent", "complete", "recorded"],
)
def test_press_after_the_end_returns_nothing(finished_by):
    run = started(finished_by)
    assert run.outcome is not None
    before = (dict(run.answered), set(run.skipped), run.outcome)
    assert run.press("1") == []
    assert run.press("") == []
    assert run.press("*") == []
    assert run.start()[-1] == Finished(run.outcome)
    assert (dict(run.answered), set(run.skipped), run.outcome) == before


def test_audio_prompts_are_played_in_their_language_and_text_is_spoken_in_the_other():
    changes = {"/questions/0/prompt/en": {"audio": AUDIO, "text": "EN consent"}}
    assert FlowRun(flow(changes), CASE, "en").start() == [
        Say(None, AUDIO),
        Ask("consent", ("1", "2", "3")),
    ]
    assert FlowRun(flow(changes), CASE, "vi").start()[0] == Say(
        "VI consent Khai sinh at Bộ phận một cửa Đông Hà", None
    )
    assert describe(Say(None, AUDIO)) == f"< [audio] {AUDIO}"


def test_audio_messages_are_played_too():
    changes = {"/messages/goodbye/vi": {"audio": "https://audio.example.vn/bye.mp3"}}
    run = started(changes=changes)
    assert run.press("2")[1:] == [
        Say(None, "https://audio.example.vn/bye.mp3"),
        Finished(Outcome.REFUSED),
    ]


def test_english_runs_every_prompt_and_message_in_english():
    run = FlowRun(flow(), CASE, "en")
    assert lines(run.start()) == ["< EN consent Bộ phận một cửa Đông Hà", ASK["consent"]]
    assert play(run, ["1"]) == ["= consent: 1", "< EN staff", ASK["staff"]]
    assert play(run, ["#"]) == ["< EN invalid", "< EN staff", ASK["staff"]]
    assert play(run, [""]) == ["< EN no_input", "< EN staff", ASK["staff"]]
    assert play(run, ["5", "1", "1", "1", "9", "1"]) == [
        "= comment: 1",
        "< EN record_start",
        "~ recording comment, up to 30 s",
    ]
    assert play(run, ["rec"]) == ["< EN closing", "# complete"]


# --------------------------------------------------------------------------------------------
# Resuming
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "no_answer", "opening"),
    [
        ({"consent": "1"}, set(), ["< VI welcome_back", *asks("staff")]),
        ({"consent": "1", "staff": "5"}, set(), ["< VI welcome_back", *asks("on_time")]),
        ({"consent": "1", "staff": "0"}, set(), ["< VI welcome_back", *asks("on_time")]),
        ({"consent": "1"}, {"staff"}, ["< VI welcome_back", *asks("on_time")]),
        ({"consent": "1"}, {"staff", "on_time"}, ["< VI welcome_back", *asks("channel")]),
        # a gap: the first question neither answered nor given up comes first
        ({"consent": "1", "on_time": "1"}, set(), ["< VI welcome_back", *asks("staff")]),
        (
            {"consent": "1", "staff": "5", "on_time": "2", "channel": "2"},
            set(),
            ["< VI welcome_back", *asks("overall")],
        ),  # the jump is followed: fee was never asked
        (
            {"consent": "1", "staff": "5", "on_time": "2", "channel": "1"},
            set(),
            ["< VI welcome_back", *asks("fee")],
        ),
        (
            {"consent": "1", "staff": "5", "on_time": "2", "channel": "2", "overall": "8"},
            set(),
            ["< VI welcome_back", *asks("comment")],
        ),
        ({"consent": "2"}, set(), ["< VI goodbye", "# refused"]),
        ({"consent": "3", "staff": "9"}, set(), ["< VI goodbye", "# not_eligible"]),
        (
            {"consent": "1", "staff": "5", "on_time": "2", "channel": "2", "overall": "8"},
            {"comment"},
            CLOSING,
        ),
        ({}, set(), asks("consent")),
    ],
    ids=[
        "after-consent",
        "after-staff",
        "dont-know-is-an-answer",
        "after-given-up",
        "after-two-given-up",
        "first-gap",
        "follows-jump",
        "no-jump",
        "at-record",
        "refused",
        "not-eligible",
        "all-done",
        "nothing-saved",
    ],
)
def test_resume_continues_at_the_first_question_neither_answered_nor_given_up(
    answers, no_answer, opening
):
    run = FlowRun.resume(flow(), CASE, "vi", answers, no_answer)
    assert lines(run.start()) == opening
    assert run.answered == answers
    assert run.skipped == no_answer


def test_a_resumed_run_whose_consent_was_refused_finishes_refused_at_once():
    run = FlowRun.resume(flow(), CASE, "vi", {"consent": "2"})
    assert run.outcome is Outcome.REFUSED
    assert run.current is None
    assert run.start() == [Say("VI goodbye", None), Finished(Outcome.REFUSED)]
    assert run.press("1") == []
    assert classify_interview(run.flow, run.answered, run.outcome) == "refused"


def test_a_resumed_run_goes_on_like_a_fresh_one_and_keeps_the_saved_answers():
    saved = {"consent": "1", "staff": "4"}
    run = FlowRun.resume(flow(), CASE, "en", saved, {"on_time"})
    assert lines(run.start())[0] == "< EN welcome_back"
    assert play(run, ["#", "#", "#"]) == ["= channel: no answer", "< EN fee", ASK["fee"]]
    assert play(run, ["1", "9", "0"]) == ["< EN closing", "# complete"]
    assert run.answered == {**saved, "fee": "1", "overall": "9"}
    assert run.skipped == {"on_time", "channel", "comment"}
    assert saved == {"consent": "1", "staff": "4"}  # the caller's mapping is not changed


# --------------------------------------------------------------------------------------------
# Classifying an interview
# --------------------------------------------------------------------------------------------

ALL_CORE = {"staff": "5", "on_time": "1", "fee": "2", "overall": "9"}


@pytest.mark.parametrize(
    ("answers", "finished", "expected"),
    [
        ({"consent": "1", **ALL_CORE, "comment": "1"}, Outcome.COMPLETE, "complete"),
        ({"consent": "1"}, Outcome.COMPLETE, "complete"),  # the end reached, all no answers
        ({"consent": "2"}, Outcome.REFUSED, "refused"),
        ({"consent": "3"}, Outcome.NOT_ELIGIBLE, "not_eligible"),
        ({}, Outcome.NO_CONSENT, "break_off"),
        ({"consent": "1", **ALL_CORE}, Outcome.NO_CONSENT, "break_off"),
        ({"consent": "1", **ALL_CORE}, None, "partial"),
        ({"consent": "1", "staff": "5", "on_time": "1", "fee": "2"}, None, "partial"),
        ({"consent": "1", "staff": "5", "overall": "1"}, None, "partial"),  # exactly half
        ({"consent": "1", "staff": "5"}, None, "break_off"),  # below half
        ({"staff": "0", "fee": "0"}, None, "partial"),  # '0' counts as an answer
        ({"consent": "1", "channel": "1", "comment": "1", "staff": "3"}, None, "break_off"),
        ({"consent": "1", "other": "1", "another": "2", "staff": "3"}, None, "break_off"),
        ({}, None, "break_off"),
    ],
    ids=[
        "complete",
        "complete-with-no-answers",
        "refused",
        "not-eligible",
        "no-consent",
        "no-consent-is-never-partial",
        "cut-short-all-core",
        "cut-short-three-quarters",
        "partial-at-exactly-half",
        "break-off-below-half",
        "dont-know-counts",
        "non-core-answers-do-not-count",
        "unknown-ids-do-not-count",
        "nothing",
    ],
)
def test_classify_interview(answers, finished, expected):
    assert classify_interview(flow(), answers, finished) == expected


def test_a_question_left_without_an_answer_does_not_count_towards_a_partial():
    run = started(["1", "5", "", "", ""])
    assert run.skipped == {"on_time"}
    assert classify_interview(run.flow, run.answered, run.outcome) == "break_off"
    play(run, ["1", "1"])
    assert classify_interview(run.flow, run.answered, run.outcome) == "partial"


@pytest.mark.parametrize(
    ("event", "line"),
    [
        (Say("Xin chào", None), "< Xin chào"),
        (Say(None, AUDIO), f"< [audio] {AUDIO}"),
        (Ask("on_time", ("1", "2", "0")), "? on_time [1 2 0 *]"),
        (Record("comment", 60), "~ recording comment, up to 60 s"),
        (Answered("staff", "0"), "= staff: 0"),
        (NoAnswer("staff"), "= staff: no answer"),
        (Finished(Outcome.NO_CONSENT), "# no_consent"),
    ],
    ids=["say", "audio", "ask", "record", "answered", "no-answer", "finished"],
)
def test_describe(event, line):
    assert describe(event) == line


def test_describe_refuses_what_is_not_an_event():
    with pytest.raises(TypeError):
        describe("= staff: 5")


# --------------------------------------------------------------------------------------------
# Words for people: labels, interviewer scripts, scale ends (the console; the IVR ignores them)
# --------------------------------------------------------------------------------------------

SCRIPTED = {
    "/script": {"opening": both("hello {interviewer} {office}"), "closing": both("thanks")},
    "/questions/0/script": both("consent?"),
    "/questions/0/label": both("Consent"),
    "/questions/0/options/2/script": both("no thanks"),
    "/questions/1/script": both("staff 1 to 9?"),
    "/questions/1/low": both("very bad"),
    "/questions/1/high": both("very good"),
}

SCRIPT_VALID = [
    ("none-at-all", {}),
    ("everything", SCRIPTED),
    ("opening-only", {"/script": {"opening": both("hello")}}),
    ("empty-script-mapping", {"/script": {}}),
    ("label-on-a-record", {"/questions/6/label": both("Comment")}),
    ("script-placeholders", {"/questions/1/script": both("{procedure} {interviewer}")}),
]


@pytest.mark.parametrize("changes", [c for _, c in SCRIPT_VALID], ids=[i for i, _ in SCRIPT_VALID])
def test_interviewer_words_are_optional_and_load(changes):
    assert flow(changes).id == "demo"


SCRIPT_INVALID = [
    ("script-not-a-mapping", {"/script": "hi"}, "/script", "a mapping with the interviewer"),
    ("script-unknown-key", {"/script": {"opening": both("a"), "closng": both("b")}},
     "/script/closng", "did you mean 'closing'?"),
    ("opening-missing-language", {"/script": {"opening": {"vi": "Chào"}}},
     "/script/opening/en", "missing: the text in this language"),
    ("opening-blank", {"/script": {"opening": {"vi": " ", "en": "Hi"}}},
     "/script/opening/vi", "missing: the text"),
    ("opening-unknown-language", {"/script": {"opening": {**both("a"), "fr": "Salut"}}},
     "/script/opening", "language(s) not declared in /languages: fr"),
    ("question-script-not-a-mapping", {"/questions/1/script": "Staff?"},
     "/questions/1/script", "give the text in every language: vi, en"),
    ("question-script-unknown-placeholder", {"/questions/1/script": both("{name}")},
     "/questions/1/script/vi", "unknown placeholder(s) ['name']"),
    ("interviewer-not-in-an-ivr-prompt", {"/questions/1/prompt": both("{interviewer}")},
     "/questions/1/prompt/vi", "unknown placeholder(s) ['interviewer']"),
    ("interviewer-not-in-a-label", {"/questions/1/label": both("{interviewer}")},
     "/questions/1/label/vi", "unknown placeholder(s) ['interviewer']"),
    ("ends-on-a-yes-no", {"/questions/2/low": both("no")},
     "/questions/2/low", "only scale questions have end labels, not yes_no"),
    ("option-script-missing-language", {"/questions/0/options/2/script": {"vi": "Không"}},
     "/questions/0/options/2/script/en", "missing: the text in this language"),
    ("misspelt-script", {"/questions/1/scirpt": both("x")},
     "/questions/1/scirpt", "did you mean 'script'?"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "path", "reason"),
    [case[1:] for case in SCRIPT_INVALID],
    ids=[case[0] for case in SCRIPT_INVALID],
)
def test_bad_interviewer_words_are_refused_with_path_and_reason(changes, path, reason):
    with pytest.raises(FlowError) as info:
        flow(changes)
    assert (info.value.path, reason in info.value.reason) == (path, True), info.value.reason


@pytest.mark.parametrize(
    ("changes", "missing"),
    [
        ({}, ["/script/opening", "/script/closing"]
         + [f"/questions/{i}/script" for i in range(7)]),
        ({**SCRIPTED, **{f"/questions/{i}/script": both("q") for i in range(2, 7)}}, []),
        ({"/script": {"closing": both("bye")}, **{f"/questions/{i}/script": both("q")
                                                    for i in range(7) if i != 4}},
         ["/script/opening", "/questions/4/script"]),
    ],
    ids=["none", "all", "some"],
)  # fmt: skip
def test_missing_scripts_names_where_the_console_falls_back_to_the_prompt(changes, missing):
    assert missing_scripts(flow(changes)) == missing


def test_script_words_are_kept_per_language_and_filled_with_the_interviewer():
    demo = flow(SCRIPTED)
    staff = demo.question("staff")
    assert (staff.script["en"], staff.low["vi"], staff.high["en"]) == (
        "EN staff 1 to 9?", "VI very bad", "EN very good")  # fmt: skip
    assert demo.question("consent").option("2").script == both("no thanks")
    assert demo.question("consent").option("1").script is None
    assert demo.question("on_time").label is None
    case = {**CASE, "interviewer": "Lan"}
    assert fill_script(demo.opening_script["vi"], case) == "VI hello Lan Bộ phận một cửa Đông Hà"
    assert fill_script("{interviewer}", CASE) == ""  # a missing name is left empty


def test_the_ivr_engine_ignores_the_scripts():
    plain, scripted = FlowRun(flow(), CASE, "vi"), FlowRun(flow(SCRIPTED), CASE, "vi")
    assert plain.start() == scripted.start()
    assert plain.press("1") == scripted.press("1")


def test_the_shipped_flows_have_scripts_for_people_without_keypad_words():
    from pathlib import Path

    from cati.services.flows import load_flows

    for shipped in load_flows(Path(__file__).parents[2] / "call_flows").values():
        assert missing_scripts(shipped) == []
        for question in shipped.questions:
            for words in (question.script, shipped.opening_script, shipped.closing_script):
                assert "bấm" not in words["vi"].lower() and "press" not in words["en"].lower()
            assert question.label is not None


@pytest.mark.parametrize(
    ("keys", "skips", "current", "skipped", "outcome"),
    [
        (["1"], 1, "on_time", {"staff"}, None),
        (["1", "5", "1", "1", "2"], 2, None, {"overall", "comment"}, Outcome.COMPLETE),
        ([], 1, "consent", set(), None),  # consent is required: nothing happens
        (["2"], 1, None, set(), Outcome.REFUSED),  # after the end: nothing happens
    ],
    ids=["optional", "to-the-end", "required", "finished"],
)
def test_an_interviewer_can_skip_an_optional_question(keys, skips, current, skipped, outcome):
    run = started(keys)
    for _ in range(skips):
        run.skip()
    assert (run.current and run.current.id, run.skipped, run.outcome) == (
        current, skipped, outcome)  # fmt: skip


# --------------------------------------------------------------------------------------------
# satisfied_from: the lowest satisfied score of a scale question
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("score", [1, 7, 9])
def test_a_scale_question_declares_its_lowest_satisfied_score(score):
    loaded = flow({"/questions/1/satisfied_from": score})
    assert loaded.question("staff").satisfied_from == score
    assert loaded.question("overall").satisfied_from is None


@pytest.mark.parametrize(
    ("changes", "path", "reason"),
    [
        ({"/questions/1/satisfied_from": 0}, "/questions/1/satisfied_from", "1 to 9 (got 0)"),
        ({"/questions/1/satisfied_from": 10}, "/questions/1/satisfied_from", "1 to 9 (got 10)"),
        ({"/questions/1/satisfied_from": "7"}, "/questions/1/satisfied_from", "got '7'"),
        ({"/questions/1/satisfied_from": True}, "/questions/1/satisfied_from", "got True"),
        ({"/questions/2/satisfied_from": 1}, "/questions/2/satisfied_from", "not yes_no"),
        ({"/questions/1/satisfied_form": 7}, "/questions/1/satisfied_form", "'satisfied_from'"),
    ],
    ids=["zero", "past-the-scale", "text", "bool", "yes-no", "misspelt"],
)
def test_satisfied_from_outside_the_scale_is_refused(changes, path, reason):
    with pytest.raises(FlowError) as info:
        flow(changes)
    assert info.value.path == path and reason in info.value.reason
