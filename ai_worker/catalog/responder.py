"""The catalog path: a question about a product answered from its row, from templates; no model.

Conservative: a message that mentions a policy word (delivery, returns, warranty, payment …) or asks
nothing a row can tell (price, stock, dimensions, colours, materials, a comparison, "do you have")
is left to the next way of answering, even when it names a product.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ai_worker.answers.base import Answer, Question
from ai_worker.catalog.columns import fold
from ai_worker.catalog.intents import LISTING, POLICY, asked, has
from ai_worker.catalog.match import Match, NameIndex, match
from ai_worker.catalog.templates import texts
from parley_contract.products import ProductRow
from parley_contract.schemas import AnswerPath, Source

#: Words a header of each asked-for attribute contains ("dimensions_cm", "Colour", "Материал").
ATTRIBUTE_HEADERS = {
    "dimensions": ("dimension", "size", "cm", "mm", "размер", "габарит", "أبعاد", "ابعاد", "مقاس"),
    "colors": ("colour", "color", "цвет", "لون", "ألوان"),
    "material": ("material", "материал", "خامة", "مادة"),
}
ROW_FACTS = ("price", "stock")
#: The fact "every attribute of the row": a product named with nothing recognisable asked of it
#: ("how heavy can the egg chair take", "floss - how many metres") gets its whole card.
CARD = "card"

ProductsFor = Callable[[str], Sequence[ProductRow]]


def _price(product: ProductRow) -> str:
    return f"{product.price} {product.currency}" if product.currency else str(product.price)


def _attribute(product: ProductRow, intent: str) -> tuple[str, str] | None:
    for header, value in product.attributes.items():
        if any(word in fold(header) for word in ATTRIBUTE_HEADERS[intent]):
            return header, value
    return None


def _stock_key(product: ProductRow) -> str:
    if product.in_stock is None:
        return "stock_unknown"
    return "in_stock" if product.in_stock else "out_of_stock"


def describe(product: ProductRow, facts: Sequence[str], t: dict[str, str]) -> str:
    """The asked facts of one product, in sentences."""
    parts = [t["about"].format(name=product.name, sku=product.sku)] if "price" not in facts else []
    for fact in facts:
        if fact == "price":
            key = "price" if product.price else "no_price"
            parts.append(t[key].format(name=product.name, sku=product.sku, price=_price(product)))
        elif fact == "stock":
            parts.append(t[_stock_key(product)])
        elif fact == CARD:
            parts.extend(f"{header}: {value.rstrip('.')}." for header, value in product.attributes.items() if value)
        else:
            found = _attribute(product, fact)
            if found is not None:
                parts.append(f"{t[fact]}: {found[1]}.")
    return " ".join(parts)


def line(product: ProductRow, facts: Sequence[str], t: dict[str, str]) -> str:
    """One product of a list: name, SKU and the asked facts, short."""
    bits = []
    for fact in facts:
        if fact == "price" and product.price:
            bits.append(_price(product))
        elif fact == "stock" and product.in_stock is not None:
            bits.append(t["short_in_stock" if product.in_stock else "short_out_of_stock"])
        elif fact not in ROW_FACTS and (found := _attribute(product, fact)) is not None:
            bits.append(f"{t[fact]}: {found[1]}")
    return f"• {product.name} ({product.sku})" + (": " + "; ".join(bits) if bits else "")


def _amount(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)


def _bound(found: Match, t: dict[str, str]) -> str:
    bound = ""
    if found.min_price is not None:
        bound += t["over"].format(amount=_amount(found.min_price))
    if found.max_price is not None:
        bound += t["under"].format(amount=_amount(found.max_price))
    return bound


def compose(found: Match, facts: list[str], t: dict[str, str]) -> str:
    if found.kind == "unknown":
        names = ", ".join(f"{p.name} ({p.sku})" for p in found.products)
        return t["unknown"].format(named=found.named, names=names)
    if found.kind == "filter":
        if not found.products:
            return t["filter_none"].format(words=found.named, bound=_bound(found, t))
        lines = [t["filter_found"].format(bound=_bound(found, t))] + [line(p, facts, t) for p in found.products]
        return "\n".join(lines + ([t["more"].format(count=found.more)] if found.more else []))
    if len(found.products) == 1:
        return describe(found.products[0], facts, t)
    return "\n".join([t["several"]] + [line(p, facts, t) for p in found.products])


def _source(product: ProductRow) -> Source:
    summary = f"{product.name} ({product.sku}): {product.price or ''} {product.currency or ''}".strip()
    return Source(
        document=product.document or "catalog",
        document_id=product.document_id,
        chunk_id=f"product:{product.sku}",
        score=1.0,
        excerpt=summary,
    )


def facts_for(found: Match, intents: set[str], *, listing: bool, cards: bool = False) -> list[str] | None:
    """The facts to state, or None when the message asks nothing the rows can answer. `cards`: a
    product clearly named (two words of its name) with nothing recognisable asked gets its card."""
    wanted: list[str] = [fact for fact in ("price", "stock", "dimensions", "colors", "material") if fact in intents]
    if wanted and "compare" not in intents:
        return wanted
    if "compare" in intents or listing or found.kind in ("sku", "filter"):
        return list(dict.fromkeys(["price", "stock", *wanted]))
    if cards and found.kind == "name" and found.strong and len(found.products) == 1:
        return ["price", "stock", CARD]
    return None


class CatalogResponder:
    """Answers from the tenant's product rows; `products_for(tenant_id)` gives them (cached by the runtime)."""

    path: AnswerPath = "catalog"

    def __init__(self, *, products_for: ProductsFor) -> None:
        self._products_for = products_for
        #: tenant → (the rows list it was built from, its index): rebuilt when `products_for` hands out new rows.
        self._indexes: dict[str, tuple[Sequence[ProductRow], NameIndex]] = {}

    def _index(self, tenant_id: str, products: Sequence[ProductRow]) -> NameIndex:
        kept = self._indexes.get(tenant_id)
        if kept is not None and kept[0] is products:
            return kept[1]
        index = NameIndex(products)
        self._indexes[tenant_id] = (products, index)
        return index

    def respond(self, question: Question) -> Answer | None:
        return self._answer(question, cards=False)

    def card(self, question: Question) -> Answer | None:
        """The card of a product the question names clearly, asking nothing the rows answer; else None."""
        return self._answer(question, cards=True)

    def _answer(self, question: Question, *, cards: bool) -> Answer | None:
        text = question.text
        if has(text, POLICY):
            return None
        products = self._products_for(question.tenant_id)
        if not products:
            return None
        intents, listing = asked(text), has(text, LISTING)
        found = match(text, products, listing=listing, index=self._index(question.tenant_id, products))
        if found.kind == "none":
            return None
        facts = facts_for(found, intents, listing=listing, cards=cards)
        if facts is None or (cards and CARD not in facts):
            return None
        answer = compose(found, facts, texts(question.language))
        return Answer(text=answer, path=self.path, sources=[_source(p) for p in found.products])


class ProductCards:
    """After the knowledge base had nothing relevant: the card of the product the question names
    ("how heavy can the egg chair take" → its row, whose description says "Rated to 120 kg")."""

    path: AnswerPath = "catalog"

    def __init__(self, catalog: CatalogResponder) -> None:
        self._catalog = catalog

    def respond(self, question: Question) -> Answer | None:
        return self._catalog.card(question)
