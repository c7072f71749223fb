"""Settings read from the environment.

Every setting is typed and checked once, at start: a bad value raises `SettingsError` naming the
variable, so a misconfigured deployment fails loudly instead of misbehaving later.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from cati.domain.calling import (
    DEFAULT_CALLING_DAYS,
    DEFAULT_CALLING_HOURS,
    CallingPolicy,
    parse_calling_days,
    parse_calling_hours,
    parse_holidays,
)
from cati.domain.counter import (
    DEFAULT_HOURS,
    DEFAULT_OPENING_HOURS,
    OpeningHours,
    parse_opening_hours,
)
from cati.domain.follow_ups import DeadlinePolicy

log = logging.getLogger(__name__)


class SettingsError(ValueError):
    """A setting has a value the program cannot use."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    timezone: ZoneInfo
    resurvey_days: int = 90
    api_token: str | None = None
    flows_dir: Path = Path(__file__).resolve().parent.parent / "call_flows"
    public_url: str = "http://127.0.0.1:5000"
    telephony: str = "simulated"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    caller_id: str | None = None
    tts_voice: str = "Google.vi-VN-Standard-A"
    calling_policy: CallingPolicy = field(default_factory=CallingPolicy)
    max_cps: float = 1.0
    max_concurrent_calls: int = 10
    ivr_attempts: int = 3  # then a member the robot never reached goes to the interviewers
    # Dashboard warnings: shares of "yes" above which an office is highlighted
    # (on_time: below which, as a "yes" there is good news).
    warn_asked_to_return: float = 0.10
    warn_paid_without_receipt: float = 0.01
    warn_on_time_below: float = 0.90
    # Reports for people (dashboard, PDF, text): figures from fewer answers are greyed, never
    # flagged and not ranked; the authority named at the top of the PDF.
    report_min_n: int = 5
    secret_key: str | None = field(default=None, repr=False)
    insecure_cookies: bool = False
    proxy_fix: int = 0  # how many proxies in front set X-Forwarded-* (0: trust none)
    log_format: str = "text"  # text | json: one line per event either way
    session_hours: int = 12  # a web session ends after this long without a request
    login_rate_limit: str = "10/minute;50/hour"  # failed sign-ins per client address
    redis_url: str | None = field(default=None, repr=False)  # rate-limit counters (several workers)
    # The scheduler (`cati scheduler`)
    sampling_cron: str = "0 7 * * mon"  # local time
    sampling_flows: tuple[str, ...] = ("mscore",)
    sampling_rate: float | None = 0.2
    sampling_size: int | None = None
    sampling_min_per_office: int = 5
    sampling_mode: str = "ivr"
    dial_interval_s: int = 30
    reap_interval_s: int = 60
    retention_days: int = 180
    round_calling_days: int = 14  # a new round is called this long after its week (or sampling)
    retention_cron: str = "30 2 * * *"  # local time
    heartbeat_s: int = 10
    import_max_xlsx_mb: int = 200  # uncompressed size of an .xlsx import
    import_max_rows: int = 1_000_000  # rows of an .xlsx import
    # Follow-ups: deadlines in working days, the offices' daily digest by email
    follow_up_working_days: int = 5
    smtp_url: str | None = field(default=None, repr=False)  # may hold a password
    smtp_from: str = "cati@localhost"
    digest_cron: str = "0 7 * * mon-fri"  # local time
    # Web mode (issue 15): personal links, then the phone for those who have not answered
    web_days: int = 3  # days a web round's members have on the web before the phone
    web_then: str = "ivr"  # ivr | interviewer: who calls them after that
    hotline: str | None = None  # the number printed on the slips (default: CATI_CALLER_ID)
    organisation: str = "Sở Nội vụ"  # who runs the survey, named on the slips
    # Counter ratings (issue 15): kiosks at the desk and the offices' QR codes
    counter_flow: str = "mscore"  # the questionnaire they run
    counter_burst: int = 5  # more than this many ratings …
    counter_burst_minutes: int = 2  # … within this many minutes, at one kiosk or QR code
    opening_hours: OpeningHours = DEFAULT_HOURS  # local time
    kiosk_reset_s: int = 30  # the kiosk returns to its welcome screen after this long
    sms: bool = False  # CATI_SMS=1: each web member gets one invitation SMS in calling hours
    sms_sender: str | None = None  # the registered brand name the SMS comes from

    @property
    def follow_up_deadlines(self) -> DeadlinePolicy:
        return DeadlinePolicy(
            self.follow_up_working_days, self.calling_policy.holidays, self.timezone
        )

    @property
    def webhook_token(self) -> str:
        """The secret signing provider webhooks: the Twilio auth token, or a local one."""
        return self.twilio_auth_token or "cati-simulated-citizens"

    def resolve_secret_key(self) -> str:
        """CATI_SECRET_KEY, or the key generated once into instance/secret_key: it signs
        session cookies and keys the phone hashes of exports."""
        return self.secret_key or instance_secret_key(Path.cwd() / "instance")

    @property
    def opt_out_key(self) -> str | None:
        """The key of opt-outs kept only as hashes: CATI_SECRET_KEY and nothing else. A key
        generated into a working directory could differ between commands and machines, and
        a different key would unblock every hashed opt-out; without the setting, retention
        keeps opt-outs as numbers."""
        return self.secret_key

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        timezone = _timezone(env)
        settings = cls(
            database_url=_database_url(env),
            timezone=timezone,
            resurvey_days=_int(env, "CATI_RESURVEY_DAYS", 90, minimum=0),
            api_token=env.get("CATI_API_TOKEN") or None,
            flows_dir=_folder(env, "CATI_FLOWS_DIR", cls.flows_dir),
            public_url=_public_url(env),
            telephony=_choice(env, "CATI_TELEPHONY", ("simulated", "twilio")),
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
            caller_id=_e164(env, "CATI_CALLER_ID"),
            tts_voice=env.get("CATI_TTS_VOICE", "").strip() or cls.tts_voice,
            calling_policy=_calling_policy(env, timezone),
            max_cps=_float(env, "CATI_MAX_CPS", 1.0, minimum=0.01),
            max_concurrent_calls=_int(env, "CATI_MAX_CONCURRENT_CALLS", 10, minimum=1),
            ivr_attempts=_int(env, "CATI_IVR_ATTEMPTS", 3, minimum=1),
            warn_asked_to_return=_share(env, "CATI_WARN_ASKED_TO_RETURN", 0.10),
            warn_paid_without_receipt=_share(env, "CATI_WARN_PAID_WITHOUT_RECEIPT", 0.01),
            warn_on_time_below=_share(env, "CATI_WARN_ON_TIME_BELOW", 0.90),
            report_min_n=_int(env, "CATI_REPORT_MIN_N", 5, minimum=1),
            secret_key=_secret_key(env),
            insecure_cookies=_flag(env, "CATI_INSECURE_COOKIES"),
            proxy_fix=_int(env, "CATI_PROXY_FIX", 0, minimum=0),
            log_format=_choice(env, "CATI_LOG_FORMAT", ("text", "json")),
            session_hours=_int(env, "CATI_SESSION_HOURS", 12, minimum=1),
            login_rate_limit=_rate_limit(env, "CATI_LOGIN_RATE_LIMIT", cls.login_rate_limit),
            redis_url=_redis_url(env),
            sampling_cron=_cron(env, "CATI_SAMPLING_CRON", cls.sampling_cron, timezone),
            sampling_flows=_names(env, "CATI_SAMPLING_FLOWS", cls.sampling_flows),
            **_sampling_size(env),
            sampling_min_per_office=_int(env, "CATI_SAMPLING_MIN_PER_OFFICE", 5, minimum=0),
            sampling_mode=_choice(env, "CATI_SAMPLING_MODE", ("ivr", "interviewer", "web")),
            dial_interval_s=_int(env, "CATI_DIAL_INTERVAL_S", 30, minimum=1),
            reap_interval_s=_int(env, "CATI_REAP_INTERVAL_S", 60, minimum=1),
            retention_days=_int(env, "CATI_RETENTION_DAYS", 180, minimum=1),
            round_calling_days=_int(env, "CATI_ROUND_CALLING_DAYS", 14, minimum=1),
            retention_cron=_cron(env, "CATI_RETENTION_CRON", cls.retention_cron, timezone),
            heartbeat_s=_int(env, "CATI_SCHEDULER_HEARTBEAT_S", 10, minimum=1),
            import_max_xlsx_mb=_int(env, "CATI_IMPORT_MAX_XLSX_MB", 200, minimum=1),
            import_max_rows=_int(env, "CATI_IMPORT_MAX_ROWS", 1_000_000, minimum=1),
            follow_up_working_days=_int(env, "CATI_FOLLOW_UP_WORKING_DAYS", 5, minimum=1),
            smtp_url=_smtp_url(env),
            smtp_from=_email(env, "CATI_SMTP_FROM", cls.smtp_from),
            digest_cron=_cron(env, "CATI_DIGEST_CRON", cls.digest_cron, timezone),
            web_days=_int(env, "CATI_WEB_DAYS", 3, minimum=0),
            web_then=_choice(env, "CATI_WEB_THEN", ("ivr", "interviewer")),
            hotline=_hotline(env),
            organisation=" ".join(env.get("CATI_ORGANISATION", "").split()) or cls.organisation,
            counter_flow=env.get("CATI_COUNTER_FLOW", "").strip() or cls.counter_flow,
            counter_burst=_int(env, "CATI_COUNTER_BURST", 5, minimum=1),
            counter_burst_minutes=_int(env, "CATI_COUNTER_BURST_MINUTES", 2, minimum=1),
            opening_hours=_opening_hours(env),
            kiosk_reset_s=_int(env, "CATI_KIOSK_RESET_S", 30, minimum=1),
            sms=_flag(env, "CATI_SMS"),
            sms_sender=_sms_sender(env),
        )
        if settings.sms and settings.sms_sender is None:
            raise SettingsError(
                "CATI_SMS=1 needs CATI_SMS_SENDER, the registered brand name the SMS come from"
            )
        if settings.sms and not (settings.hotline or settings.caller_id):
            raise SettingsError(
                "CATI_SMS=1 needs CATI_HOTLINE (or CATI_CALLER_ID): the SMS names it to decline"
            )
        # Members' numbers are what keeps a citizen from being surveyed again too soon:
        # they must outlive the re-survey window (counted from a round's week; the round
        # closes CATI_ROUND_CALLING_DAYS after the week, and erasure counts from then).
        lifetime = settings.retention_days + settings.round_calling_days + 7
        if lifetime < settings.resurvey_days:
            raise SettingsError(
                f"CATI_RETENTION_DAYS: {settings.retention_days} days would erase numbers "
                f"before CATI_RESURVEY_DAYS ({settings.resurvey_days}) has passed; use at "
                f"least {settings.resurvey_days - settings.round_calling_days - 7}"
            )
        return settings


