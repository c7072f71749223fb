"""TwiML: flow events rendered as the XML that Twilio (and our simulated citizens) follow."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from twilio.twiml.voice_response import Gather, VoiceResponse

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
    """
    response = VoiceResponse()
    pending: list[Say] = []
    for event in events:
        if isinstance(event, Say):
            pending.append(event)
        elif isinstance(event, Ask):
            url = gather_url(event.question_id)
            gather = Gather(
                input="dtmf",
                num_digits=1,
                timeout=GATHER_TIMEOUT_S,
                action=url,
                method="POST",
            )
            _speak(gather, pending, language, voice)
            response.append(gather)
            response.redirect(url, method="POST")
            pending = []
        elif isinstance(event, Record):
            _speak(response, pending, language, voice)
            pending = []
            response.record(
                max_length=event.max_seconds,
                action=record_url(event.question_id),
                method="POST",
                finish_on_key="#",
                play_beep=True,
                trim="trim-silence",
            )
        elif isinstance(event, Finished):
            _speak(response, pending, language, voice)
            pending = []
            response.hangup()
    _speak(response, pending, language, voice)
    return str(response)


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
