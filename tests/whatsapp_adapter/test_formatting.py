"""Answers as WhatsApp text: Markdown and HTML converted, long answers split readably."""

from __future__ import annotations

import re

import pytest

from whatsapp_adapter.formatting import split_message, to_whatsapp


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("**Yes!** We deliver to *Dubai*.", "*Yes!* We deliver to _Dubai_."),
        ("__bold__ and _it_ and ~~gone~~", "*bold* and _it_ and ~gone~"),
        ("See [our policy](https://dune.example/returns).", "See our policy (https://dune.example/returns)."),
        ("Visit <https://dune.example>", "Visit https://dune.example"),
        ("<p>Hello <b>there</b> &amp; <i>welcome</i><br>Line two</p>", "Hello *there* & _welcome_\nLine two"),
        ('<a href="https://dune.example">https://dune.example</a>', "https://dune.example"),
        ("# Delivery\n\nTwo days.", "*Delivery*\n\nTwo days."),
        ("- sofa\n- chair", "• sofa\n• chair"),
        ("1. order\n2. pay", "1. order\n2. pay"),
        ("Code `DO-SOF-1088` is in stock.", "Code `DO-SOF-1088` is in stock."),
        ("** spaced ** stays", "** spaced ** stays"),
        ("Plain text, no changes.", "Plain text, no changes."),
        ("<script>alert(1)</script>Hi", "Hi"),
        ("<div>unclosed <b>bold", "unclosed *bold*"),
    ],
)
def test_markdown_and_html_become_whatsapp_formatting(answer: str, expected: str) -> None:
    assert to_whatsapp(answer) == expected


def test_no_markdown_or_html_leftovers_in_a_mixed_answer() -> None:
    answer = (
        "## Our sofas\n\n**Dune sofa** (`DO-SOF-1088`) costs *AED 4,200*. <strong>Free delivery</strong> in Dubai;"
        " see [delivery](https://dune.example/delivery).\n\n* fabric\n* leather\n\n<em>Thank you!</em>"
    )
    text = to_whatsapp(answer)
    assert not re.search(r"</?\w+[^>]*>|\*\*|\]\(|^#", text, flags=re.M), text
    assert "*Dune sofa*" in text and "_AED 4,200_" in text and "*Free delivery*" in text
    assert "delivery (https://dune.example/delivery)" in text and "• fabric\n• leather" in text


def test_a_long_answer_is_split_between_paragraphs_under_the_limit() -> None:
    paragraphs = [f"Paragraph {i}. " + "The sofa is comfortable and well made. " * 40 for i in range(30)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    parts = split_message(text, 10_000)
    assert len(parts) >= 4 and all(len(part) <= 10_000 for part in parts)
    assert all(part.startswith("Paragraph") and part.endswith(".") for part in parts)
    assert re.sub(r"\s+", " ", " ".join(parts)) == re.sub(r"\s+", " ", text)


def test_a_short_answer_is_one_message() -> None:
    assert split_message("Hello!", 10_000) == ["Hello!"]
