"""Settings from the environment and `.env` (pydantic-settings). Only `bot/` reads them."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.health import heartbeat_file_for
from storage.opening import backend_of, sqlite_path_from_url

Locale = Literal["be", "ru", "en"]
LOCALES: tuple[Locale, ...] = ("be", "ru", "en")

_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    database_url: str = "sqlite:///data/vyraj.sqlite3"
    # Several instances share dialogues, locks, the send limit and more here; unset: one.
    redis_url: SecretStr | None = None
    secret_key: SecretStr | None = None
    # A file holding the key instead (a Docker or systemd secret, outside the data folder).
    secret_key_file: Path | None = None
    admin_ids: Annotated[frozenset[int], NoDecode] = Field(default_factory=frozenset)
    default_locale: Locale = "be"
    timezone: str = "Europe/Warsaw"
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1:8080"
    webhook_path: str = "/webhook"
    kb_stale_days: int = Field(default=180, ge=1)
    # Survey figures below this are never published (nor derivable); below 5 is refused.
    min_cell_size: int = Field(default=10, ge=5, le=1000)
    # Census polls show new counts at most this often (Telegram limits message edits).
    census_refresh_seconds: float = Field(default=3.0, ge=0.05, le=600)
    # Updates handled at once; further ones wait in Telegram's queue, not in our memory.
    max_concurrent_updates: int = Field(default=64, ge=1, le=10000)
    knowledge_dir: Path | None = None
    # The weekly digest: where (a channel or group id, or @username), when (cron, in TIMEZONE),
    # in which language, and how late a missed one may still go out.
    digest_chat_id: str | None = None
    digest_thread_id: int | None = Field(default=None, ge=1)  # a forum topic of that chat
    digest_schedule: str = "0 10 * * mon"
    digest_locale: Locale | None = None
    digest_grace: dt.timedelta = dt.timedelta(hours=12)
    # Daily backups (never the key) into this folder, keeping the newest BACKUP_KEEP.
    backup_dir: Path | None = None
    backup_keep: int = Field(default=7, ge=1, le=1000)
    # PostgreSQL only, and required there: a folder outside the database, shared by the
    # instances, holding the keys whose deletion crypto-shreds a closed wave's or poll's key
    # (storage/postgres/README.md).
    key_vault_dir: Path | None = None
    # Touched after successful Bot API calls, read by `vyraj health`; unset: beside the SQLite
    # file, or in the temporary folder on PostgreSQL (each container has its own).
    heartbeat_file: Path | None = None

    @field_validator(
        "bot_token",
        "secret_key",
        "secret_key_file",
        "redis_url",
        "webhook_secret",
        "webhook_url",
        "knowledge_dir",
        "digest_chat_id",
        "digest_thread_id",
        "digest_locale",
        "backup_dir",
        "key_vault_dir",
        "heartbeat_file",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("bot_token", mode="before")
    @classmethod
    def _strip_token(cls, value: object) -> object:
        # A token pasted with a trailing space or newline is still the token.
        return value.strip() if isinstance(value, str) else value

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(r"\d+:[A-Za-z0-9_-]+", value.get_secret_value()):
            raise ValueError("does not look like a token from @BotFather (digits:letters)")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL such as https://api.telegram.org")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        backend_of(value)
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.match(
            r"^(redis|rediss|unix)://\S+$", value.get_secret_value()
        ):
            raise ValueError("must be a URL such as redis://localhost:6379/0 or unix:///path")
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters (try: openssl rand -hex 32)")
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(",") if part.strip()]
            for part in parts:
                if not part.isdigit():
                    raise ValueError(
                        f"{part!r} is not a Telegram user id (comma-separated digits)"
                    )
            return frozenset(int(part) for part in parts)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("is not an IANA time zone name such as Europe/Warsaw") from exc
        return value

    @field_validator("digest_chat_id")
    @classmethod
    def _chat(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"-?\d+|@[A-Za-z][A-Za-z0-9_]{3,}", value):
            raise ValueError("must be a chat id such as -1001234567890, or @channelname")
        return value

    @field_validator("digest_schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value)
        except ValueError as exc:
            raise ValueError(
                "must be a cron line of 5 fields, such as 0 10 * * mon (Mondays at 10:00)"
            ) from exc
        return value

    @field_validator("digest_grace", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        if isinstance(value, str):
            match = re.fullmatch(r"\s*(\d+)\s*([mhd]?)\s*", value)
            if match is None:
                raise ValueError("must be a duration such as 12h, 90m or 2d")
            amount, unit = int(match.group(1)), match.group(2) or "h"
            return dt.timedelta(**{{"m": "minutes", "h": "hours", "d": "days"}[unit]: amount})
        return value

    @property
    def effective_digest_locale(self) -> str:
        return self.digest_locale or self.default_locale

    @field_validator("webhook_listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("must be host:port, such as 127.0.0.1:8080")
        return value

    @field_validator("webhook_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with /")
        return value

    @model_validator(mode="after")
    def _one_key_source(self) -> Settings:
        if self.secret_key is not None and self.secret_key_file is not None:
            raise ValueError("SECRET_KEY and SECRET_KEY_FILE: set only one of them")
        return self

    @model_validator(mode="after")
    def _shared_database_needs_key(self) -> Settings:
        # Every instance must hold the same key, and none may be written beside the data.
        if self.uses_postgres and self.secret_key is None and self.secret_key_file is None:
            raise ValueError(
                "SECRET_KEY: required with a PostgreSQL DATABASE_URL (the same key on every "
                "instance; no key file is generated for a shared database)"
            )
        return self

    @model_validator(mode="after")
    def _shared_database_needs_vault(self) -> Settings:
        # Without it a closed wave's key would outlive the close in PostgreSQL's WAL and backups.
        if self.uses_postgres and self.key_vault_dir is None:
            raise ValueError(
                "KEY_VAULT_DIR: required with a PostgreSQL DATABASE_URL (a folder shared by the "
                "instances and kept out of the database backups)"
            )
        return self

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url is not None:
            if not self.webhook_url.startswith("https://") and not self.webhook_url.startswith(
                "http://127.0.0.1"
            ):
                raise ValueError("WEBHOOK_URL: must be an https:// URL")
            secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
            if not _WEBHOOK_SECRET.match(secret):
                raise ValueError(
                    "WEBHOOK_SECRET: required with WEBHOOK_URL; 1-256 characters A-Z a-z 0-9 _ -"
                )
        return self

    @property
    def uses_postgres(self) -> bool:
        return backend_of(self.database_url) == "postgres"

    @property
    def database_path(self) -> Path:
        """The SQLite file (ValueError for PostgreSQL, which has none)."""
        return sqlite_path_from_url(self.database_url)

    @property
    def heartbeat_path(self) -> Path:
        """Where the running bot leaves its heartbeat for `vyraj health`."""
        if self.heartbeat_file is not None:
            return self.heartbeat_file
        if self.uses_postgres:
            return Path(tempfile.gettempdir()) / "vyraj.heartbeat"
        return heartbeat_file_for(self.database_path)

    @property
    def listen_host(self) -> str:
        return self.webhook_listen.rpartition(":")[0]

    @property
    def listen_port(self) -> int:
        return int(self.webhook_listen.rpartition(":")[2])


class SettingsError(Exception):
    """A setting is missing or invalid; the message is one line for the user."""


def load_settings(**overrides: object) -> Settings:
    """Read settings; turn validation errors into one readable line per variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["loc"]:
            name = str(error["loc"][0]).upper()
            lines.append(f"{name}: {message}")
        else:
            lines.append(message)
    return "; ".join(lines)
