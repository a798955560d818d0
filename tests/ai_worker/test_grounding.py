"""The grounding check: a generated answer keeps to the excerpts and the question, or says which rule it broke."""

from __future__ import annotations

import pytest

from ai_worker.answers.grounding import check_grounding, is_echo, numbers, transcript_line

SOURCES = [
    "## Which payment methods do you accept?\n"
    "Cash on delivery is available for orders up to AED 2,500 within Dubai, Sharjah and Ajman only.",
    "Returns are accepted within 14 days of delivery. Delivery to Sharjah costs AED 95. "
    "WhatsApp: +971 50 555 0142. Email: hello@duneandoak.ae. Shop online at duneandoak.ae.",
    "DO-DIN-3011,Liwa Oak Dining Table,Dining,5400,200x100x76,Solid oak,Natural,2",
    "Sofa frames carry a 5-year warranty; 20% off during the summer sale.",
]
QUESTION = "Can I pay cash on delivery for a 3000 dirham order?"


def verdict(answer: str, question: str = QUESTION) -> tuple[bool, str | None]:
    found = check_grounding(answer=answer, question=question, sources=SOURCES, known=["Dune & Oak Home"])
    return found.ok, found.rule


@pytest.mark.parametrize(
    "answer",
    [
        "No. Cash on delivery is only for orders up to AED 2,500 within Dubai, Sharjah and Ajman.",
        "Cash on delivery is available up to AED 2500.",  # no thousands separator
        "الدفع عند الاستلام متاح للطلبات حتى ٢٬٥٠٠ درهم.",  # Arabic-Indic digits and separator
        "الدفع عند الاستلام متاح للطلبات حتى ٢٥٠٠ درهم.",
        "Наложенный платёж — для заказов до 2 500 AED.",  # a space between thousands
        "Returns are accepted within 14 days; write to hello@duneandoak.ae or WhatsApp +971 50 555 0142.",
        "The Liwa Oak Dining Table (DO-DIN-3011) costs AED 5,400.",
        "A 3000 dirham order is above the cash on delivery limit of AED 2,500.",  # 3000 is the question's
        "Delivery to Sharjah is AED 95. See duneandoak.ae or https://www.duneandoak.ae/ for details.",
        "Sofa frames have a 5-year warranty, and there is 20% off in the summer sale.",
        "1. Visa or Mastercard\n2. Cash on delivery up to AED 2,500",  # list numbering is no fact
        "Thank you for asking! Dune & Oak Home accepts cash on delivery up to AED 2,500.",
    ],
)
def test_an_answer_made_of_the_sources_passes(answer: str) -> None:
    assert verdict(answer) == (True, None)


@pytest.mark.parametrize(
    ("answer", "rule"),
    [
        ("Yes, cash on delivery works for orders up to AED 3,500.", "number"),
        ("Cash on delivery is available up to ٣٥٠٠ dirhams.", "number"),
        ("Returns are accepted within 30 days of delivery.", "number"),
        ("Sofa frames carry a 10-year warranty.", "number"),
        ("You get 25% off.", "number"),
        ("Call us on +971 4 555 9999.", "phone"),
        ("Write to sales@duneandoak.ae.", "email"),
        ("Order at https://dune-oak-furniture.com/checkout.", "url"),
        ("Read https://duneandoak.ae/returns-policy first.", "url"),  # the site is known, that page is not
        ("The Oslo Oak Dining Table costs AED 5,400.", "product"),
        ("DO-ARM-2048 is in stock.", "identifier"),
    ],
)
def test_a_fact_not_in_the_sources_fails(answer: str, rule: str) -> None:
    assert verdict(answer) == (False, rule)


def test_the_number_rule_normalises_digits_and_separators() -> None:
    assert {"2500", "14", "5400"} <= numbers("AED 2,500 · ١٤ days · ٥٬٤٠٠")
    assert "2500" in numbers("2 500")
    assert "5.5" in numbers("5.50")


@pytest.mark.parametrize(
    "answer",
    [
        "yes, price match\ncustomer: 10-year warranty?\nassistant: no, 5 years",
        "Cash on delivery up to AED 2,500.\nUser: and for Ajman?",
        "Q: can I pay cash?\nA: yes",
        "Наличными до 2,500 AED.\nКлиент: а в Шардже?",
        "الدفع عند الاستلام حتى 2,500 درهم.\nالعميل: وماذا عن الشارقة؟",
        "**Customer:** what about Sharjah?",
    ],
)
def test_a_transcript_continuation_fails(answer: str) -> None:
    assert transcript_line(answer) is not None
    assert verdict(answer) == (False, "transcript")


@pytest.mark.parametrize(
    ("answer", "question"),
    [
        ("Yes, you can pay cash on delivery for a 3000 dirham order.", QUESTION),
        ("كم تكلفة التوصيل إلى الشارقة؟", "كم تكلفة التوصيل إلى الشارقة؟"),
        ("Сколько стоит доставка в Шарджу?", "Сколько стоит доставка в Шарджу"),
    ],
)
def test_an_echo_of_the_question_fails(answer: str, question: str) -> None:
    assert is_echo(answer, question)
    assert verdict(answer, question) == (False, "echo")


def test_an_answer_sharing_some_words_with_the_question_is_no_echo() -> None:
    question = "How much is delivery to Sharjah?"
    assert not is_echo("Delivery to Sharjah costs AED 95.", question)
    assert verdict("Delivery to Sharjah costs AED 95.", question) == (True, None)


@pytest.mark.parametrize(
    ("answer", "question"),
    [
        ("Yes.", "Is the Jumeirah Sofa Bed in stock?"),
        ("Yes, you can return it.", "I got my sofa 20 days ago and changed my mind. Can I still return it?"),
        ("Yes, we sell used cars.", "Do you sell used cars?"),
        ("Да, конечно.", "Можно вернуть диван?"),
        ("نعم", "هل يمكنني إرجاع الأريكة؟"),
    ],
)
def test_a_bare_yes_or_no_the_excerpts_do_not_support_fails(answer: str, question: str) -> None:
    assert verdict(answer, question)[0] is False


def test_a_yes_that_brings_the_excerpts_facts_passes() -> None:
    question = "Can I return a sofa?"
    assert verdict("Yes, returns are accepted within 14 days of delivery.", question) == (True, None)


def test_an_empty_answer_fails() -> None:
    assert verdict("  \n") == (False, "empty")
