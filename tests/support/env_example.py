"""What `.env.example` documents, for the tests that check each name reaches a service's settings."""

from __future__ import annotations

from tests.support.servers import ROOT


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
