"""An answer in Markdown or HTML as WhatsApp text: *bold*, _italic_, ~strike~, plain links; split readably."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup, NavigableString, Tag
from markdown_it import MarkdownIt
from semantic_text_splitter import TextSplitter


class _EveryLink(MarkdownIt):
    def validateLink(self, url: str) -> bool:
        # markdown-it leaves a `javascript:` link as raw Markdown text; parsed as a link instead,
        # `_render` keeps only its text (only http(s)/mailto/tel targets are ever shown).
        return True


_MARKDOWN = _EveryLink("commonmark", {"html": True}).enable("strikethrough")
_WRAPPERS = {"strong": "*", "b": "*", "em": "_", "i": "_", "s": "~", "del": "~", "strike": "~"}
_BLOCKS = {"p", "div", "section", "article", "blockquote", "table", "tr", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}
_DROPPED = {"script", "style", "head", "title"}
_SAFE_URL = re.compile(r"(?:https?://|mailto:|tel:)", re.IGNORECASE)
# What a browser ignores in a URL: tabs and line breaks anywhere, C0 controls and spaces at the ends.
_IGNORED_IN_URL = re.compile(r"[\t\n\r]|^[\x00-\x20]+|[\x00-\x20]+$")


def _safe_url(url: str) -> str | None:
    """`url` if a browser would open it as http(s), mailto or tel; None for any other scheme or a relative one."""
    url = _IGNORED_IN_URL.sub("", url)
    return url if _SAFE_URL.match(url) else None


def _wrap(marker: str, inner: str) -> str:
    """WhatsApp needs the markers hugging the words: `*bold*`, never `* bold *`."""
    stripped = inner.strip()
    if not stripped:
        return inner
    lead = inner[: len(inner) - len(inner.lstrip())]
    trail = inner[len(inner.rstrip()) :]
    return f"{lead}{marker}{stripped}{marker}{trail}"


def _render(node: Tag | NavigableString) -> str:
    if isinstance(node, NavigableString):
        return str(node) if node.__class__ is NavigableString else ""
    name = node.name
    if name in _DROPPED:
        return ""
    inner = "".join(_render(child) for child in node.children if isinstance(child, Tag | NavigableString))
    if name in _WRAPPERS:
        return _wrap(_WRAPPERS[name], inner)
    if name == "br":
        return "\n"
    if name == "hr":
        return "\n\n"
    if name == "code":
        return inner if node.parent is not None and node.parent.name == "pre" else f"`{inner}`"
    if name == "pre":
        return f"\n\n```\n{inner.strip(chr(10))}\n```\n\n"
    if name == "a":
        href = _safe_url(str(node.get("href") or ""))
        label = inner.strip()
        if not href or href in (label, f"mailto:{label}", f"tel:{label}"):
            return inner
        return f"{label} ({href})" if label else href
    if name == "img":
        alt = str(node.get("alt") or "").strip()
        src = _safe_url(str(node.get("src") or ""))
        return " ".join(part for part in (alt, src) if part)
    if name in ("h1", "h2", "h3", "h4", "h5", "h6"):
        return f"\n\n{_wrap('*', inner)}\n\n"
    if name in ("ul", "ol"):
        items = "".join(_render(child) for child in node.children if isinstance(child, Tag))
        return f"\n{items}\n\n"
    if name == "li":
        parent = node.find_parent(["ul", "ol"])
        depth = len(node.find_parents(["ul", "ol"])) - 1
        if parent is not None and parent.name == "ol":
            start = int(str(parent.get("start") or 1)) if str(parent.get("start") or "1").isdigit() else 1
            index = start + sum(1 for sibling in node.find_previous_siblings("li"))
            bullet = f"{index}."
        else:
            bullet = "•"
        return f"\n{'  ' * depth}{bullet} {inner.strip()}"
    if name in ("td", "th"):
        return inner.strip() + " "
    if name in _BLOCKS:
        return f"\n\n{inner}\n\n"
    return inner


def to_whatsapp(text: str) -> str:
    """Markdown and HTML (or a mix of both) rendered as WhatsApp's own formatting."""
    html = _MARKDOWN.render(text)
    soup = BeautifulSoup(html, "html.parser")
    rendered = "".join(_render(child) for child in soup.children if isinstance(child, Tag | NavigableString))
    lines = [re.sub(r"[ \t]+", " ", line).rstrip() for line in rendered.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def split_message(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, cut between paragraphs, then sentences, then words."""
    if len(text) <= limit:
        return [text]
    return [chunk for chunk in TextSplitter(limit).chunks(text) if chunk.strip()]
