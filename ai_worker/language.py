"""The customer's language, detected offline from the message.

Script first: Arabic or Cyrillic letters settle the question for the languages a Gulf or CIS
business meets (an Arabic question naming an English product is still Arabic), and a statistical
model (lingua) only decides between languages that share a script — English, French, Spanish…, or
Arabic, Persian and Urdu. A message too short or too ambiguous to tell ("ok", "DO-ARM-2048", "?",
a phone number) keeps the language the contact last wrote in (`fallback`), else English.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections import Counter

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

DEFAULT_LANGUAGE = "en"

#: The Latin-script languages the model tells apart (other scripts are told by their letters):
#: English and those a Gulf or CIS business often hears. Fewer candidates make a short English
#: message less likely to be taken for a distant language, and load faster.
CANDIDATES = (Language.ENGLISH, Language.FRENCH, Language.GERMAN, Language.SPANISH, Language.TURKISH)

#: Letters Persian and Urdu add to the Arabic alphabet (a message without them is Arabic), and
#: those only Urdu has.
_PERSIAN_URDU_LETTERS = frozenset("پچژگکیٹڈڑںےھۀ")
_URDU_LETTERS = frozenset("ٹڈڑںےھ")
#: Letters Ukrainian has and Russian does not; a Cyrillic message without them is Russian.
_UKRAINIAN_LETTERS = frozenset("іїєґ")
_SCRIPT_LANGUAGES = {"CJK": "zh", "HIRAGANA": "ja", "KATAKANA": "ja", "DEVANAGARI": "hi", "GREEK": "el", "HEBREW": "he"}

#: Codes, numbers, URLs and e-mail addresses say nothing about the language they are typed in.
_NOISE = re.compile(r"https?://\S+|\S+@\S+|(?<![A-Za-z0-9-])(?=[A-Za-z0-9-]*\d)[A-Za-z0-9-]+(?![A-Za-z0-9-])|\d+")
#: Runs of Latin letters, and of other letters: "HD使用的" is two words of two scripts.
_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]+|[^\W\d_A-Za-z\u00c0-\u024f]+")
#: Fewer letters than this (after the noise is gone) cannot be told apart: "ok", "hi", "да".
MIN_LETTERS = 4
#: Below this confidence lingua is guessing (transliterated Arabic, a lone product name).
MIN_CONFIDENCE = 0.5

#: English wins when the model gives it at least this share of the best language's confidence:
#: misspelt chat English ("wat is teh prise", "do u deliver tmrw") looks a little German or
#: French to a model trained on prose, and English is what customers write in Latin letters.
ENGLISH_PRIOR = 0.6

_lock = threading.Lock()
_detector: list[LanguageDetector] = []


def detector() -> LanguageDetector:
    """Built once per process (the worker answers from several threads): loading the language
    models is the slow part, so they are loaded up front rather than on the first message."""
    with _lock:
        if not _detector:
            _detector.append(
                LanguageDetectorBuilder.from_languages(*CANDIDATES).with_preloaded_language_models().build()
            )
        return _detector[0]


def _script(char: str) -> str:
    name = unicodedata.name(char, "")
    first = name.split(" ", 1)[0]
    return "CJK" if first in ("CJK", "HANGUL") else first


def _scripts(words: list[str]) -> Counter[str]:
    """How many words of each script (by their first letter); Chinese is written without spaces,
    so each of its characters counts as a word."""
    counts: Counter[str] = Counter()
    for word in words:
        script = _script(word[0])
        counts[script] += len(word) if script == "CJK" else 1
    return counts


def _main_script(words: list[str]) -> str:
    """The script the customer writes in: a non-Latin one wins with two words or a majority,
    so a product's English name inside an Arabic question does not make it English."""
    counts = _scripts(words)
    others = [(n, script) for script, n in counts.items() if script != "LATIN"]
    if others:
        n, script = max(others)
        if n >= 2 or n * 2 >= len(words):
            return script
    return "LATIN"


def _by_model(text: str, *, fallback: str | None) -> str:
    values = detector().compute_language_confidence_values(text)
    if not values:
        return fallback or DEFAULT_LANGUAGE
    english = next((v.value for v in values if v.language == Language.ENGLISH), 0.0)
    if english >= ENGLISH_PRIOR * values[0].value:
        return "en"
    if values[0].value < MIN_CONFIDENCE:
        return fallback or DEFAULT_LANGUAGE
    return _iso(values[0].language)


def _iso(language: Language) -> str:
    code: IsoCode639_1 = language.iso_code_639_1
    return str(code.name).lower()


def detect_language(text: str, *, fallback: str | None) -> str:
    """The ISO 639-1 code of the language `text` is written in, or `fallback` (the contact's
    stored language; English when there is none) when the text is too short or ambiguous."""
    default = fallback or DEFAULT_LANGUAGE
    cleaned = _NOISE.sub(" ", unicodedata.normalize("NFKC", text))
    words = _WORD.findall(cleaned)
    if sum(len(w) for w in words) < MIN_LETTERS:
        return default
    script = _main_script(words)
    if script == "ARABIC":
        letters = set(cleaned)
        if not _PERSIAN_URDU_LETTERS & letters:
            return "ar"
        return "ur" if _URDU_LETTERS & letters else "fa"
    if script == "CYRILLIC":
        return "uk" if _UKRAINIAN_LETTERS.intersection(cleaned.lower()) else "ru"
    if script != "LATIN":
        return _SCRIPT_LANGUAGES.get(script, default)
    if len(words) < 2:
        # One Latin word ("thanks", "Liwa", "price") is as likely a name as a language.
        return default
    return _by_model(" ".join(words), fallback=fallback)
