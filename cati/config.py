"""Settings read from the environment.

Every setting is typed and checked once, at start: a bad value raises `SettingsError` naming the
variable, so a misconfigured deployment fails loudly instead of misbehaving later.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


class SettingsError(ValueError):
    """A setting has a value the program cannot use."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    timezone: ZoneInfo
    resurvey_days: int = 90
    api_token: str | None = None
    flows_dir: Path = Path(__file__).resolve().parent.parent / "call_flows"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            database_url=_database_url(env),
            timezone=_timezone(env),
            resurvey_days=_int(env, "CATI_RESURVEY_DAYS", 90, minimum=0),
            api_token=env.get("CATI_API_TOKEN") or None,
            flows_dir=_folder(env, "CATI_FLOWS_DIR", cls.flows_dir),
        )


def default_database_url() -> str:
    return f"sqlite:///{Path.cwd() / 'instance' / 'cati.db'}"


def _database_url(env: Mapping[str, str]) -> str:
    value = env.get("CATI_DATABASE_URL", "").strip() or default_database_url()
    try:
        url = make_url(value)
    except ArgumentError as exc:
        raise SettingsError(f"CATI_DATABASE_URL: not a database URL: {value!r}") from exc
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


def _folder(env: Mapping[str, str], name: str, default: Path) -> Path:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    path = Path(raw).expanduser()
    if not path.is_dir():
        raise SettingsError(f"{name}: no such folder: {raw!r}")
    return path


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
