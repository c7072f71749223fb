"""The TwiML of a turn, written as text, is what twilio's own `VoiceResponse` writes."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from twilio.twiml.voice_response import Gather, VoiceResponse

from cati.domain.flow import Ask, Finished, FlowRun, Outcome, Record, Say
from cati.services.flows import load_flows
from cati.telephony.twiml import GATHER_TIMEOUT_S, LANGUAGES, render_twiml

FLOWS = load_flows(Path(__file__).resolve().parents[2] / "call_flows")
CASE = {"office": "Bộ phận một cửa <Đông Hà> & \"Cam Lộ\"", "procedure": "Khai sinh",
        "returned_date": "07/12/2026"}  # fmt: skip


def reference(events, *, language, voice, gather_url, record_url) -> str:
    """The turn as twilio's VoiceResponse renders it (the renderer before it was text)."""
    response = VoiceResponse()
    pending: list[Say] = []

    def speak(target, prompts):
        for prompt in prompts:
            if prompt.audio:
                target.play(prompt.audio)
            else:
                kwargs = {"language": LANGUAGES.get(language, language)}
                if voice and language == "vi":
                    kwargs["voice"] = voice
                target.say(prompt.text, **kwargs)

    for event in events:
        if isinstance(event, Say):
            pending.append(event)
        elif isinstance(event, Ask):
            url = gather_url(event.question_id)
            gather = Gather(input="dtmf", num_digits=1, timeout=GATHER_TIMEOUT_S, action=url,
                            method="POST")  # fmt: skip
            speak(gather, pending)
            response.append(gather)
            response.redirect(url, method="POST")
            pending = []
        elif isinstance(event, Record):
            speak(response, pending)
            pending = []
            response.record(max_length=event.max_seconds, action=record_url(event.question_id),
                            method="POST", finish_on_key="#", play_beep=True,
                            trim="trim-silence")  # fmt: skip
        elif isinstance(event, Finished):
            speak(response, pending)
            pending = []
            response.hangup()
    speak(response, pending)
    return str(response)


def turns():
    """Every turn of every flow in each of its languages, for a few ways through it."""
    for flow, language in ((f, lang) for f in FLOWS.values() for lang in f.languages):
        for keys in (["1"] * 12, ["9"] * 12, ["5", "", "", "1", "2", "*", "1"] * 2, ["2"],
                     ["1", "1", "1", "1", "1", "1", "1", "1", "1"]):  # fmt: skip
            run = FlowRun(flow, CASE, language)
            yield language, run.start()
            for key in keys:
                if run.current is None:
                    break
                yield language, run.press(key)
                if run.recording:
                    yield language, run.recorded()
    odd = 'https://x/a.mp3?x=1&y="2"'
    yield "vi", [Say("a\nb\tc\r<&>\"'", None), Say(None, odd), Ask("q", ("1",)), Say("", None)]
    yield "en", [Say("Bye", None), Record("comment", 90), Finished(Outcome.COMPLETE)]
    yield "vi", []
    yield "vi", [Say("Only words", None)]


@pytest.mark.parametrize("voice", ["", "Google.vi-VN-Standard-A"])
@pytest.mark.parametrize("base", ["https://cati.example", 'https://h/"p"&<x>\n'])
def test_a_turn_is_written_as_twilio_writes_it(voice, base):
    counter = itertools.count()
    checked = 0
    for language, events in turns():
        n = next(counter)
        urls = {
            "gather_url": lambda q, n=n: f"{base}/ivr/gather?attempt={n}&q={q}&t=1",
            "record_url": lambda q, n=n: f"{base}/ivr/recording?attempt={n}&q={q}",
        }
        kwargs = {"language": language, "voice": voice, **urls}
        assert render_twiml(events, **kwargs) == reference(events, **kwargs), events
        checked += 1
    assert checked > 50
