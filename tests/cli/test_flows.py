"""`cati flows check [PATH…]` and `cati flows try NAME`, run in-process."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import event

from cati.cli import main as cati_main
from cati.runtime import Runtime
from tests.domain.test_flow import document, edited

FLOWS = "call_flows"


def write_yaml(folder, name: str, doc) -> str:
    path = folder / name
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return str(path)


def output_lines(result) -> list[str]:
    return result.stdout.splitlines()


@pytest.fixture
def cli_in(settings, session_factory):
    """Run `cati …` with the flows folder set to `folder`."""

    def invoke(folder, *args: str, input: str | None = None):
        runtime = Runtime(replace(settings, flows_dir=folder), session_factory)
        return CliRunner().invoke(
            cati_main, list(args), obj=runtime, input=input, catch_exceptions=False
        )

    return invoke


# --------------------------------------------------------------------------------------------
# flows check
# --------------------------------------------------------------------------------------------


def test_check_without_paths_validates_every_shipped_flow(cli, runtime):
    result = cli("flows", "check")
    assert result.exit_code == 0, result.output
    folder = runtime.settings.flows_dir
    assert output_lines(result) == [
        f"ok: {folder / 'mscore.yaml'} (mscore, 8 questions, languages vi, en)",
        f"ok: {folder / 'sipas.yaml'} (sipas, 6 questions, languages vi, en)",
    ]
    assert result.stderr == ""


def broken_prompt(doc):
    del doc["questions"][1]["prompt"]["en"]
    return doc


BROKEN = [
    # (id, file name, content, path, reason)
    (
        "missing-language",
        "demo.yaml",
        lambda: yaml.safe_dump(broken_prompt(document())),
        "/questions/1/prompt/en",
        "missing: text, or {audio: URL}",
    ),
    (
        "unknown-type",
        "demo.yaml",
        lambda: yaml.safe_dump(edited({"/questions/2/type": "yesno"})),
        "/questions/2/type",
        "must be one of scale, yes_no, choice, record",
    ),
    (
        "invalid-yaml",
        "demo.yaml",
        lambda: "spec_version: 1\nid: demo\nquestions: [\n",
        "/",
        "not valid YAML",
    ),
    ("yaml-list", "demo.yaml", lambda: "- 1\n- 2\n", "/", "a flow must be a mapping"),
    ("empty-yaml", "demo.yaml", lambda: "", "/", "a flow must be a mapping"),
    (
        "id-not-the-file-name",
        "other.yaml",
        lambda: yaml.safe_dump(document()),
        "/id",
        "must match the file name ('other'), not 'demo'",
    ),
    ("invalid-json", "demo.json", lambda: '{"spec_version": 1,', "/", "not valid JSON"),
    (
        "json-backward-jump",
        "demo.json",
        lambda: json.dumps(edited({"/questions/3/options/2/next": "staff"})),
        "/questions/3/options/2/next",
        "jumps must go forward",
    ),
]


@pytest.mark.parametrize(
    ("name", "content", "path", "reason"),
    [case[1:] for case in BROKEN],
    ids=[case[0] for case in BROKEN],
)
def test_check_reports_an_invalid_file_with_its_path_and_reason_and_exits_1(
    cli, tmp_path, name, content, path, reason
):
    flow_file = tmp_path / name
    flow_file.write_text(content(), encoding="utf-8")
    result = cli("flows", "check", str(flow_file))
    assert result.exit_code == 1
    assert result.stdout == ""
    line = result.stderr.splitlines()[0]  # a YAML error goes on with where it happened
    assert line.startswith(f"invalid: {flow_file}: {path}: ")
    assert reason in line


def test_check_accepts_a_json_flow(cli, tmp_path):
    path = tmp_path / "demo.json"
    path.write_text(json.dumps(document(), ensure_ascii=False), encoding="utf-8")
    result = cli("flows", "check", str(path))
    assert result.exit_code == 0, result.output
    assert output_lines(result) == [f"ok: {path} (demo, 7 questions, languages vi, en)"]


def test_check_reports_every_file_and_fails_if_one_is_invalid(cli, tmp_path, runtime):
    good = write_yaml(tmp_path, "demo.yaml", document())
    bad = write_yaml(tmp_path, "bad.yaml", edited({"/id": "bad", "/spec_version": 2}))
    mscore = runtime.settings.flows_dir / "mscore.yaml"
    result = cli("flows", "check", good, bad, str(mscore))
    assert result.exit_code == 1
    assert output_lines(result) == [
        f"ok: {good} (demo, 7 questions, languages vi, en)",
        f"ok: {mscore} (mscore, 8 questions, languages vi, en)",
    ]
    assert result.stderr.splitlines() == [
        f"warning: {good}: no interviewer script at /script/opening, /script/closing, "
        + ", ".join(f"/questions/{i}/script" for i in range(7))
        + " (the console reads out the IVR prompt instead)",
        f"invalid: {bad}: /spec_version: must be 1 (got 2)",
    ]


def test_check_warns_of_a_flow_without_interviewer_scripts_but_passes_it(cli, tmp_path):
    doc = edited({"/script": {"opening": {"vi": "Chào", "en": "Hello"}}})
    for question in doc["questions"][1:]:
        question["script"] = {"vi": "Câu hỏi?", "en": "Question?"}
    path = write_yaml(tmp_path, "demo.yaml", doc)
    result = cli("flows", "check", path)
    assert result.exit_code == 0
    assert output_lines(result) == [f"ok: {path} (demo, 7 questions, languages vi, en)"]
    assert result.stderr.splitlines() == [
        f"warning: {path}: no interviewer script at /script/closing, /questions/0/script "
        "(the console reads out the IVR prompt instead)"
    ]


def test_check_without_paths_uses_the_flows_folder(cli_in, tmp_path):
    write_yaml(tmp_path, "demo.yaml", document())
    write_yaml(tmp_path, "broken.yaml", edited({"/id": "broken", "/closing": None}))
    (tmp_path / "notes.txt").write_text("not a flow", encoding="utf-8")
    (tmp_path / "transcripts").mkdir()
    result = cli_in(tmp_path, "flows", "check")
    assert result.exit_code == 1
    assert output_lines(result) == [
        f"ok: {tmp_path / 'demo.yaml'} (demo, 7 questions, languages vi, en)"
    ]
    assert [line for line in result.stderr.splitlines() if not line.startswith("warning:")] == [
        f"invalid: {tmp_path / 'broken.yaml'}: /closing: give the prompt in every language: vi, en"
    ]


def test_check_with_an_empty_flows_folder_is_a_usage_error(cli_in, tmp_path):
    result = cli_in(tmp_path, "flows", "check")
    assert result.exit_code == 2
    assert f"no flow files in {tmp_path}" in result.stderr


def test_check_of_a_missing_file_is_a_usage_error(cli, tmp_path):
    result = cli("flows", "check", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


# --------------------------------------------------------------------------------------------
# flows try
# --------------------------------------------------------------------------------------------

MSCORE_CONSENT_VI = (
    "< Xin chào ông bà. Đây là cuộc gọi khảo sát của Sở Nội vụ. Ông bà vừa nhận kết quả thủ tục "
    "Đăng ký khai sinh tại Bộ phận một cửa thành phố Đông Hà."
)


def keys(*pressed: str) -> str:
    return "".join(f"{key}\n" for key in pressed)


def transcript(result) -> list[str]:
    """The transcript lines printed, without the '> ' prompts echoing the keys."""
    out = []
    for line in output_lines(result):
        while line.startswith("> "):
            line = line[2:]
        if line[:2] in ("< ", "? ", "= ", "~ ", "# ") or line.startswith("answers: "):
            out.append(line)
    return out


ALL_ANSWERS = (
    "'consent': '1', 'staff_attitude': '8', 'guidance_quality': '7', 'on_time': '1', "
    "'asked_to_return': '2', 'paid_without_receipt': '2', 'overall': '9'"
)
THANKS = "< Cảm ơn ông bà đã tham gia khảo sát. Xin chào."
GOODBYE = "< Cảm ơn ông bà. Xin chào."
COMMENT = "< Nếu muốn góp ý thêm, bấm 1 rồi nói sau tiếng bíp. Bấm phím khác để kết thúc."


@pytest.mark.parametrize(
    ("pressed", "last_lines"),
    [
        (
            keys("1", "8", "7", "1", "2", "2", "9", "5"),
            [
                "= overall: 9",
                COMMENT,
                "? comment [1 *]",
                THANKS,
                "# complete",
                f"answers: {{{ALL_ANSWERS}}}; interview: complete",
            ],
        ),
        (
            keys("1", "0", "0", "0", "0", "0", "0", ""),
            [
                "? comment [1 *]",
                THANKS,
                "# complete",
                "answers: {'consent': '1', 'staff_attitude': '0', 'guidance_quality': '0', "
                "'on_time': '0', 'asked_to_return': '0', 'paid_without_receipt': '0', "
                "'overall': '0'}; interview: complete",
            ],
        ),
        (
            keys("2"),
            ["= consent: 2", GOODBYE, "# refused", "answers: {'consent': '2'}; interview: refused"],
        ),
        (
            keys("3"),
            [
                "= consent: 3",
                GOODBYE,
                "# not_eligible",
                "answers: {'consent': '3'}; interview: not_eligible",
            ],
        ),
        (
            keys("", "0", "#"),
            ["= consent: no answer", GOODBYE, "# no_consent", "answers: {}; interview: break_off"],
        ),
        (
            keys("1", "8", "q"),
            [
                "? guidance_quality [1 2 3 4 5 6 7 8 9 0 *]",
                "# hung up",
                "answers: {'consent': '1', 'staff_attitude': '8'}; interview: break_off",
            ],
        ),
        (
            keys("1", "8", "0", "", "", "", "2", "Q"),
            [
                "= asked_to_return: 2",
                "< Câu 5. Ông bà có phải nộp tiền mà không được nhận biên lai không. "
                "Có, bấm 1. Không, bấm 2.",
                "? paid_without_receipt [1 2 0 *]",
                "# hung up",
                "answers: {'consent': '1', 'staff_attitude': '8', 'guidance_quality': '0', "
                "'asked_to_return': '2'}; interview: partial",
            ],
        ),
        (
            # '5' while recording: ignored; the comment raises a follow-up: the contact question
            keys("1", "8", "7", "1", "2", "2", "9", "1", "5", "r", "1"),
            [
                "~ recording comment, up to 60 s",
                "< Ý kiến của ông bà sẽ được chuyển đến cơ quan có trách nhiệm xem xét. Nếu ông "
                "bà đồng ý để Sở Nội vụ liên hệ lại về ý kiến này, bấm 1; khi đó cơ quan giải "
                "quyết sẽ biết họ tên và số điện thoại của ông bà. Nếu không, bấm phím khác.",
                "? contact_consent [1 *]",
                "= contact_consent: 1",
                THANKS,
                "# complete",
                f"answers: {{{ALL_ANSWERS}, 'comment': '1', 'contact_consent': '1'}}; "
                "interview: complete",
            ],
        ),
        (
            keys("1", "8", "7", "1", "2", "2", "9", "1", "q"),
            [
                "~ recording comment, up to 60 s",
                "# hung up",
                f"answers: {{{ALL_ANSWERS}, 'comment': '1'}}; interview: partial",
            ],
        ),
        (
            keys("1", "8", "7", "1", "2", "2", "9", "r"),  # 'r' ends nothing before recording
            [
                COMMENT,
                "? comment [1 *]",
                THANKS,
                "# complete",
                f"answers: {{{ALL_ANSWERS}}}; interview: complete",
            ],
        ),
    ],
    ids=[
        "complete",
        "dont-knows-complete",
        "refusal",
        "not-eligible",
        "no-consent",
        "hang-up",
        "hang-up-partial",
        "recording",
        "hang-up-while-recording",
        "r-declines-the-comment",
    ],
)
def test_try_runs_mscore_from_the_keyboard(cli, pressed, last_lines):
    result = cli("flows", "try", "mscore", input=pressed)
    assert result.exit_code == 0, result.output
    lines = transcript(result)
    assert lines[0].startswith(MSCORE_CONSENT_VI)
    assert lines[1] == "? consent [1 2 3 9 *]"
    assert lines[-len(last_lines) :] == last_lines


def test_try_shows_the_hints_and_gives_up_after_three_tries(cli):
    result = cli("flows", "try", "mscore", input=keys("1", "5", "", "#", "*", "#", "q"))
    assert result.exit_code == 0, result.output
    lines = transcript(result)
    guidance = [line for line in lines if line.startswith("< Câu 2.")]
    assert len(guidance) == 4  # asked, then after each hint and the repeat
    assert lines.count("< Chúng tôi chưa nhận được phím bấm. Xin nghe lại câu hỏi.") == 1
    assert lines.count("< Phím chưa đúng. Xin nghe lại câu hỏi.") == 1
    assert "= staff_attitude: 5" in lines
    assert "= guidance_quality: no answer" in lines
    assert lines[-3:-1] == ["? on_time [1 2 0 *]", "# hung up"]


def test_try_in_english_with_the_case_given(cli):
    result = cli(
        "flows",
        "try",
        "mscore",
        "--language",
        "en",
        "--office",
        "Đông Hà one-stop office",
        "--procedure",
        "birth registration",
        input=keys("2"),
    )
    assert result.exit_code == 0, result.output
    assert transcript(result) == [
        "< Hello. This is a survey call from the Department of Home Affairs. You have just "
        "received the result of birth registration at Đông Hà one-stop office. It takes about "
        "two minutes, by keypad, and taking part is voluntary. To agree, press 1. To decline, "
        "press 2. If you did not do this procedure, press 3. To talk to a person, press 9.",
        "? consent [1 2 3 9 *]",
        "= consent: 2",
        "< Thank you. Goodbye.",
        "# refused",
        "answers: {'consent': '2'}; interview: refused",
    ]


def test_try_runs_sipas_too(cli):
    result = cli("flows", "try", "sipas", input=keys("1", "9", "8", "7", "9", "0"))
    assert result.exit_code == 0, result.output
    assert transcript(result)[-3:] == [
        "< Cảm ơn ông bà đã tham gia khảo sát. Xin chào.",
        "# complete",
        "answers: {'consent': '1', 'access': '9', 'procedure': '8', 'civil_servant': '7', "
        "'result': '9', 'feedback_handling': '0'}; interview: complete",
    ]


def test_try_runs_a_flow_of_the_flows_folder(cli_in, tmp_path):
    doc = edited({"/questions/0/prompt/en": {"audio": "https://audio.example.vn/consent.mp3"}})
    write_yaml(tmp_path, "demo.yaml", doc)
    result = cli_in(tmp_path, "flows", "try", "demo", "--language", "en", input=keys("q"))
    assert result.exit_code == 0, result.output
    assert transcript(result) == [
        "< [audio] https://audio.example.vn/consent.mp3",
        "? consent [1 2 3 *]",
        "# hung up",
        "answers: {}; interview: break_off",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "no flow named 'nope'"),
        (["mscore.yaml"], "no flow named 'mscore.yaml'"),
        (["mscore", "--language", "fr"], "mscore speaks vi, en"),
    ],
    ids=["unknown-flow", "file-name-is-not-a-name", "unknown-language"],
)
def test_try_refuses_an_unknown_flow_or_language(cli, args, message):
    result = cli("flows", "try", *args, input=keys("1"))
    assert result.exit_code == 2
    assert message in result.stderr
    assert "? consent" not in result.output


def test_try_refuses_an_invalid_flow(cli_in, tmp_path):
    write_yaml(tmp_path, "demo.yaml", edited({"/spec_version": 3}))
    result = cli_in(tmp_path, "flows", "try", "demo", input=keys("1"))
    assert result.exit_code == 2
    assert f"{tmp_path / 'demo.yaml'}: /spec_version: must be 1 (got 3)" in result.stderr


def test_try_writes_nothing_to_the_database(cli, engine):
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        result = cli("flows", "try", "mscore", input=keys("1", "8", "7", "1", "2", "2", "9", "5"))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert result.exit_code == 0, result.output
    assert statements == []


def test_try_treats_the_end_of_input_as_a_hang_up(cli):
    result = cli("flows", "try", "mscore", input="1\n9\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-2:] == [
        "> # hung up",
        "answers: {'consent': '1', 'staff_attitude': '9'}; interview: break_off",
    ]
