"""Model text → Telegram HTML and splitting, checked with the emulator's Telegram-HTML parser."""

from __future__ import annotations

import pytest

from telegram_bot.formatting import plain_text, split_message, to_telegram_html
from tests.support.telegram_emulator import ApiError, parse_html


@pytest.mark.parametrize(
    ("model_text", "visible"),
    [
        ("Price: 5 < 10 & 7 > 3", "Price: 5 < 10 & 7 > 3"),
        ("**Bold** and *italic* and `code <x>`", "Bold and italic and code <x>"),
        ("See [our policy](https://example.com/p?a=1&b=2)", "See our policy"),
        ("# Returns\n- one\n- two", "Returns\n• one\n• two"),
        ("<b>kept</b> <script>alert(1)</script>", "kept <script>alert(1)</script>"),
        ("```\nif a < b:\n    pass\n```", "if a < b:\n    pass"),
        ("Already escaped: &lt;b&gt;", "Already escaped: <b>"),
    ],
)
def test_html_is_valid_for_telegram_and_shows_the_text(model_text: str, visible: str) -> None:
    assert parse_html(to_telegram_html(model_text)) == visible


def test_wrongly_nested_model_html_is_refused_by_telegram_and_plain_text_keeps_the_words() -> None:
    text = "<b>Delivery: <i>AED 15</b></i>"
    with pytest.raises(ApiError, match="can't parse entities"):
        parse_html(to_telegram_html(text))
    assert plain_text(text) == "Delivery: AED 15"


def test_short_text_is_one_part() -> None:
    assert split_message("Hello there.") == ["Hello there."]


def test_split_prefers_paragraphs_then_sentences_and_loses_nothing() -> None:
    sentence = "This sentence is about forty-five characters. "
    one_long_paragraph = (sentence * 200).strip()  # ~9,200 characters, no paragraph breaks
    parts = split_message(one_long_paragraph)
    assert len(parts) == 3
    assert all(len(p) <= 4096 for p in parts)
    assert all(p.endswith(".") for p in parts)  # cut at sentence ends
    assert " ".join(parts) == one_long_paragraph


def test_a_word_longer_than_the_limit_is_cut_hard() -> None:
    parts = split_message("x" * 9000, limit=4096)
    assert [len(p) for p in parts] == [4096, 4096, 808]
