"""Counter ratings (issue 15, section 2): a tablet at the desk (`/k/<kiosk token>`) and the
office's QR code (`/q/<office token>`), in pure Python.

Counter ratings are self-selected, not a sample: they are reported apart from rounds, never
in AAPOR rates, and could be entered by staff. So each rating is checked here for signs of
that (`flag_ratings`): bursts, runs of identical answers, a dossier code rated twice, ratings
outside opening hours. Flagged ratings are counted and shown, and left out of an office's
figures unless a manager accepts them.

Tokens
------
A kiosk's token is 23 random letters and digits (about 136 bits), shown once when the
kiosk is added; only its SHA-256 is stored. An office's QR token must be printable again on
a new poster, so it is derived as the member links are (`cati.domain.web_links`):
HMAC-SHA256(CATI_SECRET_KEY, "cati-office-qr:<office id>:<nonce>"), with the nonce and the
hash stored and the token itself nowhere.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from cati.domain.web_links import ALPHABET, TOKEN_BYTES, TOKEN_LENGTH

KIOSK = "kiosk"
QR = "qr"
MODES = (KIOSK, QR)

# The check of a dossier code given at the counter (kept with the rating either way).
CHECK_OK = "ok"
CHECK_UNKNOWN = "unknown"
CHECK_OTHER_OFFICE = "other_office"
CHECK_IMMEDIATE = "immediate_result"
CHECK_ONLINE = "online"
CHECK_POSTAL = "postal"
CHECKS = (CHECK_OK, CHECK_UNKNOWN, CHECK_OTHER_OFFICE, CHECK_IMMEDIATE, CHECK_ONLINE,
          CHECK_POSTAL)  # fmt: skip

# Integrity flags
BURST = "burst"
SAME_ANSWERS = "same_answers"
DOSSIER_TWICE = "dossier_twice"
OUTSIDE_HOURS = "outside_hours"
FLAGS = (BURST, SAME_ANSWERS, DOSSIER_TWICE, OUTSIDE_HOURS)

MAX_DOSSIER_CODE = 100
MAX_COMMENT_LENGTH = 2000


def _base62(number: int) -> str:
    chars = []
    for _ in range(TOKEN_LENGTH):
        number, digit = divmod(number, 62)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))


def new_kiosk_token() -> str:
    """23 random letters and digits (136 bits)."""
    return _base62(int.from_bytes(secrets.token_bytes(TOKEN_BYTES), "big"))


def derive_office_token(key: str, office_id: int, nonce: str) -> str:
    """The office's QR token: 23 base62 characters of HMAC-SHA256(key, office id and nonce)."""
    digest = hmac.new(
        key.encode(), f"cati-office-qr:{office_id}:{nonce}".encode(), hashlib.sha256
    ).digest()
    return _base62(int.from_bytes(digest[:TOKEN_BYTES], "big"))


def check_dossier(
    given_office_id: int, case_office_id: int | None, channel: str | None, immediate: bool
) -> str:
    """What a dossier code given at `given_office_id`'s counter is: unknown (no such case,
    `case_office_id` None), of another office, not eligible (an immediate result, an online
    or postal dossier: those citizens are not rated at the desk), or ok."""
    if case_office_id is None:
        return CHECK_UNKNOWN
    if case_office_id != given_office_id:
        return CHECK_OTHER_OFFICE
    if immediate:
        return CHECK_IMMEDIATE
    if channel == "online":
        return CHECK_ONLINE
    if channel == "postal":
        return CHECK_POSTAL
    return CHECK_OK


def clean_dossier_code(raw: str | None) -> str | None:
    """A dossier code as typed: trimmed, inner spaces dropped, upper case; None for none."""
    if raw is None:
        return None
    code = "".join(raw.split()).upper()
    return code[:MAX_DOSSIER_CODE] or None


# --------------------------------------------------------------------------------------------
# Opening hours
# --------------------------------------------------------------------------------------------

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_OPENING_HOURS = "07:30-11:30,13:30-17:00 mon-fri"
_SPAN = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")


@dataclass(frozen=True)
class OpeningHours:
    spans: tuple[tuple[time, time], ...]
    weekdays: frozenset[int]  # 0 is Monday

    def is_open(self, local: datetime) -> bool:
        """True when the local wall-clock time falls in a span on an opening day."""
        if local.weekday() not in self.weekdays:
            return False
        moment = local.time().replace(tzinfo=None)
        return any(start <= moment < end for start, end in self.spans)


def parse_opening_hours(text: str) -> OpeningHours:
    """`07:30-11:30,13:30-17:00 mon-fri` (days optional, default mon-fri; `mon-sat`,
    `mon,wed,fri` work too). Raises ValueError naming what is wrong."""
    parts = text.strip().lower().split()
    if not parts or len(parts) > 2:
        raise ValueError(f"expected spans like 07:30-11:30,13:30-17:00 then days, got {text!r}")
    spans = []
    for raw in parts[0].split(","):
        match = _SPAN.fullmatch(raw)
        if not match:
            raise ValueError(f"not a span like 07:30-11:30: {raw!r}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59:
            raise ValueError(f"not a time of day: {raw!r}")
        start = time(h1, m1)
        end = time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2)
        if end <= start:
            raise ValueError(f"a span must end after it starts: {raw!r}")
        spans.append((start, end))
    weekdays: set[int] = set()
    for raw in (parts[1] if len(parts) == 2 else "mon-fri").split(","):
        first, _, last = raw.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise ValueError(f"days are mon, tue, … sun (or mon-fri): {raw!r}")
        a, b = DAYS.index(first), DAYS.index(last or first)
        if b < a:
            raise ValueError(f"days run forwards: {raw!r}")
        weekdays.update(range(a, b + 1))
    return OpeningHours(tuple(spans), frozenset(weekdays))


