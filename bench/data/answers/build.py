"""Writes dune_oak.jsonl and clinic.jsonl: `python -m bench.data.answers.build`.

The questions are written here by hand, as customers write them; the facts a catalog answer must
contain (price, stock, dimensions, colours) are read from the catalog row of the product, so a
label cannot disagree with the data. Policy facts are written by hand and checked against the
knowledge-base files by tests/bench/test_answers.py.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

CURRENCY = {
    "AED": ["AED", "dirham", "درهم", "дирхам", "дирх"],
    "QAR": ["QAR", "QR", "riyal", "ريال", "риал", "риял"],
}
IN_STOCK = ["in stock", "available", "متوفر", "متاح", "в наличии", "есть в нали"]
OUT_OF_STOCK = [
    "out of stock",
    "not in stock",
    "not available",
    "unavailable",
    "sold out",
    "غير متوفر",
    "نفد",
    "غير متاح",
    "нет в наличии",
    "отсутствует",
    "закончил",
]
NOT_IN_STOCK = ["out of stock", "not in stock", "not available", "unavailable", "غير متوفر", "نفد", "нет в наличии"]
WRONG_CURRENCY = ["euro", "€", "usd", "$"]


class Catalog:
    """The rows of a catalog CSV by item code, with the names of its columns."""

    def __init__(self, path: Path, *, code: str, name: str, price: str, stock: str, currency: str) -> None:
        with path.open(encoding="utf-8") as handle:
            self.rows = {row[code]: row for row in csv.DictReader(handle)}
        self.name, self.price, self.stock, self.currency = name, price, stock, currency

    def price_of(self, code: str) -> str:
        return self.rows[code][self.price]

    def in_stock(self, code: str) -> bool:
        return int(self.rows[code][self.stock]) > 0


class Builder:
    """Collects the questions of one knowledge base, numbering them per kind."""

    def __init__(self, prefix: str, catalog: Catalog) -> None:
        self.prefix, self.catalog, self.items = prefix, catalog, []  # type: ignore[var-annotated]
        self.counts: dict[str, int] = {}

    def add(
        self,
        kind: str,
        language: str,
        question: str,
        must: Sequence[Sequence[str]] = (),
        not_: Sequence[str] = (),
        *,
        answerable: bool = True,
    ) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        self.items.append(
            {
                "id": f"{self.prefix}-{kind}-{self.counts[kind]:02d}",
                "question": question,
                "language": language,
                "kind": kind,
                "must_contain": [list(group) for group in must],
                "must_not_contain": list(not_),
                "answerable": answerable,
            }
        )

    def price(self, code: str, language: str, question: str, *, kind: str = "catalog_price") -> None:
        currency = CURRENCY[self.catalog.currency]
        self.add(kind, language, question, [[self.catalog.price_of(code)], currency], WRONG_CURRENCY)

    def stock(self, code: str, language: str, question: str, *, kind: str = "catalog_stock") -> None:
        if self.catalog.in_stock(code):
            self.add(kind, language, question, [IN_STOCK], NOT_IN_STOCK)
        else:
            self.add(kind, language, question, [OUT_OF_STOCK], ["is in stock", "are in stock", "yes, it is"])

    def fact(self, kind: str, language: str, question: str, *facts: Sequence[str], not_: Sequence[str] = ()) -> None:
        self.add(kind, language, question, facts, not_)

    def unanswerable(self, kind: str, language: str, question: str, not_: Sequence[str] = ()) -> None:
        self.add(kind, language, question, (), not_, answerable=False)


def write(path: Path, items: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for item in items:
            out.write(json.dumps(item, ensure_ascii=False) + "\n")


def main() -> None:
    from bench.data.answers import clinic_questions, dune_oak_questions

    write(HERE / "dune_oak.jsonl", dune_oak_questions.build())
    write(HERE / "clinic.jsonl", clinic_questions.build())


if __name__ == "__main__":
    main()
