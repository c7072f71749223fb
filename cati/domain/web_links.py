"""Personal survey links (`/s/<token>`) and the web questionnaire's path, in pure Python.

Tokens
------
A link must survive SMS, messaging apps and carriers: its token is 23 letters and digits
(base62: no `-` or `_`, which some apps mangle or cut), about 136 bits, far beyond guessing.

Only a hash of the token is stored (`web_links.token_hash`, SHA-256): opening a link hashes
the token presented and looks the hash up, so a copy of the database opens no link. Yet
`cati rounds links` must print the links again after sampling (for the slips, or a lost
file). So the token is not drawn at random and thrown away: it is *derived*,

    token = base62(HMAC-SHA256(CATI_SECRET_KEY, "cati-web-link:<member id>:<nonce>"))[:23]

where `nonce` is 128 random bits drawn per member at sampling and stored beside the hash.
HMAC output is indistinguishable from random to whoever lacks the key, so the token carries
the entropy of a random one; it can be recomputed only with both the key (not in the
database) and the nonce (not in the key file), and is never written anywhere. If the key
changes, the recomputed token no longer matches the stored hash: `links` says so instead of
printing dead links, and the links already handed out keep working (the web needs no key).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping

from cati.domain.flow import Flow, FlowRun, Question, QuestionType

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
TOKEN_LENGTH = 23  # 62**23 > 2**136: the token keeps 136 bits of the HMAC
TOKEN_BYTES = 17
_TOKEN = re.compile(rf"[0-9A-Za-z]{{{TOKEN_LENGTH}}}")


def new_nonce() -> str:
    """128 random bits, hex: drawn once per member when its link is made."""
    return secrets.token_hex(16)


def derive_token(key: str, member_id: int, nonce: str) -> str:
    """The member's token: 23 base62 characters of HMAC-SHA256(key, member id and nonce)."""
    digest = hmac.new(
        key.encode(), f"cati-web-link:{member_id}:{nonce}".encode(), hashlib.sha256
    ).digest()
    number = int.from_bytes(digest[:TOKEN_BYTES], "big")
    chars = []
    for _ in range(TOKEN_LENGTH):
        number, digit = divmod(number, 62)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))


def token_hash(token: str) -> str:
    """What is stored and looked up: the SHA-256 of the token, hex."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def is_well_formed(token: str) -> bool:
    """True for 23 letters and digits; anything else is not a link of ours (no lookup)."""
    return bool(_TOKEN.fullmatch(token))


# --------------------------------------------------------------------------------------------
# The questionnaire on the web: one question per screen, in the flow engine's order
# --------------------------------------------------------------------------------------------


def is_consent(flow: Flow, question: Question) -> bool:
    """The opening consent question: the first one, required, a choice with a refusal."""
    return (
        question is flow.questions[0]
        and question.required
        and question.type is QuestionType.CHOICE
        and any(option.end is not None for option in question.options)
    )


def numbered(flow: Flow) -> list[str]:
    """The questions counted in "Câu 2/7": all but the consent question."""
    return [q.id for q in flow.questions if not is_consent(flow, q)]


def walk(
    flow: Flow, answers: Mapping[str, str], skipped: set[str] | frozenset[str] = frozenset()
) -> tuple[list[str], FlowRun]:
    """The questions the flow engine asks with these saved answers, in order, up to and
    including the one it would ask now, and the run standing there.

    Built by pressing the saved keys into a fresh `FlowRun`, so jumps and ends are the
    engine's; the web uses it to go back one question and forward again over answers given.
    """
    run = FlowRun(flow, {}, flow.languages[0])
    path: list[str] = []
    while (question := run.current) is not None:
        path.append(question.id)
        if question.id in answers:
            if question.type is QuestionType.RECORD:
                run.press("1")
                run.recorded()
            else:
                run.press(answers[question.id])
        elif question.id in skipped:
            run.skip()
        else:
            break
        if run.current is question:  # a saved key the engine no longer accepts: ask again
            break
    return path, run


def web_wording(text: str) -> str:
    """An interviewer's line as the web shows it: the citizen is addressed as "Ông/Bà" (in
    writing, with capitals, as is polite), as the IVR addresses them, not "anh/chị" as an
    interviewer does on the phone."""
    return text.replace("Anh/chị", "Ông/Bà").replace("anh/chị", "Ông/Bà")
