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


class ServiceSettings(BaseSettings):
    """Base for each service's settings; build it in the entry point and pass it down."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

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


def project_root() -> Path:
    return Path(__file__).resolve().parent.parent
