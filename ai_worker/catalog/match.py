"""A question → the products it is about: by SKU, by (misspelt, partial, transliterated) name, or by
category and attributes with a price bound; and a product named that the catalog does not have.

Name matching weighs each word of a product name by how rare it is in the catalog: "Liwa" names
three products, "table" a dozen, so "the Liwa table" picks the Liwa table and "an oak table" names
no product at all.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import process
from rapidfuzz.distance import OSA

from ai_worker.catalog.columns import fold, price_value
from ai_worker.catalog.intents import asking_word
from ai_worker.catalog.text import STOPWORDS, is_foreign_script, word_matches, words
from parley_contract.products import ProductRow

#: A name word in at most this many product names identifies them ("Liwa", "Jumeirah").
RARE_MAX_PRODUCTS = 3
#: Products named by as many words as the best are listed together ("the Liwa" → table, chair, rug).
TIE_MARGIN = 0.5
#: Attribute values longer than this (descriptions) are not searched for attribute words.
MAX_ATTRIBUTE_CHARS = 80
MAX_LISTED = 5
#: Words in front of a product word that describe what is wanted, not name a product ("a cheap sofa").
COMMON_ADJECTIVES = frozenset(
    {
        "cheap",
        "cheapest",
        "expensive",
        "good",
        "best",
        "nice",
        "nicest",
        "small",
        "smaller",
        "large",
        "larger",
        "bigger",
        "biggest",
        "little",
        "long",
        "short",
        "wide",
        "narrow",
        "tall",
        "new",
        "newest",
        "used",
        "similar",
        "another",
        "other",
        "some",
        "every",
        "each",
        "which",
        "your",
        "their",
        "comfy",
        "comfortable",
        "modern",
        "classic",
        "simple",
        "same",
        "matching",
        "whole",
        "full",
        "real",
        "much",
        "many",
        "more",
        "most",
        "less",
        "buy",
        "sell",
        "want",
        "need",
        "looking",
        "order",
        "get",
        "show",
        "find",
        "about",
        "like",
        "does",
        "cost",
        "costs",
        "price",
        "prices",
        "stock",
        "available",
        "there",
        "here",
        "have",
        "what",
        "when",
        "where",
        "with",
    }
)

_BELOW = (
    r"(?:under|below|less than|cheaper than|up to|max(?:imum)?|within"
    r"|до|дешевле|меньше|не дороже|أقل من|تحت|حتى|بأقل من)"
)
_ABOVE = r"(?:over|above|more than|from|at least|от|дороже|больше|أكثر من|فوق|ابتداء من)"
_AMOUNT = r"\s*(?:aed|usd|eur|\$|€|£|руб\w*|درهم)?\s*(\d[\d\s,.]*\d|\d)"


@dataclass
class Match:
    """What the question is about. kind "none": not about a product the catalog can tell."""

    kind: Literal["sku", "name", "filter", "unknown", "none"]
    products: list[ProductRow] = field(default_factory=list)
    #: For "unknown": the name the customer used; for "filter": the words it filtered by.
    named: str = ""
    max_price: float | None = None
    min_price: float | None = None
    more: int = 0
    #: For "name": two or more words of the name were written (not one word that may be another's).
    strong: bool = False


def compact(text: str) -> str:
    return re.sub(r"[\W_]+", "", fold(text)).upper()


def by_sku(text: str, skus: Sequence[tuple[str, ProductRow]]) -> list[ProductRow]:
    """Products whose SKU (compacted) is written in the question, spaced, dashed or cased any way."""
    question = compact(text)
    return [product for sku, product in skus if sku in question]


def compact_skus(products: Sequence[ProductRow]) -> list[tuple[str, ProductRow]]:
    """Each product's SKU compacted, for SKUs distinctive enough to find inside a sentence."""
    compacted = [(compact(p.sku), p) for p in products]
    return [(sku, p) for sku, p in compacted if len(sku) >= 4 and any(c.isdigit() for c in sku)]


