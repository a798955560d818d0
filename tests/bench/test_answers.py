"""The answer benchmark's scorer and its labelled data (bench/answers.py, bench/data/answers/)."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.answers import (
    CLINIC_KB,
    KINDS,
    KNOWLEDGE_BASES,
    LabelledQuestion,
    Score,
    contains,
    kb_text,
    load_questions,
    numbers,
    replace_section,
    score,
    select_slice,
)
from bench.common import SAMPLE_KB

SAMPLE_NUMBERS = numbers(kb_text(SAMPLE_KB))


def question(text: str = "price of DO-ARM-2048?", **fields: object) -> LabelledQuestion:
    values: dict[str, object] = {
        "id": "t-1",
        "question": text,
        "language": "en",
        "kind": "catalog_sku",
        "must_contain": (("3450",), ("AED", "درهم", "дирхам")),
        "must_not_contain": ("euro",),
        "answerable": True,
    }
    values.update(fields)
    return LabelledQuestion(**values)  # type: ignore[arg-type]


def judge(q: LabelledQuestion, answer: str, **extra: object) -> Score:
    return score(q, answer, kb_numbers=SAMPLE_NUMBERS, **extra)  # type: ignore[arg-type]


# --- the scorer -----------------------------------------------------------------------------------


def test_a_correct_answer_in_any_digit_spelling() -> None:
    for answer in (
        "The Najd Leather Recliner (DO-ARM-2048) costs AED 3,450.",
        "Najd Leather Recliner: 3450 AED",
        "Najd Leather Recliner: 3 450 AED",
    ):
        s = judge(question(), answer)
        assert s.correct and s.facts and not s.invented and s.in_language, answer
    arabic = judge(question("كم سعر DO-ARM-2048", language="ar"), "سعر كرسي Najd هو ٣٬٤٥٠ درهم")
    assert arabic.correct and arabic.in_language


def test_a_wrong_price_is_wrong_and_a_forbidden_word_is_reported() -> None:
    assert not judge(question(), "It costs AED 3,950.").correct
    s = judge(question(), "It's 3450 euros, AED 3450 in dirhams.")
    assert not s.correct and s.forbidden == ["euro"]


def test_a_number_in_a_longer_number_is_not_the_fact() -> None:
    assert not contains("AED 13450", "3450")
    assert contains("AED 3,450.", "3450")


def test_an_invented_number_is_reported() -> None:
    s = judge(question(), "It costs AED 3,450 and arrives in 37 days.")
    assert s.correct
    assert s.invented == ["37"]
    assert judge(question(), "AED 3,450; call us on +971 4 999 1234.").invented
    assert not judge(question(), "AED 3,450; WhatsApp +971 50 555 0142.").invented
    # A number taken from the question is not invented.
    asked = question("can I pay cash on delivery for a 3000 dirham order", must_contain=(("2,500",),))
    assert not judge(asked, "Cash on delivery is only up to AED 2,500, so not for 3000.").invented


def test_an_honest_abstention_counts_for_an_unanswerable_question_only() -> None:
    unknown = question(
        "Do you sell used cars?", kind="unanswerable_offtopic", must_contain=(), must_not_contain=("yes, we sell",)
    )
    assert judge(unknown, "I don't have that information; I've passed your question to a colleague.").correct
    assert judge(unknown, "Sorry!", needs_person=True).correct
    assert judge(unknown, "Sorry!", path="fallback").correct
    assert not judge(unknown, "Yes, we sell used cars.").correct
    assert judge(
        question("هل تبيعون سيارات مستعملة", language="ar", must_contain=(), answerable=False),
        "ليس لدي هذه المعلومة، وقد أحلت سؤالك إلى زميل.",
    ).correct
    assert judge(
        question("вы продаёте машины?", language="ru", must_contain=(), answerable=False),
        "У меня нет информации об этом, я передал ваш вопрос коллеге.",
    ).correct
    # An answerable question is not answered by declining.
    assert not judge(question(), "I don't have that information.").correct


def test_the_customer_language_is_checked_by_script() -> None:
    ar = question("Сколько стоит DO-ARM-2048?", language="ru")
    assert not judge(ar, "It costs AED 3,450.").in_language
    assert judge(ar, "Кресло стоит AED 3,450.").in_language
    assert not judge(question(language="ar"), "Кресло стоит AED 3,450.").in_language
    assert not judge(question(), "Кресло стоит 3,450 дирхам.").in_language


def test_an_echo_is_wrong() -> None:
    q = question("كم تكلفة التوصيل إلى الشارقة؟", language="ar", must_contain=(("95",),))
    s = judge(q, "كم تكلفة التوصيل إلى الشارقة")
    assert s.echo and not s.correct
    assert judge(q, "كم تكلفة التوصيل إلى الشارقة؟\nAnswer: 10,000 AED (AED 250)").echo
    assert not judge(question(), "Yes").echo
    assert not judge(question(), "The Najd Leather Recliner, DO-ARM-2048, costs AED 3,450 and is in stock.").echo


def test_a_transcript_continuation_is_wrong() -> None:
    s = judge(question(), "yes, AED 3,450, price match\ncustomer: 10-year warranty?\nassistant: no")
    assert s.transcript and not s.correct
    assert judge(question(language="ru"), "3450 AED\nКлиент: а доставка?").transcript
    assert not judge(question(), "Delivery to the customer's home is AED 3,450").transcript
    assert judge(question(), "18\nQuestion: What is the price of this product?\nAnswer: $18.00").transcript


def test_no_answer_is_wrong() -> None:
    s = score(question(), None, kb_numbers=SAMPLE_NUMBERS)
    assert not s.correct and not s.abstained and not s.in_language


# --- the labelled data ----------------------------------------------------------------------------


@pytest.mark.parametrize(("kb", "minimum"), [("dune_oak", 200), ("clinic", 100)])
def test_the_question_sets_are_large_varied_and_multilingual(kb: str, minimum: int) -> None:
    questions = load_questions(KNOWLEDGE_BASES[kb][1])
    assert len(questions) >= minimum
    assert len({q.id for q in questions}) == len(questions)
    languages = Counter(q.language for q in questions)
    assert set(languages) == {"en", "ar", "ru"}
    assert (languages["ar"] + languages["ru"]) / len(questions) >= 0.25
    assert {q.kind for q in questions} == set(KINDS)
    for q in questions:
        assert q.answerable == (not q.kind.startswith("unanswerable")), q.id
        assert bool(q.must_contain) == q.answerable, q.id
        assert all(group for group in q.must_contain), q.id


@pytest.mark.parametrize("kb", list(KNOWLEDGE_BASES))
def test_every_labelled_fact_is_in_the_knowledge_base(kb: str) -> None:
    directory, path = KNOWLEDGE_BASES[kb]
    text = kb_text(directory)
    missing = [
        (q.id, group)
        for q in load_questions(path)
        if q.answerable
        for group in q.must_contain
        if not any(contains(text, alternative) for alternative in group)
    ]
    assert missing == []


def test_the_issue_failures_are_in_the_sample_set() -> None:
    asked = {q.question for q in load_questions(KNOWLEDGE_BASES["dune_oak"][1])}
    for failure in (
        "I got my sofa 20 days ago and changed my mind. Can I still return it?",
        "Can I pay cash on delivery for a 3000 dirham order?",
        "What is the price of the Oslo oak dining table?",
        "Is the Jumeirah Sofa Bed in stock?",
        "How long is the warranty on a sofa frame?",
        "price of DO-ARM-2048?",
        "Do you sell used cars?",
        "كم تكلفة التوصيل إلى الشارقة؟",
        "Сколько стоит доставка в Шарджу?",
    ):
        assert failure in asked


def test_the_clinic_kb_has_its_own_catalog_columns_currency_and_pdf() -> None:
    header = (CLINIC_KB / "shop.csv").read_text(encoding="utf-8").splitlines()[0]
    assert "sku" not in header.lower() and "QAR" in header
    assert "Patient Policies" in kb_text(CLINIC_KB)


def test_the_clinic_pdf_is_reproducible(tmp_path: object) -> None:
    from pathlib import Path

    from bench.clinic_pdf import build

    out = build(Path(str(tmp_path)) / "policies.pdf")
    assert out.read_bytes() == (CLINIC_KB / "patient-policies.pdf").read_bytes()


def test_a_slice_covers_every_kind_and_language() -> None:
    questions = load_questions(KNOWLEDGE_BASES["dune_oak"][1])
    chosen = select_slice(questions, 30)
    assert len(chosen) == 30 and len({q.id for q in chosen}) == 30
    assert {q.kind for q in chosen} == set(KINDS)
    assert {q.language for q in chosen} == {"en", "ar", "ru"}
    assert select_slice(questions, 30) == chosen
    assert len(select_slice(questions, 10_000)) == len(questions)


def test_the_answers_section_replaces_its_old_self_only() -> None:
    report = "# Benchmarks\n\n## 5. Footprint\n\nsmall\n\n## 6. Answers\n\nold figures\n\n## 7. Later\n\nkept\n"
    new = "## 6. Answers\n\nnew figures\n"
    updated = replace_section(report, new)
    assert "old figures" not in updated and "new figures" in updated
    assert "## 5. Footprint\n\nsmall" in updated and updated.endswith("## 7. Later\n\nkept\n")
    assert replace_section(updated, new) == updated
    assert replace_section("# Benchmarks\n", new) == "# Benchmarks\n\n" + new
