"""Model text → Telegram HTML and splitting, checked with the emulator's Telegram-HTML parser."""

from __future__ import annotations

import re

import pytest

from parley_testkit.telegram_emulator import ApiError, parse_html
from telegram_bot.formatting import html_to_plain, sent_length, split_html, split_plain, to_telegram_html


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
    assert html_to_plain(to_telegram_html(text)) == "Delivery: AED 15"


def test_short_text_is_one_part() -> None:
    assert split_html("Hello there.") == ["Hello there."]


def test_split_prefers_paragraphs_then_sentences_and_loses_nothing() -> None:
    sentence = "This sentence is about forty-five characters. "
    one_long_paragraph = (sentence * 200).strip()  # ~9,200 characters, no paragraph breaks
    parts = split_html(one_long_paragraph)
    assert len(parts) == 3
    assert all(len(p) <= 4096 for p in parts)
    assert all(p.endswith(".") for p in parts)  # cut at sentence ends
    assert " ".join(parts) == one_long_paragraph


def test_a_word_longer_than_the_limit_is_cut_hard() -> None:
    parts = split_html("x" * 9000, limit=4096)
    assert [len(p) for p in parts] == [4096, 4096, 808]


def _long_formatted_answer() -> str:
    """~8,000 visible characters of model text: links whose HTML is far longer than their labels, a
    bold span the model wrote in HTML across paragraphs, a code block, entities and emoji."""
    links = " ".join(f"[Sofa {i}](https://duneandoak.ae/sofas/{i}?colour=sand&size=large)" for i in range(120))
    bold = "\n\n".join(
        " ".join(f"Sofa {p}.{s} has an oak frame & a 10-year warranty." for s in range(8)) for p in range(12)
    )
    code = "```\n" + "\n".join(f"if price[{i}] < 1000: discount({i})" for i in range(40)) + "\n```"
    tail = " ".join(f"Delivery to area {i} takes 2–4 days 🚚." for i in range(30))
    return f"{links}\n\n<b>{bold}</b>\n\n{code}\n\n{tail}"


def test_parts_are_sized_on_what_telegram_counts_and_keep_their_formatting() -> None:
    sent = to_telegram_html(_long_formatted_answer())
    whole = parse_html(sent)
    assert 7_000 < len(whole) < 9_000 and len(sent) > len(whole) + 8192
    parts = split_html(sent)
    visible = [parse_html(p) for p in parts]  # each part is valid Telegram HTML on its own
    assert all(sent_length(v) <= 4096 for v in visible)
    assert len(parts) <= -(-sent_length(whole) // 4096) + 1
    assert any(len(p) > 4096 for p in parts)  # the HTML may be longer: Telegram counts the text
    assert " ".join(" ".join(visible).split()) == " ".join(whole.split())  # nothing lost, nothing reordered
    # The bold span cut between parts is closed and reopened: every sentence of it is still bold.
    bold = " ".join(" ".join(re.findall(r"<b>(.*?)</b>", p, re.DOTALL)) for p in parts)
    assert all(f"Sofa {p}.{s} has" in bold for p in range(12) for s in range(8))


def test_emoji_count_twice_toward_the_limit() -> None:
    parts = split_html("😀" * 3000)
    assert [len(p) for p in parts] == [2048, 952]


def test_plain_text_of_a_part_keeps_the_words_and_the_link_targets() -> None:
    part = (
        '<b>Sofa</b> <a href="https://duneandoak.ae/s?a=1&amp;b=2">details</a> &lt;3 '
        '<a href="tel:+97145550142">+97145550142</a>'
    )
    assert html_to_plain(part) == "Sofa details (https://duneandoak.ae/s?a=1&b=2) <3 +97145550142"
    pieces = split_plain("a < b & c. " * 1000)
    assert all(len(p) <= 4096 for p in pieces) and " ".join(pieces) == ("a < b & c. " * 1000).strip()