class NameIndex:
    """Product name words with their rarity, and the words of each product's short attributes;
    built once per catalog (the responder keeps it while the tenant's rows are unchanged)."""

    def __init__(self, products: Sequence[ProductRow]) -> None:
        self.products = list(products)
        self.names = [set(_name_words(p.name)) for p in self.products]
        counts = Counter(word for name in self.names for word in name)
        total = max(len(self.products), 1)
        self.weight = {word: math.log(1 + total / count) for word, count in counts.items()}
        self.by_word: dict[str, list[int]] = defaultdict(list)
        for position, name in enumerate(self.names):
            for word in name:
                self.by_word[word].append(position)
        self.categories = {fold(p.category) for p in self.products if p.category}
        # A category's word ("lamp" of Lamps) is generic even when few names carry it.
        generic = {w.rstrip("s") for c in self.categories for w in c.split()}
        self.rare = {w for w, count in counts.items() if count <= RARE_MAX_PRODUCTS and w.rstrip("s") not in generic}
        self.skus = compact_skus(self.products)
        self.facets = [_facet_text(p) for p in self.products]
        self.facet_vocabulary: set[str] = set().union(*self.facets) if self.facets else set()
        self._known: dict[str, bool] = {}

    def scores(self, question_words: list[str]) -> list[tuple[float, bool, ProductRow]]:
        """(name words matched + the share of the name's weight they carry, whether a rare word matched,
        product), best first."""
        matched: dict[int, set[str]] = defaultdict(set)
        for word in matching(question_words, self.weight):
            for position in self.by_word[word]:
                matched[position].add(word)
        written = set(question_words)
        scored = []
        for position, words_matched in matched.items():
            if len(words_matched) == 1 and not words_matched & written and len(next(iter(words_matched))) <= 5:
                continue  # one short word a letter away ("care" for Cane, "flight" for Light) names nothing
            name = self.names[position]
            share = sum(self.weight[w] for w in words_matched) / sum(self.weight[w] for w in name)
            scored.append((len(words_matched) + share, bool(words_matched & self.rare), self.products[position]))
        return sorted(scored, key=lambda item: -item[0])

    def known_word(self, word: str) -> bool:
        if word not in self._known:
            self._known[word] = any(word_matches(word, w) for w in self.weight) or any(
                word in c.split() for c in self.categories
            )
        return self._known[word]


def matching(question_words: Iterable[str], vocabulary: Iterable[str]) -> set[str]:
    """The vocabulary words some question word names."""
    vocabulary = list(vocabulary)
    found: set[str] = set()
    for q in question_words:
        if is_foreign_script(q):
            found.update(word for word in vocabulary if word_matches(q, word))
            continue
        # Candidates within two edits, picked in C by rapidfuzz, then checked word by word.
        near = process.extract(q, vocabulary, scorer=OSA.distance, score_cutoff=2, limit=None)
        found.update(word for word, _, _ in near if word_matches(q, word))
    return found


def _name_words(name: str) -> list[str]:
    return [w for w in re.findall(r"\w+", fold(name)) if w not in STOPWORDS]


def by_name(scores: list[tuple[float, bool, ProductRow]]) -> list[ProductRow]:
    """The products the question names by a rare word of their names (from NameIndex.scores); several
    when they tie."""
    named = [(share, product) for share, rare, product in scores if rare]
    if not named:
        return []
    best = named[0][0]
    return [product for share, product in named if share >= best - TIE_MARGIN][:MAX_LISTED]


def unknown_name(text: str, index: NameIndex) -> str:
    """A word no product, category or attribute has, used as a product's name: capitalised inside
    the sentence ("the Oslo table"), or a Latin word in front of catalog words ("the oslo oak table")."""
    for tokens, position in _unknown_words(text, index):
        if _capitalised(tokens, position) or _modifier(tokens, position, index):
            return _phrase(tokens[position:])
    return ""


def unknown_beside_name(text: str, index: NameIndex) -> str:
    """A capitalised word no product, category or attribute has, right in front of a word of the
    catalog's names ("the Stockholm bunk bed", "the Milano leather recliner"): a product the catalog
    lacks, named with words of one it has. A stray name elsewhere ("thanks, Ahmed") is not one."""
    for tokens, position in _unknown_words(text, index):
        if _capitalised(tokens, position) and _modifier(tokens, position, index):
            return _phrase(tokens[position:])
    return ""


def _unknown_words(text: str, index: NameIndex) -> Iterator[tuple[list[str], int]]:
    """Each word of `text` the catalog does not know, as (its sentence's tokens, its position)."""
    for sentence in re.split(r"[.?!؟\n]+", text):
        tokens = re.findall(r"\w+", sentence)
        for position, token in enumerate(tokens):
            if not index.known_word(fold(token).rstrip("s")) and not index.known_word(fold(token)):
                yield tokens, position


def _about_something_else(question_words: list[str], index: NameIndex) -> bool:
    """Two or more words of the question that no product has: one word of a name it shares
    ("cleaning price scale and polish" and the Retainer Cleaning Tablets) does not make it about that product."""
    strangers = [
        w
        for w in question_words
        if w.isascii() and w.isalpha() and len(w) >= 3 and w not in index.facet_vocabulary and not asking_word(w)
    ]
    return sum(not index.known_word(w) for w in strangers) >= 2


