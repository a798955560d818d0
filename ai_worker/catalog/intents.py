"""What a message asks of the catalog: the policy words that leave it to the knowledge base, the
facts a row can tell (price, stock, dimensions, colours, material, a comparison), and "do you have"."""

from __future__ import annotations

from collections.abc import Sequence

from ai_worker.catalog.columns import fold

#: Stems whose presence makes a message a policy question, whatever product it names.
POLICY = (
    "deliver",
    "shipping",
    "ship to",
    "return",
    "refund",
    "warrant",
    "guarantee",
    "fee",
    "assembl",
    "install",
    "cancel",
    "exchange",
    "swap",
    "removal",
    "take away",
    "take my old",
    "pay",
    "instal",
    "discount",
    "order status",
    "my order",
    "open",
    "hours",
    "достав",
    "возврат",
    "вывоз",
    "обмен",
    "вернуть",
    "гарант",
    "оплат",
    "сборк",
    "отмен",
    "скидк",
    "рассрочк",
    "заказ",
    "توصيل",
    "شحن",
    "إرجاع",
    "ارجاع",
    "استرجاع",
    "استرداد",
    "ضمان",
    "رسوم",
    "دفع",
    "تركيب",
    "إلغاء",
    "الغاء",
    "خصم",
    "تقسيط",
    "طلبي",
)
INTENTS: dict[str, tuple[str, ...]] = {
    "price": (
        "price",
        "cost",
        "how much",
        "стоит",
        "стоимость",
        "цена",
        "цену",
        "почем",
        "почём",
        "сколько",
        "سعر",
        "بكم",
        "كم",
        "ثمن",
        "تكلفة",
    ),
    "stock": (
        "stock",
        "stok",
        "availab",
        "availble",
        "avail ",
        "наличи",
        "в продаже",
        "есть сейчас",
        "сейчас есть",
        "متوفر",
        "متاح",
        "مخزون",
        "توفر",
    ),
    "dimensions": (
        "dimension",
        "size",
        "how big",
        "wide",
        "width",
        "height",
        "how tall",
        "measure",
        "размер",
        "габарит",
        "ширин",
        "высот",
        "مقاس",
        "أبعاد",
        "ابعاد",
        "حجم",
        "قياس",
    ),
    "colors": ("colour", "color", "цвет", "لون", "ألوان", "الوان"),
    "material": ("material", "made of", "made from", "материал", "из чего", "خامة", "مادة", "مصنوع"),
    "compare": (
        "compare",
        "comparison",
        " vs ",
        "versus",
        "difference",
        "cheaper",
        "more expensive",
        "дешевле",
        "дороже",
        "أرخص",
        "أغلى",
        "сравн",
        "разниц",
        "отлича",
        "مقارنة",
        "الفرق",
        "قارن",
    ),
}
LISTING = (
    "do you have",
    "do you sell",
    "have you got",
    " any ",
    "cheapest",
    "у вас есть",
    "есть ли",
    "какие",
    "هل لديكم",
    "هل عندكم",
    "هل يوجد",
    "أرخص",
)


def has(text: str, stems: Sequence[str]) -> bool:
    folded = f" {fold(text)} "
    return any(stem in folded or stem in text.casefold() for stem in stems)


def asked(text: str) -> set[str]:
    """What the message asks of a product: price, stock, dimensions, colors, material, compare."""
    return {intent for intent, stems in INTENTS.items() if has(text, stems)}


def asking_word(word: str) -> bool:
    """Whether a (folded) word is one of the asking words ("size", "cheaper", "availble")."""
    return any(stem in word for stem in _ASKING_STEMS)


_ASKING_STEMS = tuple({stem.strip() for stems in INTENTS.values() for stem in stems if " " not in stem.strip()})
