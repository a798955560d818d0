"""Detecting the customer's language offline, on messages as customers write them."""

from __future__ import annotations

import pytest

from ai_worker.language import detect_language, detector
from bench.quality import load_questions


@pytest.mark.parametrize(
    "text",
    [
        "I got my sofa 20 days ago and changed my mind. Can I still return it?",
        "wat is teh prise of liwa tabel",
        "price of DO-ARM-2048?",
        "do u deliver to sharjah tmrw",
        "salam, DO-KID-9102 comes in white?",
        "Can I pay cash on delivery for a 3000 dirham order",
    ],
)
def test_english(text: str) -> None:
    assert detect_language(text, fallback="ar") == "en"


@pytest.mark.parametrize(
    "text",
    [
        "كم تكلفة التوصيل إلى الشارقة؟",
        "ابي اعرف سعر الكنبه",  # Gulf spelling, no hamza, teh marbuta as heh
        "كم سعر Liwa Solid Oak Dining Table",  # an English product name in an Arabic question
        "هل DO-ARM-2048 متوفر",
        "مرحبا، هل يوجد توصيل مجاني للطلبات فوق ١٥٠٠ درهم؟",
    ],
)
def test_arabic(text: str) -> None:
    assert detect_language(text, fallback="en") == "ar"


@pytest.mark.parametrize(
    "text",
    [
        "Сколько стоит доставка в Шарджу?",
        "сколко стоит диван Marsa Linen",  # typo and a Latin product name
        "есть ли в наличии DO-SOF-1042",
        "можно вернуть кресло если не понравилось",
    ],
)
def test_russian(text: str) -> None:
    assert detect_language(text, fallback="en") == "ru"


@pytest.mark.parametrize("text", ["ok", "DO-ARM-2048", "12345", "?", "+971 4 123 4567", "Liwa", "да", "👍", ""])
def test_too_short_to_tell_keeps_the_contacts_language(text: str) -> None:
    assert detect_language(text, fallback="ru") == "ru"
    assert detect_language(text, fallback=None) == "en"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Bonjour, livrez-vous à Abu Dhabi ?", "fr"),
        ("Wie lange dauert die Lieferung nach Dubai?", "de"),
        ("Hola, ¿cuánto cuesta la entrega?", "es"),
        ("Teslimat ne kadar sürer?", "tr"),
        ("این مبل چند است؟", "fa"),
        ("یہ صوفہ کتنے کا ہے؟", "ur"),
        ("Скільки коштує доставка?", "uk"),
        ("डिलीवरी कितने दिन में होगी?", "hi"),
        ("送货到沙迦要多少钱？", "zh"),
    ],
)
def test_other_languages_a_gulf_business_hears(text: str, language: str) -> None:
    assert detect_language(text, fallback="en") == language


def test_the_labelled_english_questions_are_english() -> None:
    # Short, misspelt, full of product names and codes: where a detector mistakes English for
    # Spanish or French (lingua's low-accuracy mode gets about one in eight of these wrong).
    questions = [q.question for q in load_questions()]
    assert [q for q in questions if detect_language(q, fallback=None) != "en"] == []
    # With an Arabic-speaking contact, only what cannot be told (a bare code, a word) stays Arabic.
    kept = [q for q in questions if detect_language(q, fallback="ar") != "en"]
    assert len(kept) <= len(questions) // 50, kept


def test_transliterated_arabic_keeps_the_contacts_language() -> None:
    assert detect_language("kam sir el kanaba", fallback="ar") == "ar"


def test_the_detector_is_built_once() -> None:
    assert detector() is detector()