def _capitalised(tokens: list[str], position: int) -> bool:
    # Capitalised inside a sentence, not an acronym ("AED", "UAE") nor a short word.
    token = tokens[position]
    return (
        position > 0
        and token[:1].isupper()
        and not token.isupper()
        and len(token) > 2
        and token.lower() not in STOPWORDS
    )


def _modifier(tokens: list[str], position: int, index: NameIndex) -> bool:
    """A lowercase Latin word (not a common adjective) right before a word of the catalog's names."""
    token = tokens[position].lower()
    if position + 1 >= len(tokens) or len(token) < 4 or not token.isascii() or not token.isalpha():
        return False
    if token in STOPWORDS or token in COMMON_ADJECTIVES:
        return False
    following = fold(tokens[position + 1])
    return following not in STOPWORDS and (index.known_word(following) or index.known_word(following.rstrip("s")))


def _phrase(tokens: list[str]) -> str:
    """The unknown name with the words after it that still name a thing: "Oslo oak dining table"."""
    kept = [tokens[0]]
    for token in tokens[1:4]:
        if token.lower() in STOPWORDS:
            break
        kept.append(token)
    return " ".join(kept)


def price_bounds(text: str) -> tuple[float | None, float | None]:
    folded = fold(re.sub(r"(?<=\d),(?=\d{3})", "", text))
    below = re.search(r"(?<!\w)" + _BELOW + _AMOUNT, folded)
    above = re.search(r"(?<!\w)" + _ABOVE + _AMOUNT, folded)
    return (
        price_value(below.group(1)) if below else None,
        price_value(above.group(1)) if above else None,
    )


def _facet_text(product: ProductRow) -> set[str]:
    values = [product.name, product.category or ""] + [
        v for v in product.attributes.values() if len(v) <= MAX_ATTRIBUTE_CHARS
    ]
    return {w for v in values for w in re.findall(r"\w+", fold(v))}


def by_facets(
    question_words: list[str], index: NameIndex, *, max_price: float | None, min_price: float | None
) -> tuple[list[ProductRow], list[str]]:
    """Products having every catalog word of the question (category, material, colour) within the bounds."""
    named = {q: matching([q], index.facet_vocabulary) for q in question_words if not q.isdigit()}
    wanted = [q for q, found in named.items() if found]
    if not wanted:
        return [], []
    found = []
    for product, facets in zip(index.products, index.facets, strict=True):
        if not all(facets & named[q] for q in wanted):
            continue
        value = price_value(product.price) if product.price else None
        if max_price is not None and (value is None or value > max_price):
            continue
        if min_price is not None and (value is None or value < min_price):
            continue
        found.append(product)
    found.sort(key=lambda p: price_value(p.price or "") or 0.0)
    return found, wanted


def match(text: str, products: Sequence[ProductRow], *, listing: bool = False, index: NameIndex | None = None) -> Match:
    """What the question asks about. `listing`: it asks what there is ("do you have …"), so a category
    alone is enough to list products. `index`: the catalog's NameIndex when the caller keeps one."""
    if not products:
        return Match("none")
    index = index or NameIndex(products)
    skus = by_sku(text, index.skus)
    if skus:
        return Match("sku", skus)
    question_words = [w for w in words(text) if not w.isdigit()]
    scores = index.scores(question_words)
    named = by_name(scores)
    if named:
        stranger = unknown_beside_name(text, index)
        # "the Milano leather recliner": the words it shares with the Najd Leather Recliner do not make it one.
        if stranger:
            return Match("unknown", named[:3], named=stranger)
        words_named = max(int(score) for score, _, p in scores if p is named[0])
        if words_named == 1 and _about_something_else(question_words, index):
            return Match("none")
        return Match("name", named, strong=words_named >= 2)
    max_price, min_price = price_bounds(text)
    unknown = unknown_name(text, index)
    if unknown:
        closest = [p for share, _, p in scores[:3]]
        return Match("unknown", closest, named=unknown) if closest else Match("none")
    if max_price is None and min_price is None and not listing:
        return Match("none")
    found, wanted = by_facets(question_words, index, max_price=max_price, min_price=min_price)
    if not wanted:
        return Match("none")
    return Match(
        "filter",
        found[:MAX_LISTED],
        named=" ".join(wanted),
        max_price=max_price,
        min_price=min_price,
        more=max(len(found) - MAX_LISTED, 0),
    )
