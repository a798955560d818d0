"""What `.env.example` documents, for the tests that check each name reaches a service's settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings

from parley_testkit.servers import ROOT


def env_example_names(*sections: str) -> set[str]:
    """The names `.env.example` sets under these `# --- <section>` headings."""
    names: set[str] = set()
    current = ""
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.startswith("# --- "):
            current = line[len("# --- ") :]
        elif "=" in line and not line.startswith("#") and current.startswith(sections):
            names.add(line.split("=", 1)[0])
    return names


#: A documented name → (settings field, value written in .env, value the settings must hold).
Documented = dict[str, tuple[str, str, object]]

#: The names both channel adapters read without their prefix (.env.example's "channel adapters").
SHARED_ADAPTER_NAMES: Documented = {
    "STT_BASE_URL": ("stt_base_url", "http://stt.local/v1", "http://stt.local/v1"),
    "STT_API_KEY": ("stt_api_key", "stt-key", "stt-key"),
    "STT_MODEL": ("stt_model", "whisper-large", "whisper-large"),
    "SERVICE_TOKEN": ("gateway_token", "the-real-service-token", "the-real-service-token"),
    "REDIS_URL": ("redis_url", "redis://gateway-redis:6379/3", "redis://gateway-redis:6379/3"),
    "GATEWAY_URL": ("gateway_url", "http://127.0.0.1:18700", "http://127.0.0.1:18700"),
}


def read_documented(settings_cls: type[BaseSettings], documented: Documented, env_file: Path) -> dict[str, object]:
    """Write every documented name into `env_file`, build the settings from it, and return what each
    name's field holds (secrets unwrapped), to compare with the documented expectations."""
    env_file.write_text("".join(f"{name}={value}\n" for name, (_field, value, _expected) in documented.items()))
    settings = settings_cls(_env_file=env_file)
    held = {name: getattr(settings, field) for name, (field, _value, _expected) in documented.items()}
    return {name: v.get_secret_value() if isinstance(v, SecretStr) else v for name, v in held.items()}


def expected_of(documented: Documented) -> dict[str, object]:
    return {name: expected for name, (_field, _value, expected) in documented.items()}
