"""Model text → Telegram HTML, safely; splitting that HTML into parts Telegram accepts.

The model writes Markdown-ish text and sometimes HTML. Everything is escaped except a small set of
Telegram-supported tags the model may have written itself; Markdown emphasis, code and links become
their HTML equivalents. If Telegram still refuses the result ("can't parse entities", e.g. the model
nested tags wrongly) the delivery sends that part as plain text (`html_to_plain`), so the customer
always gets the text.
"""

from __future__ import annotations

import html
import re

TELEGRAM_LIMIT = 4096

_ALLOWED_TAG = re.compile(
    r"</?(?:b|strong|i|em|u|ins|s|strike|del|code|pre|blockquote|tg-spoiler)>|<a href=\"https?://[^\"<>\s]+\">|</a>",
    re.IGNORECASE,
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


# ---- parts of what is sent -------------------------------------------------------------------
# Telegram's limit is on the text *after entity parsing* (tags gone, entities decoded), so parts are
# cut on the HTML actually sent, measured the way Telegram measures, never inside a tag or entity;
# formatting open at a cut is closed at the end of one part and reopened at the start of the next.

#: Only these named entities are decoded by Telegram; any other `&…;` is sent as its characters.
_SENT_TOKEN = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)(?:\s[^<>]*)?>|&(?:lt|gt|amp|quot|#[0-9]+|#[xX][0-9a-fA-F]+);")
_LINK_ELEMENT = re.compile(r"<a\s[^<>]*?href=\"([^\"]*)\"[^<>]*>(.*?)</a>", re.IGNORECASE | re.DOTALL)
#: Where a part may end, best first: a paragraph, a sentence, a line, a word.
_BOUNDARIES = (re.compile(r"\n[ \t]*\n"), re.compile(r"(?<=[.!?…])\s"), re.compile(r"\n"), re.compile(r"\s"))


class _Scanned:
    """One HTML string as Telegram reads it: each visible character with its span in the HTML,
    and each tag with its position."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.visible: list[str] = []
        self.spans: list[tuple[int, int]] = []
        self.tags: list[tuple[int, str, str]] = []  # (start, name, raw); a closing tag's name is "/name"
        position = 0
        for match in _SENT_TOKEN.finditer(text):
            self._characters(position, match.start())
            if match.group(2):
                name = match.group(2).lower()
                self.tags.append((match.start(), f"/{name}" if match.group(1) else name, match.group(0)))
            else:
                self.visible.append(html.unescape(match.group(0)))
                self.spans.append((match.start(), match.end()))
            position = match.end()
        self._characters(position, len(text))
        self.string = "".join(self.visible)

    def _characters(self, start: int, end: int) -> None:
        for index in range(start, end):
            self.visible.append(self.text[index])
            self.spans.append((index, index + 1))

    def open_tags(self, before: int) -> list[tuple[str, str]]:
        """(name, raw opening tag) of the elements open at HTML offset `before`, outermost first."""
        stack: list[tuple[str, str]] = []
        for start, name, raw in self.tags:
            if start >= before:
                break
            if not name.startswith("/"):
                stack.append((name, raw))
                continue
            # A stray or misnested closing tag: close the innermost element of that name, if any.
            for depth in range(len(stack) - 1, -1, -1):
                if stack[depth][0] == name[1:]:
                    del stack[depth]
                    break
        return stack

    def render(self, first: int, end: int) -> str:
        """Valid HTML for the visible characters [first, end): formatting open there is reopened/closed."""
        start, stop = self.spans[first][0], self.spans[end - 1][1]
        opened = "".join(raw for _name, raw in self.open_tags(start))
        closed = "".join(f"</{name}>" for name, _raw in reversed(self.open_tags(stop)))
        return f"{opened}{self.text[start:stop]}{closed}"


def sent_length(text: str) -> int:
    """Length as Telegram may count it: UTF-16 code units (an emoji counts 2). Sources differ on whether
    Telegram counts code points or UTF-16 units; the larger count fits either way."""
    return len(text.encode("utf-16-le")) // 2


def visible_text(text: str) -> str:
    """What Telegram shows (and measures) for an HTML message."""
    return _Scanned(text).string


def split_html(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Parts of Telegram HTML whose visible text is at most `limit` (see `sent_length`), cut at a
    paragraph, else sentence, line or word boundary, never inside a tag or entity."""
    scanned = _Scanned(text)
    if sent_length(scanned.string) <= limit:
        return [text] if scanned.string.strip() else []
    parts: list[str] = []
    first = _skip_space(scanned.string, 0)
    while first < len(scanned.string):
        end = _fit(scanned.string, first, limit)
        if end < len(scanned.string):
            end = _cut(scanned.string, first, end)
        parts.append(scanned.render(first, _trim_space(scanned.string, first, end)))
        first = _skip_space(scanned.string, end)
    return parts


def split_plain(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """`split_html` for text sent without parse_mode."""
    return [html.unescape(part) for part in split_html(html.escape(text, quote=False), limit)]


def html_to_plain(text: str) -> str:
    """A part's words without markup, each link as `label (url)`: sent when Telegram refuses the HTML."""

    def link(match: re.Match[str]) -> str:
        url, label = html.unescape(match.group(1)), match.group(2)
        shown = visible_text(label)
        return label if url in (shown, f"mailto:{shown}", f"tel:{shown}") else f"{label} ({html.escape(url)})"

    return visible_text(_LINK_ELEMENT.sub(link, text)).strip() or "…"


def _fit(visible: str, first: int, limit: int) -> int:
    """The end of the longest run from `first` within `limit`."""
    used = 0
    for index in range(first, len(visible)):
        used += 2 if ord(visible[index]) > 0xFFFF else 1
        if used > limit:
            return index
    return len(visible)


def _cut(visible: str, first: int, end: int) -> int:
    """Where to end a part that must stop by `end`: the last boundary of the best kind that keeps the
    part at least half full; else the last boundary of any kind; else `end` (a hard cut)."""
    window = visible[first : end + 1]  # a boundary may begin right at `end`
    latest: list[int] = []
    for boundary in _BOUNDARIES:
        cuts = [m.start() for m in boundary.finditer(window) if m.start() > 0]
        if cuts and cuts[-1] >= (end - first) // 2:
            return first + cuts[-1]
        latest.extend(cuts[-1:])
    return first + max(latest) if latest else end


def _skip_space(visible: str, index: int) -> int:
    while index < len(visible) and visible[index].isspace():
        index += 1
    return index


def _trim_space(visible: str, first: int, end: int) -> int:
    while end > first + 1 and visible[end - 1].isspace():
        end -= 1
    return end
