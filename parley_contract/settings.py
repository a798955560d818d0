"""Helpers every service's settings share: `.env` loading and the development-secret rule."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
