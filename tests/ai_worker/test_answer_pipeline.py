"""The grounded pipeline's order: responders, then retrieval → generated (checked) → extractive → fallback.

Retrieval and the model are the pipeline's parameters; here they are the sample knowledge base's
own FAQ sections and scripted model texts (the real worker, retrieval and an OpenAI-compatible
server are exercised in test_grounded_answers.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ai_worker.answers.base import Answer, Question
from ai_worker.answers.pipeline import (
    Thresholds,
    answer_question,
    in_scope,
    lexical_relevance,
    mostly_latin,
    similarity_relevance,
)
from ai_worker.answers.texts import FALLBACK, LEAD_IN
from ai_worker.retrieval.embeddings import SentenceTransformerEmbedder
from ai_worker.retrieval.store import Hit
from parley_contract.schemas import AnswerPath, TenantSettings
from parley_testkit.stack import SAMPLE_KB

THRESHOLDS = Thresholds(min_relevance=0.35, min_extractive_relevance=0.45)


def faq_hit(heading_words: str) -> Hit:
    text = (SAMPLE_KB / "faq.md").read_text()
    section = next("## " + part for part in text.split("\n## ") if heading_words in part.split("\n")[0])
    return Hit(chunk_id=heading_words, text=section, document_id="faq", document="faq.md", score=0.03)


PAYMENT = faq_hit("payment methods")
HOURS = faq_hit("opening hours")


def question(text: str, language: str = "en") -> Question:
    return Question(tenant_id="t1", text=text, language=language, settings=TenantSettings(business_name="Dune & Oak"))


@dataclass
class Model:
    """A scripted model: the text it writes, and what it was asked."""

    text: str
    asked: list[list[Hit]] = field(default_factory=list)

    def __call__(self, q: Question, hits: list[Hit]) -> str:
        self.asked.append(hits)
        return self.text


@dataclass
class FixedResponder:
    """A responder answering one exact question (as the catalog answers a SKU)."""

    path: AnswerPath
    asked: str
    text: str

    def respond(self, q: Question) -> Answer | None:
        return Answer(text=self.text, path=self.path) if q.text == self.asked else None


def ask(
    text: str, model: Model, *, hits: list[Hit], language: str = "en", responders: list[FixedResponder] | None = None
) -> Answer:
    return answer_question(
        question(text, language),
        responders_before=responders or [],
        retrieve=lambda q: hits,
        generate=model,
        thresholds=THRESHOLDS,
        known=["Dune & Oak"],
    )


def test_a_grounded_model_answer_is_the_generated_answer() -> None:
    model = Model("No. Cash on delivery is only for orders up to AED 2,500.")
    answer = ask("Can I pay cash on delivery for a 3000 dirham order?", model, hits=[PAYMENT, HOURS])
    assert (answer.path, answer.text, answer.needs_person) == ("generated", model.text, False)
    assert answer.hits == [PAYMENT, HOURS] and model.asked == [[PAYMENT, HOURS]]


def test_a_wrong_price_is_replaced_by_the_excerpt_s_own_sentences() -> None:
    model = Model("Yes, cash on delivery is available for orders up to AED 3,500.")
    answer = ask("Can I pay cash on delivery for a 3000 dirham order?", model, hits=[HOURS, PAYMENT])
    assert answer.path == "extractive" and not answer.needs_person
    assert answer.text.startswith(LEAD_IN["en"]) and "AED 2,500" in answer.text and "3,500" not in answer.text
    assert answer.hits == [PAYMENT]  # the most relevant excerpt, not the first one retrieved


def test_a_transcript_continuation_in_russian_is_replaced_with_a_russian_lead_in() -> None:
    model = Model("да\nклиент: а в Шарджу?\nассистент: да")
    answer = ask("cash on delivery Sharjah?", model, hits=[PAYMENT], language="ru")
    assert answer.path == "extractive" and answer.text.startswith(LEAD_IN["ru"])


def test_nothing_relevant_is_the_fallback_without_asking_the_model() -> None:
    model = Model("Yes, we sell used cars.")
    answer = ask("Do you sell used cars?", model, hits=[HOURS], language="ar")
    assert (answer.path, answer.text, answer.needs_person) == ("fallback", FALLBACK["ar"], True)
    assert model.asked == [] and answer.hits == []
    assert ask("anything", model, hits=[]).path == "fallback"


def test_a_failed_answer_from_a_weakly_relevant_excerpt_is_the_fallback() -> None:
    model = Model("Our showroom opens at 6:45 am.")
    answer = answer_question(
        question("when does the showroom open"),
        responders_before=[],
        retrieve=lambda q: [HOURS],
        generate=model,
        relevance=lambda q, hits: [0.40],  # relevant enough to ask the model, not to quote
        thresholds=THRESHOLDS,
    )
    assert (answer.path, answer.needs_person) == ("fallback", True)


def test_responders_answer_first_in_their_order() -> None:
    catalog = FixedResponder(path="catalog", asked="price of DO-ARM-2048?", text="AED 3,450")
    curated = FixedResponder(path="curated", asked="do you make custom furniture", text="Yes, in 6 to 8 weeks.")
    model = Model("unused")
    both = [catalog, curated]
    assert ask("price of DO-ARM-2048?", model, hits=[PAYMENT], responders=both).path == "catalog"
    assert ask("do you make custom furniture", model, hits=[PAYMENT], responders=both).path == "curated"
    assert model.asked == []
    assert ask("cash on delivery limit", Model("Up to AED 2,500."), hits=[PAYMENT], responders=both).path == "generated"


def test_relevance_is_the_similarity_and_an_exact_code_counts_fully() -> None:
    q = question("where is my order DO-208451")
    assert similarity_relevance(q, [PAYMENT, faq_hit("contact")], {"payment methods": 0.2}) == [0.2, 1.0]
    assert lexical_relevance(question("cash on delivery"), [PAYMENT, HOURS])[0] == 1.0


def test_the_sentences_quoted_are_the_ones_answering_not_the_closest_excerpt_s(
    embedder: SentenceTransformerEmbedder,
) -> None:
    """Measured on the sample KB: for the cash-on-delivery question the closest chunk by MiniLM is
    the order cancellation section (0.47); the payment section (0.36) holds the answer. Sentence by
    sentence (the real embedder, and the question's words), the payment sentence wins."""
    cancellation = Hit(
        chunk_id="cancel",
        text="## Order cancellation\n\nYou can cancel an in-stock item for a full refund before dispatch. "
        "Custom orders can be cancelled within 48 hours of paying the deposit.",
        document_id="delivery",
        document="delivery-and-returns.md",
        score=0.03,
    )
    similarity = {"cancel": 0.47, "payment methods": 0.36}

    def similar(q: Question, sentences: list[str]) -> list[float]:
        vectors = np.asarray(embedder.embed([q.text, *sentences]))
        return [float(v) for v in vectors[1:] @ vectors[0]]

    answer = answer_question(
        question("Can I pay cash on delivery for a 3000 dirham order?"),
        responders_before=[],
        retrieve=lambda q: [cancellation, PAYMENT],
        generate=Model("Yes, up to AED 3,500."),
        relevance=lambda q, hits: similarity_relevance(q, hits, similarity),
        similar=similar,
        thresholds=THRESHOLDS,
    )
    assert answer.path == "extractive" and "AED 2,500" in answer.text
    assert "full refund before dispatch" not in answer.text
    assert answer.hits[0] == PAYMENT  # the answering sentence's excerpt is the first source


def test_a_question_the_embedder_cannot_read_is_judged_by_its_words() -> None:
    arabic = question("هل تبيعون الدراجات النارية المستعملة؟", "ar")
    assert not mostly_latin(arabic.text) and mostly_latin("price of the Liwa table?")
    assert mostly_latin("сколько стоит DO-ARM-2048?") is False
    similarity = {"payment methods": 0.43}  # MiniLM's noise on an Arabic question
    assert similarity_relevance(arabic, [PAYMENT], similarity) == [0.43]
    assert similarity_relevance(arabic, [PAYMENT], similarity, dense_reads_question=False) == [0.0]
    # A code the question names still counts, whatever its script.
    coded = question("كم سعر DO-208451؟", "ar")
    contact = faq_hit("contact")
    assert similarity_relevance(coded, [contact], {}, dense_reads_question=False) == [1.0]


CATALOG_ROW = Hit(
    chunk_id="row",
    text="sku: DO-OUT-8143\nname: Jebel Hanging Egg Chair\nprice_aed: 1850\ndescription: Rated to 120 kg.",
    document_id="catalog",
    document="catalog.csv",
    score=0.03,
)


def test_a_catalog_row_is_not_quoted_and_the_responders_after_answer_before_the_fallback() -> None:
    card = FixedResponder(path="catalog", asked="how heavy can the egg chair take", text="Rated to 120 kg.")
    answer = answer_question(
        question("how heavy can the egg chair take"),
        responders_before=[],
        retrieve=lambda q: [CATALOG_ROW, HOURS],
        generate=None,
        relevance=lambda q, hits: [0.6, 0.36],
        responders_after=[card],
        quotable=lambda hit: hit.document_id != "catalog",
        thresholds=THRESHOLDS,
    )
    # The opening hours were relevant enough to quote, but the row was closer: the catalog's way answers.
    assert (answer.path, answer.text) == ("catalog", "Rated to 120 kg.")
    only_rows = answer_question(
        question("how heavy can the egg chair take"),
        responders_before=[],
        retrieve=lambda q: [CATALOG_ROW],
        generate=None,
        relevance=lambda q, hits: [0.6],
        quotable=lambda hit: False,
        thresholds=THRESHOLDS,
    )
    assert (only_rows.path, only_rows.needs_person) == ("fallback", True)


def test_a_short_question_whose_words_the_excerpts_do_not_say_is_not_in_scope() -> None:
    assert not in_scope(question("whats the weather in dubai tomorrow"), [PAYMENT, HOURS])
    assert in_scope(question("can I pay cash on delivery"), [PAYMENT])
    long_message = (
        "Hello, I ordered the Dune three-seater sofa in sand linen last month and the delivery was moved "
        "twice without anyone calling me, the second time while I had taken the day off work. When will it come?"
    )
    assert in_scope(question(long_message), [HOURS])  # a long message always holds words the knowledge never uses