def default_database_url() -> str:
    return f"sqlite:///{Path.cwd() / 'instance' / 'cati.db'}"


def _database_url(env: Mapping[str, str]) -> str:
    value = env.get("CATI_DATABASE_URL", "").strip() or default_database_url()
    try:
        url = make_url(value)
    except (ArgumentError, ValueError):
        # Not quoted back: the value may hold a password, and this message reaches logs.
        raise SettingsError(
            "CATI_DATABASE_URL: not a database URL like sqlite:///path/cati.db or "
            "postgresql+psycopg://user:password@host/database"
        ) from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise SettingsError(
            f"CATI_DATABASE_URL: unsupported database {url.get_backend_name()!r} "
            "(use sqlite:/// or postgresql+psycopg://)"
        )
    return value


def _timezone(env: Mapping[str, str]) -> ZoneInfo:
    value = env.get("CATI_TIMEZONE", "").strip() or "Asia/Ho_Chi_Minh"
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SettingsError(f"CATI_TIMEZONE: unknown time zone {value!r}") from exc


def _calling_policy(env: Mapping[str, str], tz: ZoneInfo) -> CallingPolicy:
    texts = {}
    for name, default in (
        ("CATI_CALLING_HOURS", DEFAULT_CALLING_HOURS),
        ("CATI_CALLING_DAYS", DEFAULT_CALLING_DAYS),
        ("CATI_HOLIDAYS", ""),
    ):
        texts[name] = env.get(name, "").strip() or default
    parsed = {}
    for name, parse in (
        ("CATI_CALLING_HOURS", parse_calling_hours),
        ("CATI_CALLING_DAYS", parse_calling_days),
        ("CATI_HOLIDAYS", parse_holidays),
    ):
        try:
            parsed[name] = parse(texts[name])
        except ValueError as exc:
            raise SettingsError(f"{name}: {exc}") from None
    return CallingPolicy(
        windows=parsed["CATI_CALLING_HOURS"],
        days=parsed["CATI_CALLING_DAYS"],
        holidays=parsed["CATI_HOLIDAYS"],
        tz=tz,
        max_attempts=_int(env, "CATI_MAX_ATTEMPTS", 5, minimum=1),
        max_per_day=_int(env, "CATI_MAX_ATTEMPTS_PER_DAY", 2, minimum=1),
        min_gap=timedelta(minutes=_int(env, "CATI_MIN_GAP_MINUTES", 120, minimum=0)),
    )


