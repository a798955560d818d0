"""Model text → Telegram HTML, safely; splitting long answers at paragraph or sentence boundaries.

The model writes Markdown-ish text and sometimes HTML. Everything is escaped except a small set of
Telegram-supported tags the model may have written itself; Markdown emphasis, code and links become
their HTML equivalents. If Telegram still refuses the result ("can't parse entities", e.g. the model
nested tags wrongly) the sender falls back to `plain_text`, so the customer always gets the text.
"""

from __future__ import annotations

import html
import re

TELEGRAM_LIMIT = 4096

_ALLOWED_TAG = re.compile(
    r"</?(?:b|strong|i|em|u|ins|s|strike|del|code|pre|blockquote|tg-spoiler)>|<a href=\"https?://[^\"<>\s]+\">|</a>",
    re.IGNORECASE,
)
_ANY_ALLOWED_TAG = re.compile(
    r"</?(?:b|strong|i|em|u|ins|s|strike|del|code|pre|blockquote|tg-spoiler|a)(?:\s[^<>]*)?>", re.IGNORECASE
)
_FENCE = re.compile(r"```[a-zA-Z0-9_+-]*\n?(.*?)```", re.DOTALL)
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", re.DOTALL)
_ITALIC = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
# A Markdown link, whatever its target (parentheses in it balanced one level deep, as in `alert(2)`).
_LINK = re.compile(r"\[([^\]\n]+)\]\(\s*<?((?:[^()\s<>]|\([^()\s]*\))+)>?\s*\)")
_WEB_URL = re.compile(r"https?://", re.IGNORECASE)
_CONTACT_URL = re.compile(r"(?:mailto|tel):", re.IGNORECASE)
_HEADING = re.compile(r"^#{1,6}\s+(.+)$", re.MULTILINE)
_BULLET = re.compile(r"^(\s*)[-*]\s+", re.MULTILINE)


def _escape_keeping_tags(text: str) -> str:
    out: list[str] = []
    position = 0
    for match in _ALLOWED_TAG.finditer(text):
        out.append(html.escape(html.unescape(text[position : match.start()]), quote=False))
        out.append(match.group(0))
        position = match.end()
    out.append(html.escape(html.unescape(text[position:]), quote=False))
    return "".join(out)


def _link_parts(label: str, target: str) -> tuple[str, str | None]:
    """The text to show for a Markdown link and the http(s) URL to link it to (None: no link).

    Only a web link stays a link; an address or number keeps its target as text (Telegram shows it
    tappable itself); any other scheme (`javascript:`, `data:`, `tg:`, …) is dropped, its label kept.
    """
    if _WEB_URL.match(target):
        return label, target
    if _CONTACT_URL.match(target):
        address = target.split(":", 1)[1]
        return (label if address == label else f"{label} ({address})"), None
    return label, None


def _link_html(match: re.Match[str]) -> str:
    label, url = _link_parts(match.group(1), match.group(2))
    shown = html.escape(label, quote=False)
    return f'<a href="{html.escape(url)}">{shown}</a>' if url else shown


def _link_text(match: re.Match[str]) -> str:
    label, url = _link_parts(match.group(1), match.group(2))
    return f"{label} ({url})" if url else label


def to_telegram_html(text: str) -> str:
    """Telegram HTML for a model's answer; text outside known tags is always escaped."""
    placeholders: list[str] = []

    def keep(rendered: str) -> str:
        placeholders.append(rendered)
        return f"\x00{len(placeholders) - 1}\x00"

    text = _FENCE.sub(lambda m: keep(f"<pre>{html.escape(m.group(1).strip(chr(10)), quote=False)}</pre>"), text)
    text = _INLINE_CODE.sub(lambda m: keep(f"<code>{html.escape(m.group(1), quote=False)}</code>"), text)
    text = _LINK.sub(lambda m: keep(_link_html(m)), text)
    text = _escape_keeping_tags(text)
    text = _HEADING.sub(r"<b>\1</b>", text)
    text = _BULLET.sub(r"\1• ", text)
    text = _BOLD.sub(r"<b>\1</b>", text)
    text = _ITALIC.sub(r"<i>\1</i>", text)
    return re.sub("\x00(\\d+)\x00", lambda m: placeholders[int(m.group(1))], text)


def plain_text(text: str) -> str:
    """The answer without any markup: what is sent when Telegram refuses the HTML."""
    text = _ANY_ALLOWED_TAG.sub("", text)
    text = _LINK.sub(_link_text, text)
    text = text.replace("**", "")
    text = html.unescape(text)
    return text.strip() or "…"


def _pieces(text: str, limit: int) -> list[str]:
    """Break one over-long block at sentence ends, then spaces, then anywhere."""
    for pattern in (r"(?<=[.!?…])\s+", r"\n", r" "):
        parts = [p for p in re.split(pattern, text) if p]
        if len(parts) > 1 and all(len(p) <= limit for p in parts):
            return parts
        if len(parts) > 1:
            out: list[str] = []
            for part in parts:
                out.extend(_pieces(part, limit) if len(part) > limit else [part])
            return out
    return [text[i : i + limit] for i in range(0, len(text), limit)]


def split_message(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Parts of at most `limit` characters, split at paragraph, then sentence, then word boundaries."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    chunks: list[str] = []
    current = ""
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        blocks = [paragraph] if len(paragraph) <= limit else _pieces(paragraph, limit)
        for i, block in enumerate(blocks):
            joiner = "\n\n" if i == 0 else " "
            candidate = f"{current}{joiner}{block}" if current else block
            if len(candidate) <= limit:
                current = candidate
            else:
                chunks.append(current)
                current = block
    if current:
        chunks.append(current)
    return chunks
