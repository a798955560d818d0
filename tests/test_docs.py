"""The documentation stays true to the code: a short README, links that resolve, every setting documented.

Issue #17 item 5. Pure reads of the repository's files and of the settings classes; no service runs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import AliasChoices, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings

from ai_worker.settings import WorkerSettings
from gateway.settings import GatewaySettings
from parley_contract.settings import ServiceSettings
from telegram_bot.settings import BotSettings
from whatsapp_adapter.settings import WhatsAppSettings

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
OPERATIONS = ROOT / "docs" / "OPERATIONS.md"
README_MAX_LINES = 250

#: Each settings class and the file its section of docs/OPERATIONS.md names in its heading.
SETTINGS_CLASSES: dict[str, type[BaseSettings]] = {
    "parley_contract/settings.py": ServiceSettings,
    "gateway/settings.py": GatewaySettings,
    "ai_worker/settings.py": WorkerSettings,
    "telegram_bot/settings.py": BotSettings,
    "whatsapp_adapter/settings.py": WhatsAppSettings,
}

_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
_CODE_SPAN = re.compile(r"`[^`]*`")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
#: A `path/to/file.py:Name` or `path/to/file.py:Class.method` the README names as a step of the code.
_CODE_REF = re.compile(r"`((?:[\w-]+/)+[\w-]+\.py):([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)`")


def doc_files() -> list[Path]:
    return [README, *sorted((ROOT / "docs").rglob("*.md"))]


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks (a `# comment` in a snippet is no heading, a `[x](y)` no link)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in prose_lines(path.read_text(encoding="utf-8")):
        if match := _HEADING.match(line):
            base = slug(match.group(2))
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
    return found


def relative_links(path: Path) -> list[str]:
    links = []
    for line in prose_lines(path.read_text(encoding="utf-8")):
        for target in _LINK.findall(_CODE_SPAN.sub("", line)):
            if not re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: are not ours to check
                links.append(target)
    return links


def broken_link(source: Path, target: str) -> str | None:
    """Why `target`, linked from `source`, does not resolve (None: it does)."""
    file_part, _, anchor = target.partition("#")
    resolved = (source.parent / file_part).resolve() if file_part else source
    if not resolved.exists():
        return f"{source.relative_to(ROOT)}: {target} — no such file"
    if anchor and (resolved.suffix != ".md" or anchor not in anchors(resolved)):
        return f"{source.relative_to(ROOT)}: {target} — no heading #{anchor} in {resolved.relative_to(ROOT)}"
    return None


def env_names(cls: type[BaseSettings], name: str, field: FieldInfo) -> set[str]:
    """The environment variables that set `name`: its aliases, else prefix + NAME (and NAME alone for
    the adapters' prefixed settings, which read both)."""
    if isinstance(field.validation_alias, AliasChoices):
        return {str(choice) for choice in field.validation_alias.choices}
    if isinstance(field.validation_alias, str):
        return {field.validation_alias}
    prefix = str(cls.model_config.get("env_prefix") or "")
    return {(prefix + name).upper(), name.upper()}


def documented_default(field: FieldInfo) -> str | None:
    """How OPERATIONS.md writes the field's default (None: computed at start, not checked)."""
    if field.default_factory is not None:
        return None
    value = field.default
    if value is PydanticUndefined:
        return "required"
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def settings_section(module_path: str) -> list[str]:
    """The lines of the OPERATIONS.md section whose heading names `module_path`."""
    lines = prose_lines(OPERATIONS.read_text(encoding="utf-8"))
    start = next((i for i, line in enumerate(lines) if line.startswith("#") and f"`{module_path}`" in line), None)
    assert start is not None, f"docs/OPERATIONS.md has no section headed with `{module_path}`"
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("#")), len(lines))
    return lines[start + 1 : end]


def table_row(section: list[str], names: set[str]) -> list[str] | None:
    """The cells of the table row whose first cell names one of `names`."""
    for line in section:
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if cells and names & set(re.findall(r"`([A-Z0-9_]+)`", cells[0])):
            return cells
    return None


def default_cell(cell: str) -> str:
    """The default as a cell writes it: the first code span, else the cell's first word."""
    if match := re.match(r"`([^`]*)`", cell):
        return match.group(1)
    return cell.split(" ", 1)[0].lower() if cell else ""


def test_the_readme_is_read_in_ten_minutes() -> None:
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines; move detail to docs/"


@pytest.mark.parametrize("path", doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(path: Path) -> None:
    problems = [problem for target in relative_links(path) if (problem := broken_link(path, target))]
    assert not problems, "\n".join(problems)


def test_the_link_checker_sees_a_broken_link_and_a_broken_anchor(tmp_path: Path) -> None:
    """The check above cannot pass vacuously: it finds links, and it refuses ones that do not resolve."""
    assert "docs/OPERATIONS.md#configuration" in relative_links(README) or any(
        "OPERATIONS.md" in link for link in relative_links(README)
    )
    assert broken_link(README, "docs/NO-SUCH-FILE.md") is not None
    assert broken_link(README, "docs/OPERATIONS.md#no-such-heading") is not None
    assert broken_link(README, "docs/OPERATIONS.md#observability") is None
    assert broken_link(README, "#the-path-of-one-message") is None


@pytest.mark.parametrize("module_path", SETTINGS_CLASSES)
def test_every_setting_is_in_operations_md_with_its_default(module_path: str) -> None:
    cls = SETTINGS_CLASSES[module_path]
    section = settings_section(module_path)
    problems = []
    for name, field in cls.model_fields.items():
        names = env_names(cls, name, field)
        row = table_row(section, names)
        if row is None:
            problems.append(f"{cls.__name__}.{name}: no row naming {' or '.join(sorted(names))}")
            continue
        expected = documented_default(field)
        written = default_cell(row[1]) if len(row) > 1 else ""
        if expected is not None and written != expected:
            problems.append(f"{cls.__name__}.{name}: default is {expected!r}, the row says {written!r}")
    assert not problems, f"docs/OPERATIONS.md, section `{module_path}`:\n" + "\n".join(problems)


def test_the_code_the_readme_names_exists() -> None:
    """The path of one message names files and functions: a rename must not leave the README pointing nowhere."""
    refs = _CODE_REF.findall(README.read_text(encoding="utf-8"))
    assert len(refs) >= 10, "the README's path of one message names the file and function of each step"
    problems = []
    for file, qualified in refs:
        path = ROOT / file
        if not path.is_file():
            problems.append(f"{file}: no such file")
            continue
        source = path.read_text(encoding="utf-8")
        for part in qualified.split("."):
            if not re.search(rf"^\s*(?:async\s+def|def|class)\s+{part}\b", source, re.MULTILINE):
                problems.append(f"{file}:{qualified}: no def or class {part}")
    assert not problems, "\n".join(problems)