DEFAULT_HOURS = parse_opening_hours(DEFAULT_OPENING_HOURS)


# --------------------------------------------------------------------------------------------
# Integrity flags
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RatingFacts:
    """What the flags look at in one rating. `source` is where it was given: the kiosk (its
    id) or the office's QR code; `pattern` the answers of a complete rating (None if partial);
    `started_at` local time."""

    id: int
    source: tuple[str, int]  # ("kiosk", kiosk id) or ("qr", office id)
    started_at: datetime
    pattern: tuple[tuple[str, str], ...] | None = None
    dossier_code: str | None = None


@dataclass(frozen=True)
class IntegrityPolicy:
    burst: int = 5  # more than this many ratings …
    burst_window: timedelta = timedelta(minutes=2)  # … within this long is a burst
    same_answers: int = 3  # this many consecutive identical complete ratings is a run
    opening_hours: OpeningHours = DEFAULT_HOURS


def flag_ratings(
    ratings: Iterable[RatingFacts], policy: IntegrityPolicy
) -> dict[int, frozenset[str]]:
    """The flags of each rating (by id), looking at all of `ratings` together:

    - burst: more than `policy.burst` ratings from one source (a kiosk, an office's QR
      code) within `policy.burst_window`; every rating of such a window is flagged;
    - same_answers: `policy.same_answers` or more consecutive complete ratings from one
      source with the same answers; every rating of the run is flagged;
    - dossier_twice: a dossier code given in more than one rating; all of them are flagged
      (a manager accepts the genuine one);
    - outside_hours: started outside the opening hours.
    """
    ratings = list(ratings)
    flags: dict[int, set[str]] = {r.id: set() for r in ratings}
    by_source: dict[tuple[str, int], list[RatingFacts]] = defaultdict(list)
    by_code: dict[str, list[int]] = defaultdict(list)
    for rating in ratings:
        by_source[rating.source].append(rating)
        if rating.dossier_code:
            by_code[rating.dossier_code].append(rating.id)
        if not policy.opening_hours.is_open(rating.started_at):
            flags[rating.id].add(OUTSIDE_HOURS)
    for group in by_source.values():
        group.sort(key=lambda r: (r.started_at, r.id))
        for index in _bursts([r.started_at for r in group], policy.burst, policy.burst_window):
            flags[group[index].id].add(BURST)
        complete = [r for r in group if r.pattern is not None]  # partials do not break a run
        for index in _runs([r.pattern for r in complete], policy.same_answers):
            flags[complete[index].id].add(SAME_ANSWERS)
    for ids in by_code.values():
        if len(ids) > 1:
            for rating_id in ids:
                flags[rating_id].add(DOSSIER_TWICE)
    return {rating_id: frozenset(found) for rating_id, found in flags.items()}


def _bursts(times: Sequence[datetime], limit: int, window: timedelta) -> set[int]:
    """Indexes (of sorted `times`) lying in a window holding more than `limit` of them."""
    found: set[int] = set()
    end = 0
    for start in range(len(times)):
        end = max(end, start)
        while end + 1 < len(times) and times[end + 1] - times[start] <= window:
            end += 1
        if end - start + 1 > limit:
            found.update(range(start, end + 1))
    return found


def _runs(patterns: Sequence[tuple], length: int) -> set[int]:
    """Indexes in runs of at least `length` consecutive equal patterns."""
    found: set[int] = set()
    start = 0
    for index in range(1, len(patterns) + 1):
        if index < len(patterns) and patterns[index] == patterns[start]:
            continue
        if index - start >= length:
            found.update(range(start, index))
        start = index
    return found


def read_together(
    ratings: Iterable[tuple[int, Hashable, datetime, Hashable]], window: timedelta
) -> list[list[int]]:
    """The ratings (id, source, start, run) in the groups a manager reads together: from
    one source (a kiosk, an office's QR code), each started within `window` of the one
    before (a burst is one group) or with the same `run` as the one before (a run of
    identical answers; None for none). Each group in time order; the groups by their
    first start."""
    by_source: dict[Hashable, list[tuple[datetime, int, Hashable]]] = defaultdict(list)
    for rating_id, source, started_at, run in ratings:
        by_source[source].append((started_at, rating_id, run))
    groups: list[list[tuple[datetime, int, Hashable]]] = []
    for items in by_source.values():
        items.sort(key=lambda item: item[:2])
        group = [items[0]]
        for item in items[1:]:
            before = group[-1]
            if item[0] - before[0] > window and (item[2] is None or item[2] != before[2]):
                groups.append(group)
                group = []
            group.append(item)
        groups.append(group)
    groups.sort(key=lambda g: g[0][:2])
    return [[rating_id for _, rating_id, _ in group] for group in groups]


def flags_text(flags: Iterable[str]) -> str | None:
    """How flags are stored: sorted, comma-separated; None for none."""
    return ",".join(sorted(flags)) or None
