"""Matching questions to the sample catalog's products: SKU, misspelt, partial, cross-script, facets, unknown."""

from __future__ import annotations

from pathlib import Path

import pytest

from ai_worker.catalog.columns import parse_catalog
from ai_worker.catalog.match import match, price_bounds
from parley_contract.products import ProductRow

SAMPLE = Path(__file__).resolve().parents[3] / "sample_kb" / "catalog.csv"


@pytest.fixture(scope="module")
def products() -> list[ProductRow]:
    return parse_catalog("catalog.csv", SAMPLE.read_bytes()) or []


def _skus(question: str, products: list[ProductRow], *, listing: bool = False) -> tuple[str, list[str]]:
    found = match(question, products, listing=listing)
    return found.kind, [p.sku for p in found.products]


@pytest.mark.parametrize(
    "question",
    [
        "price of DO-ARM-2048?",
        "price of do arm 2048",
        "do-arm 2048 how much",
        "Сколько стоит DO-ARM-2048?",
        "كم سعر DO-ARM-2048؟",
        "do‑arm‑2048",
    ],
)
def test_by_sku(question: str, products: list[ProductRow]) -> None:
    kind, skus = _skus(question.replace("\u2011", "-"), products)
    assert (kind, skus) == ("sku", ["DO-ARM-2048"])


@pytest.mark.parametrize(
    ("question", "sku"),
    [
        ("Is the Jumeirah Sofa Bed in stock?", "DO-SOF-1088"),
        ("chesterfeild sofa price", "DO-SOF-1057"),  # misspelt
        ("how much is the marsa linnen sofa", "DO-SOF-1042"),  # misspelt
        ("liwa table price", "DO-DTB-3105"),  # partial
        ("the Najd recliner dimensions", "DO-ARM-2048"),
        ("Сколько стоит стол Лива?", "DO-DTB-3105"),  # Cyrillic name and a Russian noun
        ("كم سعر طاولة ليوا؟", "DO-DTB-3105"),  # Arabic
        ("Сколько стоит Джумейра диван-кровать?", "DO-SOF-1088"),
        ("هل كنبة جميرا متوفرة؟", "DO-SOF-1088"),
        ("ما هي ألوان كنبة قصر؟", "DO-SOF-1057"),
    ],
)
def test_by_name(question: str, sku: str, products: list[ProductRow]) -> None:
    assert _skus(question, products) == ("name", [sku])


def test_a_shared_name_lists_every_product(products: list[ProductRow]) -> None:
    kind, skus = _skus("Liwa price", products)
    assert kind == "name" and sorted(skus) == ["DO-DCH-3201", "DO-DTB-3105", "DO-RUG-7145"]


def test_category_and_attribute_with_a_price_bound(products: list[ProductRow]) -> None:
    found = match("oak dining tables under 5000", products)
    assert found.kind == "filter" and found.max_price == 5000
    # Liwa (oak, 5400) is over the bound; Mirdif (white oak veneer, 1750) is under it.
    assert [p.sku for p in found.products] == ["DO-DTB-3149"]
    assert _skus("do you have teak beds under 6000", products) == ("filter", ["DO-BED-4116"])
    kind, skus = _skus("диваны до 5000", products)
    assert kind == "filter" and set(skus) == {"DO-SOF-1088", "DO-SOF-1042"}
    assert _skus("do you have sofas under 3000", products) == ("filter", [])


def test_price_bounds() -> None:
    assert price_bounds("sofas under AED 5,000") == (5000, None)
    assert price_bounds("кровати от 3000 до 6000") == (6000, 3000)
    assert price_bounds("طاولات أقل من ٤٠٠٠") == (4000, None)
    assert price_bounds("delivery to Sharjah") == (None, None)


def test_unknown_product_offers_the_closest(products: list[ProductRow]) -> None:
    found = match("What is the price of the Oslo oak dining table?", products)
    assert found.kind == "unknown" and found.named == "Oslo oak dining table"
    assert found.products[0].sku == "DO-DTB-3105"
    found = match("Сколько стоит диван Осло?", products)
    assert found.kind == "unknown" and found.named == "Осло"
    assert all(p.category == "Sofas" for p in found.products)


@pytest.mark.parametrize(
    "question",
    ["How long is the warranty on a sofa frame?", "Do you sell used cars?", "How much is delivery to Sharjah?"],
)
def test_not_about_a_product(question: str, products: list[ProductRow]) -> None:
    assert match(question, products).kind == "none"


def test_an_empty_catalog_matches_nothing() -> None:
    assert match("price of DO-ARM-2048", []).kind == "none"


@pytest.mark.parametrize(
    ("question", "named", "closest"),
    [
        ("how much is the Milano leather recliner", "Milano leather recliner", "DO-ARM-2048"),
        ("do you have the Stockholm bunk bed in stock", "Stockholm bunk bed", "DO-KID-9102"),
    ],
)
def test_an_unknown_name_in_front_of_known_words_is_not_their_product(
    question: str, named: str, closest: str, products: list[ProductRow]
) -> None:
    found = match(question, products)
    assert (found.kind, found.named) == ("unknown", named)
    assert closest in [p.sku for p in found.products]


def test_a_stray_capitalised_word_does_not_unname_the_product(products: list[ProductRow]) -> None:
    assert _skus("Is the Najd recliner in stock? Thanks, Ahmed", products) == ("name", ["DO-ARM-2048"])
