"""The keyword analyser: each normalisation, stemming by script, codes and numbers kept whole."""

from __future__ import annotations

import pytest

from ai_worker.retrieval.analysis import analyse, normalise


@pytest.mark.parametrize(
    ("variant", "plain"),
    [
        ("أحمد", "احمد"),  # hamza above
        ("إسلام", "اسلام"),  # hamza below
        ("آسف", "اسف"),  # madda
        ("مستشفى", "مستشفي"),  # alef maqsura → ya
        ("طاولة", "طاوله"),  # teh marbuta → heh
        ("مُحَمَّد", "محمد"),  # diacritics
        ("الـشـارقـة", "الشارقه"),  # tatweel
        ("٢٥٠٠", "2500"),  # Arabic-Indic digits
        ("۱۴", "14"),  # Persian digits
        ("Ёлка", "елка"),
        ("Café CRÈME", "cafe creme"),
        ("ﻻ", "لا"),  # presentation form (NFKC)
    ],
)
def test_normalise_folds_spelling_variants(variant: str, plain: str) -> None:
    assert normalise(variant) == plain


def test_russian_keeps_its_own_letters() -> None:
    # й is not an accented и: dropping the breve would merge different words.
    assert normalise("Чайный") == "чайный"


def test_arabic_inflections_share_a_stem() -> None:
    assert analyse("التوصيل")[0] == analyse("توصيل")[0]
    assert analyse("الطاولات")[0] == analyse("طاولة")[0]
    assert analyse("بالشارقة") == analyse("الشارقة")


def test_russian_inflections_share_a_stem() -> None:
    assert analyse("доставка в Шарджу") == analyse("доставки в Шарджа")
    assert analyse("диваны")[0] == analyse("дивана")[0]


def test_english_is_stemmed_and_stopwords_dropped() -> None:
    assert analyse("the deliveries") == analyse("delivery")
    assert analyse("Is it returned?") == analyse("return")


def test_codes_are_kept_whole_and_by_their_parts() -> None:
    terms = analyse("price of DO-ARM-2048?")
    assert "do-arm-2048" in terms
    assert {"arm", "2048"} <= set(terms)
    assert "do-arm-2048" in analyse("DO_ARM/2048")


def test_numbers_are_kept_whole() -> None:
    assert analyse("AED 2,500") == ["aed", "2500"]
    assert analyse("1.5 kg") == ["1.5", "kg"]
    assert analyse("حتى ٢٬٥٠٠ درهم")[1] == "2500"


def test_latin_names_in_arabic_and_russian_match_english() -> None:
    english = set(analyse("Liwa Solid Oak Dining Table DO-DTB-3105"))
    assert {"liwa", "do-dtb-3105"} <= english
    assert {"liwa", "do-dtb-3105"} <= set(analyse("كم سعر طاولة Liwa؟ DO-DTB-3105"))
    assert {"liwa", "do-dtb-3105"} <= set(analyse("Сколько стоит стол Liwa (DO-DTB-3105)?"))


def test_short_abbreviations_are_not_stemmed() -> None:
    assert analyse("AED USD") == ["aed", "usd"]


def test_chinese_is_split_into_character_pairs() -> None:
    assert analyse("多少次擒杀") == ["多少", "少次", "次擒", "擒杀"]


def test_hindi_words_are_not_split_at_vowel_signs() -> None:
    # Devanagari vowel signs are combining marks that a plain \w pattern splits words at.
    assert len(analyse("नॉर्मन")) == 1