def _cron(env: Mapping[str, str], name: str, default: str, tz: ZoneInfo) -> str:
    """A crontab expression (minute hour day month weekday), checked by APScheduler."""
    from apscheduler.triggers.cron import CronTrigger

    raw = " ".join(env.get(name, "").split()) or default
    try:
        CronTrigger.from_crontab(raw, timezone=tz)
    except ValueError as exc:
        raise SettingsError(
            f"{name}: not a crontab expression like '0 7 * * mon': {raw!r} ({exc})"
        ) from None
    return raw


def _names(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    names = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    if not names or any(not re.fullmatch(r"[A-Za-z0-9_-]+", n) for n in names):
        raise SettingsError(f"{name}: expected flow names separated by commas, got {raw!r}")
    return names


def _sampling_size(env: Mapping[str, str]) -> dict[str, float | int | None]:
    """CATI_SAMPLING_RATE or CATI_SAMPLING_SIZE: one of the two sets the weekly sample."""
    has_rate = bool(env.get("CATI_SAMPLING_RATE", "").strip())
    has_size = bool(env.get("CATI_SAMPLING_SIZE", "").strip())
    if has_rate and has_size:
        raise SettingsError("CATI_SAMPLING_RATE, CATI_SAMPLING_SIZE: set one of them, not both")
    if has_size:
        return {
            "sampling_rate": None,
            "sampling_size": _int(env, "CATI_SAMPLING_SIZE", 0, minimum=1),
        }
    rate = _share(env, "CATI_SAMPLING_RATE", 0.2)
    if rate == 0:
        raise SettingsError("CATI_SAMPLING_RATE: must be more than 0")
    return {"sampling_rate": rate, "sampling_size": None}


def _share(env: Mapping[str, str], name: str, default: float) -> float:
    value = _float(env, name, default, minimum=0.0)
    if value > 1:
        raise SettingsError(f"{name}: a share between 0 and 1, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, *, minimum: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected a number, got {raw!r}") from None
    if not value >= minimum:
        raise SettingsError(f"{name}: must be at least {minimum}, got {raw}")
    return value


def _public_url(env: Mapping[str, str]) -> str:
    raw = env.get("CATI_PUBLIC_URL", "").strip() or Settings.public_url
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", raw):
        raise SettingsError(f"CATI_PUBLIC_URL: not an http(s) base URL: {raw!r}")
    return raw.rstrip("/")


def _smtp_url(env: Mapping[str, str]) -> str | None:
    raw = env.get("CATI_SMTP_URL", "").strip()
    if not raw:
        return None
    try:
        url = make_url(raw.replace("smtp://", "smtp+x://", 1).replace("smtps://", "smtps+x://", 1))
        port = url.port
    except (ArgumentError, ValueError):
        url, port = None, None
    if url is None or url.drivername not in ("smtp+x", "smtps+x") or not url.host or port == 0:
        # Not quoted back: the value may hold a password.
        raise SettingsError(
            "CATI_SMTP_URL: not a mail server URL like smtp://host:25 or "
            "smtps://user:password@host:465"
        )
    return raw


def _email(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name, "").strip() or default
    if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", raw):
        raise SettingsError(f"{name}: not an email address like cati@example.vn: {raw!r}")
    return raw


def _choice(env: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip().lower() or allowed[0]
    if raw not in allowed:
        raise SettingsError(f"{name}: must be one of {', '.join(allowed)}, got {raw!r}")
    return raw


def _e164(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip()
    if raw and not re.fullmatch(r"\+[1-9]\d{6,14}", raw):
        raise SettingsError(f"{name}: not an E.164 number like +842333852123: {raw!r}")
    return raw or None


def _folder(env: Mapping[str, str], name: str, default: Path) -> Path:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    path = Path(raw).expanduser()
    if not path.is_dir():
        raise SettingsError(f"{name}: no such folder: {raw!r}")
    return path


def _secret_key(env: Mapping[str, str]) -> str | None:
    raw = env.get("CATI_SECRET_KEY", "").strip()
    if raw and len(raw) < 16:
        raise SettingsError(
            "CATI_SECRET_KEY: too short, use at least 16 random characters "
            "(or leave it unset to keep a generated one in instance/secret_key)"
        )
    return raw or None


def _rate_limit(env: Mapping[str, str], name: str, default: str) -> str:
    """Flask-Limiter's notation, `10/minute;50/hour` (several limits separated by `;`)."""
    from limits import parse_many

    raw = " ".join(env.get(name, "").split()) or default
    try:
        parse_many(raw)
    except ValueError:
        raise SettingsError(f"{name}: not a rate limit like '10/minute;50/hour': {raw!r}") from None
    return raw


def _redis_url(env: Mapping[str, str]) -> str | None:
    raw = env.get("CATI_REDIS_URL", "").strip()
    if raw and not re.fullmatch(r"(rediss?|redis\+unix)://\S+", raw):
        # Not quoted back: the value may hold a password, and this message reaches logs.
        raise SettingsError(
            "CATI_REDIS_URL: not a Redis URL like redis://127.0.0.1:6379/0 "
            "(rediss:// for TLS, redis+unix:///path for a socket)"
        )
    return raw or None


def _hotline(env: Mapping[str, str]) -> str | None:
    """CATI_HOTLINE as people dial it (digits, spaces, dots, a leading +), else CATI_CALLER_ID."""
    raw = " ".join(env.get("CATI_HOTLINE", "").split())
    if raw and not re.fullmatch(r"\+?[0-9][0-9 .]{2,19}", raw):
        raise SettingsError(
            f"CATI_HOTLINE: not a phone number like 1900 1234 or 0233 385 2123: {raw!r}"
        )
    return raw or None


def _sms_sender(env: Mapping[str, str]) -> str | None:
    """CATI_SMS_SENDER: a brand name of at most 11 letters, digits and spaces (an alphanumeric
    sender ID, with at least one letter), as registered with the carriers."""
    raw = env.get("CATI_SMS_SENDER", "").strip()
    if raw and not (
        len(raw) <= 11 and re.fullmatch(r"[A-Za-z0-9 ]+", raw) and re.search(r"[A-Za-z]", raw)
    ):
        raise SettingsError(
            "CATI_SMS_SENDER: a registered brand name of at most 11 letters, digits and spaces "
            f"(no accents), like SONOIVU QT: {raw!r}"
        )
    return raw or None


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{name}: expected 1 or 0, got {raw!r}")


def _opening_hours(env: Mapping[str, str]) -> OpeningHours:
    raw = env.get("CATI_OPENING_HOURS", "").strip() or DEFAULT_OPENING_HOURS
    try:
        return parse_opening_hours(raw)
    except ValueError as exc:
        raise SettingsError(f"CATI_OPENING_HOURS: {exc}") from None


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name}: must be at least {minimum}, got {value}")
    return value


def instance_secret_key(folder: Path) -> str:
    """The key signing session cookies, generated once into `folder/secret_key` (mode 0600).

    Several workers started together share one key: each writes a candidate to a private
    temporary file and links it into place, which only the first succeeds in doing; the
    others read the winner's key.
    """
    path = folder / "secret_key"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".secret_key.")
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(secrets.token_hex(32) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    key = path.read_text(encoding="utf-8").strip()
    if len(key) < 16:
        raise RuntimeError(f"{path}: the secret key is missing or too short; delete the file")
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("%s is readable by other users: chmod 600 it", path)
    return key
