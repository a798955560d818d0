"""The pipeline's own words, in the customer's language: the honest fallback and the lead-ins.

Shipped in English, Arabic and Russian (SHIPPED_LANGUAGES); any other language gets English
rather than a machine translation nobody checked.
"""

from __future__ import annotations

from collections.abc import Mapping

from ai_worker.answers.base import SHIPPED_LANGUAGES

FALLBACK: Mapping[str, str] = {
    "en": (
        "I'm sorry, I don't have that information. I've passed your question to a colleague, who will get back to you."
    ),
    "ar": "عذرًا، لا تتوفر لديّ هذه المعلومة. لقد أحلتُ سؤالك إلى أحد زملائي، وسيتواصل معك قريبًا.",
    "ru": "К сожалению, у меня нет этой информации. Я передал ваш вопрос коллеге — он свяжется с вами.",
}

#: Put before sentences quoted from the knowledge base (an extractive answer).
LEAD_IN: Mapping[str, str] = {
    "en": "Here is what our information says:",
    "ar": "إليك ما تذكره معلوماتنا:",
    "ru": "Вот что говорится в нашей информации:",
}


def shipped(language: str | None) -> str:
    """The shipped language to write in: the customer's when Parley has texts in it, else English."""
    code = (language or "").strip().lower().replace("_", "-").split("-")[0]
    return code if code in SHIPPED_LANGUAGES else "en"


def pick(texts: Mapping[str, str], *, language: str | None) -> str:
    return texts[shipped(language)]


def fallback_text(*, language: str | None) -> str:
    return pick(FALLBACK, language=language)


def lead_in(*, language: str | None) -> str:
    return pick(LEAD_IN, language=language)
