"""The catalog responder: answers from rows in en/ar/ru, numbers as written, None for anything else."""

from __future__ import annotations

from pathlib import Path

import pytest

from ai_worker.answers.base import Question
from ai_worker.catalog.columns import parse_catalog
from ai_worker.catalog.responder import CatalogResponder, ProductCards
from ai_worker.catalog.templates import TEMPLATES
from parley_contract.products import ProductRow
from parley_contract.schemas import TenantSettings

SAMPLE = Path(__file__).resolve().parents[3] / "sample_kb" / "catalog.csv"


@pytest.fixture(scope="module")
def responder() -> CatalogResponder:
    products = parse_catalog("catalog.csv", SAMPLE.read_bytes()) or []
    return CatalogResponder(products_for=lambda tenant_id: products if tenant_id == "shop" else [])


def _answer(responder: CatalogResponder, text: str, language: str = "en", tenant: str = "shop") -> str | None:
    answer = responder.respond(Question(tenant_id=tenant, text=text, language=language, settings=TenantSettings()))
    if answer is not None:
        assert answer.path == "catalog" and not answer.needs_person
        assert all(source.chunk_id.startswith("product:") for source in answer.sources)
    return None if answer is None else answer.text


def test_price_by_sku_in_each_language(responder: CatalogResponder) -> None:
    assert _answer(responder, "price of DO-ARM-2048?") == "Najd Leather Recliner (DO-ARM-2048) costs 3450 AED."
    assert (
        _answer(responder, "Сколько стоит DO-ARM-2048?", "ru") == "Najd Leather Recliner (DO-ARM-2048) стоит 3450 AED."
    )
    assert _answer(responder, "كم سعر DO-ARM-2048؟", "ar") == "سعر Najd Leather Recliner (DO-ARM-2048) هو 3450 AED."


def test_out_of_stock_in_each_language(responder: CatalogResponder) -> None:
    assert _answer(responder, "Is the Jumeirah Sofa Bed in stock?") == (
        "Jumeirah Sofa Bed (DO-SOF-1088): It is out of stock at the moment."
    )
    assert "Сейчас нет в наличии." in (_answer(responder, "Есть ли в наличии диван-кровать Джумейра?", "ru") or "")
    assert "غير متوفر" in (_answer(responder, "هل كنبة جميرا متوفرة؟", "ar") or "")
    assert "It is in stock." in (_answer(responder, "is the liwa table available") or "")


def test_attributes_asked_for(responder: CatalogResponder) -> None:
    assert _answer(responder, "what colours does the Qasr sofa come in") == (
        "Qasr Velvet Chesterfield Sofa (DO-SOF-1057): Colours: Emerald, Midnight Blue, Rust."
    )
    assert (
        _answer(responder, "ما هي أبعاد طاولة ليوا؟", "ar")
        == "Liwa Solid Oak Dining Table (DO-DTB-3105): الأبعاد: 200x95x76."
    )
    assert "Материалы: Solid European oak, matt lacquer." in (
        _answer(responder, "Из чего сделан стол Лива, какой материал?", "ru") or ""
    )


def test_comparison_lists_both(responder: CatalogResponder) -> None:
    text = _answer(responder, "compare the Marsa sofa and the Creekside sofa") or ""
    assert "Marsa Linen 3-Seater Sofa (DO-SOF-1042): 4850 AED; in stock" in text
    assert "Creekside Leather 2-Seater Sofa (DO-SOF-1071): 5600 AED; in stock" in text


def test_do_you_have_under(responder: CatalogResponder) -> None:
    assert _answer(responder, "oak dining tables under 5000") == (
        "Here is what we have for 5000 or less:\n"
        "• Mirdif Compact 4-Seater Dining Table (DO-DTB-3149): 1750 AED; in stock"
    )
    assert (
        _answer(responder, "диваны до 3000 есть?", "ru")
        == "В нашем каталоге нет ничего по запросу «sofas» не дороже 3000."
    )


def test_unknown_product_never_gets_a_price(responder: CatalogResponder) -> None:
    text = _answer(responder, "What is the price of the Oslo oak dining table?") or ""
    assert text.startswith("We don't have “Oslo oak dining table” in our catalog.")
    assert "Liwa Solid Oak Dining Table (DO-DTB-3105)" in text and "5400" not in text and "AED" not in text
    ru = _answer(responder, "Сколько стоит диван Осло?", "ru") or ""
    assert ru.startswith("Товара «Осло» нет в нашем каталоге.") and "AED" not in ru


