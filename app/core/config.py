"""All settings, from environment variables prefixed ``JTAI_`` (DESIGN.md section 7)."""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.core.trusted_issuers import TrustedIssuer

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
_REMINDER_OFFSET = re.compile(r"[1-9][0-9]{0,3}[hm]")


class StorageKind(StrEnum):
    LOCAL = "local"
    S3 = "s3"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class ConfigurationError(RuntimeError):
    """An incoherent configuration; the message is one line naming the setting."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JTAI_", extra="ignore", frozen=True)

    environment: Environment = Environment.DEVELOPMENT
    var_dir: Path = Path("var")
    database_url: str = ""
    storage: StorageKind = StorageKind.LOCAL
    storage_dir: Path | None = None
    s3_endpoint_url: str | None = None
    s3_bucket: str | None = None
    s3_region: str = "us-east-1"
    # Where clients reach the store, when it differs from where the API reaches it.
    s3_public_endpoint_url: str | None = None

    token_ttl_seconds: int = Field(default=900, ge=30, le=3600)
    token_issuer: str = "jtai-exchange"  # noqa: S105
    token_audience: str = "jtai-exchange-api"  # noqa: S105
    signing_key_file: Path | None = None
    signing_key: SecretStr | None = None
    # External identity providers whose tokens stand for people (app/auth/issuers.py).
    trusted_issuers: tuple[TrustedIssuer, ...] = ()

    max_body_bytes: int = Field(default=1 * MiB, ge=1024)
    # The request line and headers together; `jtai serve` refuses more with 431 as they arrive.
    max_header_bytes: int = Field(default=64 * KiB, ge=8 * KiB, le=16 * MiB)
    # ... and must arrive within this time (408 after it), so slow senders cannot hold
    # connections open for ever.
    header_timeout_seconds: float = Field(default=30, gt=0, le=600)
    max_list_bytes: int = Field(default=50 * 1000 * 1000, ge=1024)
    # A pushed list streams into one of the few list readers as it arrives: it must have
    # arrived within this time (408 after it), or two slow senders would hold every reader.
    list_body_seconds: float = Field(default=120, gt=0, le=3600)
    max_upload_bytes: int = Field(default=2 * GiB, ge=1024)
    upload_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    sweep_interval_seconds: float = Field(default=600, ge=0, description="0 turns it off")
    # How often the service links pending reads into the audit chain (app/audit/sequencer.py);
    # 0 turns its loop off, and then `jtai jobs run --every` must do it.
    audit_sequence_seconds: float = Field(default=1.0, ge=0)
    # Closed inspections are purged this many days after closure; unset keeps them for ever.
    retention_days: int | None = Field(default=None, ge=1)

    # Pushed lists are read in worker processes that may die on a hostile file (see
    # app/core/sandbox.py): how many, and what each may use of memory and time per list.
    parse_workers: int = Field(default=2, ge=1, le=64)
    parse_memory_bytes: int = Field(default=4 * GiB, ge=1 * GiB)
    parse_cpu_seconds: int = Field(default=60, ge=1)
    parse_wall_seconds: float = Field(default=120, gt=0)
    # How long a push waits for a free reader before 503 (it holds nothing while it waits).
    parse_wait_seconds: float = Field(default=30, ge=0)

    # Webhooks (app/webhooks, app/events/delivery.py). Plain http and private, loopback or
    # link-local addresses are refused unless these are set (tests and closed networks).
    webhook_allow_insecure: bool = False
    webhook_allow_private: bool = False
    # How often an idle delivery worker looks for new events; 0 runs none in this process.
    webhook_poll_seconds: float = Field(default=0.5, ge=0, le=60)
    # Subscriptions delivered at once by one worker: a slow receiver holds only its own slot.
    webhook_concurrency: int = Field(default=8, ge=1, le=256)
    # ... of which one organisation's take at most this many, so that its slow receivers
    # cannot hold every slot while another organisation's wait.
    webhook_concurrency_per_organisation: int = Field(default=4, ge=1, le=256)
    # A worker holds a subscription this long; a killed worker's is taken over after it.
    webhook_lease_seconds: float = Field(default=60, ge=1, le=3600)
    # Retries: exponential backoff from this base with full jitter, for this long from the
    # first failure, then the delivery is marked failed and the next event goes.
    webhook_retry_base_seconds: float = Field(default=2, gt=0, le=3600)
    webhook_retry_for_seconds: float = Field(default=3 * 24 * 3600, gt=0)

    timezone: str = "Europe/London"
    office_hours_end: str | None = None
    # When deadline.approaching is sent before each milestone's due time, comma-separated:
    # "working_morning" (09:00 of the last working day before the due time) and/or offsets
    # such as "2h" or "30m". Empty: only deadline.overdue (see app/events/reminders.py).
    reminder_offsets: str = "working_morning,2h"
    extra_themes_dir: Path | None = None
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _check_coherent(self) -> Self:
        if self.storage is StorageKind.S3 and not self.s3_bucket:
            raise ValueError("JTAI_S3_BUCKET is required when JTAI_STORAGE=s3")
        production = self.environment is Environment.PRODUCTION
        if production and self.resolved_database_url.startswith("sqlite"):
            raise ValueError("JTAI_DATABASE_URL must name PostgreSQL in production")
        if self.office_hours_end is not None and not _is_hh_mm(self.office_hours_end):
            raise ValueError("JTAI_OFFICE_HOURS_END must be HH:MM, e.g. 17:30")
        return self

    @field_validator("trusted_issuers")
    @classmethod
    def _distinct_issuers(
        cls, issuers: tuple[TrustedIssuer, ...], info: ValidationInfo
    ) -> tuple[TrustedIssuer, ...]:
        ours = info.data.get("token_issuer")
        seen: set[str] = set()
        for entry in issuers:
            if entry.issuer == ours:
                raise ValueError(f"issuer {entry.issuer!r} is our own (JTAI_TOKEN_ISSUER)")
            if entry.issuer in seen:
                raise ValueError(f"issuer {entry.issuer!r} is listed twice")
            seen.add(entry.issuer)
        return issuers

    @field_validator("reminder_offsets")
    @classmethod
    def _known_offsets(cls, value: str) -> str:
        offsets = [part.strip().lower() for part in value.split(",") if part.strip()]
        for offset in offsets:
            if offset != "working_morning" and not _REMINDER_OFFSET.fullmatch(offset):
                raise ValueError(
                    f"{offset!r} is not 'working_morning' or a number of hours or minutes "
                    "before the due time, e.g. '2h' or '30m'"
                )
        return ",".join(dict.fromkeys(offsets))

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'jtai.sqlite3').as_posix()}"

    @property
    def resolved_storage_dir(self) -> Path:
        return self.storage_dir or self.var_dir / "objects"

    @property
    def resolved_signing_key_file(self) -> Path:
        return self.signing_key_file or self.var_dir / "jwt-signing-key.pem"


def _is_hh_mm(value: str) -> bool:
    hours, _, minutes = value.partition(":")
    return hours.isdigit() and minutes.isdigit() and 0 <= int(hours) < 24 and 0 <= int(minutes) < 60


def load_settings() -> Settings:
    """Build settings from the environment, turning validation errors into one line."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        setting, *within = [str(part) for part in first["loc"]] or ["configuration"]
        name = f"JTAI_{setting.upper()}" if first["loc"] else setting
        # Where in a structured setting: JTAI_TRUSTED_ISSUERS[0].jwks_url
        name += "".join(f"[{part}]" if part.isdigit() else f".{part}" for part in within)
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigurationError(f"{name}: {message}") from None
    except SettingsError as exc:
        field = re.search(r'field "([^"]+)"', str(exc))
        name = f"JTAI_{field.group(1).upper()}" if field else "configuration"
        raise ConfigurationError(f"{name}: not valid JSON") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
