"""The cross-lingual bridge: an Arabic or Russian question's words with their English search words."""

from __future__ import annotations

import pytest

from ai_worker.answers.extractive import best_sentences, covered, terms_of
from ai_worker.retrieval.bridge import english_terms, lexicon


@pytest.mark.parametrize(
    ("question", "language", "english"),
    [
        ("Сколько стоит доставка в Шарджу?", "ru", {"delivery", "sharjah"}),
        ("какая гарантия на матрас", "ru", {"warranty", "mattress"}),
        ("كم تكلفة التوصيل إلى الشارقة؟", "ar", {"delivery", "sharjah"}),
        ("هل تقبلون الدفع عند الاستلام لطلب 3000 درهم", "ar", {"cash", "payment", "3000"}),
        ("متى يفتح المعرض يوم الجمعة", "ar", {"open", "showroom", "friday"}),
    ],
)
def test_inflected_words_find_their_english_words(question: str, language: str, english: set[str]) -> None:
    words = set(" ".join(english_terms(question, language=language)).split())
    assert english <= words


def test_numbers_codes_and_latin_words_are_kept_as_written() -> None:
    terms = english_terms("сколько стоит DO-ARM-2048 и доставка 3000 Tabby", language="ru")
    assert {"DO-ARM-2048", "3000", "Tabby"} <= set(terms)


def test_a_short_stem_does_not_stand_for_another_word() -> None:
    # "приём" stems to "при" (the preposition): it must not turn every "при" into an appointment.
    assert "appointment" not in " ".join(english_terms("оплата при доставке", language="ru"))


def test_no_vocabulary_no_bridge() -> None:
    assert lexicon("de") is None
    assert english_terms("Wie viel kostet die Lieferung?", language="de") == ()
    assert english_terms("зззз ыыыы", language="ru") == ()


def test_one_term_per_word_so_synonyms_do_not_count_twice() -> None:
    terms = terms_of("доставка в Шарджу", english_terms("доставка в Шарджу", language="ru"))
    assert covered(terms, "Sharjah: delivery fee AED 95.") == 1.0
    assert covered(terms, "Delivery is free over AED 1,500.") == 0.5


def test_the_sentence_saying_the_asked_terms_is_quoted() -> None:
    excerpt = "We deliver across the UAE. Delivery to Sharjah costs AED 95. Returns are accepted within 14 days."
    terms = terms_of("", english_terms("Сколько стоит доставка в Шарджу?", language="ru"))
    assert best_sentences(question=terms, excerpt=excerpt, limit=1) == ["Delivery to Sharjah costs AED 95."]
