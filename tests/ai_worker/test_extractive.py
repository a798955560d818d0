"""The extractive answer (the best sentences of the best excerpt after a lead-in) and the texts of
every shipped language."""

from __future__ import annotations

import re

import pytest

from ai_worker.answers.base import SHIPPED_LANGUAGES
from ai_worker.answers.extractive import (
    Candidate,
    best_candidates,
    best_sentences,
    coverage,
    extractive_answer,
    keywords,
    sentences,
    terms_of,
)
from ai_worker.answers.texts import FALLBACK, LEAD_IN, fallback_text, lead_in, shipped
from parley_testkit.stack import SAMPLE_KB

SCRIPT = {"en": re.compile(r"[A-Za-z]"), "ar": re.compile(r"[\u0600-\u06ff]"), "ru": re.compile(r"[\u0400-\u04ff]")}


def faq_section(heading_words: str) -> str:
    text = (SAMPLE_KB / "faq.md").read_text()
    return next("## " + part for part in text.split("\n## ") if heading_words in part.split("\n")[0])


def test_every_shipped_language_has_its_texts_in_its_own_script() -> None:
    for language in SHIPPED_LANGUAGES:
        for texts in (FALLBACK, LEAD_IN):
            assert SCRIPT[language].search(texts[language]), (language, texts[language])
        assert fallback_text(language=language) == FALLBACK[language]
        assert lead_in(language=language) == LEAD_IN[language]
    # The fallback says both halves: no information, and passed on to a person.
    assert "don't have" in FALLBACK["en"] and "colleague" in FALLBACK["en"]
    assert "нет этой информации" in FALLBACK["ru"] and "коллеге" in FALLBACK["ru"]
    assert "لا تتوفر" in FALLBACK["ar"] and "زملائي" in FALLBACK["ar"]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("ar", "ar"),
        ("ru", "ru"),
        ("RU", "ru"),
        ("en-GB", "en"),
        ("ar_AE", "ar"),
        ("fr", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_languages_without_texts_get_english(language: str | None, expected: str) -> None:
    assert shipped(language) == expected
    assert fallback_text(language=language) == FALLBACK[expected]


def test_keywords_are_stemmed_per_script_and_keep_numbers() -> None:
    assert {"deliveri", "sharjah", "2500"} <= keywords("Deliveries to Sharjah for 2,500?")
    assert keywords("доставки") == keywords("доставка")
    assert keywords("Сколько стоит доставка") and not keywords("и в на")
    assert "٢٥٠٠" not in keywords("٢٥٠٠") and "2500" in keywords("٢٥٠٠")
    assert coverage("cash on delivery", "Cash on delivery is available") == 1.0
    assert coverage("", "anything") == 0.0


def test_sentences_drop_headings_and_bullets() -> None:
    found = sentences("## How can I contact you?\n\n- WhatsApp: +971 50 555 0142 (7 days)\n- Phone: +971 4 555 0142")
    assert found == ["WhatsApp: +971 50 555 0142 (7 days)", "Phone: +971 4 555 0142"]


def test_the_best_sentences_are_those_sharing_the_question_s_words() -> None:
    payment = faq_section("payment methods")
    picked = best_sentences(question="Can I pay cash on delivery for a 3000 dirham order?", excerpt=payment)
    assert picked and any("Cash on delivery is available for orders up to AED 2,500" in s for s in picked)
    assert all("cheques" not in s for s in picked)
    assert len(picked) <= 3


@pytest.mark.parametrize("language", ["en", "ar", "ru", "fr"])
def test_the_extractive_answer_quotes_the_excerpt_after_a_lead_in_in_the_customer_s_language(language: str) -> None:
    payment = faq_section("payment methods")
    answer = extractive_answer(question="cash on delivery limit?", excerpt=payment, language=language)
    assert answer is not None
    assert answer.startswith(lead_in(language=language))
    assert "AED 2,500" in answer  # the business's words, numbers as written


def test_a_question_in_another_language_than_the_excerpt_gets_its_opening_sentences() -> None:
    delivery = faq_section("payment methods")
    answer = extractive_answer(question="Можно оплатить наличными?", excerpt=delivery, language="ru")
    assert answer is not None and answer.startswith(LEAD_IN["ru"])
    assert sentences(delivery)[0] in answer


def test_an_excerpt_with_nothing_to_quote_gives_no_extractive_answer() -> None:
    assert extractive_answer(question="price?", excerpt="## Prices\n\n", language="en") is None


def test_a_markdown_table_row_is_a_sentence_naming_its_columns() -> None:
    table = (
        "## Fees\n\n| Emirate | Delivery fee | Free over |\n|---|---|---|\n"
        "| Sharjah | AED 95 | AED 1,500 |\n| Fujairah (incl. Dibba) | AED 200 | AED 4,000 |\n\nAll fees include VAT."
    )
    assert sentences(table) == [
        "Emirate: Sharjah; Delivery fee: AED 95; Free over: AED 1,500.",
        "Emirate: Fujairah (incl. Dibba); Delivery fee: AED 200; Free over: AED 4,000.",
        "All fees include VAT.",
    ]


def test_a_pdf_line_wrapped_mid_sentence_is_one_sentence() -> None:
    wrapped = "- Frames - 5 years: the frames of sofas, beds, desks\nand kids' furniture.\n- Foam - 1 year: the seats."
    assert sentences(wrapped) == [
        "Frames - 5 years: the frames of sofas, beds, desks and kids' furniture.",
        "Foam - 1 year: the seats.",
    ]


def test_of_two_sentences_as_close_and_as_wordy_the_one_stating_a_number_is_quoted_first() -> None:
    asked = terms_of("how long is the warranty on a sofa frame")
    candidates = [
        Candidate("All furniture has a warranty; frames and mattresses each have their own period.", 0.6, 0),
        Candidate("Frames - 5 years: the structural frames of sofas and beds.", 0.6, 1),
        Candidate("Dust wood with a soft dry cloth.", 0.1, 1),
    ]
    assert best_candidates(candidates, asked) == [candidates[1], candidates[0]]  # the care tip is noise
