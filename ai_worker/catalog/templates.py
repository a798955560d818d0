"""The sentences a catalog answer is made of, in each shipped language (numbers filled in from the rows)."""

from __future__ import annotations

TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        "price": "{name} ({sku}) costs {price}.",
        "no_price": "{name} ({sku}) has no price in our catalog.",
        "in_stock": "It is in stock.",
        "out_of_stock": "It is out of stock at the moment.",
        "stock_unknown": "Our catalog does not show its stock; we will check it for you.",
        "about": "{name} ({sku}):",
        "short_in_stock": "in stock",
        "short_out_of_stock": "out of stock",
        "several": "These products match:",
        "unknown": "We don't have “{named}” in our catalog. The closest products we have are: {names}.",
        "filter_found": "Here is what we have{bound}:",
        "filter_none": "We have nothing matching “{words}”{bound} in our catalog.",
        "under": " for {amount} or less",
        "over": " from {amount}",
        "more": "…and {count} more.",
        "dimensions": "Dimensions",
        "colors": "Colours",
        "material": "Materials",
    },
    "ar": {
        "price": "سعر {name} ({sku}) هو {price}.",
        "no_price": "لا يوجد سعر لـ {name} ({sku}) في كتالوجنا.",
        "in_stock": "المنتج متوفر في المخزون.",
        "out_of_stock": "المنتج غير متوفر في المخزون حاليًا.",
        "stock_unknown": "لا يُظهر الكتالوج توفر هذا المنتج؛ سنتحقق من ذلك لك.",
        "about": "{name} ({sku}):",
        "short_in_stock": "متوفر",
        "short_out_of_stock": "غير متوفر حاليًا",
        "several": "هذه المنتجات مطابقة:",
        "unknown": "المنتج «{named}» غير موجود في كتالوجنا. أقرب المنتجات المتوفرة لدينا: {names}.",
        "filter_found": "هذا ما لدينا{bound}:",
        "filter_none": "لا يوجد في كتالوجنا ما يطابق «{words}»{bound}.",
        "under": " بسعر {amount} أو أقل",
        "over": " بسعر {amount} أو أكثر",
        "more": "…و{count} منتجات أخرى.",
        "dimensions": "الأبعاد",
        "colors": "الألوان",
        "material": "الخامات",
    },
    "ru": {
        "price": "{name} ({sku}) стоит {price}.",
        "no_price": "У товара {name} ({sku}) в каталоге не указана цена.",
        "in_stock": "Есть в наличии.",
        "out_of_stock": "Сейчас нет в наличии.",
        "stock_unknown": "В каталоге не указано наличие; мы уточним его для вас.",
        "about": "{name} ({sku}):",
        "short_in_stock": "в наличии",
        "short_out_of_stock": "нет в наличии",
        "several": "Подходят такие товары:",
        "unknown": "Товара «{named}» нет в нашем каталоге. Ближайшие товары, которые у нас есть: {names}.",
        "filter_found": "Вот что у нас есть{bound}:",
        "filter_none": "В нашем каталоге нет ничего по запросу «{words}»{bound}.",
        "under": " не дороже {amount}",
        "over": " от {amount}",
        "more": "…и ещё {count}.",
        "dimensions": "Размеры",
        "colors": "Цвета",
        "material": "Материалы",
    },
}


def texts(language: str) -> dict[str, str]:
    """The templates of a language; English for one Parley does not ship."""
    return TEMPLATES.get(language, TEMPLATES["en"])
