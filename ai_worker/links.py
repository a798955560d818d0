"""Links in answers: only http(s), mailto and tel survive.

An answer is shown by clients we do not control (a partner's web page, a chat widget) that may render
its Markdown or HTML. A model led on by a customer or a planted document can write
`[Claim refund](javascript:alert(2))`, a `data:` page or a `file:` path; so before the answer is
stored every link whose target is not an allowed URL becomes its text without the link. Targets are
judged the way a browser reads them: HTML entities and Markdown backslash escapes decoded, tabs and line
breaks removed, spaces and control characters at the ends dropped, the scheme in any case. Anything
that is not clearly http(s)/mailto/tel (a relative path, an unknown scheme) counts as unsafe.

Markdown renderers disagree at the edges (how deep parentheses nest in a target, a space between `]`
and `(`), so after the links we can parse are rewritten, any `](` still followed by an unsafe target
loses its `(`: no renderer makes a link of what is left. Every scan is bounded (how far back a label
is looked for, how long an anchor's text may be), so a hostile answer is cleaned in about linear time.
"""

from __future__ import annotations

import html
import re

_ALLOWED = re.compile(r"(?:https?://|mailto:|tel:)", re.IGNORECASE)
# What a browser ignores in a URL: tabs and line breaks anywhere, C0 controls and spaces at the ends.
_IGNORED = re.compile(r"[\t\n\r]|^[\x00-\x20]+|[\x00-\x20]+$")
_MARKDOWN_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
#: Markup nested to rebuild a tag as another is removed gets this many passes, then loses its tags.
_MAX_PASSES = 8


def _nested_parens(depth: int) -> str:
    """A link target without spaces whose parentheses are balanced up to `depth` levels."""
    plain = r"[^\s()\\]|\\."
    pattern = f"(?:{plain})*"
    for _ in range(depth):
        pattern = rf"(?:{plain}|\({pattern}\))*"
    return pattern


# The rest of an inline link after its label: `](target "title")`, the target bare or in <>.
_LINK_TAIL = re.compile(
    r"\]\([ \t]*\n?[ \t]*(<[^<>\n]*>|" + _nested_parens(8) + r")"
    r"""(?:[ \t]*\n?[ \t]+(?:"[^"]*"|'[^']*'|\([^()]*\)))?[ \t]*\n?[ \t]*\)"""
)
# Whatever a lenient renderer could still read as a label's end and a target's start.
_LOOSE_TAIL = re.compile(r"\][ \t]*\n?[ \t]*\(")
#: How far back the `[` opening a link's label is looked for.
_LABEL_WINDOW = 500
#: How much of a target decides whether it is safe (the scheme is at its start).
_TARGET_WINDOW = 200

# `<scheme:…>`: a Markdown autolink.
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.\-]{1,31}:[^<>\x00-\x20]*)>")
# `[label]: target "title"` alone on a line (in a quote or a list item too): a reference definition.
_DEFINITION = re.compile(
    r"^[ \t]*(?:>[ \t]*)*(?:(?:[-+*]|\d{1,9}[.)])[ \t]+)?\[[^\[\]\n]{1,999}\]:[ \t]*\n?[ \t]*(<[^<>\n]*>|\S+)"
    r"""(?:[ \t]+(?:"[^"\n]*"|'[^'\n]*'|\([^()\n]*\)))?[ \t]*$""",
    re.MULTILINE,
)
# An HTML anchor with its content; any HTML start tag; the attributes in a tag.
_ANCHOR = re.compile(r"(<a(?:[\s/][^<>]*)?>)(.{0,2000}?)</a\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[A-Za-z][A-Za-z0-9-]*(?:[\s/][^<>]*)?>")
_ATTRIBUTE = re.compile(r"""([^\s"'<>/=]+)\s*=\s*("[^"]*"|'[^']*'|[^\s"'=<>`]+)""")
_URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "xlink:href", "poster", "background", "cite", "data", "srcset", "ping"}
)


def _normalised(target: str) -> str:
    decoded = _MARKDOWN_ESCAPE.sub(r"\1", html.unescape(target.strip().strip("<>")))
    return _IGNORED.sub("", decoded)


def is_safe_url(target: str) -> bool:
    """Whether a browser would open `target` (as written in Markdown or HTML) as http(s), mailto or tel."""
    return _ALLOWED.match(_normalised(target)) is not None


def _has_unsafe_scheme(target: str) -> bool:
    """Whether `target` names a scheme other than http(s)/mailto/tel (a relative target names none)."""
    normalised = _normalised(target)
    return _SCHEME.match(normalised) is not None and _ALLOWED.match(normalised) is None


def _label_start(text: str, close: int) -> int | None:
    """The `[` opening the label whose `]` is at `close` (nested brackets balanced), if near enough."""
    depth = 0
    for position in range(close - 1, max(close - _LABEL_WINDOW, 0) - 1, -1):
        if text[position] == "]":
            depth += 1
        elif text[position] == "[":
            if depth == 0:
                return position
            depth -= 1
    return None


def _strip_inline_links(text: str) -> str:
    """`[label](target)` and `![alt](target)` with an unsafe target become `label` / `alt`."""
    position = 0
    while (tail := _LINK_TAIL.search(text, position)) is not None:
        if is_safe_url(tail.group(1)):
            position = tail.end()
            continue
        opener = _label_start(text, tail.start())
        if opener is None:  # no label in sight: the target goes, the text before it stays
            text = text[: tail.start() + 1] + text[tail.end() :]
            position = tail.start() + 1
            continue
        label = text[opener + 1 : tail.start()]
        if opener > 0 and text[opener - 1] == "!":
            opener -= 1
        text = text[:opener] + label + text[tail.end() :]
        position = opener  # the label may hold a link of its own
    return text


def _break_loose_links(text: str) -> str:
    """Any `](` (or `] (`) left before a target with an unsafe scheme loses its `(`: no renderer links it."""

    def unlink(match: re.Match[str]) -> str:
        target = text[match.end() : match.end() + _TARGET_WINDOW]
        return "] " if _has_unsafe_scheme(target) else match.group(0)

    return _LOOSE_TAIL.sub(unlink, text)


def _safe_tag(tag: str) -> bool:
    for name, value in _ATTRIBUTE.findall(tag):
        name = name.lower()
        if name.startswith("on"):  # an event handler runs script whatever the link
            return False
        if name in _URL_ATTRIBUTES and not is_safe_url(value.strip("\"'")):
            return False
    return True


def _strip_html_links(text: str) -> str:
    """`<a href=unsafe>text</a>` becomes `text`; any other tag with an unsafe URL or a handler goes."""
    text = _ANCHOR.sub(lambda m: m.group(0) if _safe_tag(m.group(1)) else m.group(2), text)
    return _TAG.sub(lambda m: m.group(0) if _safe_tag(m.group(0)) else "", text)


def _strip_markup_links(text: str) -> str:
    text = _strip_html_links(text)
    text = _DEFINITION.sub(lambda m: m.group(0) if is_safe_url(m.group(1)) else "", text)
    return _AUTOLINK.sub(lambda m: m.group(0) if is_safe_url(m.group(1)) else m.group(1), text)


def strip_unsafe_links(text: str) -> str:
    """The answer with every link to anything but http(s)/mailto/tel turned into plain text."""
    text = _strip_inline_links(text)
    for _ in range(_MAX_PASSES):  # removing a tag can join the text around it into a new one
        cleaned = _strip_markup_links(text)
        if cleaned == text:
            break
        text = cleaned
    else:
        text = text.replace("<", "‹")
    return _break_loose_links(text)
