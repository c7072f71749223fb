"""TwiML: flow events rendered as the XML that Twilio (and our simulated citizens) follow."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

from twilio.twiml.voice_response import VoiceResponse

from cati.domain.flow import Ask, Event, Finished, Record, Say

LANGUAGES = {"vi": "vi-VN", "en": "en-US"}
GATHER_TIMEOUT_S = 6  # after the prompt ends; older citizens need a moment to find the key


def render_twiml(
    events: Sequence[Event],
    *,
    language: str,
    voice: str,
    gather_url: Callable[[str], str],
    record_url: Callable[[str], str],
) -> str:
    """The TwiML for one turn of the interview.

    Prompts before an `Ask` go inside its `<Gather>` (a key pressed during a prompt interrupts
    it), and every `<Gather>` is followed by a `<Redirect>` to the same action, so that silence
    comes back to us as a request without digits instead of ending the call.

    Written as text, byte for byte what twilio's `VoiceResponse` writes for the same verbs
    (tests/telephony/test_twiml.py compares them): a turn is on the citizen's line, and
    building and serialising an element tree cost more than the rest of the rendering. The
    pieces that do not depend on the call (a prompt's `<Say>`, a `<Record>` but its URL) are
    made once per process.
    """
    parts = [_HEAD]
    pending: list[Say] = []
    for event in events:
        if isinstance(event, Say):
            pending.append(event)
        elif isinstance(event, Ask):
            url = gather_url(event.question_id)
            parts.append(f'<Gather action="{_attribute(url)}"{_GATHER_ATTRIBUTES}>')
            parts += [_say(p.text, p.audio, language, voice) for p in pending]
            parts.append(f'</Gather><Redirect method="POST">{_text(url)}</Redirect>')
            pending = []
        elif isinstance(event, Record):
            parts += [_say(p.text, p.audio, language, voice) for p in pending]
            pending = []
            url = _attribute(record_url(event.question_id))
            parts.append(
                f'<Record action="{url}" finishOnKey="#" maxLength="{event.max_seconds}" '
                'method="POST" playBeep="true" trim="trim-silence" />'
            )
        elif isinstance(event, Finished):
            parts += [_say(p.text, p.audio, language, voice) for p in pending]
            pending = []
            parts.append("<Hangup />")
    parts += [_say(p.text, p.audio, language, voice) for p in pending]
    if len(parts) == 1:
        return _HEAD + "<Response />"
    parts[0] = _HEAD + "<Response>"
    parts.append("</Response>")
    return "".join(parts)


_HEAD = '<?xml version="1.0" encoding="UTF-8"?>'
_GATHER_ATTRIBUTES = f' input="dtmf" method="POST" numDigits="1" timeout="{GATHER_TIMEOUT_S}"'


@lru_cache(maxsize=4096)
def _say(text: str | None, audio: str | None, language: str, voice: str) -> str:
    """One prompt: `<Play>` of its recording, or `<Say>` of its text."""
    if audio:
        return f"<Play>{_text(audio)}</Play>"
    attributes = f' language="{_attribute(LANGUAGES.get(language, language))}"'
    if voice and language == "vi":
        attributes += f' voice="{_attribute(voice)}"'
    return f"<Say{attributes}>{_text(text)}</Say>" if text else f"<Say{attributes} />"


def _text(value: str) -> str:
    # As ElementTree escapes text.
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _attribute(value: str) -> str:
    # As ElementTree escapes attribute values.
    value = _text(value).replace('"', "&quot;")
    return value.replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#09;")


def goodbye_twiml(text: str, language: str = "vi", voice: str = "") -> str:
    """A polite goodbye for calls we cannot serve (unknown call, a fault on our side)."""
    response = VoiceResponse()
    _speak(response, [Say(text, None)], language, voice)
    response.hangup()
    return str(response)


def _speak(target, prompts: list[Say], language: str, voice: str) -> None:
    for prompt in prompts:
        if prompt.audio:
            target.play(prompt.audio)
        else:
            kwargs = {"language": LANGUAGES.get(language, language)}
            if voice and language == "vi":
                kwargs["voice"] = voice
            target.say(prompt.text, **kwargs)


def unknown_caller_twiml(text: str, message_url: str) -> str:
    """The hotline's answer to a caller with no open survey: a message, then a recording."""
    response = VoiceResponse()
    _speak(response, [Say(text, None)], "vi", "")
    response.record(
        max_length=60,
        action=message_url,
        method="POST",
        finish_on_key="#",
        play_beep=True,
        trim="trim-silence",
    )
    response.hangup()
    return str(response)
