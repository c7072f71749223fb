"""The shipped flows are valid, and each replays its golden transcript exactly.

A transcript file (call_flows/transcripts/<flow>.yaml) lists calls: the keys pressed (''
is silence, 'rec' ends a recording) and the expected transcript. A call after the first
resumes from what the earlier calls saved, as a retry or the hotline does. To accept a
deliberate change, run with CATI_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from cati.domain.flow import FlowRun, classify_interview, describe
from cati.services.flows import flow_files, read_flow_file

FLOWS = Path(__file__).resolve().parent.parent / "call_flows"
TRANSCRIPTS = FLOWS / "transcripts"


def replay(flow, spec) -> list[dict]:
    answers: dict[str, str] = {}
    no_answer: set[str] = set()
    calls = []
    for call in spec["calls"]:
        run = FlowRun.resume(flow, spec["case"], spec["language"], answers, no_answer)
        lines = [describe(e) for e in run.start()]
        for key in call["keys"]:
            lines.append(f"> {key!r}")
            events = run.recorded() if key == "rec" else run.press(key)
            lines.extend(describe(e) for e in events)
        answers, no_answer = dict(run.answered), set(run.skipped)
        lines.append(f"interview: {classify_interview(flow, run.answered, run.outcome)}")
        calls.append({**call, "transcript": "\n".join(lines) + "\n"})
    return calls


class _GoldenDumper(yaml.SafeDumper):
    """Transcripts as literal blocks and key lists on one line, so a diff reads like a call."""


_GoldenDumper.add_representer(
    str,
    lambda dumper, text: dumper.represent_scalar(
        "tag:yaml.org,2002:str", text, style="|" if "\n" in text else None
    ),
)
_GoldenDumper.add_representer(
    list,
    lambda dumper, items: dumper.represent_sequence(
        "tag:yaml.org,2002:seq", items, flow_style=all(isinstance(i, str) for i in items)
    ),
)


@pytest.mark.parametrize("path", flow_files(FLOWS), ids=lambda p: p.stem)
def test_shipped_flow_replays_its_golden_transcript(path):
    flow = read_flow_file(path)
    golden = TRANSCRIPTS / f"{flow.id}.yaml"
    spec = yaml.safe_load(golden.read_text(encoding="utf-8"))
    calls = replay(flow, spec)
    if os.environ.get("CATI_UPDATE_GOLDEN"):
        spec["calls"] = calls
        text = yaml.dump(spec, Dumper=_GoldenDumper, allow_unicode=True, sort_keys=False, width=200)
        golden.write_text(text, encoding="utf-8")
    assert calls == spec["calls"]


def test_mscore_asks_the_promised_questions_in_order():
    flow = read_flow_file(FLOWS / "mscore.yaml")
    assert [(q.id, q.type.value) for q in flow.questions] == [
        ("consent", "choice"),
        ("staff_attitude", "scale"),
        ("guidance_quality", "scale"),
        ("on_time", "yes_no"),
        ("asked_to_return", "yes_no"),
        ("paid_without_receipt", "yes_no"),
        ("overall", "scale"),
        ("comment", "record"),
    ]
    consent = flow.question("consent")
    assert [(o.key, o.end and o.end.value, o.opt_out) for o in consent.options] == [
        ("1", None, False),
        ("2", "refused", True),
        ("3", "not_eligible", False),
        ("9", "handover", False),
    ]
    assert flow.question("comment").max_seconds == 60


def test_shipped_scale_questions_declare_the_top_three_boxes_as_satisfied():
    # mscore and sipas ask every scale question on the 1–9 keypad: 7, 8 and 9 are satisfied.
    for path in flow_files(FLOWS):
        flow = read_flow_file(path)
        scales = [q for q in flow.questions if q.type.value == "scale"]
        assert scales and {q.satisfied_from for q in scales} == {7}, flow.id
