"""Words of a question and of product names made comparable across scripts and spellings.

A customer writes "Лива" or "ليوا" for the Liwa table: Cyrillic and Arabic words are transliterated
to Latin, and compared by their consonant skeleton (Arabic writes no short vowels, and w/v, q/k,
y/i are spelt either way), which is enough to pick a product name out of a short catalog list.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from ai_worker.catalog.columns import fold

_CYRILLIC = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "e",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "i",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
}
_ARABIC = {
    "ا": "a",
    "أ": "a",
    "إ": "i",
    "آ": "a",
    "ب": "b",
    "ت": "t",
    "ث": "th",
    "ج": "j",
    "ح": "h",
    "خ": "kh",
    "د": "d",
    "ذ": "dh",
    "ر": "r",
    "ز": "z",
    "س": "s",
    "ش": "sh",
    "ص": "s",
    "ض": "d",
    "ط": "t",
    "ظ": "z",
    "ع": "",
    "غ": "gh",
    "ف": "f",
    "ق": "q",
    "ك": "k",
    "ل": "l",
    "م": "m",
    "ن": "n",
    "ه": "h",
    "و": "w",
    "ي": "y",
    "ى": "a",
    "ة": "a",
    "ء": "",
    "ؤ": "",
    "ئ": "",
    "پ": "p",
    "گ": "g",
    "چ": "ch",
}
_TRANSLIT = str.maketrans({**_CYRILLIC, **_ARABIC})
_ARABIC_LETTERS = re.compile(r"[\u0600-\u06ff]")
_CYRILLIC_LETTERS = re.compile(r"[\u0400-\u04ff]")

#: Words that never name a product: they would match "and"/"with" in names like "Table and Chairs Set".
STOPWORDS = frozenset(
    {
        "a",
        "an",
        "the",
        "and",
        "or",
        "with",
        "of",
        "for",
        "in",
        "on",
        "to",
        "at",
        "is",
        "are",
        "do",
        "does",
        "you",
        "your",
        "we",
        "our",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "i",
        "me",
        "my",
        "have",
        "has",
        "any",
        "what",
        "which",
        "how",
        "much",
        "many",
        "price",
        "cost",
        "costs",
        "stock",
        "available",
        "please",
        "tell",
    }
)

#: Common shop nouns in Russian and Arabic → the English word a catalog names them with.
GENERIC_WORDS = {
    "стол": "table",
    "столы": "tables",
    "стул": "chair",
    "стулья": "chairs",
    "диван": "sofa",
    "диваны": "sofas",
    "кресло": "armchair",
    "кровать": "bed",
    "ковер": "rug",
    "ковёр": "rug",
    "лампа": "lamp",
    "матрас": "mattress",
    "шкаф": "wardrobe",
    "стол письменный": "desk",
    "дуб": "oak",
    "тик": "teak",
    "кожа": "leather",
    "طاولة": "table",
    "طاولات": "tables",
    "كرسي": "chair",
    "كراسي": "chairs",
    "كنبة": "sofa",
    "أريكة": "sofa",
    "سرير": "bed",
    "سجادة": "rug",
    "مصباح": "lamp",
    "مرتبة": "mattress",
    "فرشة": "mattress",
    "خزانة": "wardrobe",
    "مكتب": "desk",
    "بلوط": "oak",
    "جلد": "leather",
    "ساج": "teak",
    "أسرة": "beds",
    "اسرة": "beds",
    "كنب": "sofas",
    "سجاد": "rugs",
    "مراتب": "mattresses",
}
#: Russian nouns are inflected ("дивана", "столы"): their generic word is found by its stem.
_RUSSIAN_STEMS = {key: value for key, value in GENERIC_WORDS.items() if _CYRILLIC_LETTERS.match(key)}


def is_foreign_script(word: str) -> bool:
    return bool(_ARABIC_LETTERS.search(word) or _CYRILLIC_LETTERS.search(word))


@lru_cache(maxsize=100_000)
def latin(word: str) -> str:
    """A word in Latin letters: Arabic loses its article, "дж" reads as j."""
    if _ARABIC_LETTERS.search(word) and word.startswith("ال") and len(word) > 4:
        word = word[2:]
    return word.replace("дж", "j").translate(_TRANSLIT)


@lru_cache(maxsize=100_000)
def skeleton(word: str) -> str:
    """Consonants only (the first letter kept), spelling variants folded: "liwa", "liva", "lywa" → "lv"."""
    word = word.lower()
    for old, new in (("kh", "h"), ("ph", "f"), ("zh", "j"), ("q", "k"), ("c", "k"), ("w", "v"), ("x", "ks")):
        word = word.replace(old, new)
    if not word:
        return ""
    rest = re.sub(r"[aeiouy]", "", word[1:])
    collapsed = re.sub(r"(.)\1+", r"\1", word[0] + rest)
    return collapsed[:-1] if len(collapsed) > 2 and collapsed.endswith("h") else collapsed


def words(text: str) -> list[str]:
    """Folded words of a text, Russian/Arabic shop nouns given their English word too."""
    found = re.findall(r"\w+", fold(text))
    return [w for w in found if w not in STOPWORDS] + [g for g in map(_generic, found) if g]


def _generic(word: str) -> str | None:
    if word in GENERIC_WORDS:
        return GENERIC_WORDS[word]
    if _CYRILLIC_LETTERS.match(word):
        stem = next((key for key in _RUSSIAN_STEMS if len(key) >= 4 and word.startswith(key)), None)
        return _RUSSIAN_STEMS[stem] if stem else None
    return None


def word_matches(question_word: str, name_word: str) -> bool:
    """Whether a word of the question names a word of a product name (misspelt, or in another script)."""
    if question_word == name_word:
        return True
    if is_foreign_script(question_word):
        if is_foreign_script(name_word):
            return len(name_word) >= 4 and fuzz.ratio(question_word, name_word) >= 80
        spelt = latin(question_word)
        theirs, ours = skeleton(spelt), skeleton(name_word)
        if len(question_word) < 3 or len(ours) < 2 or fuzz.ratio(spelt, name_word) < 55:
            return False
        # A short skeleton must be the same: "km" (Arabic "how much") is not "kml" (Camel).
        return theirs == ours if len(ours) <= 3 else fuzz.ratio(theirs, ours) >= 80
    if len(name_word) < 4 or len(question_word) < 4 or name_word.isdigit():
        return False
    # One typo (a swap counts as one) in a short word, two in a long one: "long" is not "lounge".
    return OSA.distance(question_word, name_word) <= (1 if len(name_word) <= 6 else 2)
