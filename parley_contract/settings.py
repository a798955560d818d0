"""Helpers every service's settings share: `.env` loading and the development-secret rule."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import ValidationError, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

Environment = Literal["development", "test", "production"]

#: Tokens that only work while PARLEY_ENV is development or test.
DEV_SECRETS = {
    "service_token": "dev-service-token",
    "admin_token": "dev-admin-token",
    "worker_token": "dev-worker-token",
}


#: Optional secrets (empty: the feature is off) held to the same rule when they are set.
OPTIONAL_SECRETS = ("metrics_token",)
#: A production secret is at least this long and uses at least this many distinct characters
#: (`secrets.token_urlsafe(32)` gives 43 characters of 64 kinds).
MIN_SECRET_CHARS = 32
MIN_DISTINCT_SECRET_CHARS = 10
SECRET_ADVICE = "e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'"


def weak_secret_problem(value: str) -> str | None:
    """Why `value` is not fit to guard a production API (None: it is)."""
    if len(value) < MIN_SECRET_CHARS:
        return f"is {len(value)} characters long; use at least {MIN_SECRET_CHARS} random characters"
    if len(set(value)) < MIN_DISTINCT_SECRET_CHARS:
        return f"has fewer than {MIN_DISTINCT_SECRET_CHARS} distinct characters; use a random secret"
    return None


class ServiceSettings(BaseSettings):
    """Base for each service's settings; build it in the entry point and pass it down."""

    # hide_input_in_errors: a refused setting's error must not print the tokens and URLs beside it.
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", hide_input_in_errors=True
    )

    parley_env: Environment = "development"

    @model_validator(mode="after")
    def _no_dev_secrets_in_production(self) -> ServiceSettings:
        if self.parley_env == "production":
            for field, dev_value in DEV_SECRETS.items():
                if getattr(self, field, None) == dev_value:
                    raise ValueError(
                        f"{field.upper()} is the development default; set a real secret "
                        "before running with PARLEY_ENV=production"
                    )
        return self

    @model_validator(mode="after")
    def _strong_secrets_in_production(self) -> ServiceSettings:
        """A guessable token (`x`, `changeme`) would let anyone in: production refuses to start with one."""
        if self.parley_env != "production":
            return self
        for field in (*DEV_SECRETS, *OPTIONAL_SECRETS):
            value = getattr(self, field, None)
            if value is None or (field in OPTIONAL_SECRETS and not value):
                continue
            if (problem := weak_secret_problem(value)) is not None:
                raise ValueError(f"{field.upper()} {problem} with PARLEY_ENV=production ({SECRET_ADVICE})")
        return self


def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


class PrefixedSettings(ServiceSettings):
    """Settings of a service that shares one `.env` with the others (a channel adapter).

    Each setting is read as `<env_prefix><NAME>` first, then as `<NAME>`: a service's own settings
    are documented with its prefix (TELEGRAM_WEBHOOK_SECRET and WAZZUP_WEBHOOK_SECRET cannot be
    confused), the shared ones without it (PARLEY_ENV, REDIS_URL, GATEWAY_URL, LOG_*, STT_*), and the
    unprefixed names older setups used keep working. docker-compose passes the very same names.
    """

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        env_file = dotenv_settings.env_file if isinstance(dotenv_settings, DotEnvSettingsSource) else None
        unprefixed = (
            EnvSettingsSource(settings_cls, env_prefix=""),
            DotEnvSettingsSource(settings_cls, env_file=env_file, env_prefix=""),
        )
        return init_settings, env_settings, dotenv_settings, *unprefixed, file_secret_settings


def prefixed_config(env_prefix: str) -> SettingsConfigDict:
    """The model_config of a `PrefixedSettings` class: its prefix, the shared `.env`, and `NAME=`
    (as .env.example writes it) meaning not set, so the default applies."""
    return SettingsConfigDict(
        env_prefix=env_prefix,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,
        validate_by_name=True,
    )


SettingsT = TypeVar("SettingsT", bound=BaseSettings)


def settings_or_exit(settings_cls: type[SettingsT]) -> SettingsT:
    """Build an entry point's settings; a missing or refused value (e.g. a development secret with
    PARLEY_ENV=production) ends the process with status 2 and a message naming the variable."""
    try:
        return settings_cls()
    except ValidationError as exc:
        prefix = str(settings_cls.model_config.get("env_prefix") or "")
        lines = [_describe(error, prefix, settings_cls) for error in exc.errors(include_url=False)]
        print("configuration error:\n  " + "\n  ".join(lines), file=sys.stderr)
        raise SystemExit(2) from None


def _describe(error: ErrorDetails, prefix: str, settings_cls: type[BaseSettings]) -> str:
    message = error["msg"].removeprefix("Value error, ")
    if not error["loc"]:
        return message  # a check across settings: its message names the variables
    name = str(error["loc"][0])
    if name in settings_cls.model_fields and prefix:
        return f"{prefix}{name.upper()} (or {name.upper()}): {message}"
    return f"{name.upper()}: {message}"