@pytest.mark.parametrize(
    "text",
    [
        "How long is the warranty on a sofa frame?",
        "What is the warranty on the Najd recliner?",
        "How much is delivery of the Liwa table to Sharjah?",
        "Do you sell used cars?",
        "Tell me about the Liwa table",
        "Можно ли вернуть диван Марса?",
        "كم رسوم التوصيل إلى الشارقة؟",
    ],
)
def test_not_a_catalog_question(responder: CatalogResponder, text: str) -> None:
    assert _answer(responder, text) is None


def test_another_tenant_has_no_catalog(responder: CatalogResponder) -> None:
    assert _answer(responder, "price of DO-ARM-2048?", tenant="other") is None


def test_every_language_has_every_template() -> None:
    keys = set(TEMPLATES["en"])
    assert all(set(TEMPLATES[language]) == keys for language in ("ar", "ru"))


def test_unshipped_language_gets_english(responder: CatalogResponder) -> None:
    assert (
        _answer(responder, "DO-ARM-2048 prix", "fr")
        == "Najd Leather Recliner (DO-ARM-2048) costs 3450 AED. It is in stock."
    )


def test_currencyless_row_and_missing_price() -> None:
    rows = [
        ProductRow(sku="X-100", name="Plain Stool", price=None, stock=None),
        ProductRow(sku="X-200", name="Tall Lamp", price="99"),
    ]
    responder = CatalogResponder(products_for=lambda tenant_id: rows)
    question = Question(tenant_id="t", text="price of X-100 and X-200", language="en", settings=TenantSettings())
    answer = responder.respond(question)
    assert answer is not None and answer.text == "These products match:\n• Plain Stool (X-100)\n• Tall Lamp (X-200): 99"


def test_which_is_cheaper(responder: CatalogResponder) -> None:
    text = _answer(responder, "which is cheaper, the Liwa table or the Falaj table?") or ""
    assert "Liwa Solid Oak Dining Table (DO-DTB-3105): 5400 AED; in stock" in text
    assert "Falaj Extendable Dining Table (DO-DTB-3127): 3850 AED; in stock" in text


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("what is the price of the oslo oak dining table", "oslo oak dining table"),
        ("how much is the nordic lamp", "nordic lamp"),
    ],
)
def test_unknown_product_written_in_lowercase(responder: CatalogResponder, text: str, named: str) -> None:
    answer = _answer(responder, text) or ""
    assert answer.startswith(f"We don't have “{named}” in our catalog.") and "AED" not in answer


@pytest.mark.parametrize("text", ["how much does a dining table weigh", "price of a big table"])
def test_describing_words_are_not_product_names(responder: CatalogResponder, text: str) -> None:
    assert _answer(responder, text) is None


def _card(responder: CatalogResponder, text: str, language: str = "en") -> str | None:
    answer = ProductCards(responder).respond(
        Question(tenant_id="shop", text=text, language=language, settings=TenantSettings())
    )
    return None if answer is None else answer.text


def test_a_clearly_named_product_with_nothing_asked_gets_its_card_only_after_the_knowledge_base(
    responder: CatalogResponder,
) -> None:
    # Nothing the rows answer by name is asked: the catalog leaves it to the knowledge base first.
    assert _answer(responder, "how heavy can the egg chair take") is None
    card = _card(responder, "how heavy can the egg chair take") or ""
    assert card.startswith("Jebel Hanging Egg Chair (DO-OUT-8143) costs 1850 AED.")
    assert "Rated to 120 kg." in card and "out of stock" in card
    # One word of a name is not enough for a card, and a policy word is never a product question.
    assert _card(responder, "how often should I reseal the table") is None
    assert _card(responder, "can I swap the Orthopaedic Firm Mattress") is None


def test_one_short_word_a_letter_away_or_among_strangers_names_no_product(responder: CatalogResponder) -> None:
    assert _answer(responder, "how much is the care kit") is None  # not the Bastakiya Cane Armchair
    assert _answer(responder, "how much is a flight to london") is None  # not a Pendant Light
    assert _answer(responder, "how much is the cane armchair") is not None
